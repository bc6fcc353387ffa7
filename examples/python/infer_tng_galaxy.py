# SPDX-License-Identifier: BSD-3-Clause
"""Python tutorial: infer Λ = (α_IMF, log10 N_Ia) for the shipped TNG galaxy and draw a
corner-style plot (docs/python.md).

    PYTHONPATH=build/release/python python3 examples/python/infer_tng_galaxy.py MODEL_DIR [OUT.png] [--stars N]

MODEL_DIR is a bundle from `chempp-train` (e.g. `chempp-train --config small --out model_small`).
The catalog is examples/data/tng_galaxy_catalog.csv (1000 stars of the paper's TNG galaxy, GALAH
column names); --stars N uses its first N stars. The paper's TNG value is α_IMF = -2.3, log10 N_Ia =
-2.89 (Buck et al. 2025). Needs matplotlib (Debian python3-matplotlib).
"""
import argparse
import os
import sys

import numpy as np

import chempp

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "data", "tng_galaxy_catalog.csv")
TRUTH = np.array([-2.3, -2.89])


def corner(samples, truth, labels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(6, 6))
    for i in range(2):
        for j in range(2):
            a = ax[i, j]
            if j > i:
                a.axis("off")
            elif i == j:
                a.hist(samples[:, i], bins=40, histtype="step", color="k", density=True)
                a.axvline(truth[i], color="C3")
                a.set_yticks([])
            else:
                a.hist2d(samples[:, j], samples[:, i], bins=40, cmap="Greys")
                a.plot(truth[j], truth[i], "o", color="C3")
            if i == 1:
                a.set_xlabel(labels[j])
            if j == 0 and i == 1:
                a.set_ylabel(labels[i])
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out", nargs="?", default="tng_corner.png")
    ap.add_argument("--stars", type=int, default=0, help="use the first N stars (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    model = chempp.load_model(args.model)
    x, sigma, ids = chempp.read_catalog(CATALOG, model.catalog_columns)
    if args.stars:
        x, sigma = x[: args.stars], sigma[: args.stars]
    print(f"{len(x)} stars, model {model.name!r} (yields {model.yields})")

    def progress(r):
        sd = np.sqrt(np.diag(r["cov"]))
        print(f"  grid {r['grid']}: mean {r['mean'][0]:.4f} {r['mean'][1]:.4f}, sd {sd[0]:.4f} {sd[1]:.4f}")

    post = chempp.infer((x, sigma), model=model, seed=args.seed, progress=progress)
    print(post)
    z = (post.mean - TRUTH) / post.std
    print(f"TNG value ({TRUTH[0]}, {TRUTH[1]}) is ({z[0]:+.2f}σ, {z[1]:+.2f}σ) from the posterior mean")
    corner(post.samples, TRUTH, [r"$\alpha_{\rm IMF}$", r"$\log_{10} N_{\rm Ia}$"], args.out)
    print(f"wrote {args.out}")
    if not post.converged:
        print("warning: a posterior grid did not converge (see the models' 'converged')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
