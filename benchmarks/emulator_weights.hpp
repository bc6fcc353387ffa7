// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The CHEMPY emulator the benchmarks run: the paper's weights (6 -> 100 -> 40 -> 9, tanh) when
// ../shared/data/sbi-chempy is beside the checkout, else random weights of the same shape.
#include <filesystem>

#include "chempp/nn/weights_io.hpp"

namespace chempp::bench {

/// The paper's weights file (found relative to this header's path as the compiler saw it: compile
/// with an absolute path, as CMake does, or the file is not found).
inline std::filesystem::path paper_emulator_file() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
         "shared/data/sbi-chempy/emulator_5sigma_uni_prior_weights.json";
}

/// "paper weights" or "random weights": which network `paper_emulator` holds. The population
/// benchmark's work depends on it (the proposals adapt to the emulator: ~2x the time per star
/// with the paper's weights), so the benchmarks print it as their label.
inline const char* paper_emulator_source() {
  return std::filesystem::exists(paper_emulator_file()) ? "paper weights" : "random weights";
}

inline const nn::mlp<double>& paper_emulator() {
  static const nn::mlp<double> net = [] {
    const std::filesystem::path p = paper_emulator_file();
    if (std::filesystem::exists(p)) return nn::load_mlp<double>(p);
    nn::mlp<double> n({6, 100, 40, 9}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
    n.initialize(1, nn::init_scheme::pytorch_default);
    return n;
  }();
  return net;
}

}  // namespace chempp::bench
