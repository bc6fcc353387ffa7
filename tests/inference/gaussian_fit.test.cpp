// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/gaussian_fit.hpp"

#include <cmath>

#include "support/test_support.hpp"

using namespace chempp::inference;

TEST_CASE("gaussian_fit: hand-computed mean and covariance with ddof 1 and 0") {
  Eigen::MatrixXd s(4, 2);
  s << 1, 2, 2, 4, 3, 5, 6, 1;
  const auto g1 = fit_gaussian(s);
  CHECK(g1.mean(0) == doctest::Approx(3.0).epsilon(1e-15));
  CHECK(g1.mean(1) == doctest::Approx(3.0).epsilon(1e-15));
  // deviations x: -2,-1,0,3 ; y: -1,1,2,-2
  CHECK(g1.cov(0, 0) == doctest::Approx(14.0 / 3.0).epsilon(1e-15));
  CHECK(g1.cov(1, 1) == doctest::Approx(10.0 / 3.0).epsilon(1e-15));
  CHECK(g1.cov(0, 1) == doctest::Approx(-5.0 / 3.0).epsilon(1e-15));
  const auto g0 = fit_gaussian(s, 0);
  CHECK(g0.cov(0, 0) == doctest::Approx(14.0 / 4.0).epsilon(1e-15));
  CHECK(g1.correlation(0, 1) == doctest::Approx(-5.0 / std::sqrt(140.0)).epsilon(1e-14));
}

TEST_CASE("gaussian_fit: recovers a known Gaussian (seeded, 5-sigma thresholds)") {
  auto rng = chempp::test::seeded_rng(99);
  std::normal_distribution<double> n01;
  const Eigen::Index n = 50000;
  Eigen::Matrix2d L;
  L << 0.08, 0.0, 0.8 * 0.12, 0.6 * 0.12;  // σ = (0.08, 0.12), ρ = 0.8
  Eigen::MatrixXd s(n, 2);
  for (Eigen::Index r = 0; r < n; ++r) {
    const Eigen::Vector2d z(n01(rng), n01(rng));
    s.row(r) = (Eigen::Vector2d(-2.3, -2.89) + L * z).transpose();
  }
  const auto g = fit_gaussian(s);
  CHECK(std::abs(g.mean(0) + 2.3) < 5 * 0.08 / std::sqrt(double(n)));
  CHECK(std::abs(g.stddev()(1) / 0.12 - 1.0) < 5 * std::sqrt(0.5 / double(n)));
  CHECK(std::abs(g.correlation(0, 1) - 0.8) < 5 * (1 - 0.64) / std::sqrt(double(n)));
  CHECK(g.mahalanobis2(g.mean) == doctest::Approx(0.0));
}

TEST_CASE("gaussian_fit: bad input names the offending sample") {
  Eigen::MatrixXd s = Eigen::MatrixXd::Ones(3, 2);
  s(2, 1) = NAN;
  CHECK_THROWS_WITH_AS((void)fit_gaussian(s), doctest::Contains("samples(2, 1)"),
                       chempp::invalid_argument);
  CHECK_THROWS_AS((void)fit_gaussian(Eigen::MatrixXd::Ones(1, 2)), chempp::invalid_argument);
  CHECK_THROWS_AS((void)fit_gaussian(Eigen::MatrixXd::Ones(3, 2), -1), chempp::invalid_argument);
}
