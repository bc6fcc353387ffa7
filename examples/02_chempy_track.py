# SPDX-License-Identifier: BSD-3-Clause
"""Draws the [X/Fe]-[Fe/H] track written by example_02_chempy_track (tutorial 02).

usage: python3 examples/02_chempy_track.py [dir]   (dir holds the two CSV files; default .)
writes chempy_track.png beside them.
"""
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    births = read(d / "chempy_track_birth_times.csv")
    steps = read(d / "chempy_track_steps.csv")
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharex=True)
    for ax, el in zip(axes.flat, ["O", "Mg", "Si", "C", "N", "Ne"]):
        key = f"{el}_Fe"
        ax.plot(steps["Fe_H"], steps[key], "-", color="0.6", label="one history (fixed grid)")
        sc = ax.scatter(births["Fe_H"], births[key], c=births["t_gyr"], s=14, cmap="viridis",
                        label="CHEMPY model at birth time T", zorder=3)
        ax.set_ylabel(f"[{el}/Fe]")
    for ax in axes[1]:
        ax.set_xlabel("[Fe/H]")
    axes[0, 0].legend(fontsize=8)
    fig.colorbar(sc, ax=axes, label="birth time T [Gyr]")
    fig.suptitle("Fiducial one-zone model (Buck et al. 2025 parameters, TNG yields)")
    out = d / "chempy_track.png"
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
