// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Activation functions of the emulator: the policy classes (defined once for every value type in
/// chempp/kernels/functions.hpp, shared with the flows and the CUDA kernels) and a runtime tag
/// `activation` naming them.
///
/// Each policy `P` provides `P::name`, `P::apply(x)` (scalar, SIMD batch, CUDA device value) and the
/// derivative `P::derivative(x, y)` expressed through the input `x` and output `y = apply(x)` (so
/// the backward pass reuses the forward result, e.g. `1 - y^2` for tanh).

#include <cmath>
#include <string>
#include <string_view>

#include "chempp/core/error.hpp"
#include "chempp/kernels/functions.hpp"

namespace chempp::nn {

/// The identity f(x) = x (output layers).
using identity_fn = kernels::identity_fn;
/// The hyperbolic tangent (the paper's hidden activation, Buck et al. 2025 §3), one formula on
/// every code path (kernels::tanh_fn).
using tanh_fn = kernels::tanh_fn;
/// The logistic sigmoid 1 / (1 + exp(-x)).
using sigmoid_fn = kernels::sigmoid_fn;
/// The softplus log(1 + exp(x)) (a smooth ReLU; computed stably as max(x,0) + log1p(exp(-|x|))).
using softplus_fn = kernels::softplus_fn;

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
