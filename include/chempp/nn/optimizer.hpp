// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// First-order optimisers over a flat parameter vector: Adam (Kingma & Ba 2015) and
/// schedule-free AdamW (Defazio et al. 2024, "The Road Less Scheduled"; the paper trains its
/// emulator with `schedulefree.AdamWScheduleFree(lr=1e-3)`, `docs/sbi-pipeline.md` §3).
///
/// Contract (`Optimizer` concept): `step(p, g)` updates the *training* parameters `p` in place
/// from the gradient `g` evaluated at `p`; `evaluation_parameters(p, out)` writes the parameters
/// to evaluate/save (for Adam `p` itself, for schedule-free AdamW the averaged iterate `x`).
/// The same step can be applied piece by piece to parameters that do not live in one vector
/// (the MADE tensors of flow training): `begin_step()`, then `update(at, p, g, n, scale)` for
/// disjoint segments [at, at + n) of the flat layout, each element once; `step(p, g)` is exactly
/// `begin_step()` and one `update` over everything. Elements never updated in a step keep their
/// values and moments, which is what a full step does to an element whose state is all zero and
/// whose gradient is zero (masked weights): for Adam p = m = v = 0, for schedule-free AdamW
/// y = z = x = v = 0 (tested for both). The element-wise arithmetic is written once
/// (`kernels::for_lanes`).

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <string>

#include "chempp/core/error.hpp"
#include "chempp/kernels/simd.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// An optimiser over a flat parameter vector of scalar `T`.
template <class O, class T>
concept Optimizer = requires(O& o, const O& co, vector<T>& p, const vector<T>& g, std::size_t at, std::size_t n, T scale) {
  o.step(p, g);
  o.begin_step();
  o.update(at, p.data(), g.data(), n, scale);
  co.evaluation_parameters(p, p);
};

namespace detail {
/// Throws unless [at, at + n) lies within the optimiser's `size` parameters.
inline void check_segment(const char* fn, std::size_t at, std::size_t n, std::size_t size) {
  if (at > size || n > size - at)
    throw invalid_argument(std::string(fn) + ": segment [" + std::to_string(at) + ", " + std::to_string(at) + " + " +
                           std::to_string(n) + ") is outside the " + std::to_string(size) + " parameters");
}
/// Throws unless the flat vectors have the optimiser's size.
inline void check_sizes(const char* fn, Eigen::Index p, Eigen::Index g, std::size_t size) {
  if (p != static_cast<Eigen::Index>(size) || g != static_cast<Eigen::Index>(size))
    throw invalid_argument(std::string(fn) + ": parameters (" + std::to_string(p) + ") and gradient (" +
                           std::to_string(g) + ") must both have " + std::to_string(size) + " entries");
}
}  // namespace detail

/// Hyper-parameters shared by the Adam-type optimisers.
struct adam_options {
  double learning_rate = 1e-3;  ///< step size (units of the parameters per unit normalised gradient)
  double beta1 = 0.9;           ///< first-moment decay (Adam) / interpolation (schedule-free)
  double beta2 = 0.999;         ///< second-moment decay
  double epsilon = 1e-8;        ///< denominator guard
  double weight_decay = 0.0;    ///< decoupled weight decay (AdamW style)
  std::size_t warmup_steps = 0; ///< linear learning-rate warm-up (schedule-free only)

  /// Throws `invalid_argument` on out-of-range values.
  void validate(const char* fn) const {
    check_positive(fn, "learning_rate", learning_rate);
    check_in_closed(fn, "beta1", beta1, 0.0, 0.999999);
    check_in_closed(fn, "beta2", beta2, 0.0, 0.999999999);
    check_positive(fn, "epsilon", epsilon);
    check_nonnegative(fn, "weight_decay", weight_decay);
  }
};

/// Adam with bias correction and decoupled weight decay (AdamW when weight_decay > 0).
template <class T>
class adam {
 public:
  explicit adam(std::size_t n, adam_options o = {}) : o_(o) {
    o_.validate("adam");
    m_ = vector<T>::Zero(static_cast<Eigen::Index>(n));
    v_ = vector<T>::Zero(static_cast<Eigen::Index>(n));
  }
  /// One step: m, v moment updates, `p -= lr (m_hat / (sqrt(v_hat) + eps) + wd p)`.
  /// \throws invalid_argument if p or g does not have the optimiser's size.
  void step(vector<T>& p, const vector<T>& g) {
    detail::check_sizes("adam::step", p.size(), g.size(), size());
    begin_step();
    update(0, p.data(), g.data(), size());
  }
  /// Starts the next step (its bias corrections); `update` then applies it segment by segment.
  void begin_step() {
    ++t_;
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
    s1_ = static_cast<T>(1.0 / bc1);
    s2_ = static_cast<T>(1.0 / std::sqrt(bc2));
  }
  /// The current step on the parameters [at, at + n) of the flat layout: `p[i]` from the
  /// gradient `g[i] * g_scale` (g_scale: gradient clipping; 1 multiplies exactly).
  /// \throws invalid_argument if the segment is outside the parameters or no step was begun.
  void update(std::size_t at, T* p, const T* g, std::size_t n, T g_scale = T(1)) {
    detail::check_segment("adam::update", at, n, size());
    if (t_ == 0) throw invalid_argument("adam::update: called before begin_step()");
    T* m = m_.data() + at;
    T* v = v_.data() + at;
    const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2), c1 = T(1) - b1, c2 = T(1) - b2;
    const T lr = static_cast<T>(o_.learning_rate), eps = static_cast<T>(o_.epsilon);
    const T wd = static_cast<T>(o_.weight_decay), s1 = s1_, s2 = s2_;
    kernels::for_lanes<T>(n, [&](std::size_t i, auto type) {
      using V = typename decltype(type)::type;
      using kernels::lane_load, kernels::lane_store, std::sqrt;
      const V gi = lane_load<V>(g + i) * V(g_scale);
      const V mi = V(b1) * lane_load<V>(m + i) + V(c1) * gi;
      const V vi = V(b2) * lane_load<V>(v + i) + V(c2) * (gi * gi);
      const V pi = lane_load<V>(p + i);
      lane_store(m + i, mi);
      lane_store(v + i, vi);
      lane_store(p + i, pi - V(lr) * ((mi * V(s1)) / (sqrt(vi) * V(s2) + V(eps)) + V(wd) * pi));
    });
  }
  /// Number of parameters.
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(m_.size()); }
  /// Adam evaluates at its current iterate.
  void evaluation_parameters(const vector<T>& p, vector<T>& out) const { out = p; }
  [[nodiscard]] std::size_t steps() const noexcept { return t_; }

 private:
  adam_options o_;
  vector<T> m_, v_;
  std::size_t t_ = 0;
  T s1_ = T(1), s2_ = T(1);  // bias corrections of the current step
};

/// Schedule-free AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky 2024, Alg. 1 with
/// the Adam preconditioner, as in `schedulefree.AdamWScheduleFree`, r = 0, weight_lr_power = 2).
///
/// Three sequences: the base iterate `z`, the average `x` and the gradient point
/// `y = (1 - beta1) z + beta1 x`. Each step, at gradient `g(y)`:
/// `v = beta2 v + (1 - beta2) g^2`, `d = g / (sqrt(v / (1 - beta2^t)) + eps) + wd y`,
/// `z -= lr_t d`, `c = lr_max^2 / sum_s lr_max^2` (uniform averaging without warm-up),
/// `x = (1 - c) x + c z`. The training parameters are `y`; evaluation uses the average `x`.
template <class T>
class schedule_free_adamw {
 public:
  /// `p0`: the initial parameters (z = x = y = p0).
  explicit schedule_free_adamw(const vector<T>& p0, adam_options o = {}) : o_(o) {
    o_.validate("schedule_free_adamw");
    z_ = p0;
    x_ = p0;
    v_ = vector<T>::Zero(p0.size());
  }
  /// One step from the gradient at `p` (= y); writes the new y into `p`.
  /// \throws invalid_argument if p or g does not have the optimiser's size.
  void step(vector<T>& p, const vector<T>& g) {
    detail::check_sizes("schedule_free_adamw::step", p.size(), g.size(), size());
    begin_step();
    update(0, p.data(), g.data(), size());
  }
  /// Starts the next step (learning rate, averaging weight, bias correction); `update` applies it.
  void begin_step() {
    ++t_;
    const double warm = o_.warmup_steps == 0
                            ? 1.0
                            : std::min(1.0, static_cast<double>(t_) / static_cast<double>(o_.warmup_steps));
    const double lr = o_.learning_rate * warm;
    lr_max_ = std::max(lr_max_, lr);
    const double weight = lr_max_ * lr_max_;
    weight_sum_ += weight;
    c_ = static_cast<T>(weight / weight_sum_);
    lr_ = static_cast<T>(lr);
    inv_bc2_ = static_cast<T>(1.0 / (1.0 - std::pow(o_.beta2, static_cast<double>(t_))));
  }
  /// The current step on the parameters [at, at + n) of the flat layout (y = `p`), from the
  /// gradient `g[i] * g_scale`.
  /// \throws invalid_argument if the segment is outside the parameters or no step was begun.
  void update(std::size_t at, T* p, const T* g, std::size_t n, T g_scale = T(1)) {
    detail::check_segment("schedule_free_adamw::update", at, n, size());
    if (t_ == 0) throw invalid_argument("schedule_free_adamw::update: called before begin_step()");
    T* z = z_.data() + at;
    T* x = x_.data() + at;
    T* v = v_.data() + at;
    const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2), c2 = T(1) - b2, c1 = T(1) - b1;
    const T eps = static_cast<T>(o_.epsilon), wd = static_cast<T>(o_.weight_decay);
    const T lr = lr_, c = c_, cc = T(1) - c_, inv_bc2 = inv_bc2_;
    kernels::for_lanes<T>(n, [&](std::size_t i, auto type) {
      using V = typename decltype(type)::type;
      using kernels::lane_load, kernels::lane_store, std::sqrt;
      const V gi = lane_load<V>(g + i) * V(g_scale);
      const V vi = V(b2) * lane_load<V>(v + i) + V(c2) * (gi * gi);
      const V zi = lane_load<V>(z + i) - V(lr) * (gi / (sqrt(vi * V(inv_bc2)) + V(eps)) + V(wd) * lane_load<V>(p + i));
      const V xi = V(cc) * lane_load<V>(x + i) + V(c) * zi;
      lane_store(v + i, vi);
      lane_store(z + i, zi);
      lane_store(x + i, xi);
      lane_store(p + i, V(c1) * zi + V(b1) * xi);
    });
  }
  /// Number of parameters.
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(v_.size()); }
  /// The averaged iterate `x` (what the paper's code saves after `optimizer.eval()`).
  void evaluation_parameters(const vector<T>& /*p*/, vector<T>& out) const { out = x_; }
  [[nodiscard]] std::size_t steps() const noexcept { return t_; }

 private:
  adam_options o_;
  vector<T> z_, x_, v_;
  double lr_max_ = 0.0, weight_sum_ = 0.0;
  std::size_t t_ = 0;
  T c_ = T(1), lr_ = T(0), inv_bc2_ = T(1);  // averaging weight, step size, bias correction of the step
};

static_assert(Optimizer<adam<double>, double>);
static_assert(Optimizer<schedule_free_adamw<float>, float>);

}  // namespace chempp::nn
