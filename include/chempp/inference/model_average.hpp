// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Bayesian model comparison and model averaging over population posteriors (docs/inference.md,
/// "Model comparison"). For models M_k with evidences Z_k = p(X | M_k) and prior probabilities
/// π_k, the posterior model probabilities are P_k = π_k Z_k / Σ_j π_j Z_j, and the
/// model-averaged posterior of Λ is the mixture Σ_k P_k p(Λ | X, M_k) (Kass & Raftery 1995,
/// J. Am. Stat. Assoc. 90:773; Hoeting et al. 1999, Stat. Sci. 14:382). The Monte Carlo errors
/// of the log evidences propagate to P_k by the delta method:
/// ∂P_k/∂log Z_j = P_k (δ_kj − P_j).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/compat_eigen.hpp"
#include "chempp/core/error.hpp"
#include "chempp/inference/population.hpp"

namespace chempp::inference {

/// Posterior model probabilities from log evidences (natural log) and prior probabilities
/// (empty: equal). \throws invalid_argument on no models, a non-finite log evidence, a prior of
/// the wrong size, or a prior probability that is negative, non-finite or sums to zero.
[[nodiscard]] inline std::vector<double> model_probabilities(std::span<const double> log_evidence,
                                                             std::span<const double> prior = {}) {
  const char* fn = "model_probabilities";
  const std::size_t m = log_evidence.size();
  if (m == 0) throw invalid_argument(std::string(fn) + ": no models");
  if (!prior.empty() && prior.size() != m)
    throw invalid_argument(std::string(fn) + ": " + std::to_string(prior.size()) + " prior probabilities for " +
                           std::to_string(m) + " models");
  std::vector<double> lp(m);
  double psum = 0.0;
  for (std::size_t k = 0; k < m; ++k) {
    if (!std::isfinite(log_evidence[k]))
      throw invalid_argument(std::string(fn) + ": log evidence of model " + std::to_string(k) + " is not finite");
    const double pk = prior.empty() ? 1.0 : prior[k];
    if (!(pk >= 0.0) || !std::isfinite(pk))
      throw invalid_argument(std::string(fn) + ": prior probability of model " + std::to_string(k) + " must be finite and >= 0");
    psum += pk;
    lp[k] = pk > 0.0 ? std::log(pk) + log_evidence[k] : -INFINITY;
  }
  if (!(psum > 0.0)) throw invalid_argument(std::string(fn) + ": the prior probabilities sum to zero");
  const double mx = *std::max_element(lp.begin(), lp.end());
  double s = 0.0;
  for (double& v : lp) s += (v = std::exp(v - mx));
  for (double& v : lp) v /= s;
  return lp;
}

/// Model probabilities, their Monte Carlo errors, and the model-averaged posterior of Λ.
class model_average {
 public:
  /// \param posteriors one population posterior per model (its `log_evidence` and
  ///        `log_evidence_se` are used). \param prior prior model probabilities (empty: equal).
  model_average(std::vector<population_posterior> posteriors, std::span<const double> prior = {})
      : post_(std::move(posteriors)) {
    std::vector<double> lz;
    for (const auto& p : post_) lz.push_back(p.log_evidence);
    probability = model_probabilities(lz, prior);
    const std::size_t m = post_.size();
    probability_se.assign(m, 0.0);
    for (std::size_t k = 0; k < m; ++k) {
      double v = 0.0;
      for (std::size_t j = 0; j < m; ++j) {
        const double d = probability[k] * ((k == j ? 1.0 : 0.0) - probability[j]);
        v += d * d * post_[j].log_evidence_se * post_[j].log_evidence_se;
      }
      probability_se[k] = std::sqrt(v);
    }
    // log of the averaged model's evidence: log Σ π_k Z_k (π normalised)
    double psum = 0.0, mx = -INFINITY;
    for (std::size_t k = 0; k < m; ++k) psum += prior.empty() ? 1.0 : prior[k];
    std::vector<double> terms(m);
    for (std::size_t k = 0; k < m; ++k) {
      const double pk = (prior.empty() ? 1.0 : prior[k]) / psum;
      terms[k] = pk > 0.0 ? std::log(pk) + post_[k].log_evidence : -INFINITY;
      mx = std::max(mx, terms[k]);
    }
    double s = 0.0;
    for (double t : terms) s += std::exp(t - mx);
    log_evidence = mx + std::log(s);
    // mixture moments
    mean.setZero();
    Eigen::Matrix2d second = Eigen::Matrix2d::Zero();
    for (std::size_t k = 0; k < m; ++k) {
      mean += probability[k] * post_[k].mean;
      second += probability[k] * (post_[k].cov + post_[k].mean * post_[k].mean.transpose());
    }
    cov = second - mean * mean.transpose();
    cov = 0.5 * (cov + cov.transpose());
  }

  std::vector<double> probability;     ///< posterior model probabilities P_k
  std::vector<double> probability_se;  ///< their Monte Carlo standard errors (delta method)
  double log_evidence = 0.0;           ///< log Σ_k π_k Z_k: the evidence of the averaged model
  Eigen::Vector2d mean = Eigen::Vector2d::Zero();    ///< model-averaged posterior mean of Λ
  Eigen::Matrix2d cov = Eigen::Matrix2d::Identity(); ///< … and covariance (includes the spread between models)

  /// The models' posteriors, in order.
  [[nodiscard]] const std::vector<population_posterior>& posteriors() const noexcept { return post_; }
  /// Index of the most probable model.
  [[nodiscard]] std::size_t best() const {
    return static_cast<std::size_t>(std::max_element(probability.begin(), probability.end()) - probability.begin());
  }

  /// Normalised log density of the model-averaged posterior at Λ (−inf outside every grid).
  [[nodiscard]] double log_density(const Eigen::Vector2d& lambda) const {
    double s = 0.0;
    for (std::size_t k = 0; k < post_.size(); ++k)
      if (probability[k] > 0.0) s += probability[k] * std::exp(post_[k].log_density(lambda));
    return s > 0.0 ? std::log(s) : -INFINITY;
  }

  /// `n` draws of Λ from the mixture (rows): model k with probability P_k, then its posterior.
  template <class Rng>
  [[nodiscard]] Eigen::MatrixXd sample(std::size_t n, Rng& rng) const {
    std::discrete_distribution<std::size_t> pick(probability.begin(), probability.end());
    std::vector<std::size_t> count(post_.size(), 0);
    for (std::size_t r = 0; r < n; ++r) ++count[pick(rng)];
    Eigen::MatrixXd out(static_cast<Eigen::Index>(n), 2);
    Eigen::Index row = 0;
    for (std::size_t k = 0; k < post_.size(); ++k) {
      if (count[k] == 0) continue;
      out.middleRows(row, static_cast<Eigen::Index>(count[k])) = post_[k].sample(count[k], rng);
      row += static_cast<Eigen::Index>(count[k]);
    }
    // interleave the models so any prefix of the draws is a mixture sample too
    for (Eigen::Index r = out.rows() - 1; r > 0; --r) {
      std::uniform_int_distribution<Eigen::Index> u(0, r);
      out.row(r).swap(out.row(u(rng)));
    }
    return out;
  }

  /// HPD level of Λ under the mixture: the posterior mass where the mixture density exceeds its
  /// density at Λ, estimated from `draws` (rows, e.g. `sample(20000, rng)`; Monte Carlo error
  /// ≤ 0.5/√draws). For one model prefer `population_posterior::hpd_level` (exact on its grid).
  [[nodiscard]] double hpd_level(const Eigen::Vector2d& lambda, const Eigen::MatrixXd& draws) const {
    if (draws.rows() == 0 || draws.cols() != 2) throw invalid_argument("model_average::hpd_level: need draws (n × 2)");
    const double at = log_density(lambda);
    if (!std::isfinite(at)) return 1.0;
    std::size_t above = 0;
    for (Eigen::Index r = 0; r < draws.rows(); ++r)
      if (log_density(draws.row(r).transpose()) > at) ++above;
    return static_cast<double>(above) / static_cast<double>(draws.rows());
  }

 private:
  std::vector<population_posterior> post_;
};

}  // namespace chempp::inference
