// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: the .npz archive reader (io/npz.hpp).
#include "chempp/io/npz.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    const auto f = chempp::io::npz_file::from_bytes(chempp_fuzz::as_string(data, size), "fuzz.npz");
    for (const auto& k : f.keys()) {
      chempp_fuzz::guarded([&] { (void)f.array<double>(k); });
      chempp_fuzz::guarded([&] { (void)f.strings(k); });
    }
  });
}
