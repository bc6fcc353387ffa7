// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/grid_combiner.hpp"

#include <Eigen/LU>

#include <cmath>
#include <numbers>
#include <vector>

#include "inference/gaussian_2d.hpp"
#include "support/test_support.hpp"

using namespace chempp::inference;
using chempp::test::gaussian_2d;

namespace {

double log_normal(const gaussian& g, const Eigen::Vector2d& x) {
  const Eigen::Matrix2d c = g.cov;
  const Eigen::Vector2d d = x - Eigen::Vector2d(g.mean);
  return -0.5 * d.dot(c.inverse() * d) - std::log(2.0 * std::numbers::pi) -
         0.5 * std::log(c.determinant());
}

// Per-star posteriors of the conjugate model y_i ~ N(Λ, S_i), Λ ~ prior: exact Gaussians.
std::vector<gaussian> conjugate_stars(const gaussian& prior, std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> n01;
  const Eigen::Matrix2d pp = prior.cov.inverse();
  const Eigen::Vector2d truth(-2.25, -2.95);
  std::vector<gaussian> out;
  for (std::size_t i = 0; i < n; ++i) {
    const gaussian lik = gaussian_2d(0, 0, 0.1 + 0.02 * double(i % 5), 0.15, 0.6);
    const Eigen::Matrix2d L = lik.cov.llt().matrixL();
    const Eigen::Vector2d y = truth + L * Eigen::Vector2d(n01(rng), n01(rng));
    const Eigen::Matrix2d li = lik.cov.inverse();
    gaussian post;
    post.cov = (pp + li).inverse();
    post.mean = post.cov * (pp * prior.mean + li * y);
    out.push_back(post);
  }
  return out;
}

}  // namespace

TEST_CASE("grid_combiner: Gaussian per-star densities reproduce the exact product (N = 1, 8, 60)") {
  auto rng = chempp::test::seeded_rng(2026);
  const gaussian prior = gaussian_2d(-2.3, -2.89, 0.3, 0.3, 0.0);
  for (std::size_t n : {1u, 8u, 60u}) {
    const auto stars = conjugate_stars(prior, n, rng);
    const auto exact = corrected_gaussian_product{}.combine(stars, prior);
    auto log_q = [&](std::size_t i, const Eigen::Vector2d& l) { return log_normal(stars[i], l); };
    auto log_p = [&](const Eigen::Vector2d& l) { return log_normal(prior, l); };
    const auto res = grid_combine(std::span<const gaussian>(stars), log_q, log_p, prior);
    const Eigen::Vector2d sd = exact.stddev();
    const double dmu = (res.moments.mean - exact.mean).cwiseQuotient(sd).cwiseAbs().maxCoeff();
    const double dcov =
        ((res.moments.cov - exact.cov).array() / (sd * sd.transpose()).array()).abs().maxCoeff();
    MESSAGE("N = " << n << ": |Δμ|/σ = " << dmu << ", |ΔΣ|/σσ = " << dcov << ", passes "
                   << res.iterations << ", edge/peak " << res.edge_ratio);
    CHECK(dmu < 1e-8);
    CHECK(dcov < 1e-8);
    // The grid density is normalised: Σ exp(log p) dx dy = 1.
    const double dx = res.x(1) - res.x(0), dy = res.y(1) - res.y(0);
    CHECK(res.log_density.array().exp().sum() * dx * dy == doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("grid_combiner: a non-Gaussian (mixture) posterior gets its exact moments") {
  // N = 1: the result is q itself, a two-component mixture with closed-form moments.
  const gaussian a = gaussian_2d(0.0, 0.0, 0.1, 0.2, 0.5), b = gaussian_2d(0.3, -0.2, 0.15, 0.1, -0.3);
  const double wa = 0.3, wb = 0.7;
  auto log_q = [&](std::size_t, const Eigen::Vector2d& l) {
    return std::log(wa * std::exp(log_normal(a, l)) + wb * std::exp(log_normal(b, l)));
  };
  auto flat = [](const Eigen::Vector2d&) { return 0.0; };
  const Eigen::Vector2d mean = wa * a.mean + wb * b.mean;
  const Eigen::Matrix2d cov = wa * (a.cov + a.mean * a.mean.transpose()) +
                              wb * (b.cov + b.mean * b.mean.transpose()) - mean * mean.transpose();
  const auto res = grid_combine(1, log_q, flat, gaussian_2d(0.5, 0.5, 0.5, 0.5, 0.0));  // poor start
  CHECK((res.moments.mean - mean).cwiseAbs().maxCoeff() < 1e-8);
  CHECK((res.moments.cov - cov).cwiseAbs().maxCoeff() < 1e-8);
}

TEST_CASE("grid_combiner: batch callables give the same answer as pointwise ones") {
  auto rng = chempp::test::seeded_rng(5);
  const gaussian prior = gaussian_2d(-2.3, -2.89, 0.3, 0.3, 0.0);
  const auto stars = conjugate_stars(prior, 4, rng);
  std::size_t batch_calls = 0;
  auto point = [&](std::size_t i, const Eigen::Vector2d& l) { return log_normal(stars[i], l); };
  auto batch = [&](std::size_t i, const Eigen::Ref<const Eigen::MatrixXd>& pts,
                   Eigen::Ref<Eigen::VectorXd> out) {
    ++batch_calls;
    for (Eigen::Index k = 0; k < pts.rows(); ++k) {
      out(k) = log_normal(stars[i], Eigen::Vector2d(pts(k, 0), pts(k, 1)));
    }
  };
  static_assert(BatchStarLogDensity<decltype(batch)>);
  auto log_p = [&](const Eigen::Vector2d& l) { return log_normal(prior, l); };
  const auto r1 = grid_combine(std::span<const gaussian>(stars), point, log_p, prior);
  const auto r2 = grid_combine(std::span<const gaussian>(stars), batch, log_p, prior);
  CHECK(batch_calls == 4 * r2.iterations);
  CHECK((r1.moments.mean - r2.moments.mean).norm() == 0.0);
}

TEST_CASE("grid_combiner: zero density outside the prior support; bad densities are errors") {
  // Box prior [0, 1]²: a per-star density N(0.5, 1) restricted to the box is ~ flat; with N = 1
  // the result is the uniform box, mean 0.5 and variance 1/12 (up to the Gaussian's tilt).
  auto log_box = [](const Eigen::Vector2d& l) {
    return (l.array() >= 0.0).all() && (l.array() <= 1.0).all() ? 0.0 : -INFINITY;
  };
  auto log_q = [&](std::size_t, const Eigen::Vector2d& l) { return log_box(l); };
  grid_combiner_options o;
  o.edge_tolerance = 1.0;  // a box density has no decaying tails: accept the edge
  o.points_per_axis = 401;
  o.tolerance = 0.05;  // a discontinuous density converges only to O(grid step)
  const auto res = grid_combine(3, log_q, log_box, gaussian_2d(0.5, 0.5, 0.3, 0.3, 0.0), o);
  CHECK(res.moments.mean(0) == doctest::Approx(0.5).epsilon(1e-2));
  CHECK(res.moments.cov(0, 0) == doctest::Approx(1.0 / 12.0).epsilon(5e-2));  // grid step error
  auto nan_q = [](std::size_t, const Eigen::Vector2d&) { return NAN; };
  CHECK_THROWS_WITH_AS((void)grid_combine(2, nan_q, log_box, gaussian_2d(0.5, 0.5, 0.3, 0.3, 0.0)),
                       doctest::Contains("NaN"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)grid_combine(0, log_q, log_box, gaussian_2d(0.5, 0.5, 0.3, 0.3, 0.0)),
                  chempp::invalid_argument);
  // zero passes (was a segfault, issue 15)
  grid_combiner_options zero;
  zero.max_iterations = 0;
  CHECK_THROWS_WITH_AS((void)grid_combine(2, log_q, log_box, gaussian_2d(0.5, 0.5, 0.3, 0.3, 0.0), zero),
                       doctest::Contains("max_iterations"), chempp::invalid_argument);
}

TEST_CASE("grid_combiner: multi-threaded star evaluation gives the same moments") {
  auto rng = chempp::test::seeded_rng(6);
  const gaussian prior = gaussian_2d(-2.3, -2.89, 0.3, 0.3, 0.0);
  const auto stars = conjugate_stars(prior, 7, rng);
  auto log_q = [&](std::size_t i, const Eigen::Vector2d& l) { return log_normal(stars[i], l); };
  auto log_p = [&](const Eigen::Vector2d& l) { return log_normal(prior, l); };
  grid_combiner_options o;
  const auto r1 = grid_combine(std::span<const gaussian>(stars), log_q, log_p, prior, o);
  o.threads = 3;
  const auto r3 = grid_combine(std::span<const gaussian>(stars), log_q, log_p, prior, o);
  CHECK((r1.moments.mean - r3.moments.mean).cwiseAbs().maxCoeff() < 1e-13);
  CHECK((r1.moments.cov - r3.moments.cov).cwiseAbs().maxCoeff() < 1e-15);
  // An exception in a worker reaches the caller.
  auto throwing = [](std::size_t i, const Eigen::Vector2d&) -> double {
    if (i == 5) throw chempp::invalid_argument("star 5 is bad");
    return 0.0;
  };
  CHECK_THROWS_WITH_AS((void)grid_combine(7, throwing, log_p, prior, o),
                       doctest::Contains("star 5"), chempp::invalid_argument);
}
