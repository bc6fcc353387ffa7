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

#include <cstdint>
#include <cstring>
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
/// Register pinning (kernels/simd.hpp pins the SIMD values) is a no-op for scalars.
template <class V>
CHEMPP_HD inline void keep_in_register(V& /*v*/) {}

/// The IEEE fields of float and double: the unsigned integer of the same width, the exponent
/// bias and the mantissa bits (where the exponent field starts).
template <class T>
struct ieee_layout;
template <>
struct ieee_layout<double> {
  using bits_type = std::uint64_t;
  using signed_type = std::int64_t;
  static constexpr std::int64_t sqrt_half_bits = 0x3FE6A09E667F3BCDLL;  ///< √½ rounded
  static constexpr double min_normal = 2.2250738585072014e-308;          ///< smallest normal number
  static constexpr double max_finite = 1.7976931348623157e308;           ///< largest finite number
  static constexpr unsigned bias = 1023;
  static constexpr int mantissa_bits = 52;
};
template <>
struct ieee_layout<float> {
  using bits_type = std::uint32_t;
  using signed_type = std::int32_t;
  static constexpr std::int32_t sqrt_half_bits = 0x3F3504F3;  ///< √½ rounded
  static constexpr float min_normal = 1.17549435e-38f;         ///< smallest normal number
  static constexpr float max_finite = 3.40282347e+38f;         ///< largest finite number
  static constexpr unsigned bias = 127;
  static constexpr int mantissa_bits = 23;
};

/// The value with the same bits as `v` (a float or double and the signed integer of its width),
/// on the host and the CUDA device.
template <class To, class From>
CHEMPP_HD inline To same_bits(From v) {
  static_assert(sizeof(To) == sizeof(From), "same_bits: the types must have the same width");
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(From) == 8) {
    if constexpr (std::is_floating_point_v<From>) return static_cast<To>(__double_as_longlong(v));
    else return __longlong_as_double(static_cast<long long>(v));
  } else {
    if constexpr (std::is_floating_point_v<From>) return static_cast<To>(__float_as_int(v));
    else return __int_as_float(static_cast<int>(v));
  }
#else
  To r{};
  std::memcpy(&r, &v, sizeof r);
  return r;
#endif
}

/// What a value type provides beyond arithmetic, specialised for the SIMD values in
/// kernels/simd.hpp:
///  * `pow2_from_magic(kd)` = 2^k exactly, for kd = k + 1.5 · 2^m (m the mantissa bits: 0x1.8p52
///    in double, 0x1.8p23 in float) with k an integer whose 2^k is a normal number (the value the
///    round-to-integer addition leaves: its low bits hold k; the exponent field of 2^k is
///    (bits + bias) << m, the magic's own bits shift out);
///  * `split_exponent(x, e)` = m and e with x = 2^e m, m ∈ [√½, √2), for a positive normal x,
///    exactly (e as a value of the same type);
///  * `any_outside(x, lo, hi)`: true if some lane of x lies outside [lo, hi] or is a NaN.
template <class V, class = void>
struct value_bits;
template <class T>
struct value_bits<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  using L = ieee_layout<T>;
  using S = typename L::signed_type;
  CHEMPP_HD static S to_bits(T v) { return same_bits<S>(v); }
  CHEMPP_HD static T from_bits(S b) { return same_bits<T>(b); }
  CHEMPP_HD static T pow2_from_magic(T kd) {
    using U = typename L::bits_type;
    return from_bits(static_cast<S>(static_cast<U>((static_cast<U>(to_bits(kd)) + L::bias) << L::mantissa_bits)));
  }
  CHEMPP_HD static bool any_outside(T x, T lo, T hi) { return !(x >= lo && x <= hi); }
  CHEMPP_HD static T split_exponent(T x, T& e) {
    const S b = to_bits(x);
    const S k = static_cast<S>(b - L::sqrt_half_bits) >> L::mantissa_bits;  // arithmetic shift (C++20)
    const T magic = T(3) * T(S(1) << (L::mantissa_bits - 1));                 // 1.5 · 2^m
    e = from_bits(static_cast<S>(to_bits(magic) + k)) - magic;                // k as a T, exactly
    return from_bits(static_cast<S>(b - static_cast<S>(static_cast<typename L::bits_type>(k) << L::mantissa_bits)));
  }
};


/// Σ_{n=0}^{N} s2^n / (2n + 1) by Horner: atanh s = s · atanh_series<N>(s²) + O(s^{2N+3})
/// (the Taylor series; float softplus, float log and double softplus use it).
/// (Coefficients are compile-time constants: the Horner steps unroll by template recursion.)
template <int N, class V, int n = 0>
CHEMPP_HD inline V atanh_series(const V& s2) {
  using T = scalar_of_t<V>;
  constexpr T c = T(1) / T(2 * n + 1);
  if constexpr (n == N) {
    return V(c);
  } else {
    return fma(atanh_series<N, V, n + 1>(s2), s2, V(c));
  }
}

/// e^y in double as 2^k P(r) / P(-r): k = round(y / ln 2) (returned as kd = k + 0x1.8p52, for
/// `value_bits<V>::pow2_from_magic`), r = y - k ln 2 with ln 2 in two parts (k ln2_hi exact),
/// |r| ≤ ln 2 / 2, and P(±r) = e ± ro the [6/6] Padé approximant of e^r (Baker &
/// Graves-Morris, "Padé Approximants", 2nd ed., 1996, §1.2; truncation < 2e-19): e = E(r²),
/// ro = r O(r²). Shared by the double tanh and softplus; |y| ≤ 1416 keeps 2^k representable.
template <class V>
CHEMPP_HD inline V exp_pade66(const V& y, V& e, V& ro) {
  const V magic(6755399441055744.0);  // 0x1.8p52: adding it rounds to an integer
  const V kd = fma(y, V(1.4426950408889634), magic);
  const V k = kd - magic;                             // round(y / ln 2)
  V r = fma(k, V(-6.93147180369123816490e-01), y);    // y - k ln 2, ln 2 in two parts (k ln2_hi exact)
  r = fma(k, V(-1.90821492927058770002e-10), r);
  const V r2 = r * r;
  e = fma(fma(fma(V(1.0 / 665280), r2, V(1.0 / 792)), r2, V(5.0 / 44)), r2, V(1));
  ro = r * fma(fma(V(1.0 / 15840), r2, V(1.0 / 66)), r2, V(0.5));
  return kd;
}

/// F::apply(x), the way the kernels apply a function policy: kernels/simd.hpp overloads it for
/// `multi` values of more than 4 registers, which it evaluates 4 registers at a time.
template <class F, class V>
CHEMPP_HD inline V apply_fn(const V& x) {
  return F::apply(x);
}

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
///  * double values: tanh(x) = (1 - t) / (1 + t), t = e^{-2c}, c = x clamped to [-20, 20] (beyond
///    19.1 tanh rounds to ±1). t = 2^k e^r with k = round(-2c / ln 2) ∈ [-58, 58], |r| ≤ ln 2 / 2,
///    and e^r the [6/6] Padé approximant P(r) / P(-r) (Baker & Graves-Morris, "Padé Approximants",
///    2nd ed., 1996, §1.2; truncation error < 2e-19 on |r| ≤ 0.347); with P(±r) = E(r²) ± r O(r²),
///    tanh c = (E (1 - 2^k) - r O (1 + 2^k)) / (E (1 + 2^k) - r O (1 - 2^k)): one division and
///    10 multiply-adds, no exp call (the SIMD exp had a second division), and for k = 0
///    (|c| < 0.17) the numerator is -2 r O with no cancellation, so small arguments keep their
///    relative accuracy. Negative arguments take the same formula (2^k up to 2^58, the quotient
///    tends to -1; rounding commutes with the power-of-two scaling, so the result is still exactly
///    odd) instead of an |x| and a sign select: two operations fewer, ~7 % less time per register
///    (docs/kernels.md, 2026-12-02). Error against tanh ≤ 3e-16 absolute and
///    ≤ 6e-16 relative (tested);
///  * float values: the rational x P(x²)/Q(x²) of degree 4/4 on x clamped to [-8.17, 8.17], fitted
///    by benchmarks/scripts/fit_tanh_float.py: relative error 2.2e-8 in exact arithmetic, ≤ 4e-7
///    absolute when evaluated in float; 8 FMAs and one division instead of an exp and a division
///    (the float kernels' budget is ~1e-6). Evaluated in float the fit first exceeds 1 at
///    x = 8.2174 with fused multiply-adds and at 8.17498 with separate multiplies and adds (xsimd
///    8.1 on targets without FMA, or a raw AVX-512 batch); below the clamp |y| ≤ 1 holds for every
///    float either way (tested on every float of [4, 8.25] in both forms; below 4 the error bound
///    keeps |y| < 1), so no output clamp is needed; beyond it y ≈ 1 - 2.4e-7 (tanh 8.17 = 1 - 1.6e-7).
struct tanh_fn {
  static constexpr const char* name = "tanh";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    if constexpr (std::is_same_v<scalar_of_t<V>, float>) {
      const V c = max(V(-8.17f), min(V(8.17f), x));  // constant first: a NaN passes through min/max
      const V s = c * c;
      const V p = fma(fma(fma(fma(V(1.3418750322707895e-08f), s, V(2.0660486294729618e-05f)), s, V(0.003498949345396653f)), s,
                          V(0.13383941263889465f)),
                      s, V(1.0f));
      const V q = fma(fma(fma(fma(V(7.8042890413885157e-07f), s, V(0.00032909615141349938f)), s, V(0.025890029546192864f)), s,
                          V(0.46717262767166579f)),
                      s, V(1.0f));
      return c * p / q;
    } else {
      const V c = max(V(-20), min(V(20), x));  // (constant first: a NaN passes through)
      V e, ro;
      const V kd = exp_pade66(V(-2) * c, e, ro);  // e^{-2c} = 2^k (e + ro) / (e - ro), k ∈ [-58, 58]
      const V p2 = value_bits<V>::pow2_from_magic(kd);
      const V u = V(1) - p2, w = V(1) + p2;
      return fma(e, u, -(ro * w)) / fma(e, w, -(ro * u));
    }
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*x*/, const V& y) {
    return V(1) - y * y;
  }
};

/// The logistic sigmoid 1 / (1 + e^{-x}); f'(x) = y (1 - y).
///  * double values (the population engine's map of a uniform prior's logit, the sigmoid
///    activation and softplus's derivative): t = e^{-c} = 2^k P(r) / P(-r) with c = x clamped to
///    [-708, 708] (`exp_pade66`, k ∈ [-1021, 1021]), so 1 / (1 + t) = P(-r) / (P(-r) + 2^k P(r)):
///    one division and no exp call (xsimd's exp has a division of its own). Error ≤ 5e-16
///    relative (tested); below x = -708 it returns e^{-708} ≈ 3.3e-308 instead of e^x (an
///    absolute error below 3.4e-308);
///  * float values: 1 / (1 + exp(-x)) with the value type's exp.
struct sigmoid_fn {
  static constexpr const char* name = "sigmoid";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    if constexpr (std::is_same_v<scalar_of_t<V>, double>) {
      V e, ro;  // t = e^{-c} = 2^k (e + ro) / (e - ro)
      const V kd = exp_pade66(-max(V(-708.0), min(V(708.0), x)), e, ro);  // (constant first: a NaN passes through)
      const V den = e - ro;
      return den / fma(value_bits<V>::pow2_from_magic(kd), e + ro, den);
    } else {
      return V(1) / (V(1) + exp(-x));
    }
  }
  template <class V>
  CHEMPP_HD static V derivative(const V& /*x*/, const V& y) {
    return y * (V(1) - y);
  }
};

/// softplus log(1 + e^x), computed without overflow as max(x, 0) + log1p(e^{-|x|});
/// f'(x) = sigmoid(x).
///  * double values (the MAF scale of the double sampler, log density and training pass): the
///    same reduction as in float with double-precision pieces: a = min(|x|, 708), t = e^{-a} =
///    2^k e^r (k = round(-a / ln 2) ∈ [-1021, 0], ln 2 in two parts, |r| ≤ ln 2 / 2, 2^k from the
///    bits of k + 0x1.8p52), e^r the [6/6] Padé approximant P(r) / P(-r) of `tanh_fn` (truncation
///    < 2e-19), s = t / (2 + t) = 2^k P(r) / (2 P(-r) + 2^k P(r)) (the one division) and
///    log1p t = 2 atanh s by its Taylor series to s^33 (s ≤ 1/3: truncation < 2e-18 relative).
///    No exp or log1p call: xsimd's took 4.2–4.4 ns per value on an Intel Xeon core (AVX-512), this
///    2.0–2.1 ns (bench_flow's ns_scale; docs/kernels.md). Error against softplus ≤ 8e-16 relative
///    (tested; 4.8e-16 measured); for x < -708
///    it returns e^{-708} ≈ 3.3e-308 instead of e^x (an absolute error below 3.4e-308);
///  * float values (the MAF scale of the float samplers, one of the largest costs of a sample at
///    hidden width 8): with a = min(|x|, 86) and t = e^{-a} = 2^k e^r (k = round(-a / ln 2) ∈
///    [-124, 0], |r| ≤ ln 2 / 2, 2^k from the bits of k + 0x1.8p23), log1p t = 2 atanh s with
///    s = t / (2 + t) ∈ (0, 1/3]. e^r is the [3/3] Padé approximant P(r) / P(-r) (Baker &
///    Graves-Morris 1996, §1.2; relative truncation error < 1e-8 on |r| ≤ 0.347), so that
///    s = 2^k P(r) / (2 P(-r) + 2^k P(r)) costs the one division, and atanh s is its Taylor series
///    to s^13 (truncation < 1.5e-8 relative for s ≤ 1/3). No exp or log1p call, no other division;
///    error against softplus ≤ 3e-7 relative (tested; float rounding is 6e-8). For x < -86 it
///    returns e^{-86} ≈ 4.5e-38 instead of e^x (an absolute error below 5e-38; the clamp keeps t
///    and s normal numbers, so flush-to-zero modes give the same result).
struct softplus_fn {
  static constexpr const char* name = "softplus";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    if constexpr (std::is_same_v<scalar_of_t<V>, float>) {
      const V y = -min(V(86.0f), abs(x));  // (constant first: a NaN passes through)
      const V magic(12582912.0f);         // 0x1.8p23: adding it rounds to an integer
      const V kd = fma(y, V(1.44269504088896341f), magic);
      const V k = kd - magic;                       // round(y / ln 2) ∈ [-124, 0]
      V r = fma(k, V(-0.693359375f), y);            // y - k ln 2, ln 2 in two parts (Cody & Waite)
      r = fma(k, V(2.12194440e-4f), r);
      const V r2 = r * r;
      const V e = fma(r2, V(0.1f), V(1.0f));        // P(±r) = E(r²) ± r O(r²)
      const V ro = r * fma(r2, V(1.0f / 120.0f), V(0.5f));
      const V num = value_bits<V>::pow2_from_magic(kd) * (e + ro);  // 2^k P(r)
      const V sv = num / fma(V(2.0f), e - ro, num);                 // t / (2 + t)
      return fma(sv + sv, atanh_series<6>(sv * sv), max(x, V(0.0f)));
    } else {
      V e, ro;  // t = e^{-a} = 2^k (e + ro) / (e - ro), k ∈ [-1021, 0]
      const V kd = exp_pade66(-min(V(708.0), abs(x)), e, ro);  // (constant first: a NaN passes through)
      const V num = value_bits<V>::pow2_from_magic(kd) * (e + ro);  // 2^k P(r) = t P(-r)
      const V sv = num / fma(V(2.0), e - ro, num);                  // t / (2 + t)
      return fma(sv + sv, atanh_series<16>(sv * sv), max(x, V(0.0)));
    }
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
/// ln(2^e (1 + f)) in float for f ∈ [√½ - 1, √2 - 1] and an integer e: e ln 2 (in two parts,
/// Cody & Waite) + 2 atanh s, s = f/(2 + f), |s| ≤ 0.172, atanh by its Taylor series to s^9
/// (truncation < 4e-10). Shared by `log_fn` and the float normal draws (kernels/simd.hpp).
template <class V>
CHEMPP_HD inline V log_reduced(const V& f, const V& e) {
  const V sv = f / (f + V(2.0f));
  return fma(e, V(0.693359375f), fma(e, V(-2.12194440e-4f), (sv + sv) * atanh_series<4>(sv * sv)));
}

/// In float (the MAF log-determinant log scale(s) of every float path) for positive normal
/// arguments: x = 2^e m, m ∈ [√½, √2) from the bits, ln x = e ln 2 + 2 atanh s with
/// s = (m - 1)/(m + 1), |s| ≤ 0.172, atanh by its Taylor series to s^9 (truncation < 4e-10) and
/// m - 1 exact (so arguments near 1 keep their relative accuracy): one division, 6 multiply-adds,
/// no SIMD log. Within 1.5e-7 of the long-double log (absolute where |ln x| < 1, relative
/// beyond; within 3e-7 relative for x in [√½, √2), where m - 1 is exact; tested); a group of
/// values with a zero, negative, subnormal, infinite or NaN lane takes the library log instead.
struct log_fn {
  static constexpr const char* name = "log";
  template <class V>
  CHEMPP_HD static V apply(const V& x) {
    if constexpr (std::is_same_v<scalar_of_t<V>, float>) {
      if (value_bits<V>::any_outside(x, V(ieee_layout<float>::min_normal), V(ieee_layout<float>::max_finite))) return log(x);
      V e;
      const V m = value_bits<V>::split_exponent(x, e);
      return log_reduced(m - V(1.0f), e);  // m - 1 exact (Sterbenz)
    } else {
      return log(x);
    }
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
