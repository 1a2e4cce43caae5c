#!/usr/bin/env python3
"""Runs `backprop bench` and the peers side by side, alternately, for several rounds; prints a
Markdown table (median, min–max, and the ratio ours/peer per workload) and writes raw JSON.

    bash Benchmarks/setup.sh && python3 Benchmarks/run.py            # everything (~15-25 min)
    python3 Benchmarks/run.py --quick                                 # seconds-long smoke run (CI)

Standard library only; installs nothing. A peer whose runtime is missing is a "not available"
row, never a crash. Every figure is a throughput (bigger is better), so ours/peer > 1 means we
are faster. Ratios are taken within a round (ours and the peer measured minutes apart at most),
then the median over rounds is reported: on a shared, noisy machine the ratio is the result.
Exit status: 0 when every available tool produced numbers, 1 otherwise.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for every tool, ours included (machine.py).

Modules: machine.py (CPU facts, FMA peak, the clean environment), tools.py (ours and the peers,
the default `backprop train`), report.py (summaries, ratios, % of peak, targets, Markdown).
"""
import argparse
import json
import os
import sys

from machine import HERE, ROOT, environment
from report import markdown, summarize, targets
from tools import Tool, discover, run_tool, train_to_98

GROUPS = ("gemm", "elementwise", "train")


def render_saved(args):
    """Prints (and with --markdown writes) the table of a saved run."""
    with open(args.from_json) as f:
        raw = json.load(f)
    tools = []
    for d in raw["tools"]:
        t = Tool(d["name"], d["label"], d["family"], d["command"], why=d["why_not"], threads=d.get("threads"))
        t.runs, t.errors, t.meta = d["runs"], d["errors"], d["meta"]
        tools.append(t)
    text = markdown(raw["environment"], tools, raw["train_to_98"], targets(tools, raw["train_to_98"], raw["environment"]))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backprop", default=os.path.join(ROOT, ".build", "release", "backprop"), help="our binary")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run: 1 round, fewer sizes, no train-to-98")
    p.add_argument("--rounds", type=int, help="rounds of (ours, every peer) (default 3; 1 with --quick)")
    p.add_argument("--repetitions", type=int, help="timed repetitions per workload and round (default 5; 2 with --quick)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every tool (default: all cores)")
    p.add_argument("--only", default="gemm,elementwise,train", help="groups: gemm, elementwise, train")
    p.add_argument("--tools", help="comma-separated subset of tools (backprop always runs)")
    p.add_argument("--data", default=os.path.join(ROOT, "Data", "mnist"), help="MNIST folder (gzipped IDX)")
    p.add_argument("--no-train98", action="store_true", help="skip timing the default `backprop train`")
    p.add_argument("--timeout", type=int, default=None, help="seconds per tool invocation (default 1200; 300 quick)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"), help="raw JSON output")
    p.add_argument("--markdown", help="also write the Markdown table to this file")
    p.add_argument("--from-json", help="render the table of an earlier run's raw JSON instead of running")
    args = p.parse_args()
    if args.from_json:
        return render_saved(args)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.repetitions = args.repetitions or (2 if args.quick else 5)
    args.timeout = args.timeout or (300 if args.quick else 1200)
    bad = [g for g in args.only.split(",") if g not in GROUPS]
    if bad:
        p.error(f"--only takes {', '.join(GROUPS)}; got {', '.join(bad)}")

    tools = discover(args)
    env = environment(args, tools)
    for t in tools:
        print(f"[run.py] {t.name:16s} {'ready' if t.available else 'not available: ' + (t.why or '')}", file=sys.stderr)
    available = [t for t in tools if t.available]
    for r in range(args.rounds):
        # ours first in each round, the peers in an order that rotates between rounds
        peers = [t for t in available if not t.name.startswith("backprop")]
        k = r % max(len(peers), 1)
        order = [t for t in available if t.name.startswith("backprop")] + peers[k:] + peers[:k]
        print(f"[run.py] round {r + 1}/{args.rounds}: {', '.join(t.name for t in order)}", file=sys.stderr)
        for t in order:
            run_tool(t, args)
    train98 = None
    if not args.quick and not args.no_train98 and tools[0].available:
        print("[run.py] timing the default `backprop train` to 98 %", file=sys.stderr)
        train98 = train_to_98(args)
    env["load_average_after"] = os.getloadavg()
    goals = targets(tools, train98, env)
    text = markdown(env, tools, train98, goals)
    print(text)
    raw = {"environment": env, "train_to_98": train98, "targets": goals,
           "tools": [{"name": t.name, "label": t.label, "family": t.family, "available": t.available,
                      "why_not": None if t.available else t.why, "command": t.cmd, "errors": t.errors,
                      "meta": t.meta, "summary": summarize(t), "runs": t.runs, "threads": t.threads} for t in tools]}
    with open(args.out, "w") as f:
        json.dump(raw, f, indent=1, sort_keys=True)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    failed = [t.name for t in available if not t.runs or t.errors]
    if failed:
        print(f"[run.py] FAILED (available but produced no numbers or errored): {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"[run.py] ok: {len(available)} tools produced numbers; raw results in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
