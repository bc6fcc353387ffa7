#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Fits the rational approximation tanh(x) ~ x P(x^2) / Q(x^2), P(0) = Q(0) = 1, on [0, 9] that
# chempp's float kernels use (kernels::tanh_fn, docs/kernels.md): linearised least squares with
# Lawson reweighting towards the minimax relative error. Prints, for several degree pairs, the
# relative error of the fit in double and the absolute/relative error when evaluated in float
# (Horner in x^2). The (4, 4) pair is the one in the library: 2.2e-8 relative in double, 3.4e-7
# absolute in float. Needs numpy (Debian python3-numpy).
import numpy as np
def fit(np_, nq, X=9.0, n=8000, iters=80):
    x = X * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n)))[1:]
    t = np.tanh(x); s = x * x
    w = np.ones(len(x)); qprev = np.ones(len(x)); best = None
    for it in range(iters):
        # x(1 + p1 s + ...) - t(1 + q1 s + ...) = 0  ->  x p_k s^k - t q_k s^k = t - x
        A = np.hstack([np.stack([x * s**k for k in range(1, np_ + 1)], 1), np.stack([-t * s**k for k in range(1, nq + 1)], 1)])
        b = t - x
        W = (w / qprev)[:, None]
        # relative-error weighting: divide by t
        W = W / t[:, None]
        c, *_ = np.linalg.lstsq(A * W, b * W[:, 0], rcond=None)
        p = np.concatenate([[1.0], c[:np_]]); q = np.concatenate([[1.0], c[np_:]])
        P = np.polyval(p[::-1], s); Q = np.polyval(q[::-1], s)
        err = (x * P / Q - t) / t
        qprev = Q
        m = np.abs(err).max()
        if best is None or m < best[0]: best = (m, p.copy(), q.copy())
        w = w * (np.abs(err) / np.abs(err).mean()) ** 0.5 + 1e-30; w /= w.mean()
    return best
def feval(p, q, xs):
    s = xs * xs
    P = np.float32(p[-1]) * np.ones_like(s)
    for v in reversed(p[:-1]): P = P * s + np.float32(v)
    Q = np.float32(q[-1]) * np.ones_like(s)
    for v in reversed(q[:-1]): Q = Q * s + np.float32(v)
    return xs * P / Q
for a, b in [(3, 3), (4, 3), (4, 4), (3, 4)]:
    m, p, q = fit(a, b)
    xs = np.concatenate([np.linspace(0, 9, 400001), np.geomspace(1e-8, 1, 20001)]).astype(np.float32)
    y = feval(p, q, xs).astype(np.float64); tt = np.tanh(xs.astype(np.float64))
    nz = tt > 0
    print(a, b, "rel err (double) %.2e  float: abs %.2e rel %.2e" % (m, np.abs(y - tt).max(), (np.abs(y - tt)[nz] / tt[nz]).max()))
    print("   p =", ", ".join("%.17g" % v for v in p)); print("   q =", ", ".join("%.17g" % v for v in q))
