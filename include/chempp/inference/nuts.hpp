// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The No-U-Turn Sampler (NUTS; Hoffman & Gelman 2014, JMLR 15:1593) in the form Stan uses:
/// multinomial sampling of the trajectory and the generalised no-U-turn criterion, checked
/// across merged subtrees (Betancourt 2017, arXiv:1701.02434, §4.2 and App. A.4; Stan's
/// `base_nuts`), a diagonal Euclidean metric, and Stan's warm-up: dual-averaging step-size
/// adaptation (Hoffman & Gelman 2014 §3.2, Alg. 5) and windowed estimation of the inverse mass
/// diagonal (Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning").
/// Also the diagnostics used to judge a run: Geyer's initial-monotone-sequence effective
/// sample size (Geyer 1992, Stat. Sci. 7:473; Stan's `compute_effective_sample_size`), split
/// R̂ (Gelman et al. 2013, BDA3 §11.4) and the energy Bayesian fraction of missing
/// information (E-BFMI; Betancourt 2016, arXiv:1604.00695).
///
/// The sampler is the reference for the population engine (the whole-galaxy posterior of
/// `chempp/inference/hierarchical_model.hpp`, Buck et al. 2025 §2.4). It never prints; a
/// progress callback reports the iteration. Runs are deterministic for a seed (with a given
/// standard library: the `std::` distributions are implementation-defined).

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::inference {

/// A log density with its gradient: `f(q, grad)` returns log p(q) (up to a constant) and writes
/// ∇ log p(q) into `grad` (resized to q's size by the caller). −inf (or any non-finite value,
/// or a non-finite gradient) marks a point outside the support: NUTS treats it as a divergence
/// and rejects it.
template <class F>
concept DifferentiableLogDensity = requires(const F& f, const Eigen::VectorXd& q,
                                            Eigen::VectorXd& grad) {
  { f(q, grad) } -> std::convertible_to<double>;
};

/// Options of `run_nuts`. Defaults are Stan's (`stan::services::sample::hmc_nuts_diag_e_adapt`).
struct nuts_options {
  std::size_t warmup = 1000;         ///< warm-up (adaptation) iterations, discarded
  std::size_t draws = 1000;          ///< draws kept after warm-up
  std::size_t thin = 1;              ///< keep every `thin`-th post-warm-up iteration (≥ 1)
  std::uint64_t seed = 0;            ///< seed of the `std::mt19937_64` driving the run
  double target_accept = 0.8;        ///< dual-averaging target of the mean accept statistic δ
  std::size_t max_depth = 10;        ///< maximum tree depth (at most 2^max_depth leapfrog steps)
  double initial_step_size = 1.0;    ///< first step size (refined by Stan's heuristic if adapting)
  double max_energy_error = 1000.0;  ///< divergence threshold on H − H0
  bool adapt_step_size = true;       ///< dual-averaging step-size adaptation during warm-up
  bool adapt_mass = true;            ///< windowed inverse-mass-diagonal adaptation during warm-up
  Eigen::VectorXd initial_inv_mass;  ///< initial inverse mass diagonal (empty: ones)
  std::size_t init_buffer = 75;      ///< Stan's initial fast (step-size only) window
  std::size_t term_buffer = 50;      ///< Stan's final fast window
  std::size_t base_window = 25;      ///< first slow (metric) window; later ones double
  double da_gamma = 0.05;            ///< dual-averaging γ (Hoffman & Gelman 2014 §3.2)
  double da_kappa = 0.75;            ///< dual-averaging κ (iterate-averaging exponent)
  double da_t0 = 10.0;               ///< dual-averaging t0 (stabilises early iterations)
  /// Called after every iteration (0-based, warm-up included) when set; nothing is printed.
  std::function<void(std::size_t iteration)> progress;
};

/// Result of `run_nuts`: the kept draws and the sampler's diagnostics.
struct nuts_result {
  Eigen::MatrixXd draws;                 ///< kept draws, draws × dim
  Eigen::VectorXd log_density;           ///< log p at each kept draw
  Eigen::VectorXd accept_stat;           ///< mean Metropolis acceptance along each kept trajectory
  Eigen::VectorXd energy;                ///< Hamiltonian H at each kept draw (for E-BFMI)
  std::vector<int> tree_depth;           ///< tree depth of each kept transition
  std::vector<bool> divergent;           ///< whether each kept transition diverged
  double step_size = 0.0;                ///< adapted (or given) step size used after warm-up
  Eigen::VectorXd inv_mass;              ///< adapted (or given) inverse mass diagonal
  std::size_t divergences = 0;           ///< divergent transitions after warm-up
  std::size_t warmup_divergences = 0;    ///< divergent transitions during warm-up
  std::size_t max_depth_hits = 0;        ///< post-warm-up transitions that hit max_depth
  double mean_tree_depth = 0.0;          ///< mean tree depth after warm-up
  double mean_accept_stat = 0.0;         ///< mean accept statistic after warm-up
  std::size_t gradient_evaluations = 0;  ///< calls of the log density, warm-up included
  std::size_t sampling_gradient_evaluations = 0;  ///< of which after warm-up
};

namespace detail {

/// log(exp(a) + exp(b)), exact for −inf arguments.
inline double nuts_log_sum_exp(double a, double b) noexcept {
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}

/// A point in phase space with its log density and gradient.
struct nuts_point {
  Eigen::VectorXd q, p, grad;
  double logp = 0.0;
};

/// Dual-averaging step-size adaptation (Hoffman & Gelman 2014 §3.2 eq. 6 and Alg. 5; Stan's
/// `stepsize_adaptation`).
class dual_averaging {
 public:
  dual_averaging(double delta, double gamma, double kappa, double t0)
      : delta_(delta), gamma_(gamma), kappa_(kappa), t0_(t0) {}
  /// Restarts the averages around μ = log(10 ε) (Hoffman & Gelman 2014 §3.2).
  void restart(double epsilon) {
    mu_ = std::log(10.0 * epsilon);
    counter_ = 0.0;
    s_bar_ = 0.0;
    x_bar_ = 0.0;
  }
  /// One update with the transition's accept statistic; returns the next step size.
  double learn(double accept_stat) {
    counter_ += 1.0;
    accept_stat = std::min(accept_stat, 1.0);
    const double eta = 1.0 / (counter_ + t0_);
    s_bar_ = (1.0 - eta) * s_bar_ + eta * (delta_ - accept_stat);
    const double x = mu_ - s_bar_ * std::sqrt(counter_) / gamma_;
    const double x_eta = std::pow(counter_, -kappa_);
    x_bar_ = (1.0 - x_eta) * x_bar_ + x_eta * x;
    return std::exp(x);
  }
  /// The averaged step size exp(x̄) used after warm-up.
  [[nodiscard]] double final_step_size() const { return std::exp(x_bar_); }

 private:
  double delta_, gamma_, kappa_, t0_;
  double mu_ = 0.0, counter_ = 0.0, s_bar_ = 0.0, x_bar_ = 0.0;
};

/// Stan's windowed metric adaptation schedule (`windowed_adaptation`, `var_adaptation`): a fast
/// initial buffer, slow windows doubling in length in which a Welford variance of the draws is
/// accumulated, and a fast terminal buffer. At the end of each slow window the inverse mass
/// diagonal becomes the regularised variance (n/(n+5)) s² + 10⁻³ · 5/(n+5).
class windowed_variance {
 public:
  windowed_variance(std::size_t num_warmup, std::size_t init_buffer, std::size_t term_buffer,
                    std::size_t base_window, Eigen::Index dim) {
    active_ = num_warmup >= 20;  // Stan: no metric estimation for fewer than 20 iterations
    num_warmup_ = num_warmup;
    if (init_buffer + base_window + term_buffer > num_warmup) {
      init_buffer = static_cast<std::size_t>(0.15 * static_cast<double>(num_warmup));
      term_buffer = static_cast<std::size_t>(0.1 * static_cast<double>(num_warmup));
      base_window = num_warmup - (init_buffer + term_buffer);
    }
    init_buffer_ = init_buffer;
    term_buffer_ = term_buffer;
    window_size_ = base_window;
    next_window_ = init_buffer_ + window_size_ - 1;
    mean_ = Eigen::VectorXd::Zero(dim);
    m2_ = Eigen::VectorXd::Zero(dim);
  }

  /// Adds the draw `q` of warm-up iteration `counter_`; returns true and writes `inv_mass`
  /// when a slow window ends.
  bool learn(const Eigen::VectorXd& q, Eigen::VectorXd& inv_mass) {
    if (!active_) return false;
    if (in_window()) add(q);
    if (counter_ == next_window_ && counter_ != num_warmup_) {
      compute_next_window();
      const double n = static_cast<double>(n_);
      if (n_ > 1) {
        const Eigen::VectorXd var = m2_ / (n - 1.0);
        inv_mass = (n / (n + 5.0)) * var.array() + 1e-3 * (5.0 / (n + 5.0));
      }
      n_ = 0;
      mean_.setZero();
      m2_.setZero();
      ++counter_;
      return n > 1.0;
    }
    ++counter_;
    return false;
  }

 private:
  [[nodiscard]] bool in_window() const {
    return counter_ >= init_buffer_ && counter_ + term_buffer_ < num_warmup_ &&
           counter_ != num_warmup_;
  }
  void compute_next_window() {
    const std::size_t last = num_warmup_ - term_buffer_ - 1;
    if (next_window_ == last) return;
    window_size_ *= 2;
    next_window_ = counter_ + window_size_;
    if (next_window_ != last && next_window_ + 2 * window_size_ >= num_warmup_ - term_buffer_) {
      next_window_ = last;
    }
  }
  void add(const Eigen::VectorXd& q) {
    ++n_;
    const Eigen::VectorXd d = q - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d.cwiseProduct(q - mean_);
  }

  bool active_ = false;
  std::size_t num_warmup_ = 0, init_buffer_ = 0, term_buffer_ = 0;
  std::size_t window_size_ = 0, next_window_ = 0, counter_ = 0, n_ = 0;
  Eigen::VectorXd mean_, m2_;
};

/// One NUTS chain with a diagonal Euclidean metric (Stan's `base_nuts` + `diag_e_metric` +
/// `expl_leapfrog`).
template <class F>
class nuts_chain {
 public:
  nuts_chain(const F& f, Eigen::VectorXd inv_mass, double epsilon, const nuts_options& o,
             std::mt19937_64& rng)
      : f_(f), minv_(std::move(inv_mass)), eps_(epsilon), o_(o), rng_(rng) {}

  /// Evaluates log p and its gradient at z.q; a non-finite value or gradient becomes −inf.
  void evaluate(nuts_point& z) {
    z.grad.resize(z.q.size());
    z.logp = static_cast<double>(f_(z.q, z.grad));
    ++n_grad_;
    if (z.grad.size() != z.q.size()) {
      chempp::detail::throw_argument(
          "run_nuts", "logp",
          "wrote a gradient of the wrong size (expected " + std::to_string(z.q.size()) + ")",
          static_cast<double>(z.grad.size()));
    }
    if (!std::isfinite(z.logp) || !z.grad.allFinite()) z.logp = -INFINITY;
  }

  /// H(q, p) = −log p(q) + ½ pᵀ M⁻¹ p; +inf outside the support.
  [[nodiscard]] double hamiltonian(const nuts_point& z) const {
    if (z.logp == -INFINITY) return INFINITY;
    const double h = -z.logp + 0.5 * (z.p.array().square() * minv_.array()).sum();
    return std::isnan(h) ? INFINITY : h;
  }

  /// p ~ N(0, M) with M = diag(1 / inv_mass) (Stan's `diag_e_metric::sample_p`).
  void sample_momentum(nuts_point& z) {
    z.p.resize(z.q.size());
    for (Eigen::Index i = 0; i < z.p.size(); ++i) z.p(i) = normal_(rng_) / std::sqrt(minv_(i));
  }

  /// One leapfrog step of signed size `eps` (Neal 2011, Handbook of MCMC ch. 5 eq. 5.18).
  void leapfrog(nuts_point& z, double eps) {
    z.p += (0.5 * eps) * z.grad;
    z.q += eps * minv_.cwiseProduct(z.p);
    evaluate(z);
    if (z.logp != -INFINITY) z.p += (0.5 * eps) * z.grad;
  }

  /// Stan's `base_hmc::init_stepsize`: doubles or halves ε until the acceptance probability of
  /// one leapfrog step crosses 0.8 (Hoffman & Gelman 2014 Alg. 4, "FindReasonableEpsilon").
  /// \throws chempp::error if ε leaves (0, 1e7) (an improper or discontinuous density).
  void init_step_size(const nuts_point& z0) {
    if (eps_ == 0.0 || eps_ > 1e7 || std::isnan(eps_)) return;
    const double log08 = std::log(0.8);
    auto delta_h = [&] {
      nuts_point z = z0;
      sample_momentum(z);
      const double h0 = hamiltonian(z);
      leapfrog(z, eps_);
      return h0 - hamiltonian(z);
    };
    const int direction = delta_h() > log08 ? 1 : -1;
    while (true) {
      const double dh = delta_h();
      if (direction == 1 && !(dh > log08)) break;
      if (direction == -1 && !(dh < log08)) break;
      eps_ = direction == 1 ? 2.0 * eps_ : 0.5 * eps_;
      if (eps_ > 1e7)
        throw convergence_error("run_nuts: the step-size search passed 1e7 (is the density improper?)");
      if (eps_ == 0.0)
        throw convergence_error(
            "run_nuts: no acceptably small step size was found (is the density "
            "discontinuous?)");
    }
  }

  /// Result of one transition.
  struct transition_info {
    double accept_stat = 0.0;
    int depth = 0;
    bool divergent = false;
    double energy = 0.0;
  };

  /// One NUTS transition from `z` (overwritten with the new state): Stan's
  /// `base_nuts::transition` (Betancourt 2017 App. A.4: multinomial sampling, biased
  /// progressive sampling between the old trajectory and a new subtree, generalised
  /// no-U-turn criterion on the merged trajectory and across the two subtrees).
  transition_info transition(nuts_point& z) {
    sample_momentum(z);
    divergent_ = false;
    const double h0 = hamiltonian(z);
    nuts_point z_fwd = z, z_bck = z, z_sample = z, z_propose = z;

    Eigen::VectorXd p_fwd_fwd = z.p, p_sharp_fwd_fwd = minv_.cwiseProduct(z.p);
    Eigen::VectorXd p_fwd_bck = z.p, p_sharp_fwd_bck = p_sharp_fwd_fwd;
    Eigen::VectorXd p_bck_fwd = z.p, p_sharp_bck_fwd = p_sharp_fwd_fwd;
    Eigen::VectorXd p_bck_bck = z.p, p_sharp_bck_bck = p_sharp_fwd_fwd;
    Eigen::VectorXd rho = z.p;
    double log_sum_weight = 0.0;
    std::size_t n_leapfrog = 0;
    double sum_metro_prob = 0.0;
    int depth = 0;
    const Eigen::Index d = z.q.size();

    while (static_cast<std::size_t>(depth) < o_.max_depth) {
      Eigen::VectorXd rho_fwd = Eigen::VectorXd::Zero(d), rho_bck = Eigen::VectorXd::Zero(d);
      bool valid = false;
      double log_sum_weight_subtree = -INFINITY;
      if (uniform_(rng_) > 0.5) {
        current_ = z_fwd;
        rho_bck = rho;  // the old trajectory becomes the backward subtree
        p_bck_fwd = p_fwd_fwd;
        p_sharp_bck_fwd = p_sharp_fwd_fwd;
        valid = build_tree(depth, z_propose, p_sharp_fwd_bck, p_sharp_fwd_fwd, rho_fwd, p_fwd_bck,
                           p_fwd_fwd, h0, 1.0, n_leapfrog, log_sum_weight_subtree, sum_metro_prob);
        z_fwd = current_;
      } else {
        current_ = z_bck;
        rho_fwd = rho;  // the old trajectory becomes the forward subtree
        p_fwd_bck = p_bck_bck;
        p_sharp_fwd_bck = p_sharp_bck_bck;
        valid = build_tree(depth, z_propose, p_sharp_bck_fwd, p_sharp_bck_bck, rho_bck, p_bck_fwd,
                           p_bck_bck, h0, -1.0, n_leapfrog, log_sum_weight_subtree, sum_metro_prob);
        z_bck = current_;
      }
      if (!valid) break;
      ++depth;
      if (log_sum_weight_subtree > log_sum_weight) {
        z_sample = z_propose;
      } else if (uniform_(rng_) < std::exp(log_sum_weight_subtree - log_sum_weight)) {
        z_sample = z_propose;
      }
      log_sum_weight = nuts_log_sum_exp(log_sum_weight, log_sum_weight_subtree);
      rho = rho_bck + rho_fwd;
      bool persist = criterion(p_sharp_bck_bck, p_sharp_fwd_fwd, rho);
      Eigen::VectorXd rho_extended = rho_bck + p_fwd_bck;
      persist = persist && criterion(p_sharp_bck_bck, p_sharp_fwd_bck, rho_extended);
      rho_extended = rho_fwd + p_bck_fwd;
      persist = persist && criterion(p_sharp_bck_fwd, p_sharp_fwd_fwd, rho_extended);
      if (!persist) break;
    }
    transition_info info;
    info.accept_stat = n_leapfrog > 0 ? sum_metro_prob / static_cast<double>(n_leapfrog) : 0.0;
    info.depth = depth;
    info.divergent = divergent_;
    z = std::move(z_sample);
    info.energy = hamiltonian(z);
    return info;
  }

  [[nodiscard]] double step_size() const noexcept { return eps_; }
  void set_step_size(double eps) noexcept { eps_ = eps; }
  [[nodiscard]] Eigen::VectorXd& inv_mass() noexcept { return minv_; }
  [[nodiscard]] std::size_t gradient_evaluations() const noexcept { return n_grad_; }

 private:
  /// Generalised no-U-turn criterion (Betancourt 2017 §4.2): p♯₋·ρ > 0 and p♯₊·ρ > 0.
  static bool criterion(const Eigen::VectorXd& p_sharp_minus, const Eigen::VectorXd& p_sharp_plus,
                        const Eigen::VectorXd& rho) {
    return p_sharp_plus.dot(rho) > 0.0 && p_sharp_minus.dot(rho) > 0.0;
  }

  /// Stan's `base_nuts::build_tree`: a subtree of 2^depth leapfrog steps from `current_` in
  /// direction `sign`, with multinomial (uniform progressive) sampling of `z_propose` inside it.
  bool build_tree(int depth, nuts_point& z_propose, Eigen::VectorXd& p_sharp_beg,
                  Eigen::VectorXd& p_sharp_end, Eigen::VectorXd& rho, Eigen::VectorXd& p_beg,
                  Eigen::VectorXd& p_end, double h0, double sign, std::size_t& n_leapfrog,
                  double& log_sum_weight, double& sum_metro_prob) {
    if (depth == 0) {
      leapfrog(current_, sign * eps_);
      ++n_leapfrog;
      const double h = hamiltonian(current_);
      if (h - h0 > o_.max_energy_error) divergent_ = true;
      log_sum_weight = nuts_log_sum_exp(log_sum_weight, h0 - h);
      sum_metro_prob += h0 - h > 0.0 ? 1.0 : std::exp(h0 - h);
      z_propose = current_;
      p_sharp_beg = minv_.cwiseProduct(current_.p);
      p_sharp_end = p_sharp_beg;
      rho += current_.p;
      p_beg = current_.p;
      p_end = p_beg;
      return !divergent_;
    }
    const Eigen::Index d = rho.size();
    double log_sum_weight_init = -INFINITY;
    Eigen::VectorXd p_init_end(d), p_sharp_init_end(d);
    Eigen::VectorXd rho_init = Eigen::VectorXd::Zero(d);
    if (!build_tree(depth - 1, z_propose, p_sharp_beg, p_sharp_init_end, rho_init, p_beg,
                    p_init_end, h0, sign, n_leapfrog, log_sum_weight_init, sum_metro_prob)) {
      return false;
    }
    nuts_point z_propose_final = current_;
    double log_sum_weight_final = -INFINITY;
    Eigen::VectorXd p_final_beg(d), p_sharp_final_beg(d);
    Eigen::VectorXd rho_final = Eigen::VectorXd::Zero(d);
    if (!build_tree(depth - 1, z_propose_final, p_sharp_final_beg, p_sharp_end, rho_final,
                    p_final_beg, p_end, h0, sign, n_leapfrog, log_sum_weight_final,
                    sum_metro_prob)) {
      return false;
    }
    const double log_sum_weight_subtree =
        nuts_log_sum_exp(log_sum_weight_init, log_sum_weight_final);
    log_sum_weight = nuts_log_sum_exp(log_sum_weight, log_sum_weight_subtree);
    if (log_sum_weight_final > log_sum_weight_subtree) {
      z_propose = z_propose_final;
    } else if (uniform_(rng_) < std::exp(log_sum_weight_final - log_sum_weight_subtree)) {
      z_propose = z_propose_final;
    }
    const Eigen::VectorXd rho_subtree = rho_init + rho_final;
    rho += rho_subtree;
    bool persist = criterion(p_sharp_beg, p_sharp_end, rho_subtree);
    Eigen::VectorXd rho_extended = rho_init + p_final_beg;
    persist = persist && criterion(p_sharp_beg, p_sharp_final_beg, rho_extended);
    rho_extended = rho_final + p_init_end;
    persist = persist && criterion(p_sharp_init_end, p_sharp_end, rho_extended);
    return persist;
  }

  const F& f_;
  Eigen::VectorXd minv_;
  double eps_;
  const nuts_options& o_;
  std::mt19937_64& rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  nuts_point current_;
  bool divergent_ = false;
  std::size_t n_grad_ = 0;
};

/// Validates `run_nuts`'s options (each message names the option).
inline void check_nuts_options(const nuts_options& o, Eigen::Index dim) {
  const char* fn = "run_nuts";
  if (o.thin == 0) chempp::detail::throw_argument(fn, "options.thin", "must be at least 1", 0.0);
  if (o.max_depth == 0 || o.max_depth > 30) {
    chempp::detail::throw_argument(fn, "options.max_depth", "must lie in [1, 30]",
                                   static_cast<double>(o.max_depth));
  }
  if (!(o.target_accept > 0.0 && o.target_accept < 1.0)) {
    chempp::detail::throw_argument(fn, "options.target_accept", "must lie in (0, 1)",
                                   o.target_accept);
  }
  check_positive(fn, "options.initial_step_size", o.initial_step_size);
  check_positive(fn, "options.max_energy_error", o.max_energy_error);
  check_positive(fn, "options.da_gamma", o.da_gamma);
  check_positive(fn, "options.da_kappa", o.da_kappa);
  check_nonnegative(fn, "options.da_t0", o.da_t0);
  if (o.base_window == 0)
    chempp::detail::throw_argument(fn, "options.base_window", "must be at least 1", 0.0);
  if (o.initial_inv_mass.size() != 0) {
    if (o.initial_inv_mass.size() != dim) {
      chempp::detail::throw_argument(
          fn, "options.initial_inv_mass",
          "must be empty or have the size of initial (" + std::to_string(dim) + ")",
          static_cast<double>(o.initial_inv_mass.size()));
    }
    for (Eigen::Index i = 0; i < dim; ++i) {
      check_positive(fn, "options.initial_inv_mass[" + std::to_string(i) + "]",
                     o.initial_inv_mass(i));
    }
  }
}

}  // namespace detail

/// Runs one NUTS chain on `logp` from `initial` (Hoffman & Gelman 2014 Alg. 6 with Stan's
/// multinomial variant, Betancourt 2017 App. A.4): `options.warmup` adaptation iterations
/// (dual-averaging ε towards `target_accept`, Stan's windowed inverse-mass-diagonal estimate;
/// after each metric update ε is re-initialised by Stan's heuristic and the dual averaging
/// restarted; fewer than 20 warm-up iterations adapt ε only; zero warm-up iterations adapt
/// nothing) followed by `draws × thin` sampling iterations of which every `thin`-th is kept.
/// A transition whose energy error H − H0 exceeds `max_energy_error` is divergent: its subtree
/// is rejected and the trajectory stops.
/// \throws invalid_argument if `initial` is empty or not finite, log p or its gradient is not
///         finite at `initial`, an option is out of range (naming it), or `logp` writes a
///         gradient of the wrong size; chempp::error if the step-size search fails. Exceptions
///         thrown by `logp` propagate.
template <DifferentiableLogDensity F>
[[nodiscard]] nuts_result run_nuts(const F& logp, Eigen::VectorXd initial,
                                   const nuts_options& options = {}) {
  const char* fn = "run_nuts";
  const Eigen::Index dim = initial.size();
  if (dim == 0) chempp::detail::throw_argument(fn, "initial", "must not be empty", 0.0);
  for (Eigen::Index i = 0; i < dim; ++i)
    check_finite(fn, "initial[" + std::to_string(i) + "]", initial(i));
  detail::check_nuts_options(options, dim);

  std::mt19937_64 rng(options.seed);
  Eigen::VectorXd inv_mass = options.initial_inv_mass.size() == dim
                                 ? options.initial_inv_mass
                                 : Eigen::VectorXd(Eigen::VectorXd::Ones(dim));
  detail::nuts_chain<F> chain(logp, inv_mass, options.initial_step_size, options, rng);
  detail::nuts_point z;
  z.q = std::move(initial);
  chain.evaluate(z);
  if (z.logp == -INFINITY) {
    throw invalid_argument(std::string(fn) +
                           ": initial: the log density or its gradient is not finite there");
  }

  const bool adapt = options.warmup > 0;
  const bool adapt_eps = adapt && options.adapt_step_size;
  detail::dual_averaging da(options.target_accept, options.da_gamma, options.da_kappa,
                            options.da_t0);
  detail::windowed_variance wv(options.warmup, options.init_buffer, options.term_buffer,
                               options.base_window, dim);
  if (adapt_eps) {
    chain.init_step_size(z);
    da.restart(chain.step_size());
  }

  nuts_result r;
  const std::size_t n_keep = options.draws;
  const std::size_t n_iter = options.warmup + n_keep * options.thin;
  r.draws.resize(static_cast<Eigen::Index>(n_keep), dim);
  r.log_density.resize(static_cast<Eigen::Index>(n_keep));
  r.accept_stat.resize(static_cast<Eigen::Index>(n_keep));
  r.energy.resize(static_cast<Eigen::Index>(n_keep));
  r.tree_depth.reserve(n_keep);
  r.divergent.reserve(n_keep);
  double sum_depth = 0.0, sum_accept = 0.0;
  std::size_t grad_at_sampling_start = chain.gradient_evaluations();
  Eigen::Index kept = 0;

  for (std::size_t it = 0; it < n_iter; ++it) {
    const bool warm = it < options.warmup;
    if (it == options.warmup) {
      if (adapt_eps) chain.set_step_size(da.final_step_size());
      grad_at_sampling_start = chain.gradient_evaluations();
    }
    const auto info = chain.transition(z);
    if (warm) {
      if (info.divergent) ++r.warmup_divergences;
      if (adapt_eps) chain.set_step_size(da.learn(info.accept_stat));
      if (adapt && options.adapt_mass && wv.learn(z.q, chain.inv_mass())) {
        if (adapt_eps) {
          chain.init_step_size(z);
          da.restart(chain.step_size());
        }
      }
    } else {
      if (info.divergent) ++r.divergences;
      if (static_cast<std::size_t>(info.depth) >= options.max_depth) ++r.max_depth_hits;
      sum_depth += info.depth;
      sum_accept += info.accept_stat;
      if ((it - options.warmup) % options.thin == options.thin - 1) {
        r.draws.row(kept) = z.q.transpose();
        r.log_density(kept) = z.logp;
        r.accept_stat(kept) = info.accept_stat;
        r.energy(kept) = info.energy;
        r.tree_depth.push_back(info.depth);
        r.divergent.push_back(info.divergent);
        ++kept;
      }
    }
    if (options.progress) options.progress(it);
  }
  if (options.warmup == n_iter && adapt_eps) chain.set_step_size(da.final_step_size());
  const double n_sampling = static_cast<double>(n_keep * options.thin);
  r.mean_tree_depth = n_sampling > 0 ? sum_depth / n_sampling : 0.0;
  r.mean_accept_stat = n_sampling > 0 ? sum_accept / n_sampling : 0.0;
  r.step_size = chain.step_size();
  r.inv_mass = chain.inv_mass();
  r.gradient_evaluations = chain.gradient_evaluations();
  r.sampling_gradient_evaluations = chain.gradient_evaluations() - grad_at_sampling_start;
  return r;
}

/// Runs one chain per initial point, one after another, chain c seeded with
/// `std::seed_seq{options.seed, c}` (independent streams; Stan instead offsets its
/// generator's stream by the chain id). The progress callback sees each chain's iterations.
/// \throws as `run_nuts`, and invalid_argument if `initial` is empty.
template <DifferentiableLogDensity F>
[[nodiscard]] std::vector<nuts_result> run_nuts_chains(const F& logp,
                                                       const std::vector<Eigen::VectorXd>& initial,
                                                       const nuts_options& options = {}) {
  if (initial.empty()) {
    chempp::detail::throw_argument("run_nuts_chains", "initial", "must hold at least one point",
                                   0.0);
  }
  std::vector<nuts_result> out;
  out.reserve(initial.size());
  for (std::size_t c = 0; c < initial.size(); ++c) {
    nuts_options oc = options;
    std::seed_seq seq{static_cast<std::uint32_t>(options.seed & 0xffffffffu),
                      static_cast<std::uint32_t>(options.seed >> 32u),
                      static_cast<std::uint32_t>(c)};
    std::uint32_t words[2];
    seq.generate(words, words + 2);
    oc.seed = (static_cast<std::uint64_t>(words[0]) << 32u) | words[1];
    out.push_back(run_nuts(logp, initial[c], oc));
  }
  return out;
}

namespace detail {

/// Validates equal-length, finite chains of at least `min_draws` draws for diagnostic `fn`.
inline void check_mcmc_chains(const std::vector<Eigen::VectorXd>& chains, const char* fn,
                              Eigen::Index min_draws) {
  if (chains.empty()) chempp::detail::throw_argument(fn, "chains", "must not be empty", 0.0);
  const Eigen::Index n = chains.front().size();
  for (std::size_t c = 0; c < chains.size(); ++c) {
    if (chains[c].size() != n) {
      chempp::detail::throw_argument(
          fn, "chains[" + std::to_string(c) + "]",
          "must have as many draws as chains[0] (" + std::to_string(n) + ")",
          static_cast<double>(chains[c].size()));
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      check_finite(fn, "chains[" + std::to_string(c) + "][" + std::to_string(i) + "]",
                   chains[c](i));
    }
  }
  if (n < min_draws) {
    chempp::detail::throw_argument(
        fn, "chains", "need at least " + std::to_string(min_draws) + " draws per chain",
        static_cast<double>(n));
  }
}

/// Biased autocovariance (1/n) Σ_t (x_t − x̄)(x_{t+lag} − x̄) of a centred chain.
inline double chain_autocovariance(const Eigen::VectorXd& centred, Eigen::Index lag) {
  const Eigen::Index n = centred.size();
  return centred.head(n - lag).dot(centred.tail(n - lag)) / static_cast<double>(n);
}

}  // namespace detail

/// Effective sample size of equal-length chains of one scalar quantity, exactly as Stan's
/// `compute_effective_sample_size` (Gelman et al. 2013, BDA3 §11.5, with Geyer's 1992 initial
/// positive sequence made monotone, and the bias term of Vehtari et al. 2021, Bayesian Anal.
/// 16:667, for antithetic chains; capped at N log10 N). Autocovariances are computed directly,
/// lag by lag, only as far as the truncation needs. Returns NaN for a constant chain.
/// \throws invalid_argument if `chains` is empty, their lengths differ, a chain has fewer than
///         4 draws, or a draw is not finite.
[[nodiscard]] inline double effective_sample_size(const std::vector<Eigen::VectorXd>& chains) {
  detail::check_mcmc_chains(chains, "effective_sample_size", 4);
  const std::size_t m = chains.size();
  const Eigen::Index n = chains.front().size();
  const double nd = static_cast<double>(n);
  std::vector<Eigen::VectorXd> centred(m);
  Eigen::VectorXd chain_mean(static_cast<Eigen::Index>(m));
  Eigen::VectorXd chain_var(static_cast<Eigen::Index>(m));
  for (std::size_t c = 0; c < m; ++c) {
    const auto ci = static_cast<Eigen::Index>(c);
    chain_mean(ci) = chains[c].mean();
    centred[c] = chains[c].array() - chain_mean(ci);
    chain_var(ci) = detail::chain_autocovariance(centred[c], 0) * nd / (nd - 1.0);
  }
  const double mean_var = chain_var.mean();
  double var_plus = mean_var * (nd - 1.0) / nd;
  if (m > 1) {
    const double mm = chain_mean.mean();
    var_plus += (chain_mean.array() - mm).square().sum() / static_cast<double>(m - 1);
  }
  if (!(var_plus > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  auto acov_mean = [&](Eigen::Index lag) {
    double s = 0.0;
    for (const auto& c : centred) s += detail::chain_autocovariance(c, lag);
    return s / static_cast<double>(m);
  };
  Eigen::VectorXd rho_hat = Eigen::VectorXd::Zero(n);
  double rho_even = 1.0;
  rho_hat(0) = rho_even;
  double rho_odd = 1.0 - (mean_var - acov_mean(1)) / var_plus;
  rho_hat(1) = rho_odd;
  Eigen::Index s = 1;
  while (s < n - 4 && rho_even + rho_odd > 0.0) {
    rho_even = 1.0 - (mean_var - acov_mean(s + 1)) / var_plus;
    rho_odd = 1.0 - (mean_var - acov_mean(s + 2)) / var_plus;
    if (rho_even + rho_odd >= 0.0) {
      rho_hat(s + 1) = rho_even;
      rho_hat(s + 2) = rho_odd;
    }
    s += 2;
  }
  const Eigen::Index max_s = s;
  if (rho_hat(max_s) > 0.0) rho_hat(max_s + 1) = rho_hat(max_s);
  for (Eigen::Index t = 1; t <= max_s - 3; t += 2) {
    if (rho_hat(t + 1) + rho_hat(t + 2) > rho_hat(t - 1) + rho_hat(t)) {
      rho_hat(t + 1) = 0.5 * (rho_hat(t - 1) + rho_hat(t));
      rho_hat(t + 2) = rho_hat(t + 1);
    }
  }
  const double total = static_cast<double>(m) * nd;
  const double tau = -1.0 + 2.0 * rho_hat.head(max_s).sum() + rho_hat(max_s + 1);
  return std::min(total / tau, total * std::log10(total));
}

/// Effective sample size of one chain (Stan's estimator, see the multi-chain overload).
/// \throws invalid_argument if the chain has fewer than 4 draws or a draw is not finite.
[[nodiscard]] inline double effective_sample_size(const Eigen::VectorXd& chain) {
  return effective_sample_size(std::vector<Eigen::VectorXd>{chain});
}

/// Split R̂ (Gelman et al. 2013, BDA3 §11.4): each chain is halved (dropping the middle draw
/// of an odd length) and R̂ = sqrt(((n−1)/n W + B/n) / W) over the 2m half-chains.
/// \throws invalid_argument as `effective_sample_size` (at least 4 draws per chain).
[[nodiscard]] inline double split_rhat(const std::vector<Eigen::VectorXd>& chains) {
  detail::check_mcmc_chains(chains, "split_rhat", 4);
  const Eigen::Index half = chains.front().size() / 2;
  std::vector<Eigen::VectorXd> parts;
  for (const auto& c : chains) {
    parts.emplace_back(c.head(half));
    parts.emplace_back(c.tail(half));
  }
  const double n = static_cast<double>(half);
  const auto m = static_cast<Eigen::Index>(parts.size());
  Eigen::VectorXd means(m), vars(m);
  for (Eigen::Index j = 0; j < m; ++j) {
    const auto& p = parts[static_cast<std::size_t>(j)];
    means(j) = p.mean();
    vars(j) = (p.array() - means(j)).square().sum() / (n - 1.0);
  }
  const double w = vars.mean();
  const double b = n * (means.array() - means.mean()).square().sum() / static_cast<double>(m - 1);
  if (!(w > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt(((n - 1.0) / n * w + b / n) / w);
}

/// Energy Bayesian fraction of missing information of one chain's energies (Betancourt 2016,
/// arXiv:1604.00695 eq. 3.1): Σ (E_t − E_{t−1})² / Σ (E_t − Ē)²; values below ~0.3 indicate
/// that the momentum resampling explores the energy distribution poorly.
/// \throws invalid_argument if fewer than 2 energies are given or one is not finite.
[[nodiscard]] inline double energy_bfmi(const Eigen::VectorXd& energy) {
  detail::check_mcmc_chains({energy}, "energy_bfmi", 2);
  const Eigen::Index n = energy.size();
  const double num = (energy.tail(n - 1) - energy.head(n - 1)).squaredNorm();
  const double den = (energy.array() - energy.mean()).square().sum();
  return num / den;
}

}  // namespace chempp::inference
