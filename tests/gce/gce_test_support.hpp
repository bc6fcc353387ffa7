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

#include <nlohmann/json.hpp>

#include "chempp/elements/element.hpp"
#include "chempp/yields/yield_table.hpp"

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

}  // namespace chempp::test::gce
