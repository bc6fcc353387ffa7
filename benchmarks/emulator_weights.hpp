// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The CHEMPY emulator the benchmarks run: the paper's weights (6 -> 100 -> 40 -> 9, tanh) when
// ../shared/data/sbi-chempy is beside the checkout, else random weights of the same shape.
#include <filesystem>

#include "chempp/nn/weights_io.hpp"

namespace chempp::bench {

inline const nn::mlp<double>& paper_emulator() {
  static const nn::mlp<double> net = [] {
    const std::filesystem::path p = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                                    "shared/data/sbi-chempy/emulator_5sigma_uni_prior_weights.json";
    if (std::filesystem::exists(p)) return nn::load_mlp<double>(p);
    nn::mlp<double> n({6, 100, 40, 9}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
    n.initialize(1, nn::init_scheme::pytorch_default);
    return n;
  }();
  return net;
}

}  // namespace chempp::bench
