// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: the model bundle (pipeline/bundle.hpp). The input is bundle.json; emulator.json
// and flow.json beside it are a valid tiny model written once, so the fuzzer reaches the bundle
// reader's checks and the loading of its parts.
#include "chempp/pipeline/bundle.hpp"
#include "fuzz_support.hpp"

namespace {
const std::filesystem::path& bundle_dir() {
  static const std::filesystem::path dir = [] {
    namespace pl = chempp::pipeline;
    pl::model_bundle b;
    b.name = "fuzz";
    b.emulator = chempp::nn::mlp<float>({6, 4, 9}, {chempp::nn::activation::tanh, chempp::nn::activation::identity});
    b.emulator.initialize(1);
    b.flow = chempp::flow::sbi_maf(chempp::flow::maf_config{.features = 6, .context = 24, .hidden = 8, .blocks = 1,
                                                            .transforms = 1, .permutation = chempp::flow::permutation_kind::global_first,
                                                            .n_global = 2});
    b.model_cov = Eigen::MatrixXd::Identity(8, 8) * 1e-5;
    const auto d = chempp_fuzz::scratch_dir() / "bundle";
    pl::save_bundle(b, d);
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dir = bundle_dir();
  return chempp_fuzz::guarded([&] {
    chempp_fuzz::write_file(dir / "bundle.json", chempp_fuzz::as_string(data, size));
    (void)chempp::pipeline::load_bundle(dir);
  });
}
