// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Test support for the GCE tests: builds a `yields::yield_set` from CHEMPY's own loaded tables
/// (`shared/data/reference/chempy_loaded_tables_{tng,alt}.json`: exactly the arrays CHEMPY's
/// loaders produce, 9 traced elements) and reads the reference oracle files.

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>

#include "chempp/elements/element.hpp"
#include "chempp/gce/chempy_model.hpp"
#include "chempp/yields/yield_table.hpp"
#include "support/test_support.hpp"

namespace chempp::test::gce {

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(in);
}

inline yields::yield_table table_from_loaded_json(const nlohmann::json& j, yields::channel kind) {
  std::vector<element> els(chempy_traced_elements.begin(), chempy_traced_elements.end());
  std::vector<yields::metallicity_grid> grids;
  for (auto it = j.at("tables").begin(); it != j.at("tables").end(); ++it) {
    const auto& t = it.value();
    yields::metallicity_grid g;
    g.metallicity = std::stod(it.key());
    const auto mass = t.at("Mass").get<std::vector<double>>();
    const std::size_t n = mass.size();
    g.mass = xt::xtensor<double, 1>::from_shape({n});
    g.mass_in_remnants = xt::xtensor<double, 1>::from_shape({n});
    g.unprocessed_mass_in_winds = xt::xtensor<double, 1>::from_shape({n});
    g.net_yield = xt::xtensor<double, 2>::from_shape({n, els.size()});
    const auto rem = t.at("mass_in_remnants").get<std::vector<double>>();
    std::vector<double> unp(n, 0.0);
    if (t.contains("unprocessed_mass_in_winds")) {
      unp = t.at("unprocessed_mass_in_winds").get<std::vector<double>>();
    }
    for (std::size_t m = 0; m < n; ++m) {
      g.mass(m) = mass[m];
      g.mass_in_remnants(m) = rem[m];
      g.unprocessed_mass_in_winds(m) = unp[m];
      for (std::size_t e = 0; e < els.size(); ++e) {
        g.net_yield(m, e) = t.at(std::string(els[e].symbol())).at(m).get<double>();
      }
    }
    grids.push_back(std::move(g));
  }
  std::sort(grids.begin(), grids.end(),
            [](const auto& a, const auto& b) { return a.metallicity < b.metallicity; });
  yields::provenance prov;
  prov.loader = j.at("loader").get<std::string>();
  prov.notes = "test support: built from chempy_loaded_tables JSON";
  return yields::yield_table(kind, prov, els, std::move(grids));
}

/// The yield set CHEMPY builds for `which` ("tng" or "alt"), from the loaded-tables dump.
inline yields::yield_set yield_set_from_loaded_json(const std::filesystem::path& p,
                                                    const std::string& name) {
  const auto j = read_json(p);
  yields::yield_set s;
  s.name = name;
  s.sn2 = table_from_loaded_json(j.at("sn2"), yields::channel::sn2);
  s.agb = table_from_loaded_json(j.at("agb"), yields::channel::agb);
  s.sn1a = table_from_loaded_json(j.at("sn1a"), yields::channel::sn1a);
  return s;
}

/// Runs `model` on every case of a reference oracle file and compares: each status must match
/// (CHECK); returns the worst |Δ| over the outputs of the ok cases and the case counts.
struct reference_comparison {
  chempp::test::worst_error worst;
  int ok = 0, failures = 0;
};
inline reference_comparison compare_cases(const chempp::gce::chempy_model& model, const nlohmann::json& ref,
                                          const std::string& label) {
  reference_comparison r;
  for (const auto& c : ref.at("cases")) {
    const auto p = c.at("params").get<std::array<double, 6>>();
    const auto res = model(p);
    const std::string want = c.at("status").get<std::string>();
    INFO(label << " case " << c.at("id").get<int>() << " (" << c.at("group").get<std::string>() << ")");
    CHECK(std::string(chempp::gce::to_string(res.status)) == want);
    if (want != "ok") {
      ++r.failures;
      continue;
    }
    ++r.ok;
    const auto out8 = c.at("out8").get<std::array<double, 8>>();
    for (std::size_t k = 0; k < 8; ++k) {
      std::ostringstream at;
      at << "case " << c.at("id").get<int>() << " output " << k << " T=" << p[5];
      r.worst.update(std::fabs(res.abundances[k] - out8[k]), at.str());
    }
  }
  MESSAGE(label << ": " << r.ok << " ok, " << r.failures << " failures, max |Δ| = " << r.worst.value << " dex at "
                << r.worst.where);
  return r;
}

}  // namespace chempp::test::gce
