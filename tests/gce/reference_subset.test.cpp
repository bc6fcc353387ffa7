// SPDX-License-Identifier: BSD-3-Clause
// Fidelity against the reference subset shipped in the repo (tests/gce/data), using the yield
// sets shipped with the library: runs in a fresh clone without ../shared.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "chempp/gce.hpp"
#include "chempp/yields/combination.hpp"
#include "chempp/yields/shipped.hpp"
#include "gce/gce_test_support.hpp"
#include "support/test_support.hpp"

namespace gce = chempp::gce;

TEST_CASE("chempy_model reproduces the shipped CHEMPY reference subset (shipped yields)") {
  const auto j = chempp::test::gce::read_json(chempp::test::source_dir() /
                                               "tests/gce/data/chempy_reference_subset.json");
  const gce::chempy_model tng(chempp::yields::shipped_yield_set("tng"));
  const gce::chempy_model tng_tau(chempp::yields::shipped_yield_set("tng"), std::pow(10.0, -0.8));
  const gce::chempy_model alt(chempp::yields::shipped_yield_set("alt"));
  for (const auto& set : j.at("sets")) {
    const std::string src = set.at("source").get<std::string>();
    const double tau = set.at("tau_ia_gyr").get<double>();
    const double tol = set.at("tolerance_dex").get<double>();
    const std::string yields = set.at("yields").get<std::string>();
    // a combination sn2=…,agb=…,sn1a=… runs from the shipped tables (no raw files needed)
    std::optional<gce::chempy_model> combination;
    if (chempp::yields::is_yield_spec(yields)) combination.emplace(chempp::yields::resolve_yield_set(yields), tau);
    const gce::chempy_model& model =
        combination ? *combination : (yields == "alt" ? alt : (tau > 0.05 ? tng_tau : tng));
    REQUIRE(std::fabs(model.tau_ia_gyr() - tau) < 1e-12);
    chempp::test::worst_error worst;
    int mismatched = 0;
    for (const auto& c : set.at("cases")) {
      const auto r = model(c.at("params").get<std::array<double, 6>>());
      const std::string want = c.at("status").get<std::string>();
      const bool status_ok = want == "failed" ? !r.ok() : want == gce::to_string(r.status);
      if (!status_ok) {
        ++mismatched;
        MESSAGE(src << " case " << c.at("id").get<int>() << ": status " << gce::to_string(r.status)
                    << ", expected " << want);
      }
      if (want != "ok" || !r.ok()) continue;
      const auto out8 = c.at("out8").get<std::array<double, 8>>();
      for (std::size_t k = 0; k < 8; ++k) {
        worst.update(std::fabs(r.abundances[k] - out8[k]),
                     src + " case " + std::to_string(c.at("id").get<int>()));
      }
    }
    MESSAGE(src << ": max |Δ| = " << worst.value << " dex (tolerance " << tol << ") at "
                << worst.where);
    CHECK(mismatched == 0);
    CHECK(worst.value <= tol);
  }
}

TEST_CASE("the shipped tables of all 21 CHEMPY loaders equal the raw loaders' tables exactly") {
  namespace y = chempp::yields;
  std::size_t n = 0;
  auto dir = chempp::test::shared_file("data/chempy/yields");
  for (const auto& entry : {std::pair{std::string("sn2"), y::sn2_table_names()}, std::pair{std::string("agb"), y::agb_table_names()},
                            std::pair{std::string("sn1a"), y::sn1a_table_names()}}) {
    const std::string& kind = entry.first;  // (not a structured binding: clang 14 cannot capture one)
    for (const auto& name : entry.second) {
      CAPTURE(kind + " " + name);
      const auto t = y::shipped_table(kind, name);  // always: the shipped files load
      ++n;
      if (!dir) continue;
      const auto r = kind == "sn2" ? y::load_sn2_table(name, *dir) : kind == "agb" ? y::load_agb_table(name, *dir) : y::load_sn1a_table(name, *dir);
      CHECK(t.source() == r.source());
      CHECK(t.elements() == r.elements());
      REQUIRE(t.size() == r.size());
      for (std::size_t g = 0; g < t.size(); ++g) {
        CHECK(t.grid(g).metallicity == r.grid(g).metallicity);
        CHECK(t.grid(g).mass == r.grid(g).mass);
        CHECK(t.grid(g).mass_in_remnants == r.grid(g).mass_in_remnants);
        CHECK(t.grid(g).unprocessed_mass_in_winds == r.grid(g).unprocessed_mass_in_winds);
        CHECK(t.grid(g).net_yield == r.grid(g).net_yield);
      }
    }
  }
  CHECK(n == 21);
  if (!dir) MESSAGE("raw CHEMPY tables not found (../shared): compared shipped tables to nothing, loaded only");
  CHECK_THROWS_WITH_AS((void)y::shipped_table("agb", "Nomoto2013"), doctest::Contains("valid names: TNG_net, Nugrid"),
                       chempp::invalid_argument);
}

TEST_CASE("shipped yield sets and CHEMPY's loaded tables give the same model") {
  auto tp = chempp::test::shared_file("data/reference/chempy_loaded_tables_tng.json");
  if (!tp) return;
  const gce::chempy_model a(chempp::yields::shipped_yield_set("tng"));
  const gce::chempy_model b(chempp::test::gce::yield_set_from_loaded_json(*tp, "tng"));
  auto rng = chempp::test::seeded_rng(20250302);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst = 0.0;
  for (int i = 0; i < 20; ++i) {
    const std::array<double, 6> th{-2.3 + 0.3 * (u(rng) - 0.5), -2.89 + 0.3 * (u(rng) - 0.5),
                                   -0.3 + 0.3 * (u(rng) - 0.5), 0.55 + 0.1 * (u(rng) - 0.5),
                                   0.5 + 0.2 * (u(rng) - 0.5),  1.0 + 12.8 * u(rng)};
    const auto ra = a(th), rb = b(th);
    REQUIRE(ra.status == rb.status);
    for (std::size_t k = 0; k < 8; ++k) {
      worst = std::max(worst, std::fabs(ra.abundances[k] - rb.abundances[k]));
    }
  }
  MESSAGE("shipped vs CHEMPY-loaded TNG tables: max |Δ| = " << worst << " dex");
  CHECK(worst <= 1e-9);
}
