// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/noise_model.hpp"

#include <cmath>

#include "support/test_support.hpp"

using namespace chempp::inference;

TEST_CASE("noise_model: default is 8 x 0.05 dex; residual std matches (seeded, 5 % threshold)") {
  const gaussian_noise nm;
  REQUIRE(nm.dim() == 8);
  CHECK(nm.sigma()(3) == 0.05);
  auto rng = chempp::test::seeded_rng(11);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(20000, 8);
  nm.apply_rows(x, rng);
  for (Eigen::Index j = 0; j < 8; ++j) {
    const double sd = std::sqrt(x.col(j).squaredNorm() / static_cast<double>(x.rows()));
    CHECK(std::abs(sd / 0.05 - 1.0) < 0.05);  // 1σ relative error of sd is 0.5 %
    CHECK(std::abs(x.col(j).mean()) < 5.0 * 0.05 / std::sqrt(20000.0));
  }
}

TEST_CASE("noise_model: per-element and per-star sigma; zero sigma leaves x untouched") {
  Eigen::VectorXd s(3);
  s << 0.0, 0.1, 0.2;
  const gaussian_noise nm(s);
  auto rng = chempp::test::seeded_rng(12);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(3);
  nm.apply(0, x, rng);
  CHECK(x(0) == 1.0);
  CHECK(x(1) != 1.0);
  Eigen::MatrixXd ps(2, 2);
  ps << 0.0, 0.0, 0.3, 0.3;
  const per_star_gaussian_noise pn(ps);
  Eigen::VectorXd y = Eigen::VectorXd::Zero(2);
  pn.apply(0, y, rng);
  CHECK(y.isZero());
  pn.apply(1, y, rng);
  CHECK(!y.isZero());
  CHECK_THROWS_AS(pn.apply(2, y, rng), chempp::invalid_argument);
  Eigen::VectorXd wrong = Eigen::VectorXd::Zero(4);
  CHECK_THROWS_AS(nm.apply(0, wrong, rng), chempp::invalid_argument);
  ps(1, 0) = -1.0;
  CHECK_THROWS_WITH_AS(per_star_gaussian_noise{ps}, doctest::Contains("sigma_dex(1, 0)"),
                       chempp::invalid_argument);
}
