// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/hierarchical_model.hpp"

#include <Eigen/LU>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "chempp/inference/nuts.hpp"
#include "support/test_support.hpp"

using namespace chempp::inference;

namespace {

/// A small random double network 6 → 12 → 8 → 9 (tanh, tanh, identity) with non-trivial
/// input and output standardisation.
chempp::nn::mlp<double> random_net(std::mt19937_64& rng) {
  using chempp::nn::activation;
  chempp::nn::mlp<double> net({6, 12, 8, 9},
                              {activation::tanh, activation::tanh, activation::identity});
  net.initialize(rng(), chempp::nn::init_scheme::pytorch_default);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  net.input_scaling().mean =
      Eigen::VectorXd(Eigen::Matrix<double, 6, 1>(-2.3, -2.89, -0.3, 0.55, 0.5, 7.4));
  net.input_scaling().scale.resize(6);
  for (Eigen::Index i = 0; i < 6; ++i) net.input_scaling().scale(i) = 0.1 + 2.0 * u(rng);
  net.output_scaling().mean.resize(9);
  net.output_scaling().scale.resize(9);
  for (Eigen::Index i = 0; i < 9; ++i) {
    net.output_scaling().mean(i) = -1.0 + 2.0 * u(rng);
    net.output_scaling().scale(i) = 0.05 + u(rng);
  }
  return net;
}

/// A star with σ = 0.05 everywhere, values x, and `masked` observables not measured.
star_data make_star(const Eigen::VectorXd& x, const std::vector<Eigen::Index>& masked) {
  star_data s;
  s.x = x;
  s.sigma = Eigen::VectorXd::Constant(x.size(), 0.05);
  s.measured = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(x.size(), true);
  for (auto j : masked) s.measured(j) = false;
  return s;
}

/// A simulator policy without size queries whose every output is NaN (a failed run).
struct nan_simulator {
  Eigen::Index k;
  void value_and_jacobian(const Eigen::VectorXd& theta, Eigen::VectorXd& f,
                          Eigen::MatrixXd& j) const {
    f = Eigen::VectorXd::Constant(k, std::nan(""));
    j = Eigen::MatrixXd::Zero(k, theta.size());
  }
};
static_assert(DifferentiableSimulator<nan_simulator>);

}  // namespace

TEST_CASE(
    "hierarchical_model: differentiable_mlp_simulator matches predict and its Jacobian matches "
    "central differences") {
  auto rng = chempp::test::seeded_rng(20250620);
  const auto net = random_net(rng);
  const auto sim = differentiable_mlp_simulator::chempy_observables(net);
  REQUIRE(sim.n_observables() == 8);
  REQUIRE(sim.n_parameters() == 6);
  const auto prior = paper_prior();
  chempp::test::worst_error value_err, jac_err, reverse_err;
  for (int trial = 0; trial < 20; ++trial) {
    const Eigen::VectorXd theta = prior.sample(rng);
    Eigen::VectorXd f;
    Eigen::MatrixXd j;
    sim.value_and_jacobian(theta, f, j);
    REQUIRE(j.rows() == 8);
    REQUIRE(j.cols() == 6);
    const Eigen::MatrixXd y = net.predict(theta);
    for (Eigen::Index k = 0; k < 8; ++k) {
      value_err.update(
          std::abs(f(k) - y(chempy_observable_outputs[static_cast<std::size_t>(k)], 0)),
          "trial " + std::to_string(trial));
    }
    CHECK((sim.value(theta) - f).cwiseAbs().maxCoeff() < 1e-14);
    // Fourth-order central differences with h = 1e-3 of each input's standardisation scale:
    // truncation O(h⁴) ~ 1e-13 and rounding ~1e-16/h ~ 1e-13 relative to |f|.
    Eigen::MatrixXd fd(8, 6);
    for (Eigen::Index c = 0; c < 6; ++c) {
      const double h = 1e-3 * net.input_scaling().scale(c);
      auto at = [&](double step) {
        Eigen::VectorXd t = theta;
        t(c) += step;
        return sim.value(t);
      };
      fd.col(c) = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
    }
    // Independent check: the network's reverse pass (nn::mlp::backward with d_in), one column
    // per selected output, chained through the input and output standardisation.
    chempp::nn::mlp_workspace<double> ws;
    const Eigen::VectorXd z =
        (theta - net.input_scaling().mean).cwiseQuotient(net.input_scaling().scale);
    net.forward(z.replicate(1, 8), ws);
    Eigen::MatrixXd d_out = Eigen::MatrixXd::Zero(9, 8);
    for (Eigen::Index k = 0; k < 8; ++k)
      d_out(chempy_observable_outputs[static_cast<std::size_t>(k)], k) = 1.0;
    chempp::nn::vector<double> pg;
    chempp::nn::matrix<double> d_in;
    net.backward(ws, d_out, pg, &d_in);
    for (Eigen::Index k = 0; k < 8; ++k) {
      const double so =
          net.output_scaling().scale(chempy_observable_outputs[static_cast<std::size_t>(k)]);
      for (Eigen::Index c = 0; c < 6; ++c) {
        const double reverse = so * d_in(c, k) / net.input_scaling().scale(c);
        reverse_err.update(std::abs(j(k, c) - reverse) / std::max(1.0, std::abs(reverse)),
                           "trial " + std::to_string(trial));
      }
    }
    const double scale = fd.cwiseAbs().maxCoeff();
    for (Eigen::Index k = 0; k < 8; ++k)
      for (Eigen::Index c = 0; c < 6; ++c)
        jac_err.update(std::abs(j(k, c) - fd(k, c)) / std::max(std::abs(fd(k, c)), 1e-3 * scale),
                       "trial " + std::to_string(trial) + " J(" + std::to_string(k) + "," +
                           std::to_string(c) + ")");
  }
  MESSAGE("worst value error " << value_err.value << "; worst relative Jacobian error "
                               << jac_err.value << " at " << jac_err.where);
  MESSAGE("worst difference from the reverse pass " << reverse_err.value);
  CHECK(value_err.value < 1e-13);
  CHECK(jac_err.value < 1e-6);
  CHECK(reverse_err.value < 1e-13);

  // Batch evaluation (the Simulator concept) agrees with value().
  const Eigen::MatrixXd thetas = prior.sample(rng, 5);
  const Eigen::MatrixXd batch = simulate_rows(sim, thetas);
  for (Eigen::Index r = 0; r < 5; ++r)
    CHECK((batch.row(r).transpose() - sim.value(thetas.row(r).transpose())).cwiseAbs().maxCoeff() <
          1e-14);

  // A float network is cast to double; all outputs by default; arguments are checked.
  const differentiable_mlp_simulator all(net.cast<float>());
  CHECK(all.n_observables() == 9);
  CHECK_THROWS_WITH_AS(differentiable_mlp_simulator(net, {0, 9}), doctest::Contains("outputs[1]"),
                       chempp::invalid_argument);
  Eigen::VectorXd f;
  Eigen::MatrixXd j;
  CHECK_THROWS_WITH_AS(sim.value_and_jacobian(Eigen::VectorXd::Zero(5), f, j),
                       doctest::Contains("theta"), chempp::invalid_argument);
}

TEST_CASE(
    "hierarchical_model: log density is the closed form; gradient matches central differences "
    "(logit T)") {
  auto rng = chempp::test::seeded_rng(20250621);
  const auto net = random_net(rng);
  const auto sim = differentiable_mlp_simulator::chempy_observables(net);
  const auto prior = paper_prior();
  // Three stars with different masks; star 1 also has a model covariance.
  std::vector<star_likelihood> stars;
  Eigen::MatrixXd model_cov = 0.01 * Eigen::MatrixXd::Identity(8, 8);
  model_cov(0, 1) = model_cov(1, 0) = 0.004;
  for (int i = 0; i < 3; ++i) {
    const Eigen::VectorXd x = sim.value(prior.sample(rng)) + 0.05 * Eigen::VectorXd::Random(8);
    std::vector<Eigen::Index> mask;
    if (i == 0) mask = {2, 5};
    if (i == 2) mask = {7};
    stars.emplace_back(make_star(x, mask), i == 1 ? model_cov : Eigen::MatrixXd());
  }
  const hierarchical_model<differentiable_mlp_simulator> model(sim, stars);
  REQUIRE(model.dim() == 2 + 3 * 4);
  const auto local = prior.marginal({2, 3, 4, 5});
  std::normal_distribution<double> nd(0.0, 1.0);
  chempp::test::worst_error value_err, grad_err;
  for (int trial = 0; trial < 10; ++trial) {
    Eigen::VectorXd q(model.dim());
    q.head(2) = global_prior().sample(rng);
    for (int i = 0; i < 3; ++i) {
      q.segment(2 + 4 * i, 3) = local.sample(rng).head(3);
      q(2 + 4 * i + 3) = 2.0 * nd(rng);  // logit of T: covers the interval, ends included
    }
    if (trial == 0) q(5) = 6.0;  // T close to 12.8
    // Value: priors of the physical parameters + log Jacobians of the T transform + likelihoods.
    double expect = global_prior().log_density(model.global_parameters(q));
    for (std::size_t i = 0; i < 3; ++i) {
      const Eigen::VectorXd theta = model.star_parameters(q, i);
      const double u = q(2 + 4 * static_cast<Eigen::Index>(i) + 3);
      const double s = 1.0 / (1.0 + std::exp(-u));
      expect += local.log_density(theta.tail(4)) + std::log(10.8 * s * (1.0 - s));
      const Eigen::VectorXd f = sim.value(theta);
      expect += stars[i](f.data());
    }
    Eigen::VectorXd grad;
    const double lp = model(q, grad);
    value_err.update(std::abs(lp - expect) / std::max(1.0, std::abs(expect)),
                     "trial " + std::to_string(trial));
    // Fourth-order central differences, h = 1e-4 (the coordinates vary on scales ≥ 0.01).
    Eigen::VectorXd fd(model.dim());
    for (Eigen::Index c = 0; c < model.dim(); ++c) {
      auto at = [&](double step) {
        Eigen::VectorXd qs = q;
        qs(c) += step;
        return model.log_density(qs);
      };
      const double h = 1e-4;
      fd(c) = (8.0 * (at(h) - at(-h)) - (at(2.0 * h) - at(-2.0 * h))) / (12.0 * h);
    }
    const double scale = fd.cwiseAbs().maxCoeff();
    for (Eigen::Index c = 0; c < model.dim(); ++c) {
      grad_err.update(std::abs(grad(c) - fd(c)) / std::max(std::abs(fd(c)), 1e-3 * scale),
                      "trial " + std::to_string(trial) + " coordinate " + std::to_string(c));
    }
  }
  MESSAGE("worst relative value error " << value_err.value << "; worst relative gradient error "
                                        << grad_err.value << " at " << grad_err.where);
  CHECK(value_err.value < 1e-12);
  CHECK(grad_err.value < 1e-6);
}

TEST_CASE("hierarchical_model: transforms, starting point and argument checks") {
  const differentiable_linear_simulator sim(Eigen::MatrixXd::Identity(8, 6),
                                            Eigen::VectorXd::Zero(8));
  std::vector<star_likelihood> stars;
  for (int i = 0; i < 2; ++i) stars.emplace_back(make_star(Eigen::VectorXd::Zero(8), {}));
  const hierarchical_model<differentiable_linear_simulator> model(sim, stars);
  const Eigen::VectorXd q0 = model.prior_mean_point();
  CHECK(model.global_parameters(q0) == Eigen::Vector2d(-2.3, -2.89));
  const Eigen::VectorXd theta = model.star_parameters(q0, 1);
  CHECK(theta(5) == doctest::Approx(7.4));  // the middle of U[2, 12.8]
  CHECK(theta(2) == -0.3);
  Eigen::MatrixXd locals(2, 4);
  locals << -0.2, 0.5, 0.45, 3.0, -0.4, 0.6, 0.55, 12.0;
  const Eigen::VectorXd q = model.unconstrain(Eigen::Vector2d(-2.0, -3.0), locals);
  CHECK((model.star_parameters(q, 0).tail(4) - locals.row(0).transpose()).cwiseAbs().maxCoeff() <
        1e-13);
  Eigen::MatrixXd draws(3, model.dim());
  draws.row(0) = q0.transpose();
  draws.row(1) = q.transpose();
  draws.row(2) = q.transpose();
  const Eigen::MatrixXd g = model.global_draws(draws);
  CHECK(g(1, 0) == -2.0);
  CHECK(g(2, 1) == -3.0);
  const Eigen::MatrixXd l1 = model.local_draws(draws, 1);
  CHECK(l1(1, 3) == doctest::Approx(12.0).epsilon(1e-13));
  CHECK(l1(0, 3) == doctest::Approx(7.4).epsilon(1e-13));

  locals(1, 3) = 12.8;  // on the boundary: no finite logit
  CHECK_THROWS_WITH_AS((void)model.unconstrain(Eigen::Vector2d(-2.0, -3.0), locals),
                       doctest::Contains("locals(1, 3)"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)model.local_draws(draws, 2), chempp::invalid_argument);
  CHECK_THROWS_AS((void)model.log_density(Eigen::VectorXd::Zero(9)), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(hierarchical_model<differentiable_linear_simulator>(sim, {}),
                       doctest::Contains("stars"), chempp::invalid_argument);
  const differentiable_linear_simulator wrong_in(Eigen::MatrixXd::Identity(8, 5),
                                                 Eigen::VectorXd::Zero(8));
  CHECK_THROWS_WITH_AS(hierarchical_model<differentiable_linear_simulator>(wrong_in, stars),
                       doctest::Contains("simulator"), chempp::invalid_argument);
  std::vector<star_likelihood> short_star{star_likelihood(make_star(Eigen::VectorXd::Zero(7), {}))};
  CHECK_THROWS_WITH_AS(hierarchical_model<differentiable_linear_simulator>(sim, short_star),
                       doctest::Contains("stars[0]"), chempp::invalid_argument);
  CHECK_THROWS_AS(
      differentiable_linear_simulator(Eigen::MatrixXd::Identity(8, 6), Eigen::VectorXd::Zero(7)),
      chempp::invalid_argument);
  // Built from the population engine's linear_simulator: the same map, batch and single.
  const linear_simulator plain(Eigen::MatrixXd::Constant(8, 6, 0.5),
                               Eigen::VectorXd::LinSpaced(8, 0.0, 1.0));
  const differentiable_linear_simulator diff(plain);
  const Eigen::MatrixXd th = Eigen::MatrixXd::Random(3, 6);
  CHECK((simulate_rows(diff, th) - simulate_rows(plain, th)).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((diff.value(th.row(1).transpose()) - simulate_rows(plain, th).row(1).transpose())
            .cwiseAbs()
            .maxCoeff() < 1e-15);
  // A failed simulation (non-finite output) gives −inf; a simulator without size queries is
  // checked at evaluation.
  const hierarchical_model<nan_simulator> broken(nan_simulator{8}, stars);
  CHECK(broken.log_density(q0) == -INFINITY);
  const hierarchical_model<nan_simulator> wrong_out(nan_simulator{7}, stars);
  CHECK_THROWS_WITH_AS((void)wrong_out.log_density(q0), doctest::Contains("simulator"),
                       chempp::invalid_argument);
}

TEST_CASE(
    "hierarchical_model: an uninformative T keeps its uniform prior under NUTS (logit Jacobian)") {
  auto seeder = chempp::test::seeded_rng(20250622);
  // One star; the simulator ignores T (its column of A is zero), so T's posterior is U[2, 12.8]:
  // mean 7.4, standard deviation 10.8/√12 ≈ 3.118. Without the log Jacobian the logit
  // coordinate would be flat (improper) and the sampler would drift away.
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(8, 6);
  a(5, 5) = 0.0;
  const differentiable_linear_simulator sim(a, Eigen::VectorXd::Zero(8));
  std::vector<star_likelihood> stars{
      star_likelihood(make_star(Eigen::VectorXd::Constant(8, 0.1), {}))};
  const hierarchical_model<differentiable_linear_simulator> model(sim, stars);
  nuts_options o;
  o.seed = seeder();
  o.warmup = 500;
  o.draws = 4000;
  const auto r = run_nuts(model, model.prior_mean_point(), o);
  const Eigen::VectorXd t = model.local_draws(r.draws, 0).col(3);
  const double ess = effective_sample_size(t);
  const double sd = 10.8 / std::sqrt(12.0);
  const double z = (t.mean() - 7.4) / (sd / std::sqrt(ess));
  const Eigen::VectorXd sq = (t.array() - t.mean()).square();
  const double ess_sq = effective_sample_size(sq);
  const double sd_hat = std::sqrt(sq.sum() / static_cast<double>(t.size() - 1));
  MESSAGE("T mean " << t.mean() << " (7.4), sd " << sd_hat << " (" << sd << "), ESS " << ess
                    << ", ESS of squares " << ess_sq << ", divergences " << r.divergences);
  CHECK(t.minCoeff() >= 2.0);
  CHECK(t.maxCoeff() <= 12.8);
  CHECK(std::abs(z) < 4.0);  // 4 Monte Carlo standard errors
  // The sd of a uniform estimated from n_eff draws of the squares has relative s.e.
  // ≈ √((κ − 1)/(4 n_eff)) = √(0.2/n_eff) (kurtosis κ = 1.8): 4 s.e. are ~3 % here.
  CHECK(std::abs(sd_hat / sd - 1.0) < 4.0 * std::sqrt(0.2 / ess_sq));
  CHECK(r.divergences == 0);
}

TEST_CASE(
    "hierarchical_model: NUTS on a linear-Gaussian galaxy recovers the closed-form Lambda "
    "posterior") {
  auto rng = chempp::test::seeded_rng(20250623);
  // Simulator f = A θ + b, θ = (Λ, log10 SFE, log10 SFR_peak, x_out, T), 8 observables.
  Eigen::MatrixXd a(8, 6);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = nd(rng);
  a.col(5) *= 0.05;  // T in Gyr: ~0.1 dex per Gyr
  Eigen::VectorXd b(8);
  for (Eigen::Index i = 0; i < 8; ++i) b(i) = 0.5 * nd(rng);
  const differentiable_linear_simulator sim(a, b);
  // Normal priors on everything: Λ ~ global_prior(), locals Normal (T ~ N(7, 2²) here).
  const product_prior glob = global_prior();
  const product_prior local({prior_factor::normal(-0.3, 0.3), prior_factor::normal(0.55, 0.1),
                             prior_factor::normal(0.5, 0.1), prior_factor::normal(7.0, 2.0)});
  // 20 stars from Λ* = (−2.2, −2.95), σ = 0.05; every 4th star (from star 1) lacks He and Ne.
  const Eigen::Vector2d lambda_true(-2.2, -2.95);
  std::vector<star_likelihood> stars;
  std::vector<star_data> data;
  for (int i = 0; i < 20; ++i) {
    Eigen::VectorXd theta(6);
    theta.head(2) = lambda_true;
    theta.tail(4) = local.sample(rng);
    Eigen::VectorXd x = sim.value(theta);
    for (Eigen::Index k = 0; k < 8; ++k) x(k) += 0.05 * nd(rng);
    data.push_back(
        make_star(x, i % 4 == 1 ? std::vector<Eigen::Index>{2, 5} : std::vector<Eigen::Index>{}));
    stars.emplace_back(data.back());
  }
  const hierarchical_model<differentiable_linear_simulator> model(sim, stars, glob, local);
  REQUIRE(model.dim() == 82);

  // Closed form: with u_i ~ N(μ_u, Σ_u) integrated out, x_i,m ~ N(A_Λ Λ + A_u μ_u + b,
  // A_u Σ_u A_uᵀ + diag σ²) over the measured rows m; the Λ posterior is Gaussian with
  // precision Σ_p⁻¹ + Σ_i A_Λᵀ C_i⁻¹ A_Λ.
  const Eigen::MatrixXd sp_inv = glob.covariance().inverse();
  Eigen::MatrixXd precision = sp_inv;
  Eigen::VectorXd shift = sp_inv * glob.mean();
  const Eigen::MatrixXd su = local.covariance();
  const Eigen::VectorXd mu_u = local.mean();
  for (const auto& s : data) {
    std::vector<Eigen::Index> m;
    for (Eigen::Index k = 0; k < 8; ++k)
      if (s.measured(k)) m.push_back(k);
    const auto nm = static_cast<Eigen::Index>(m.size());
    Eigen::MatrixXd al(nm, 2), au(nm, 4);
    Eigen::VectorXd r(nm);
    for (Eigen::Index j = 0; j < nm; ++j) {
      al.row(j) = a.row(m[static_cast<std::size_t>(j)]).head(2);
      au.row(j) = a.row(m[static_cast<std::size_t>(j)]).tail(4);
      r(j) = s.x(m[static_cast<std::size_t>(j)]) - b(m[static_cast<std::size_t>(j)]);
    }
    r -= au * mu_u;
    const Eigen::MatrixXd c = au * su * au.transpose() + 0.0025 * Eigen::MatrixXd::Identity(nm, nm);
    const Eigen::MatrixXd ci = c.inverse();
    precision += al.transpose() * ci * al;
    shift += al.transpose() * ci * r;
  }
  const Eigen::Matrix2d post_cov = precision.inverse();
  const Eigen::Vector2d post_mean = post_cov * shift;

  nuts_options o;
  o.seed = rng();
  o.warmup = 1000;
  o.draws = 4000;
  const auto res = run_nuts(model, model.prior_mean_point(), o);
  const Eigen::MatrixXd lam = model.global_draws(res.draws);
  MESSAGE("step size " << res.step_size << ", mean tree depth " << res.mean_tree_depth
                       << ", accept " << res.mean_accept_stat << ", divergences " << res.divergences
                       << ", gradient evaluations " << res.gradient_evaluations);
  for (Eigen::Index j = 0; j < 2; ++j) {
    const Eigen::VectorXd x = lam.col(j);
    const double ess = effective_sample_size(x);
    const double sd = std::sqrt(post_cov(j, j));
    const double mean_err = (x.mean() - post_mean(j)) / sd;
    const double sd_hat =
        std::sqrt((x.array() - x.mean()).square().sum() / static_cast<double>(x.size() - 1));
    MESSAGE("Lambda[" << j << "]: closed form " << post_mean(j) << " +- " << sd << "; NUTS "
                      << x.mean() << " +- " << sd_hat << " (mean error " << mean_err
                      << " sigma, sd error " << sd_hat / sd - 1.0 << ", ESS " << ess << ")");
    // Tolerances 0.15 σ (mean) and 15 % (σ) are ≥ 3 Monte Carlo s.e. (1/√ESS for the mean,
    // ≈ 1/√(2 ESS) for σ) when ESS ≥ 400, which the check below demands.
    CHECK(ess > 400.0);
    CHECK(std::abs(mean_err) < 0.15);
    CHECK(std::abs(sd_hat / sd - 1.0) < 0.15);
  }
  const double corr_hat = [&] {
    const Eigen::MatrixXd c = lam.rowwise() - lam.colwise().mean();
    const Eigen::Matrix2d cv = c.transpose() * c;
    return cv(0, 1) / std::sqrt(cv(0, 0) * cv(1, 1));
  }();
  const double corr = post_cov(0, 1) / std::sqrt(post_cov(0, 0) * post_cov(1, 1));
  MESSAGE("Lambda correlation: closed form " << corr << ", NUTS " << corr_hat);
  CHECK(std::abs(corr_hat - corr) < 0.1);
  CHECK(res.divergences == 0);
}
