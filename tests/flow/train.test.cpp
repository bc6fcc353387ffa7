// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/train.hpp"

#include <cmath>

#include "flow/linear_gaussian.hpp"
#include "support/test_support.hpp"

using namespace chempp::flow;

TEST_CASE("train: linear-Gaussian posterior mean and covariance match the exact posterior") {
  auto rng = chempp::test::seeded_rng(2024);
  const auto model = chempp::test::linear_gaussian::standard();
  Eigen::MatrixXd theta, x;
  model.simulate(20000, rng, theta, x);
  maf_config cfg;
  cfg.features = 2;
  cfg.context = 3;
  cfg.hidden = 16;
  cfg.transforms = 4;
  cfg.permutation = permutation_kind::reverse;
  cfg.seed = 1;
  sbi_maf flow(cfg);
  train_options opt;
  opt.learning_rate = 2e-3;
  opt.max_epochs = 150;
  opt.patience = 15;
  opt.seed = 3;
  const auto res = train(flow, theta, x, opt);
  MESSAGE("epochs " << res.epochs << ", best validation NLL " << res.best_validation_loss);
  // exact expected NLL = E[-log p(θ|x)] = 0.5 log det(2πe Σ)
  const Eigen::MatrixXd cov = model.posterior_cov();
  const double exact_nll = 0.5 * std::log((2 * M_PI * M_E * cov).determinant());
  MESSAGE("exact posterior entropy (the best achievable NLL) " << exact_nll);
  // KL(p || q) averaged over x, estimated on fresh pairs: mean of log p(θ|x) - log q(θ|x)
  Eigen::MatrixXd t2, x2;
  model.simulate(5000, rng, t2, x2);
  const Eigen::VectorXd lq = flow.log_prob(t2, x2);
  const Eigen::MatrixXd prec = cov.inverse();
  double kl = 0.0;
  for (Eigen::Index i = 0; i < t2.rows(); ++i) {
    const Eigen::VectorXd d = t2.row(i).transpose() - model.posterior_mean(x2.row(i).transpose());
    kl += -0.5 * d.dot(prec * d) - 0.5 * std::log((2 * M_PI * cov).determinant()) - lq[i];
  }
  kl /= double(t2.rows());
  MESSAGE("estimated KL(exact || flow) = " << kl << " nats");
  CHECK(kl < 0.05);

  chempp::test::worst_error mean_err, cov_err;
  for (const auto& xv : {Eigen::Vector3d(0.0, 0.0, 0.0), Eigen::Vector3d(1.0, -0.5, 0.8), Eigen::Vector3d(-1.5, 0.7, -0.2)}) {
    Eigen::MatrixXd xo = xv.transpose();
    const Eigen::MatrixXd s = flow.sample(20000, xo, rng);
    const Eigen::VectorXd m = s.colwise().mean().transpose();
    const Eigen::MatrixXd centred = s.rowwise() - m.transpose();
    const Eigen::MatrixXd c = centred.transpose() * centred / double(s.rows() - 1);
    const Eigen::VectorXd mu = model.posterior_mean(xv);
    // errors in units of the exact posterior standard deviation
    for (Eigen::Index i = 0; i < 2; ++i) {
      mean_err.update(std::abs(m[i] - mu[i]) / std::sqrt(cov(i, i)), "mean at x=" + std::to_string(xv[0]));
      for (Eigen::Index j = 0; j < 2; ++j)
        cov_err.update(std::abs(c(i, j) - cov(i, j)) / std::sqrt(cov(i, i) * cov(j, j)), "cov at x=" + std::to_string(xv[0]));
    }
  }
  INFO("worst mean error " << mean_err.value << " σ at " << mean_err.where);
  INFO("worst covariance error " << cov_err.value << " (relative to σ_i σ_j) at " << cov_err.where);
  MESSAGE("worst mean error " << mean_err.value << " σ; worst covariance error " << cov_err.value);
  // Tolerances: Monte-Carlo error of 20000 samples is ~0.01 σ; the rest is the short training
  // (seconds) of a fast test. tests/flow/train.slow.test.cpp trains longer with tighter bounds.
  CHECK(mean_err.value < 0.2);
  CHECK(cov_err.value < 0.25);
}

TEST_CASE("train: seeded training is reproducible and the observer can stop it") {
  auto rng = chempp::test::seeded_rng(9);
  const auto model = chempp::test::linear_gaussian::standard();
  Eigen::MatrixXd theta, x;
  model.simulate(600, rng, theta, x);
  maf_config cfg;
  cfg.features = 2;
  cfg.context = 3;
  cfg.seed = 4;
  train_options opt;
  opt.max_epochs = 3;
  sbi_maf a(cfg), b(cfg);
  int calls = 0;
  train(a, theta, x, opt, [&](const epoch_report&) { ++calls; });
  train(b, theta, x, opt);
  CHECK(calls == 3);
  CHECK((a.parameters() - b.parameters()).cwiseAbs().maxCoeff() == 0.0);
  CHECK((a.theta_mean() - b.theta_mean()).cwiseAbs().maxCoeff() == 0.0);
  sbi_maf c(cfg);
  auto r = train(c, theta, x, opt, [](const epoch_report& e) { return e.epoch < 1; });
  CHECK(r.epochs == 2);
  opt.batch_size = 0;
  CHECK_THROWS_AS(train(c, theta, x, opt), chempp::invalid_argument);
}

TEST_CASE("train: early stopping restores the best weights") {
  auto rng = chempp::test::seeded_rng(10);
  const auto model = chempp::test::linear_gaussian::standard();
  Eigen::MatrixXd theta, x;
  model.simulate(300, rng, theta, x);
  maf_config cfg;
  cfg.features = 2;
  cfg.context = 3;
  cfg.hidden = 16;
  train_options opt;
  opt.learning_rate = 2e-2;  // overfits quickly on 270 pairs
  opt.patience = 3;
  opt.max_epochs = 500;
  sbi_maf flow(cfg);
  auto r = train(flow, theta, x, opt);
  CHECK(r.early_stopped);
  CHECK(r.epochs == r.best_epoch + 1 + opt.patience);
  double best = INFINITY;
  for (const auto& e : r.history) best = std::min(best, e.validation_loss);
  CHECK(r.best_validation_loss == best);
}
