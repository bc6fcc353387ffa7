// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Activation functions: policy classes (usable with scalars and `xsimd::batch`) and a runtime
/// tag `activation` naming them.
///
/// Each policy `P` provides `P::name`, `P::apply(x)` (scalar or SIMD batch) and the derivative
/// `P::derivative(x, y)` expressed through the input `x` and output `y = apply(x)` (so the
/// backward pass reuses the forward result, e.g. `1 - y^2` for tanh). Policies may also provide
/// vectorised Eigen array forms `eigen_apply(x)` / `eigen_derivative(x, y)`, which the training
/// layers prefer.

#include <cmath>
#include <string>
#include <string_view>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/core/error.hpp"

namespace chempp::nn {

/// The identity `f(x) = x` (output layers).
struct identity_fn {
  static constexpr std::string_view name = "identity";
  template <class V>
  static V apply(const V& x) noexcept {
    return x;
  }
  template <class V>
  static V derivative(const V& /*x*/, const V& /*y*/) noexcept {
    return V(1);
  }
  /// Vectorised Eigen array forms (used by the training path).
  template <class A>
  static auto eigen_apply(const A& x) {
    return x;
  }
  template <class A, class B>
  static auto eigen_derivative(const A& x, const B& /*y*/) {
    return x.Ones(x.rows(), x.cols());
  }
};

/// The hyperbolic tangent (the paper's hidden activation, Buck et al. 2025 §3).
struct tanh_fn {
  static constexpr std::string_view name = "tanh";
  template <class V>
  static V apply(const V& x) noexcept {
    using std::tanh;
    using xsimd::tanh;
    return tanh(x);
  }
  template <class V>
  static V derivative(const V& /*x*/, const V& y) noexcept {
    return V(1) - y * y;
  }
  /// Vectorised Eigen array forms (used by the training path).
  template <class A>
  static auto eigen_apply(const A& x) {
    return x.tanh();
  }
  template <class A, class B>
  static auto eigen_derivative(const A& /*x*/, const B& y) {
    return 1 - y.square();
  }
};

/// The logistic sigmoid `1 / (1 + exp(-x))`.
struct sigmoid_fn {
  static constexpr std::string_view name = "sigmoid";
  template <class V>
  static V apply(const V& x) noexcept {
    using std::exp;
    using xsimd::exp;
    return V(1) / (V(1) + exp(-x));
  }
  template <class V>
  static V derivative(const V& /*x*/, const V& y) noexcept {
    return y * (V(1) - y);
  }
  /// Vectorised Eigen array forms (used by the training path).
  template <class A>
  static auto eigen_apply(const A& x) {
    return x.logistic();
  }
  template <class A, class B>
  static auto eigen_derivative(const A& /*x*/, const B& y) {
    return y * (1 - y);
  }
};

/// The softplus `log(1 + exp(x))` (a smooth ReLU; computed stably as max(x,0) + log1p(exp(-|x|))).
struct softplus_fn {
  static constexpr std::string_view name = "softplus";
  template <class V>
  static V apply(const V& x) noexcept {
    using std::abs;
    using std::exp;
    using std::log1p;
    using std::max;
    using xsimd::abs;
    using xsimd::exp;
    using xsimd::log1p;
    using xsimd::max;
    return max(x, V(0)) + log1p(exp(-abs(x)));
  }
  template <class V>
  static V derivative(const V& x, const V& /*y*/) noexcept {
    return sigmoid_fn::apply(x);
  }
};

/// Runtime name of an activation (stored in weight files).
enum class activation { identity, tanh, sigmoid, softplus };

/// The name used in JSON weight files ("identity", "tanh", "sigmoid", "softplus").
inline std::string_view to_string(activation a) noexcept {
  switch (a) {
    case activation::identity: return identity_fn::name;
    case activation::tanh: return tanh_fn::name;
    case activation::sigmoid: return sigmoid_fn::name;
    case activation::softplus: return softplus_fn::name;
  }
  return "unknown";
}

/// Parses an activation name (also accepts "linear" and "none" for identity); throws
/// `chempp::invalid_argument` naming the unknown value.
inline activation activation_from_string(std::string_view s) {
  if (s == "identity" || s == "linear" || s == "none") return activation::identity;
  if (s == "tanh") return activation::tanh;
  if (s == "sigmoid") return activation::sigmoid;
  if (s == "softplus") return activation::softplus;
  throw invalid_argument("activation_from_string: unknown activation '" + std::string(s) + "'");
}

/// Calls `f(policy{})` with the policy class of the runtime tag `a`.
template <class F>
decltype(auto) visit_activation(activation a, F&& f) {
  switch (a) {
    case activation::tanh: return f(tanh_fn{});
    case activation::sigmoid: return f(sigmoid_fn{});
    case activation::softplus: return f(softplus_fn{});
    case activation::identity: break;
  }
  return f(identity_fn{});
}

}  // namespace chempp::nn
