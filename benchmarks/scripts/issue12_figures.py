#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Issue 12's figures from the benchmarks, as medians over interleaved rounds.

On a shared or virtual machine one run of a benchmark says little: on the project's 2-core VM the
kernels' times moved by 1.4-1.5x within minutes, more than the FMA probe next to each case moved
(benchmarks/roofline.hpp; the probe is a register-only loop and does not see every slowdown). This
script runs every case that issue 12 names (docs/kernels.md, "Roofline figures") in R rounds, one
case after the other in each round, so that slow periods spread over the cases across rounds. It
prints, per case:

  * the minimum and median time (ms, real time);
  * the median of the case's metric (pct_peak, or a speed-up against the issue's baselines), and in
    brackets the metric of the fastest round;
  * the issue's target and the median against it;
  * for pct_peak cases, the median attainable ceiling (`ceiling_pct_peak`);

then two threads against one from the median times. Ratios above 2x on 2 cores show the drift
between rounds: read these ratios as good to about +-5 %. bench_emulator computes its pct_peak and
x_vs_pytorch from CPU time (the others from real time); on an idle machine they differ by <= 2 %.

    python3 benchmarks/scripts/issue12_figures.py --build build/release --rounds 5

Options: --rounds R (default 5), --only flow|emulator|population (repeatable), --json FILE (every
run's entry, rewritten after each round), --from-json FILE (print the figures of a saved --json
file without running anything). Python 3 standard library only.
"""
import argparse
import json
import os
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


def posix_escape(name):
    """`name` as a POSIX extended regular expression that matches it literally (Google Benchmark
    compiles --benchmark_filter as std::regex::extended, where a backslash before an ordinary
    character is undefined)."""
    return "".join("\\" + ch if ch in ".[]()*+?{}|^$\\" else ch for ch in name)


def run_case(binary, name):
    """One run of one benchmark: its JSON entry (real time, counters)."""
    run = subprocess.run([binary, "--benchmark_filter=^" + posix_escape(name) + "$", "--benchmark_format=json"],
                         capture_output=True, text=True)
    err = run.stderr.strip()[-500:]
    if run.returncode != 0:
        raise SystemExit(f"issue12_figures: {binary} failed on '{name}' (exit {run.returncode}): {err}")
    try:
        doc = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"issue12_figures: {binary} printed no JSON for '{name}' (no such benchmark?): {err}")
    entries = [b for b in doc.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]
    if len(entries) != 1:
        raise SystemExit(f"issue12_figures: {binary} ran {len(entries)} benchmarks for '{name}' (expected 1)")
    if entries[0].get("error_occurred"):
        raise SystemExit(f"issue12_figures: '{name}' reported an error: {entries[0].get('error_message', '')}")
    return entries[0]


def report(cases, runs, rounds):
    """Prints the figures of `runs` (benchmark name -> list of JSON entries, one per round)."""
    def times(name):
        return [e["real_time"] * TO_MS[e["time_unit"]] for e in runs[name]]

    print(f"issue 12 figures: {rounds} interleaved rounds; time in ms (min / median); "
          "metric: median (fastest round); target; median / target")
    for _, name, metric, target, label in cases:
        t = times(name)
        if any(metric not in e for e in runs[name]):
            raise SystemExit(f"issue12_figures: '{name}' printed no counter '{metric}' in some round")
        m = [float(e[metric]) for e in runs[name]]
        med = statistics.median(m)
        fastest = m[t.index(min(t))]
        ceiling = [float(e["ceiling_pct_peak"]) for e in runs[name] if "ceiling_pct_peak" in e]
        extra = f"  (ceiling {statistics.median(ceiling):.1f} %)" if ceiling and metric == "pct_peak" else ""
        tgt = f"target {target:g}  ratio {med / target:.2f}" if target else ""
        print(f"  {label:44s} {min(t):10.4g} / {statistics.median(t):10.4g} ms  {metric} {med:7.2f} ({fastest:.2f})  {tgt}{extra}")
    pairs = [(name, name.replace("threads:1", "threads:2"), label) for _, name, _, _, label in cases
             if "threads:1" in name and name.replace("threads:1", "threads:2") in runs]
    if pairs:
        print("two threads against one (median times; issue 12 asks >= 1.7 where the work allows):")
    for one, two, label in pairs:
        print(f"  {label.replace(', 1 thread', ''):44s} {statistics.median(times(one)) / statistics.median(times(two)):.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/release", help="build directory (default build/release)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--only", action="append", choices=sorted(GROUPS), help="run only these benchmark programs")
    ap.add_argument("--json", help="write every run's entry to this file (after each round)")
    ap.add_argument("--from-json", help="print the figures of a file written by --json; runs nothing")
    a = ap.parse_args()
    wanted = {GROUPS[g] for g in a.only} if a.only else set(GROUPS.values())
    cases = [c for c in CASES if c[0] in wanted]
    if a.from_json:
        with open(a.from_json) as f:
            runs = json.load(f)
        cases = [c for c in cases if c[1] in runs]
        if not cases:
            raise SystemExit(f"issue12_figures: {a.from_json} holds none of the cases")
        rounds = {len(runs[c[1]]) for c in cases}
        if len(rounds) != 1 or 0 in rounds:
            raise SystemExit(f"issue12_figures: {a.from_json} has unequal or empty rounds per case")
        report(cases, runs, rounds.pop())
        return
    if a.rounds < 1:
        raise SystemExit("issue12_figures: --rounds must be at least 1")
    for binary in sorted({c[0] for c in cases}):
        path = os.path.join(a.build, "benchmarks", binary)
        if not os.access(path, os.X_OK):
            raise SystemExit(f"issue12_figures: {path} not found (build the benchmarks first)")
    runs = {c[1]: [] for c in cases}
    for r in range(a.rounds):
        for binary, name, *_ in cases:
            runs[name].append(run_case(os.path.join(a.build, "benchmarks", binary), name))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(runs, f, indent=1)
        print(f"[issue12_figures] round {r + 1}/{a.rounds} done", file=sys.stderr)
    report(cases, runs, a.rounds)


if __name__ == "__main__":
    main()
