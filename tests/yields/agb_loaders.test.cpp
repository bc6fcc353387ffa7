// SPDX-License-Identifier: BSD-3-Clause
// Karakas 2010 (gross and net), NuGrid set 1 AGB and Ventura 2013 loaders.
#include <filesystem>
#include <string>

#include "chempp/yields/karakas2010_loader.hpp"
#include "chempp/yields/nugrid_loader.hpp"
#include "chempp/yields/ventura2013_loader.hpp"
#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
namespace fs = std::filesystem;

namespace {

/// Every AGB table stores masses descending (CHEMPY's agb_feedback relies on it).
void check_descending(const y::yield_table& t) {
  for (const auto& g : t.grids()) {
    for (std::size_t m = 1; m < g.mass.size(); ++m) CHECK(g.mass(m) < g.mass(m - 1));
  }
}

}  // namespace

TEST_CASE("agb_loaders: Karakas (gross) equals CHEMPY's AGB_feedback.Karakas") {
  const auto t = chempp::test::check_loader_against_reference(
      "agb", "Karakas",
      [](const auto& dir) { return y::load_karakas2010_agb(dir / "Karakas2010"); });
  if (!t) return;
  check_descending(*t);
  CHECK(t->elements().size() == 19);
  CHECK(t->source().yield_kind == "gross");
  // tablea5: the second 6.0 Msun block (M_final 1.006) is dropped
  CHECK(t->grid(0).mass(0) == 6.0);
  CHECK(t->grid(0).mass_in_remnants(0) == 1.008 / 6.0);
  CHECK(t->grid(0).unprocessed_mass_in_winds(0) == 0.0);
}

TEST_CASE("agb_loaders: Karakas_net_yield equals CHEMPY's AGB_feedback.Karakas_net_yield") {
  const auto t = chempp::test::check_loader_against_reference(
      "agb", "Karakas_net_yield",
      [](const auto& dir) { return y::load_karakas2010_net_agb(dir / "Karakas2010"); });
  if (!t) return;
  check_descending(*t);
  const auto& z02 = t->grid(3);
  CHECK(z02.metallicity == 0.02);
  CHECK(z02.unprocessed_mass_in_winds(0) == 0.8518466340664187);
  CHECK(z02.net_yield(0, *t->element_index(chempp::element("Fe"))) == -2.957440846153847e-06);
}

TEST_CASE("agb_loaders: Nugrid equals CHEMPY's AGB_feedback.Nugrid") {
  const auto t = chempp::test::check_loader_against_reference("agb", "Nugrid", [](const auto& dir) {
    return y::load_nugrid_agb(dir / "NuGrid_AGB_SNII_2013");
  });
  if (!t) return;
  check_descending(*t);
  CHECK(t->elements().size() == 80);
  CHECK(t->grid(1).mass_in_remnants(0) == 0.17610280584477978);
}

TEST_CASE("agb_loaders: Ventura_net equals CHEMPY's AGB_feedback.Ventura_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "agb", "Ventura_net",
      [](const auto& dir) { return y::load_ventura2013_agb(dir / "Ventura2013"); });
  if (!t) return;
  check_descending(*t);
  CHECK(!t->element_index(chempp::element("Fe")).has_value());
  CHECK(t->size() == 6);
}

TEST_CASE("agb_loaders: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  chempp::test::temp_dir tmp("agb");
  SUBCASE("Karakas 2010") {
    const chempp::test::broken_copy c(tmp, *dir / "Karakas2010", "tablea2.dat");
    auto load = [&] { (void)y::load_karakas2010_net_agb(c.dir); };
    chempp::test::check_token_edits(
        c, load, "tablea2.dat",
        {
            {"malformed net yield", 3, 5, "1.2.3", 3, "p net yield"},
            {"wrong column count", 3, chempp::test::token_edit::append, "1.0", 3, ""},
            {"wrong metallicity", 3, 1, "0.0100", 3, "p Z"},
            {"missing species", 3, 3, "q", 1, "p"},
        });
  }
  SUBCASE("Nugrid") {
    const chempp::test::broken_copy c(tmp, *dir / "NuGrid_AGB_SNII_2013",
                                      "set1p2/element_table_set1.2_yields_winds.txt");
    auto load = [&] { (void)y::load_nugrid_agb(c.dir); };
    chempp::test::check_token_edits(c, load, "yields_winds.txt",
                                    {
                                        {"NaN", 6, 5, "NaN", 6, "C 2 Msun"},
                                        {"negative ejecta", 4, 3, "-6.8E-01", 4, "H 1.65 Msun"},
                                        {"wrong column count", 4, 3, "6.848E-01 & 1.0", 4, "H"},
                                        {"unknown element", 5, 1, "Hx", 5, "specie"},
                                        {"missing mass column", 3, 9, "4", 3, "3 Msun"},
                                    });
  }
  SUBCASE("Ventura") {
    const chempp::test::broken_copy c(tmp, *dir / "Ventura2013", "0.018.txt");
    auto load = [&] { (void)y::load_ventura2013_agb(c.dir); };
    chempp::test::check_token_edits(c, load, "0.018.txt",
                                    {
                                        {"malformed number", 3, 6, "abc", 3, "N14"},
                                        {"missing column", 1, 12, "NE21", 1, "NE22"},
                                        {"masses not descending", 3, 0, "9.0", 3, "Mass"},
                                    });
  }
}
