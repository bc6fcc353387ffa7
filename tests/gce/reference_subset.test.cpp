// SPDX-License-Identifier: BSD-3-Clause
// Fidelity against the reference subset shipped in the repo (tests/gce/data), using the yield
// sets shipped with the library: runs in a fresh clone without ../shared.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <string>

#include "chempp/gce.hpp"
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
    const gce::chempy_model& model =
        set.at("yields").get<std::string>() == "alt" ? alt : (tau > 0.05 ? tng_tau : tng);
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
