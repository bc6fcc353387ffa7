// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/nn/optimizer.hpp"

#include <random>
#include <type_traits>
#include <utility>
#include <vector>

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

namespace {
// Applies `steps` optimiser steps to p0 with gradients drawn from `rng`: once through step(p, g),
// once through begin_step() and update() on the segments cut at `cuts` (the gradient scaled by
// `scale` in the update and pre-scaled for step). Returns the two final evaluation parameter
// vectors; the training parameters must agree too (checked here).
template <class Opt, class Make, class T>
std::pair<nn::vector<T>, nn::vector<T>> whole_and_segments(Make make, const nn::vector<T>& p0, const std::vector<std::size_t>& cuts,
                                                           T scale, int steps, std::mt19937_64& rng) {
  nn::vector<T> a = p0, b = p0;
  Opt oa = make(p0), ob = make(p0);
  std::normal_distribution<double> nd;
  for (int k = 0; k < steps; ++k) {
    nn::vector<T> g(p0.size());
    for (auto& v : g) v = static_cast<T>(nd(rng));
    nn::vector<T> gs = g * scale;
    oa.step(a, gs);
    ob.begin_step();
    for (std::size_t s = 0; s + 1 < cuts.size(); ++s)
      ob.update(cuts[s], b.data() + cuts[s], g.data() + cuts[s], cuts[s + 1] - cuts[s], scale);
  }
  CHECK(a == b);
  nn::vector<T> ea, eb;
  oa.evaluation_parameters(a, ea);
  ob.evaluation_parameters(b, eb);
  return {ea, eb};
}
}  // namespace

TEST_CASE_TEMPLATE("Test_adam and schedule_free_adamw: a step applied segment by segment is the whole step, bit for bit", T, float,
                   double) {
  auto rng = chempp::test::seeded_rng(31);
  nn::adam_options o;
  o.learning_rate = 0.01;
  o.weight_decay = 0.01;
  o.warmup_steps = 3;
  nn::vector<T> p0(53);
  std::normal_distribution<double> nd;
  for (auto& v : p0) v = static_cast<T>(nd(rng));
  // uneven segments: SIMD groups and scalar tails in both paths, a segment of one entry
  const std::vector<std::size_t> cuts{0, 5, 6, 23, 40, 53};
  for (const T scale : {T(1), T(0.37)}) {
    const auto [a, b] = whole_and_segments<nn::adam<T>>([&](const nn::vector<T>& p) { return nn::adam<T>(std::size_t(p.size()), o); },
                                                         p0, cuts, scale, 4, rng);
    CHECK(a == b);
    CHECK((a - p0).cwiseAbs().minCoeff() > T(0));  // every entry moved
    const auto [c, d] = whole_and_segments<nn::schedule_free_adamw<T>>(
        [&](const nn::vector<T>& p) { return nn::schedule_free_adamw<T>(p, o); }, p0, cuts, scale, 4, rng);
    CHECK(c == d);
    CHECK((c - p0).cwiseAbs().minCoeff() > T(0));
  }
}

TEST_CASE_TEMPLATE("Test_adam and schedule_free_adamw: entries left out of a step are those a whole step leaves alone (zero "
                   "state, zero gradient)",
                   Opt, nn::adam<double>, nn::schedule_free_adamw<double>) {
  // The flow trainer skips the weights outside the MADE masks: p = 0 (and so, for schedule-free,
  // z = x = 0 from the start) and g = 0 there.
  nn::adam_options o;
  o.learning_rate = 0.05;
  o.weight_decay = 0.01;
  vec p = vec::LinSpaced(20, -1.0, 1.0), q;
  p.segment(8, 5).setZero();
  q = p;
  const auto make = [&](const vec& p0) {
    if constexpr (std::is_same_v<Opt, nn::adam<double>>) {
      return Opt(std::size_t(p0.size()), o);
    } else {
      return Opt(p0, o);
    }
  };
  Opt whole = make(p), part = make(q);
  for (int k = 0; k < 3; ++k) {
    vec g = vec::LinSpaced(20, 0.5, -2.0) * double(k + 1);
    g.segment(8, 5).setZero();
    whole.step(p, g);
    part.begin_step();
    part.update(0, q.data(), g.data(), 8);
    part.update(13, q.data() + 13, g.data() + 13, 7);
  }
  CHECK(p == q);
  CHECK(q.segment(8, 5).isZero(0.0));
  CHECK((q - vec::LinSpaced(20, -1.0, 1.0)).cwiseAbs().maxCoeff() > 0.01);  // the others moved
  vec ep, eq;
  whole.evaluation_parameters(p, ep);
  part.evaluation_parameters(q, eq);
  CHECK(ep == eq);
}

TEST_CASE("Test_adam and schedule_free_adamw: bad segments and sizes name the problem") {
  nn::adam<double> a(10);
  vec p = vec::Zero(10), g = vec::Ones(10), short_g = vec::Ones(9);
  CHECK_THROWS_WITH_AS(a.update(0, p.data(), g.data(), 10), doctest::Contains("before begin_step"), chempp::invalid_argument);
  a.begin_step();
  CHECK_THROWS_WITH_AS(a.update(4, p.data(), g.data(), 7), doctest::Contains("outside the 10 parameters"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(a.update(11, p.data(), g.data(), 0), doctest::Contains("outside the 10 parameters"), chempp::invalid_argument);
  CHECK_NOTHROW(a.update(10, p.data(), g.data(), 0));
  CHECK_THROWS_WITH_AS(a.step(p, short_g), doctest::Contains("gradient (9)"), chempp::invalid_argument);
  nn::schedule_free_adamw<double> s(p);
  CHECK_THROWS_WITH_AS(s.update(0, p.data(), g.data(), 10), doctest::Contains("before begin_step"), chempp::invalid_argument);
  s.begin_step();
  CHECK_THROWS_WITH_AS(s.update(9, p.data(), g.data(), 2), doctest::Contains("outside the 10 parameters"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(s.step(short_g, g), doctest::Contains("parameters (9)"), chempp::invalid_argument);
}
