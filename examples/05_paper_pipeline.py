#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Draws the paper's figures from the output of `paper_pipeline` (tutorial 05).

Usage: python3 examples/05_paper_pipeline.py [OUT_DIR]   (default: paper_pipeline_out)
Needs numpy and matplotlib (Debian: python3-numpy python3-matplotlib). Writes PNGs into OUT_DIR:
lambda_vs_n.png (Λ against the number of stars, 1σ/2σ bands, per scenario and combiner),
joint_posterior.png (the population posterior and the Gaussian product for N = 100),
tarp.png (TARP expected coverage), sbc_ranks.png (SBC rank histograms).
"""
import csv
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "paper_pipeline_out"
res = json.load(open(os.path.join(out, "results.json")))


def read_csv(name):
    with open(os.path.join(out, name)) as f:
        return list(csv.DictReader(f))


# --- Λ against N ----------------------------------------------------------------------------
rows = read_csv("lambda_vs_n.csv")
scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
combiners = ["population", "corrected"]
styles = {"population": "-", "corrected": "--"}
fig, axes = plt.subplots(2, len(scenarios), figsize=(4.2 * len(scenarios), 6.5), sharex=True,
                         squeeze=False)
for j, sc in enumerate(scenarios):
    for i, (key, label) in enumerate([("alpha", r"$\alpha_{\rm IMF}$"),
                                      ("log10_nia", r"$\log_{10} N_{\rm Ia}$")]):
        ax = axes[i][j]
        for k, comb in enumerate(combiners):
            sel = [r for r in rows if r["scenario"] == sc and r["combiner"] == comb]
            if not sel:
                continue
            n = np.array([float(r["n_stars"]) for r in sel])
            m = np.array([float(r[key + "_mean"]) for r in sel])
            s = np.array([float(r[key + "_sigma"]) for r in sel])
            xs = n * (1.0 + 0.06 * k)
            line, = ax.plot(xs, m, styles[comb], marker="o", ms=3, label=comb)
            if comb == "population":
                ax.fill_between(xs, m - 2 * s, m + 2 * s, color=line.get_color(), alpha=0.15)
                ax.fill_between(xs, m - s, m + s, color=line.get_color(), alpha=0.3)
        truth = float(sel[0][key + "_true"]) if sel else None
        if truth is not None:
            ax.axhline(truth, color="k", lw=0.8)
        ax.set_xscale("log")
        if j == 0:
            ax.set_ylabel(label)
        if i == 0:
            ax.set_title(sc)
        if i == 1:
            ax.set_xlabel("number of stars N")
axes[0][0].legend(fontsize=7)
fig.tight_layout()
fig.savefig(os.path.join(out, "lambda_vs_n.png"), dpi=120)

# --- joint posterior (N = 100) ---------------------------------------------------------------
grids = sorted(f for f in os.listdir(out) if f.startswith("grid_") and f.endswith("_N100.csv"))
if grids:
    fig, axes = plt.subplots(1, len(grids), figsize=(4.5 * len(grids), 4), squeeze=False)
    for ax, g in zip(axes[0], grids):
        d = np.loadtxt(os.path.join(out, g), delimiter=",", skiprows=1)
        xs, ys = np.unique(d[:, 0]), np.unique(d[:, 1])
        z = d[:, 2].reshape(len(xs), len(ys)).T
        p = np.exp(z - z.max())
        flat = np.sort(p.ravel())[::-1]
        cum = np.cumsum(flat) / flat.sum()
        levels = sorted({flat[np.searchsorted(cum, q)] for q in (0.95, 0.68)})
        ax.contour(xs, ys, p, levels=levels + [p.max() * 1.01], colors="C0")
        sc = g[len("grid_"):-len("_N100.csv")]
        info = res["scenarios"][sc]["N"]["100"]
        t = np.linspace(0, 2 * np.pi, 200)
        for comb, col in (("corrected", "C1"),):
            if comb not in info:
                continue
            mu = np.array(info[comb]["mean"])
            cov = np.array(info[comb]["cov"])
            w, v = np.linalg.eigh(cov)
            for r in (1.51, 2.45):  # sqrt of chi2(2) 68 % / 95 % quantiles
                e = mu[:, None] + v @ (np.sqrt(w)[:, None] * r * np.vstack([np.cos(t), np.sin(t)]))
                ax.plot(e[0], e[1], color=col, lw=1, label=comb if r < 2 else None)
        truth = res["scenarios"][sc]["truth"]
        ax.plot(*truth, "k*", ms=10, label="truth")
        ax.set_title(f"{sc}, N = 100 (blue: population posterior)")
        ax.set_xlabel(r"$\alpha_{\rm IMF}$")
        ax.set_ylabel(r"$\log_{10} N_{\rm Ia}$")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "joint_posterior.png"), dpi=120)

# --- TARP --------------------------------------------------------------------------------------
t = np.loadtxt(os.path.join(out, "tarp.csv"), delimiter=",", skiprows=1)
fig, ax = plt.subplots(figsize=(4.2, 4))
ax.plot([0, 1], [0, 1], "k--", lw=0.8)
ax.fill_between(t[:, 0], t[:, 2] - 2 * t[:, 3], t[:, 2] + 2 * t[:, 3], alpha=0.2, color="C0")
ax.fill_between(t[:, 0], t[:, 2] - t[:, 3], t[:, 2] + t[:, 3], alpha=0.4, color="C0")
ax.plot(t[:, 0], t[:, 1], color="C0")
cal = res["calibration"]["tarp"]
ax.set_title(f"TARP, max|ECP−α| = {cal['max_abs_ecp_minus_alpha']:.3f}")
ax.set_xlabel("credibility level α")
ax.set_ylabel("expected coverage")
fig.tight_layout()
fig.savefig(os.path.join(out, "tarp.png"), dpi=120)

# --- SBC ranks -------------------------------------------------------------------------------
with open(os.path.join(out, "sbc_ranks.csv")) as f:
    names = f.readline().strip().split(",")
ranks = np.loadtxt(os.path.join(out, "sbc_ranks.csv"), delimiter=",", skiprows=1)
L = res["config"]["n_samples"]
fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.8), sharey=True)
for d, ax in enumerate(axes):
    ax.hist(ranks[:, d], bins=10, range=(0, L), color="C0", alpha=0.7)
    n = len(ranks)
    lo, hi = n / 10 - 2 * np.sqrt(n / 10), n / 10 + 2 * np.sqrt(n / 10)
    ax.axhspan(lo, hi, color="grey", alpha=0.2)
    p = res["calibration"]["sbc"][names[d]]["ks_p"]
    ax.set_title(f"{names[d]}\nKS p = {p:.2f}", fontsize=8)
fig.tight_layout()
fig.savefig(os.path.join(out, "sbc_ranks.png"), dpi=120)
print("figures written to", out)
