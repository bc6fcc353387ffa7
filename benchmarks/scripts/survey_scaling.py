#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Scaling benchmark for survey-scale inference (issue "Survey scale: many populations, many nodes").

For each catalog size N (one population of N mock stars from chempp-mock-survey, GCE model,
APOGEE-like pattern) and each number of MPI ranks R, times `mpirun -n R chempp-infer-mpi` (one
thread per rank, wall clock, the whole program: bundle and catalog reading, flow proposals, the
population engine) and checks that every R gives the same posterior and evidence. Prints the
table, the fitted scaling law t_R(N) = a_R + b_R N, the speed-up of 2 ranks over 1, the per-star
cost in core-seconds, and the extrapolation to 1e6 and 1e7 stars that docs/survey-scale.md explains.

usage: benchmarks/scripts/survey_scaling.py --build BUILD_DIR --model BUNDLE
           [--stars 1000,3000,10000] [--ranks 1,2] [--seed 7] [--work DIR] [--out RESULT.json]
Standard library only (Debian's python3).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build tree holding examples/chempp-infer-mpi")
    ap.add_argument("--model", required=True, help="model bundle (chempp-train)")
    ap.add_argument("--stars", default="1000,3000,10000")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", default="survey_scaling_work")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    ex = os.path.join(a.build, "examples")
    mock, infer = os.path.join(ex, "chempp-mock-survey"), os.path.join(ex, "chempp-infer-mpi")
    for p in (mock, infer):
        if not os.access(p, os.X_OK):
            sys.exit(f"survey_scaling.py: {p} not found (build chempp_mock_survey and chempp_infer_mpi; needs MPI)")
    mpiexec = shutil.which("mpiexec") or shutil.which("mpirun")
    if not mpiexec:
        sys.exit("survey_scaling.py: mpiexec not found (Debian openmpi-bin)")
    mpi = [mpiexec, "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        mpi.append("--allow-run-as-root")
    stars = [int(s) for s in a.stars.split(",")]
    ranks = [int(r) for r in a.ranks.split(",")]
    os.makedirs(a.work, exist_ok=True)
    rows = []
    print(f"survey scaling: model {a.model}, one population, 1 thread per rank, seed {a.seed}, {os.cpu_count()} cores", flush=True)
    for n in stars:
        cat = os.path.join(a.work, f"survey_{n}.csv")
        subprocess.run([mock, "--model", a.model, "--out", cat, "--populations", "1", "--stars", str(n), "--seed", str(a.seed),
                        "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
        ref = None
        for r in ranks:
            out = os.path.join(a.work, f"result_{n}_{r}.json")
            t0 = time.perf_counter()
            subprocess.run(mpi + ["-n", str(r), infer, "--model", a.model, "--catalog", cat, "--out", out, "--seed", str(a.seed),
                                  "--threads", "1", "--quiet"], check=True, stdout=subprocess.DEVNULL)
            t = time.perf_counter() - t0
            res = json.load(open(out))
            key = (res["posterior"]["mean"], res["posterior"]["cov"], res["log_evidence"])
            same = ref is None or key == ref
            ref = ref or key
            rows.append({"stars": n, "ranks": r, "seconds": t, "identical_to_1_rank": same,
                         "grids": res["diagnostics"]["grids"], "log_evidence": res["log_evidence"]})
            print(f"  N = {n:7d}  ranks {r}: {t:8.2f} s  ({t * r / n * 1e3:.2f} core-ms/star, grids {res['diagnostics']['grids']},"
                  f" same answer as 1 rank: {'yes' if same else 'NO'})", flush=True)
    print("\nscaling law t_R(N) = a_R + b_R N (least squares over N):")
    law = {}
    for r in ranks:
        pts = [(x["stars"], x["seconds"]) for x in rows if x["ranks"] == r]
        if len(pts) < 2:
            continue
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sum((p[0] - mx) ** 2 for p in pts)
        c = my - b * mx
        law[r] = {"a_seconds": c, "b_seconds_per_star": b, "core_seconds_per_star": b * r}
        print(f"  R = {r}: t = {c:.2f} s + {b * 1e3:.3f} ms x N   (per star {b * r * 1e3:.3f} core-ms)")
    print("\nspeed-up of 2 ranks over 1:")
    for n in stars:
        t1 = [x["seconds"] for x in rows if x["stars"] == n and x["ranks"] == 1]
        t2 = [x["seconds"] for x in rows if x["stars"] == n and x["ranks"] == 2]
        if t1 and t2:
            print(f"  N = {n:7d}: {t1[0] / t2[0]:.2f}x")
    if 1 in law:
        per_star = law[1]["b_seconds_per_star"]
        print("\nextrapolation (per-star cost of 1 rank, 1 thread; one population per run, grids as measured):")
        for n in (10**6, 10**7):
            ch = per_star * n / 3600.0
            print(f"  {n:.0e} stars: {ch:.1f} core-hours; on 128-core nodes: {ch / 128:.2f} node-hours,"
                  f" {max(1, round(ch / 128))} nodes for one hour")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"rows": rows, "law": law, "cores": os.cpu_count(), "model": a.model, "seed": a.seed}, f, indent=1)


if __name__ == "__main__":
    main()
