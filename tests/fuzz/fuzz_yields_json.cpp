// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: yield tables and sets in chempp's JSON schema (yields/json_io.hpp).
#include "chempp/yields/json_io.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    const auto path = chempp_fuzz::scratch_dir() / "yields.json";
    chempp_fuzz::write_file(path, chempp_fuzz::as_string(data, size));
    chempp_fuzz::guarded([&] { (void)chempp::yields::read_yield_set_json(path); });
    chempp_fuzz::guarded([&] { (void)chempp::yields::read_yield_table_json(path); });
  });
}
