// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Gaussian summary of posterior samples: sample mean and covariance.
///
/// The paper fits each star's 1000 (α_IMF, log10 N_Ia) posterior samples with the mean and
/// `np.cov` (ddof = 1) before combining stars (`plot_functions.py: mean_std`,
/// docs/sbi-pipeline.md §6); its quoted 1-D numbers use `np.std` (ddof = 0).

#include "chempp/core/compat_eigen.hpp"

#include <cmath>
#include <cstddef>
#include <string>

#include "chempp/core/error.hpp"

namespace chempp::inference {

/// A multivariate Gaussian N(mean, cov).
struct gaussian {
  Eigen::VectorXd mean;  ///< mean vector
  Eigen::MatrixXd cov;   ///< covariance matrix (symmetric positive definite)

  /// Number of dimensions.
  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(mean.size()); }
  /// Marginal standard deviations sqrt(diag(cov)).
  [[nodiscard]] Eigen::VectorXd stddev() const { return cov.diagonal().cwiseSqrt(); }
  /// Correlation coefficient of dimensions i and j.
  [[nodiscard]] double correlation(Eigen::Index i, Eigen::Index j) const {
    return cov(i, j) / std::sqrt(cov(i, i) * cov(j, j));
  }
  /// Squared Mahalanobis distance (x − mean)ᵀ cov⁻¹ (x − mean).
  /// \throws invalid_argument if cov is not positive definite, x has the wrong size or x or
  ///         the mean is not finite.
  [[nodiscard]] double mahalanobis2(const Eigen::VectorXd& x) const {
    if (x.size() != mean.size()) throw invalid_argument("gaussian::mahalanobis2: size mismatch");
    if (!x.allFinite()) throw invalid_argument("gaussian::mahalanobis2: the point is not finite");
    if (!mean.allFinite()) throw invalid_argument("gaussian::mahalanobis2: the mean is not finite");
    Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success) {
      throw invalid_argument("gaussian::mahalanobis2: covariance is not positive definite");
    }
    const Eigen::VectorXd z = llt.matrixL().solve(x - mean);
    return z.squaredNorm();
  }
};

/// Mean and covariance of the rows of `samples` (n samples × d dimensions), with divisor
/// n − ddof for the covariance (ddof = 1: unbiased, `np.cov`; ddof = 0: `np.std`²).
/// \throws invalid_argument if n ≤ ddof, ddof < 0, or a sample is not finite (naming the row);
///         numerical_error if the moments overflow (samples near ±1.8e308).
[[nodiscard]] inline gaussian fit_gaussian(const Eigen::Ref<const Eigen::MatrixXd>& samples,
                                           int ddof = 1) {
  const Eigen::Index n = samples.rows();
  if (ddof < 0)
    chempp::detail::throw_argument("fit_gaussian", "ddof", "must be non-negative", ddof);
  if (n <= ddof || samples.cols() == 0) {
    chempp::detail::throw_argument("fit_gaussian", "samples",
                                   "needs more rows than ddof and at least one column",
                                   static_cast<double>(n));
  }
  for (Eigen::Index r = 0; r < n; ++r) {
    for (Eigen::Index c = 0; c < samples.cols(); ++c) {
      if (!std::isfinite(samples(r, c))) {
        chempp::detail::throw_argument(
            "fit_gaussian", "samples(" + std::to_string(r) + ", " + std::to_string(c) + ")",
            "is not finite", samples(r, c));
      }
    }
  }
  gaussian g;
  g.mean = samples.colwise().mean().transpose();
  const Eigen::MatrixXd centred = samples.rowwise() - g.mean.transpose();
  g.cov = (centred.transpose() * centred) / static_cast<double>(n - ddof);
  if (!g.mean.allFinite() || !g.cov.allFinite()) {
    throw numerical_error("fit_gaussian: the mean or covariance of finite samples overflows (values near the "
                          "largest double); rescale the samples");
  }
  return g;
}

}  // namespace chempp::inference
