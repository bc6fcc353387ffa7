// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: flow files (flow/io.hpp).
#include "chempp/flow/io.hpp"
#include "chempp/io/json.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    const auto j = chempp::io::parse_json(chempp_fuzz::as_string(data, size), "fuzz.json");
    (void)chempp::flow::from_json<chempp::flow::sbi_maf>(j, "fuzz.json");
  });
}
