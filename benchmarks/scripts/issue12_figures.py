#!/usr/bin/env python3
"""Issue 12's figures from the benchmarks, as medians over interleaved rounds.

On a shared or virtual machine the speed of a core can move by 1.5x within minutes, so one run of
a benchmark says little. This script runs every case that issue 12 names (docs/kernels.md,
"Roofline figures") in R rounds, one case after the other in each round, so that a slow minute
hits every case alike; each case takes its FMA probe next to it (benchmarks/roofline.hpp), so
pct_peak is against the peak of that minute. It prints, per case, the minimum and median time,
the median (and best) percentage of peak or speed-up, the issue's target and the median against
it, then the two-thread scaling from the median times.

    python3 benchmarks/scripts/issue12_figures.py --build build/release --rounds 5

Options: --rounds R (default 5), --only flow|emulator|population (repeatable), --json FILE
(every run's raw counters, for later analysis). Python 3 standard library only.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

# (binary, benchmark name, metric counter, target, label). The targets are issue 12's "Done when".
CASES = [
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:1/hidden:8/real_time", "pct_peak", 20.0, "sampling 1000x1000 float H8, 1 thread"),
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:2/hidden:8/real_time", "pct_peak", None, "sampling 1000x1000 float H8, 2 threads"),
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:1/hidden:32/real_time", "pct_peak", None, "sampling 1000x1000 float H32, 1 thread"),
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:2/hidden:32/real_time", "pct_peak", None, "sampling 1000x1000 float H32, 2 threads"),
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:1/hidden:50/real_time", "pct_peak", 40.0, "sampling 1000x1000 float H50, 1 thread"),
    ("bench_flow", "BM_flow_sample_1000x_1000_float/threads:2/hidden:50/real_time", "pct_peak", None, "sampling 1000x1000 float H50, 2 threads"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:1/hidden:8/real_time", "pct_peak", 30.0, "log_prob 1e5 float H8, 1 thread"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:2/hidden:8/real_time", "pct_peak", None, "log_prob 1e5 float H8, 2 threads"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:1/hidden:32/real_time", "pct_peak", 30.0, "log_prob 1e5 float H32, 1 thread"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:2/hidden:32/real_time", "pct_peak", None, "log_prob 1e5 float H32, 2 threads"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:1/hidden:50/real_time", "pct_peak", 30.0, "log_prob 1e5 float H50, 1 thread"),
    ("bench_flow", "BM_flow_log_prob_1e5_pairs_simd_float/threads:2/hidden:50/real_time", "pct_peak", None, "log_prob 1e5 float H50, 2 threads"),
    ("bench_flow", "BM_flow_train_epoch_1e5_batch128/hidden:8/float:1/manual_time", "vs_nflows_issue12", 40.0, "training epoch float H8 (x nflows)"),
    ("bench_flow", "BM_flow_train_epoch_1e5_batch128/hidden:50/float:1/manual_time", "vs_nflows_issue12", 25.0, "training epoch float H50 (x nflows)"),
    ("bench_emulator", "BM_simd<float>/1000000", "pct_peak", 60.0, "emulator batch 1e6 float"),
    ("bench_emulator", "BM_simd<double>/1000000", "pct_peak", 50.0, "emulator batch 1e6 double"),
    ("bench_emulator", "BM_simd<float>/1", "x_vs_pytorch", 100.0, "emulator batch 1 float (x PyTorch)"),
    ("bench_population", "BM_population_hot_loop/stars:100/threads:1/real_time", "pct_peak", 30.0, "population hot loop 100 stars, 1 thread"),
    ("bench_population", "BM_population_hot_loop/stars:100/threads:2/real_time", "pct_peak", 30.0, "population hot loop 100 stars, 2 threads"),
    ("bench_population", "BM_population_hot_loop/stars:400/threads:1/real_time", "pct_peak", 30.0, "population hot loop 400 stars, 1 thread"),
    ("bench_population", "BM_population_hot_loop/stars:400/threads:2/real_time", "pct_peak", 30.0, "population hot loop 400 stars, 2 threads"),
]
GROUPS = {"flow": "bench_flow", "emulator": "bench_emulator", "population": "bench_population"}
TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def run_case(binary, name):
    """One run of one benchmark: its JSON entry (real time, counters)."""
    regex = "^" + re.escape(name) + "$"
    out = subprocess.run([binary, "--benchmark_filter=" + regex, "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    entries = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if len(entries) != 1:
        raise SystemExit(f"issue12_figures: {binary} ran {len(entries)} benchmarks for '{name}' (expected 1)")
    return entries[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/release", help="build directory (default build/release)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--only", action="append", choices=sorted(GROUPS), help="run only these benchmark programs")
    ap.add_argument("--json", help="write every run's entry to this file")
    a = ap.parse_args()
    if a.rounds < 1:
        raise SystemExit("issue12_figures: --rounds must be at least 1")
    wanted = {GROUPS[g] for g in a.only} if a.only else set(GROUPS.values())
    cases = [c for c in CASES if c[0] in wanted]
    for binary in sorted({c[0] for c in cases}):
        path = os.path.join(a.build, "benchmarks", binary)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"issue12_figures: {path} not found (build the benchmarks first)")
    runs = {c[1]: [] for c in cases}
    for r in range(a.rounds):
        for binary, name, *_ in cases:
            runs[name].append(run_case(os.path.join(a.build, "benchmarks", binary), name))
        print(f"[issue12_figures] round {r + 1}/{a.rounds} done", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)

    def times(name):
        return [e["real_time"] * TO_MS[e["time_unit"]] for e in runs[name]]

    print(f"issue 12 figures: {a.rounds} interleaved rounds; time in ms (min / median); "
          "metric median (best); target; median / target")
    for _, name, metric, target, label in cases:
        t = times(name)
        m = [float(e[metric]) for e in runs[name] if metric in e]
        if not m:
            raise SystemExit(f"issue12_figures: '{name}' printed no counter '{metric}'")
        med = statistics.median(m)
        ceiling = [float(e["ceiling_pct_peak"]) for e in runs[name] if "ceiling_pct_peak" in e]
        extra = f"  (ceiling {statistics.median(ceiling):.1f} %)" if ceiling else ""
        tgt = f"target {target:g}  ratio {med / target:.2f}" if target else ""
        print(f"  {label:44s} {min(t):10.4g} / {statistics.median(t):10.4g} ms  {metric} {med:7.2f} ({max(m):.2f})  {tgt}{extra}")
    pairs = [(name, name.replace("threads:1", "threads:2"), label) for _, name, _, _, label in cases
             if "threads:1" in name and name.replace("threads:1", "threads:2") in runs]
    if pairs:
        print("two threads against one (median times; issue 12 asks >= 1.7 where the work allows):")
    for one, two, label in pairs:
        print(f"  {label.replace(', 1 thread', ''):44s} {statistics.median(times(one)) / statistics.median(times(two)):.2f}x")


if __name__ == "__main__":
    main()
