// SPDX-License-Identifier: BSD-3-Clause
// The population engine on a problem with an exact answer: a linear simulator
// x = A_g Λ + A_l θ + b + ε with Gaussian priors on Λ and θ, where p(x_i | Λ), the posterior of Λ
// and the evidence are closed-form (Gaussian marginalisation), with per-star σ, missing elements,
// a model-error covariance, and deliberately imperfect proposals (shifted and too narrow).
#include <doctest/doctest.h>

#include <array>
#include <barrier>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "chempp/inference/model_average.hpp"
#include "chempp/inference/population.hpp"
#include "chempp/nn/simd_forward.hpp"
#include <Eigen/LU>
#include "support/test_support.hpp"

namespace inf = chempp::inference;

namespace {

struct linear_problem {
  Eigen::MatrixXd a;       // K × 6
  Eigen::VectorXd b;       // K
  inf::product_prior global{{inf::prior_factor::normal(-2.3, 0.3), inf::prior_factor::normal(-2.89, 0.3)}};
  inf::product_prior local{{inf::prior_factor::normal(-0.3, 0.3), inf::prior_factor::normal(0.55, 0.1),
                            inf::prior_factor::normal(0.5, 0.1), inf::prior_factor::normal(7.0, 2.0)}};
  Eigen::MatrixXd model_cov;  // K × K
  std::vector<inf::star_data> stars;
};

Eigen::VectorXd prior_mean(const linear_problem& p) {
  Eigen::VectorXd m(6);
  m << p.global.mean(), p.local.mean();
  return m;
}
Eigen::MatrixXd prior_cov(const linear_problem& p) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(6, 6);
  c.topLeftCorner(2, 2) = p.global.covariance();
  c.bottomRightCorner(4, 4) = p.local.covariance();
  return c;
}

// Rows of the measured subset of star i: indices, data, covariance diag(σ²) + C_model.
void measured_block(const linear_problem& p, const inf::star_data& s, Eigen::MatrixXd& am, Eigen::VectorXd& xm,
                    Eigen::VectorXd& bm, Eigen::MatrixXd& r) {
  std::vector<Eigen::Index> idx;
  for (Eigen::Index j = 0; j < s.x.size(); ++j)
    if (s.measured(j)) idx.push_back(j);
  const auto m = static_cast<Eigen::Index>(idx.size());
  am.resize(m, 6);
  xm.resize(m);
  bm.resize(m);
  r.resize(m, m);
  for (Eigen::Index u = 0; u < m; ++u) {
    am.row(u) = p.a.row(idx[static_cast<std::size_t>(u)]);
    xm(u) = s.x(idx[static_cast<std::size_t>(u)]);
    bm(u) = p.b(idx[static_cast<std::size_t>(u)]);
    for (Eigen::Index v = 0; v < m; ++v) r(u, v) = p.model_cov(idx[static_cast<std::size_t>(u)], idx[static_cast<std::size_t>(v)]);
    r(u, u) += s.sigma(idx[static_cast<std::size_t>(u)]) * s.sigma(idx[static_cast<std::size_t>(u)]);
  }
}

double log_normal(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, const Eigen::MatrixXd& c) {
  Eigen::LLT<Eigen::MatrixXd> llt(c);
  const Eigen::VectorXd z = llt.matrixL().solve(x - mu);
  return -0.5 * z.squaredNorm() - Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum() -
         0.5 * static_cast<double>(x.size()) * std::log(2.0 * std::numbers::pi);
}

// Exact posterior of Λ (Gaussian) and log evidence.
struct exact_answer {
  Eigen::Vector2d mean;
  Eigen::Matrix2d cov;
  double log_evidence = 0.0;
};

exact_answer exact(const linear_problem& p) {
  Eigen::Matrix2d prec = p.global.covariance().inverse();
  Eigen::Vector2d h = prec * p.global.mean();
  const Eigen::VectorXd mu_l = p.local.mean();
  const Eigen::MatrixXd s_l = p.local.covariance();
  for (const auto& s : p.stars) {
    Eigen::MatrixXd am, r;
    Eigen::VectorXd xm, bm;
    measured_block(p, s, am, xm, bm, r);
    const Eigen::MatrixXd ag = am.leftCols(2), al = am.rightCols(4);
    const Eigen::MatrixXd si = (al * s_l * al.transpose() + r).inverse();
    prec += ag.transpose() * si * ag;
    h += ag.transpose() * si * (xm - al * mu_l - bm);
  }
  exact_answer e;
  e.cov = prec.inverse();
  e.mean = e.cov * h;
  // log p(X) = log p(Λ) + Σ log p(x_i|Λ) − log p(Λ|X) at Λ = mean
  double ll = log_normal(e.mean, p.global.mean(), p.global.covariance()) - log_normal(e.mean, e.mean, e.cov);
  for (const auto& s : p.stars) {
    Eigen::MatrixXd am, r;
    Eigen::VectorXd xm, bm;
    measured_block(p, s, am, xm, bm, r);
    const Eigen::MatrixXd ag = am.leftCols(2), al = am.rightCols(4);
    ll += log_normal(xm, ag * e.mean + al * mu_l + bm, al * s_l * al.transpose() + r);
  }
  e.log_evidence = ll;
  return e;
}

// The exact single-star joint posterior of (Λ, θ) — the ideal proposal — optionally spoiled.
inf::star_proposal single_star_posterior(const linear_problem& p, const inf::star_data& s, double shift_sigma,
                                         double cov_factor) {
  Eigen::MatrixXd am, r;
  Eigen::VectorXd xm, bm;
  measured_block(p, s, am, xm, bm, r);
  const Eigen::MatrixXd p0 = prior_cov(p).inverse();
  const Eigen::MatrixXd ri = r.inverse();
  const Eigen::MatrixXd cov = (p0 + am.transpose() * ri * am).inverse();
  const Eigen::VectorXd mean = cov * (p0 * prior_mean(p) + am.transpose() * ri * (xm - bm));
  inf::star_proposal q{mean, cov * cov_factor};
  q.mean += shift_sigma * cov.diagonal().cwiseSqrt();
  return q;
}

linear_problem make_problem(std::mt19937_64& rng, std::size_t n_stars, bool missing, bool per_star_sigma, double sigma = 0.05) {
  linear_problem p;
  const Eigen::Index k = 8;
  std::normal_distribution<double> n01(0.0, 1.0);
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  p.a.resize(k, 6);
  for (Eigen::Index i = 0; i < p.a.size(); ++i) p.a(i % k, i / k) = 0.5 * n01(rng);
  p.b = Eigen::VectorXd::Zero(k);
  Eigen::MatrixXd g(k, k);
  for (Eigen::Index i = 0; i < g.size(); ++i) g(i % k, i / k) = 0.004 * n01(rng);
  p.model_cov = g * g.transpose();
  const Eigen::Vector2d lambda(-2.25, -2.95);
  for (std::size_t i = 0; i < n_stars; ++i) {
    Eigen::VectorXd theta(6);
    theta << lambda, p.local.sample(rng);
    inf::star_data s;
    s.sigma = Eigen::VectorXd::Constant(k, sigma);
    if (per_star_sigma)
      for (Eigen::Index j = 0; j < k; ++j) s.sigma(j) = 0.02 + 0.08 * u01(rng);
    s.measured = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(k, true);
    if (missing) {
      s.measured(2) = false;  // "He" and "Ne" never measured
      s.measured(5) = false;
      if (i % 3 == 0) s.measured(static_cast<Eigen::Index>(i % 8 == 2 ? 0 : i % 8)) = false;
    }
    Eigen::LLT<Eigen::MatrixXd> lm(p.model_cov + 1e-14 * Eigen::MatrixXd::Identity(k, k));
    Eigen::VectorXd e(k), em(k);
    for (Eigen::Index j = 0; j < k; ++j) {
      e(j) = n01(rng) * s.sigma(j);
      em(j) = n01(rng);
    }
    s.x = p.a * theta + p.b + e + Eigen::MatrixXd(lm.matrixL()) * em;
    for (Eigen::Index j = 0; j < k; ++j)
      if (!s.measured(j)) s.x(j) = std::numeric_limits<double>::quiet_NaN();
    p.stars.push_back(s);
  }
  return p;
}

// lambda_widen > 0: the proposals' Λ block is widened by lambda_widen × the prior's Λ
// covariance (still positive definite), so their corrected Gaussian product fails and the engine
// starts from the prior: its first grid is then far coarser than the posterior.
void check_against_exact(const linear_problem& p, double shift, double cov_factor, double tol_mean_sigma,
                         double tol_sigma_rel, double tol_log_z, double lambda_widen = 0.0, double tol_hpd = 0.02) {
  const inf::linear_simulator sim(p.a, p.b);
  const inf::population_engine engine(sim, p.global, p.local, p.model_cov);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) {
    props.push_back(single_star_posterior(p, s, shift, cov_factor));
    props.back().cov.topLeftCorner(2, 2) += lambda_widen * p.global.covariance();
  }
  inf::population_options opt;
  opt.threads = 2;
  opt.seed = 11;
  opt.on_grid = [](const inf::grid_report& r) {
    MESSAGE("grid " << r.index << ": mean " << r.mean.transpose() << " sd " << r.cov.diagonal().cwiseSqrt().transpose()
                    << " border drop " << r.border_log_drop << " log Z " << r.log_evidence);
  };
  const auto post = engine.infer(p.stars, props, opt);
  const auto ex = exact(p);
  const Eigen::Vector2d sd = ex.cov.diagonal().cwiseSqrt();
  INFO("engine mean " << post.mean.transpose() << " exact " << ex.mean.transpose() << " sigma " << sd.transpose());
  INFO("engine sd " << post.cov.diagonal().cwiseSqrt().transpose() << " rho " << post.cov(0, 1) / std::sqrt(post.cov(0, 0) * post.cov(1, 1))
                    << " exact rho " << ex.cov(0, 1) / (sd(0) * sd(1)));
  INFO("log Z engine " << post.log_evidence << " exact " << ex.log_evidence << "; grids " << post.grids
                       << "; total bias correction " << post.total_bias_correction);
  CHECK(post.converged);
  for (Eigen::Index d = 0; d < 2; ++d) {
    CHECK(std::abs(post.mean(d) - ex.mean(d)) < tol_mean_sigma * sd(d));
    CHECK(std::abs(std::sqrt(post.cov(d, d)) / sd(d) - 1.0) < tol_sigma_rel);
  }
  CHECK(std::abs(post.cov(0, 1) / std::sqrt(post.cov(0, 0) * post.cov(1, 1)) - ex.cov(0, 1) / (sd(0) * sd(1))) < 0.03);
  // the evidence: within 4 of the engine's own Monte Carlo standard errors (plus tol_log_z)
  INFO("log Z standard error " << post.log_evidence_se);
  CHECK(std::abs(post.log_evidence - ex.log_evidence) < 4.0 * post.log_evidence_se + tol_log_z);
  // HPD level of the exact mean ~ 0; of a point 2σ out along α: 1 − exp(−2) for a Gaussian
  CHECK(post.hpd_level(ex.mean) < tol_hpd);
  Eigen::Vector2d two_sigma = ex.mean;
  const Eigen::Matrix2d lchol = Eigen::LLT<Eigen::Matrix2d>(ex.cov).matrixL();
  two_sigma += lchol * Eigen::Vector2d(2.0, 0.0);
  CHECK(std::abs(post.hpd_level(two_sigma) - (1.0 - std::exp(-2.0))) < tol_hpd + 0.01);
  // the normalised log density at the mean equals the exact Gaussian's
  CHECK(std::abs(post.log_density(ex.mean) - log_normal(ex.mean, ex.mean, ex.cov)) < 0.05);
  // draws reproduce the moments
  std::mt19937_64 rng(5);
  const Eigen::MatrixXd d = post.sample(20000, rng);
  const inf::gaussian fit = inf::fit_gaussian(d);
  for (Eigen::Index k = 0; k < 2; ++k) {
    CHECK(std::abs(fit.mean(k) - post.mean(k)) < 0.05 * sd(k));
    CHECK(std::abs(std::sqrt(fit.cov(k, k)) / std::sqrt(post.cov(k, k)) - 1.0) < 0.05);
  }
}

}  // namespace

TEST_CASE("population engine equals the closed form on a linear-Gaussian galaxy (ideal proposals)") {
  // Tolerances: the estimator's only error is Monte Carlo noise of log p̂ per star, ~ 1/sqrt(ESS)
  // ≈ 0.1 for 128 samples, averaged over stars: mean to 0.1σ, σ to 5 %, log Z to 4 standard errors.
  auto rng = chempp::test::seeded_rng(20261130);
  const auto p = make_problem(rng, 200, false, false);
  check_against_exact(p, 0.0, 1.0, 0.1, 0.05, 0.05);
}

TEST_CASE("population engine: missing elements, per-star sigma and poor proposals stay unbiased") {
  auto rng = chempp::test::seeded_rng(777);
  const auto p = make_problem(rng, 200, true, true);
  // proposals shifted by 1σ and 0.5× too narrow in variance: costs ESS, not bias
  check_against_exact(p, 1.0, 0.5, 0.15, 0.06, 0.05);
}

TEST_CASE("population engine: a posterior far narrower than the first grid (all its mass on one node)") {
  // 200 stars with σ = 0.01 dex: the posterior σ of Λ is ~1e-3 dex. The proposals' Λ block is
  // widened by the prior's covariance, so their corrected product fails and the first grid is
  // built from the prior (σ 0.3): ~1.35 dex between nodes, the whole posterior on one node and a
  // singular node covariance (before the fix: numerical_error). The engine must shrink onto it.
  // Tolerances: σ to 6 %, log Z to 4 standard errors; the mean to 0.5σ and HPD levels to 0.1,
  // because proposals without the Λ–θ correlation leave a bias of 0.2–0.35σ in the mean here
  // (measured with this seed: 0.34σ in α with the engine's draws before 2026-12-02, 0.08σ in α and
  // 0.11σ in β with the counter-based normals since; the flow's proposals carry the correlation, and the
  // engine agrees with NUTS to ≤ 0.12σ on the paper's galaxies, docs/inference.md).
  auto rng = chempp::test::seeded_rng(4242);
  const auto p = make_problem(rng, 200, false, false, 0.01);
  check_against_exact(p, 0.0, 1.0, 0.5, 0.06, 0.05, 4.0, 0.1);
}

TEST_CASE("population engine: a single star and a broad posterior") {
  auto rng = chempp::test::seeded_rng(31);
  const auto p = make_problem(rng, 1, true, false);
  check_against_exact(p, 0.0, 1.0, 0.1, 0.05, 0.05);
}

TEST_CASE("population engine rejects bad input, naming the star") {
  auto rng = chempp::test::seeded_rng(3);
  auto p = make_problem(rng, 3, false, false);
  const inf::linear_simulator sim(p.a, p.b);
  const inf::population_engine engine(sim, p.global, p.local, p.model_cov);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.0, 1.0));
  p.stars[1].x(3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(static_cast<void>(engine.infer(p.stars, props)), doctest::Contains("star 1"),
                       chempp::invalid_argument);
  p.stars[1].x(3) = 0.0;
  p.stars[2].sigma(0) = -0.1;
  CHECK_THROWS_WITH_AS(static_cast<void>(engine.infer(p.stars, props)), doctest::Contains("sigma[0]"),
                       chempp::invalid_argument);
  p.stars[2].sigma(0) = 0.1;
  inf::population_options o;
  o.pilot_samples = 0;  // adapt_iterations > 0 needs pilot draws
  CHECK_THROWS_WITH_AS(static_cast<void>(engine.infer(p.stars, props, o)), doctest::Contains("pilot_samples"),
                       chempp::invalid_argument);
  o.adapt_iterations = 0;
  o.coarse_samples_per_star = 8;
  o.defensive_fraction = 0.95;  // round(0.95 · 8) = 8 prior draws of 8: no proposal draws left
  CHECK_THROWS_WITH_AS(static_cast<void>(engine.infer(p.stars, props, o)), doctest::Contains("defensive_fraction"),
                       chempp::invalid_argument);
  props.pop_back();
  CHECK_THROWS_AS(static_cast<void>(engine.infer(p.stars, props)), chempp::invalid_argument);
  CHECK_THROWS_AS(inf::population_engine(sim, p.local, p.local), chempp::invalid_argument);
}

TEST_CASE("unbounded_map: logit coordinates and the logistic Jacobian") {
  const inf::unbounded_map m(inf::product_prior({inf::prior_factor::normal(0.5, 0.1), inf::prior_factor::uniform(2.0, 12.8)}));
  CHECK(m.to_theta(1, m.to_u(1, 7.3)) == doctest::Approx(7.3).epsilon(1e-12));
  CHECK(m.to_theta(0, m.to_u(0, 0.41)) == 0.41);
  // ∫ exp(log_density_u) du = 1 over the logit coordinate (trapezoid on [−40, 40])
  double s = 0.0;
  const double h = 1e-3;
  for (double u = -40.0; u <= 40.0; u += h) {
    const double v[2] = {0.5, u};
    s += std::exp(m.log_density_u(v)) * h;
  }
  // the Normal factor at its mean contributes 1/(0.1 sqrt(2π))
  CHECK(s * 0.1 * std::sqrt(2.0 * std::numbers::pi) == doctest::Approx(1.0).epsilon(1e-6));

  // the row-vectorised forms (the engine's hot loop) equal the scalar functions to a few ulp,
  // over SIMD bodies and scalar tails (n = 21 rows of stride 3)
  const std::size_t n = 21, ld = 3, tp = 4;
  std::vector<double> u(n * ld), lp(n), th(n * tp, -7.0);
  for (std::size_t r = 0; r < n; ++r) {
    u[r * ld] = 0.5 + 0.03 * (double(r) - 10.0);
    u[r * ld + 1] = 2.5 * (double(r) - 10.0);  // logit coordinate from −25 to 25
  }
  m.log_density_rows(u.data(), ld, n, lp.data());
  m.theta_rows(u.data(), ld, n, th.data(), tp, 1);
  for (std::size_t r = 0; r < n; ++r) {
    INFO("row " << r);
    CHECK(lp[r] == doctest::Approx(m.log_density_u(u.data() + r * ld)).epsilon(1e-14));
    CHECK(th[r * tp] == -7.0);  // columns before `off` untouched
    CHECK(th[r * tp + 1] == m.to_theta(0, u[r * ld]));
    CHECK(th[r * tp + 2] == doctest::Approx(m.to_theta(1, u[r * ld + 1])).epsilon(1e-15));
    CHECK(th[r * tp + 3] == -7.0);
  }
}

TEST_CASE("population engine: the exact-simulator correction removes an emulator bias") {
  // The "emulator" is the linear model with every observable `bias` dex too high (0.003 dex is
  // 0.06 σ per star, ~1σ of the 200-star posterior; 0.008 dex moves it ~2.7σ, past the border of
  // the emulator's final grid, so the corrected posterior needs the re-centred grid); the exact
  // simulator is the true linear model. The corrected posterior must equal the closed form (mean
  // within 0.15σ, σ within 6 %) and be flagged converged; the uncorrected one must not (the
  // check below proves the bias is visible).
  auto rng = chempp::test::seeded_rng(4242);
  auto p = make_problem(rng, 200, false, false);
  p.model_cov.setZero();
  const inf::linear_simulator exact_sim(p.a, p.b);
  const auto ex = exact(p);
  const Eigen::Vector2d sd = ex.cov.diagonal().cwiseSqrt();
  for (const double bias : {0.003, 0.008}) {
    CAPTURE(bias);
    const inf::linear_simulator biased(p.a, p.b + Eigen::VectorXd::Constant(8, bias));
    const inf::population_engine engine(biased, p.global, p.local, p.model_cov);
    std::vector<inf::star_proposal> props;
    for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.0, 1.0));
    inf::population_options opt;
    opt.threads = 2;
    opt.seed = 5;
    const auto plain = engine.infer(p.stars, props, opt);
    const auto corrected = engine.infer(p.stars, props, opt, exact_sim);
    INFO("plain " << plain.mean.transpose() << " corrected " << corrected.mean.transpose() << " exact " << ex.mean.transpose()
                  << " sd " << sd.transpose() << "; grids plain " << plain.grids << " corrected " << corrected.grids);
    CHECK(inf::gaussian{ex.mean, ex.cov}.mahalanobis2(plain.mean) > 0.25);
    for (Eigen::Index d = 0; d < 2; ++d) {
      CHECK(std::abs(corrected.mean(d) - ex.mean(d)) < 0.15 * sd(d));
      CHECK(std::abs(std::sqrt(corrected.cov(d, d)) / sd(d) - 1.0) < 0.06);
    }
    CHECK(corrected.converged);
    CHECK(corrected.exact_skipped == 0);
    CHECK(std::abs(corrected.log_evidence - ex.log_evidence) < 4.0 * corrected.log_evidence_se + 0.05);
  }
}

TEST_CASE("model comparison: evidences, probabilities and the model-averaged posterior against the closed form") {
  // Two linear models for the same 100 stars: the true one and one whose [Mg/Fe] (index 3) is
  // offset by 0.01 dex. Their evidences are closed-form; the engine's log Bayes factor must match
  // to 0.1 nats and the model probability to 0.03. (Both engines use the same proposals and seed:
  // common random numbers make the difference far more precise than each evidence's own
  // standard error, which assumes independent errors; that one must still cover it.)
  auto rng = chempp::test::seeded_rng(99);
  const auto p = make_problem(rng, 100, false, false);
  auto p_wrong = p;
  p_wrong.b(3) += 0.01;
  const inf::linear_simulator sim_true(p.a, p.b), sim_wrong(p_wrong.a, p_wrong.b);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.0, 1.0));
  inf::population_options opt;
  opt.threads = 2;
  opt.seed = 3;
  const inf::population_engine e_true(sim_true, p.global, p.local, p.model_cov);
  const inf::population_engine e_wrong(sim_wrong, p.global, p.local, p.model_cov);
  std::vector<inf::population_posterior> posts{e_true.infer(p.stars, props, opt), e_wrong.infer(p.stars, props, opt)};
  const double exact_lbf = exact(p).log_evidence - exact(p_wrong).log_evidence;
  const double lbf = posts[0].log_evidence - posts[1].log_evidence;
  const double se = std::hypot(posts[0].log_evidence_se, posts[1].log_evidence_se);
  INFO("log Bayes factor engine " << lbf << " ± " << se << ", exact " << exact_lbf);
  CHECK(std::abs(lbf - exact_lbf) < 0.1);
  CHECK(std::abs(lbf - exact_lbf) < 4.0 * se);
  const inf::model_average avg(posts);
  const double p_exact = 1.0 / (1.0 + std::exp(-exact_lbf));
  CHECK(std::abs(avg.probability[0] - p_exact) < 0.03);
  CHECK(std::abs(avg.probability[0] - p_exact) < 4.0 * avg.probability_se[0]);
  CHECK(avg.probability[0] + avg.probability[1] == doctest::Approx(1.0).epsilon(1e-12));
  // a prior of 3:1 against the true model shifts the log odds by log 3 exactly
  const std::array<double, 2> prior{1.0, 3.0};
  const inf::model_average avg_prior(posts, prior);
  CHECK(std::log(avg_prior.probability[0] / avg_prior.probability[1]) == doctest::Approx(lbf - std::log(3.0)).epsilon(1e-9));
  // mixture moments: mean Σ P_k μ_k, covariance with the between-model spread; draws reproduce them
  Eigen::Vector2d m = avg_prior.probability[0] * posts[0].mean + avg_prior.probability[1] * posts[1].mean;
  CHECK((avg_prior.mean - m).norm() < 1e-12);
  std::mt19937_64 r2(8);
  const Eigen::MatrixXd d = avg_prior.sample(40000, r2);
  const inf::gaussian fit = inf::fit_gaussian(d);
  const Eigen::Vector2d sd = avg_prior.cov.diagonal().cwiseSqrt();
  for (Eigen::Index k = 0; k < 2; ++k) {
    CHECK(std::abs(fit.mean(k) - avg_prior.mean(k)) < 0.03 * sd(k));
    CHECK(std::abs(std::sqrt(fit.cov(k, k)) / sd(k) - 1.0) < 0.03);
  }
  // with one model the mixture's HPD level equals the posterior's own (to its MC error)
  const inf::model_average one(std::vector<inf::population_posterior>{posts[0]});
  CHECK(one.probability[0] == 1.0);
  CHECK(one.log_evidence == doctest::Approx(posts[0].log_evidence).epsilon(1e-12));
  const Eigen::MatrixXd d1 = one.sample(20000, r2);
  const Eigen::Vector2d probe = posts[0].mean + Eigen::Vector2d(std::sqrt(posts[0].cov(0, 0)), 0.0);
  CHECK(std::abs(one.hpd_level(probe, d1) - posts[0].hpd_level(probe)) < 0.02);
}

TEST_CASE("screened model comparison: locate + resume is infer; a far worse model is screened, the near one is not") {
  // Three linear models of the same 100 stars (σ = 0.05 dex): the true one, one with [Mg/Fe]
  // offset by 0.01 dex (log Bayes factor below a nat: must get the full run) and one with every
  // element offset by ±0.1 dex (hundreds of nats worse: screened). Closed-form evidences for all three.
  auto rng = chempp::test::seeded_rng(77);
  const auto p = make_problem(rng, 100, false, false);
  auto p_near = p, p_far = p;
  p_near.b(3) += 0.01;
  for (Eigen::Index j = 0; j < p_far.b.size(); ++j) p_far.b(j) += j % 2 == 0 ? 0.1 : -0.1;
  const inf::linear_simulator sim0(p.a, p.b), sim1(p_near.a, p_near.b), sim2(p_far.a, p_far.b);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.0, 1.0));
  inf::population_options opt;
  opt.threads = 2;
  opt.seed = 5;
  const std::array<inf::population_engine<inf::linear_simulator>, 3> engines{
      inf::population_engine(sim0, p.global, p.local, p.model_cov), inf::population_engine(sim1, p.global, p.local, p.model_cov),
      inf::population_engine(sim2, p.global, p.local, p.model_cov)};
  const std::array<double, 3> lz_exact{exact(p).log_evidence, exact(p_near).log_evidence, exact(p_far).log_evidence};
  INFO("exact log evidences " << lz_exact[0] << ", " << lz_exact[1] << ", " << lz_exact[2]);
  REQUIRE(lz_exact[0] - lz_exact[2] > 100.0);  // the far model is far worse
  std::array<inf::population_posterior, 3> direct;
  for (std::size_t k = 0; k < 3; ++k) direct[k] = engines[k].infer(p.stars, props, opt);

  // locate + resume is infer, bit for bit; the located evidence is right to its MC error
  auto run = engines[0].locate(p.stars, props, opt);
  REQUIRE(run.located());
  CHECK_FALSE(run.screened());
  const double located_err = run.posterior.log_evidence - lz_exact[0];
  INFO("located log evidence − exact: " << located_err << " (MC se " << run.posterior.log_evidence_se << ")");
  CHECK(std::abs(located_err) < 4.0 * run.posterior.log_evidence_se + 0.1);
  CHECK(run.optimistic_log_evidence() >= lz_exact[0]);
  CHECK_THROWS_WITH_AS(engines[1].locate(run), doctest::Contains("another engine"), chempp::invalid_argument);
  const auto resumed = engines[0].resume(std::move(run));
  CHECK(resumed.mean == direct[0].mean);
  CHECK(resumed.cov == direct[0].cov);
  CHECK(resumed.log_evidence == direct[0].log_evidence);
  CHECK(resumed.log_evidence_se == direct[0].log_evidence_se);
  CHECK(resumed.grids == direct[0].grids);
  CHECK_THROWS_WITH_AS(static_cast<void>(engines[0].resume(std::move(run))), doctest::Contains("resumed already"), chempp::invalid_argument);

  // the far model, located against the exact best: its optimistic evidence above its exact one
  // (an upper estimate) and below the bar; resumed afterwards it is still infer's answer
  auto far = engines[2].begin(p.stars, props, opt);
  engines[2].locate(far, lz_exact[0] - 30.0);
  // stopped early (screened) or located: either way fewer grids than the full run, and an
  // optimistic evidence above the exact one and below the bar
  CHECK((far.screened() || far.located()));
  CHECK(far.optimistic_log_evidence() >= lz_exact[2]);
  CHECK(far.optimistic_log_evidence() < lz_exact[0] - 30.0);
  CHECK(far.posterior.grids < direct[2].grids);
  const auto far_full = engines[2].resume(std::move(far));
  CHECK(far_full.log_evidence == direct[2].log_evidence);

  // the whole comparison: only the far model screened; the others are infer's own answers
  std::array<inf::comparison_entry<inf::linear_simulator>, 3> entries;
  for (std::size_t k = 0; k < 3; ++k) {
    entries[k].engine = &engines[k];
    entries[k].run = engines[k].begin(p.stars, props, opt);
  }
  inf::compare_screened<inf::linear_simulator>(entries, 30.0);
  CHECK_FALSE(entries[0].screened);
  CHECK_FALSE(entries[1].screened);
  CHECK(entries[2].screened);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(entries[k].posterior.log_evidence == direct[k].log_evidence);
    CHECK(entries[k].posterior.mean == direct[k].mean);
  }
  std::vector<inf::population_posterior> posts;
  for (const auto& e : entries) posts.push_back(e.posterior);
  const inf::model_average avg(posts);
  CHECK(avg.probability[2] < std::exp(-30.0));
  const double p_exact = 1.0 / (1.0 + std::exp(lz_exact[1] - lz_exact[0]) + std::exp(lz_exact[2] - lz_exact[0]));
  INFO("P(true) " << avg.probability[0] << ", exact " << p_exact);
  CHECK(std::abs(avg.probability[0] - p_exact) < 0.03);
  // no screening: every model gets the full run
  for (std::size_t k = 0; k < 3; ++k) entries[k].run = engines[k].begin(p.stars, props, opt);
  inf::compare_screened<inf::linear_simulator>(entries, INFINITY);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK_FALSE(entries[k].screened);
    CHECK(entries[k].posterior.log_evidence == direct[k].log_evidence);
  }
  CHECK_THROWS_AS(inf::compare_screened<inf::linear_simulator>(entries, -1.0), chempp::invalid_argument);
  // a resume hook (here: the exact-simulator correction) finishes the refined models instead of
  // engine->resume, giving the exact-simulator infer's answer
  const inf::linear_simulator shifted(p.a, p.b + Eigen::VectorXd::Constant(8, 0.002));
  const auto direct_exact = engines[0].infer(p.stars, props, opt, shifted);
  for (std::size_t k = 0; k < 3; ++k) {
    entries[k].run = engines[k].begin(p.stars, props, opt);
    entries[k].resume = [&engines, &shifted, k](inf::population_engine<inf::linear_simulator>::located_run&& r) {
      return engines[k].resume(std::move(r), shifted);
    };
  }
  inf::compare_screened<inf::linear_simulator>(entries, 30.0);
  CHECK_FALSE(entries[0].screened);
  CHECK(entries[0].posterior.log_evidence == direct_exact.log_evidence);
  CHECK(entries[0].posterior.mean == direct_exact.mean);
  CHECK(entries[0].posterior.exact_correction == direct_exact.exact_correction);
  CHECK(entries[0].posterior.exact_correction[0] != 0.0);

  // a model compared with itself, from poor proposals (shifted 1σ, 0.3× too narrow): the first
  // grid's importance-sampling evidence is then low by more than its own error estimate, and
  // the unadapted grid must not screen the copy that is located second
  std::vector<inf::star_proposal> poor;
  for (const auto& s : p.stars) poor.push_back(single_star_posterior(p, s, 1.0, 0.3));
  std::array<inf::comparison_entry<inf::linear_simulator>, 2> self;
  for (auto& e : self) {
    e.engine = &engines[0];
    e.run = engines[0].begin(p.stars, poor, opt);
    CHECK(e.run.optimistic_log_evidence() == INFINITY);  // not adapted yet: no upper estimate
  }
  inf::compare_screened<inf::linear_simulator>(self, 30.0);
  CHECK_FALSE(self[0].screened);
  CHECK_FALSE(self[1].screened);
  CHECK(self[0].posterior.log_evidence == self[1].posterior.log_evidence);
}

TEST_CASE("model_probabilities: exact values, huge evidences, bad input") {
  const std::array<double, 2> lz{0.0, std::log(3.0)};
  auto pr = inf::model_probabilities(lz);
  CHECK(pr[0] == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(pr[1] == doctest::Approx(0.75).epsilon(1e-12));
  const std::array<double, 2> prior{3.0, 1.0};
  pr = inf::model_probabilities(lz, prior);
  CHECK(pr[0] == doctest::Approx(0.5).epsilon(1e-12));
  const std::array<double, 3> big{1e5, 1e5 + std::log(2.0), 9e4};
  pr = inf::model_probabilities(big);
  CHECK(pr[1] == doctest::Approx(2.0 / 3.0).epsilon(1e-12));
  CHECK(pr[2] == 0.0);
  CHECK_THROWS_AS(static_cast<void>(inf::model_probabilities(std::span<const double>{})), chempp::invalid_argument);
  const std::array<double, 2> bad{0.0, std::numeric_limits<double>::quiet_NaN()};
  CHECK_THROWS_WITH_AS(static_cast<void>(inf::model_probabilities(bad)), doctest::Contains("model 1"), chempp::invalid_argument);
  const std::array<double, 1> short_prior{1.0};
  CHECK_THROWS_AS(static_cast<void>(inf::model_probabilities(lz, short_prior)), chempp::invalid_argument);
  const std::array<double, 2> neg{1.0, -1.0};
  CHECK_THROWS_AS(static_cast<void>(inf::model_probabilities(lz, neg)), chempp::invalid_argument);
}

TEST_CASE("population engine: the answer does not depend on the thread count (bitwise)") {
  // Per-star values are summed in star order, not per thread: 1, 2 and 3 threads must agree
  // exactly (a reproducibility guarantee: chempp-infer on the same bundle and seed gives the same
  // evidence on any machine size). With an exact simulator too.
  auto rng = chempp::test::seeded_rng(123);
  const auto p = make_problem(rng, 60, true, false);
  const inf::linear_simulator sim(p.a, p.b), exact_sim(p.a, p.b + Eigen::VectorXd::Constant(8, 0.001));
  const inf::population_engine engine(sim, p.global, p.local, p.model_cov);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.5, 1.0));
  std::vector<inf::population_posterior> runs;
  for (const unsigned t : {1u, 2u, 3u}) {
    inf::population_options opt;
    opt.threads = t;
    opt.seed = 21;
    runs.push_back(engine.infer(p.stars, props, opt, exact_sim));
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    CHECK(runs[r].mean == runs[0].mean);
    CHECK(runs[r].cov == runs[0].cov);
    CHECK(runs[r].log_evidence == runs[0].log_evidence);
    CHECK(runs[r].grids == runs[0].grids);
  }
}

namespace {
// P in-process "processes" (threads) whose sum_over_processes adds their int64 arrays element-wise,
// as MPI_Allreduce(MPI_SUM) does: a test of the engine's distributed mode without MPI.
class thread_allreduce {
 public:
  explicit thread_allreduce(std::ptrdiff_t p) : added_(p, clear{this}), copied_(p, reset{this}) {}
  void sum(std::span<std::int64_t> v) {
    {
      const std::lock_guard<std::mutex> lock(m_);
      if (acc_.size() < v.size()) acc_.resize(v.size(), 0);
      for (std::size_t k = 0; k < v.size(); ++k) acc_[k] += v[k];
    }
    added_.arrive_and_wait();
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = acc_[k];
    copied_.arrive_and_wait();
  }

 private:
  struct clear {
    thread_allreduce* self;
    void operator()() noexcept {}
  };
  struct reset {
    thread_allreduce* self;
    void operator()() noexcept { std::fill(self->acc_.begin(), self->acc_.end(), 0); }
  };
  std::mutex m_;
  std::vector<std::int64_t> acc_;
  std::barrier<clear> added_;
  std::barrier<reset> copied_;
};
}  // namespace

TEST_CASE("population engine: stars split over processes give the bit-identical answer (exact sums)") {
  // The distributed mode (population_options::sum_over_processes): each "process" holds the
  // stars i with i % P == r, keyed by i; the posterior, evidence, its error, the exact correction
  // and the counts must equal the single-process run bit for bit, for P = 2 and 3 and for a split
  // that leaves one process without stars.
  auto rng = chempp::test::seeded_rng(124);
  const auto p = make_problem(rng, 45, true, false);
  const inf::linear_simulator sim(p.a, p.b), exact_sim(p.a, p.b + Eigen::VectorXd::Constant(8, 0.001));
  const inf::population_engine engine(sim, p.global, p.local, p.model_cov);
  std::vector<inf::star_proposal> props;
  for (const auto& s : p.stars) props.push_back(single_star_posterior(p, s, 0.5, 1.0));
  inf::population_options opt;
  opt.seed = 23;
  opt.threads = 1;
  const auto whole = engine.infer(p.stars, props, opt, exact_sim);
  REQUIRE(whole.converged);
  for (const std::size_t procs : {std::size_t{2}, std::size_t{3}, std::size_t{0}}) {
    const std::size_t np = procs == 0 ? 2 : procs;  // 0: all stars on process 0, none on 1
    std::vector<std::vector<inf::star_data>> stars(np);
    std::vector<std::vector<inf::star_proposal>> part_props(np);
    for (std::size_t i = 0; i < p.stars.size(); ++i) {
      const std::size_t r = procs == 0 ? 0 : i % np;
      stars[r].push_back(p.stars[i]);
      stars[r].back().key = i;
      part_props[r].push_back(props[i]);
    }
    thread_allreduce comm(static_cast<std::ptrdiff_t>(np));
    std::vector<inf::population_posterior> out(np);
    std::vector<std::thread> pool;
    for (std::size_t r = 0; r < np; ++r)
      pool.emplace_back([&, r] {
        inf::population_options o = opt;
        o.threads = r == 0 ? 2 : 1;  // thread counts may differ between processes
        o.sum_over_processes = [&comm](std::span<std::int64_t> v) { comm.sum(v); };
        out[r] = engine.infer(stars[r], part_props[r], o, exact_sim);
      });
    for (auto& t : pool) t.join();
    for (std::size_t r = 0; r < np; ++r) {
      INFO("processes " << np << " (split " << procs << "), process " << r);
      CHECK(out[r].mean == whole.mean);
      CHECK(out[r].cov == whole.cov);
      CHECK(out[r].log_evidence == whole.log_evidence);
      CHECK(out[r].log_evidence_se == whole.log_evidence_se);
      CHECK(out[r].total_bias_correction == whole.total_bias_correction);
      CHECK(out[r].exact_correction == whole.exact_correction);
      CHECK(out[r].grids == whole.grids);
      CHECK(out[r].simulations == whole.simulations);
      CHECK(out[r].n_stars == p.stars.size());
      CHECK(out[r].stars.size() == stars[r].size());
    }
  }
  // without the hook a process with no stars is an error
  CHECK_THROWS_AS(static_cast<void>(engine.infer(std::span<const inf::star_data>{}, std::span<const inf::star_proposal>{}, opt)),
                  chempp::invalid_argument);
}

namespace {
// A simulator with `simulate` only: the engine's row-major path for the same emulator.
template <class S>
struct rows_only {
  const S* sim;
  [[nodiscard]] std::size_t n_parameters() const noexcept { return sim->n_parameters(); }
  [[nodiscard]] std::size_t n_observables() const noexcept { return sim->n_observables(); }
  void simulate(const double* theta, std::size_t n, double* out) const { sim->simulate(theta, n, out); }
};
}  // namespace

TEST_CASE("population engine: an emulator's column-major path gives the row path's answer bit for bit") {
  // emulator_simulator<simd_mlp> is a ColumnSimulator: the engine hands it θ column-major and
  // scores its outputs in place (no transposes). The same emulator behind `simulate` alone takes
  // the row path; every per-row value is the same bits (nn and star_likelihood tests), so the
  // posterior, evidence and counts must be too — with and without a validity policy (which reads
  // θ back as a row). 65 and 129 rows per star and node exercise the kernel's tails.
  using sim_t = inf::emulator_simulator<chempp::nn::simd_mlp<float>>;
  static_assert(inf::ColumnSimulator<sim_t>);
  static_assert(!inf::ColumnSimulator<rows_only<sim_t>>);
  chempp::nn::mlp<float> net({6, 24, 16, 9}, {chempp::nn::activation::tanh, chempp::nn::activation::tanh,
                                              chempp::nn::activation::identity});
  net.initialize(5, chempp::nn::init_scheme::pytorch_default);
  net.input_scaling().mean << -2.3f, -2.89f, -0.3f, 0.55f, 0.5f, 7.4f;
  net.input_scaling().scale << 0.8f, 0.9f, 0.85f, 0.3f, 0.28f, 3.7f;
  const sim_t sim(chempp::nn::simd_mlp<float>(net), {0, 1, 2, 3, 4, 5, 6, 7});
  const rows_only<sim_t> rows{&sim};
  const auto prior6 = inf::paper_prior();
  const auto global = prior6.marginal({0, 1}), local = prior6.marginal({2, 3, 4, 5});
  auto rng = chempp::test::seeded_rng(77);
  std::normal_distribution<double> nd;
  const inf::unbounded_map map(local);
  std::vector<inf::star_data> stars;
  std::vector<inf::star_proposal> props;
  for (int i = 0; i < 12; ++i) {
    double th[6] = {-2.3, -2.89, 0, 0, 0, 0};
    Eigen::VectorXd u(4);
    for (int j = 0; j < 4; ++j) th[2 + j] = map.to_theta(std::size_t(j), u(j) = 0.3 * nd(rng));
    double x[8];
    sim.simulate(th, 1, x);
    inf::star_data s;
    s.x = Eigen::Map<Eigen::VectorXd>(x, 8);
    for (int j = 0; j < 8; ++j) s.x(j) += 0.05 * nd(rng);
    s.sigma = Eigen::VectorXd::Constant(8, 0.05);
    s.measured = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(8, true);
    stars.push_back(s);
    inf::star_proposal p;
    p.mean.resize(6);
    p.mean << -2.3, -2.89, u;
    p.cov = Eigen::MatrixXd::Identity(6, 6) * 0.02;
    props.push_back(p);
  }
  for (const bool with_validity : {false, true}) {
    inf::validity_policy v;
    if (with_validity) v.valid = [](const double* th) { return th[5] < 11.0; };  // a cut in the last parameter
    const inf::population_engine col_engine(sim, global, local, {}, v);
    const inf::population_engine row_engine(rows, global, local, {}, v);
    for (const std::size_t m : {std::size_t{65}, std::size_t{129}}) {
      inf::population_options o;
      o.samples_per_star = m;
      o.coarse_samples_per_star = 33;
      o.evidence_samples_per_star = 2 * m + 1;
      o.seed = 9;
      const auto a = col_engine.infer(stars, props, o), b = row_engine.infer(stars, props, o);
      INFO("samples per star " << m << ", validity " << with_validity);
      CHECK(a.mean == b.mean);
      CHECK(a.cov == b.cov);
      CHECK(a.log_evidence == b.log_evidence);
      CHECK(a.simulations == b.simulations);
      CHECK(a.grids == b.grids);
      CHECK(std::isfinite(a.log_evidence));
    }
  }
}
