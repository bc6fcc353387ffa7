// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: emulator weight files (nn/weights_io.hpp), float and double networks.
#include "chempp/io/json.hpp"
#include "chempp/nn/weights_io.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    const auto j = chempp::io::parse_json(chempp_fuzz::as_string(data, size), "fuzz.json");
    chempp_fuzz::guarded([&] { (void)chempp::nn::mlp_from_json<double>(j, "fuzz.json"); });
    chempp_fuzz::guarded([&] { (void)chempp::nn::mlp_from_json<float>(j, "fuzz.json"); });
  });
}
