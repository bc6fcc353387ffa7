// SPDX-License-Identifier: BSD-3-Clause
// CL18_net, NuGrid_net, OldNugrid, West17_net and Frischknecht16_net SN II loaders.
#include <filesystem>
#include <string>

#include "chempp/yields/cl18_loader.hpp"
#include "chempp/yields/frischknecht16_loader.hpp"
#include "chempp/yields/nugrid_loader.hpp"
#include "chempp/yields/west17_loader.hpp"
#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
namespace fs = std::filesystem;
using chempp::test::copy_with_edit;
using chempp::test::find_line;
using chempp::test::replace_token;
using chempp::test::require_file_error;

TEST_CASE("sn2_more_loaders: CL18_net equals CHEMPY's SN2_feedback.CL18_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "CL18_net", [](const auto& dir) { return y::load_cl18_sn2(dir / "CL18"); });
  if (!t) return;
  CHECK(t->elements().size() == 53);
  CHECK(t->grid(3).metallicity == 0.0134);
  CHECK(t->grid(3).mass_in_remnants(0) == doctest::Approx(0.13404501104428906).epsilon(1e-14));
}

TEST_CASE("sn2_more_loaders: NuGrid_net equals CHEMPY's SN2_feedback.NuGrid_net") {
  const auto t =
      chempp::test::check_loader_against_reference("sn2", "NuGrid_net", [](const auto& dir) {
        return y::load_nugrid_net_sn2(dir / "NuGrid/H NuGrid yields delay_total.txt");
      });
  if (!t) return;
  CHECK(t->elements().size() == 80);
  CHECK(t->elements()[14] == chempp::element("Pb"));  // Pb after P, as in the file
  CHECK(t->grid(4).mass_in_remnants(0) == 0.13416666666666668);
}

TEST_CASE("sn2_more_loaders: OldNugrid equals CHEMPY's SN2_feedback.OldNugrid") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "OldNugrid",
      [](const auto& dir) { return y::load_old_nugrid_sn2(dir / "NuGrid_AGB_SNII_2013"); });
  if (!t) return;
  CHECK(t->grid(0).mass.size() == 3);  // Z = 0.01: 15 20 25
  CHECK(t->grid(1).mass.size() == 5);  // Z = 0.02: 15 20 25 32 60
  CHECK(t->grid(1).mass_in_remnants(0) == 0.1309343817161266);
}

TEST_CASE("sn2_more_loaders: West17_net equals CHEMPY's SN2_feedback.West17_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "West17_net", [](const auto& dir) { return y::load_west17_sn2(dir / "West17"); });
  if (!t) return;
  REQUIRE(t->size() == 15);
  CHECK(t->grid(3).metallicity == 4.8393003296e-05);
  CHECK(t->grid(0).mass_in_remnants(3) == 0.999385);
}

TEST_CASE("sn2_more_loaders: Frischknecht16_net equals CHEMPY's SN2_feedback.Frischknecht16_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "Frischknecht16_net", [](const auto& dir) {
        return y::load_frischknecht16_sn2(dir / "Frischknecht16/yields_total.txt");
      });
  if (!t) return;
  // CHEMPY's loop-variable bug: u = 1 - r exactly below 40 Msun
  for (const auto& g : t->grids()) {
    for (std::size_t m = 0; m + 1 < g.mass.size(); ++m) {
      CHECK(g.unprocessed_mass_in_winds(m) == 1.0 - g.mass_in_remnants(m));
    }
  }
}

TEST_CASE("sn2_more_loaders: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  chempp::test::temp_dir tmp("sn2more");
  SUBCASE("CL18_net") {
    const chempp::test::broken_copy c(tmp, *dir / "CL18", "tab_yieldstot_ele_exp.dec");
    auto load = [&] { (void)y::load_cl18_sn2(c.dir); };
    chempp::test::check_token_edits(
        c, load, "tab_yieldstot_ele_exp.dec",
        {
            {"malformed number", 3, 6, "1.0E+0x", 3, "He at M = 20"},
            {"wrong column count", 3, chempp::test::token_edit::append, "1.0", 3, "He"},
            {"block header out of order", 55, 4, "013b150", 55, "header column 5"},
            {"element order differs between blocks", 57, 0, "Be", 0, "ele"},
        });
  }
  SUBCASE("NuGrid_net") {
    const chempp::test::broken_copy c(tmp, *dir / "NuGrid", "H NuGrid yields delay_total.txt");
    auto load = [&] { (void)y::load_nugrid_net_sn2(c.bad); };
    CHECK(find_line(c.src, "H Table: (M=15.0,Z=0.01)") == 1855);
    CHECK(find_line(c.src, "H Table: (M=20.0,Z=0.001)") == 3955);
    chempp::test::check_token_edits(
        c, load, "delay_total.txt",
        {
            {"block missing", 679, 2, "(M=13.0,Z=0.02)", 0, "Table"},
            {"malformed yield", 1860, 1, "&x", 1860, "He yield"},
            {"wrong column count", 1860, chempp::test::token_edit::append, "&1", 1860, "He"},
            {"element order differs", 3960, 0, "&Li", 3960, "element"},
        });
  }
  SUBCASE("OldNugrid") {
    const chempp::test::broken_copy c(tmp, *dir / "NuGrid_AGB_SNII_2013",
                                      "set1p1/element_table_set1.1_yields_exp.txt");
    auto load = [&] { (void)y::load_old_nugrid_sn2(c.dir); };
    chempp::test::check_token_edits(c, load, "yields_exp.txt",
                                    {
                                        {"malformed row end", 5, 15, "x", 5, ""},
                                        {"element missing", 6, 1, "Li", 0, "C"},
                                    });
  }
  SUBCASE("West17_net") {
    const chempp::test::broken_copy c(tmp, *dir / "West17", "ertl.txt");
    auto load = [&] { (void)y::load_west17_sn2(c.dir); };
    SUBCASE("missing npz") {
      fs::remove(c.dir / "init_abun.npz");
      require_file_error(load, "init_abun.npz", 0, "");
    }
    chempp::test::check_token_edits(c, load, "ertl.txt",
                                    {
                                        {"malformed ejecta", 104, 14, "1.0e-1e", 104, "C12"},
                                        {"missing isotope column", 103, 7, "He2", 103, "He3"},
                                    });
    SUBCASE("model row repeated") {
      copy_with_edit(c.src, c.bad, 105, [](std::string s) {
        return replace_token(replace_token(s, 0, "1.99526e+00"), 1, "1.30000e+01");
      });
      require_file_error(load, "ertl.txt", 105, "mass");
    }
  }
  SUBCASE("Frischknecht16_net") {
    const chempp::test::broken_copy c(tmp, *dir / "Frischknecht16", "yields_total.txt");
    auto load = [&] { (void)y::load_frischknecht16_sn2(c.bad); };
    chempp::test::check_token_edits(
        c, load, "yields_total.txt",
        {
            {"malformed remnant", 33, 6, "1.7.4", 33, "Mrem"},
            {"model numbering", 34, 0, "05", 34, "Mod nb"},
            {"NaN yield", 66, 8, "nan", 66, "he4 model 8"},
            {"wrong column count", 64, chempp::test::token_edit::append, "1.0", 64, "d"},
        });
  }
}
