// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/nn/optimizer.hpp"

#include "support/test_support.hpp"

namespace nn = chempp::nn;
using vec = nn::vector<double>;

namespace {
// f(p) = 0.5 sum_i a_i (p_i - c_i)^2, gradient a .* (p - c)
template <class Opt>
double minimise(Opt& opt, vec& p, int steps) {
  vec a(3), c(3);
  a << 1.0, 10.0, 0.1;
  c << 1.0, -2.0, 3.0;
  vec e;
  for (int k = 0; k < steps; ++k) {
    vec g = a.cwiseProduct(p - c);
    opt.step(p, g);
  }
  opt.evaluation_parameters(p, e);
  return (e - c).cwiseAbs().maxCoeff();
}
}  // namespace

TEST_CASE("Test_adam: first step has size lr in every coordinate and it converges") {
  nn::adam_options o;
  o.learning_rate = 0.05;
  vec p = vec::Zero(3);
  nn::adam<double> opt(3, o);
  vec g(3);
  g << 3.0, -0.01, 100.0;
  opt.step(p, g);
  // bias-corrected Adam: first step = -lr * sign(g) (up to eps)
  CHECK(p[0] == doctest::Approx(-0.05).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(0.05).epsilon(1e-5));
  CHECK(p[2] == doctest::Approx(-0.05).epsilon(1e-6));
  vec q = vec::Zero(3);
  nn::adam<double> opt2(3, o);
  CHECK(minimise(opt2, q, 4000) < 1e-3);
}

TEST_CASE("Test_schedule_free_adamw: evaluates at the average; converges on a quadratic") {
  nn::adam_options o;
  o.learning_rate = 0.05;
  vec p = vec::Zero(3);
  nn::schedule_free_adamw<double> opt(p, o);
  vec g(3);
  g << 3.0, -0.01, 100.0;
  opt.step(p, g);
  // step 1: z = -lr*sign(g), x = z (c = 1), y = (1-b1) z + b1 x = z
  CHECK(p[0] == doctest::Approx(-0.05).epsilon(1e-6));
  g << 1.0, 1.0, 1.0;
  opt.step(p, g);
  vec e;
  opt.evaluation_parameters(p, e);
  // step 2: c = 1/2, x = (z1 + z2)/2 differs from y = 0.1 z2 + 0.9 x
  CHECK((e - p).cwiseAbs().maxCoeff() > 1e-4);
  vec q = vec::Zero(3);
  nn::schedule_free_adamw<double> opt2(q, o);
  CHECK(minimise(opt2, q, 20000) < 2e-2);
  nn::adam_options bad;
  bad.learning_rate = -1.0;
  CHECK_THROWS_WITH_AS(nn::schedule_free_adamw<double>(q, bad), doctest::Contains("learning_rate"),
                       chempp::invalid_argument);
}
