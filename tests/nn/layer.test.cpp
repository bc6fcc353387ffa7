// SPDX-License-Identifier: BSD-3-Clause
// Finite-difference checks of every layer and activation (Jacobian and parameter gradient).
#include "chempp/nn/layer.hpp"

#include <random>
#include <string>

#include "support/test_support.hpp"

using chempp::test::rel_err;

namespace nn = chempp::nn;
using mat = nn::matrix<double>;
using vec = nn::vector<double>;

namespace {

mat random_matrix(std::mt19937_64& rng, Eigen::Index r, Eigen::Index c, double scale = 1.0) {
  std::normal_distribution<double> nd(0.0, scale);
  mat m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = nd(rng);
  return m;
}


/// Checks backward (and gradient) of `layer` against central differences of the scalar
/// functional L = sum(R .* forward(x)) with a random R.
template <class L>
void check_layer(L& layer, vec* params, std::mt19937_64& rng, const std::string& name) {
  const Eigen::Index n = 5;
  mat x = random_matrix(rng, static_cast<Eigen::Index>(layer.input_size()), n);
  mat y;
  layer.forward(x, y);
  const mat r = random_matrix(rng, y.rows(), y.cols());
  const auto functional = [&](const mat& xx) {
    mat yy;
    layer.forward(xx, yy);
    return (yy.array() * r.array()).sum();
  };
  mat dx;
  layer.backward(x, y, r, dx);
  const double h = 1e-5;
  chempp::test::worst_error worst;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    mat xp = x, xm = x;
    xp.data()[i] += h;
    xm.data()[i] -= h;
    const double fd = (functional(xp) - functional(xm)) / (2 * h);
    worst.update(rel_err(fd, dx.data()[i]), name + " dx[" + std::to_string(i) + "]");
  }
  INFO(name << " worst input-gradient relative error " << worst.value << " at " << worst.where);
  CHECK(worst.value <= 1e-6);
  if (params != nullptr) {
    vec g = vec::Zero(params->size());
    layer.gradient(x, r, Eigen::Ref<vec>(g));
    chempp::test::worst_error wp;
    for (Eigen::Index i = 0; i < params->size(); ++i) {
      const double keep = (*params)[i];
      (*params)[i] = keep + h;
      const double fp = functional(x);
      (*params)[i] = keep - h;
      const double fm = functional(x);
      (*params)[i] = keep;
      wp.update(rel_err((fp - fm) / (2 * h), g[i]), name + " dp[" + std::to_string(i) + "]");
    }
    INFO(name << " worst parameter-gradient relative error " << wp.value << " at " << wp.where);
    CHECK(wp.value <= 1e-6);
  }
}

template <class Act>
void check_activation(std::mt19937_64& rng) {
  nn::activation_layer<double, Act> layer(7);
  check_layer(layer, nullptr, rng, std::string(Act::name));
}

}  // namespace

TEST_CASE("Test_linear_layer: forward is W x + b in the documented layout") {
  vec p(2 * 3 + 2);
  p << 1, 4, 2, 5, 3, 6, 10, 20;  // W = [[1,2,3],[4,5,6]] column-major, b = (10, 20)
  nn::linear_layer<double> l(p.data(), 3, 2);
  CHECK(l.num_parameters() == 8);
  CHECK(l.weight()(0, 2) == 3.0);
  CHECK(l.weight()(1, 0) == 4.0);
  mat x(3, 2);
  x << 1, 0, 1, 0, 1, 1;  // sample 0 = (1,1,1), sample 1 = (0,0,1)
  mat y;
  l.forward(x, y);
  CHECK(y(0, 0) == 16.0);
  CHECK(y(1, 0) == 35.0);
  CHECK(y(0, 1) == 13.0);
  CHECK(y(1, 1) == 26.0);
}

TEST_CASE("Test_linear_layer: finite-difference Jacobian and parameter gradient") {
  auto rng = chempp::test::seeded_rng(11);
  vec p = random_matrix(rng, 4 * 6 + 4, 1);
  nn::linear_layer<double> l(p.data(), 6, 4);
  check_layer(l, &p, rng, "linear");
}

TEST_CASE("Test_activation_layer: finite differences for every activation") {
  auto rng = chempp::test::seeded_rng(12);
  check_activation<nn::identity_fn>(rng);
  check_activation<nn::tanh_fn>(rng);
  check_activation<nn::sigmoid_fn>(rng);
  check_activation<nn::softplus_fn>(rng);
}

TEST_CASE("Test_activation: names round-trip and unknown names throw") {
  for (auto a : {nn::activation::identity, nn::activation::tanh, nn::activation::sigmoid,
                 nn::activation::softplus})
    CHECK(nn::activation_from_string(nn::to_string(a)) == a);
  CHECK_THROWS_WITH_AS(nn::activation_from_string("relu6"), doctest::Contains("relu6"),
                       chempp::invalid_argument);
  CHECK(nn::softplus_fn::apply(800.0) == doctest::Approx(800.0));
  CHECK(nn::softplus_fn::apply(-800.0) >= 0.0);
}
