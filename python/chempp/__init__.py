# SPDX-License-Identifier: BSD-3-Clause
"""chempp: CHEMPY galactic chemical evolution and simulation-based population inference.

The compiled core (``chempp._chempp``) holds the C++ library; this layer gives it the shapes
users know from sbi and VICE:

* ``Chempy(yields="tng")`` -- the one-zone GCE model (Rybizki et al. 2017, as used by Buck et al.
  2025); ``simulate(theta)`` returns ``(abundances, ok)`` for a (n, 6) array of
  (alpha_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T [Gyr]); ``track(theta)`` a time track.
* ``load_model(dir)`` / ``Model.save(dir)`` -- the bundle ``chempp-train`` writes (emulator, error
  model, flow, priors); ``train_model(...)`` trains one. ``Model.emulate(theta)``,
  ``Model.sample((n,), x=..., sigma=...)``, ``Model.sample_batched``, ``Model.log_prob``.
* ``infer(catalog, model=...)`` -- the population posterior of Lambda = (alpha_IMF, log10 N_Ia)
  with its evidence (one model), or the posterior model probabilities and the model-averaged
  posterior (a list of models). ``catalog``: a CSV (or FITS) file in APOGEE/GALAH column
  conventions, a dict of arrays with such names, or a tuple ``(x, sigma)`` of (n, 8) arrays with
  NaN where not measured.
* ``sbc(samples, truths)``, ``tarp(samples, truths)`` -- calibration diagnostics.

Errors of the library arrive as ``ValueError`` (bad input: the message names what and where) or
``RuntimeError`` (numerical failure). Long calls release the GIL and honour KeyboardInterrupt.
"""
import os as _os

import numpy as _np

from . import _chempp
from ._chempp import Model, observable_names, parameter_names, catalog_columns, shipped_data_dir, has_fits, sbc, tarp

__version__ = _chempp.__version__
__all__ = ["Chempy", "Model", "load_model", "train_model", "infer", "read_catalog", "InferenceResult", "sbc", "tarp",
           "observable_names", "parameter_names", "catalog_columns", "shipped_data_dir", "has_fits"]


class Chempy(_chempp.Chempy):
    """CHEMPY's one-zone model with a yield set: ``tng``, ``alt``, ``sn2=NAME,agb=NAME,sn1a=NAME``
    or a yield-set JSON file (docs/yields.md). ``tau_ia``: SN Ia minimum delay [Gyr]."""

    def __init__(self, yields="tng", tau_ia=0.04, yields_dir=""):
        super().__init__(yields, tau_ia, yields_dir)

    @property
    def observables(self):
        return observable_names()

    def __repr__(self):
        return f"Chempy(yields={self.yields!r})"


def load_model(directory):
    """The model bundle in ``directory`` (written by ``chempp-train`` or ``Model.save``)."""
    return _chempp.load_model(_os.fspath(directory))


def train_model(config="small", yields="tng", seed=1, threads=0, progress=None):
    """Trains a bundle (``config``: small, paper or tiny); ``progress`` gets each message."""
    return _chempp.train_model(config, yields, seed, threads, progress)


def _rows(a, k, name):
    a = _np.asarray(a, dtype=_np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] != k:
        raise ValueError(f"{name}: expected shape (n, {k}), got {a.shape}")
    return _np.ascontiguousarray(a)


def _sample(self, sample_shape=(1,), x=None, sigma=0.05, seed=1):
    """theta ~ q(theta | x) for one observation ``x`` (8 values, NaN = not measured) with
    uncertainties ``sigma`` (scalar or 8 values) [dex]: an array of shape sample_shape + (6,)."""
    if x is None:
        raise ValueError("sample: x (the observation) is required")
    x = _rows(x, 8, "x")
    if x.shape[0] != 1:
        raise ValueError("sample: one observation; use sample_batched for several")
    out = _sample_batched(self, sample_shape, x, sigma, seed)
    return out[:, 0, :].reshape(tuple(sample_shape) + (6,))


def _sample_batched(self, sample_shape=(1,), x=None, sigma=0.05, seed=1):
    """Draws for every row of ``x`` (m, 8): shape (n, m, 6) with n = prod(sample_shape)."""
    x = _rows(x, 8, "x")
    s = _np.broadcast_to(_np.asarray(sigma, dtype=_np.float64), x.shape)
    n = int(_np.prod(sample_shape))
    d = self._flow_sample(x, _np.ascontiguousarray(s), n, int(seed))  # (m, n, 6)
    return _np.transpose(d, (1, 0, 2))


def _log_prob(self, theta, x=None, sigma=0.05):
    """log q(theta | x) of the flow for theta (n, 6) and one x or one x per row."""
    th = _rows(theta, 6, "theta")
    x = _rows(x, 8, "x")
    s = _np.broadcast_to(_np.asarray(sigma, dtype=_np.float64), x.shape)
    return self._flow_log_prob(th, x, _np.ascontiguousarray(s))


Model.sample = _sample
Model.sample_batched = _sample_batched
Model.log_prob = _log_prob


def read_catalog(path, columns=None):
    """(x, sigma, ids) of a CSV or FITS catalog (APOGEE/GALAH names; NaN = not measured)."""
    cols = list(columns) if columns is not None else catalog_columns()
    return _chempp._read_catalog(_os.fspath(path), cols)


def _catalog_arrays(catalog, columns):
    if isinstance(catalog, (str, bytes, _os.PathLike)):
        x, s, _ = read_catalog(catalog, columns)
        return x, s
    if isinstance(catalog, tuple) and len(catalog) == 2:
        x = _rows(catalog[0], len(columns), "x")
        s = _np.broadcast_to(_np.asarray(catalog[1], dtype=_np.float64), x.shape)
        return x, _np.ascontiguousarray(s)
    if isinstance(catalog, dict):
        # the library's own column matching, uncertainty and flag rules (chempp/io/catalog.hpp);
        # non-numeric columns (e.g. star names) are left out
        names, data = [], []
        for k, v in catalog.items():
            a = _np.asarray(v)
            if a.dtype.kind in "fiub":
                names.append(str(k))
                data.append(a.astype(_np.float64).ravel())
        x, s, _ = _chempp._catalog_from_columns(names, data, list(columns))
        return x, s
    raise ValueError("catalog: expected a file path, a dict of arrays or a tuple (x, sigma)")


class InferenceResult:
    """The population posterior of Lambda = (alpha_IMF, log10 N_Ia).

    ``mean`` (2,), ``cov`` (2, 2), ``samples`` (draws, 2) and ``log_evidence`` are those of the
    model-averaged posterior (of the one model when one was given); ``models`` lists, per model,
    a dict with its ``name``, ``yields``, ``log_evidence`` +- ``log_evidence_se``,
    ``probability`` +- ``probability_se``, ``screened``, ``converged``, ``mean``, ``cov``,
    ``samples``."""

    def __init__(self, d):
        self.mean = _np.asarray(d["mean"])
        self.cov = _np.asarray(d["cov"])
        self.samples = _np.asarray(d["samples"])
        self.log_evidence = float(d["log_evidence"])
        self.models = list(d["models"])
        self.best = int(d["best"])
        self.probabilities = _np.array([m["probability"] for m in self.models])
        self.converged = all(m["converged"] or m["screened"] for m in self.models)
        self.parameters = ["alpha_IMF", "log10_N_Ia"]

    @property
    def std(self):
        return _np.sqrt(_np.diag(self.cov))

    def sample(self, sample_shape=(1,), seed=1):
        """Draws from the stored samples (with replacement), sbi style."""
        rng = _np.random.default_rng(seed)
        n = int(_np.prod(sample_shape))
        return self.samples[rng.integers(0, len(self.samples), n)].reshape(tuple(sample_shape) + (2,))

    def __repr__(self):
        m, s = self.mean, self.std
        return (f"InferenceResult(alpha_IMF={m[0]:.4f}±{s[0]:.4f}, log10_N_Ia={m[1]:.4f}±{s[1]:.4f}, "
                f"log_evidence={self.log_evidence:.3f}, models={len(self.models)})")


def infer(catalog, model, *, seed=1, threads=0, draws=4000, screen_margin=30.0, model_prior=None, progress=None):
    """Population inference of Lambda for the stars of ``catalog`` with ``model`` (a Model, a
    bundle directory, or a list of them for model comparison). ``progress(report)`` is called
    after every posterior grid with a dict (grid, nodes, mean, cov, log_evidence); raising in it,
    or Ctrl-C, stops the run. ``screen_margin``: models that many nats below the best are not
    refined (``float('inf')``: every model fully). Same seed and model: the same numbers as
    ``chempp-infer``."""
    models = model if isinstance(model, (list, tuple)) else [model]
    models = [load_model(m) if isinstance(m, (str, bytes, _os.PathLike)) else m for m in models]
    if not models:
        raise ValueError("infer: no model given")
    x, s = _catalog_arrays(catalog, models[0].catalog_columns)
    prior = [] if model_prior is None else [float(p) for p in model_prior]
    return InferenceResult(_chempp._infer(models, x, s, int(seed), int(threads), int(draws), float(screen_margin), prior, progress))
