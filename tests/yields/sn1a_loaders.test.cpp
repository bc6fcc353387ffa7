// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/sn1a_loaders.hpp"

#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::find_line;

TEST_CASE("sn1a_loaders: Seitenzahl equals CHEMPY's SN1a_feedback.Seitenzahl") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn1a", "Seitenzahl",
      [](const auto& dir) { return y::load_seitenzahl2013_sn1a(dir / "Seitenzahl2013/0.02.txt"); });
  if (!t) return;
  CHECK(t->elements().size() == 32);
  CHECK(t->grid(0).mass_in_remnants(0) == -1.4004633930489443);
}

TEST_CASE("sn1a_loaders: Iwamoto equals CHEMPY's SN1a_feedback.Iwamoto") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn1a", "Iwamoto",
      [](const auto& dir) { return y::load_iwamoto1999_sn1a(dir / "Iwamoto/sn1a_yields.txt"); });
  if (!t) return;
  REQUIRE(t->size() == 2);
  CHECK(t->grid(1).mass_in_remnants(0) == -1.3708307116719998);  // W7
  CHECK(t->grid(0).mass_in_remnants(0) == -1.3657288570965203);  // W70
  CHECK(!t->element_index(chempp::element("H")).has_value());
}

TEST_CASE("sn1a_loaders: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  chempp::test::temp_dir tmp("sn1a");
  SUBCASE("Seitenzahl") {
    const chempp::test::broken_copy c(tmp, *dir / "Seitenzahl2013", "0.02.txt");
    chempp::test::check_token_edits(
        c, [&] { (void)y::load_seitenzahl2013_sn1a(c.bad); }, "0.02.txt",
        {
            {"malformed number", 2, 27, "0.7x", 2, "Fe"},
            {"negative ejecta", 2, 7, "-3e-3", 2, "C"},
            {"wrong column count", 2, chempp::test::token_edit::append, "1", 2, ""},
            {"malformed header", 1, 1, "remnant", 1, "header"},
        });
  }
  SUBCASE("Iwamoto") {
    const chempp::test::broken_copy c(tmp, *dir / "Iwamoto", "sn1a_yields.txt");
    CHECK(find_line(c.src, "56Fe") == 53);
    chempp::test::check_token_edits(
        c, [&] { (void)y::load_iwamoto1999_sn1a(c.bad); }, "sn1a_yields.txt",
        {
            {"NaN", 53, 1, "nan", 53, "56Fe"},
            {"wrong column count", 6, chempp::test::token_edit::append, "1.0", 6, ""},
            {"missing stable isotope", 57, 0, "58Xx", 0, "58Ni"},
            {"missing model column", 1, 2, "W71", 1, "W70"},
        });
  }
}
