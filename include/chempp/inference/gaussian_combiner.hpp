// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Combination of N per-star Gaussian posteriors N(μ_i, Σ_i) of the global parameters Λ into a
/// posterior given all stars, as policies (Buck et al. 2025 eqs. 5–7; docs/sbi-pipeline.md §6).
///
/// Each per-star posterior p(Λ|x_i) ∝ p(x_i|Λ) p(Λ) contains the prior once, so the exact joint
/// posterior is p(Λ|{x}) ∝ p(Λ)^(1−N) ∏_i p(Λ|x_i). For Gaussian factors (prior N(μ_p, Σ_p)):
///
///   P = Σ_i Σ_i⁻¹ − (N−1) Σ_p⁻¹,   μ = P⁻¹ (Σ_i Σ_i⁻¹ μ_i − (N−1) Σ_p⁻¹ μ_p).
///
/// * `corrected_gaussian_product`: the formula above (full covariances).
/// * `paper_gaussian_product`: the paper's published formula with +(N−1) (eqs. 6–7, the code
///   and the README), for reproduction only: too narrow and pulled toward μ_p.
/// * `inverse_variance_1d`: the formula that produced the numbers quoted in the paper
///   (`chempy_tng_inference.py`): per parameter, μ = Σ w_i μ_i / Σ w_i, σ² = 1/Σ w_i with
///   w_i = 1/σ_i², no prior term and no correlation. The paper used σ_i from `np.std`
///   (ddof = 0): fit the per-star samples with `fit_gaussian(s, 0)` to reproduce it.

#include "chempp/core/compat_eigen.hpp"

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/inference/gaussian_fit.hpp"

namespace chempp::inference {

/// A combiner maps per-star Gaussian posteriors and the prior (the one each per-star posterior
/// was computed with) to the combined Gaussian posterior.
template <class C>
concept GaussianCombiner = requires(const C& c, std::span<const gaussian> stars,
                                    const gaussian& prior) {
  { c.combine(stars, prior) } -> std::convertible_to<gaussian>;
  { C::name() } -> std::convertible_to<const char*>;
};

namespace detail {

inline void check_stars(std::span<const gaussian> stars, const gaussian& prior, const char* fn) {
  if (stars.empty()) throw invalid_argument(std::string(fn) + ": no stars given");
  const Eigen::Index d = prior.mean.size();
  if (d == 0 || prior.cov.rows() != d || prior.cov.cols() != d) {
    throw invalid_argument(std::string(fn) + ": prior mean/covariance sizes disagree");
  }
  if (!prior.mean.allFinite() || !prior.cov.allFinite()) {
    throw invalid_argument(std::string(fn) + ": the prior mean or covariance is not finite");
  }
  for (std::size_t i = 0; i < stars.size(); ++i) {
    const auto& s = stars[i];
    if (s.mean.size() != d || s.cov.rows() != d || s.cov.cols() != d) {
      throw invalid_argument(std::string(fn) + ": star " + std::to_string(i) +
                             " has a dimension different from the prior's (" + std::to_string(d) +
                             ")");
    }
    if (!s.mean.allFinite() || !s.cov.allFinite()) {
      throw invalid_argument(std::string(fn) + ": star " + std::to_string(i) +
                             " has a non-finite mean or covariance");
    }
  }
}

/// Σ⁻¹ by Cholesky. \throws invalid_argument naming `what` if not positive definite.
inline Eigen::MatrixXd spd_inverse(const Eigen::MatrixXd& m, const std::string& what) {
  Eigen::LLT<Eigen::MatrixXd> llt(m);
  if (llt.info() != Eigen::Success) throw invalid_argument(what + " is not positive definite");
  return llt.solve(Eigen::MatrixXd::Identity(m.rows(), m.cols()));
}

/// The Gaussian from the summed per-star information: `precision` = Σ_i Σ_i⁻¹ and `shift` =
/// Σ_i Σ_i⁻¹ μ_i over `n` stars, plus prior_sign·(n−1) times the prior's information. Split from
/// `information_product` so that callers holding the sums (e.g. reduced over processes by the
/// population engine) finish with the same arithmetic.
/// \throws numerical_error when the combined precision is not positive definite or the result
///   is not finite.
inline gaussian information_finish(Eigen::MatrixXd precision, Eigen::VectorXd shift, std::size_t n,
                                   const gaussian& prior, double prior_sign, const char* fn) {
  const Eigen::Index d = prior.mean.size();
  const double k = prior_sign * (static_cast<double>(n) - 1.0);
  if (k != 0.0) {
    const Eigen::MatrixXd pp = spd_inverse(prior.cov, std::string(fn) + ": prior covariance");
    precision += k * pp;
    shift += k * (pp * prior.mean);
  }
  precision = 0.5 * (precision + precision.transpose());
  Eigen::LLT<Eigen::MatrixXd> llt(precision);
  if (llt.info() != Eigen::Success) {
    throw numerical_error(std::string(fn) +
                           ": the combined precision Σ_i Σ_i⁻¹ − (N−1) Σ_p⁻¹ is not positive "
                           "definite (N = " +
                           std::to_string(n) +
                           "); the per-star posteriors are wider than the prior allows — use "
                           "the exact grid combiner or check the per-star fits");
  }
  gaussian out;
  out.cov = llt.solve(Eigen::MatrixXd::Identity(d, d));
  out.cov = 0.5 * (out.cov + out.cov.transpose());
  out.mean = llt.solve(shift);
  if (!out.mean.allFinite() || !out.cov.allFinite()) {
    throw numerical_error(std::string(fn) + ": the combined mean or covariance is not finite");
  }
  return out;
}

/// Σ_i Σ_i⁻¹ + s (N−1) Σ_p⁻¹ in information form; s = −1 (correct) or +1 (paper).
inline gaussian information_product(std::span<const gaussian> stars, const gaussian& prior,
                                    double prior_sign, const char* fn) {
  check_stars(stars, prior, fn);
  const Eigen::Index d = prior.mean.size();
  Eigen::MatrixXd precision = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd shift = Eigen::VectorXd::Zero(d);
  for (std::size_t i = 0; i < stars.size(); ++i) {
    const Eigen::MatrixXd pi =
        spd_inverse(stars[i].cov, std::string(fn) + ": covariance of star " + std::to_string(i));
    precision += pi;
    shift += pi * stars[i].mean;
  }
  return information_finish(precision, shift, stars.size(), prior, prior_sign, fn);
}

}  // namespace detail

/// The correct Gaussian product with the prior divided out (N−1) times:
/// P = Σ_i Σ_i⁻¹ − (N−1) Σ_p⁻¹ (full covariances). Buck et al. 2025 eq. 5.
struct corrected_gaussian_product {
  /// Short name used in output files.
  static constexpr const char* name() noexcept { return "corrected"; }
  /// \throws invalid_argument on inconsistent sizes, a non-SPD per-star covariance, or a
  /// combined precision that is not positive definite.
  [[nodiscard]] gaussian combine(std::span<const gaussian> stars, const gaussian& prior) const {
    return detail::information_product(stars, prior, -1.0, "corrected_gaussian_product");
  }
};

/// The paper's formula as published (Buck et al. 2025 eqs. 6–7, README, `plot_functions.py`):
/// P = Σ_i Σ_i⁻¹ + (N−1) Σ_p⁻¹. Wrong sign (see the file comment); for reproduction only.
struct paper_gaussian_product {
  /// Short name used in output files.
  static constexpr const char* name() noexcept { return "paper"; }
  /// \throws invalid_argument on inconsistent sizes or a non-SPD covariance.
  [[nodiscard]] gaussian combine(std::span<const gaussian> stars, const gaussian& prior) const {
    return detail::information_product(stars, prior, +1.0, "paper_gaussian_product");
  }
};

/// Per-parameter inverse-variance weighting of the per-star means, no prior term, no
/// correlation (`chempy_tng_inference.py`; the numbers printed in the paper). The prior is
/// used only for its dimension. The result has a diagonal covariance.
struct inverse_variance_1d {
  /// Short name used in output files.
  static constexpr const char* name() noexcept { return "inverse_variance_1d"; }
  /// \throws invalid_argument on inconsistent sizes or a non-positive per-star variance.
  [[nodiscard]] gaussian combine(std::span<const gaussian> stars, const gaussian& prior) const {
    detail::check_stars(stars, prior, "inverse_variance_1d");
    const Eigen::Index d = prior.mean.size();
    Eigen::VectorXd wsum = Eigen::VectorXd::Zero(d);
    Eigen::VectorXd wmu = Eigen::VectorXd::Zero(d);
    for (std::size_t i = 0; i < stars.size(); ++i) {
      for (Eigen::Index j = 0; j < d; ++j) {
        const double v = stars[i].cov(j, j);
        if (!(v > 0.0)) {
          throw invalid_argument("inverse_variance_1d: variance " + std::to_string(j) +
                                 " of star " + std::to_string(i) + " is not positive");
        }
        wsum(j) += 1.0 / v;
        wmu(j) += stars[i].mean(j) / v;
      }
    }
    gaussian out;
    out.mean = wmu.cwiseQuotient(wsum);
    out.cov = wsum.cwiseInverse().asDiagonal();
    if (!out.mean.allFinite() || !out.cov.allFinite()) {
      throw numerical_error("inverse_variance_1d: the weighted mean is not finite (a variance so small that "
                            "its inverse overflows, e.g. a denormal)");
    }
    return out;
  }
};

static_assert(GaussianCombiner<corrected_gaussian_product>);
static_assert(GaussianCombiner<paper_gaussian_product>);
static_assert(GaussianCombiner<inverse_variance_1d>);

/// Combines `stars` with the policy `Combiner` (default: the correct product).
template <GaussianCombiner Combiner = corrected_gaussian_product>
[[nodiscard]] gaussian combine_stars(std::span<const gaussian> stars, const gaussian& prior,
                                     const Combiner& c = {}) {
  return c.combine(stars, prior);
}

}  // namespace chempp::inference
