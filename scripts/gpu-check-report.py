#!/usr/bin/env python3
"""Assembles scripts/gpu-check.sh's parts into report.json and report.md (ratios ours / PyTorch)."""
import csv
import json
import os
import sys


def last_json(path, want=None):
    """The last line of `path` that parses as a JSON object (and satisfies `want`), or None."""
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if want is None or want(obj):
                return obj
    return None


def tail(path, n=15):
    try:
        return "\n".join(open(path, encoding="utf-8", errors="replace").read().splitlines()[-n:])
    except OSError:
        return ""


def main():
    out, seconds = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None
    logs = os.path.join(out, "logs")
    with open(os.path.join(out, "parts.tsv"), encoding="utf-8") as f:
        parts = list(csv.DictReader(f, delimiter="\t"))
    status = {p["part"]: p for p in parts}
    report = {"seconds": seconds, "parts": parts}

    def ok(name):
        return status.get(name, {}).get("status") == "ok"

    def log(name, ext="out"):
        return os.path.join(logs, f"{name}.{ext}")

    if "nvidia-smi" in status and ok("nvidia-smi"):
        report["nvidia_smi"] = tail(log("nvidia-smi"), 5)
    if ok("devices"):
        report["devices"] = tail(log("devices"), 20)
    gc = tail(log("gradcheck"), 3)
    if gc:
        report["gradcheck"] = gc.splitlines()[-1]
    tune = last_json(log("tune"))
    if tune:
        report["tune"] = {k: tune.get(k) for k in ("device", "driver", "seconds", "file", "unusable", "skipped")}
        report["tune"]["results"] = [{k: r.get(k) for k in ("shape", "tiling", "gflops", "default_tiling", "default_gflops")}
                                     for r in tune.get("results", [])]
    ours = {}
    backend = None
    for name in ("bench-gemm", "bench-train"):
        b = last_json(log(name))
        if b:
            backend = b.get("backend", backend)
            for r in b.get("results", []):
                ours[r["key"]] = r
    report["backend"] = backend
    train = last_json(log("train"), lambda o: o.get("summary"))
    if train:
        report["train"] = train
    torch = last_json(log("torch"))
    if torch:
        report["torch"] = {k: v for k, v in torch.items() if k not in ("gemm_gflops", "train_samples_per_second")}
    theirs = {}
    if torch and torch.get("present"):
        theirs.update({k: {"median": v, "unit": "GFLOP/s"} for k, v in torch.get("gemm_gflops", {}).items()})
        theirs.update({k: {"median": v, "unit": "samples/s"} for k, v in torch.get("train_samples_per_second", {}).items()})
    rows = []
    for key in sorted(set(ours) | set(theirs), key=lambda k: (not k.startswith("gemm"), k)):
        o, t = ours.get(key), theirs.get(key)
        rows.append({"key": key, "unit": (o or t)["unit"], "ours": o["median"] if o else None,
                     "ours_tiling": o.get("tiling") if o else None, "pytorch": t["median"] if t else None,
                     "ratio": (o["median"] / t["median"]) if o and t and t["median"] else None})
    report["comparison"] = rows
    targets = []
    for row in rows:
        if row["key"] == "gemm/NN/4096x4096x4096" and row["ratio"] is not None:
            targets.append({"target": "GEMM 4096³ ours/cuBLAS FP32 ≥ 0.7", "ratio": row["ratio"], "met": row["ratio"] >= 0.7})
        if row["key"].startswith("train/") and row["ratio"] is not None:
            targets.append({"target": f"{row['key']} ours/PyTorch eager ≥ 1", "ratio": row["ratio"], "met": row["ratio"] >= 1})
    report["targets"] = targets
    with open(os.path.join(out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)

    def num(x, digits=1):
        return "—" if x is None else f"{x:,.{digits}f}"

    md = ["# GPU check", ""]
    md.append(f"Total {num(seconds, 0)} s. Ours: {backend or 'not run'}. "
              + (f"PyTorch {torch.get('torch')} on {torch.get('device')} (CUDA {torch.get('cuda')}), FP32 with TF32 off."
                 if torch and torch.get("present") else "PyTorch with CUDA: not present"
                 + (f" ({torch.get('reason')})" if torch and torch.get("reason") else "") + "."))
    md += ["", "| part | status | seconds |", "|---|---|---|"]
    md += [f"| {p['part']} | {p['status']} | {p['seconds']} |" for p in parts]
    if "gradcheck" in report:
        md += ["", f"gradcheck: {report['gradcheck']}"]
    if train:
        md += ["", f"default training run (OpenCL): test accuracy {num(100 * train.get('test_accuracy', 0), 2)} %, "
               f"{num(train.get('seconds'))} s, {num(train.get('samples_per_second'), 0)} samples/s, "
               f"{train.get('epoch')} epochs"]
    if tune:
        md += ["", f"tune: {num(tune.get('seconds'))} s on {tune.get('device')} ({tune.get('driver')})", "",
               "| shape | tuned tiling | GFLOP/s | default tiling | GFLOP/s |", "|---|---|---|---|---|"]
        md += [f"| {r['shape']} | {r['tiling']} | {num(r['gflops'])} | {r['default_tiling']} | {num(r['default_gflops'])} |"
               for r in report["tune"]["results"]]
    md += ["", "| workload | unit | ours | PyTorch | ours/PyTorch | our tiling |", "|---|---|---|---|---|---|"]
    md += [f"| {r['key']} | {r['unit']} | {num(r['ours'])} | {num(r['pytorch'])} | {num(r['ratio'], 2)} | {r['ours_tiling'] or ''} |"
           for r in rows]
    if targets:
        md += ["", "Targets:"] + [f"- {t['target']}: {t['ratio']:.2f} {'met' if t['met'] else 'NOT met'}" for t in targets]
    failed = [p for p in parts if p["status"] not in ("ok", "not present")]
    if failed:
        md += ["", "Parts that did not finish (last lines of stderr):"]
        for p in failed:
            md += ["", f"- {p['part']}: {p['status']} (rc {p['rc']})", "```", tail(log(p["part"], "err"), 8), "```"]
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
