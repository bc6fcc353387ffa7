// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loaders for two further SN Ia tables of CHEMPY (`SN1a_feedback`):
///  * `Seitenzahl` — Seitenzahl et al. (2013) N100 delayed detonation, `Seitenzahl2013/0.02.txt`:
///    header `Mass mass_in_remnants <symbols…>` and one row of ejected masses [Msun];
///    y_X = ejecta_X / Mass (CHEMPY divides by its hard-coded 1.4004633930489443, equal to the
///    file's Mass), `mass_in_remnants` = −Mass copied; one metallicity keyed 0.02.
///  * `Iwamoto` — Iwamoto et al. (1999) W7 and W70, `Iwamoto/sn1a_yields.txt`: header
///    `#SPECIES W7 W70 WDD1 WDD2 WDD3 CDD1 CDD2` and isotope rows (`12C` …) of ejected masses
///    [Msun] per event. Stable isotopes are summed per element (C … Zn, no H, He; radioactive rows
///    ignored); Σ_ej = sum of all used isotopes (element-then-isotope order); y_X = element sum /
///    Σ_ej, `mass_in_remnants` = −Σ_ej, `Mass` = 1.38 (nominal). W70 is keyed Z = 0, W7 Z = 0.02.
///
/// SN Ia tables have no unprocessed_mass_in_winds column in CHEMPY; it is stored as zeros.

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Provenance of CHEMPY's `SN1a_feedback.Seitenzahl` table.
inline provenance seitenzahl2013_provenance() {
  return {
      .loader = "Seitenzahl",
      .reference = "Seitenzahl et al. 2013, MNRAS 429, 1156 (N100 delayed-detonation model)",
      .doi = "10.1093/mnras/sts402",
      .yield_kind = "gross",
      .remnant_treatment = "no remnant: mass_in_remnants = -Mass [Msun] as given in the file",
      .source_files = {},
      .notes =
          "One metallicity keyed 0.02; y = ejected mass / Mass (CHEMPY divides by its hard-coded "
          "1.4004633930489443, equal to the file's Mass). No unprocessed_mass_in_winds column in "
          "CHEMPY; stored as zeros.",
  };
}

/// Loads CHEMPY's `SN1a_feedback.Seitenzahl` table from `Seitenzahl2013/0.02.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_seitenzahl2013_sn1a(const std::filesystem::path& file) {
  return detail::load_single_row_sn1a(file, seitenzahl2013_provenance());
}

/// Provenance of CHEMPY's `SN1a_feedback.Iwamoto` table.
inline provenance iwamoto1999_provenance() {
  return {
      .loader = "Iwamoto",
      .reference = "Iwamoto et al. 1999, ApJS 125, 439 (models W7 and W70)",
      .doi = "10.1086/313278",
      .yield_kind = "gross",
      .remnant_treatment =
          "no remnant: mass_in_remnants = -(sum of the stable-isotope ejecta of the model) [Msun]",
      .source_files = {},
      .notes =
          "Z = 0.02 is model W7, Z = 0 model W70. Only stable isotopes are used (radioactive rows "
          "ignored); y = element ejecta / total stable ejecta (not / the nominal Mass 1.38). No H "
          "and "
          "He columns. The GCE model always takes M_ej from the 0.02 (W7) table. No "
          "unprocessed_mass_in_winds column in CHEMPY; stored as zeros.",
  };
}

namespace detail {

/// CHEMPY's Iwamoto stable-isotope map (elements C … Zn, isotopes in summation order).
inline const std::vector<element_species>& iwamoto_species_map() {
  static const std::vector<element_species> map{
      {"C", {"12C", "13C"}},
      {"N", {"14N", "15N"}},
      {"O", {"16O", "17O", "18O"}},
      {"F", {"19F"}},
      {"Ne", {"20Ne", "21Ne", "22Ne"}},
      {"Na", {"23Na"}},
      {"Mg", {"24Mg", "25Mg", "26Mg"}},
      {"Al", {"27Al"}},
      {"Si", {"28Si", "29Si", "30Si"}},
      {"P", {"31P"}},
      {"S", {"32S", "33S", "34S", "36S"}},
      {"Cl", {"35Cl", "37Cl"}},
      {"Ar", {"36Ar", "38Ar", "40Ar"}},
      {"K", {"39K", "41K"}},
      {"Ca", {"40Ca", "42Ca", "43Ca", "44Ca", "46Ca", "48Ca"}},
      {"Sc", {"45Sc"}},
      {"Ti", {"46Ti", "47Ti", "48Ti", "49Ti", "50Ti"}},
      {"V", {"50V", "51V"}},
      {"Cr", {"50Cr", "52Cr", "53Cr", "54Cr"}},
      {"Mn", {"55Mn"}},
      {"Fe", {"54Fe", "56Fe", "57Fe", "58Fe"}},
      {"Co", {"59Co"}},
      {"Ni", {"58Ni", "60Ni", "61Ni", "62Ni", "64Ni"}},
      {"Cu", {"63Cu", "65Cu"}},
      {"Zn", {"64Zn", "66Zn", "67Zn", "68Zn"}},
  };
  return map;
}

}  // namespace detail

/// Nominal SN Ia mass [Msun] CHEMPY stores in the `Mass` column of the Iwamoto table.
inline constexpr double iwamoto1999_nominal_mass = 1.38;

/// Loads CHEMPY's `SN1a_feedback.Iwamoto` table from `Iwamoto/sn1a_yields.txt`.
/// \throws file_error naming file, line and field on missing or malformed input (a stable
///         isotope of the map missing or listed twice, a negative ejected mass).
inline yield_table load_iwamoto1999_sn1a(const std::filesystem::path& file) {
  using namespace detail;
  const column_table t = read_column_table(file, header_style::comment, true);
  const auto& map = iwamoto_species_map();
  // W70 -> Z = 0, W7 -> Z = 0.02 (ascending metallicity)
  const std::vector<std::pair<double, std::string>> models{{0.0, "W70"}, {0.02, "W7"}};
  std::vector<metallicity_grid> grids;
  for (const auto& [z, model] : models) {
    const std::size_t col = t.value_index(model);
    metallicity_grid g;
    g.metallicity = z;
    g.mass = xt::xtensor<double, 1>({iwamoto1999_nominal_mass});
    g.unprocessed_mass_in_winds = xt::zeros<double>({std::size_t{1}});
    g.net_yield = xt::zeros<double>({std::size_t{1}, map.size()});
    double total = 0.0;
    for (std::size_t e = 0; e < map.size(); ++e) {
      double sum = 0.0;
      for (const char* iso : map[e].species) {
        const column_table::row* found = nullptr;
        for (const auto& r : t.rows) {
          if (r.label != iso) continue;
          if (found != nullptr) {
            throw file_error(
                file.string(), r.line, iso,
                "isotope listed twice (first on line " + std::to_string(found->line) + ")");
          }
          found = &r;
        }
        if (found == nullptr) {
          throw file_error(file.string(), 0, iso, "stable isotope row missing");
        }
        const double v = found->values[col];
        require_nonnegative(v, {&file, found->line, std::string(iso) + " " + model});
        sum += v;
        total += v;
      }
      g.net_yield(0, e) = sum;
    }
    require_positive(total, {&file, 0, "sum of stable ejecta (" + model + ")"});
    for (std::size_t e = 0; e < map.size(); ++e) g.net_yield(0, e) /= total;
    g.mass_in_remnants = xt::xtensor<double, 1>({-total});
    grids.push_back(std::move(g));
  }
  provenance p = iwamoto1999_provenance();
  p.source_files = {source_name(file)};
  return yield_table(channel::sn1a, std::move(p), species_map_elements(map), std::move(grids));
}

}  // namespace chempp::yields
