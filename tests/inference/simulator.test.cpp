// SPDX-License-Identifier: BSD-3-Clause
// emulator_simulator: its observables are the listed network outputs, in the listed order, for
// lists with one run of consecutive outputs, several runs, reversed and repeated outputs.
#include <doctest/doctest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "chempp/inference/simulator.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "support/test_support.hpp"

namespace inf = chempp::inference;
namespace nn = chempp::nn;

TEST_CASE("emulator_simulator: observables are the listed network outputs, converted to double") {
  nn::mlp<double> net({6, 20, 9}, {nn::activation::tanh, nn::activation::identity});
  net.initialize(3, nn::init_scheme::pytorch_default);
  const nn::simd_mlp<float> kernel(net.cast<float>());
  auto rng = chempp::test::seeded_rng(71);
  std::normal_distribution<double> nd;
  const std::size_t n = 85;  // the 4-register, 1-register and per-sample paths for 4, 8 and 16 lanes
  std::vector<double> theta(n * 6);
  for (auto& v : theta) v = nd(rng);
  std::vector<float> xf(theta.begin(), theta.end()), y(n * 9);
  kernel(xf.data(), y.data(), n);
  const std::vector<std::vector<std::size_t>> lists{
      {0, 1, 3, 4, 5, 6, 7, 8}, {0, 1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6}, {4}, {2, 2, 5, 6, 0}};
  for (const auto& outputs : lists) {
    const inf::emulator_simulator<nn::simd_mlp<float>> sim(kernel, outputs);
    REQUIRE(sim.n_observables() == outputs.size());
    std::vector<double> out(n * outputs.size(), -1.0);
    sim.simulate(theta.data(), n, out.data());
    std::size_t wrong = 0;
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t j = 0; j < outputs.size(); ++j)
        wrong += out[s * outputs.size() + j] != static_cast<double>(y[s * 9 + outputs[j]]);
    INFO("outputs list of " << outputs.size() << " starting at " << outputs.front());
    CHECK(wrong == 0);
  }
  CHECK_THROWS_AS(inf::emulator_simulator<nn::simd_mlp<float>>(kernel, {0, 9}), chempp::invalid_argument);
  CHECK_THROWS_AS(inf::emulator_simulator<nn::simd_mlp<float>>(kernel, {}), chempp::invalid_argument);
}
