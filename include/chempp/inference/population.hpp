// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Population inference that stays calibrated as stars are added: the posterior of the global
/// parameters Λ = (α_IMF, log10 N_Ia) of a galaxy from N stars, computed from the likelihood,
/// with a neural posterior used only as an importance-sampling proposal.
///
/// For a catalog X = {x_i, σ_i, m_i} (values, uncertainties, measured masks):
///
///   log p(Λ | X) = log p(Λ) + Σ_i log p(x_i | Λ) − log p(X),
///   p(x_i | Λ)   = ∫ N(x_{i,m}; f_m(Λ, θ), diag(σ_{i,m}²) + C_model) p(θ) dθ,
///
/// θ = the star's own parameters (log10 SFE, log10 SFR_peak, x_out, T). Each integral is an
/// importance-sampling estimate (Owen 2013, *Monte Carlo theory, methods and examples*, ch. 9)
/// in an unbounded parametrisation u (uniform priors through a logit), with
/// * proposal: a defensive mixture (Hesterberg 1995, Technometrics 37:185) of a multivariate-t
///   centred on the star's conditional q(u | Λ, x_i) — the conditional of a Gaussian fitted to
///   the flow's joint posterior samples — and the prior itself, in fixed proportions (the
///   balance heuristic of Veach & Guibas 1995), so a poor proposal costs variance, never bias;
/// * common random numbers: the same base draws for every Λ, so log p̂(x_i | Λ) is smooth in Λ;
/// * a second-order correction of the log's bias, E[log Ẑ] ≈ log Z − Var(Ẑ)/(2Z²) (delta
///   method), estimated from the weights; its size is reported.
/// The posterior of Λ lives on an adaptive affine grid aligned with its principal axes: started
/// from the corrected Gaussian product of the proposals' Λ marginals, re-centred until its
/// moments are stable and its border carries no mass. From the grid: mean, covariance, the log
/// evidence log p(X), HPD credible levels, the log density anywhere (bicubic), and draws.
/// Theory and measurements: docs/inference.md, "Population inference".

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/core/error.hpp"
#include "chempp/core/exact_sum.hpp"
#include "chempp/core/parallel.hpp"
#include "chempp/inference/gaussian_combiner.hpp"
#include "chempp/inference/gaussian_fit.hpp"
#include "chempp/inference/prior.hpp"
#include "chempp/inference/simulator.hpp"
#include "chempp/inference/star_likelihood.hpp"
#include "chempp/kernels/random.hpp"
#include "chempp/kernels/simd.hpp"

namespace chempp::inference {

// ---- unbounded parametrisation of a product prior ---------------------------------------------

/// Maps the parameters of a `product_prior` to R^d: Normal coordinates unchanged, a
/// Uniform[a, b] coordinate through u = logit((θ − a)/(b − a)). The prior density of u is the
/// prior density of θ times the Jacobian |dθ/du| (a logistic density for a uniform factor).
class unbounded_map {
 public:
  unbounded_map() = default;
  explicit unbounded_map(product_prior prior) : prior_(std::move(prior)) {
    for (const auto& f : prior_->factors()) log_b_.push_back(f.family == prior_factor::kind::normal ? std::log(f.b) : 0.0);
  }

  [[nodiscard]] std::size_t dim() const noexcept { return prior_ ? prior_->dim() : 0; }
  [[nodiscard]] const product_prior& prior() const { return *prior_; }

  /// θ_j → u_j. A uniform coordinate on (or beyond) its bounds is moved inside by `edge`
  /// of the interval so that the logit stays finite.
  [[nodiscard]] double to_u(std::size_t j, double theta, double edge = 1e-9) const {
    const auto& f = prior_->factors()[j];
    if (f.family == prior_factor::kind::normal) return theta;
    double s = (theta - f.a) / (f.b - f.a);
    s = std::clamp(s, edge, 1.0 - edge);
    return std::log(s) - std::log1p(-s);
  }
  /// u_j → θ_j.
  [[nodiscard]] double to_theta(std::size_t j, double u) const noexcept { return factor_theta(prior_->factors()[j], u); }
  /// log prior density of the d-vector u (Jacobian included).
  [[nodiscard]] double log_density_u(const double* u) const noexcept {
    double lp = 0.0;
    const auto& fs = prior_->factors();
    for (std::size_t j = 0; j < fs.size(); ++j) lp += factor_log_density(fs[j], log_b_[j], u[j]);
    return lp;
  }

  /// The two maps over the n rows u_r = u + r·ld, vectorised over rows (the population engine's
  /// hot loop): out[r] = log_density_u(u_r). The same formulas as the scalar functions
  /// (`factor_log_density`, `factor_theta`), whose softplus and sigmoid (kernels/functions.hpp)
  /// give each lane the bits of the scalar's.
  void log_density_rows(const double* u, std::size_t ld, std::size_t n, double* out) const noexcept {
    using B = xsimd::batch<double>;
    const auto rows = kernels::lane_offsets<B>(ld);  // one gather per column of B rows
    const auto& fs = prior_->factors();
    std::size_t r0 = 0;
    for (; r0 + B::size <= n; r0 += B::size) {
      B lp(0.0);
      for (std::size_t j = 0; j < fs.size(); ++j)
        lp = lp + factor_log_density(fs[j], log_b_[j], B::gather(u + r0 * ld + j, rows));
      lp.store_unaligned(out + r0);
    }
    for (; r0 < n; ++r0) out[r0] = log_density_u(u + r0 * ld);
  }
  /// θ_r[off + j] = to_theta(j, u_r[j]) for the n rows u_r = u + r·ld, θ_r = theta + r·tp.
  void theta_rows(const double* u, std::size_t ld, std::size_t n, double* theta, std::size_t tp, std::size_t off) const noexcept {
    map_theta(u, ld, n, [&](std::size_t r0, std::size_t j, const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
        theta[r0 * tp + off + j] = v;
      } else {
        alignas(64) double tmp[std::decay_t<decltype(v)>::size];
        v.store_aligned(tmp);
        for (std::size_t l = 0; l < v.size; ++l) theta[(r0 + l) * tp + off + j] = tmp[l];
      }
    });
  }
  /// The same into a column-major array: θ_r[j] at theta[j · ldt + r] (ldt ≥ n).
  void theta_columns(const double* u, std::size_t ld, std::size_t n, double* theta, std::size_t ldt) const noexcept {
    map_theta(u, ld, n, [&](std::size_t r0, std::size_t j, const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) theta[j * ldt + r0] = v;
      else v.store_unaligned(theta + j * ldt + r0);
    });
  }
  /// One prior draw in u.
  template <class Rng>
  void sample_u(Rng& rng, double* u) const {
    const auto& fs = prior_->factors();
    for (std::size_t j = 0; j < fs.size(); ++j) {
      if (fs[j].family == prior_factor::kind::normal) {
        std::normal_distribution<double> d(fs[j].a, fs[j].b);
        u[j] = d(rng);
      } else {
        std::uniform_real_distribution<double> d(0.0, 1.0);
        double s = d(rng);
        while (s <= 0.0) s = d(rng);
        u[j] = std::log(s) - std::log1p(-s);
      }
    }
  }

 private:
  // factor_theta of every row and column, vectorised over rows: store(r0, j, v) takes column j of
  // the rows from r0 (v an xsimd batch of doubles, then one double per row for the tail).
  template <class Store>
  void map_theta(const double* u, std::size_t ld, std::size_t n, Store&& store) const noexcept {
    using B = xsimd::batch<double>;
    const auto rows = kernels::lane_offsets<B>(ld);  // one gather per column of B rows
    const auto& fs = prior_->factors();
    std::size_t r0 = 0;
    for (; r0 + B::size <= n; r0 += B::size)
      for (std::size_t j = 0; j < fs.size(); ++j) store(r0, j, factor_theta(fs[j], B::gather(u + r0 * ld + j, rows)));
    for (; r0 < n; ++r0)
      for (std::size_t j = 0; j < fs.size(); ++j) store(r0, j, to_theta(j, u[r0 * ld + j]));
  }
  // The formulas of one factor, for V = double or an xsimd batch of doubles (one definition).
  // log density of u_j: a Normal factor's in θ = u (log_b = log of its σ, computed once at
  // construction); a uniform factor's logistic density s (1 − s), s = sigmoid(u), Jacobian of
  // θ = a + (b − a) s included: log s (1 − s) = −|u| − 2 log(1 + e^{−|u|}), the log term as
  // kernels::softplus_fn (≤ 8e-16 relative; docs/kernels.md), which costs half of xsimd's exp and
  // log1p in double (5.5 % of bench_population's hot loop in perf before, 2026-12-03).
  template <class V>
  static V factor_log_density(const prior_factor& f, double log_b, const V& u) noexcept {
    using std::abs;
    if (f.family == prior_factor::kind::normal) {
      const V z = (u - V(f.a)) / V(f.b);
      return V(-0.5) * z * z - V(log_b) - V(0.5 * std::log(2.0 * std::numbers::pi));
    }
    const V a = abs(u);
    return -a - V(2.0) * kernels::apply_fn<kernels::softplus_fn>(V(-a));
  }
  template <class V>
  static V factor_theta(const prior_factor& f, const V& u) noexcept {
    if (f.family == prior_factor::kind::normal) return u;
    return V(f.a) + V(f.b - f.a) * kernels::apply_fn<kernels::sigmoid_fn>(u);  // (≤ 5e-16 relative)
  }

  std::optional<product_prior> prior_;
  std::vector<double> log_b_;  // log σ of each Normal factor (0 for the others)
};

// ---- per-star proposals -----------------------------------------------------------------------

/// A star's proposal: a Gaussian over (Λ, u) (global parameters first, then the star's local
/// parameters in the unbounded map), usually fitted to the flow's posterior samples.
struct star_proposal {
  Eigen::VectorXd mean;  ///< (n_global + n_local)
  Eigen::MatrixXd cov;   ///< (n_global + n_local)²
};

/// Fits a `star_proposal` to posterior samples θ (n × (n_global + n_local), physical units),
/// mapping the local columns through `local` first. A small ridge (1e-9 of each variance)
/// keeps the covariance positive definite. \throws invalid_argument on fewer than
/// n_global + n_local + 2 rows or non-finite samples.
[[nodiscard]] inline star_proposal fit_star_proposal(const Eigen::Ref<const Eigen::MatrixXd>& theta,
                                                     std::size_t n_global, const unbounded_map& local) {
  const auto d = static_cast<Eigen::Index>(n_global + local.dim());
  if (theta.cols() != d)
    chempp::detail::throw_argument("fit_star_proposal", "theta.cols()", "must equal n_global + n_local",
                                   static_cast<double>(theta.cols()));
  if (theta.rows() < d + 2)
    chempp::detail::throw_argument("fit_star_proposal", "theta.rows()", "is too small for a covariance",
                                   static_cast<double>(theta.rows()));
  Eigen::MatrixXd v = theta;
  for (Eigen::Index r = 0; r < v.rows(); ++r)
    for (std::size_t j = 0; j < local.dim(); ++j) {
      const auto c = static_cast<Eigen::Index>(n_global + j);
      v(r, c) = local.to_u(j, v(r, c));
    }
  const gaussian g = fit_gaussian(v);
  star_proposal p{g.mean, g.cov};
  for (Eigen::Index j = 0; j < d; ++j) p.cov(j, j) *= 1.0 + 1e-9;
  p.cov.diagonal().array() += 1e-12;
  return p;
}

// ---- options and results ----------------------------------------------------------------------

/// Settings of the population engine (defaults: the values `population_coverage` measures).
struct population_options {
  std::size_t samples_per_star = 128;     ///< importance samples per star and Λ node (final grids)
  std::size_t coarse_samples_per_star = 64;  ///< … on the first, locating grid
  /// Importance samples per star for the evidence: after the final grid every star's log p̂ at
  /// Λ̂ is re-estimated with this many draws (the grid's draws plus more) and the evidence
  /// shifted by the sum of the differences, which cuts its Monte Carlo error by
  /// ~√(this / samples_per_star) (the posterior's shape is left to the grid). ≤ samples_per_star: off.
  std::size_t evidence_samples_per_star = 1024;
  double defensive_fraction = 0.1;        ///< share of the samples drawn from the prior
  double proposal_scale = 1.3;            ///< proposal σ = this × the conditional σ
  double student_dof = 5.0;               ///< degrees of freedom of the t proposal (∞: Gaussian)
  std::size_t grid_points = 11;           ///< nodes per axis of a final grid (spacing 1σ: node sums of a
                                          ///< Gaussian are exact to ~exp(−2π²); bicubic HPD exact for quadratics)
  std::size_t coarse_grid_points = 9;     ///< nodes per axis of the first grid
  double grid_half_width = 5.0;           ///< final grid half-width in posterior σ
  double coarse_half_width = 6.0;         ///< first grid half-width in (initial) σ
  std::size_t max_refinements = 12;       ///< grids after the first, at most
  double stable_shift = 0.2;              ///< mean shift (in σ) accepted as stable
  double stable_scale = 0.1;              ///< relative σ change accepted as stable
  double border_log_drop = 10.0;          ///< border log density must be this far below the peak
  bool bias_correction = true;            ///< add Var(Ẑ)/(2Ẑ²) to each log Ẑ
  std::size_t adapt_iterations = 2;       ///< proposal adaptations before each final grid (0: none)
  std::size_t pilot_samples = 512;        ///< fresh draws per star and adaptation
  std::size_t fine_factor = 4;            ///< bicubic refinement of the final grid (HPD, draws)
  unsigned threads = 1;                   ///< worker threads (stars are split among them)
  std::uint64_t seed = 1;                 ///< base draws (common random numbers)
  /// Optional progress callback, called after every grid; nothing is printed by the library.
  std::function<void(const struct grid_report&)> on_grid;
  /// Stars split over processes (MPI ranks or any other host; the library itself never calls
  /// MPI): sums int64 arrays element-wise over all processes, in place — for MPI,
  /// `MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_INT64_T, MPI_SUM, comm)` (`chempp::mpi::communicator::
  /// summer`, target chempp::mpi). Empty: this process holds every star. Each process passes its
  /// own stars, keyed catalog-wide (`star_data::key`) so that their random numbers do not depend on
  /// the split; every process calls the engine with the same options, in the same order, and must
  /// not leave the call early (an exception on one process leaves the others waiting: the host
  /// aborts them, as MPI_Abort does). Every sum over stars is exact (`chempp::exact_sum`), so the
  /// posterior and evidence are bit-identical for any split and any thread count;
  /// `population_posterior::stars` holds this process's stars only (docs/survey-scale.md).
  std::function<void(std::span<std::int64_t>)> sum_over_processes;
};

/// What one evaluated grid found (passed to `population_options::on_grid`).
struct grid_report {
  std::size_t index = 0;             ///< 1 for the first grid
  std::size_t nodes = 0;             ///< Λ nodes evaluated
  std::size_t samples_per_star = 0;  ///< importance samples per star and node
  Eigen::Vector2d mean = Eigen::Vector2d::Zero();    ///< grid posterior mean
  Eigen::Matrix2d cov = Eigen::Matrix2d::Zero();     ///< grid posterior covariance
  double border_log_drop = 0.0;      ///< peak minus border log density
  double log_evidence = 0.0;         ///< the grid's log evidence
};

/// Per-star importance-sampling diagnostics at the posterior mean.
struct star_diagnostics {
  double log_likelihood = 0.0;  ///< log p̂(x_i | Λ̂)
  double ess = 0.0;             ///< effective sample size (Σw)²/Σw²
  double bias_correction = 0.0; ///< the added Var(Ẑ)/(2Ẑ²)
};

/// The population posterior of Λ on its final grid.
class population_posterior {
 public:
  population_posterior() = default;

  Eigen::Vector2d mean = Eigen::Vector2d::Zero();   ///< posterior mean
  Eigen::Matrix2d cov = Eigen::Matrix2d::Identity(); ///< posterior covariance
  double log_evidence = 0.0;                         ///< log p(X) (natural log)
  double log_evidence_se = 0.0;                      ///< its Monte Carlo standard error (delta method)
  std::size_t n_stars = 0;                           ///< stars combined
  std::size_t grids = 0;                             ///< grids evaluated (incl. the first)
  /// False when `max_refinements` grids did not give two agreeing grids that contain and
  /// resolve the posterior: the result is then the last grid's, and should not be trusted.
  bool converged = false;
  /// With an exact simulator: the quadratic correction (a, b₁, b₂, H₁₁, H₁₂, H₂₂) in the
  /// posterior's whitened coordinates, and the stars left uncorrected.
  std::array<double, 6> exact_correction{};
  std::size_t exact_skipped = 0;
  std::size_t simulations = 0;                       ///< simulator calls in total (grids, evidence draws, adaptation pilots, exact correction)
  std::vector<star_diagnostics> stars;               ///< per-star diagnostics at Λ̂ (this process's stars, in the order passed)
  double total_bias_correction = 0.0;                ///< Σ_i of the corrections at Λ̂
  double bias_correction_gradient = 0.0;             ///< |∇Λ Σ corrections| · σ across the grid (stability)

  // the grid: Λ = origin + axes · z, z_k on [−h, h]
  Eigen::Vector2d origin = Eigen::Vector2d::Zero();
  Eigen::Matrix2d axes = Eigen::Matrix2d::Identity();
  double half_width = 5.0;
  Eigen::MatrixXd log_density_grid;  ///< normalised log posterior density at the nodes (per Λ-volume)

  /// Posterior as a `gaussian` (mean, covariance).
  [[nodiscard]] gaussian moments() const { return gaussian{mean, cov}; }

  /// Normalised log posterior density at Λ (bicubic interpolation of the grid; −inf outside).
  [[nodiscard]] double log_density(const Eigen::Vector2d& lambda) const {
    const Eigen::Vector2d z = axes.triangularView<Eigen::Lower>().solve(lambda - origin);
    return interpolate(z);
  }

  /// HPD level of Λ: the posterior mass of {Λ' : p(Λ') > p(Λ)}. Λ lies in the 100·q % HPD
  /// region iff hpd_level(Λ) ≤ q. Outside the grid: 1.
  [[nodiscard]] double hpd_level(const Eigen::Vector2d& lambda) const {
    const double lp = log_density(lambda);
    if (!std::isfinite(lp)) return 1.0;
    double above = 0.0;
    for (Eigen::Index i = 0; i < fine_.size(); ++i)
      if (fine_(i) > lp) above += fine_mass_(i);
    return above;
  }

  /// `n` draws of Λ (rows), from the bicubic fine grid (cell by mass, uniform within the cell).
  template <class Rng>
  [[nodiscard]] Eigen::MatrixXd sample(std::size_t n, Rng& rng) const {
    std::vector<double> cdf(static_cast<std::size_t>(fine_mass_.size()));
    double c = 0.0;
    for (Eigen::Index i = 0; i < fine_mass_.size(); ++i) cdf[static_cast<std::size_t>(i)] = (c += fine_mass_(i));
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    const auto nf = fine_rows_;
    const double step = 2.0 * half_width / static_cast<double>(nf - 1);
    Eigen::MatrixXd out(static_cast<Eigen::Index>(n), 2);
    for (Eigen::Index r = 0; r < out.rows(); ++r) {
      const double t = u01(rng) * c;
      const auto k = static_cast<Eigen::Index>(std::lower_bound(cdf.begin(), cdf.end(), t) - cdf.begin());
      const Eigen::Index a = std::min(k, fine_mass_.size() - 1) % nf, b = std::min(k, fine_mass_.size() - 1) / nf;
      const Eigen::Vector2d z(-half_width + (static_cast<double>(a) + u01(rng) - 0.5) * step,
                              -half_width + (static_cast<double>(b) + u01(rng) - 0.5) * step);
      out.row(r) = (origin + axes * z).transpose();
    }
    return out;
  }

  /// Builds the fine grid from `log_density_grid` (called by the engine).
  void finalise(std::size_t fine_factor) {
    const Eigen::Index n = log_density_grid.rows();
    const Eigen::Index nf = (n - 1) * static_cast<Eigen::Index>(std::max<std::size_t>(1, fine_factor)) + 1;
    Eigen::MatrixXd f(nf, nf);
    const double step = 2.0 * half_width / static_cast<double>(nf - 1);
    for (Eigen::Index b = 0; b < nf; ++b)
      for (Eigen::Index a = 0; a < nf; ++a)
        f(a, b) = interpolate(Eigen::Vector2d(-half_width + static_cast<double>(a) * step,
                                              -half_width + static_cast<double>(b) * step));
    fine_ = Eigen::Map<const Eigen::VectorXd>(f.data(), nf * nf);
    const double mx = fine_.maxCoeff();
    fine_mass_ = (fine_.array() - mx).exp().matrix();
    fine_mass_ /= fine_mass_.sum();
    fine_rows_ = nf;
  }

 private:
  // Catmull-Rom bicubic interpolation of the node values at grid coordinates z.
  [[nodiscard]] double interpolate(const Eigen::Vector2d& z) const {
    const Eigen::Index n = log_density_grid.rows();
    if (n < 2) return -INFINITY;
    const double step = 2.0 * half_width / static_cast<double>(n - 1);
    const double fa = (z(0) + half_width) / step, fb = (z(1) + half_width) / step;
    if (!(fa >= 0.0 && fb >= 0.0 && fa <= static_cast<double>(n - 1) && fb <= static_cast<double>(n - 1)))
      return -INFINITY;
    const auto ia = std::min<Eigen::Index>(static_cast<Eigen::Index>(fa), n - 2);
    const auto ib = std::min<Eigen::Index>(static_cast<Eigen::Index>(fb), n - 2);
    const double ta = fa - static_cast<double>(ia), tb = fb - static_cast<double>(ib);
    auto at = [&](Eigen::Index a, Eigen::Index b) {
      // linear extrapolation beyond the border keeps the stencil defined
      auto clampv = [&](Eigen::Index i, Eigen::Index j) { return log_density_grid(i, j); };
      const Eigen::Index ca = std::clamp<Eigen::Index>(a, 0, n - 1), cb = std::clamp<Eigen::Index>(b, 0, n - 1);
      double v = clampv(ca, cb);
      if (a != ca) v = 2.0 * v - clampv(a < 0 ? 1 : n - 2, cb);
      if (b != cb) v = 2.0 * v - clampv(ca, b < 0 ? 1 : n - 2);
      return v;
    };
    auto cr = [](double p0, double p1, double p2, double p3, double t) {
      return p1 + 0.5 * t * (p2 - p0 + t * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + t * (3.0 * (p1 - p2) + p3 - p0)));
    };
    double col[4];
    for (int k = 0; k < 4; ++k) {
      const Eigen::Index b = ib - 1 + k;
      col[k] = cr(at(ia - 1, b), at(ia, b), at(ia + 1, b), at(ia + 2, b), ta);
    }
    return cr(col[0], col[1], col[2], col[3], tb);
  }

  Eigen::VectorXd fine_, fine_mass_;
  Eigen::Index fine_rows_ = 0;
};

// ---- the engine -------------------------------------------------------------------------------

/// Optional restriction of the local prior to where the simulator has a solution: `valid(θ)`
/// on the full parameter vector, and `log_fraction(Λ)` = log of the prior mass of valid θ at
/// Λ (the normalisation of the restricted prior). Defaults: everything valid.
struct validity_policy {
  std::function<bool(const double* theta)> valid;          ///< empty: all valid
  std::function<double(const Eigen::Vector2d&)> log_fraction;  ///< empty: 0
};

/// The population engine: likelihood-based combination of N stars for the 2 global
/// parameters, with simulator policy `Sim` (emulator or GCE model).
template <Simulator Sim>
class population_engine {
 public:
  /// \param sim        the forward model f(Λ, θ_local) (parameters: the 2 global, then local)
  /// \param global     prior of Λ (2 factors)
  /// \param local      prior of the star's local parameters (uniform factors get a logit)
  /// \param model_cov  simulator error covariance [dex²] added to every star's (K × K or empty)
  /// \throws invalid_argument if the prior sizes do not add up to the simulator's parameters.
  population_engine(const Sim& sim, product_prior global, product_prior local, Eigen::MatrixXd model_cov = {},
                    validity_policy validity = {})
      : sim_(&sim), global_(std::move(global)), local_(std::move(local)), model_cov_(std::move(model_cov)),
        validity_(std::move(validity)) {
    if (global_.dim() != 2) throw invalid_argument("population_engine: the global prior must have 2 parameters");
    if (global_.dim() + local_.dim() != sim.n_parameters())
      throw invalid_argument("population_engine: global + local prior dimensions (" +
                             std::to_string(global_.dim() + local_.dim()) + ") differ from the simulator's (" +
                             std::to_string(sim.n_parameters()) + ")");
    if (model_cov_.size() != 0 &&
        (model_cov_.rows() != static_cast<Eigen::Index>(sim.n_observables()) || model_cov_.cols() != model_cov_.rows()))
      throw invalid_argument("population_engine: model_cov must be K x K");
  }

  [[nodiscard]] const unbounded_map& local_map() const noexcept { return local_; }
  [[nodiscard]] const product_prior& global_prior() const noexcept { return global_; }

  /// The population posterior of Λ from `stars` with one proposal per star.
  /// \throws invalid_argument on mismatched sizes or bad star data (naming the star).
  [[nodiscard]] population_posterior infer(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                           const population_options& opt = {}) const {
    return infer_impl<Sim>(stars, proposals, opt, nullptr);
  }

  /// As `infer`, then a multi-fidelity correction by an exact simulator (e.g. the GCE model):
  /// on the final grid's draws, log p̂_exact(x_i | Λ) − log p̂(x_i | Λ) (the exact likelihood
  /// without the emulator's error covariance) at 6 points around Λ̂ (±1.5σ), summed over stars,
  /// fitted by a quadratic in Λ and added to the log posterior; moments, evidence and the HPD grid
  /// are recomputed. Costs 6 × samples_per_star exact runs per star. Stars the exact model cannot
  /// produce anywhere there are left uncorrected and counted (`exact_skipped`).
  template <Simulator Exact>
  [[nodiscard]] population_posterior infer(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                           const population_options& opt, const Exact& exact) const {
    return infer_impl<Exact>(stars, proposals, opt, &exact);
  }

 private:
  struct run_state;

 public:
  /// A run of the engine stopped after its locating stage (`locate`), to be finished by `resume`.
  class located_run {
   public:
    /// The last coarse grid's posterior: mean, covariance, HPD grid and a log evidence from
    /// `coarse_samples_per_star` draws per star and node (no evidence refinement; its Monte Carlo
    /// error, from the same draws at the mean, in `log_evidence_se`). `converged` is true when
    /// two coarse grids agreed (0.5σ, 25 %) and the last contains and resolves the posterior;
    /// the grid's evidence is then accurate to its Monte Carlo error (node sums of a Gaussian at
    /// ≥ 0.45σ spacing are exact to ~1e-3 relative). `stars` holds the diagnostics at its mean.
    population_posterior posterior;
    /// True when the locating stage converged (same as `posterior.converged`).
    [[nodiscard]] bool located() const noexcept { return posterior.converged; }
    /// True when `locate` stopped early because the model was far worse than `screen_below`.
    [[nodiscard]] bool screened() const noexcept { return screened_; }
    /// An upper estimate of the log evidence from the last grid (+∞ unless that grid was
    /// evaluated with proposals adapted within 1σ of its mean): its log evidence plus three
    /// Monte Carlo standard errors plus, where the grid does not resolve the posterior, the
    /// largest log density its peak can hide between nodes (for a Gaussian-like peak at most the
    /// drop from the highest node to its higher neighbour, per axis); +∞ when the grid does not
    /// contain the posterior (border within `border_log_drop` of the peak).
    [[nodiscard]] double optimistic_log_evidence() const noexcept { return optimistic_; }

   private:
    friend class population_engine;
    std::shared_ptr<run_state> state_;
    const population_engine* owner_ = nullptr;
    bool screened_ = false;
    double optimistic_ = INFINITY;
  };

  /// The start of `infer`: checks the input, prepares every star's proposal and evaluates the
  /// first (coarse) grid; `posterior` is that grid's. Continue with `locate` and `resume`.
  /// \throws invalid_argument as `infer`.
  [[nodiscard]] located_run begin(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                  const population_options& opt = {}) const {
    located_run out;
    out.state_ = std::make_shared<run_state>(start_run(stars, proposals, opt));
    out.owner_ = this;
    out.posterior = located_posterior(*out.state_);
    out.optimistic_ = run_optimistic(*out.state_);
    return out;
  }

  /// The locating stage of `infer`: coarse grids walk to the posterior and adapt the proposals
  /// until two agree roughly (about a third of `infer`'s cost where the posterior is easy to find).
  /// Screening: when a coarse grid contains the posterior and even an optimistic log evidence
  /// (`optimistic_log_evidence`) lies below `screen_below`, the walk stops there (`screened()`):
  /// the model is far worse than one already found (`pipeline::compare_models`).
  /// \throws invalid_argument when `run` came from another engine or was resumed already.
  void locate(located_run& run, double screen_below = -INFINITY) const {
    check_run(run, "population_engine::locate");
    walk(*run.state_, true, screen_below);
    run.posterior = located_posterior(*run.state_);
    run.screened_ = run.state_->screened;
    run.optimistic_ = run_optimistic(*run.state_);
  }

  /// `begin` and `locate` in one call.
  [[nodiscard]] located_run locate(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                   const population_options& opt = {}) const {
    located_run out = begin(stars, proposals, opt);
    locate(out);
    return out;
  }

  /// Finishes a located run: the rest of `infer` with the same state, so `resume(locate(s, p, o))`
  /// equals `infer(s, p, o)` bit for bit. \throws invalid_argument when `run` came from another
  /// engine or was resumed already.
  [[nodiscard]] population_posterior resume(located_run&& run) const {
    return resume_impl<Sim>(std::move(run), nullptr);
  }
  /// `resume` with the multi-fidelity correction of the exact-simulator `infer`.
  template <Simulator Exact>
  [[nodiscard]] population_posterior resume(located_run&& run, const Exact& exact) const {
    return resume_impl<Exact>(std::move(run), &exact);
  }

 private:
  template <class Exact>
  [[nodiscard]] population_posterior infer_impl(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                                const population_options& opt, const Exact* exact) const {
    run_state r = start_run(stars, proposals, opt);
    walk(r, false);
    return finish(r, exact);
  }

  template <class Exact>
  [[nodiscard]] population_posterior resume_impl(located_run&& run, const Exact* exact) const {
    check_run(run, "population_engine::resume");
    const std::shared_ptr<run_state> r = std::move(run.state_);
    walk(*r, false);
    return finish(*r, exact);
  }

  void check_run(const located_run& run, const char* fn) const {
    if (run.owner_ != this) throw invalid_argument(std::string(fn) + ": the run was begun by another engine");
    if (!run.state_) throw invalid_argument(std::string(fn) + ": the run was resumed already");
  }

  // Checks the input, prepares every star and evaluates the first (coarse) grid.
  [[nodiscard]] run_state start_run(std::span<const star_data> stars, std::span<const star_proposal> proposals,
                                    const population_options& opt) const {
    const char* fn = "population_engine::infer";
    const bool distributed = static_cast<bool>(opt.sum_over_processes);
    if (stars.empty() && !distributed) throw invalid_argument(std::string(fn) + ": no stars given");
    if (proposals.size() != stars.size())
      throw invalid_argument(std::string(fn) + ": need one proposal per star");
    check_options(opt);
    const std::size_t n = stars.size();
    run_state r;
    r.opt = opt;
    r.st.resize(n);  // proposals adapt between grids
    for (std::size_t i = 0; i < n; ++i) {
      try {
        r.st[i] = prepare(stars[i], proposals[i], opt, key_of(stars[i], i));
      } catch (const invalid_argument& e) {
        throw invalid_argument(std::string(fn) + ": star " + std::to_string(i) + ": " + e.what());
      }
    }
    // initial moments: corrected Gaussian product of the proposals' Λ marginals, from their
    // information summed over every process's stars (a marginal that is not SPD, which the
    // proposals' fits never give, leaves the prior as the start)
    gaussian start{global_.mean(), global_.covariance()};
    {
      std::vector<exact_sum> acc(7);  // stars, Σ P (00, 01, 11), Σ P μ (0, 1), marginals not SPD
      for (const auto& p : proposals) {
        acc[0].add(1.0);
        const Eigen::Matrix2d c = p.cov.topLeftCorner(2, 2);
        Eigen::LLT<Eigen::Matrix2d> llt(c);
        if (llt.info() != Eigen::Success) {
          acc[6].add(1.0);
          continue;
        }
        const Eigen::Matrix2d pi = llt.solve(Eigen::Matrix2d::Identity());
        const Eigen::Vector2d sh = pi * p.mean.head(2);
        acc[1].add(pi(0, 0));
        acc[2].add(0.5 * (pi(0, 1) + pi(1, 0)));
        acc[3].add(pi(1, 1));
        acc[4].add(sh(0));
        acc[5].add(sh(1));
      }
      reduce(acc, opt);
      const double total = acc[0].value();
      if (!(total >= 1.0)) throw invalid_argument(std::string(fn) + ": no stars given (on any process)");
      r.post.n_stars = static_cast<std::size_t>(total);
      if (acc[6].value() == 0.0) {
        Eigen::MatrixXd prec(2, 2);
        prec << acc[1].value(), acc[2].value(), acc[2].value(), acc[3].value();
        Eigen::VectorXd sh(2);
        sh << acc[4].value(), acc[5].value();
        try {
          gaussian g = detail::information_finish(prec, sh, r.post.n_stars, start, -1.0, "population_engine");
          // accepted when it is a Gaussian within 6σ of the prior mean (a nearly singular
          // corrected precision can put it anywhere; the grids would then walk back from there)
          if (g.mean.allFinite() && positive_definite(g.cov) && start.mahalanobis2(g.mean) <= 36.0) start = g;
        } catch (const numerical_error&) {
          // the corrected precision is not SPD: keep the prior as the starting point
        }
      }
    }
    // the Gaussian product of the flow's marginals can be several of its σ off at large N (the
    // overconfidence this engine removes): the first grid spans 3× its σ
    r.ev = coarse_grid(r, start.mean, 9.0 * start.cov);
    r.adapted_at = r.ev.mean;
    r.prev_good = r.ev.good(opt);
    return r;
  }

  // Coarse grids (fewer nodes and draws) walk to the posterior and adapt the proposals until
  // two agree roughly (0.5σ, 25 %); then final grids until two agree within the stable_*
  // tolerances (the first final grid is compared with the last coarse one). With
  // `stop_when_located` the walk returns when the coarse stage ends, or when a coarse grid shows
  // the evidence to lie below `screen_below` (screened); called again, it goes on.
  void walk(run_state& r, bool stop_when_located, double screen_below = -INFINITY) const {
    const auto& opt = r.opt;
    r.screened = false;
    while (r.pass < opt.max_refinements && !r.converged) {
      if (stop_when_located && r.coarse && run_optimistic(r) < screen_below) {
        r.screened = true;
        return;
      }
      const std::size_t pass = r.pass++;
      const grid_eval prev = r.ev;
      // The next grid: around the moments when the last grid contained and resolved the
      // posterior; 1.5× wider when its border carried mass (truncated moments). When the
      // posterior fell between its nodes (σ below 0.6 node spacings, 0.45 on coarse grids; the node sums of a
      // Gaussian are exact to ~exp(−2π²σ²/h²)) its moments are known to within a cell: the next
      // grid is built from them plus a cell's own variance (step²/12 in grid units, Sheppard's
      // correction), so a posterior of 0.5 spacings is not shrunk past its own σ.
      const Eigen::Matrix2d extent = prev.axes * prev.axes.transpose();  // the covariance the grid was built from
      const bool contained = prev.border_drop >= opt.border_log_drop;
      const Eigen::Matrix2d prev_cov = moments_cov(prev);
      const Eigen::Matrix2d c_next = contained ? prev_cov : Eigen::Matrix2d(2.25 * extent);
      // adapt where the proposals were not adapted yet or the centre moved by more than 1σ;
      // otherwise keep them, so successive grids share their random numbers and converge
      if (!r.adapted || maha2(r.adapted_at, prev_cov, prev.mean) > 1.0) {
        adapt_all(r.st, prev.mean, opt, pass);
        r.post.simulations += r.post.n_stars * opt.adapt_iterations * opt.pilot_samples;  // the pilots' draws
        r.adapted = true;
        r.adapted_at = prev.mean;
      }
      r.ev = r.coarse ? coarse_grid(r, prev.mean, c_next) : final_grid(r, prev.mean, c_next);
      const bool good = r.ev.good(opt);
      const bool both_good = good && r.prev_good;
      r.prev_good = good;
      if (!both_good) continue;
      const double shift = std::sqrt(maha2(prev.mean, prev_cov, r.ev.mean));
      const double scale = std::max(std::abs(std::sqrt(r.ev.cov(0, 0) / prev.cov(0, 0)) - 1.0),
                                    std::abs(std::sqrt(r.ev.cov(1, 1) / prev.cov(1, 1)) - 1.0));
      if (r.coarse) {
        if (shift < 0.5 && scale < 0.25) {
          r.coarse = false;
          if (stop_when_located) return;
        }
      } else if (shift < opt.stable_shift && scale < opt.stable_scale) {
        r.converged = true;
      }
    }
  }

  // Runs fn(i, scratch) for every star i on `threads` workers (stars handed out one at a time;
  // each worker has its own scratch buffer).
  template <class Fn>
  static void for_each_star(std::size_t n, unsigned threads, Fn&& fn) {
    const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(threads, n));
    std::atomic<std::size_t> next{0};
    chempp::detail::run_workers(workers, [&](std::size_t) {
      std::vector<double> scratch;
      for (;;) {
        const std::size_t i = next.fetch_add(1);
        if (i >= n) break;
        fn(i, scratch);
      }
    });
  }

  // The located run's posterior: the last coarse grid, its evidence's MC error from the coarse
  // draws at its mean.
  [[nodiscard]] population_posterior located_posterior(const run_state& r) const {
    const auto& opt = r.opt;
    population_posterior post = r.post;
    post.converged = !r.coarse && !r.screened && r.ev.good(opt);
    post.mean = r.ev.mean;
    post.cov = r.ev.cov;
    post.log_evidence = r.ev.log_evidence;
    post.origin = r.ev.origin;
    post.axes = r.ev.axes;
    post.half_width = r.ev.half_width;
    post.log_density_grid = r.ev.log_density;
    post.finalise(opt.fine_factor);
    const std::size_t n = r.st.size();
    post.stars.resize(n);
    std::vector<double> var(n, 0.0);
    for_each_star(n, opt.threads, [&](std::size_t i, std::vector<double>& scratch) {
      const auto v = star_at(r.st[i], post.mean, opt.coarse_samples_per_star, opt, scratch);
      post.stars[i] = {v.log_value, v.ess, v.correction};
      var[i] = 2.0 * v.correction;  // Var(log Ẑ_i) ≈ Var(Ẑ_i)/Z_i² = 2 × correction
    });
    std::vector<exact_sum> acc(2);  // bias corrections, variances (over every process's stars)
    for (std::size_t i = 0; i < n; ++i) {
      acc[0].add(post.stars[i].bias_correction);
      acc[1].add(var[i]);
    }
    reduce(acc, opt);
    post.total_bias_correction = acc[0].value();
    post.log_evidence_se = std::sqrt(acc[1].value());
    post.simulations += post.n_stars * opt.coarse_samples_per_star;
    post.bias_correction_gradient = r.ev.correction_spread;
    return post;
  }

  // The rest of `infer` after the walk: the exact correction, the posterior, the refined evidence.
  template <class Exact>
  [[nodiscard]] population_posterior finish(run_state& r, const Exact* exact) const {
    const auto& opt = r.opt;
    auto& st = r.st;
    auto& ev = r.ev;
    const std::size_t n = st.size();
    const bool converged = r.converged;
    if (exact != nullptr) {
      // the correction (fitted within ±1.5σ of the emulator posterior) can move the posterior
      // by a fraction of σ: when the corrected grid no longer contains it, one more emulator
      // grid around the corrected moments, with the same correction (a function of Λ)
      const auto corr = fit_exact_correction(*exact, st, ev, opt, r.post);
      if (corr.valid) {
        apply_correction(corr, ev);
        if (!ev.good(opt)) {
          // (a correction that collapses the posterior onto one or two nodes leaves a singular
          // node covariance: `moments_cov` adds a cell's own variance, as in the walk)
          ev = final_grid(r, ev.mean, moments_cov(ev));
          apply_correction(corr, ev);
        }
      }
    }
    population_posterior post = std::move(r.post);
    post.converged = ev.good(opt) && converged;
    post.mean = ev.mean;
    post.cov = ev.cov;
    post.log_evidence = ev.log_evidence;
    post.origin = ev.origin;
    post.axes = ev.axes;
    post.half_width = ev.half_width;
    post.log_density_grid = ev.log_density;
    post.finalise(opt.fine_factor);
    // per-star diagnostics at the posterior mean (the grid's draws), and the evidence refined with
    // the evidence draws: log Z += Σ_i [log p̂_i^(big)(Λ̂) − log p̂_i(Λ̂)]
    post.stars.resize(n);
    const bool refine = opt.evidence_samples_per_star > opt.samples_per_star;
    std::vector<double> shift(n, 0.0), var(n, 0.0);
    for_each_star(n, opt.threads, [&](std::size_t i, std::vector<double>& scratch) {
      const auto v = star_at(st[i], post.mean, opt.samples_per_star, opt, scratch);
      post.stars[i] = {v.log_value, v.ess, v.correction};
      var[i] = 2.0 * v.correction;  // Var(log Ẑ_i) ≈ Var(Ẑ_i)/Z_i² = 2 × correction
      if (refine) {
        const auto big = star_at(st[i], post.mean, opt.evidence_samples_per_star, opt, scratch);
        if (std::isfinite(big.log_value) && std::isfinite(v.log_value)) {
          shift[i] = big.log_value - v.log_value;
          var[i] = 2.0 * big.correction;
        }
      }
    });
    std::vector<exact_sum> acc(3);  // bias corrections, evidence shifts, variances
    for (std::size_t i = 0; i < n; ++i) {
      acc[0].add(post.stars[i].bias_correction);
      acc[1].add(shift[i]);
      acc[2].add(var[i]);
    }
    reduce(acc, opt);
    post.total_bias_correction = acc[0].value();
    post.log_evidence += acc[1].value();
    post.simulations += post.n_stars * (opt.samples_per_star + (refine ? opt.evidence_samples_per_star : 0));
    post.log_evidence_se = std::sqrt(acc[2].value());
    post.bias_correction_gradient = ev.correction_spread;
    return post;
  }

 private:
  struct star_state {
    std::uint64_t key = 0;                // catalog-wide index: keys the star's random numbers
    star_likelihood lik;
    star_likelihood lik_exact;            // without the simulator error covariance
    Eigen::Vector2d mu_g;                 // proposal's Λ mean
    Eigen::MatrixXd b;                    // L × 2 regression of u on Λ
    Eigen::VectorXd a;                    // L conditional mean at mu_g
    Eigen::MatrixXd chol;                 // L × L Cholesky of the (scaled) conditional covariance
    double log_det = 0.0;                 // log det chol
    Eigen::MatrixXd eps;                  // proposal base draws (M_q × L) — t variates
    Eigen::VectorXd log_t_eps;            // log standard-t density of each base draw (no det)
    Eigen::MatrixXd u_prior;              // prior draws in u (M_p × L)
    Eigen::VectorXd log_p_prior;          // their prior log density
    Eigen::Index mq_std = 0, mp_std = 0;  // draws of each component for samples_per_star (the rest
                                          // of eps / u_prior serve the evidence)
  };
  struct star_value {
    double log_value = -INFINITY;  // log p̂ (with the correction when enabled)
    double ess = 0.0;
    double correction = 0.0;
  };
  struct grid_eval {
    Eigen::Vector2d mean, origin;
    Eigen::Matrix2d cov, axes;
    double half_width = 0.0, log_evidence = 0.0, border_drop = 0.0, correction_spread = 0.0;
    double peak_correction = 0.0;  // Σ_i bias corrections at the highest node (≈ Var(log Ẑ)/2)
    double min_sd_in_steps = 0.0;  // smallest posterior σ along any direction, in node spacings
    double needed_resolution = 0.6;  // … at least this for the grid to resolve the posterior
    /// Contains (border far below the peak) and resolves the posterior.
    [[nodiscard]] bool good(const population_options& o) const {
      return border_drop >= o.border_log_drop && min_sd_in_steps >= needed_resolution;
    }
    Eigen::MatrixXd log_density;
  };

  // The state of one run: the options, the stars' (adapting) proposals, the last grid and the
  // walk's progress.
  struct run_state {
    population_options opt;
    std::vector<star_state> st;
    population_posterior post;
    grid_eval ev;
    Eigen::Vector2d adapted_at = Eigen::Vector2d::Zero();
    bool adapted = false, converged = false, coarse = true, prev_good = false, screened = false;
    std::size_t pass = 0;
  };

  // Coarse grids only locate: their spacing (1.5σ by default) needs σ ≥ 0.45 spacings
  // (node-sum error ~2·exp(−2π²·0.45²) ≈ 4 % of the variance); final grids need 0.6 (0.1 %).
  grid_eval coarse_grid(run_state& r, const Eigen::Vector2d& centre, const Eigen::Matrix2d& extent) const {
    const auto& o = r.opt;
    grid_eval e = evaluate(r.st, centre, extent, o.coarse_half_width, o.coarse_grid_points, o.coarse_samples_per_star, o, r.post);
    e.needed_resolution = 0.45;
    return e;
  }
  grid_eval final_grid(run_state& r, const Eigen::Vector2d& centre, const Eigen::Matrix2d& extent) const {
    const auto& o = r.opt;
    return evaluate(r.st, centre, extent, o.grid_half_width, o.grid_points, o.samples_per_star, o, r.post);
  }



  // log(e^a + e^b) = max(a, b) + softplus(−|a − b|) (kernels::softplus_fn: a lane's bits are the
  // scalar's).
  template <class V>
  static V log_add(const V& a, const V& b) noexcept {
    using std::abs, std::max;
    return max(a, b) + kernels::apply_fn<kernels::softplus_fn>(V(-abs(a - b)));
  }
  // lp[r] ← lp[r] − log_add(log_wq + lqt[r], log_wp + lp[r]) for r < n: log p(u) − log q_mix(u),
  // vectorised over rows (log_add's formula on xsimd batches; scalar tail).
  static void log_mixture_rows(double* lp, const double* lqt, double log_wq, double log_wp, std::size_t n) noexcept {
    using B = xsimd::batch<double>;
    std::size_t r = 0;
    for (; r + B::size <= n; r += B::size) {
      const B p = B::load_unaligned(lp + r);
      (p - log_add(B(log_wq) + B::load_unaligned(lqt + r), B(log_wp) + p)).store_unaligned(lp + r);
    }
    for (; r < n; ++r) lp[r] = lp[r] - log_add(log_wq + lqt[r], log_wp + lp[r]);
  }
  // w[r] = exp(x[r] − mx) for r < n, vectorised. Rows of weight zero (x = −∞: a failed or invalid
  // simulation) enter xsimd's exp as −800, which it maps to 0 like −∞: its range reduction
  // converts the argument to an integer, undefined for ±∞ (UBSan, clang, AVX-512 without DQ).
  static void exp_shifted_rows(const double* x, double mx, double* w, std::size_t n) noexcept {
    using B = xsimd::batch<double>;
    std::size_t r = 0;
    for (; r + B::size <= n; r += B::size)
      xsimd::exp(xsimd::max(B(-800.0), B::load_unaligned(x + r) - B(mx))).store_unaligned(w + r);  // (constant first: a NaN passes)
    for (; r < n; ++r) w[r] = std::exp(x[r] - mx);
  }
  // Rows r0 … r0 + n − 1 of the column-major `eps`: entry (r, j) is draw r of dimension j's
  // counter-based standard-normal stream of `key` (kernels/random.hpp; vectorised, and a draw's
  // value does not depend on how many are taken at once, so more rows extend the same draws).
  static void normal_rows(std::uint64_t key, Eigen::MatrixXd& eps, Eigen::Index r0, Eigen::Index n) {
    if (n <= 0) return;
    for (Eigen::Index j = 0; j < eps.cols(); ++j)
      kernels::normal_fill(kernels::dimension_key(key, static_cast<std::uint64_t>(j)), static_cast<std::uint64_t>(r0),
                           &eps(r0, j), static_cast<std::size_t>(n));
  }
  // The rows of one importance-sampling pass (star_at_with, adapt): `us` (row-major m × l) holds
  // the prior draws in its last m − mq rows; its first mq rows become u_r = centre + L ε_r (ε: the
  // mq rows of `eps`), and lqt[r] = log t(|L⁻¹(u_r − centre)|²) − log det L for the prior rows.
  template <class Eps, class LogT, class Us>  // (LogT: log_t_density, declared below)
  static void proposal_rows(const star_state& st, const Eps& eps, const Eigen::VectorXd& centre, const LogT& log_t,
                            Us& us, double* lqt) {
    const Eigen::Index mq = eps.rows(), m = us.rows();
    us.topRows(mq).noalias() = eps * st.chol.transpose();
    us.topRows(mq).rowwise() += centre.transpose();
    const Eigen::MatrixXd z = st.chol.template triangularView<Eigen::Lower>().solve(
        (us.bottomRows(m - mq).rowwise() - centre.transpose()).transpose());
    for (Eigen::Index r = mq; r < m; ++r) lqt[r] = z.col(r - mq).squaredNorm();
    log_t.rows(lqt + mq, static_cast<std::size_t>(m - mq), st.log_det);
  }
  // θ_r = (Λ, θ_local(u_r)) for the m rows u_r of the row-major m × l array `us`, into the m × p
  // array `theta` in the layout S takes: column-major for a ColumnSimulator (the emulator's SIMD
  // lanes: no transposes or gathers, ~4 % of bench_population's time by perf shares,
  // docs/kernels.md), else row-major.
  template <class S>
  void theta_rows(const Eigen::Vector2d& lambda, const double* us, std::size_t l, std::size_t m, double* theta,
                  std::size_t p) const noexcept {
    if constexpr (ColumnSimulator<S>) {
      std::fill(theta, theta + m, lambda(0));
      std::fill(theta + m, theta + 2 * m, lambda(1));
      local_.theta_columns(us, l, m, theta + 2 * m, m);
    } else {
      for (std::size_t r = 0; r < m; ++r) {
        theta[r * p] = lambda(0);
        theta[r * p + 1] = lambda(1);
      }
      local_.theta_rows(us, l, m, theta, p, 2);
    }
  }
  // Simulates the m parameter vectors of `theta` (theta_rows<S>'s layout) and adds log p(x | f)
  // to lw (−inf where the simulation failed or θ is not valid); returns the largest log weight.
  template <class S>
  double add_log_likelihood(const S& sim, const star_likelihood& lik, double* theta, double* out, Eigen::Index m,
                            double* lw) const {
    const std::size_t p = sim.n_parameters(), k = sim.n_observables(), mu = static_cast<std::size_t>(m);
    if constexpr (ColumnSimulator<S>) {
      sim.simulate_columns(theta, mu, mu, out, mu);
      lik.add_columns(out, mu, mu, lw);
    } else {
      sim.simulate(theta, mu, out);
      lik.add_rows(out, mu, k, lw);
    }
    std::vector<double> th_row(ColumnSimulator<S> && validity_.valid ? p : 0);  // a θ for the validity test
    double mx = -INFINITY;
    for (std::size_t r = 0; r < mu; ++r) {
      if (validity_.valid && !std::isnan(lw[r])) {
        const double* th = theta + r * p;
        if constexpr (ColumnSimulator<S>) {
          for (std::size_t j = 0; j < p; ++j) th_row[j] = theta[j * mu + r];
          th = th_row.data();
        }
        if (!validity_.valid(th)) lw[r] = -INFINITY;
      }
      if (std::isnan(lw[r])) lw[r] = -INFINITY;
      mx = std::max(mx, lw[r]);
    }
    return mx;
  }

  // Squared Mahalanobis distance of x from N(m, c); +∞ where c is not numerically positive
  // definite (its Cholesky factor fails) or anything is not finite, so every caller's test
  // ("within so many σ") fails safe instead of throwing mid-run.
  static double maha2(const Eigen::Vector2d& m, const Eigen::Matrix2d& c, const Eigen::Vector2d& x) noexcept {
    if (!m.allFinite() || !x.allFinite() || !c.allFinite()) return INFINITY;
    Eigen::LLT<Eigen::Matrix2d> llt(c);
    if (llt.info() != Eigen::Success) return INFINITY;
    const double d = llt.matrixL().solve(x - m).squaredNorm();
    return std::isfinite(d) ? d : INFINITY;
  }

  static bool positive_definite(const Eigen::Matrix2d& c) noexcept {
    return c.allFinite() && c(0, 0) > 0.0 && c(0, 0) * c(1, 1) - c(0, 1) * c(1, 0) > 0.0;
  }

  // Replaces each partial sum over this process's stars by the sum over every process's
  // (`population_options::sum_over_processes`; nothing to do without it). Collective.
  static void reduce(std::vector<exact_sum>& acc, const population_options& opt) {
    if (!opt.sum_over_processes) return;
    std::vector<std::int64_t> buf(acc.size() * exact_sum::integers);
    for (std::size_t k = 0; k < acc.size(); ++k)
      acc[k].to_integers(std::span<std::int64_t>(buf.data() + k * exact_sum::integers, exact_sum::integers));
    opt.sum_over_processes(std::span<std::int64_t>(buf));
    for (std::size_t k = 0; k < acc.size(); ++k)
      acc[k] = exact_sum::from_integers(std::span<const std::int64_t>(buf.data() + k * exact_sum::integers, exact_sum::integers));
  }

  static void check_options(const population_options& o) {
    const char* fn = "population_engine::infer";
    if (o.samples_per_star < 8 || o.coarse_samples_per_star < 8)
      chempp::detail::throw_argument(fn, "samples_per_star", "must be >= 8", static_cast<double>(o.samples_per_star));
    if (!(o.defensive_fraction > 0.0 && o.defensive_fraction < 1.0))
      chempp::detail::throw_argument(fn, "defensive_fraction", "must lie in (0, 1)", o.defensive_fraction);
    if (o.adapt_iterations > 0 && o.pilot_samples < 8)
      chempp::detail::throw_argument(fn, "pilot_samples", "must be >= 8 when adapt_iterations > 0",
                                     static_cast<double>(o.pilot_samples));
    // every sample count keeps draws of both mixture components: round(fraction · n) prior draws
    // (at least one) and the rest from the t proposal (at least one)
    for (const std::size_t n : {o.samples_per_star, o.coarse_samples_per_star, o.pilot_samples}) {
      const double prior_draws = std::max(1.0, std::round(o.defensive_fraction * static_cast<double>(n)));
      if (n >= 8 && prior_draws >= static_cast<double>(n))
        chempp::detail::throw_argument(fn, "defensive_fraction", "leaves no proposal draws of a sample count", o.defensive_fraction);
    }
    check_positive(fn, "proposal_scale", o.proposal_scale);
    check_positive(fn, "student_dof", o.student_dof);
    if (o.grid_points < 5 || o.coarse_grid_points < 5)
      chempp::detail::throw_argument(fn, "grid_points", "must be >= 5", static_cast<double>(o.grid_points));
    check_positive(fn, "grid_half_width", o.grid_half_width);
    check_positive(fn, "coarse_half_width", o.coarse_half_width);
  }

  // log density of the standard multivariate t (dimension d, ν dof; ν = ∞: the standard normal)
  // at squared norm q: log Γ((ν+d)/2) − log Γ(ν/2) − (d/2) log(νπ) − ((ν+d)/2) log(1 + q/ν)
  // (Kotz & Nadarajah 2004, "Multivariate t Distributions and Their Applications", eq. 1.1, with
  // identity scale). The q-free terms (`norm`, subtracted for ν = ∞) are computed once per
  // (d, ν) (the lgamma and log calls per row were ~4 % of bench_population's hot loop, perf
  // 2026-12-02), the rest over rows (`rows`).
  struct log_t_density {
    double d, nu, norm;
    log_t_density(double d_, double nu_) : d(d_), nu(nu_) {
      norm = std::isfinite(nu) ? log_gamma(0.5 * (nu + d)) - log_gamma(0.5 * nu) - 0.5 * d * std::log(nu * std::numbers::pi)
                               : 0.5 * d * std::log(2.0 * std::numbers::pi);
    }
    // the formula for V = double or an xsimd batch of doubles (xsimd's log1p: within 2 ulp of libm's)
    template <class V>
    V at(const V& q) const {
      using std::log1p;
      if (!std::isfinite(nu)) return V(-0.5) * q - V(norm);
      return V(norm) - V(0.5 * (nu + d)) * log1p(q / V(nu));
    }
    // y[r] = log t(y[r]) − shift for r < n, vectorised over rows (the per-row libm log1p was
    // ~3 % of bench_population's hot loop with the paper's emulator, perf 2026-12-02)
    void rows(double* y, std::size_t n, double shift) const noexcept {
      using B = xsimd::batch<double>;
      std::size_t r = 0;
      for (; r + B::size <= n; r += B::size) (at(B::load_unaligned(y + r)) - B(shift)).store_unaligned(y + r);
      for (; r < n; ++r) y[r] = at(y[r]) - shift;
    }
    // log Γ(x) for x > 0 without writing the global `signgam` that std::lgamma sets on glibc (a
    // data race between the engine's worker threads)
    static double log_gamma(double x) {
#if defined(__GLIBC__) || defined(__APPLE__)
      int sign = 0;
      return ::lgamma_r(x, &sign);
#else
      return std::lgamma(x);
#endif
    }
  };

  star_state prepare(const star_data& s, const star_proposal& p, const population_options& opt, std::uint64_t index) const {
    star_state st;
    st.key = index;
    st.lik = star_likelihood(s, model_cov_);
    st.lik_exact = star_likelihood(s);
    if (static_cast<std::size_t>(st.lik.dim()) != sim_->n_observables())
      throw invalid_argument("the star's observable count differs from the simulator's");
    const auto l = static_cast<Eigen::Index>(local_.dim());
    if (p.mean.size() != 2 + l || p.cov.rows() != 2 + l || p.cov.cols() != 2 + l)
      throw invalid_argument("the proposal must have dimension 2 + n_local");
    if (!p.mean.allFinite() || !p.cov.allFinite()) throw invalid_argument("the proposal is not finite");
    const Eigen::Matrix2d sgg = p.cov.topLeftCorner(2, 2);
    const Eigen::MatrixXd sug = p.cov.bottomLeftCorner(l, 2);
    const Eigen::MatrixXd suu = p.cov.bottomRightCorner(l, l);
    Eigen::LLT<Eigen::Matrix2d> lg(sgg);
    if (lg.info() != Eigen::Success) throw invalid_argument("the proposal's Λ covariance is not positive definite");
    st.mu_g = p.mean.head(2);
    st.b = lg.solve(sug.transpose()).transpose();
    st.a = p.mean.tail(l);
    Eigen::MatrixXd cond = suu - st.b * sug.transpose();
    cond = 0.5 * (cond + cond.transpose());
    cond *= opt.proposal_scale * opt.proposal_scale;
    Eigen::LLT<Eigen::MatrixXd> lc(cond);
    if (lc.info() != Eigen::Success) {  // degenerate fit: fall back to the marginal covariance
      Eigen::LLT<Eigen::MatrixXd> lm(suu * opt.proposal_scale * opt.proposal_scale);
      if (lm.info() != Eigen::Success) throw invalid_argument("the proposal's local covariance is not positive definite");
      st.chol = lm.matrixL();
    } else {
      st.chol = lc.matrixL();
    }
    st.log_det = st.chol.diagonal().array().log().sum();
    // base draws (common random numbers): seeded per star
    std::mt19937_64 rng(opt.seed * 0x9E3779B97F4A7C15ULL + index);
    const std::size_t m = opt.samples_per_star;
    const auto mp = static_cast<Eigen::Index>(std::max<double>(1.0, std::round(opt.defensive_fraction * static_cast<double>(m))));
    const auto mq = static_cast<Eigen::Index>(m) - mp;
    const std::uint64_t key = rng();  // of the star's normal streams
    std::gamma_distribution<double> chi2(0.5 * opt.student_dof, 2.0);
    st.eps.resize(mq, l);
    normal_rows(key, st.eps, 0, mq);
    st.log_t_eps.resize(mq);
    const log_t_density log_t(static_cast<double>(l), opt.student_dof);
    for (Eigen::Index r = 0; r < mq; ++r) {
      if (std::isfinite(opt.student_dof)) st.eps.row(r) *= std::sqrt(opt.student_dof / chi2(rng));
      st.log_t_eps(r) = st.eps.row(r).squaredNorm();
    }
    log_t.rows(st.log_t_eps.data(), static_cast<std::size_t>(mq), 0.0);
    st.u_prior.resize(mp, l);
    st.log_p_prior.resize(mp);
    std::vector<double> u(static_cast<std::size_t>(l));
    for (Eigen::Index r = 0; r < mp; ++r) {
      local_.sample_u(rng, u.data());
      for (Eigen::Index j = 0; j < l; ++j) st.u_prior(r, j) = u[static_cast<std::size_t>(j)];
      st.log_p_prior(r) = local_.log_density_u(u.data());
    }
    st.mq_std = mq;
    st.mp_std = mp;
    if (opt.evidence_samples_per_star > m) {  // more draws of both components: the normals continue
                                              // the star's streams, χ² and prior draws from rng2
      const double scale = static_cast<double>(opt.evidence_samples_per_star) / static_cast<double>(m);
      const auto mq_big = static_cast<Eigen::Index>(std::round(scale * static_cast<double>(mq)));
      const auto mp_big = static_cast<Eigen::Index>(std::round(scale * static_cast<double>(mp)));
      std::mt19937_64 rng2((opt.seed ^ 0x2545F4914F6CDD1DULL) * 0x9E3779B97F4A7C15ULL + index);
      st.eps.conservativeResize(mq_big, l);
      st.log_t_eps.conservativeResize(mq_big);
      normal_rows(key, st.eps, mq, mq_big - mq);  // the next draws of the same streams
      for (Eigen::Index r = mq; r < mq_big; ++r) {
        if (std::isfinite(opt.student_dof)) st.eps.row(r) *= std::sqrt(opt.student_dof / chi2(rng2));
        st.log_t_eps(r) = st.eps.row(r).squaredNorm();
      }
      log_t.rows(st.log_t_eps.data() + mq, static_cast<std::size_t>(mq_big - mq), 0.0);
      st.u_prior.conservativeResize(mp_big, l);
      st.log_p_prior.conservativeResize(mp_big);
      for (Eigen::Index r = mp; r < mp_big; ++r) {
        local_.sample_u(rng2, u.data());
        for (Eigen::Index j = 0; j < l; ++j) st.u_prior(r, j) = u[static_cast<std::size_t>(j)];
        st.log_p_prior(r) = local_.log_density_u(u.data());
      }
    }
    return st;
  }

  // log p̂(x_i | Λ) with the first `m` samples of the star's base draws (coarse grids use fewer:
  // the same fraction from each component, so the estimator stays a balance-heuristic mixture).
  star_value star_at(const star_state& st, const Eigen::Vector2d& lambda, std::size_t m_use,
                     const population_options& opt, std::vector<double>& buf) const {
    return star_at_with(*sim_, st.lik, st, lambda, m_use, opt, buf);
  }
  // The same draws with another simulator and likelihood (the exact correction).
  template <class S>
  star_value star_at_with(const S& sim, const star_likelihood& lik, const star_state& st, const Eigen::Vector2d& lambda,
                          std::size_t m_use, const population_options& opt, std::vector<double>& buf) const {
    const auto l = static_cast<Eigen::Index>(local_.dim());
    // the same share of each component as in the standard draws (≤ 1: a prefix of them; > 1:
    // the evidence's extra draws too)
    const double frac = static_cast<double>(m_use) / static_cast<double>(st.mq_std + st.mp_std);
    // (m_use rows in all where the draws allow: rounding each share, half of 115 + 13 was
    // 58 + 7 = 65, a 65th row outside the emulator's SIMD blocks, 2 % of the hot loop in perf)
    const Eigen::Index mp = std::clamp<Eigen::Index>(static_cast<Eigen::Index>(std::round(frac * static_cast<double>(st.mp_std))), 1, st.u_prior.rows());
    const Eigen::Index mq = std::clamp<Eigen::Index>(static_cast<Eigen::Index>(m_use) - mp, 1, st.eps.rows());
    const Eigen::Index m = mq + mp;
    const double log_wq = std::log(static_cast<double>(mq) / static_cast<double>(m));
    const double log_wp = std::log(static_cast<double>(mp) / static_cast<double>(m));
    const std::size_t p = sim.n_parameters(), k = sim.n_observables();
    const auto lu = static_cast<std::size_t>(l), mu = static_cast<std::size_t>(m);
    buf.resize(mu * (p + k + lu + 2));
    double* theta = buf.data();
    double* out = theta + mu * p;
    double* logq = out + mu * k;
    double* us = logq + mu;     // the m draws u_r, row-major m × l
    double* lqt = us + mu * lu;  // log t-proposal density of each draw
    const Eigen::VectorXd centre = st.a + st.b * (lambda - st.mu_g);
    const log_t_density log_t(static_cast<double>(l), opt.student_dof);
    // the draws and their proposal densities as whole-matrix products (proposal rows
    // u = centre + L ε, prior rows z = L⁻¹ (u − centre)), then the prior density, the mixture
    // weight and the map to θ vectorised over rows (the hot loop's libm calls;
    // unbounded_map::log_density_rows / theta_rows, log_mixture_rows)
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> u_all(us, m, l);
    u_all.bottomRows(mp) = st.u_prior.topRows(mp);
    proposal_rows(st, st.eps.topRows(mq), centre, log_t, u_all, lqt);
    for (Eigen::Index r = 0; r < mq; ++r) lqt[r] = st.log_t_eps(r) - st.log_det;
    for (Eigen::Index r = mq; r < m; ++r) logq[r] = st.log_p_prior(r - mq);
    local_.log_density_rows(us, lu, static_cast<std::size_t>(mq), logq);  // logq holds log p(u) here
    log_mixture_rows(logq, lqt, log_wq, log_wp, mu);  // log p(u) − log q_mix(u), then + log L
    theta_rows<S>(lambda, us, lu, mu, theta, p);
    const double mx = add_log_likelihood(sim, lik, theta, out, m, logq);
    star_value v;
    if (!std::isfinite(mx)) return v;
    double* w = lqt;  // lqt is spent: its storage takes the weights w_r = exp(logq_r − mx)
    exp_shifted_rows(logq, mx, w, mu);
    double s1 = 0.0, s2 = 0.0;
    for (std::size_t r = 0; r < mu; ++r) {
      s1 += w[r];
      s2 += w[r] * w[r];
    }
    v.ess = s1 * s1 / s2;
    const double md = static_cast<double>(m);
    v.log_value = mx + std::log(s1 / md);
    if (validity_.log_fraction) v.log_value -= validity_.log_fraction(lambda);
    if (opt.bias_correction && m > 1) {
      const double ratio = md * s2 / (s1 * s1);  // = m / ESS
      v.correction = 0.5 * (ratio - 1.0) / (md - 1.0);
      v.log_value += v.correction;
    }
    return v;
  }

  // One step of adaptive importance sampling (population Monte Carlo; Cappé et al. 2004, J. Comput.
  // Graph. Stat. 13:907) per star at Λ̂: fresh pilot draws from the current mixture, then the
  // t proposal is re-centred on the weighted mean of u at Λ̂ and, when the pilot's ESS allows,
  // re-shaped to the weighted covariance. The proposal is fixed before the grid's own draws, so
  // the estimator stays unbiased; the regression on Λ (from the flow) is kept.
  void adapt_all(std::vector<star_state>& st, const Eigen::Vector2d& lambda, const population_options& opt,
                 std::size_t pass) const {
    if (opt.adapt_iterations == 0) return;
    const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(opt.threads, st.size()));
    std::atomic<std::size_t> next{0};
    chempp::detail::run_workers(workers, [&](std::size_t) {
      std::vector<double> buf;
      for (;;) {
        const std::size_t i = next.fetch_add(1);
        if (i >= st.size()) break;
        for (std::size_t it = 0; it < opt.adapt_iterations; ++it)
          adapt(st[i], lambda, opt, (opt.seed + 0x5bd1e995ULL * (pass + 1)) * 0x9E3779B97F4A7C15ULL + st[i].key * 131 + it, buf);
      }
    });
  }

  void adapt(star_state& st, const Eigen::Vector2d& lambda, const population_options& opt, std::uint64_t seed,
             std::vector<double>& buf) const {
    const auto l = static_cast<Eigen::Index>(local_.dim());
    const std::size_t p = sim_->n_parameters(), k = sim_->n_observables();
    const auto m = static_cast<Eigen::Index>(opt.pilot_samples);
    const auto mp = static_cast<Eigen::Index>(std::max<double>(1.0, std::round(opt.defensive_fraction * static_cast<double>(m))));
    const auto mq = m - mp;
    const double log_wq = std::log(static_cast<double>(mq) / static_cast<double>(m));
    const double log_wp = std::log(static_cast<double>(mp) / static_cast<double>(m));
    std::mt19937_64 rng(seed);
    const std::uint64_t key = rng();  // of the normal streams
    std::gamma_distribution<double> chi2(0.5 * opt.student_dof, 2.0);
    const Eigen::VectorXd centre = st.a + st.b * (lambda - st.mu_g);
    using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    row_major us(m, l);
    Eigen::MatrixXd eps(mq, l);
    Eigen::VectorXd lw(m), lqt(m);
    buf.resize(static_cast<std::size_t>(m) * (p + k));
    double* theta = buf.data();
    double* out = theta + static_cast<std::size_t>(m) * p;
    const double dl = static_cast<double>(l);
    const log_t_density log_t(dl, opt.student_dof);
    // the draws: t-proposal rows (l normals from the counter-based streams, a χ² each from rng),
    // then the prior rows
    normal_rows(key, eps, 0, mq);
    for (Eigen::Index r = 0; r < mq; ++r) {
      if (std::isfinite(opt.student_dof)) eps.row(r) *= std::sqrt(opt.student_dof / chi2(rng));
    }
    for (Eigen::Index r = mq; r < m; ++r) local_.sample_u(rng, us.row(r).data());
    // then everything else over all rows at once, as in star_at_with: u = centre + L ε and
    // z = L⁻¹ (u − centre) (= ε on the proposal rows), the proposal and prior densities, θ
    proposal_rows(st, eps, centre, log_t, us, lqt.data());
    for (Eigen::Index r = 0; r < mq; ++r) lqt(r) = eps.row(r).squaredNorm();
    log_t.rows(lqt.data(), static_cast<std::size_t>(mq), st.log_det);
    const auto mu = static_cast<std::size_t>(m), lu = static_cast<std::size_t>(l);
    local_.log_density_rows(us.data(), lu, mu, lw.data());
    theta_rows<Sim>(lambda, us.data(), lu, mu, theta, p);
    log_mixture_rows(lw.data(), lqt.data(), log_wq, log_wp, static_cast<std::size_t>(m));
    const double mx = add_log_likelihood(*sim_, st.lik, theta, out, m, lw.data());
    if (!std::isfinite(mx)) return;  // nothing learnt: keep the proposal
    const Eigen::VectorXd w = (lw.array() - mx).exp().matrix();
    const double sw = w.sum(), ess = sw * sw / w.squaredNorm();
    const Eigen::VectorXd mean = us.transpose() * w / sw;
    st.a = mean;
    st.mu_g = lambda;
    if (ess < std::max(20.0, 5.0 * dl)) return;  // too few effective draws for a covariance
    const Eigen::MatrixXd c = us.rowwise() - mean.transpose();
    Eigen::MatrixXd cov = (c.transpose() * w.asDiagonal() * c) / sw;
    cov = 0.5 * (cov + cov.transpose()) * (opt.proposal_scale * opt.proposal_scale);
    Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success || !cov.allFinite()) return;
    st.chol = llt.matrixL();
    st.log_det = st.chol.diagonal().array().log().sum();
  }

  // The exact simulator's correction of the summed log likelihoods, c(Λ) = Σ_i [log p̂_exact −
  // log p̂_sim](x_i | Λ), as a quadratic in the whitened coordinates z = L⁻¹(Λ − centre) of the
  // emulator posterior (mean `centre`, covariance L Lᵀ).
  struct quadratic_correction {
    bool valid = false;
    Eigen::Vector2d centre = Eigen::Vector2d::Zero();
    Eigen::Matrix2d li = Eigen::Matrix2d::Identity();  // L⁻¹
    std::array<double, 6> coef{};                      // a, b₁, b₂, H₁₁, H₁₂, H₂₂
    [[nodiscard]] double operator()(const Eigen::Vector2d& lambda) const {
      const Eigen::Vector2d z = li * (lambda - centre);
      return coef[0] + coef[1] * z(0) + coef[2] * z(1) +
             0.5 * (coef[3] * z(0) * z(0) + 2.0 * coef[4] * z(0) * z(1) + coef[5] * z(1) * z(1));
    }
  };

  // Fits the correction from six Λ nodes (±1.5σ), the same proposal draws for both simulators.
  template <class Exact>
  quadratic_correction fit_exact_correction(const Exact& exact, const std::vector<star_state>& st, const grid_eval& ev,
                                            const population_options& opt, population_posterior& post) const {
    if (exact.n_parameters() != sim_->n_parameters() || exact.n_observables() != sim_->n_observables())
      throw invalid_argument("population_engine::infer: the exact simulator's sizes differ from the simulator's");
    quadratic_correction q;
    Eigen::LLT<Eigen::Matrix2d> llt(ev.cov);
    if (llt.info() != Eigen::Success) return q;
    const Eigen::Matrix2d l = llt.matrixL();
    const double d = 1.5;
    const std::array<Eigen::Vector2d, 6> zs{Eigen::Vector2d(0, 0), Eigen::Vector2d(d, 0), Eigen::Vector2d(-d, 0),
                                            Eigen::Vector2d(0, d), Eigen::Vector2d(0, -d), Eigen::Vector2d(d, d)};
    const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(opt.threads, st.size()));
    std::vector<std::array<double, 6>> per_star(st.size(), std::array<double, 6>{});
    std::vector<char> usable(st.size(), 0);
    std::atomic<std::size_t> next{0};
    chempp::detail::run_workers(workers, [&](std::size_t) {
      std::vector<double> buf;
      for (;;) {
        const std::size_t i = next.fetch_add(1);
        if (i >= st.size()) break;
        bool ok = true;
        for (std::size_t k = 0; k < 6 && ok; ++k) {
          const Eigen::Vector2d lam = ev.mean + l * zs[k];
          const auto a = star_at_with(exact, st[i].lik_exact, st[i], lam, opt.samples_per_star, opt, buf);
          const auto b = star_at(st[i], lam, opt.samples_per_star, opt, buf);
          per_star[i][k] = a.log_value - b.log_value;
          ok = std::isfinite(per_star[i][k]);
        }
        usable[i] = ok ? 1 : 0;
      }
    });
    std::vector<exact_sum> acc(7);  // the six node sums, stars skipped (over every process's stars)
    for (std::size_t i = 0; i < st.size(); ++i) {
      if (!usable[i]) {
        acc[6].add(1.0);
        continue;
      }
      for (std::size_t k = 0; k < 6; ++k) acc[k].add(per_star[i][k]);
    }
    reduce(acc, opt);
    std::array<double, 6> dk{};
    for (std::size_t k = 0; k < 6; ++k) dk[k] = acc[k].value();
    post.exact_skipped += static_cast<std::size_t>(acc[6].value());
    post.simulations += post.n_stars * 12 * opt.samples_per_star;
    // quadratic c(z) = a + b·z + ½ zᵀ H z through the six points
    const double a = dk[0], b1 = (dk[1] - dk[2]) / (2 * d), b2 = (dk[3] - dk[4]) / (2 * d);
    const double h11 = (dk[1] + dk[2] - 2 * a) / (d * d), h22 = (dk[3] + dk[4] - 2 * a) / (d * d);
    const double h12 = (dk[5] - a - d * b1 - d * b2 - 0.5 * d * d * (h11 + h22)) / (d * d);
    post.exact_correction = {a, b1, b2, h11, h12, h22};
    q.valid = true;
    q.centre = ev.mean;
    q.li = lower_inverse(l);
    q.coef = post.exact_correction;
    return q;
  }

  // Adds the correction to the grid's log density and recomputes its summary.
  static void apply_correction(const quadratic_correction& q, grid_eval& ev) {
    const Eigen::Index n = ev.log_density.rows();
    const double step = 2.0 * ev.half_width / static_cast<double>(n - 1);
    Eigen::VectorXd lp(n * n);
    for (Eigen::Index bb = 0; bb < n; ++bb)
      for (Eigen::Index aa = 0; aa < n; ++aa)
        lp(aa + n * bb) = ev.log_density(aa, bb) + ev.log_evidence + q(grid_node(ev, aa, bb, step));
    summarise(ev, lp);
  }

  // The run's optimistic evidence: +∞ unless its last grid was evaluated with proposals adapted
  // within 1σ of that grid's posterior mean. With the flow's proposals as they come, or adapted
  // far from where the posterior turned out to be, importance sampling underestimates log Z by
  // far more than its own standard-error estimate says (a model compared with itself lost 535
  // nats on its first grid, "± 9"), so such a grid cannot screen.
  [[nodiscard]] static double run_optimistic(const run_state& r) {
    if (!r.adapted) return INFINITY;
    if (!(maha2(r.adapted_at, moments_cov(r.ev), r.ev.mean) <= 1.0)) return INFINITY;
    return optimistic_log_evidence(r.ev, r.opt);
  }

  // An upper estimate of a grid's log evidence (see located_run::optimistic_log_evidence): +∞
  // unless the grid contains the posterior; + 3 MC standard errors (Var(log Ẑ) ≈ 2 × the summed
  // bias corrections); + per axis the drop from the highest node to its higher neighbour where the
  // grid does not resolve the posterior (a Gaussian peak between two nodes lies at most that far
  // above the higher of them; an infinite drop gives +∞).
  static double optimistic_log_evidence(const grid_eval& ev, const population_options& opt) {
    if (!(ev.border_drop >= opt.border_log_drop) || !std::isfinite(ev.log_evidence)) return INFINITY;
    double up = ev.log_evidence + 3.0 * std::sqrt(2.0 * std::max(0.0, ev.peak_correction));
    if (ev.min_sd_in_steps >= ev.needed_resolution) return up;
    const Eigen::Index n = ev.log_density.rows();
    Eigen::Index pa = 0, pb = 0;
    ev.log_density.maxCoeff(&pa, &pb);
    const double peak = ev.log_density(pa, pb);
    for (int axis = 0; axis < 2; ++axis) {
      double near = -INFINITY;
      for (const Eigen::Index d : {Eigen::Index{-1}, Eigen::Index{1}}) {
        const Eigen::Index a = pa + (axis == 0 ? d : 0), b = pb + (axis == 1 ? d : 0);
        if (a >= 0 && a < n && b >= 0 && b < n) near = std::max(near, ev.log_density(a, b));
      }
      up += peak - near;  // +∞ when both neighbours are −∞
    }
    return up;
  }

  // The variance a grid's node moments miss when it does not resolve the posterior: a cell's,
  // step²/12 per grid axis (Sheppard's correction), or less where the peak node's neighbours lie
  // far below it: a Gaussian of σ ≪ step drops by step²/(2σ²) to the next node, so that drop
  // gives σ (from the nearer neighbour; at most 10× below the cell's σ per grid, so a grid far
  // coarser than the posterior shrinks onto it in a few steps without overshooting).
  // A grid's posterior covariance for building the next grid or testing "within kσ": its node
  // covariance, plus a cell's own variance (`unresolved_cell_cov`) where the grid did not resolve
  // the posterior (all its mass on one or two nodes gives a singular node covariance).
  static Eigen::Matrix2d moments_cov(const grid_eval& ev) {
    return ev.min_sd_in_steps >= ev.needed_resolution ? ev.cov : Eigen::Matrix2d(ev.cov + unresolved_cell_cov(ev));
  }

  static Eigen::Matrix2d unresolved_cell_cov(const grid_eval& ev) {
    const Eigen::Index n = ev.log_density.rows();
    const double step = 2.0 * ev.half_width / static_cast<double>(n - 1), cell = step * step / 12.0;
    Eigen::Index pa = 0, pb = 0;
    ev.log_density.maxCoeff(&pa, &pb);
    const double peak = ev.log_density(pa, pb);
    Eigen::Vector2d var_z;
    for (int axis = 0; axis < 2; ++axis) {
      double near = -INFINITY;  // the higher neighbour along this axis
      for (const Eigen::Index d : {Eigen::Index{-1}, Eigen::Index{1}}) {
        const Eigen::Index a = pa + (axis == 0 ? d : 0), b = pb + (axis == 1 ? d : 0);
        if (a >= 0 && a < n && b >= 0 && b < n) near = std::max(near, ev.log_density(a, b));
      }
      const double drop = peak - near;  // +inf when both neighbours are −inf
      const double v = drop > 0.0 ? step * step / (2.0 * drop) : cell;
      var_z(axis) = std::clamp(v, 0.01 * cell, cell);
    }
    return ev.axes * var_z.asDiagonal() * ev.axes.transpose();
  }

  // Inverse of a lower-triangular 2 × 2 matrix (grid axes, Cholesky factors).
  static Eigen::Matrix2d lower_inverse(const Eigen::Matrix2d& l) {
    return l.triangularView<Eigen::Lower>().solve(Eigen::Matrix2d::Identity());
  }

  // Resolution: the smallest posterior σ along any direction, in node spacings (the posterior
  // covariance in grid units z, smallest eigenvalue in 2 × 2 closed form).
  static double resolution(const grid_eval& ev) {
    const double step = 2.0 * ev.half_width / static_cast<double>(ev.log_density.rows() - 1);
    const Eigen::Matrix2d ai = lower_inverse(ev.axes);
    const Eigen::Matrix2d cz = ai * ev.cov * ai.transpose();
    const double tr = cz.trace(), det = cz(0, 0) * cz(1, 1) - cz(0, 1) * cz(1, 0);
    const double lmin = 0.5 * tr - std::sqrt(std::max(0.0, 0.25 * tr * tr - det));
    return lmin > 0.0 ? std::sqrt(lmin) / step : 0.0;
  }

  // Node (a, b) of an n × n grid with node spacing `step` (in grid units z).
  static Eigen::Vector2d grid_node(const grid_eval& ev, Eigen::Index a, Eigen::Index b, double step) {
    return ev.origin + ev.axes * Eigen::Vector2d(-ev.half_width + static_cast<double>(a) * step,
                                                 -ev.half_width + static_cast<double>(b) * step);
  }

  // From the unnormalised log posterior lp at the nodes (index a + n b) of the grid described by
  // ev (origin, axes, half_width): the log evidence (node sum × cell volume |det axes| step²;
  // the grid carries all the mass), mean, covariance, border drop, normalised log density.
  static void summarise(grid_eval& ev, const Eigen::VectorXd& lp) {
    const auto n = static_cast<Eigen::Index>(std::lround(std::sqrt(static_cast<double>(lp.size()))));
    const double step = 2.0 * ev.half_width / static_cast<double>(n - 1);
    const double mx = lp.maxCoeff();
    double s = 0.0, border = -INFINITY;
    Eigen::Vector2d m1 = Eigen::Vector2d::Zero();
    Eigen::Matrix2d m2 = Eigen::Matrix2d::Zero();
    ev.log_density.resize(n, n);
    for (Eigen::Index b = 0; b < n; ++b)
      for (Eigen::Index a = 0; a < n; ++a) {
        const Eigen::Vector2d node = grid_node(ev, a, b, step);
        const double v = lp(a + n * b), w = std::exp(v - mx);
        s += w;
        m1 += w * node;
        m2 += w * node * node.transpose();
        if (a == 0 || b == 0 || a == n - 1 || b == n - 1) border = std::max(border, v);
      }
    ev.log_evidence = mx + std::log(s) + std::log(std::abs(ev.axes(0, 0) * ev.axes(1, 1))) + 2.0 * std::log(step);
    ev.mean = m1 / s;
    ev.cov = m2 / s - ev.mean * ev.mean.transpose();
    ev.cov = 0.5 * (ev.cov + ev.cov.transpose());
    ev.border_drop = mx - border;
    for (Eigen::Index b = 0; b < n; ++b)
      for (Eigen::Index a = 0; a < n; ++a) ev.log_density(a, b) = lp(a + n * b) - ev.log_evidence;
    ev.min_sd_in_steps = resolution(ev);
  }

  grid_eval evaluate(const std::vector<star_state>& st, const Eigen::Vector2d& mean, const Eigen::Matrix2d& cov,
                     double h, std::size_t points, std::size_t m_use, const population_options& opt,
                     population_posterior& post) const {
    grid_eval ev;
    Eigen::LLT<Eigen::Matrix2d> llt(cov);
    if (llt.info() != Eigen::Success) throw numerical_error("population_engine: the posterior covariance became singular");
    ev.origin = mean;
    ev.axes = llt.matrixL();
    ev.half_width = h;
    const auto n = static_cast<Eigen::Index>(points);
    const double step = 2.0 * h / static_cast<double>(n - 1);
    const std::size_t g = points * points;
    std::vector<Eigen::Vector2d> nodes(g);
    for (Eigen::Index b = 0; b < n; ++b)
      for (Eigen::Index a = 0; a < n; ++a)
        nodes[static_cast<std::size_t>(a + n * b)] = grid_node(ev, a, b, step);
    // per-star values (a column per star), summed exactly afterwards: the result does not depend
    // on the thread count, on which thread took which star, or on the split over processes
    const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(opt.threads, st.size()));
    const auto gi = static_cast<Eigen::Index>(g), ns = static_cast<Eigen::Index>(st.size());
    Eigen::MatrixXd per_star(gi, ns), per_corr(gi, ns);
    std::atomic<std::size_t> next{0};
    chempp::detail::run_workers(workers, [&](std::size_t) {
      std::vector<double> buf;
      for (;;) {
        const std::size_t i = next.fetch_add(1);
        if (i >= st.size()) break;
        for (std::size_t k = 0; k < g; ++k) {
          const auto v = star_at(st[i], nodes[k], m_use, opt, buf);
          per_star(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i)) = v.log_value;
          per_corr(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i)) = v.correction;
        }
      }
    });
    // exact sums over every process's stars (`reduce`): independent of order and split
    std::vector<exact_sum> acc(2 * g);
    for (Eigen::Index i = 0; i < ns; ++i)
      for (Eigen::Index k = 0; k < gi; ++k) {
        acc[static_cast<std::size_t>(k)].add(per_star(k, i));
        acc[g + static_cast<std::size_t>(k)].add(per_corr(k, i));
      }
    reduce(acc, opt);
    Eigen::VectorXd lp(gi), corr(gi);
    for (Eigen::Index k = 0; k < gi; ++k) {
      lp(k) = acc[static_cast<std::size_t>(k)].value();
      corr(k) = acc[g + static_cast<std::size_t>(k)].value();
    }
    for (std::size_t k = 0; k < g; ++k) lp(static_cast<Eigen::Index>(k)) += global_.log_density(nodes[k]);
    post.grids += 1;
    post.simulations += post.n_stars * g * m_use;
    const double mx = lp.maxCoeff();
    if (!std::isfinite(mx))
      throw numerical_error("population_engine: the likelihood is zero on the whole grid (every star impossible?)");
    summarise(ev, lp);
    // spread of the summed bias corrections over the nodes within 2σ of the mean
    double cmin = INFINITY, cmax = -INFINITY;
    if (positive_definite(ev.cov)) {
      for (std::size_t k = 0; k < g; ++k) {
        if (!(maha2(ev.mean, ev.cov, nodes[k]) <= 4.0)) continue;
        cmin = std::min(cmin, corr(static_cast<Eigen::Index>(k)));
        cmax = std::max(cmax, corr(static_cast<Eigen::Index>(k)));
      }
    }
    ev.correction_spread = cmax >= cmin ? cmax - cmin : 0.0;
    {
      Eigen::Index peak = 0;
      lp.maxCoeff(&peak);
      ev.peak_correction = corr(peak);
    }
    if (opt.on_grid) opt.on_grid(grid_report{post.grids, g, m_use, ev.mean, ev.cov, ev.border_drop, ev.log_evidence});
    return ev;
  }

  const Sim* sim_;
  product_prior global_;
  unbounded_map local_;
  Eigen::MatrixXd model_cov_;
  validity_policy validity_;
};

/// One model of a screened comparison (`compare_screened`): its engine (which must outlive the
/// entry), a run begun with `engine->begin(...)`, and what the comparison found.
template <Simulator Sim>
struct comparison_entry {
  const population_engine<Sim>* engine = nullptr;
  typename population_engine<Sim>::located_run run;
  population_posterior posterior;  ///< the full run's, or the screened run's last locating grid's
  bool screened = false;           ///< not refined: far below the best model
  double seconds = 0.0;            ///< time spent in `compare_screened` on this model (s)
  /// How a located run is finished (`engine->resume` when empty); e.g.
  /// `[&](auto&& r) { return engine.resume(std::move(r), exact_simulator); }` for the
  /// multi-fidelity correction by an exact simulator.
  std::function<population_posterior(typename population_engine<Sim>::located_run&&)> resume;
};

/// Finishes the begun runs of several models of the same data, screening those far worse than
/// the best. In the order of their first grids' evidences every model is located, its walk
/// stopped early once an optimistic evidence (`located_run::optimistic_log_evidence`) lies more
/// than `margin` nats below the best located so far (its evidence less 3 Monte Carlo errors);
/// then every model whose optimistic evidence comes within `margin` of that best gets the full
/// run (`resume`), again while the full runs' best comes lower than first thought. A screened
/// model's posterior probability is therefore below e^−margin against the best, and every full
/// run is bit for bit `infer`'s. `margin` = +∞: every model gets the full run.
/// \throws invalid_argument on a negative or NaN margin, an entry without engine or run.
template <Simulator Sim>
void compare_screened(std::span<comparison_entry<Sim>> models, double margin) {
  if (!(margin >= 0.0)) chempp::detail::throw_argument("compare_screened", "margin", "must be >= 0 (+inf: no screening)", margin);
  const std::size_t m = models.size();
  for (std::size_t k = 0; k < m; ++k)
    if (models[k].engine == nullptr) throw invalid_argument("compare_screened: model " + std::to_string(k) + " has no engine");
  const auto timed = [&](std::size_t k, auto&& work) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    models[k].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const bool screening = std::isfinite(margin);
  std::vector<std::size_t> order(m);
  for (std::size_t k = 0; k < m; ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return models[a].run.posterior.log_evidence > models[b].run.posterior.log_evidence;
  });
  const auto pessimistic = [](const population_posterior& p) { return p.log_evidence - 3.0 * p.log_evidence_se; };
  double best = -INFINITY;
  for (const std::size_t k : order) {
    auto& e = models[k];
    timed(k, [&] { e.engine->locate(e.run, screening ? best - margin : -INFINITY); });
    if (e.run.located()) best = std::max(best, pessimistic(e.run.posterior));
  }
  std::vector<char> full(m, 0);
  const auto refine_near = [&](double bar) {
    bool any = false;
    for (const std::size_t k : order) {
      auto& e = models[k];
      if (full[k] || (screening && e.run.optimistic_log_evidence() < bar)) continue;
      timed(k, [&] { e.posterior = e.resume ? e.resume(std::move(e.run)) : e.engine->resume(std::move(e.run)); });
      full[k] = 1;
      any = true;
    }
    return any;
  };
  refine_near(best - margin);
  for (;;) {  // the full runs' best may come lower than the located one: refine what is now near it
    double best_full = -INFINITY;
    for (std::size_t k = 0; k < m; ++k)
      if (full[k]) best_full = std::max(best_full, pessimistic(models[k].posterior));
    if (!refine_near(best_full - margin)) break;
  }
  for (std::size_t k = 0; k < m; ++k) {
    models[k].screened = !full[k];
    if (!full[k]) models[k].posterior = models[k].run.posterior;
  }
}

}  // namespace chempp::inference
