// SPDX-License-Identifier: BSD-3-Clause
// Whole-network finite-difference checks, standardisation, losses.
#include "chempp/nn/mlp.hpp"

#include "chempp/nn/loss.hpp"
#include "support/test_support.hpp"

namespace nn = chempp::nn;
using mat = nn::matrix<double>;
using vec = nn::vector<double>;

using chempp::test::rel_err;

TEST_CASE("Test_mlp: whole-network gradient equals finite differences (MSE and weighted MSE)") {
  auto rng = chempp::test::seeded_rng(21);
  nn::mlp<double> net({4, 7, 5, 3}, {nn::activation::tanh, nn::activation::softplus, nn::activation::identity});
  net.initialize(3, nn::init_scheme::pytorch_default);
  std::normal_distribution<double> nd;
  mat x(4, 6), y(3, 6);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = nd(rng);
  vec w(3);
  w << 0.5, 2.0, 1.0;
  const nn::weighted_mse_loss<double> wl(w);
  const nn::mse_loss ml;
  for (int which = 0; which < 2; ++which) {
    const auto loss_at = [&](const vec& p) {
      nn::mlp<double> n2 = net;
      n2.parameters() = p;
      nn::mlp_workspace<double> ws;
      n2.forward(x, ws);
      return which == 0 ? ml.value(ws.post.back(), y) : wl.value(ws.post.back(), y);
    };
    nn::mlp_workspace<double> ws;
    net.forward(x, ws);
    mat g_out;
    if (which == 0) ml.gradient(ws.post.back(), y, g_out); else wl.gradient(ws.post.back(), y, g_out);
    vec grad;
    mat d_in;
    net.backward(ws, g_out, grad, &d_in);
    REQUIRE(grad.size() == static_cast<Eigen::Index>(net.num_parameters()));
    chempp::test::worst_error worst;
    const double h = 1e-5;
    for (Eigen::Index i = 0; i < grad.size(); ++i) {
      vec pp = net.parameters(), pm = net.parameters();
      pp[i] += h;
      pm[i] -= h;
      worst.update(rel_err((loss_at(pp) - loss_at(pm)) / (2 * h), grad[i]), "param " + std::to_string(i));
    }
    INFO("loss " << which << " worst parameter relative error " << worst.value << " at " << worst.where);
    CHECK(worst.value <= 1e-6);
    // input gradient
    chempp::test::worst_error wi;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      mat xp = x, xm = x;
      xp.data()[i] += h;
      xm.data()[i] -= h;
      nn::mlp_workspace<double> w2;
      net.forward(xp, w2);
      const double fp = which == 0 ? ml.value(w2.post.back(), y) : wl.value(w2.post.back(), y);
      net.forward(xm, w2);
      const double fm = which == 0 ? ml.value(w2.post.back(), y) : wl.value(w2.post.back(), y);
      wi.update(rel_err((fp - fm) / (2 * h), d_in.data()[i]), "input " + std::to_string(i));
    }
    INFO("loss " << which << " worst input relative error " << wi.value << " at " << wi.where);
    CHECK(wi.value <= 1e-6);
  }
}

TEST_CASE("Test_mlp: predict applies the stored standardisation") {
  nn::mlp<double> net({2, 3, 1}, {nn::activation::tanh, nn::activation::identity});
  net.initialize(5);
  mat x(2, 3);
  x << 1, 2, 3, -1, 0, 4;
  const mat plain = net.predict(x);
  net.input_scaling().mean << 1.0, -2.0;
  net.input_scaling().scale << 2.0, 0.5;
  net.output_scaling().mean << 7.0;
  net.output_scaling().scale << 3.0;
  mat z(2, 3);
  z.row(0) = (x.row(0).array() - 1.0) / 2.0;
  z.row(1) = (x.row(1).array() + 2.0) / 0.5;
  nn::mlp_workspace<double> ws;
  net.forward(z, ws);
  const mat expect = (ws.post.back().array() * 3.0 + 7.0).matrix();
  CHECK((net.predict(x) - expect).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((net.predict(x) - plain).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("Test_mlp: bad shapes throw naming the problem") {
  CHECK_THROWS_AS(nn::mlp<double>({3}, {}), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(nn::mlp<double>({3, 2}, {nn::activation::tanh, nn::activation::tanh}),
                       doctest::Contains("one activation per layer"), chempp::invalid_argument);
  nn::mlp<double> net({3, 2}, {nn::activation::identity});
  CHECK_THROWS_WITH_AS((void)net.predict(mat::Zero(2, 1)), doctest::Contains("expects 3"),
                       chempp::invalid_argument);
  // a layer that does not exist: chempp's error, not std::out_of_range (issue 15)
  CHECK_THROWS_WITH_AS((void)net.layer(1), doctest::Contains("layer 1 of 1"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)net.layer_activation(5), chempp::invalid_argument);
}

TEST_CASE("Test_standardizer: fit gives zero mean and unit variance") {
  mat x(2, 4);
  x << 1, 2, 3, 4, 5, 5, 5, 5;
  const auto s = nn::standardizer<double>::fit(x);
  CHECK(s.mean[0] == doctest::Approx(2.5));
  CHECK(s.scale[0] == doctest::Approx(std::sqrt(1.25)));
  CHECK(s.scale[1] == 1.0);  // constant feature: only centred
  const mat z = s.transform(x);
  CHECK(std::abs(z.row(0).mean()) < 1e-15);
  CHECK((s.inverse(z) - x).cwiseAbs().maxCoeff() < 1e-14);
  mat bad = x;
  bad(0, 0) = std::nan("");
  CHECK_THROWS_AS(nn::standardizer<double>::fit(bad), chempp::invalid_argument);
}

TEST_CASE("Test_mse_loss: value and gradient on a hand example") {
  mat p(2, 2), y(2, 2);
  p << 1, 2, 3, 4;
  y << 0, 2, 3, 6;
  CHECK(nn::mse_loss{}.value(p, y) == doctest::Approx((1.0 + 4.0) / 4.0));
  mat g;
  nn::mse_loss{}.gradient(p, y, g);
  CHECK(g(0, 0) == doctest::Approx(0.5));
  CHECK(g(1, 1) == doctest::Approx(-1.0));
  vec w(2);
  w << 2.0, 0.0;
  CHECK(nn::weighted_mse_loss<double>(w).value(p, y) == doctest::Approx(0.5));
  w[1] = -1.0;
  CHECK_THROWS_AS((void)nn::weighted_mse_loss<double>{w}, chempp::invalid_argument);
}
