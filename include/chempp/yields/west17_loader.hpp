// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the West & Heger (2017, in prep.) core-collapse yields, reproducing CHEMPY's
/// `SN2_feedback.West17_net`.
///
/// `West17/ertl.txt`: 102 text lines, then the column names (`metallicity mass energy mixing
/// remnant H1 H2 He3 …`) and 105 rows (15 scaled metallicities s × 7 masses) of isotope ejecta
/// [Msun] with the remnant mass [Msun]. `West17/init_abun.npz` (written by CHEMPY from the
/// `gch_wh13` initial abundances): `keys` (84 isotope names) and `datfile` (15 × 287 mass
/// fractions, one row per s ascending); CHEMPY takes X_init(keys[k]) = datfile[s][k] by position
/// (the 287-entry rows list K40 before K41 while the keys list K41 before K40, so K and Ca get
/// each other's potassium abundance — reproduced). CHEMPY's arithmetic, per (s, M), remnant R:
///  * r = R/M; n_i = e_i/M − (X_init(i)·(M − R))/M per isotope (two divisions, a difference);
///  * y_X = Σ_i n_i over the element's isotopes (map below, K40 counted as Ca), from 0;
///  * u = (1 − r) − Σ_X y_X.
/// Keys are s·0.0153032 (double); masses 13 15 17 20 22 25 30 ascending. Many models fail to
/// explode (r ≈ 1).

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/npy.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Solar metallicity CHEMPY multiplies West17's scaled metallicities s with.
inline constexpr double west17_solar_metallicity = 0.0153032;

/// Provenance of CHEMPY's `SN2_feedback.West17_net` table.
inline provenance west17_provenance() {
  return {
      .loader = "West17_net",
      .reference =
          "West & Heger 2017 (in prep.; model grid of West, Heger & Austin 2013, ApJ 769, 2, with "
          "Ertl et al. 2016 explodability), ClaudiaStarDB data set",
      .doi = "10.1088/0004-637X/769/1/2",
      .yield_kind = "net",
      .remnant_treatment = "remnant column of ertl.txt / M",
      .source_files = {},
      .notes =
          "Net yield per isotope e/M - X_init (M - R)/M with CHEMPY's cached gch_wh13 initial "
          "abundances (init_abun.npz) mapped by position, which swaps the K40 and K41 abundances "
          "(affects K and Ca only); u = (1 - r) - sum(y). Z = s * 0.0153032. Many models do not "
          "explode (remnant fraction about 1).",
  };
}

namespace detail {

/// CHEMPY's West17 isotope map (elements H … Ge, isotopes in summation order).
inline const std::vector<element_species>& west17_species_map() {
  static const std::vector<element_species> map{
      {"H", {"H1", "H2"}},      {"He", {"He3", "He4"}},
      {"Li", {"Li6", "Li7"}},   {"Be", {"Be9"}},
      {"B", {"B10", "B11"}},    {"C", {"C12", "C13"}},
      {"N", {"N14", "N15"}},    {"O", {"O16", "O17", "O18"}},
      {"F", {"F19"}},           {"Ne", {"Ne20", "Ne21", "Ne22"}},
      {"Na", {"Na23"}},         {"Mg", {"Mg24", "Mg25", "Mg26"}},
      {"Al", {"Al27"}},         {"Si", {"Si28", "Si29", "Si30"}},
      {"P", {"P31"}},           {"S", {"S32", "S33", "S34", "S36"}},
      {"Cl", {"Cl35", "Cl37"}}, {"Ar", {"Ar36", "Ar38", "Ar40"}},
      {"K", {"K39", "K41"}},    {"Ca", {"K40", "Ca40", "Ca42", "Ca43", "Ca44", "Ca46", "Ca48"}},
      {"Sc", {"Sc45"}},         {"Ti", {"Ti46", "Ti47", "Ti48", "Ti49", "Ti50"}},
      {"V", {"V50", "V51"}},    {"Cr", {"Cr50", "Cr52", "Cr53", "Cr54"}},
      {"Mn", {"Mn55"}},         {"Fe", {"Fe54", "Fe56", "Fe57", "Fe58"}},
      {"Co", {"Co59"}},         {"Ni", {"Ni58", "Ni60", "Ni61", "Ni62", "Ni64"}},
      {"Cu", {"Cu63", "Cu65"}}, {"Zn", {"Zn64", "Zn66", "Zn67", "Zn68", "Zn70"}},
      {"Ga", {"Ga69", "Ga71"}}, {"Ge", {"Ge70", "Ge72", "Ge73", "Ge74", "Ge76"}},
  };
  return map;
}

/// Sorted distinct values.
inline std::vector<double> sorted_distinct(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace detail

/// Loads CHEMPY's `SN2_feedback.West17_net` table from the `West17/` folder (`ertl.txt`,
/// `init_abun.npz`).
/// \throws file_error naming file, line and field on missing or malformed input: a missing
///         column, a (s, M) model missing or repeated, an isotope missing from the npz keys.
inline yield_table load_west17_sn2(const std::filesystem::path& dir) {
  using namespace detail;
  const auto ertl = dir / "ertl.txt";
  // ertl.txt: 102 free-text lines, then a column table
  const column_table t = read_column_table(ertl, header_style::first_line, false, 102);
  if (t.rows.empty()) throw file_error(ertl.string(), 0, "", "no data rows");
  const std::size_t c_s = t.value_index("metallicity");
  const std::size_t c_m = t.value_index("mass");
  const std::size_t c_r = t.value_index("remnant");
  const auto& map = west17_species_map();
  std::vector<std::vector<std::size_t>> iso_col;
  for (const auto& es : map) {
    iso_col.emplace_back();
    for (const char* iso : es.species) iso_col.back().push_back(t.value_index(iso));
  }
  std::vector<double> s_all;
  std::vector<double> m_all;
  for (const auto& r : t.rows) {
    require_nonnegative(r.values[c_s], {&ertl, r.line, "metallicity"});
    require_positive(r.values[c_m], {&ertl, r.line, "mass"});
    s_all.push_back(r.values[c_s]);
    m_all.push_back(r.values[c_m]);
  }
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (s_all[i] == s_all[j] && m_all[i] == m_all[j]) {
        throw file_error(ertl.string(), t.rows[i].line, "mass",
                         "second row for metallicity " + shortest_repr(s_all[i]) + ", mass " +
                             shortest_repr(m_all[i]) + " (first on line " +
                             std::to_string(t.rows[j].line) + ")");
      }
    }
  }
  const auto svals = sorted_distinct(s_all);
  const auto masses = sorted_distinct(m_all);
  // initial abundances: keys[k] <-> datfile[s][k] by position (CHEMPY)
  const auto npz = dir / "init_abun.npz";
  const auto keys = read_npz_member(npz, "keys.npy").strings();
  const auto dat_arr = read_npz_member(npz, "datfile.npy");
  const auto dat = dat_arr.doubles();
  if (dat_arr.shape.size() != 2 || dat_arr.shape[0] != svals.size() ||
      dat_arr.shape[1] < keys.size()) {
    throw file_error(npz.string(), 0, "datfile",
                     "expected one row per metallicity (" + std::to_string(svals.size()) +
                         ") with at least as many entries as keys (" + std::to_string(keys.size()) +
                         ")");
  }
  const std::size_t width = dat_arr.shape[1];
  std::vector<std::vector<std::size_t>> key_index;
  for (const auto& es : map) {
    key_index.emplace_back();
    for (const char* iso : es.species) {
      const auto it = std::find(keys.begin(), keys.end(), iso);
      if (it == keys.end()) {
        throw file_error(npz.string(), 0, "keys",
                         "isotope '" + std::string(iso) + "' missing from keys");
      }
      key_index.back().push_back(static_cast<std::size_t>(it - keys.begin()));
    }
  }
  std::vector<metallicity_grid> grids;
  for (std::size_t si = 0; si < svals.size(); ++si) {
    metallicity_grid g = zero_grid(svals[si] * west17_solar_metallicity, masses.size(), map.size());
    for (std::size_t k = 0; k < masses.size(); ++k) {
      const double mass = masses[k];
      const column_table::row* row = nullptr;  // unique: repeats rejected above
      for (const auto& r : t.rows) {
        if (r.values[c_s] == svals[si] && r.values[c_m] == mass) row = &r;
      }
      if (row == nullptr) {
        throw file_error(
            ertl.string(), 0, "mass",
            "no row for metallicity " + shortest_repr(svals[si]) + ", mass " + shortest_repr(mass));
      }
      const double rem = row->values[c_r];
      require_nonnegative(rem, {&ertl, row->line, "remnant"});
      if (rem > mass) {
        throw file_error(ertl.string(), row->line, "remnant", "remnant exceeds the initial mass");
      }
      g.mass(k) = mass;
      g.mass_in_remnants(k) = rem / mass;
      for (std::size_t e = 0; e < map.size(); ++e) {
        double y = 0.0;
        for (std::size_t i = 0; i < iso_col[e].size(); ++i) {
          const double ej = row->values[iso_col[e][i]];
          const double x = dat[si * width + key_index[e][i]];
          y += ej / mass - (x * (mass - rem)) / mass;
        }
        g.net_yield(k, e) = y;
      }
    }
    close_with_unprocessed_after_remnant(g);
    grids.push_back(std::move(g));
  }
  provenance p = west17_provenance();
  p.source_files = {source_name(ertl), source_name(npz)};
  return yield_table(channel::sn2, std::move(p), species_map_elements(map), std::move(grids));
}

}  // namespace chempp::yields
