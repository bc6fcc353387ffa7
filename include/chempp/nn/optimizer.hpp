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

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>

#include "chempp/core/error.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// An optimiser over a flat parameter vector of scalar `T`.
template <class O, class T>
concept Optimizer = requires(O& o, const O& co, vector<T>& p, const vector<T>& g) {
  o.step(p, g);
  co.evaluation_parameters(p, p);
};

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
  void step(vector<T>& p, const vector<T>& g) {
    ++t_;
    const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2);
    m_ = b1 * m_ + (T(1) - b1) * g;
    v_ = b2 * v_ + (T(1) - b2) * g.cwiseProduct(g);
    const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
    const T lr = static_cast<T>(o_.learning_rate);
    const T eps = static_cast<T>(o_.epsilon);
    const T s1 = static_cast<T>(1.0 / bc1), s2 = static_cast<T>(1.0 / std::sqrt(bc2));
    p.array() -= lr * ((m_.array() * s1) / ((v_.array().sqrt() * s2) + eps) +
                       static_cast<T>(o_.weight_decay) * p.array());
  }
  /// Adam evaluates at its current iterate.
  void evaluation_parameters(const vector<T>& p, vector<T>& out) const { out = p; }
  [[nodiscard]] std::size_t steps() const noexcept { return t_; }

 private:
  adam_options o_;
  vector<T> m_, v_;
  std::size_t t_ = 0;
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
  void step(vector<T>& p, const vector<T>& g) {
    ++t_;
    const double warm = o_.warmup_steps == 0
                            ? 1.0
                            : std::min(1.0, static_cast<double>(t_) / static_cast<double>(o_.warmup_steps));
    const double lr = o_.learning_rate * warm;
    lr_max_ = std::max(lr_max_, lr);
    const double weight = lr_max_ * lr_max_;
    weight_sum_ += weight;
    const T c = static_cast<T>(weight / weight_sum_);
    const T b2 = static_cast<T>(o_.beta2);
    v_ = b2 * v_ + (T(1) - b2) * g.cwiseProduct(g);
    const T inv_bc2 = static_cast<T>(1.0 / (1.0 - std::pow(o_.beta2, static_cast<double>(t_))));
    const T eps = static_cast<T>(o_.epsilon);
    const T wd = static_cast<T>(o_.weight_decay);
    z_.array() -= static_cast<T>(lr) *
                  (g.array() / ((v_.array() * inv_bc2).sqrt() + eps) + wd * p.array());
    x_ = (T(1) - c) * x_ + c * z_;
    const T b1 = static_cast<T>(o_.beta1);
    p = (T(1) - b1) * z_ + b1 * x_;
  }
  /// The averaged iterate `x` (what the paper's code saves after `optimizer.eval()`).
  void evaluation_parameters(const vector<T>& /*p*/, vector<T>& out) const { out = x_; }
  [[nodiscard]] std::size_t steps() const noexcept { return t_; }

 private:
  adam_options o_;
  vector<T> z_, x_, v_;
  double lr_max_ = 0.0, weight_sum_ = 0.0;
  std::size_t t_ = 0;
};

static_assert(Optimizer<adam<double>, double>);
static_assert(Optimizer<schedule_free_adamw<float>, float>);

}  // namespace chempp::nn
