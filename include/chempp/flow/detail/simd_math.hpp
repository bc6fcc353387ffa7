// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Element-wise math over contiguous double arrays with xsimd (default architecture), used by
/// the Eigen-based training and density passes: tanh, softplus, sigmoid, log. std::tanh & co.
/// are scalar and dominated the training step before these existed.

#include <cmath>
#include <cstddef>

#include "chempp/core/compat_xsimd.hpp"

namespace chempp::flow::internal {

using simd_batch = xsimd::batch<double, xsimd::default_arch>;

/// y[i] = f(a[i]) for a batch functor `fb` and a scalar functor `fs` (tail), n elements.
template <class FB, class FS>
inline void map_n(const double* a, double* y, std::size_t n, FB&& fb, FS&& fs) {
  constexpr std::size_t w = simd_batch::size;
  std::size_t i = 0;
  for (; i + w <= n; i += w) fb(simd_batch::load_unaligned(a + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = fs(a[i]);
}

/// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); one exp per element, absolute error
/// ~1e-16 (relative error grows only where |tanh| ~ 1e-16).
template <class B>
inline B fast_tanh(const B& x) {
  using T = typename B::value_type;
  const B t = xsimd::exp(B(T(-2)) * xsimd::abs(x));
  const B r = (B(T(1)) - t) / (B(T(1)) + t);
  return xsimd::select(x < B(T(0)), -r, r);
}

/// Scalar counterpart of `fast_tanh` (so vector body and scalar tail agree).
inline double fast_tanh(double x) {
  const double t = std::exp(-2.0 * std::abs(x));
  const double r = (1.0 - t) / (1.0 + t);
  return x < 0.0 ? -r : r;
}

/// y = tanh(a), n elements (a and y may alias).
inline void tanh_n(const double* a, double* y, std::size_t n) {
  map_n(a, y, n, [](const simd_batch& b) { return fast_tanh(b); }, [](double v) { return fast_tanh(v); });
}

/// y = log(1 + e^a) + m (softplus plus a floor m), without overflow.
inline void softplus_n(const double* a, double* y, std::size_t n, double m) {
  map_n(
      a, y, n,
      [m](const simd_batch& b) {
        // log1p(e^a) = max(a, 0) + log1p(e^{-|a|})
        return xsimd::max(b, simd_batch(0.0)) + xsimd::log1p(xsimd::exp(-xsimd::abs(b))) + simd_batch(m);
      },
      [m](double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))) + m; });
}

/// y = 1 / (1 + e^{-(a + shift)}).
inline void sigmoid_n(const double* a, double* y, std::size_t n, double shift) {
  map_n(
      a, y, n, [shift](const simd_batch& b) { return simd_batch(1.0) / (simd_batch(1.0) + xsimd::exp(-(b + simd_batch(shift)))); },
      [shift](double v) { return 1.0 / (1.0 + std::exp(-(v + shift))); });
}

/// y = log(a).
inline void log_n(const double* a, double* y, std::size_t n) {
  map_n(a, y, n, [](const simd_batch& b) { return xsimd::log(b); }, [](double v) { return std::log(v); });
}

}  // namespace chempp::flow::internal

#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <type_traits>

namespace chempp::flow::internal {

/// A uniform double in (0, 1) from one engine call (53 random bits, never 0 or 1).
template <class Rng>
inline double open_uniform(Rng& rng) {
  using R = typename Rng::result_type;
  if constexpr (std::is_same_v<R, std::uint64_t> && Rng::min() == 0 &&
                Rng::max() == std::numeric_limits<std::uint64_t>::max()) {
    return (double(rng() >> 11) + 0.5) * 0x1.0p-53;
  } else {
    double u = std::generate_canonical<double, 53>(rng);
    return u <= 0.0 ? 0x1.0p-54 : (u >= 1.0 ? 1.0 - 0x1.0p-53 : u);
  }
}

/// Fills out[0..n) with independent N(0, 1) draws by the Box-Muller transform, vectorised with
/// xsimd: each group of 2w outputs (w = SIMD width) uses 2w uniforms u1_k, u2_k (drawn in the
/// order u1_0, u2_0, u1_1, ...), giving r_k cos(2π u2_k) for k < w, then r_k sin(2π u2_k),
/// r_k = sqrt(-2 log u1_k); a remainder is done pair by pair the same way with w = 1. The stream
/// is a fixed function of the engine's outputs, so calls whose sizes are multiples of 2w can be
/// concatenated. n must be even.
template <class Rng>
inline void normal_fill(Rng& rng, double* out, std::size_t n) {
  constexpr std::size_t w = simd_batch::size;
  alignas(64) double u1[w], u2[w];
  std::size_t i = 0;
  const double two_pi = 2.0 * std::numbers::pi;
  for (; i + 2 * w <= n; i += 2 * w) {
    for (std::size_t k = 0; k < w; ++k) {
      u1[k] = open_uniform(rng);
      u2[k] = open_uniform(rng);
    }
    const simd_batch r = xsimd::sqrt(simd_batch(-2.0) * xsimd::log(simd_batch::load_unaligned(u1)));
    const auto sc = xsimd::sincos(simd_batch(two_pi) * simd_batch::load_unaligned(u2));
    (r * sc.second).store_unaligned(out + i);
    (r * sc.first).store_unaligned(out + i + w);
  }
  for (; i + 2 <= n; i += 2) {
    const double a = open_uniform(rng), b = open_uniform(rng);
    const double r = std::sqrt(-2.0 * std::log(a));
    out[i] = r * std::cos(two_pi * b);
    out[i + 1] = r * std::sin(two_pi * b);
  }
}

}  // namespace chempp::flow::internal
