// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Activation policies for the MADE networks of the conditional MAF (`Activation` concept). The
/// policies themselves are defined once, for every value type, in `chempp/kernels/functions.hpp`
/// (shared with the emulator and the CUDA kernels); this header names the ones a MADE accepts.
///
/// An activation policy is a stateless type with
///  * `static V apply(V a)`: the activation y = f(a) of a pre-activation a (V = double, float,
///    an xsimd batch, ...);
///  * `static V derivative(V a, V y)`: f'(a), given both a and y = f(a) (tanh uses y, ReLU uses
///    a), which is what the hand-written backward pass needs;
///  * `static constexpr const char* name`: the name stored in weight files.
/// The paper's estimator (sbi 0.23.1 MAF, docs/sbi-pipeline.md §4) uses tanh.

#include <concepts>
#include <string_view>

#include "chempp/kernels/functions.hpp"

namespace chempp::flow {

/// The requirements on an activation policy (see the file comment).
template <class A>
concept Activation = requires(double a) {
  { A::apply(a) } -> std::convertible_to<double>;
  { A::derivative(a, a) } -> std::convertible_to<double>;
  { A::name } -> std::convertible_to<std::string_view>;
};

/// Hyperbolic tangent (sbi / nflows default for MAF), `kernels::tanh_fn`: in double
/// (1 - e^{-2c})/(1 + e^{-2c}), c = a clamped to [-20, 20], from a [6/6] Padé exponential,
/// ≤ 3e-16 absolute; in float c P(c²)/Q(c²), degree 4/4 in c², c = a clamped to [-8.17, 8.17],
/// ≤ 4e-7 absolute (the accuracy budget in docs/kernels.md).
using tanh_activation = kernels::tanh_fn;
/// Rectified linear unit max(a, 0), `kernels::relu_fn`; f'(0) is taken as 0.
using relu_activation = kernels::relu_fn;

static_assert(Activation<tanh_activation>);
static_assert(Activation<relu_activation>);

}  // namespace chempp::flow
