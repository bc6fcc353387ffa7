// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/prior.hpp"

#include <cmath>
#include <numbers>

#include "support/test_support.hpp"

using namespace chempp::inference;

TEST_CASE("prior: the paper's prior has the code's means, sigmas and T range") {
  const auto p = paper_prior();
  REQUIRE(p.dim() == 6);
  const double mu[5] = {-2.3, -2.89, -0.3, 0.55, 0.5};
  const double sd[5] = {0.3, 0.3, 0.3, 0.1, 0.1};
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(p.factors()[i].family == prior_factor::kind::normal);
    CHECK(p.factors()[i].a == mu[i]);
    CHECK(p.factors()[i].b == sd[i]);
  }
  CHECK(p.factors()[5].family == prior_factor::kind::uniform);
  CHECK(p.factors()[5].a == 2.0);
  CHECK(p.factors()[5].b == 12.8);
  CHECK(p.factors()[0].name == "alpha_IMF");
}

TEST_CASE("prior: log density is the closed form; -inf outside the T range") {
  const auto p = paper_prior();
  Eigen::VectorXd x(6);
  x << -2.0, -3.0, -0.3, 0.6, 0.45, 5.0;
  double expect = -std::log(10.8);
  const double mu[5] = {-2.3, -2.89, -0.3, 0.55, 0.5};
  const double sd[5] = {0.3, 0.3, 0.3, 0.1, 0.1};
  for (int i = 0; i < 5; ++i) {
    const double z = (x(i) - mu[i]) / sd[i];
    expect += -0.5 * z * z - std::log(sd[i] * std::sqrt(2.0 * std::numbers::pi));
  }
  CHECK(p.log_density(x) == doctest::Approx(expect).epsilon(1e-14));
  CHECK(p.in_support(x));
  x(5) = 12.9;
  CHECK(std::isinf(p.log_density(x)));
  CHECK_FALSE(p.in_support(x));
  CHECK_THROWS_AS((void)p.log_density(Eigen::VectorXd::Zero(5)), chempp::invalid_argument);
}

TEST_CASE("prior: sample moments match the prior (seeded, 4-sigma thresholds)") {
  auto rng = chempp::test::seeded_rng(20261122);
  const auto p = paper_prior();
  const std::size_t n = 20000;
  const Eigen::MatrixXd s = p.sample(rng, n);
  const Eigen::VectorXd m = s.colwise().mean().transpose();
  const Eigen::VectorXd mu = p.mean();
  const Eigen::VectorXd var = p.covariance().diagonal();
  for (Eigen::Index i = 0; i < 6; ++i) {
    const double se = std::sqrt(var(i) / static_cast<double>(n));
    CHECK(std::abs(m(i) - mu(i)) < 4.0 * se);
  }
  CHECK(s.col(5).minCoeff() >= 2.0);
  CHECK(s.col(5).maxCoeff() <= 12.8);
  // Same seed, same draws.
  std::mt19937_64 a(7), b(7);
  CHECK(p.sample(a) == p.sample(b));
}

TEST_CASE("prior: configurable, marginal and argument checks") {
  paper_prior_options o;
  o.time_lo_gyr = 1.0;
  o.time_hi_gyr = 13.8;
  const auto p = paper_prior(o);
  CHECK(p.factors()[5].a == 1.0);
  const auto g = global_prior();
  REQUIRE(g.dim() == 2);
  CHECK(g.mean()(1) == -2.89);
  CHECK(g.covariance()(0, 0) == doctest::Approx(0.09));
  CHECK_THROWS_AS(prior_factor::normal(0.0, 0.0), chempp::invalid_argument);
  CHECK_THROWS_AS(prior_factor::uniform(1.0, 1.0), chempp::invalid_argument);
  CHECK_THROWS_AS((void)p.marginal({6}), chempp::invalid_argument);
}

TEST_CASE("prior: box prior density, support and sampling") {
  const box_prior b(Eigen::Vector2d(0.0, -1.0), Eigen::Vector2d(2.0, 3.0));
  CHECK(b.log_density(Eigen::Vector2d(1.0, 0.0)) == doctest::Approx(-std::log(8.0)));
  CHECK(std::isinf(b.log_density(Eigen::Vector2d(2.1, 0.0))));
  auto rng = chempp::test::seeded_rng(3);
  for (int k = 0; k < 100; ++k) CHECK(b.in_support(b.sample(rng)));
  CHECK_THROWS_AS(box_prior(Eigen::Vector2d(0.0, 0.0), Eigen::Vector2d(1.0, 0.0)),
                  chempp::invalid_argument);
}
