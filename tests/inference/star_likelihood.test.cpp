// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/star_likelihood.hpp"

#include <Eigen/LU>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "support/test_support.hpp"

using chempp::inference::star_data;
using chempp::inference::star_likelihood;

TEST_CASE("star_likelihood: add_rows and add_columns equal the per-row evaluation and the dense Gaussian, masks and failed rows included") {
  auto rng = chempp::test::seeded_rng(31);
  std::normal_distribution<double> nd;
  const Eigen::Index k = 8;
  star_data s;
  s.x = Eigen::VectorXd::NullaryExpr(k, [&] { return 0.2 * nd(rng); });
  s.sigma = Eigen::VectorXd::LinSpaced(k, 0.03, 0.1);
  s.measured = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(k, true);
  s.measured(3) = false;  // an unmeasured observable is left out of the Gaussian
  Eigen::MatrixXd a = Eigen::MatrixXd::NullaryExpr(k, k, [&] { return 0.02 * nd(rng); });
  const Eigen::MatrixXd model_cov = a * a.transpose();  // a correlated simulator error covariance
  for (const bool correlated : {false, true}) {
    const star_likelihood lik(s, correlated ? model_cov : Eigen::MatrixXd());
    // the dense reference over the measured subset
    std::vector<Eigen::Index> idx;
    for (Eigen::Index j = 0; j < k; ++j)
      if (s.measured(j)) idx.push_back(j);
    const auto m = static_cast<Eigen::Index>(idx.size());
    Eigen::MatrixXd cov(m, m);
    for (Eigen::Index i = 0; i < m; ++i)
      for (Eigen::Index j = 0; j < m; ++j)
        cov(i, j) = (i == j ? s.sigma(idx[std::size_t(i)]) * s.sigma(idx[std::size_t(i)]) : 0.0) +
                    (correlated ? model_cov(idx[std::size_t(i)], idx[std::size_t(j)]) : 0.0);
    const Eigen::MatrixXd prec = cov.inverse();
    const double log_det = std::log(cov.determinant());
    for (const std::size_t n : {std::size_t(1), std::size_t(7), std::size_t(8), std::size_t(37)}) {
      const std::size_t stride = 9;  // k ≥ K: rows padded by one value
      std::vector<double> f(n * stride);
      for (auto& v : f) v = 0.2 * nd(rng);
      if (n > 5) f[5 * stride + 2] = std::nan("");  // a failed simulation: −inf
      if (n > 6) f[6 * stride + 3] = std::nan("");  // NaN in an unmeasured observable: ignored
      if (n > 7) f[7 * stride + 4] = INFINITY;      // an infinite simulation: −inf (diagonal L included)
      std::vector<double> lw(n, 1.5);
      lik.add_rows(f.data(), n, stride, lw.data());
      // the same rows column-major (observable j of row r at j · ld + r, ld > n): add_columns
      const std::size_t ld = n + 2;
      std::vector<double> fc(stride * ld, 0.0), lc(n, 1.5);
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t j = 0; j < stride; ++j) fc[j * ld + r] = f[r * stride + j];
      lik.add_columns(fc.data(), ld, n, lc.data());
      for (std::size_t r = 0; r < n; ++r) {
        INFO("n " << n << ", row " << r << ", correlated " << correlated);
        CHECK(lw[r] - 1.5 == lik(f.data() + r * stride));  // bit for bit
        CHECK(lc[r] == lw[r]);                              // bit for bit
        if (r == 5 || r == 7) {
          CHECK(lw[r] == -INFINITY);
          continue;
        }
        Eigen::VectorXd res(m);
        for (Eigen::Index i = 0; i < m; ++i) res(i) = s.x(idx[std::size_t(i)]) - f[r * stride + std::size_t(idx[std::size_t(i)])];
        const double exact = -0.5 * res.dot(prec * res) - 0.5 * double(m) * std::log(2.0 * std::numbers::pi) - 0.5 * log_det;
        CHECK(lw[r] - 1.5 == doctest::Approx(exact).epsilon(1e-10));
      }
    }
  }
}
