// SPDX-License-Identifier: BSD-3-Clause
// The emulator configurations (and the umbrella header compiles on its own).
#include "chempp/nn.hpp"

#include "support/test_support.hpp"

namespace nn = chempp::nn;

TEST_CASE("Test_emulator_config: the paper's and the default configurations") {
  const auto paper = nn::paper_emulator_config();
  const auto net = paper.make_network<float>();
  CHECK(net.sizes() == std::vector<std::size_t>{6, 100, 40, 9});
  CHECK(net.activations() == std::vector<nn::activation>{nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
  CHECK(net.num_parameters() == 6 * 100 + 100 + 100 * 40 + 40 + 40 * 9 + 9);
  CHECK(paper.training.epochs == 20);
  CHECK(paper.training.batch_size == 64);
  CHECK(paper.training.adam.learning_rate == 1e-3);
  CHECK(paper.training.optimizer == nn::optimizer_kind::schedule_free_adamw);
  CHECK_FALSE(paper.training.fit_standardization);
  const auto def = nn::default_emulator_config();
  CHECK(def.training.fit_standardization);
  CHECK(def.make_network<double>(8).output_size() == 8);
  CHECK(def.make_network<double>().sizes().size() == def.hidden.size() + 2);
}
