// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/elements/element.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "support/test_support.hpp"

using chempp::element;
namespace el = chempp::elements;

TEST_CASE("element: compile-time lookup") {
  static_assert(element("Fe").atomic_number() == 26);
  static_assert(element(26).symbol() == "Fe");
  static_assert(el::Fe.atomic_mass() == 55.845);
  static_assert(el::H.solar_logeps() == 12.0);
  static_assert(element::is_symbol("Si") && !element::is_symbol("Xx"));
  CHECK(el::O.solar_logeps() == doctest::Approx(8.69));
  CHECK(el::Ne.atomic_mass() == doctest::Approx(20.1797));
}

TEST_CASE("element: bad input throws naming the value") {
  CHECK_THROWS_WITH_AS(element("Xx"), doctest::Contains("'Xx'"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(element(0), doctest::Contains("0"), chempp::invalid_argument);
  CHECK_THROWS_AS(element(117), chempp::invalid_argument);
}

TEST_CASE("element: table equals CHEMPY's elemental table and Asplund09") {
  auto path = chempp::test::shared_file("data/chempy/asplund09_solar_chempy.csv");
  if (!path) return;
  std::ifstream in(*path);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("Symbol", 0) == 0) continue;
    std::stringstream ss(line);
    std::string sym, num, mass, logeps, err, inlist;
    std::getline(ss, sym, ',');
    std::getline(ss, num, ',');
    std::getline(ss, mass, ',');
    std::getline(ss, logeps, ',');
    std::getline(ss, err, ',');
    std::getline(ss, inlist, ',');
    const element e(std::stoi(num));
    INFO("element " << sym);
    CHECK(e.symbol() == sym);
    CHECK(e.atomic_mass() == std::stod(mass));
    CHECK(e.solar_logeps() == std::stod(logeps));
    CHECK(e.has_solar_abundance() == (std::stoi(inlist) == 1));
    ++rows;
  }
  CHECK(rows == 116);
}
