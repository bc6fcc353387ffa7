// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: abundance catalogs in APOGEE/GALAH conventions (io/catalog.hpp) and the
// stars made from them (pipeline::catalog_stars).
#include <sstream>

#include "chempp/io/catalog.hpp"
#include "chempp/pipeline/components.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    std::istringstream in(chempp_fuzz::as_string(data, size));
    const auto cat = chempp::io::parse_abundance_catalog(in, "fuzz.csv", chempp::pipeline::catalog_columns());
    (void)chempp::pipeline::catalog_stars(cat);
  });
}
