// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/nomoto2013_loader.hpp"

#include <filesystem>
#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::copy_with_edit;
using chempp::test::find_line;
using chempp::test::replace_token;
using chempp::test::require_file_error;

TEST_CASE("nomoto2013_loader: table equals CHEMPY's Nomoto2013 (gross ejecta, K-40 as Ca)") {
  auto dir = chempp::test::raw_yields_dir();
  auto ref = chempp::test::chempy_loaded_tables("alt");
  if (!dir || !ref) return;
  const auto t = y::load_nomoto2013_sn2(*dir / "Nomoto2013");
  chempp::test::check_against_chempy(t, ref->at("sn2"));
  CHECK(t.elements().size() == 32);  // H ... Ge: every element of the file, not only the traced 9
  CHECK(t.source().yield_kind == "gross");
  CHECK(t.source().source_files.size() == 5);
  // u = 1 - remnant - sum(y) is what the isotope table does not list: within [0, 1)
  for (const auto& g : t.grids()) {
    for (std::size_t m = 0; m < g.mass.size(); ++m) {
      CHECK(g.unprocessed_mass_in_winds(m) > 0.0);
      CHECK(g.unprocessed_mass_in_winds(m) < 0.5);
    }
  }
}

TEST_CASE("nomoto2013_loader: isotope labels") {
  const std::filesystem::path f("x.dat");
  const chempp::yields::detail::field_ref at{&f, 3, "label"};
  CHECK(y::detail::nomoto_isotope_element("H__1", at) == chempp::element("H"));
  CHECK(y::detail::nomoto_isotope_element("Ne20", at) == chempp::element("Ne"));
  CHECK(y::detail::nomoto_isotope_element("K_40", at) == chempp::element("Ca"));
  CHECK(y::detail::nomoto_isotope_element("K_39", at) == chempp::element("K"));
  require_file_error([&] { (void)y::detail::nomoto_isotope_element("Xx12", at); }, "x.dat", 3,
                     "label");
  require_file_error([&] { (void)y::detail::nomoto_isotope_element("12C", at); }, "x.dat", 3,
                     "label");
}

TEST_CASE("nomoto2013_loader: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  const auto src_dir = *dir / "Nomoto2013";
  chempp::test::temp_dir tmp("nomoto");
  for (const auto& e : std::filesystem::directory_iterator(src_dir)) {
    std::filesystem::copy_file(e.path(), tmp.path() / e.path().filename());
  }
  const auto name = std::string("nomoto_2013_z=0.0200.dat");
  const auto src = src_dir / name;
  const auto bad = tmp.path() / name;
  auto load = [&] { (void)y::load_nomoto2013_sn2(tmp.path()); };

  SUBCASE("missing file") {
    std::filesystem::remove(bad);
    require_file_error(load, name, 0, "");
  }
  SUBCASE("NaN") {
    const auto ln = find_line(src, "O_16");
    copy_with_edit(src, bad, ln, [](std::string s) { return replace_token(s, 22, "nan"); });
    require_file_error(load, name, ln, "O_16 at M = 15");
  }
  SUBCASE("malformed row (wrong column count)") {
    const auto ln = find_line(src, "Fe56");
    copy_with_edit(src, bad, ln, [](std::string s) { return s + " 1.0"; });
    require_file_error(load, name, ln, "Fe56");
  }
  SUBCASE("negative ejected mass") {
    const auto ln = find_line(src, "Mg24");
    copy_with_edit(src, bad, ln, [](std::string s) { return replace_token(s, 27, "-0.1"); });
    require_file_error(load, name, ln, "Mg24 at M = 40");
  }
  SUBCASE("negative initial mass") {
    copy_with_edit(src, bad, 1, [](std::string s) { return replace_token(s, 1, "-0.9"); });
    require_file_error(load, name, 1, "M[0]");
  }
  SUBCASE("non-monotone mass grid") {
    copy_with_edit(src, bad, 1, [](std::string s) { return replace_token(s, 23, "14.0"); });
    require_file_error(load, name, 1, "M");
  }
  SUBCASE("unknown isotope") {
    const auto ln = find_line(src, "Ge74");
    copy_with_edit(src, bad, ln, [](std::string s) { return replace_token(s, 0, "Qq74"); });
    require_file_error(load, name, ln, "Qq74");
  }
}
