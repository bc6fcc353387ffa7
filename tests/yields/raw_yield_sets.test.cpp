// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/raw_yield_sets.hpp"

#include "chempp/yields/shipped.hpp"
#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;

TEST_CASE("raw_yield_sets: the shipped JSON equals what the raw loaders build (exactly)") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  const auto data = chempp::test::source_dir() / "include" / "chempp" / "data";
  SUBCASE("tng") {
    const auto raw = y::load_tng_set(*dir);
    const auto shipped = y::shipped_yield_set("tng", data);
    CHECK(raw.name == "tng");
    chempp::test::check_tables_identical(shipped.sn2, raw.sn2);
    chempp::test::check_tables_identical(shipped.agb, raw.agb);
    chempp::test::check_tables_identical(shipped.sn1a, raw.sn1a);
  }
  SUBCASE("alt") {
    const auto raw = y::load_alternative_set(*dir);
    const auto shipped = y::shipped_yield_set("alt", data);
    CHECK(raw.name == "alt");
    chempp::test::check_tables_identical(shipped.sn2, raw.sn2);
    chempp::test::check_tables_identical(shipped.agb, raw.agb);
    chempp::test::check_tables_identical(shipped.sn1a, raw.sn1a);
  }
}

TEST_CASE("raw_yield_sets: missing folder is a file_error naming the file") {
  chempp::test::temp_dir tmp("sets");
  chempp::test::require_file_error([&] { (void)y::load_tng_set(tmp.path()); }, "SNII_hdf5_dump.txt",
                                   0, "");
  chempp::test::require_file_error([&] { (void)y::load_alternative_set(tmp.path()); },
                                   "nomoto_2013_z=0.0010.dat", 0, "");
}
