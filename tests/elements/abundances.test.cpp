// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/elements/abundances.hpp"

#include <array>
#include <cmath>

#include "support/test_support.hpp"

using namespace chempp;
namespace el = chempp::elements;

TEST_CASE("abundances: solar composition gives zero brackets") {
  // Masses proportional to the solar number ratios times atomic weights give [X/H] = 0.
  const auto& els = chempy_traced_elements;
  std::array<double, 9> m{};
  for (std::size_t i = 0; i < els.size(); ++i) {
    m[i] = std::pow(10.0, els[i].solar_logeps() - 12.0) * els[i].atomic_mass();
  }
  std::array<double, 9> out{};
  auto rep = chempy_abundances(m, els, out);
  CHECK(rep.ok());
  for (double v : out) CHECK(std::abs(v) < 1e-12);
}

TEST_CASE("abundances: hand-computed [X/Fe], [Fe/H] and the H = -[Fe/H] quirk") {
  const std::array<element, 3> els{el::H, el::Fe, el::O};
  const std::array<double, 3> m{0.7, 1e-3, 5e-3};
  std::array<double, 3> out{};
  auto rep = chempy_abundances(m, els, out);
  REQUIRE(rep.ok());
  const double fe_h = std::log10((1e-3 / 55.845) / (0.7 / 1.00794)) + 12.0 - 7.50;
  const double o_h = std::log10((5e-3 / 15.9994) / (0.7 / 1.00794)) + 12.0 - 8.69;
  CHECK(out[1] == doctest::Approx(fe_h).epsilon(1e-14));
  CHECK(out[2] == doctest::Approx(o_h - fe_h).epsilon(1e-14));
  CHECK(out[0] == doctest::Approx(-fe_h).epsilon(1e-14));
}

TEST_CASE("abundances: zero and negative masses give typed statuses") {
  const std::array<element, 3> els{el::H, el::Fe, el::O};
  std::array<double, 3> out{};
  SUBCASE("zero O") {
    auto rep = chempy_abundances(std::array<double, 3>{0.7, 1e-3, 0.0}, els, out);
    CHECK(rep.status == abundance_status::zero_mass);
    CHECK(rep.culprit == el::O);
    CHECK(std::isinf(out[2]));
    CHECK(out[2] < 0);
  }
  SUBCASE("zero Fe: CHEMPY sets every [X/Fe] to +inf") {
    auto rep = chempy_abundances(std::array<double, 3>{0.7, 0.0, 1e-3}, els, out);
    CHECK(rep.status == abundance_status::iron_undefined);
    CHECK(out[2] == INFINITY);
    CHECK(out[1] == -INFINITY);
    CHECK(out[0] == INFINITY);
  }
  SUBCASE("negative mass") {
    auto rep = chempy_abundances(std::array<double, 3>{0.7, 1e-3, -1e-3}, els, out);
    CHECK(rep.status == abundance_status::negative_mass);
    CHECK(rep.culprit == el::O);
    CHECK(std::string(to_string(rep.status)) == "negative_mass");
  }
  SUBCASE("missing Fe throws") {
    const std::array<element, 2> e2{el::H, el::O};
    std::array<double, 2> o2{};
    CHECK_THROWS_AS(chempy_abundances(std::array<double, 2>{1, 1}, e2, o2), invalid_argument);
  }
}
