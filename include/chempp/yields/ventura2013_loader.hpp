// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Ventura et al. (2013, MNRAS 431, 3642) AGB / super-AGB net yields, reproducing
/// CHEMPY's `AGB_feedback.Ventura_net`.
///
/// Files `Ventura2013/0.04.txt`, `0.018.txt`, `0.008.txt`, `0.004.txt`, `0.001.txt`,
/// `0.0003.txt`: a header line `Mass H He Li C12 C13 N14 O16 O17 O18 F19 NE20 NE22 NA23 MG24 MG25
/// MG26 AL26 AL27 SI28 mass_in_remnants`, then one row per model in descending mass (kept). CHEMPY
/// divides every column by `Mass` [Msun], i.e. treats them as Msun per star:
///  * elements H He Li C N O F Ne Na Mg Al Si with C = C12 + C13, O = O16 + O17 + O18,
///    Ne = NE20 + NE22 (no Ne21), Mg = MG24 + MG25 + MG26, Al = AL26 + AL27, Si = SI28 only;
///    sums in this order, then / M;
///  * r = mass_in_remnants / M; u = 1 − (r + Σ_X y_X).
/// There is no Fe column: downstream the AGB channel returns iron only with the birth composition.

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Metallicities CHEMPY's `Ventura_net` reads (file `<Z>.txt`), ascending.
inline constexpr std::array<double, 6> ventura2013_metallicities{0.0003, 0.001, 0.004,
                                                                 0.008,  0.018, 0.04};

/// Provenance of CHEMPY's `AGB_feedback.Ventura_net` table.
inline provenance ventura2013_provenance() {
  return {
      .loader = "Ventura_net",
      .reference = "Ventura et al. 2013, MNRAS 431, 3642",
      .doi = "10.1093/mnras/stt444",
      .yield_kind = "net",
      .remnant_treatment = "mass_in_remnants column / M",
      .source_files = {},
      .notes =
          "Every column divided by Mass as in CHEMPY (the data README calls the values mass "
          "fractions). Ne = NE20 + NE22 (no Ne21), Si = SI28 only; no Fe, S, Ca columns. "
          "u = 1 - (r + sum(y)). Masses descending as in the files.",
  };
}

namespace detail {

/// CHEMPY's Ventura column map (elements in table order, columns in summation order).
inline const std::vector<element_species>& ventura2013_species_map() {
  static const std::vector<element_species> map{
      {"H", {"H"}},
      {"He", {"He"}},
      {"Li", {"Li"}},
      {"C", {"C12", "C13"}},
      {"N", {"N14"}},
      {"O", {"O16", "O17", "O18"}},
      {"F", {"F19"}},
      {"Ne", {"NE20", "NE22"}},
      {"Na", {"NA23"}},
      {"Mg", {"MG24", "MG25", "MG26"}},
      {"Al", {"AL26", "AL27"}},
      {"Si", {"SI28"}},
  };
  return map;
}

}  // namespace detail

/// Loads CHEMPY's `AGB_feedback.Ventura_net` table from the `Ventura2013/` folder.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_ventura2013_agb(const std::filesystem::path& dir) {
  using namespace detail;
  const auto& map = ventura2013_species_map();
  provenance p = ventura2013_provenance();
  std::vector<metallicity_grid> grids;
  for (double z : ventura2013_metallicities) {
    const auto file = dir / (shortest_repr(z) + ".txt");
    const column_table t = read_column_table(file, header_style::first_line);
    const std::size_t mass_col = t.value_index("Mass");
    const std::size_t rem_col = t.value_index("mass_in_remnants");
    std::vector<std::vector<std::size_t>> cols;
    for (const auto& es : map) {
      cols.emplace_back();
      for (const char* c : es.species) cols.back().push_back(t.value_index(c));
    }
    if (t.rows.empty()) throw file_error(file.string(), 0, "", "no data rows");
    metallicity_grid g = zero_grid(z, t.rows.size(), map.size());
    for (std::size_t m = 0; m < t.rows.size(); ++m) {
      const auto& r = t.rows[m];
      const double mass = r.values[mass_col];
      require_positive(mass, {&file, r.line, "Mass"});
      if (m > 0 && !(mass < g.mass(m - 1))) {
        throw file_error(file.string(), r.line, "Mass", "masses must be strictly descending");
      }
      require_nonnegative(r.values[rem_col], {&file, r.line, "mass_in_remnants"});
      g.mass(m) = mass;
      g.mass_in_remnants(m) = r.values[rem_col] / mass;
      for (std::size_t e = 0; e < map.size(); ++e) {
        double sum = r.values[cols[e][0]];
        for (std::size_t k = 1; k < cols[e].size(); ++k) sum += r.values[cols[e][k]];
        g.net_yield(m, e) = sum / mass;
      }
    }
    close_with_unprocessed(g);
    p.source_files.push_back(source_name(file));
    grids.push_back(std::move(g));
  }
  return yield_table(channel::agb, std::move(p), species_map_elements(map), std::move(grids));
}

}  // namespace chempp::yields
