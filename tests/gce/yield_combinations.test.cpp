// SPDX-License-Identifier: BSD-3-Clause
// Any combination of CHEMPY's yield tables through chempp's own loaders and the GCE model,
// against the original CHEMPY's outputs for four new combinations (issue 11:
// shared/data/reference/chempy_ref_<SN2>_<AGB>_<SN1A>.json, 13 cases each). Skipped with a message
// without ../shared.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <sstream>
#include <string>

#include "chempp/gce.hpp"
#include "chempp/yields/combination.hpp"
#include "gce/gce_test_support.hpp"
#include "support/test_support.hpp"

namespace y = chempp::yields;

TEST_CASE("yield combinations: the spelling sn2=NAME,agb=NAME,sn1a=NAME") {
  const auto s = y::parse_yield_spec("agb=Nugrid,sn2=CL18_net,sn1a=Iwamoto");
  CHECK(s == y::yield_spec{"CL18_net", "Nugrid", "Iwamoto"});
  CHECK(s.to_string() == "sn2=CL18_net,agb=Nugrid,sn1a=Iwamoto");
  CHECK(y::is_yield_spec(s.to_string()));
  CHECK_FALSE(y::is_yield_spec("tng"));
  CHECK_THROWS_WITH_AS(y::parse_yield_spec("sn2=Nomoto,agb=Nugrid,sn1a=TNG"),
                       doctest::Contains("valid names: TNG_net, Nomoto2013"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(y::parse_yield_spec("sn2=TNG_net,agb=Nugrid"), doctest::Contains("all three channels"),
                       chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(y::parse_yield_spec("sn2=TNG_net,sn2=TNG_net,agb=Nugrid,sn1a=TNG"), doctest::Contains("twice"),
                       chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(y::parse_yield_spec("snII=TNG_net,agb=Nugrid,sn1a=TNG"), doctest::Contains("unknown channel"),
                       chempp::invalid_argument);
  CHECK_THROWS_AS(y::parse_yield_spec("sn2=,agb=Nugrid,sn1a=TNG"), chempp::invalid_argument);
}

namespace {
void check_combination(const std::string& ref) {
  auto rp = chempp::test::shared_file("data/reference/" + ref);
  auto dir = chempp::test::shared_file("data/chempy/yields");
  if (!rp || !dir) return;
  const auto j = chempp::test::gce::read_json(*rp);
  const auto& t = j.at("meta").at("yield_tables");
  const y::yield_spec spec{t.at("sn2").get<std::string>(), t.at("agb").get<std::string>(), t.at("sn1a").get<std::string>()};
  const chempp::gce::chempy_model model(y::load_yield_set(spec, *dir), 0.04);
  const auto r = chempp::test::gce::compare_cases(model, j, spec.to_string());
  CHECK(r.ok > 0);
  CHECK(r.worst.value <= 1e-3);
}
}  // namespace

TEST_CASE("yield combinations reproduce CHEMPY: CL18_net + TNG_net + Iwamoto") {
  check_combination("chempy_ref_CL18_net_TNG_net_Iwamoto.json");
}
TEST_CASE("yield combinations reproduce CHEMPY: Portinari_net + Karakas_net_yield + Thielemann") {
  check_combination("chempy_ref_Portinari_net_Karakas_net_yield_Thielemann.json");
}
TEST_CASE("yield combinations reproduce CHEMPY: TNG_net + Nugrid + TNG") {
  check_combination("chempy_ref_TNG_net_Nugrid_TNG.json");
}
TEST_CASE("yield combinations reproduce CHEMPY: chieffi04 + Nugrid + Seitenzahl") {
  check_combination("chempy_ref_chieffi04_Nugrid_Seitenzahl.json");
}

TEST_CASE("with_traced_elements: an absent element is a zero column, the rest unchanged") {
  auto dir = chempp::test::shared_file("data/chempy/yields");
  if (!dir) return;
  const auto v = y::load_agb_table("Ventura_net", *dir);  // no Fe
  REQUIRE_FALSE(v.element_index(chempp::element("Fe")));
  const auto w = y::with_traced_elements(v);
  const auto fe = w.element_index(chempp::element("Fe"));
  REQUIRE(fe);
  for (const auto& g : w.grids())
    for (std::size_t m = 0; m < g.mass.size(); ++m) CHECK(g.net_yield(m, *fe) == 0.0);
  const auto c = *v.element_index(chempp::element("C"));
  CHECK(w.grid(0).net_yield(0, c) == v.grid(0).net_yield(0, c));
  // a whole model runs with it (CHEMPY's behaviour: Fe returned only with the birth composition)
  const chempp::gce::chempy_model model(y::load_yield_set(y::parse_yield_spec("sn2=TNG_net,agb=Ventura_net,sn1a=TNG"), *dir));
  CHECK(model({-2.3, -2.89, -0.3, 0.55, 0.5, 8.0}).ok());
}
