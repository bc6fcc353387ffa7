// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/maf.hpp"
#include "chempp/flow/sampler.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "support/test_support.hpp"

using namespace chempp::flow;

namespace {

template <class Flow>
void set_random_standardization(Flow& f, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.5, 2.0), m(-1.0, 1.0);
  Eigen::VectorXd tm(f.features()), ts(f.features()), xm(f.context_size()), xs(f.context_size());
  for (Eigen::Index i = 0; i < tm.size(); ++i) { tm[i] = m(rng); ts[i] = u(rng); }
  for (Eigen::Index i = 0; i < xm.size(); ++i) { xm[i] = m(rng); xs[i] = u(rng); }
  f.set_standardization(tm, ts, xm, xs);
}

template <class Act, class Scale>
void check_whole_loss_gradient(std::uint64_t seed, bool condition_first = false) {
  auto rng = chempp::test::seeded_rng(seed);
  maf_config cfg;
  cfg.features = 4;
  cfg.context = 3;
  cfg.hidden = 6;
  cfg.transforms = 3;
  cfg.seed = seed;
  cfg.condition_first = condition_first;
  conditional_maf<Act, Scale> flow(cfg);
  set_random_standardization(flow, rng);
  std::normal_distribution<double> nd;
  const Eigen::Index n = 5;
  Eigen::MatrixXd theta(n, 4), x(n, 3);
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  auto grad = flow;
  grad.zero_parameters();
  Eigen::MatrixXd gtheta;
  const double nll = flow.nll_and_gradient(theta, x, grad, &gtheta);
  // the loss is the mean of -log_prob
  CHECK(nll == doctest::Approx(-flow.log_prob(theta, x).mean()).epsilon(1e-12));

  const double h = 1e-6;
  auto loss = [&](const conditional_maf<Act, Scale>& f, const Eigen::MatrixXd& th) {
    return -f.log_prob(th, x).mean();
  };
  chempp::test::worst_error worst;
  const Eigen::VectorXd p = flow.parameters(), gp = grad.parameters();
  auto probe = flow;
  std::size_t checked = 0;
  for (Eigen::Index k = 0; k < p.size(); ++k) {
    if (p[k] == 0.0 && gp[k] == 0.0) continue;  // masked
    Eigen::VectorXd q = p;
    q[k] = p[k] + h;
    probe.set_parameters(q);
    const double lp = loss(probe, theta);
    q[k] = p[k] - h;
    probe.set_parameters(q);
    const double lm = loss(probe, theta);
    const double fd = (lp - lm) / (2 * h);
    worst.update(std::abs(fd - gp[k]) / std::max(1e-2, std::abs(fd)), "parameter " + std::to_string(k));
    ++checked;
  }
  CHECK(checked > 200);
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    Eigen::MatrixXd tp = theta, tm = theta;
    tp.data()[i] += h;
    tm.data()[i] -= h;
    const double fd = (loss(flow, tp) - loss(flow, tm)) / (2 * h);
    worst.update(std::abs(fd - gtheta.data()[i]) / std::max(1e-2, std::abs(fd)), "theta " + std::to_string(i));
  }
  INFO("worst relative error " << worst.value << " at " << worst.where);
  CHECK(worst.value < 1e-6);
}

}  // namespace

TEST_CASE("maf: affine scale parametrisations and their derivatives") {
  CHECK(softplus_scale::apply(0.0) == doctest::Approx(std::log(2.0) + 1e-3).epsilon(1e-15));
  CHECK(softplus_scale::apply(-1e4) == doctest::Approx(1e-3));  // never zero
  CHECK(softplus_scale::apply(1e4) == doctest::Approx(1e4));    // no overflow
  CHECK(sigmoid_scale::apply(0.0) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0)) + 1e-3).epsilon(1e-15));
  CHECK(sigmoid_scale::apply(-1e4) == doctest::Approx(1e-3));
  for (double s : {-5.0, -1.0, 0.0, 0.7, 4.0}) {
    const double h = 1e-6;
    const double fd1 = (softplus_scale::apply(s + h) - softplus_scale::apply(s - h)) / (2 * h);
    CHECK(softplus_scale::derivative(s, softplus_scale::apply(s)) == doctest::Approx(fd1).epsilon(1e-8));
    const double fd2 = (sigmoid_scale::apply(s + h) - sigmoid_scale::apply(s - h)) / (2 * h);
    CHECK(sigmoid_scale::derivative(s, sigmoid_scale::apply(s)) == doctest::Approx(fd2).epsilon(1e-8));
  }
}

TEST_CASE("maf: permutations") {
  std::mt19937_64 rng(3);
  for (auto kind : {permutation_kind::random, permutation_kind::reverse, permutation_kind::global_first}) {
    auto p = make_permutation(6, kind, 2, rng);
    CHECK(is_permutation_of(p, 6));
    if (kind == permutation_kind::global_first) CHECK(keeps_leading_block(p, 2));
    CHECK(permutation_kind_from_string(to_string(kind)) == kind);
  }
  CHECK_THROWS_AS((void)permutation_kind_from_string("bogus"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)make_permutation(3, permutation_kind::global_first, 4, rng), chempp::invalid_argument);
}

TEST_CASE("maf: whole-loss gradient (params and θ, through standardisation) matches finite differences, tanh + softplus scale") {
  check_whole_loss_gradient<tanh_activation, softplus_scale>(101);
}
TEST_CASE("maf: whole-loss gradient matches finite differences, relu + sigmoid scale") {
  check_whole_loss_gradient<relu_activation, sigmoid_scale>(102);
}
TEST_CASE("maf: whole-loss gradient matches finite differences, condition_first masks") {
  check_whole_loss_gradient<tanh_activation, softplus_scale>(103, true);
}

TEST_CASE("maf: condition_first makes dimension 0 depend on the context") {
  maf_config cfg;
  cfg.features = 3;
  cfg.context = 2;
  cfg.seed = 8;
  Eigen::MatrixXd th(2, 3), x(2, 2);
  th << 0.5, 0.1, -0.2, 0.5, 0.1, -0.2;
  x << 0.0, 0.0, 2.0, -1.0;
  cfg.permutation = permutation_kind::global_first;
  cfg.n_global = 1;  // θ0 stays first in every transform
  sbi_maf plain(cfg);
  cfg.condition_first = true;
  sbi_maf cond(cfg);
  // nflows masks: q(θ0 | x) cannot depend on x; with condition_first it does
  const Eigen::VectorXd a = plain.log_prob_marginal(th.leftCols(1), x);
  const Eigen::VectorXd b = cond.log_prob_marginal(th.leftCols(1), x);
  CHECK(a[0] == a[1]);
  CHECK(b[0] != b[1]);
}

TEST_CASE("maf: log_prob integrates to 1 on a 1-D and a 2-D grid") {
  auto rng = chempp::test::seeded_rng(7);
  for (Eigen::Index d : {1, 2}) {
    maf_config cfg;
    cfg.features = d;
    cfg.context = 2;
    cfg.hidden = 8;
    cfg.transforms = 3;
    cfg.seed = 7 + static_cast<std::uint64_t>(d);
    sbi_maf flow(cfg);
    set_random_standardization(flow, rng);
    Eigen::MatrixXd x(1, 2);
    x << 0.4, -0.8;
    const Eigen::Index m = d == 1 ? 4001 : 301;
    const double lo = -25.0, hi = 25.0, step = (hi - lo) / double(m - 1);
    Eigen::Index total = 1;
    for (Eigen::Index i = 0; i < d; ++i) total *= m;
    Eigen::MatrixXd theta(total, d);
    for (Eigen::Index k = 0; k < total; ++k) {
      Eigen::Index r = k;
      for (Eigen::Index i = 0; i < d; ++i) {
        theta(k, i) = lo + step * double(r % m);
        r /= m;
      }
    }
    const double integral = flow.log_prob(theta, x).array().exp().sum() * std::pow(step, double(d));
    INFO("D = " << d << ", integral = " << integral);
    CHECK(integral == doctest::Approx(1.0).epsilon(1e-3));  // Riemann sum on a fine grid
  }
}

TEST_CASE("maf: log_prob_marginal equals the numerically marginalised joint") {
  auto rng = chempp::test::seeded_rng(17);
  maf_config cfg;
  cfg.features = 3;
  cfg.context = 2;
  cfg.hidden = 8;
  cfg.transforms = 4;
  cfg.permutation = permutation_kind::global_first;
  cfg.n_global = 2;
  cfg.seed = 17;
  sbi_maf flow(cfg);
  set_random_standardization(flow, rng);
  REQUIRE(flow.marginal_is_exact(2));
  Eigen::MatrixXd x(1, 2);
  x << -0.3, 0.9;
  const Eigen::Index m = 4001;
  const double lo = -30.0, hi = 30.0, step = (hi - lo) / double(m - 1);
  chempp::test::worst_error worst;
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  for (int trial = 0; trial < 6; ++trial) {
    const double a = u(rng), b = u(rng);
    Eigen::MatrixXd theta(m, 3);
    theta.col(0).setConstant(a);
    theta.col(1).setConstant(b);
    for (Eigen::Index k = 0; k < m; ++k) theta(k, 2) = lo + step * double(k);
    const double numeric = flow.log_prob(theta, x).array().exp().sum() * step;
    Eigen::MatrixXd lam(1, 2);
    lam << a, b;
    const double exact = std::exp(flow.log_prob_marginal(lam, x)[0]);
    worst.update(std::abs(numeric - exact) / exact, "Λ = (" + std::to_string(a) + ", " + std::to_string(b) + ")");
  }
  INFO("worst relative error " << worst.value << " at " << worst.where);
  CHECK(worst.value < 1e-6);
  // a random ordering cannot give an exact marginal
  cfg.permutation = permutation_kind::reverse;
  sbi_maf rev(cfg);
  Eigen::MatrixXd lam(1, 2);
  lam << 0.1, 0.2;
  CHECK_THROWS_AS((void)rev.log_prob_marginal(lam, x), chempp::invalid_argument);
}

TEST_CASE("maf: sample inverts the flow (round trip through the base space)") {
  auto rng = chempp::test::seeded_rng(5);
  maf_config cfg;
  cfg.features = 4;
  cfg.context = 3;
  cfg.seed = 5;
  sbi_maf flow(cfg);
  set_random_standardization(flow, rng);
  Eigen::MatrixXd x(1, 3);
  x << 0.1, 0.2, -0.5;
  Eigen::MatrixXd s = flow.sample(50, x, rng);
  REQUIRE(s.rows() == 50);
  Eigen::MatrixXd u0, c;
  flow.standardize(s, x, u0, c);
  maf_workspace ws;
  flow.forward_standardized(u0, c, ws);
  Eigen::MatrixXd back = flow.inverse_standardized(ws.u.back(), c);
  CHECK((back - u0).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("maf: bad arguments throw naming the argument") {
  maf_config cfg;
  cfg.features = 2;
  cfg.context = 1;
  sbi_maf flow(cfg);
  Eigen::MatrixXd th(3, 2), x(3, 2);
  th.setZero();
  x.setZero();
  CHECK_THROWS_WITH_AS((void)flow.log_prob(th, x), doctest::Contains("x.cols()"), chempp::invalid_argument);
  Eigen::MatrixXd x1(3, 1);
  x1.setZero();
  th(1, 1) = std::nan("");
  CHECK_THROWS_WITH_AS((void)flow.log_prob(th, x1), doctest::Contains("theta"), chempp::invalid_argument);
  cfg.features = 0;
  CHECK_THROWS_AS(sbi_maf{cfg}, chempp::invalid_argument);
}

// Issue 15: a finite but huge context overflowed the standardisation (NaN from every entry
// point) and 1e6 / 1e300 gave identical, confident answers. Now every entry point names the
// context column that lies beyond the training data.
TEST_CASE("flow contexts far outside the training data are errors at every entry point") {
  chempp::flow::sbi_maf f(chempp::flow::maf_config{.features = 2, .context = 2, .hidden = 8, .transforms = 2, .seed = 3});
  const Eigen::MatrixXd th = Eigen::MatrixXd::Zero(1, 2);
  // context (0, bad) at the four entry points; `sampled` must appear in the sampling errors
  const auto rejected_everywhere = [&](double bad, const char* sampled) {
    CAPTURE(bad);
    Eigen::MatrixXd x(1, 2);
    x << 0.0, bad;
    CHECK_THROWS_WITH_AS((void)f.log_prob(th, x), doctest::Contains("x"), chempp::invalid_argument);
    std::mt19937_64 rng(1);
    CHECK_THROWS_WITH_AS((void)f.sample(3, x, rng), doctest::Contains(sampled), chempp::invalid_argument);
    chempp::flow::maf_sampler<chempp::flow::sbi_maf> s(f);
    Eigen::MatrixXd out(3, 2);
    CHECK_THROWS_WITH_AS(s.sample(Eigen::VectorXd(x.row(0).transpose()), rng, out), doctest::Contains(sampled),
                         chempp::invalid_argument);
    Eigen::VectorXd lp(1);
    CHECK_THROWS_AS(s.log_prob(th, x, lp), chempp::invalid_argument);
  };
  for (double bad : {1e6, 1e300, 1.7e308, -1e4}) {
    Eigen::MatrixXd x(1, 2);
    x << 0.0, bad;
    CHECK_THROWS_WITH_AS((void)f.log_prob(th, x), doctest::Contains("context x[1]"), chempp::invalid_argument);
    rejected_everywhere(bad, "training standard deviations");
  }
  Eigen::MatrixXd ok(1, 2);
  ok << 0.0, 999.0;  // within 1000 standard deviations (unit standardisation): accepted
  CHECK(std::isfinite(f.log_prob(th, ok)(0)));
  f.set_context_z_limit(10.0);
  CHECK_THROWS_AS((void)f.log_prob(th, ok), chempp::invalid_argument);
  CHECK_THROWS_AS(f.set_context_z_limit(0.0), chempp::invalid_argument);
  // an infinite limit turns off the distance test only: NaN and infinite contexts are still errors
  f.set_context_z_limit(std::numeric_limits<double>::infinity());
  CHECK(std::isfinite(f.log_prob(th, ok)(0)));
  for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()})
    rejected_everywhere(bad, "x[1]");
}
