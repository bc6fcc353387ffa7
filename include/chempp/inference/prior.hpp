// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Priors for simulation-based inference: independent products of Normal and uniform factors
/// (the paper's prior), and an axis-aligned box (uniform) prior.
///
/// The paper's prior (Buck et al. 2025, §2.3 and Table 1, as the code actually uses it; see
/// docs/sbi-pipeline.md §1): θ = (α_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T) with
/// independent Normal factors of means (−2.3, −2.89, −0.3, 0.55, 0.5) and standard deviations
/// (0.3, 0.3, 0.3, 0.1, 0.1) for the five physics parameters (no truncation) and T ~ U[2, 12.8]
/// Gyr.

#include "chempp/core/compat_eigen.hpp"

#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::inference {

/// A prior distribution over R^d: dimension, log density and sampling with a user generator.
template <class P>
concept Prior = requires(const P& p, const Eigen::VectorXd& x, std::mt19937_64& rng) {
  { p.dim() } -> std::convertible_to<std::size_t>;
  { p.log_density(x) } -> std::convertible_to<double>;
  { p.in_support(x) } -> std::convertible_to<bool>;
  { p.sample(rng) } -> std::convertible_to<Eigen::VectorXd>;
};

/// One independent factor of a `product_prior`: Normal(a, b) (a = mean, b = σ > 0) or
/// Uniform[a, b] (a < b).
struct prior_factor {
  /// The factor's family.
  enum class kind { normal, uniform };
  kind family = kind::normal;  ///< Normal or uniform
  double a = 0.0;              ///< mean (normal) or lower bound (uniform)
  double b = 1.0;              ///< standard deviation (normal) or upper bound (uniform)
  std::string name;            ///< parameter name, for messages and output

  /// A Normal(mean, sigma) factor. \throws invalid_argument unless sigma > 0 and mean finite.
  static prior_factor normal(double mean, double sigma, std::string name = {}) {
    check_finite("prior_factor::normal", "mean", mean);
    check_positive("prior_factor::normal", "sigma", sigma);
    return {kind::normal, mean, sigma, std::move(name)};
  }
  /// A Uniform[lo, hi] factor. \throws invalid_argument unless lo < hi, both finite.
  static prior_factor uniform(double lo, double hi, std::string name = {}) {
    check_finite("prior_factor::uniform", "lo", lo);
    check_finite("prior_factor::uniform", "hi", hi);
    if (!(lo < hi))
      chempp::detail::throw_argument("prior_factor::uniform", "hi", "must exceed lo", hi);
    return {kind::uniform, lo, hi, std::move(name)};
  }

  /// Mean of the factor.
  [[nodiscard]] double mean() const noexcept { return family == kind::normal ? a : 0.5 * (a + b); }
  /// Variance of the factor.
  [[nodiscard]] double variance() const noexcept {
    return family == kind::normal ? b * b : (b - a) * (b - a) / 12.0;
  }
};

/// A product of independent one-dimensional factors (Normal and/or uniform).
class product_prior {
 public:
  /// \throws invalid_argument if `factors` is empty.
  explicit product_prior(std::vector<prior_factor> factors) : factors_(std::move(factors)) {
    if (factors_.empty()) {
      throw invalid_argument("product_prior: factors must not be empty");
    }
  }

  /// Number of parameters.
  [[nodiscard]] std::size_t dim() const noexcept { return factors_.size(); }
  /// The factors, in parameter order.
  [[nodiscard]] const std::vector<prior_factor>& factors() const noexcept { return factors_; }

  /// True when every uniform coordinate lies in its closed interval (Normal ones: finite).
  /// \throws invalid_argument on a size mismatch.
  [[nodiscard]] bool in_support(const Eigen::VectorXd& x) const {
    check_size(x, "in_support");
    for (std::size_t i = 0; i < factors_.size(); ++i) {
      const double v = x(static_cast<Eigen::Index>(i));
      if (!std::isfinite(v)) return false;
      const auto& f = factors_[i];
      if (f.family == prior_factor::kind::uniform && (v < f.a || v > f.b)) return false;
    }
    return true;
  }

  /// Log density (natural log, normalised); −inf outside the support.
  /// \throws invalid_argument on a size mismatch.
  [[nodiscard]] double log_density(const Eigen::VectorXd& x) const {
    check_size(x, "log_density");
    double lp = 0.0;
    for (std::size_t i = 0; i < factors_.size(); ++i) {
      const double v = x(static_cast<Eigen::Index>(i));
      const auto& f = factors_[i];
      if (f.family == prior_factor::kind::normal) {
        const double z = (v - f.a) / f.b;
        lp += -0.5 * z * z - std::log(f.b) - 0.5 * std::log(2.0 * std::numbers::pi);
      } else {
        if (!(v >= f.a && v <= f.b)) return -INFINITY;
        lp -= std::log(f.b - f.a);
      }
    }
    return lp;
  }

  /// One draw using the caller's generator `rng` (any UniformRandomBitGenerator).
  template <class Rng>
  [[nodiscard]] Eigen::VectorXd sample(Rng& rng) const {
    Eigen::VectorXd x(static_cast<Eigen::Index>(factors_.size()));
    for (std::size_t i = 0; i < factors_.size(); ++i) {
      const auto& f = factors_[i];
      if (f.family == prior_factor::kind::normal) {
        std::normal_distribution<double> d(f.a, f.b);
        x(static_cast<Eigen::Index>(i)) = d(rng);
      } else {
        std::uniform_real_distribution<double> d(f.a, f.b);
        x(static_cast<Eigen::Index>(i)) = d(rng);
      }
    }
    return x;
  }

  /// `n` draws as the rows of an n × dim matrix.
  template <class Rng>
  [[nodiscard]] Eigen::MatrixXd sample(Rng& rng, std::size_t n) const {
    Eigen::MatrixXd out(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(dim()));
    for (Eigen::Index r = 0; r < out.rows(); ++r) out.row(r) = sample(rng).transpose();
    return out;
  }

  /// Prior mean vector.
  [[nodiscard]] Eigen::VectorXd mean() const {
    Eigen::VectorXd m(static_cast<Eigen::Index>(dim()));
    for (std::size_t i = 0; i < dim(); ++i) m(static_cast<Eigen::Index>(i)) = factors_[i].mean();
    return m;
  }
  /// Prior covariance (diagonal).
  [[nodiscard]] Eigen::MatrixXd covariance() const {
    Eigen::VectorXd v(static_cast<Eigen::Index>(dim()));
    for (std::size_t i = 0; i < dim(); ++i) {
      v(static_cast<Eigen::Index>(i)) = factors_[i].variance();
    }
    return v.asDiagonal();
  }

  /// The prior restricted to the parameters `indices` (e.g. {0, 1} for Λ).
  /// \throws invalid_argument on an index out of range.
  [[nodiscard]] product_prior marginal(const std::vector<std::size_t>& indices) const {
    std::vector<prior_factor> f;
    for (auto i : indices) {
      if (i >= dim()) {
        chempp::detail::throw_argument("product_prior::marginal", "index", "is out of range",
                                       static_cast<double>(i));
      }
      f.push_back(factors_[i]);
    }
    return product_prior(std::move(f));
  }

 private:
  void check_size(const Eigen::VectorXd& x, const char* fn) const {
    if (static_cast<std::size_t>(x.size()) != dim()) {
      chempp::detail::throw_argument(std::string("product_prior::") + fn, "x",
                                     "has the wrong size (expected " + std::to_string(dim()) + ")",
                                     static_cast<double>(x.size()));
    }
  }
  std::vector<prior_factor> factors_;
};

/// Options of the paper's prior; defaults are the values the paper's code used.
struct paper_prior_options {
  Eigen::Matrix<double, 5, 1> mean{-2.3, -2.89, -0.3, 0.55, 0.5};  ///< Normal means
  Eigen::Matrix<double, 5, 1> sigma{0.3, 0.3, 0.3, 0.1, 0.1};      ///< Normal σ
  double time_lo_gyr = 2.0;                                        ///< T lower bound [Gyr]
  double time_hi_gyr = 12.8;                                       ///< T upper bound [Gyr]
};

/// The paper's 6-parameter NPE prior θ = (α_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out,
/// T [Gyr]) (Buck et al. 2025 §2.3; docs/sbi-pipeline.md §1: Normal factors without truncation
/// and T ~ U[2, 12.8] as in the code).
[[nodiscard]] inline product_prior paper_prior(const paper_prior_options& o = {}) {
  static constexpr const char* names[5] = {"alpha_IMF", "log10_N_Ia", "log10_SFE", "log10_SFR_peak",
                                           "x_out"};
  std::vector<prior_factor> f;
  for (Eigen::Index i = 0; i < 5; ++i) {
    f.push_back(prior_factor::normal(o.mean(i), o.sigma(i), names[i]));
  }
  f.push_back(prior_factor::uniform(o.time_lo_gyr, o.time_hi_gyr, "time_gyr"));
  return product_prior(std::move(f));
}

/// The prior of the global parameters Λ = (α_IMF, log10 N_Ia) alone: Normal((−2.3, −2.89),
/// diag(0.3², 0.3²)) — the prior divided out by the multi-star combiners (sbi-pipeline.md §6).
[[nodiscard]] inline product_prior global_prior(const paper_prior_options& o = {}) {
  return paper_prior(o).marginal({0, 1});
}

/// An axis-aligned box prior: independent Uniform[lo_i, hi_i].
class box_prior {
 public:
  /// \throws invalid_argument on mismatched sizes, non-finite bounds or lo_i ≥ hi_i.
  box_prior(Eigen::VectorXd lo, Eigen::VectorXd hi) : lo_(std::move(lo)), hi_(std::move(hi)) {
    if (lo_.size() != hi_.size() || lo_.size() == 0) {
      throw invalid_argument("box_prior: lo and hi must be non-empty and of equal size");
    }
    for (Eigen::Index i = 0; i < lo_.size(); ++i) {
      check_finite("box_prior", "lo", lo_(i));
      check_finite("box_prior", "hi", hi_(i));
      if (!(lo_(i) < hi_(i)))
        chempp::detail::throw_argument("box_prior", "hi", "must exceed lo", hi_(i));
    }
    log_volume_ = (hi_ - lo_).array().log().sum();
  }
  /// Number of parameters.
  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(lo_.size()); }
  /// Lower bounds.
  [[nodiscard]] const Eigen::VectorXd& lo() const noexcept { return lo_; }
  /// Upper bounds.
  [[nodiscard]] const Eigen::VectorXd& hi() const noexcept { return hi_; }
  /// True inside the closed box. \throws invalid_argument on a size mismatch.
  [[nodiscard]] bool in_support(const Eigen::VectorXd& x) const {
    if (x.size() != lo_.size())
      throw invalid_argument("box_prior::in_support: x has the wrong size");
    return (x.array() >= lo_.array()).all() && (x.array() <= hi_.array()).all();
  }
  /// −log(volume) inside, −inf outside.
  [[nodiscard]] double log_density(const Eigen::VectorXd& x) const {
    return in_support(x) ? -log_volume_ : -INFINITY;
  }
  /// One draw with the caller's generator.
  template <class Rng>
  [[nodiscard]] Eigen::VectorXd sample(Rng& rng) const {
    Eigen::VectorXd x(lo_.size());
    for (Eigen::Index i = 0; i < lo_.size(); ++i) {
      std::uniform_real_distribution<double> d(lo_(i), hi_(i));
      x(i) = d(rng);
    }
    return x;
  }

 private:
  Eigen::VectorXd lo_, hi_;
  double log_volume_ = 0.0;
};

static_assert(Prior<product_prior>);
static_assert(Prior<box_prior>);

}  // namespace chempp::inference
