// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/nuts.hpp"

#include <Eigen/LU>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

using namespace chempp::inference;

namespace {

/// log N(q; μ, Σ) up to a constant, with Σ⁻¹ given: −½ (q−μ)ᵀ P (q−μ), gradient −P (q−μ).
struct gaussian_density {
  Eigen::VectorXd mu;
  Eigen::MatrixXd precision;
  double operator()(const Eigen::VectorXd& q, Eigen::VectorXd& grad) const {
    const Eigen::VectorXd d = q - mu;
    grad = -(precision * d);
    return 0.5 * d.dot(grad);
  }
};

/// Independent N(0, σ_i²): −½ Σ (q_i/σ_i)².
struct iid_density {
  Eigen::VectorXd sigma;
  double operator()(const Eigen::VectorXd& q, Eigen::VectorXd& grad) const {
    const Eigen::ArrayXd z = q.array() / sigma.array();
    grad = -(z / sigma.array()).matrix();
    return -0.5 * z.square().sum();
  }
};

/// Stationary AR(1) x_t = φ x_{t−1} + sqrt(1 − φ²) ε_t (unit marginal variance).
Eigen::VectorXd ar1(double phi, Eigen::Index n, std::mt19937_64& rng) {
  std::normal_distribution<double> nd;
  Eigen::VectorXd x(n);
  x(0) = nd(rng);
  for (Eigen::Index t = 1; t < n; ++t) x(t) = phi * x(t - 1) + std::sqrt(1.0 - phi * phi) * nd(rng);
  return x;
}

}  // namespace

TEST_CASE("nuts: effective sample size of iid, AR(1) and antithetic chains (Stan's estimator)") {
  auto rng = chempp::test::seeded_rng(20250611);
  const Eigen::Index n = 20000;
  // iid: ESS ≈ n. The estimator's relative spread at this n is a few per cent.
  const Eigen::VectorXd iid = ar1(0.0, n, rng);
  const double ess_iid = effective_sample_size(iid);
  MESSAGE("ESS iid: " << ess_iid << " of " << n);
  CHECK(ess_iid == doctest::Approx(static_cast<double>(n)).epsilon(0.1));
  // AR(1), φ = 0.9: integrated autocorrelation time (1 + φ)/(1 − φ) = 19, ESS ≈ n/19 ≈ 1053.
  // The ESS estimate of such a chain has ~5 % relative standard error at n = 20000.
  const Eigen::VectorXd slow = ar1(0.9, n, rng);
  const double ess_ar = effective_sample_size(slow);
  MESSAGE("ESS AR(1) phi=0.9: " << ess_ar << " (theory " << static_cast<double>(n) / 19.0 << ")");
  CHECK(ess_ar == doctest::Approx(static_cast<double>(n) / 19.0).epsilon(0.2));
  // Antithetic AR(1), φ = −0.5: τ = 1/3, ESS ≈ 3n (capped at n log10 n).
  const Eigen::VectorXd anti = ar1(-0.5, n, rng);
  const double ess_anti = effective_sample_size(anti);
  MESSAGE("ESS AR(1) phi=-0.5: " << ess_anti);
  CHECK(ess_anti > 2.0 * static_cast<double>(n));
  // Four chains: the multi-chain estimator pools them.
  std::vector<Eigen::VectorXd> chains;
  for (int c = 0; c < 4; ++c) chains.push_back(ar1(0.9, 5000, rng));
  const double ess4 = effective_sample_size(chains);
  CHECK(ess4 == doctest::Approx(20000.0 / 19.0).epsilon(0.25));
  CHECK(split_rhat(chains) < 1.02);
  // A chain stuck in a different place is flagged by R̂.
  chains[2].array() += 2.0;  // R̂ ≈ √(1 + 4·(2·6)/(8·7)) ≈ 1.36
  CHECK(split_rhat(chains) > 1.2);
  // Constant chain: undefined, NaN. Arguments are checked.
  CHECK(std::isnan(effective_sample_size(Eigen::VectorXd::Constant(10, 2.0))));
  CHECK_THROWS_AS((void)effective_sample_size(Eigen::VectorXd::Zero(3)), chempp::invalid_argument);
  Eigen::VectorXd bad = iid.head(10);
  bad(4) = NAN;
  CHECK_THROWS_AS((void)effective_sample_size(bad), chempp::invalid_argument);
  CHECK_THROWS_AS(
      (void)effective_sample_size(std::vector<Eigen::VectorXd>{iid.head(10), iid.head(12)}),
      chempp::invalid_argument);
}

TEST_CASE("nuts: 2-D correlated Gaussian (rho = 0.9, scales 0.5 and 3)") {
  auto seeder = chempp::test::seeded_rng(20250612);  // the run's seed is drawn from it
  const std::uint64_t seed = seeder();
  const double s0 = 0.5, s1 = 3.0, rho = 0.9;
  Eigen::Matrix2d cov;
  cov << s0 * s0, rho * s0 * s1, rho * s0 * s1, s1 * s1;
  gaussian_density f{Eigen::Vector2d(1.0, -2.0), cov.inverse()};
  nuts_options o;
  o.seed = seed;
  // 2000 draws give an ESS of only ~400 for this target (ESS/draw ≈ 0.2 for ρ = 0.9 with a
  // diagonal metric), i.e. a Monte Carlo s.e. of 0.05 σ on the mean and 7 % on the variance,
  // too coarse for 0.1 σ and 10 % tolerances; 20000 draws (~0.1 s) give ESS ≈ 4000.
  o.warmup = 1000;
  o.draws = 20000;
  const auto r = run_nuts(f, Eigen::Vector2d(4.0, 5.0), o);
  REQUIRE(r.draws.rows() == 20000);
  REQUIRE(r.draws.cols() == 2);
  const Eigen::Vector2d mean = r.draws.colwise().mean().transpose();
  const Eigen::MatrixXd c = r.draws.rowwise() - mean.transpose();
  const Eigen::Matrix2d sample_cov = c.transpose() * c / 19999.0;
  for (Eigen::Index j = 0; j < 2; ++j) {
    const double sd = std::sqrt(cov(j, j));
    const double ess = effective_sample_size(Eigen::VectorXd(r.draws.col(j)));
    const Eigen::VectorXd sq = c.col(j).array().square();
    const double ess_sq = effective_sample_size(sq);
    const double z_mean = (mean(j) - f.mu(j)) / sd;
    const double rel_var = sample_cov(j, j) / cov(j, j) - 1.0;
    MESSAGE("coordinate " << j << ": mean error " << z_mean << " sigma (ESS " << ess << ", MC s.e. "
                          << 1.0 / std::sqrt(ess) << " sigma); variance error " << rel_var
                          << " (ESS of squares " << ess_sq << ", MC s.e. "
                          << std::sqrt(2.0 / ess_sq) << ")");
    // Tolerances: 0.1 σ for the mean and 10 % for the variance. They are ≥ 3.5 Monte Carlo
    // standard errors (σ/√ESS for the mean, √(2/ESS) for a Gaussian variance) provided
    // ESS ≥ 1225 and ESS of the squares ≥ 2450; the ESS checks keep the tolerances honest if
    // the sampler changes.
    CHECK(ess > 1225.0);
    CHECK(ess_sq > 2450.0);
    CHECK(std::abs(z_mean) < 0.1);
    CHECK(std::abs(rel_var) < 0.1);
  }
  const double corr = sample_cov(0, 1) / std::sqrt(sample_cov(0, 0) * sample_cov(1, 1));
  MESSAGE("correlation " << corr << ", step size " << r.step_size << ", inverse mass "
                         << r.inv_mass.transpose() << ", mean depth " << r.mean_tree_depth
                         << ", accept " << r.mean_accept_stat << ", divergences " << r.divergences
                         << ", gradients " << r.gradient_evaluations << ", E-BFMI "
                         << energy_bfmi(r.energy));
  CHECK(std::abs(corr - rho) < 0.02);
  CHECK(r.divergences == 0);
  CHECK(r.mean_accept_stat == doctest::Approx(o.target_accept).epsilon(0.1));
  // The adapted inverse mass approximates the marginal variances (within a factor 2).
  CHECK(r.inv_mass(0) / cov(0, 0) > 0.5);
  CHECK(r.inv_mass(0) / cov(0, 0) < 2.0);
  CHECK(r.inv_mass(1) / cov(1, 1) > 0.5);
  CHECK(r.inv_mass(1) / cov(1, 1) < 2.0);
  CHECK(energy_bfmi(r.energy) > 0.3);
  // The log density column is the density of the draws.
  Eigen::VectorXd g(2);
  CHECK(r.log_density(7) == doctest::Approx(f(r.draws.row(7).transpose(), g)).epsilon(1e-12));
}

TEST_CASE("nuts: 100-D iid Gaussian with scales 0.01...10 (mass-matrix adaptation)") {
  auto seeder = chempp::test::seeded_rng(20250613);  // the run's seed is drawn from it
  const std::uint64_t seed = seeder();
  const Eigen::Index d = 100;
  Eigen::VectorXd sigma(d);
  for (Eigen::Index i = 0; i < d; ++i)
    sigma(i) = 0.01 * std::pow(1000.0, static_cast<double>(i) / 99.0);
  iid_density f{sigma};
  nuts_options o;
  o.seed = seed;
  o.warmup = 1000;
  o.draws = 1000;
  const auto r = run_nuts(f, Eigen::VectorXd::Constant(d, 0.5), o);
  chempp::test::worst_error mass_ratio, mean_z, var_z;
  double min_ess = INFINITY;
  for (Eigen::Index i = 0; i < d; ++i) {
    const Eigen::VectorXd x = r.draws.col(i) / sigma(i);
    const double ess = effective_sample_size(x);
    const Eigen::VectorXd sq = x.array().square();
    const double ess_sq = effective_sample_size(sq);
    min_ess = std::min(min_ess, ess);
    // Errors in units of their Monte Carlo standard errors: mean/(1/√ESS), (var − 1)/√(2/ESS).
    mean_z.update(std::abs(x.mean()) * std::sqrt(ess), "coordinate " + std::to_string(i));
    var_z.update(std::abs(sq.mean() - 1.0) / std::sqrt(2.0 / ess_sq),
                 "coordinate " + std::to_string(i));
    mass_ratio.update(std::abs(std::log(r.inv_mass(i) / (sigma(i) * sigma(i)))),
                      "coordinate " + std::to_string(i));
  }
  MESSAGE("step size " << r.step_size << ", mean depth " << r.mean_tree_depth << ", accept "
                       << r.mean_accept_stat << ", min ESS " << min_ess << ", gradients "
                       << r.gradient_evaluations << ", worst |log(inv_mass/sigma^2)| "
                       << mass_ratio.value << " at " << mass_ratio.where << ", worst mean z "
                       << mean_z.value << " at " << mean_z.where << ", worst variance z "
                       << var_z.value << " at " << var_z.where);
  // Without a metric the 1000:1 range of scales needs trees of depth ~10; adapted, ~3-4.
  CHECK(r.mean_tree_depth < 5.0);
  CHECK(r.max_depth_hits == 0);
  CHECK(r.divergences == 0);
  CHECK(mass_ratio.value < std::log(2.0));
  CHECK(min_ess > 300.0);
  // The maximum of 100 |N(0,1)| rarely exceeds 3.5; 4.5 leaves margin for the ESS estimate.
  CHECK(mean_z.value < 4.5);
  CHECK(var_z.value < 4.5);
}

TEST_CASE("nuts: a density with a hard boundary (half-normal) is sampled correctly") {
  auto seeder = chempp::test::seeded_rng(20250614);  // the run's seed is drawn from it
  const std::uint64_t seed = seeder();
  // log p = −q²/2 on q > 0, −inf elsewhere: trajectories crossing 0 are divergent and rejected.
  auto f = [](const Eigen::VectorXd& q, Eigen::VectorXd& g) {
    g = -q;
    return q(0) > 0.0 ? -0.5 * q(0) * q(0) : -INFINITY;
  };
  nuts_options o;
  o.seed = seed;
  o.warmup = 500;
  o.draws = 4000;
  const auto r = run_nuts(f, Eigen::VectorXd::Constant(1, 1.0), o);
  CHECK(r.draws.minCoeff() > 0.0);
  const double ess = effective_sample_size(Eigen::VectorXd(r.draws.col(0)));
  const double sd = std::sqrt(1.0 - 2.0 / std::numbers::pi);
  const double err = (r.draws.col(0).mean() - std::sqrt(2.0 / std::numbers::pi)) / sd;
  MESSAGE("half-normal mean error " << err << " sd (ESS " << ess << "), divergences "
                                    << r.divergences);
  CHECK(std::abs(err) < 4.0 / std::sqrt(ess));
  CHECK(r.divergences > 0);  // the boundary is reported as divergences
}

TEST_CASE("nuts: deterministic for a seed; thinning, progress callback and options") {
  gaussian_density f{Eigen::Vector2d(0.0, 0.0), Eigen::Matrix2d::Identity()};
  nuts_options o;
  o.seed = 42;
  o.warmup = 100;
  o.draws = 50;
  o.thin = 3;
  std::vector<std::size_t> seen;
  o.progress = [&](std::size_t it) { seen.push_back(it); };
  const auto a = run_nuts(f, Eigen::Vector2d(0.3, 0.1), o);
  REQUIRE(seen.size() == 100 + 50 * 3);
  CHECK(seen.front() == 0);
  CHECK(seen.back() == 249);
  CHECK(a.draws.rows() == 50);
  CHECK(a.tree_depth.size() == 50);
  CHECK(a.gradient_evaluations > a.sampling_gradient_evaluations);
  o.progress = nullptr;
  const auto b = run_nuts(f, Eigen::Vector2d(0.3, 0.1), o);
  CHECK(a.draws == b.draws);
  CHECK(a.step_size == b.step_size);
  o.seed = 43;
  const auto c = run_nuts(f, Eigen::Vector2d(0.3, 0.1), o);
  CHECK(a.draws != c.draws);
  // No adaptation: the given step size and metric are used unchanged.
  nuts_options fixed;
  fixed.warmup = 0;
  fixed.draws = 20;
  fixed.initial_step_size = 0.3;
  fixed.initial_inv_mass = Eigen::Vector2d(2.0, 0.5);
  const auto d = run_nuts(f, Eigen::Vector2d(0.3, 0.1), fixed);
  CHECK(d.step_size == 0.3);
  CHECK(d.inv_mass == Eigen::Vector2d(2.0, 0.5));
  // Tree depth is capped.
  nuts_options capped;
  capped.warmup = 0;
  capped.draws = 20;
  capped.max_depth = 2;
  capped.initial_step_size = 1e-3;
  const auto e = run_nuts(f, Eigen::Vector2d(0.3, 0.1), capped);
  CHECK(e.max_depth_hits == 20);
  CHECK(e.mean_tree_depth == 2.0);
  // Multi-chain helper: independent chains, R̂ close to 1.
  nuts_options mc;
  mc.seed = 7;
  mc.warmup = 200;
  mc.draws = 500;
  const auto chains = run_nuts_chains(f,
                                      {Eigen::Vector2d(2, 2), Eigen::Vector2d(-2, 2),
                                       Eigen::Vector2d(2, -2), Eigen::Vector2d(-2, -2)},
                                      mc);
  REQUIRE(chains.size() == 4);
  CHECK(chains[0].draws != chains[1].draws);
  std::vector<Eigen::VectorXd> x0;
  for (const auto& ch : chains) x0.emplace_back(ch.draws.col(0));
  CHECK(split_rhat(x0) < 1.02);
}

TEST_CASE("nuts: Stan's windowed metric adaptation schedule") {
  // Stan (warm-up 1000, buffers 75/50, base window 25): slow windows end at iterations 99, 149,
  // 249, 449 and 949 (the last window stretched to the terminal buffer).
  auto ends = [](std::size_t warmup) {
    chempp::inference::detail::windowed_variance wv(warmup, 75, 50, 25, 1);
    std::vector<std::size_t> out;
    Eigen::VectorXd inv_mass = Eigen::VectorXd::Ones(1);
    for (std::size_t it = 0; it < warmup; ++it) {
      const Eigen::VectorXd q = Eigen::VectorXd::Constant(1, static_cast<double>(it % 7));
      if (wv.learn(q, inv_mass)) out.push_back(it);
    }
    return std::make_pair(out, inv_mass(0));
  };
  const auto [w1000, m1000] = ends(1000);
  CHECK(w1000 == std::vector<std::size_t>{99, 149, 249, 449, 949});
  // The last window saw iterations 450..949 of the sequence it % 7: its regularised variance.
  Eigen::VectorXd last(500);
  for (Eigen::Index i = 0; i < 500; ++i) last(i) = static_cast<double>((450 + i) % 7);
  const double var = (last.array() - last.mean()).square().sum() / 499.0;
  CHECK(m1000 == doctest::Approx(500.0 / 505.0 * var + 1e-3 * 5.0 / 505.0).epsilon(1e-12));
  // Too short for the default buffers: 15 % / 75 % / 10 % (one window, iterations 15..89).
  CHECK(ends(100).first == std::vector<std::size_t>{89});
  // Fewer than 20 iterations: no metric adaptation.
  CHECK(ends(19).first.empty());
}

TEST_CASE("nuts: argument checks name the argument") {
  gaussian_density f{Eigen::Vector2d(0.0, 0.0), Eigen::Matrix2d::Identity()};
  nuts_options o;
  o.thin = 0;
  CHECK_THROWS_WITH_AS((void)run_nuts(f, Eigen::Vector2d(0, 0), o),
                       doctest::Contains("options.thin"), chempp::invalid_argument);
  o = {};
  o.target_accept = 1.0;
  CHECK_THROWS_WITH_AS((void)run_nuts(f, Eigen::Vector2d(0, 0), o),
                       doctest::Contains("target_accept"), chempp::invalid_argument);
  o = {};
  o.initial_inv_mass = Eigen::Vector3d(1, 1, 1);
  CHECK_THROWS_WITH_AS((void)run_nuts(f, Eigen::Vector2d(0, 0), o),
                       doctest::Contains("initial_inv_mass"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS((void)run_nuts(f, Eigen::Vector2d(0, NAN), {}),
                       doctest::Contains("initial[1]"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)run_nuts(f, Eigen::VectorXd(), {}), chempp::invalid_argument);
  auto outside = [](const Eigen::VectorXd& q, Eigen::VectorXd& g) {
    g = -q;
    return -INFINITY;
  };
  CHECK_THROWS_WITH_AS((void)run_nuts(outside, Eigen::Vector2d(0, 0), {}),
                       doctest::Contains("initial"), chempp::invalid_argument);
  auto wrong_grad = [](const Eigen::VectorXd&, Eigen::VectorXd& g) {
    g = Eigen::VectorXd::Zero(5);
    return 0.0;
  };
  CHECK_THROWS_AS((void)run_nuts(wrong_grad, Eigen::Vector2d(0, 0), {}), chempp::invalid_argument);
  // An improper (flat) density makes the step-size search diverge.
  auto flat = [](const Eigen::VectorXd& q, Eigen::VectorXd& g) {
    g = Eigen::VectorXd::Zero(q.size());
    return 0.0;
  };
  CHECK_THROWS_AS((void)run_nuts(flat, Eigen::Vector2d(0, 0), {}), chempp::error);
}
