// SPDX-License-Identifier: BSD-3-Clause
// Longer accuracy runs (label `slow`): a 3-D linear-Gaussian posterior learned from 1e5 pairs
// with the paper's architecture (hidden 8, 4 transforms) in the exact-marginal ordering.
#include "chempp/flow/train.hpp"

#include "chempp/flow/sampler.hpp"

#include <Eigen/Dense>

#include <cmath>

#include "support/test_support.hpp"

using namespace chempp::flow;

TEST_CASE("train (slow): 3-D linear-Gaussian posterior, joint and exact marginal") {
  auto rng = chempp::test::seeded_rng(31);
  Eigen::MatrixXd a(4, 3);
  a << 1.0, 0.5, 0.0, -0.3, 0.8, 0.4, 0.6, -0.4, 0.9, 0.2, 0.1, -0.7;
  const double noise = 0.4;
  const Eigen::Index n = 100000;
  std::normal_distribution<double> nd;
  Eigen::MatrixXd theta(n, 3), x(n, 4);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) theta(i, j) = nd(rng);
    x.row(i) = (a * theta.row(i).transpose()).transpose();
    for (Eigen::Index k = 0; k < 4; ++k) x(i, k) += noise * nd(rng);
  }
  const Eigen::MatrixXd cov = (Eigen::MatrixXd::Identity(3, 3) + a.transpose() * a / (noise * noise)).inverse();
  maf_config cfg;
  cfg.features = 3;
  cfg.context = 4;
  cfg.hidden = 8;
  cfg.transforms = 4;
  cfg.permutation = permutation_kind::global_first;
  cfg.n_global = 2;
  cfg.condition_first = true;  // else dimension 0 of each transform ignores x (nflows quirk)
  cfg.seed = 5;
  sbi_maf flow(cfg);
  train_options opt;
  opt.learning_rate = 1e-3;
  opt.max_epochs = 150;
  opt.patience = 15;
  const auto res = train(flow, theta, x, opt);
  MESSAGE("epochs " << res.epochs << ", best validation NLL " << res.best_validation_loss << ", exact entropy "
                    << 0.5 * std::log((2 * M_PI * M_E * cov).determinant()));

  maf_sampler<sbi_maf> sampler(flow);
  Eigen::MatrixXd s(40000, 3);
  chempp::test::worst_error mean_err, cov_err, marg_err;
  const Eigen::Matrix2d cov2 = cov.topLeftCorner(2, 2);
  for (const Eigen::Vector4d& xv : {Eigen::Vector4d(0.0, 0.0, 0.0, 0.0), Eigen::Vector4d(1.0, -0.5, 0.8, 0.3),
                                    Eigen::Vector4d(-1.2, 0.7, -0.2, 0.9)}) {
    const Eigen::VectorXd x_obs = xv;
    sampler.sample(x_obs, rng, s);
    const Eigen::Vector3d m = s.colwise().mean().transpose();
    const Eigen::MatrixXd c0 = s.rowwise() - m.transpose();
    const Eigen::Matrix3d c = c0.transpose() * c0 / double(s.rows() - 1);
    const Eigen::Vector3d mu = cov * a.transpose() * xv / (noise * noise);
    for (Eigen::Index i = 0; i < 3; ++i) {
      mean_err.update(std::abs(m[i] - mu[i]) / std::sqrt(cov(i, i)), "mean");
      for (Eigen::Index j = 0; j < 3; ++j)
        cov_err.update(std::abs(c(i, j) - cov(i, j)) / std::sqrt(cov(i, i) * cov(j, j)), "cov");
    }
    // exact marginal of (θ0, θ1) vs the flow's log_prob_marginal at a few points
    const Eigen::Matrix2d p2 = cov2.inverse();
    Eigen::MatrixXd lam(5, 2);
    lam << mu[0], mu[1], mu[0] + 0.3, mu[1], mu[0], mu[1] - 0.3, mu[0] - 0.2, mu[1] + 0.2, mu[0] + 0.4, mu[1] + 0.4;
    const Eigen::VectorXd lq = flow.log_prob_marginal(lam, xv.transpose());
    for (Eigen::Index r = 0; r < lam.rows(); ++r) {
      const Eigen::Vector2d dlt = lam.row(r).transpose() - mu.head(2);
      const double lp = -0.5 * dlt.dot(p2 * dlt) - 0.5 * std::log((2 * M_PI * cov2).determinant());
      marg_err.update(std::abs(lq[r] - lp), "log marginal");
    }
  }
  MESSAGE("worst mean error " << mean_err.value << " σ, covariance error " << cov_err.value
                              << ", |Δ log marginal| " << marg_err.value << " nats");
  CHECK(mean_err.value < 0.1);
  CHECK(cov_err.value < 0.1);
  CHECK(marg_err.value < 0.1);
}
