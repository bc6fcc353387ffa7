// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test fixture: a conjugate linear-Gaussian model with a known posterior.
//   θ ~ N(0, I_D),  x = A θ + ε,  ε ~ N(0, σ² I_C)
//   θ | x ~ N(μ, Σ),  Σ = (I + AᵀA/σ²)⁻¹,  μ = Σ Aᵀ x / σ²

#include <Eigen/Dense>

#include <random>

namespace chempp::test {

struct linear_gaussian {
  Eigen::MatrixXd a;     ///< C × D
  double noise = 0.5;    ///< σ
  [[nodiscard]] Eigen::MatrixXd posterior_cov() const {
    const Eigen::Index d = a.cols();
    Eigen::MatrixXd prec = Eigen::MatrixXd::Identity(d, d) + a.transpose() * a / (noise * noise);
    return prec.inverse();
  }
  [[nodiscard]] Eigen::VectorXd posterior_mean(const Eigen::VectorXd& x) const {
    return posterior_cov() * a.transpose() * x / (noise * noise);
  }
  /// N pairs, rows = pairs.
  template <class Rng>
  void simulate(Eigen::Index n, Rng& rng, Eigen::MatrixXd& theta, Eigen::MatrixXd& x) const {
    std::normal_distribution<double> nd;
    theta.resize(n, a.cols());
    x.resize(n, a.rows());
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < a.cols(); ++j) theta(i, j) = nd(rng);
      x.row(i) = (a * theta.row(i).transpose()).transpose();
      for (Eigen::Index j = 0; j < a.rows(); ++j) x(i, j) += noise * nd(rng);
    }
  }
  static linear_gaussian standard() {
    linear_gaussian m;
    m.a.resize(3, 2);
    m.a << 1.0, 0.5, -0.3, 0.8, 0.6, -0.4;
    m.noise = 0.5;
    return m;
  }
};

}  // namespace chempp::test
