// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: the .npy reader (io/npz.hpp) and every conversion of its result.
#include "chempp/io/npz.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    const auto a = chempp::io::parse_npy(chempp_fuzz::as_string(data, size), "fuzz.npy");
    chempp_fuzz::guarded([&] { (void)a.as<double>(); });
    chempp_fuzz::guarded([&] { (void)a.as<int>(); });
    chempp_fuzz::guarded([&] { (void)a.values<std::int64_t>(); });
    chempp_fuzz::guarded([&] { (void)a.values<std::uint8_t>(); });
    chempp_fuzz::guarded([&] { (void)a.strings(); });
    for (const auto& name : a.field_names()) chempp_fuzz::guarded([&] { (void)a.field(name); });
  });
}
