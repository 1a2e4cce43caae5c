"""The report of a run: per-key summaries over rounds, paired ratios ours/peer, the share of
the FMA-peak limit, issue 13's targets, and the Markdown tables.
"""
import json
import statistics

from machine import limit, peak_for


# The suite's keys in reading order (saved JSON sorts keys alphabetically, so order comes from here).
CANONICAL = ([f"gemm/NN/{s}x{s}x{s}" for s in (128, 256, 512, 1024, 2048)]
             + ["gemm/NN/128x128x784", "gemm/NT/128x784x128", "gemm/TN/784x128x128"]
             + ["gemm/NN/512x128x784", "gemm/NN/512x128x512", "gemm/NN/10x128x512", "gemm/NT/512x784x128",
                "gemm/NT/512x512x128", "gemm/NT/10x512x128", "gemm/TN/512x128x512", "gemm/TN/512x128x10"]
             + [f"elementwise/{op}/{n}" for n in (65536, 16777216) for op in ("relu", "relu_backward", "hadamard")]
             + ["train/784-128-10/b128", "train/784-128-10/b32", "train/784-512-512-10/b128"])

def summarize(tool):
    """Per key over the rounds: median of the medians, min of the mins, max of the maxes."""
    out = {}
    for key in ordered_keys([tool]):
        rs = [run[key] for run in tool.runs if key in run]
        out[key] = {"unit": rs[0]["unit"], "median": statistics.median(r["median"] for r in rs),
                    "min": min(r["min"] for r in rs), "max": max(r["max"] for r in rs),
                    "rounds": len(rs), "repetitions": sum(r.get("repetitions", 0) for r in rs)}
    return out


def paired_ratios(ours, peer, key):
    """ours/peer per round, pairing the runs of the same round."""
    return [o[key]["median"] / p[key]["median"] for o, p in zip(ours.runs, peer.runs)
            if key in o and key in p and p[key]["median"] > 0]


def paired_ratio(ours, peer, key):
    """Median over rounds of ours/peer."""
    ratios = paired_ratios(ours, peer, key)
    return statistics.median(ratios) if ratios else None


def ratio_cell(ours, peer, key):
    """'×median (lowest–highest round)', or '–'."""
    rs = paired_ratios(ours, peer, key)
    if not rs:
        return "–"
    spread = f" ({fmt_ratio(min(rs))[1:]}–{fmt_ratio(max(rs))[1:]})" if len(rs) > 1 else ""
    return fmt_ratio(statistics.median(rs)) + spread


def ordered_keys(tools):
    """Workload keys in the order the tools report them (squares, then MLP shapes; small, then large)."""
    keys = {}
    for t in tools:
        for run in t.runs:
            for k in run:
                keys.setdefault(k, len(keys))
    return sorted(keys, key=lambda k: (CANONICAL.index(k) if k in CANONICAL else len(CANONICAL), keys[k]))


def fmt_ratio(r):
    return "–" if r is None else (f"×{r:.2f}" if r >= 0.1 else f"×{r:.2g}")


def fmt(x):
    if x is None:
        return "–"
    if x >= 10000:
        return f"{x / 1000:.0f}k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if x < 10 else f"{x:.1f}"


STEP_SHAPES = ("gemm/NN/128x128x784", "gemm/NT/128x784x128", "gemm/TN/784x128x128",   # 784-128-10, b128
               "gemm/NN/512x128x784", "gemm/NN/512x128x512", "gemm/NN/10x128x512",    # 784-512-512-10, b128
               "gemm/NT/512x784x128", "gemm/NT/512x512x128", "gemm/NT/10x512x128",
               "gemm/TN/512x128x512", "gemm/TN/512x128x10")
CPU_LIBRARIES = ("openblas", "numpy", "torch", "torch-1t", "jax", "tinygrad-cpu")


def targets(tools, train98, env=None):
    """Issue 13's targets, each with its measured value (None when not measured)."""
    by = {t.name: t for t in tools}
    env = env or {}

    def ratio(ours, peer, key):
        o, p = by.get(ours), by.get(peer)
        return paired_ratio(o, p, key) if o and p and o.runs and p.runs else None

    def versus_best(key):
        """Median over rounds of ours / the best CPU library of the same round, and which was best."""
        ours = by.get("backprop")
        peers = [by[n] for n in CPU_LIBRARIES if n in by and by[n].runs]
        if not ours or not peers:
            return None, None
        rs, names = [], []
        for i, o in enumerate(ours.runs):
            cands = [(p.runs[i][key]["median"], p.label) for p in peers if i < len(p.runs) and key in p.runs[i]]
            if key in o and cands:
                best = max(cands)
                rs.append(o[key]["median"] / best[0])
                names.append(best[1])
        return (statistics.median(rs), max(set(names), key=names.count)) if rs else (None, None)

    def share_of_limit(key):
        ours = by.get("backprop")
        s = summarize(ours).get(key) if ours and ours.runs else None
        lim = limit(key, peak_for(env, env.get("threads")))
        return s["median"] / lim if s and lim else None

    out = []
    big, small = "train/784-512-512-10/b128", "train/784-128-10/b128"
    for key, peer, name in ((big, "jax", "JAX"), (big, "numpy", "pip NumPy"), (small, "numpy", "pip NumPy")):
        r = ratio("backprop", peer, key)
        out.append((f"{key.split('/')[1]} b128 ≥ 1.5× {name}", r, r is not None and r >= 1.5, fmt_ratio(r) if r else None))
    for key in (big, small):
        s = share_of_limit(key)
        out.append((f"{key.split('/')[1]} b128 ≥ 60 % of the FMA-peak limit for a step's GEMM flops", s,
                    s is not None and s >= 0.6, f"{100 * s:.0f} %" if s else None))
    worst = None
    for key in STEP_SHAPES:
        r, best = versus_best(key)
        if r is not None and (worst is None or r < worst[0]):
            worst = (r, best, key)
    out.append(("GEMM at the step shapes ≥ 0.95× the best library (worst shape)", worst and worst[0],
                worst is not None and worst[0] >= 0.95,
                f"{fmt_ratio(worst[0])} vs {worst[1]} at {worst[2]}" if worst else None))
    if train98:
        s, acc, mb = train98.get("training_seconds"), train98.get("final_test_accuracy"), train98.get("peak_rss_mb")
        met = s is not None and acc is not None and s <= 15 and acc >= 0.98
        out.append(("default train: ≥ 98.0 % test accuracy in ≤ 15 s of training", s, met,
                    f"{100 * acc:.2f} % in {s:.1f} s" if s is not None and acc is not None else None))
        out.append(("peak RSS of that run ≤ 300 MB", mb, mb is not None and mb <= 300, f"{mb:.0f} MB" if mb else None))
    r = None
    by_cl = by.get("backprop-opencl")
    if by_cl and by_cl.runs:
        rs = [ratio("backprop-opencl", "backprop", f"train/{k}") for k in ("784-128-10/b128", "784-128-10/b32", "784-512-512-10/b128")]
        rs = [x for x in rs if x is not None]
        r = min(rs) if rs else None
        out.append(("OpenCL training ≥ 0.5× our CPU (worst net)", r, r is not None and r >= 0.5, fmt_ratio(r) if r else None))
    return [{"target": t, "value": v, "met": met if v is not None else None, "shown": shown} for t, v, met, shown in out]


def machine_lines(env, tools):
    """What the machine and each library run on: CPU, flags, FMA peak, detected kernels, unset variables."""
    cpu = env.get("cpu_id") or {}
    ident = f" (vendor {cpu.get('vendor')}, family {cpu.get('family')}, model {cpu.get('model')}" \
            f"{', under a hypervisor' if cpu.get('hypervisor') else ''})" if cpu.get("family") else ""
    peak = env.get("fma_peak") or {}
    unset = env.get("unset_for_every_tool", {})
    had = ", ".join(f"{k}={v}" for k, v in unset.items() if v) or "neither was set"
    lines = [f"- CPU: {env['cpu']}{ident}; vector flags: {', '.join(env.get('cpu_flags') or []) or 'unknown'}",
             f"- FMA peak (fma_peak.c, {peak.get('isa', '?')}): {peak.get('gflops_1_thread', '?')} GFLOP/s on 1 thread, "
             f"{peak.get('gflops', '?')} on {peak.get('threads', '?')}" if peak else "- FMA peak: not measured (no gcc)",
             f"- {', '.join(unset) or 'OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE'} unset for every tool of the run, ours included ({had} in the caller's environment)"]
    if env.get("cpu_gemm"):
        lines.append("- backprop: " + "; ".join(env["cpu_gemm"]))
    for t in tools:
        v = t.meta.get("versions") if t.meta else None
        if not v or t.name == "backprop":
            continue
        lines.append(f"- {t.label}: " + ", ".join(f"{k} {json.dumps(x) if not isinstance(x, str) else x}" for k, x in v.items()))
    return lines


def peak_table(env, tools, keys):
    """Each tool's GEMM and training figures as % of the FMA-peak limit (train: the peak over a step's GEMM FLOPs)."""
    rows = [k for k in keys if k.startswith("gemm/") or k.startswith("train/")]
    cpu = [t for t in tools if t.runs and t.family == "cpu"]
    if not rows or not cpu or not env.get("fma_peak"):
        return []
    head = ["workload", "limit"] + [t.label for t in cpu]
    lines = ["", "Share of the FMA-peak limit (GEMM: GFLOP/s over the measured peak; training: samples/s over "
             "the peak divided by the GEMM FLOPs of one step per sample — forward, weight gradients, errors).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in rows:
        lim = limit(key, peak_for(env, env["threads"]))
        cells = []
        for t in cpu:
            s = summarize(t).get(key)
            tl = limit(key, peak_for(env, t.threads or env["threads"]))
            cells.append(f"{100 * s['median'] / tl:.0f} %" if s and tl else "–")
        unit = "GFLOP/s" if key.startswith("gemm/") else "samples/s"
        lines.append(f"| {key} | {fmt(lim)} {unit} | " + " | ".join(cells) + " |")
    return lines


def markdown(env, tools, train98, goals):
    lines = [f"Date {env['date']} · CPU {env['cpu']} ({env['cores']} cores) · threads {env['threads']} · "
             f"OpenCL {env['opencl_device'] or 'none'} · load average before {env['load_average'][0]:.2f} · "
             f"{env['rounds']} round(s){' · quick' if env['quick'] else ''}", ""]
    lines += machine_lines(env, tools) + [""]
    avail = [t for t in tools if t.runs]
    summaries = {t.name: summarize(t) for t in avail}
    keys = ordered_keys(avail)
    ours_of = {"cpu": "backprop", "opencl": "backprop-opencl"}
    if env["quick"]:
        lines += ["**Quick smoke run**: it checks that every benchmark runs; its numbers are not results.", ""]
    lines += ["Median (min–max) per tool, then ours/peer (> 1: ours is faster; the paired median over rounds). "
              "The ratio table gives the lowest and highest round in brackets. "
              "OpenCL peers are compared with our OpenCL backend, CPU peers with our CPU backend.", ""]
    head = ["workload", "unit"] + [t.label for t in avail]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        unit = next(s[key]["unit"] for s in summaries.values() if key in s)
        cells = []
        for t in avail:
            s = summaries[t.name].get(key)
            cells.append(f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})" if s else "–")
        lines.append(f"| {key} | {unit} | " + " | ".join(cells) + " |")
    ratio_cols = [t for t in avail if t.name not in ours_of.values() and ours_of[t.family] in summaries]
    cl_vs_cpu = "backprop-opencl" in summaries and "backprop" in summaries
    if ratio_cols or cl_vs_cpu:
        by = {t.name: t for t in tools}
        head = ["workload"] + [f"ours/{t.label}" for t in ratio_cols] + (["OpenCL/CPU (ours)"] if cl_vs_cpu else [])
        lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for key in keys:
            cells = [ratio_cell(by[ours_of[t.family]], t, key) for t in ratio_cols]
            if cl_vs_cpu:
                cells.append(ratio_cell(by["backprop-opencl"], by["backprop"], key))
            if any(c != "–" for c in cells):
                lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += peak_table(env, tools, keys)
    missing = [t for t in tools if not t.runs]
    if missing:
        lines += ["", "| tool | status |", "|---|---|"]
        for t in missing:
            lines.append(f"| {t.label} | {'failed: ' + t.errors[-1] if t.errors else 'not available: ' + (t.why or '?')} |")
    if train98:
        lines += ["", f"Default `backprop train` (`{train98['command']}`): ≥ 98 % after "
                  f"{fmt(train98['seconds_to_98']) if train98['seconds_to_98'] else 'never'} s wall, "
                  f"{train98['seconds_total']:.1f} s in all ({train98.get('training_seconds') or 0:.1f} s of training), final test accuracy "
                  f"{100 * (train98['final_test_accuracy'] or 0):.2f} %, peak RSS {train98['peak_rss_mb']:.0f} MB."]
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    for g in goals:
        status = "not measured" if g["met"] is None else ("**met**" if g["met"] else "not met")
        lines.append(f"| {g['target']} | {g['shown'] or '–'} | {status} |")
    lines += ["", "Versions: " + "; ".join(f"{t.label}: {json.dumps(t.meta.get('versions', {}), sort_keys=True)}"
                                          for t in avail if t.meta.get("versions")),
              "System packages: " + ", ".join(f"{k} {v}" for k, v in env["system_packages"].items() if v)]
    return "\n".join(lines)
