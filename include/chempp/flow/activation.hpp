// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Activation policies for the MADE networks of the conditional MAF (`Activation` concept).
///
/// An activation policy is a stateless type with
///  * `static double value(double a)`: the activation y = f(a) of a pre-activation a;
///  * `static double derivative(double a, double y)`: f'(a), given both a and y = f(a) (tanh uses
///    y, ReLU uses a), which is what the hand-written backward pass needs;
///  * `static void value_n(const double* a, double* y, std::size_t n)`: the vectorised map
///    (must agree with `value` to rounding; used by the batched passes);
///  * `static constexpr const char* name`: the name stored in weight files.
/// The paper's estimator (sbi 0.23.1 MAF, docs/sbi-pipeline.md §4) uses tanh.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <string_view>

#include "chempp/flow/detail/simd_math.hpp"

namespace chempp::flow {

/// The requirements on an activation policy (see the file comment).
template <class A>
concept Activation = requires(double a, const double* in, double* out, std::size_t n) {
  { A::value(a) } -> std::convertible_to<double>;
  A::value_n(in, out, n);
  { A::derivative(a, a) } -> std::convertible_to<double>;
  { A::name } -> std::convertible_to<std::string_view>;
};

/// Hyperbolic tangent, f'(a) = 1 - tanh(a)^2 (sbi / nflows default for MAF). Evaluated as
/// sign(a)(1 - e^{-2|a|})/(1 + e^{-2|a|}) in both the scalar and the SIMD paths (absolute
/// error ~1e-16), so every code path gives the same numbers.
struct tanh_activation {
  static constexpr const char* name = "tanh";
  /// tanh(a).
  [[nodiscard]] static double value(double a) noexcept { return internal::fast_tanh(a); }
  /// y[i] = tanh(a[i]) (xsimd).
  static void value_n(const double* a, double* y, std::size_t n) noexcept { internal::tanh_n(a, y, n); }
  /// 1 - y^2 with y = tanh(a).
  [[nodiscard]] static double derivative(double /*a*/, double y) noexcept { return 1.0 - y * y; }
};

/// Rectified linear unit, f(a) = max(a, 0); f'(0) is taken as 0.
struct relu_activation {
  static constexpr const char* name = "relu";
  /// max(a, 0).
  [[nodiscard]] static double value(double a) noexcept { return a > 0.0 ? a : 0.0; }
  /// y[i] = max(a[i], 0).
  static void value_n(const double* a, double* y, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) y[i] = a[i] > 0.0 ? a[i] : 0.0;
  }
  /// 1 for a > 0, else 0.
  [[nodiscard]] static double derivative(double a, double /*y*/) noexcept {
    return a > 0.0 ? 1.0 : 0.0;
  }
};

static_assert(Activation<tanh_activation>);
static_assert(Activation<relu_activation>);

}  // namespace chempp::flow
