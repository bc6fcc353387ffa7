// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/diagnostics/multi_star_coverage.hpp"

#include <Eigen/LU>

#include <array>
#include <cmath>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "chempp/inference/grid_combiner.hpp"
#include "support/test_support.hpp"

using namespace chempp::diagnostics;
using chempp::inference::gaussian;

namespace {

// Synthetic per-star model with a known truth: Λ* ~ prior N((−2.3, −2.89), 0.3² I); star i
// observes y_i ~ N(Λ*, S_i) with σ ~ U(0.2, 0.4) per axis and ρ ~ U(−0.8, 0.8); its exact
// posterior (prior × likelihood) is Gaussian — what a perfect per-star NPE would return.
gaussian lambda_prior() {
  gaussian p;
  p.mean = Eigen::Vector2d(-2.3, -2.89);
  p.cov = Eigen::Matrix2d::Identity() * 0.09;
  return p;
}

std::vector<mock_galaxy> make_galaxies(std::mt19937_64& rng, std::size_t galaxies,
                                       std::size_t stars) {
  std::normal_distribution<double> n01;
  std::uniform_real_distribution<double> usig(0.2, 0.4), urho(-0.8, 0.8);
  const gaussian prior = lambda_prior();
  const Eigen::Matrix2d pp = prior.cov.inverse();
  std::vector<mock_galaxy> out;
  for (std::size_t g = 0; g < galaxies; ++g) {
    mock_galaxy m;
    m.truth = prior.mean + 0.3 * Eigen::Vector2d(n01(rng), n01(rng));
    for (std::size_t i = 0; i < stars; ++i) {
      const double s0 = usig(rng), s1 = usig(rng), rho = urho(rng);
      Eigen::Matrix2d S;
      S << s0 * s0, rho * s0 * s1, rho * s0 * s1, s1 * s1;
      const Eigen::Matrix2d L = S.llt().matrixL();
      const Eigen::Vector2d y = m.truth + L * Eigen::Vector2d(n01(rng), n01(rng));
      const Eigen::Matrix2d li = S.inverse();
      gaussian post;
      post.cov = (pp + li).inverse();
      post.mean = post.cov * (pp * prior.mean + li * y);
      m.stars.push_back(post);
    }
    out.push_back(std::move(m));
  }
  return out;
}

double log_normal(const gaussian& g, const Eigen::Vector2d& x) {
  const Eigen::Matrix2d c = g.cov;
  const Eigen::Vector2d d = x - Eigen::Vector2d(g.mean);
  return -0.5 * d.dot(c.inverse() * d) - std::log(2.0 * std::numbers::pi) -
         0.5 * std::log(c.determinant());
}

}  // namespace

// Thresholds: 2000 galaxies → binomial σ = 0.0104 (68 %) and 0.0049 (95 %); the correct
// combiner must be within 4σ; the paper's and the 1-D formulas must under-cover the 68 % region
// by more than 0.1 (they count the prior 2N − 1 times / ignore it and the correlations).
TEST_CASE("multi_star_coverage: the corrected product covers at the nominal rate, others do not") {
  auto rng = chempp::test::seeded_rng(1618);
  const auto gal = make_galaxies(rng, 2000, 5);
  const std::array<double, 2> levels{0.68, 0.95};
  const auto prior = lambda_prior();
  const auto rc = combiner_coverage(std::span<const mock_galaxy>(gal), prior, levels,
                                    chempp::inference::corrected_gaussian_product{});
  const auto rp = combiner_coverage(std::span<const mock_galaxy>(gal), prior, levels,
                                    chempp::inference::paper_gaussian_product{});
  const auto ri = combiner_coverage(std::span<const mock_galaxy>(gal), prior, levels,
                                    chempp::inference::inverse_variance_1d{});
  for (const auto* r : {&rc, &rp, &ri}) {
    MESSAGE("coverage 68 % / 95 %: " << r->fraction[0] << " / " << r->fraction[1]
                                     << ", mean Mahalanobis² " << r->mean_mahalanobis2
                                     << ", failures " << r->failures);
  }
  CHECK(rc.failures == 0);
  CHECK(std::abs(rc.fraction[0] - 0.68) < 4.0 * rc.binomial_sigma[0]);
  CHECK(std::abs(rc.fraction[1] - 0.95) < 4.0 * rc.binomial_sigma[1]);
  CHECK(std::abs(rc.mean_mahalanobis2 - 2.0) < 0.2);  // E = d = 2, sd of the mean 0.045
  CHECK(rp.fraction[0] < 0.58);
  CHECK(ri.fraction[0] < 0.58);
}

TEST_CASE("multi_star_coverage: the exact grid combiner covers at the nominal rate") {
  auto rng = chempp::test::seeded_rng(1619);
  const auto gal = make_galaxies(rng, 300, 4);
  const std::array<double, 2> levels{0.68, 0.95};
  const auto prior = lambda_prior();
  const auto r =
      combination_coverage(std::span<const mock_galaxy>(gal), 2, levels, [&](const mock_galaxy& g) {
        auto log_q = [&](std::size_t i, const Eigen::Vector2d& l) {
          return log_normal(g.stars[i], l);
        };
        auto log_p = [&](const Eigen::Vector2d& l) { return log_normal(prior, l); };
        chempp::inference::grid_combiner_options o;
        o.points_per_axis = 41;  // coarse is enough for moments of a Gaussian
        return chempp::inference::grid_combine(std::span<const gaussian>(g.stars), log_q, log_p,
                                               prior, o)
            .moments;
      });
  MESSAGE("grid coverage 68 % / 95 %: " << r.fraction[0] << " / " << r.fraction[1]);
  CHECK(r.failures == 0);
  CHECK(std::abs(r.fraction[0] - 0.68) < 4.0 * r.binomial_sigma[0]);
  CHECK(std::abs(r.fraction[1] - 0.95) < 4.0 * r.binomial_sigma[1]);
}

// Issue 15 (error taxonomy): a combiner's numerical or convergence failure is counted, but an
// argument bug (invalid_argument) reaches the caller instead of being counted as a "failure".
TEST_CASE("multi_star_coverage: numerical/convergence failures are counted, argument errors propagate") {
  std::vector<mock_galaxy> g(3);
  for (auto& x : g) {
    x.stars = {gaussian{Eigen::Vector2d(0.0, 0.0), Eigen::Matrix2d::Identity()}};
    x.truth = Eigen::Vector2d(0.1, -0.1);
  }
  const std::array<double, 1> levels{0.68};
  int call = 0;
  const auto flaky = [&call](const mock_galaxy& m) -> gaussian {
    ++call;
    if (call == 1) throw chempp::numerical_error("not positive definite");
    if (call == 2) throw chempp::convergence_error("no convergence");
    return m.stars.front();
  };
  const auto r = combination_coverage(std::span<const mock_galaxy>(g), 2, levels, flaky);
  CHECK(r.failures == 2);
  CHECK(r.used == 1);
  const auto buggy = [](const mock_galaxy&) -> gaussian { throw chempp::invalid_argument("size mismatch"); };
  CHECK_THROWS_AS((void)combination_coverage(std::span<const mock_galaxy>(g), 2, levels, buggy), chempp::invalid_argument);
}
