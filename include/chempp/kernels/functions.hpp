// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The element-wise functions of chempp's networks, written **once** for every value type the
/// kernels run on: `double`, `float`, `xsimd::batch<T, A>` (found by argument-dependent lookup in
/// xsimd), `chempp::kernels::multi<B, K>` (several SIMD registers in flight, kernels/simd.hpp) and
/// the CUDA device (`float`/`double` in `__device__` code). Plain C++17, no Eigen, no xsimd, no
/// CUDA headers: `chempp/kernels/maf.hpp`, `mlp.hpp`, the CPU sampler, the emulator, the training
/// layers and the CUDA kernels all instantiate these policies (docs/kernels.md).
///
/// A function policy `F` has `F::name` (stored in weight files), `F::apply(x)` and
/// `F::derivative(x, y)` (f'(x) given x and y = f(x); tanh uses y, ReLU uses x), which the
/// hand-written backward passes need. Scale policies (the positive scale of an affine
/// autoregressive transform) have the same members.

#include <math.h>

#include <type_traits>

#if defined(__CUDACC__)
#define CHEMPP_HD __host__ __device__
#else
#define CHEMPP_HD
#endif

#if defined(__CUDA_ARCH__)
#define CHEMPP_UNROLL _Pragma("unroll")
#else
#define CHEMPP_UNROLL
#endif

namespace chempp::kernels {

/// The scalar type of a value type: V itself for float/double, V::value_type for SIMD values.
template <class V, class = void>
struct scalar_of {
  using type = V;
};
template <class V>
struct scalar_of<V, std::void_t<typename V::value_type>> {
  using type = typename V::value_type;
};
template <class V>
using scalar_of_t = typename scalar_of<V>::type;

// ---- scalar primitives (float and double, host and device) ------------------------------------
// Value types other than float/double bring their own overloads (xsimd by ADL, `multi` in
// kernels/simd.hpp); kernels call these names unqualified.
CHEMPP_HD inline float exp(float v) { return ::expf(v); }
CHEMPP_HD inline double exp(double v) { return ::exp(v); }
CHEMPP_HD inline float log(float v) { return ::logf(v); }
CHEMPP_HD inline double log(double v) { return ::log(v); }
CHEMPP_HD inline float log1p(float v) { return ::log1pf(v); }
CHEMPP_HD inline double log1p(double v) { return ::log1p(v); }
CHEMPP_HD inline float abs(float v) { return ::fabsf(v); }
CHEMPP_HD inline double abs(double v) { return ::fabs(v); }
CHEMPP_HD inline float fma(float a, float b, float c) { return ::fmaf(a, b, c); }
CHEMPP_HD inline double fma(double a, double b, double c) { return ::fma(a, b, c); }
CHEMPP_HD inline float max(float a, float b) { return a > b ? a : b; }
CHEMPP_HD inline double max(double a, double b) { return a > b ? a : b; }
CHEMPP_HD inline float min(float a, float b) { return a < b ? a : b; }
CHEMPP_HD inline double min(double a, double b) { return a < b ? a : b; }
CHEMPP_HD inline float select(bool c, float a, float b) { return c ? a : b; }
CHEMPP_HD inline double select(bool c, double a, double b) { return c ? a : b; }

// ---- activations ---------------------------------------------------------------------------------
/// f(x) = x (output layers).
struct identity_fn {
  static constexpr const char* name = "identity";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    return x;
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*x*/, const V& /*y*/) {
    return V(1);
  }
};

/// The hidden activation of the paper's emulator and of sbi's MAF (Buck et al. 2025 §3,
/// docs/sbi-pipeline.md §4); f'(x) = 1 - y².
///  * double values: tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}), one exp and one division,
///    no overflow, absolute error ≤ 4e-16 against std::tanh (tested);
///  * float values: the rational x P(x²)/Q(x²) of degree 4/4 on x clamped to [-9, 9] (beyond, tanh
///    rounds to ±1 in float), fitted by benchmarks/scripts/fit_tanh_float.py: relative error
///    2.2e-8 in exact arithmetic, ≤ 4e-7 absolute when evaluated in float, |y| ≤ 1 (tested); 8 FMAs
///    and one division instead of an exp and a division (the float kernels' budget is ~1e-6).
struct tanh_fn {
  static constexpr const char* name = "tanh";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    if constexpr (std::is_same_v<scalar_of_t<V>, float>) {
      const V c = max(min(x, V(9.0f)), V(-9.0f));
      const V s = c * c;
      const V p = fma(fma(fma(fma(V(1.3418750322707895e-08f), s, V(2.0660486294729618e-05f)), s, V(0.003498949345396653f)), s,
                          V(0.13383941263889465f)),
                      s, V(1.0f));
      const V q = fma(fma(fma(fma(V(7.8042890413885157e-07f), s, V(0.00032909615141349938f)), s, V(0.025890029546192864f)), s,
                          V(0.46717262767166579f)),
                      s, V(1.0f));
      return max(min(c * p / q, V(1.0f)), V(-1.0f));  // the fit overshoots 1 by an ulp near |x| = 9
    } else {
      const V t = exp(V(-2) * abs(x));
      const V r = (V(1) - t) / (V(1) + t);
      return select(x < V(0), -r, r);
    }
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*x*/, const V& y) {
    return V(1) - y * y;
  }
};

/// The logistic sigmoid 1 / (1 + e^{-x}); f'(x) = y (1 - y).
struct sigmoid_fn {
  static constexpr const char* name = "sigmoid";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    return V(1) / (V(1) + exp(-x));
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*x*/, const V& y) {
    return y * (V(1) - y);
  }
};

/// softplus log(1 + e^x), computed without overflow as max(x, 0) + log1p(e^{-|x|});
/// f'(x) = sigmoid(x).
struct softplus_fn {
  static constexpr const char* name = "softplus";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    return max(x, V(0)) + log1p(exp(-abs(x)));
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& x, const V& /*y*/) {
    return sigmoid_fn::apply(x);
  }
};

/// Rectified linear unit max(x, 0); f'(0) is taken as 0.
struct relu_fn {
  static constexpr const char* name = "relu";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    return max(x, V(0));
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& x, const V& /*y*/) {
    return select(V(0) < x, V(1), V(0));
  }
};

/// The natural logarithm as a function policy (the log-determinant terms of the training pass).
struct log_fn {
  static constexpr const char* name = "log";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    return log(x);
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& x, const V& /*y*/) {
    return V(1) / x;
  }
};

// ---- scales of the affine autoregressive transform y = scale(s) u + m ----------------------------
/// nflows 0.14 (the version sbi 0.23.1 runs): scale = softplus(s) + 1e-3 ∈ (1e-3, ∞); never 0,
/// so log scale is finite, and it can expand as well as contract. d scale / ds = sigmoid(s).
struct softplus_scale {
  static constexpr const char* name = "softplus";
  static constexpr double minimum = 1e-3;  ///< lower bound of the scale
  template <class V>
  CHEMPP_HD static V apply(const V& s) {
    return softplus_fn::apply(s) + V(static_cast<scalar_of_t<V>>(minimum));
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& s, const V& /*scale*/) {
    return sigmoid_fn::apply(s);
  }
};

/// Older nflows (commented out in 0.14): scale = sigmoid(s + 2) + 1e-3 ∈ (1e-3, 1.001); bounded,
/// so each transform can only contract. d scale / ds = σ(1 - σ) with σ = scale - 1e-3.
struct sigmoid_scale {
  static constexpr const char* name = "sigmoid";
  static constexpr double shift = 2.0;     ///< added to the unconstrained output
  static constexpr double minimum = 1e-3;  ///< lower bound of the scale
  template <class V>
  CHEMPP_HD static V apply(const V& s) {
    return sigmoid_fn::apply(s + V(static_cast<scalar_of_t<V>>(shift))) + V(static_cast<scalar_of_t<V>>(minimum));
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*s*/, const V& scale) {
    const V sg = scale - V(static_cast<scalar_of_t<V>>(minimum));
    return sg * (V(1) - sg);
  }
};

}  // namespace chempp::kernels
