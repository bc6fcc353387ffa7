// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/thielemann2003_loader.hpp"

#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::copy_with_edit;
using chempp::test::replace_token;
using chempp::test::require_file_error;

TEST_CASE("thielemann2003_loader: table equals CHEMPY's Thielemann SN Ia table") {
  auto dir = chempp::test::raw_yields_dir();
  auto ref = chempp::test::chempy_loaded_tables("alt");
  if (!dir || !ref) return;
  const auto t = y::load_thielemann2003_sn1a(*dir / "Thielemann2003" / "0.02.txt");
  chempp::test::check_against_chempy(t, ref->at("sn1a"));
  CHECK(t.grid(0).mass(0) == 1.37409);
  CHECK(t.grid(0).mass_in_remnants(0) == -1.37409);
  CHECK(t.grid(0).metallicity == 0.02);
  CHECK(t.kind() == y::channel::sn1a);
}

TEST_CASE("thielemann2003_loader: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  const auto src = *dir / "Thielemann2003" / "0.02.txt";
  chempp::test::temp_dir tmp("thielemann");
  const auto bad = tmp.path() / "0.02.txt";
  SUBCASE("missing file") {
    require_file_error([&] { (void)y::load_thielemann2003_sn1a(bad); }, "0.02.txt", 0, "");
  }
  SUBCASE("NaN") {
    copy_with_edit(src, bad, 2, [](std::string s) { return replace_token(s, 27, "NaN"); });
    require_file_error([&] { (void)y::load_thielemann2003_sn1a(bad); }, "0.02.txt", 2, "Fe");
  }
  SUBCASE("negative mass") {
    copy_with_edit(src, bad, 2, [](std::string s) { return replace_token(s, 0, "-1.37409"); });
    require_file_error([&] { (void)y::load_thielemann2003_sn1a(bad); }, "0.02.txt", 2, "Mass");
  }
  SUBCASE("wrong column count") {
    copy_with_edit(src, bad, 2, [](std::string s) { return s + " 0"; });
    require_file_error([&] { (void)y::load_thielemann2003_sn1a(bad); }, "0.02.txt", 2, "");
  }
  SUBCASE("unknown element in header") {
    copy_with_edit(src, bad, 1, [](std::string s) { return replace_token(s, 5, "Xy"); });
    require_file_error([&] { (void)y::load_thielemann2003_sn1a(bad); }, "0.02.txt", 1, "header");
  }
}
