// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Frischknecht et al. (2016, MNRAS 456, 1803) rotating massive-star (pre-SN)
/// net yields, reproducing CHEMPY's `SN2_feedback.Frischknecht16_net` — whose docstring says
/// "DO NOT USE!!"; it runs and is reproduced as is, bug included.
///
/// `Frischknecht16/yields_total.txt`: lines 32–60 are the 29-model table `nb name Mfinal Ma50
/// Ma75 Mco01 Mrem …` (remnant mass [Msun] = column 7); after line 62 each row is an isotope name
/// (`p`, `d`, `he3`, … `bi209`) followed by the net yields [Msun] of models 1 … 29. CHEMPY uses
/// models 2, 8, 14, 27 (Z = 0.0134), 4, 10, 16, 28 (Z = 1e-3), 6, 12, 18, 29 (Z = 1e-5) for
/// M = 15, 20, 25, 40 Msun:
///  * r = Rem/M; y_X = (Σ over the element's isotopes, each over all rows of that name in file
///    order, from 0) / M; a missing isotope contributes 0;
///  * **loop-variable bug**: the total net mass T meant to correct u is computed only for the last
///    model (40 Msun): T = numpy sum of that model's yields over all isotope rows [Msun], *not*
///    divided by M; T = 0 for 15, 20, 25 Msun; u = 1 − (r + T).

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// CHEMPY's Frischknecht16 model selection: metallicity and model numbers for 15, 20, 25, 40 Msun.
struct frischknecht16_model_set {
  double metallicity;
  std::array<std::size_t, 4> models;  ///< 1-based model numbers
};

/// The three metallicities, ascending.
inline constexpr std::array<frischknecht16_model_set, 3> frischknecht16_models{{
    {1e-05, {6, 12, 18, 29}},
    {0.001, {4, 10, 16, 28}},
    {0.0134, {2, 8, 14, 27}},
}};

/// The initial masses [Msun] of the selected models.
inline constexpr std::array<double, 4> frischknecht16_masses{15., 20., 25., 40.};

/// Provenance of CHEMPY's `SN2_feedback.Frischknecht16_net` table.
inline provenance frischknecht16_provenance() {
  return {
      .loader = "Frischknecht16_net",
      .reference = "Frischknecht et al. 2016, MNRAS 456, 1803 (rotating models, pre-SN yields)",
      .doi = "10.1093/mnras/stv2723",
      .yield_kind = "net",
      .remnant_treatment = "Mrem column of the model table / M",
      .source_files = {},
      .notes =
          "CHEMPY's loader docstring says 'DO NOT USE!!'. Reproduces its loop-variable bug: "
          "u = 1 - (r + T) with T the total net yield in Msun (not divided by M) of the 40 Msun "
          "model only, T = 0 (u = 1 - r) for 15, 20, 25 Msun. Al-26 counted as Mg, Fe-60 as Co.",
  };
}

namespace detail {

/// CHEMPY's Frischknecht16 isotope map (elements H … Ge, isotopes in summation order).
inline const std::vector<element_species>& frischknecht16_species_map() {
  static const std::vector<element_species> map{
      {"H", {"p", "d"}},        {"He", {"he3", "he4"}},
      {"Li", {"li6", "li7"}},   {"Be", {"be9"}},
      {"B", {"b10", "b11"}},    {"C", {"c12", "c13"}},
      {"N", {"n14", "n15"}},    {"O", {"o16", "o17", "o18"}},
      {"F", {"f19"}},           {"Ne", {"ne20", "ne21", "ne22"}},
      {"Na", {"na23"}},         {"Mg", {"mg24", "mg25", "mg26", "al26"}},
      {"Al", {"al27"}},         {"Si", {"si28", "si29", "si30"}},
      {"P", {"p31"}},           {"S", {"s32", "s33", "s34", "s36"}},
      {"Cl", {"cl35", "cl37"}}, {"Ar", {"ar36", "ar38", "ar40"}},
      {"K", {"k39", "k41"}},    {"Ca", {"ca40", "ca42", "ca43", "ca44", "ca46", "ca48"}},
      {"Sc", {"sc45"}},         {"Ti", {"ti46", "ti47", "ti48", "ti49", "ti50"}},
      {"V", {"v50", "v51"}},    {"Cr", {"cr50", "cr52", "cr53", "cr54"}},
      {"Mn", {"mn55"}},         {"Fe", {"fe54", "fe56", "fe57", "fe58"}},
      {"Co", {"fe60", "co59"}}, {"Ni", {"ni58", "ni60", "ni61", "ni62", "ni64"}},
      {"Cu", {"cu63", "cu65"}}, {"Zn", {"zn64", "zn66", "zn67", "zn68", "zn70"}},
      {"Ga", {"ga69", "ga71"}}, {"Ge", {"ge70", "ge72", "ge73", "ge74", "ge76"}},
  };
  return map;
}

}  // namespace detail

/// Loads CHEMPY's `SN2_feedback.Frischknecht16_net` table from
/// `Frischknecht16/yields_total.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_frischknecht16_sn2(const std::filesystem::path& file) {
  using namespace detail;
  constexpr std::size_t n_models = 29;
  constexpr std::size_t first_model_line = 32;  // 1-based
  constexpr std::size_t first_yield_line = 63;  // 1-based (CHEMPY skips 62 lines)
  const auto lines = read_lines(file);
  if (lines.size() < first_yield_line) {
    throw file_error(file.string(), 0, "", "file ends before the yield rows (line 63)");
  }
  std::array<double, n_models> rem{};
  for (std::size_t k = 0; k < n_models; ++k) {
    const auto& ln = lines[first_model_line - 1 + k];
    const auto tok = split(ln.text);
    if (tok.size() < 7) {
      throw file_error(file.string(), ln.number, "Mrem",
                       "model row has fewer than 7 columns (nb name Mfinal Ma50 Ma75 Mco01 Mrem)");
    }
    const auto nb = parse_number<double>(tok[0], {&file, ln.number, "Mod nb"});
    if (nb != static_cast<double>(k + 1)) {
      throw file_error(file.string(), ln.number, "Mod nb",
                       "expected model number " + std::to_string(k + 1) + ", got " + tok[0]);
    }
    rem[k] = parse_number<double>(tok[6], {&file, ln.number, "Mrem"});
    require_nonnegative(rem[k], {&file, ln.number, "Mrem"});
  }
  struct iso_row {
    std::string name;
    std::array<double, n_models> y;
  };
  std::vector<iso_row> rows;
  for (std::size_t i = first_yield_line - 1; i < lines.size(); ++i) {
    const auto& ln = lines[i];
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != n_models + 1) {
      throw file_error(file.string(), ln.number, tok[0],
                       "wrong column count: expected an isotope name and 29 yields, got " +
                           std::to_string(tok.size()) + " columns");
    }
    iso_row r{tok[0], {}};
    for (std::size_t k = 0; k < n_models; ++k) {
      r.y[k] = parse_number<double>(tok[k + 1],
                                    {&file, ln.number, tok[0] + " model " + std::to_string(k + 1)});
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw file_error(file.string(), 0, "", "no isotope rows");
  const auto& map = frischknecht16_species_map();
  std::vector<metallicity_grid> grids;
  for (const auto& set : frischknecht16_models) {
    metallicity_grid g = zero_grid(set.metallicity, frischknecht16_masses.size(), map.size());
    for (std::size_t j = 0; j < frischknecht16_masses.size(); ++j) {
      const double mass = frischknecht16_masses[j];
      const std::size_t model = set.models[j] - 1;
      if (rem[model] > mass) {
        throw file_error(file.string(), first_model_line + model, "Mrem",
                         "remnant mass exceeds the initial mass " + shortest_repr(mass));
      }
      g.mass(j) = mass;
      g.mass_in_remnants(j) = rem[model] / mass;
      for (std::size_t e = 0; e < map.size(); ++e) {
        double sum = 0.0;
        for (const char* iso : map[e].species) {
          for (const auto& r : rows) {
            if (r.name == iso) sum += r.y[model];
          }
        }
        g.net_yield(j, e) = sum / mass;
      }
      double total = 0.0;  // CHEMPY's bug: only the last (40 Msun) model gets its total
      if (j + 1 == frischknecht16_masses.size()) {
        std::vector<double> col;
        col.reserve(rows.size());
        for (const auto& r : rows) col.push_back(r.y[model]);
        total = numpy_pairwise_sum(col.data(), col.size());
      }
      g.unprocessed_mass_in_winds(j) = 1.0 - (g.mass_in_remnants(j) + total);
    }
    grids.push_back(std::move(g));
  }
  provenance p = frischknecht16_provenance();
  p.source_files = {source_name(file)};
  return yield_table(channel::sn2, std::move(p), species_map_elements(map), std::move(grids));
}

}  // namespace chempp::yields
