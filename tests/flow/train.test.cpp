// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/train.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "flow/linear_gaussian.hpp"
#include "flow/perturbed_flow.hpp"
#include "support/test_support.hpp"

using namespace chempp::flow;

namespace {
// The flow of the linear-Gaussian tests (D 2, C 3, H 16, 4 transforms, reverse permutations).
sbi_maf linear_gaussian_flow() {
  maf_config cfg;
  cfg.features = 2;
  cfg.context = 3;
  cfg.hidden = 16;
  cfg.transforms = 4;
  cfg.permutation = permutation_kind::reverse;
  cfg.seed = 1;
  return sbi_maf(cfg);
}

// KL(exact posterior || flow) averaged over x, estimated on the pairs (t2, x2): the mean of
// log p(θ|x) - log q(θ|x), in nats.
double kl_exact_flow(const chempp::test::linear_gaussian& model, const sbi_maf& flow, const Eigen::MatrixXd& t2,
                     const Eigen::MatrixXd& x2) {
  const Eigen::MatrixXd cov = model.posterior_cov();
  const Eigen::MatrixXd prec = cov.inverse();
  const Eigen::VectorXd lq = flow.log_prob(t2, x2);
  double kl = 0.0;
  for (Eigen::Index i = 0; i < t2.rows(); ++i) {
    const Eigen::VectorXd d = t2.row(i).transpose() - model.posterior_mean(x2.row(i).transpose());
    kl += -0.5 * d.dot(prec * d) - 0.5 * std::log((2 * M_PI * cov).determinant()) - lq[i];
  }
  return kl / double(t2.rows());
}
}  // namespace

TEST_CASE("train: linear-Gaussian posterior mean and covariance match the exact posterior") {
  auto rng = chempp::test::seeded_rng(2024);
  const auto model = chempp::test::linear_gaussian::standard();
  Eigen::MatrixXd theta, x;
  model.simulate(20000, rng, theta, x);
  sbi_maf flow = linear_gaussian_flow();
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
  const double kl = kl_exact_flow(model, flow, t2, x2);
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
  opt.batch_size = 8;
  opt.precision = static_cast<training_precision>(7);
  CHECK_THROWS_WITH_AS(train(c, theta, x, opt), doctest::Contains("precision"), chempp::invalid_argument);
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
  for (const auto precision : {training_precision::float64, training_precision::float32}) {
    train_options opt;
    opt.learning_rate = 2e-2;  // overfits quickly on 270 pairs
    opt.patience = 3;
    opt.max_epochs = 500;
    opt.precision = precision;
    sbi_maf flow(cfg);
    auto r = train(flow, theta, x, opt);
    INFO("float32 steps: " << (precision == training_precision::float32));
    CHECK(r.early_stopped);
    CHECK(r.epochs == r.best_epoch + 1 + opt.patience);
    double best = INFINITY;
    for (const auto& e : r.history) best = std::min(best, e.validation_loss);
    CHECK(r.best_validation_loss == best);
  }
}

TEST_CASE("train: float32 steps train degree-sorted MADEs and return the parameters in nflows order") {
  // With a learning rate of 1e-30 no parameter moves in float, so the trained flow must hold its
  // initial parameters rounded to float, each in its own place: a wrong inverse permutation of the
  // hidden units (float training sorts them by degree) would scramble them.
  auto rng = chempp::test::seeded_rng(12);
  chempp::test::linear_gaussian model;
  model.a.resize(3, 4);
  model.a << 1.0, 0.5, -0.3, 0.2, 0.8, 0.6, -0.4, 0.1, -0.7, 0.3, 0.9, -0.5;
  Eigen::MatrixXd theta, x;
  model.simulate(400, rng, theta, x);
  maf_config cfg;
  cfg.features = 4;  // hidden degrees 1..3 interleave: the sort moves most units
  cfg.context = 3;
  cfg.hidden = 11;
  cfg.seed = 6;
  sbi_maf flow(cfg);
  const Eigen::VectorXd before = flow.parameters();
  train_options opt;
  opt.learning_rate = 1e-30;
  opt.max_epochs = 2;
  opt.precision = training_precision::float32;
  train(flow, theta, x, opt);
  const Eigen::VectorXd expect = before.cast<float>().cast<double>();
  CHECK((flow.parameters() - expect).cwiseAbs().maxCoeff() == 0.0);
  CHECK((flow.parameters() - before).cwiseAbs().maxCoeff() > 0.0);  // it did go through float
}

// The batched passes of scalar T with batch storage order Order (made.hpp) on the standardised
// (u0, c): per-sample log q, the flat parameter gradient of Σ w (−log q) and dL/du0, in double.
// `sorted`: the MADEs with their hidden units sorted by degree (what float training runs); the
// gradient is put back in nflows order before it is flattened.
template <class T, int Order>
void batched_passes(const sbi_maf& flow, const Eigen::MatrixXd& u0, const Eigen::MatrixXd& c, Eigen::VectorXd& log_q,
                    Eigen::VectorXd& grad, Eigen::MatrixXd& grad_u0, bool sorted = false) {
  std::vector<made<tanh_activation, T>> net, g;
  std::vector<permutation> inverse;
  for (const auto& m : flow.mades()) {
    const auto order = m.degree_order();
    inverse.push_back(inverse_of(order));
    net.push_back(sorted ? m.template cast<T>().permuted_hidden(order) : m.template cast<T>());
  }
  g = net;
  for (auto& gm : g) gm.zero();
  basic_maf_workspace<T, Order> ws;
  const batch_matrix<T, Order> u0t = u0.cast<T>(), ct = c.cast<T>();
  internal::maf_batch_forward<softplus_scale>(net, flow.permutations(), u0t, ct, ws);
  batch_matrix<T, Order> gu0;
  internal::maf_batch_backward<softplus_scale>(net, flow.permutations(), ct, T(1.0 / double(u0.cols())), ws, g, &gu0);
  log_q = ws.log_q.template cast<double>();
  if (sorted)
    for (std::size_t t = 0; t < g.size(); ++t) g[t] = g[t].permuted_hidden(inverse[t]);
  Eigen::Matrix<T, Eigen::Dynamic, 1> gt(flow.parameter_count());
  internal::flatten_parameters(g, gt);
  grad = gt.template cast<double>();
  grad_u0 = gu0.template cast<double>();
}

TEST_CASE("train: the float32 batched passes agree with double to float rounding, in both batch storage orders") {
  // the paper-shaped flow with perturbed weights (every path matters), H 8 and 50
  for (const Eigen::Index h : {Eigen::Index(8), Eigen::Index(50)}) {
    const auto flow = chempp::test::perturbed_flow<sbi_maf>(11, h, false, 0.4);
    std::mt19937_64 rng(12);
    std::normal_distribution<double> nd(0.0, 1.0);
    const Eigen::MatrixXd u0 = Eigen::MatrixXd::NullaryExpr(6, 300, [&] { return nd(rng); });
    const Eigen::MatrixXd c = Eigen::MatrixXd::NullaryExpr(8, 300, [&] { return nd(rng); });

    maf_workspace ws;
    flow.forward_standardized(u0, c, ws);
    auto gflow = flow;
    gflow.zero_parameters();
    Eigen::MatrixXd gu0;
    flow.backward_standardized(c, 1.0 / 300.0, ws, gflow, &gu0);
    const Eigen::VectorXd gd = gflow.parameters();
    const auto compare = [&](const char* what, const Eigen::VectorXd& lq, const Eigen::VectorXd& gp, const Eigen::MatrixXd& gu,
                             double tol_lq, double tol_g) {
      const double lq_err = (lq - ws.log_q).cwiseAbs().maxCoeff() / (1.0 + ws.log_q.cwiseAbs().maxCoeff());
      const double g_err = (gp - gd).cwiseAbs().maxCoeff() / gd.cwiseAbs().maxCoeff();
      const double gu_err = (gu - gu0).cwiseAbs().maxCoeff() / gu0.cwiseAbs().maxCoeff();
      INFO(std::string(what) << ", H " << h << ": log q error " << lq_err << ", parameter gradient error " << g_err
                << ", input gradient error " << gu_err);
      CHECK(lq_err < tol_lq);
      CHECK(g_err < tol_g);
      CHECK(gu_err < tol_g);
    };
    Eigen::VectorXd lq, gp;
    Eigen::MatrixXd gu;
    // log q is a sum of ~30 terms of O(1-10): float rounding ~1e-6 relative per term
    batched_passes<float, Eigen::ColMajor>(flow, u0, c, lq, gp, gu);
    compare("float, column-major", lq, gp, gu, 1e-5, 1e-4);
    batched_passes<float, Eigen::RowMajor>(flow, u0, c, lq, gp, gu);  // masked products, interleaved degrees
    compare("float, row-major", lq, gp, gu, 1e-5, 1e-4);
    batched_passes<float, Eigen::RowMajor>(flow, u0, c, lq, gp, gu, true);  // what float training runs
    compare("float, row-major, units sorted by degree", lq, gp, gu, 1e-5, 1e-4);
    // the same arithmetic in another summation order: double rounding only
    batched_passes<double, Eigen::RowMajor>(flow, u0, c, lq, gp, gu);
    compare("double, row-major", lq, gp, gu, 1e-13, 1e-12);
    batched_passes<double, Eigen::RowMajor>(flow, u0, c, lq, gp, gu, true);
    compare("double, row-major, units sorted by degree", lq, gp, gu, 1e-13, 1e-12);
    // the casts round each parameter to nearest
    CHECK(double(flow.mades()[1].cast<float>().w_out(3, 2)) == double(float(flow.mades()[1].w_out(3, 2))));
  }
}

TEST_CASE("train: float32 steps reach the validation NLL and KL of double training (linear-Gaussian, exact posterior)") {
  // seed printed by MESSAGE; the same data, initialisation, split and batch order for both precisions
  auto rng = chempp::test::seeded_rng(2025);
  const auto model = chempp::test::linear_gaussian::standard();
  Eigen::MatrixXd theta, x, t2, x2;
  model.simulate(20000, rng, theta, x);
  model.simulate(5000, rng, t2, x2);
  const double exact_nll = 0.5 * std::log((2 * M_PI * M_E * model.posterior_cov()).determinant());
  Eigen::VectorXd params[2];
  auto run = [&](training_precision p, double& kl) {
    sbi_maf flow = linear_gaussian_flow();
    train_options opt;
    opt.learning_rate = 2e-3;
    opt.max_epochs = 60;
    opt.patience = 15;
    opt.seed = 3;
    opt.precision = p;
    const auto res = train(flow, theta, x, opt);
    params[p == training_precision::float32 ? 1 : 0] = flow.parameters();
    kl = kl_exact_flow(model, flow, t2, x2);  // evaluated in double
    return res.best_validation_loss;
  };
  double kl64 = 0.0, kl32 = 0.0;
  const double v64 = run(training_precision::float64, kl64);
  const double v32 = run(training_precision::float32, kl32);
  MESSAGE("exact NLL " << exact_nll << "; validation NLL double " << v64 << ", float " << v32 << "; KL(exact || flow) double "
                       << kl64 << ", float " << kl32 << " nats");
  // The two runs follow different rounding from the first step on, so they are two trainings of
  // the same model: the bound is the spread between seeds of a 60-epoch run (~0.01 nats), not 0.
  CHECK(std::abs(v32 - v64) < 0.02);
  // ... and they are two trainings: the float steps round differently (not the double path twice)
  const double dp = (params[1] - params[0]).cwiseAbs().maxCoeff();
  MESSAGE("largest parameter difference float - double training: " << dp);
  CHECK(dp > 1e-7);
  CHECK(kl32 < 0.05);
  CHECK(kl64 < 0.05);
}

namespace {
// A flow with D 5, C 3 and `hidden` units: degrees 1..4 repeat, so the masks leave gaps.
sbi_maf five_by_three(int hidden, std::uint64_t seed) {
  maf_config cfg;
  cfg.features = 5;
  cfg.context = 3;
  cfg.hidden = hidden;
  cfg.seed = seed;
  return sbi_maf(cfg);
}
// The flow's MADEs in precision T, hidden units sorted by degree (what float training runs) or not.
template <class T>
std::vector<made<tanh_activation, T>> mades_in(const sbi_maf& flow, bool sorted) {
  std::vector<made<tanh_activation, T>> net;
  for (const auto& m : flow.mades()) net.push_back(sorted ? m.template cast<T>().permuted_hidden(m.degree_order()) : m.template cast<T>());
  return net;
}
}  // namespace

TEST_CASE_TEMPLATE("train: Adam's parameter runs cover every weight inside the MADE masks once, at its flat offset", T, float, double) {
  // The trainer updates the MADE tensors in place over these runs (no flat copies): an entry
  // inside a mask left out, visited twice, or paired with the wrong gradient or Adam moment
  // would train a different network. Entries outside the masks may be visited (they are zero).
  for (const int hidden : {11, 50}) {
    const sbi_maf flow = five_by_three(hidden, 9);
    for (const bool sorted : {false, true}) {
      CAPTURE(hidden);
      CAPTURE(sorted);
      std::vector<made<tanh_activation, T>> net = mades_in<T>(flow, sorted), grad, mask;
      mask = net;
      grad = net;
      Eigen::Index next = 0;  // net: 1, 2, 3, ... in flat order, then masked; grad: -1, -2, ...
      for (std::size_t t = 0; t < net.size(); ++t) {
        mask[t].for_each_tensor([](auto& m) { m.setOnes(); });
        mask[t].apply_masks();
        Eigen::Index g_next = next;
        net[t].for_each_tensor([&](auto& m) {
          for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(++next);
        });
        net[t].apply_masks();
        grad[t].for_each_tensor([&](auto& m) {
          for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = -static_cast<T>(++g_next);
        });
      }
      const Eigen::Index total = flow.parameter_count();
      REQUIRE(next == total);
      Eigen::Matrix<T, Eigen::Dynamic, 1> inside(total);
      internal::flatten_parameters(mask, inside);
      const auto runs = internal::parameter_runs(net, grad);
      std::vector<int> visits(static_cast<std::size_t>(total), 0);
      bool paired = true;
      for (const auto& r : runs) {
        REQUIRE(r.at + r.n <= static_cast<std::size_t>(total));
        for (std::size_t j = 0; j < r.n; ++j) {
          const std::size_t f = r.at + j;
          ++visits[f];
          const T expect_p = inside[static_cast<Eigen::Index>(f)] != T(0) ? static_cast<T>(f + 1) : T(0);
          paired = paired && r.p[j] == expect_p && r.g[j] == -static_cast<T>(f + 1);
        }
      }
      CHECK(paired);
      std::size_t missed = 0, twice = 0, visited = 0;
      for (Eigen::Index f = 0; f < total; ++f) {
        const int v = visits[static_cast<std::size_t>(f)];
        missed += (inside[f] != T(0) && v == 0) ? 1 : 0;
        twice += v > 1 ? 1 : 0;
        visited += v > 0 ? 1 : 0;
      }
      CHECK(missed == 0);
      CHECK(twice == 0);
      MESSAGE("H " << hidden << std::string(sorted ? " sorted" : " nflows order") << ": " << runs.size() << " runs visit " << visited << " of "
                   << total << " parameters (" << inside.sum() << " inside the masks)");
      if (hidden == 50 && sorted) CHECK(visited < static_cast<std::size_t>(total));  // masked blocks are skipped
    }
  }
}

TEST_CASE_TEMPLATE("train: Adam steps over the parameter runs equal flatten, adam::step and unflatten, bit for bit", T, float, double) {
  // What train_steps does each batch (in place, masked entries skipped, gradient scaled by the
  // clipping coefficient) against the flat reference it replaced.
  auto rng = chempp::test::seeded_rng(41);
  const sbi_maf flow = five_by_three(50, 4);
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  std::vector<made<tanh_activation, T>> net = mades_in<T>(flow, true), grad = net;
  const Eigen::Index total = flow.parameter_count();
  // three gradients with the masks' zeros, as backward leaves them
  std::normal_distribution<double> nd;
  std::vector<Vec> grads;
  for (int step = 0; step < 3; ++step) {
    for (auto& gm : grad) {
      gm.for_each_tensor([&](auto& m) {
        for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(nd(rng));
      });
      gm.apply_masks();
    }
    grads.emplace_back(total);
    internal::flatten_parameters(grad, grads.back());
  }
  const auto scale_of = [](int step) { return static_cast<T>(step == 1 ? 1.0 : 0.3); };  // clipped or not
  chempp::nn::adam_options ao;
  ao.learning_rate = 1e-2;
  // the reference: flat parameters, one whole step each
  Vec p(total), p0(total);
  internal::flatten_parameters(net, p);
  p0 = p;
  chempp::nn::adam<T> flat(static_cast<std::size_t>(total), ao);
  for (int step = 0; step < 3; ++step) {
    const Vec gs = grads[std::size_t(step)] * scale_of(step);
    flat.step(p, gs);
  }
  // the trainer's path: the tensors in place over the runs
  const auto runs = internal::parameter_runs(net, grad);
  chempp::nn::adam<T> in_place(static_cast<std::size_t>(total), ao);
  for (int step = 0; step < 3; ++step) {
    internal::unflatten_parameters(grads[std::size_t(step)], grad);  // same tensors: the runs' pointers stay valid
    const double norm2 = internal::squared_norm(runs);
    CHECK(norm2 == doctest::Approx(double(grads[std::size_t(step)].template cast<double>().squaredNorm()))
                       .epsilon(std::is_same_v<T, float> ? 1e-6 : 1e-13));
    in_place.begin_step();
    for (const auto& r : runs) in_place.update(r.at, r.p, r.g, r.n, scale_of(step));
  }
  Vec q(total);
  internal::flatten_parameters(net, q);
  CHECK(q == p);
  CHECK((q - p0).cwiseAbs().maxCoeff() > T(0));  // it trained
}
