// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loaders for the Karakas (2010, MNRAS 403, 1413) AGB yields, reproducing CHEMPY's
/// `AGB_feedback.Karakas` (gross) and `AGB_feedback.Karakas_net_yield` (net).
///
/// Files `Karakas2010/tablea2.dat` (Z = 0.02), `tablea3.dat` (0.008), `tablea4.dat` (0.004),
/// `tablea5.dat` (0.0001): whitespace rows `M Z M_final species A` followed by six numbers:
/// net yield [Msun], ejected mass of the species [Msun], initial mass of the species in the
/// ejecta [Msun], mean wind mass fraction, initial mass fraction, production factor. Each model is
/// a block of 77 species rows; the blocks are in ascending mass order. CHEMPY's arithmetic:
///  * `tablea5.dat` holds two 6.0 Msun blocks; the last 77 rows (the second one, M_final 1.006)
///    are dropped;
///  * species are summed per element (19 elements, CHEMPY's map below, neutrons counted as H,
///    ground and isomeric Al-26 as Mg and Al), y_X = Σ species [Msun] / M;
///  * remnant fraction r = M_final / M;
///  * `Karakas` uses the ejected masses (gross) and has no unprocessed_mass_in_winds column
///    (stored as zeros); `Karakas_net_yield` uses the net yields and u = 1 − (r + Σ_X y_X);
///  * masses are stored descending.

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

/// Provenance of CHEMPY's `AGB_feedback.Karakas` (gross) or `Karakas_net_yield` (net) table.
inline provenance karakas2010_provenance(bool net) {
  return {
      .loader = net ? "Karakas_net_yield" : "Karakas",
      .reference = "Karakas 2010, MNRAS 403, 1413",
      .doi = "10.1111/j.1365-2966.2009.16198.x",
      .yield_kind = net ? "net" : "gross",
      .remnant_treatment = "M_final/M from the table's final-mass column",
      .source_files = {},
      .notes =
          std::string(net ? "y = net yield / M, u = 1 - (r + sum(y)). "
                          : "y = ejected mass / M (gross); CHEMPY's table has no "
                            "unprocessed_mass_in_winds column, stored as zeros. ") +
          "Species summed per element with CHEMPY's map (19 elements H ... Ni; n counted as H, "
          "al-6/al*6 as Mg/Al). The second 6.0 Msun block of tablea5.dat (last 77 rows) is "
          "dropped, as in CHEMPY. Masses stored descending.",
  };
}

namespace detail {

/// CHEMPY's Karakas 2010 species map (elements in table order, species in summation order).
inline const std::vector<element_species>& karakas2010_species_map() {
  static const std::vector<element_species> map{
      {"H", {"n", "p", "d"}},
      {"He", {"he3", "he4"}},
      {"Li", {"li7", "be7", "b8"}},
      {"C", {"c12", "c13", "n13"}},
      {"N", {"n14", "n15", "c14", "o14", "o15"}},
      {"O", {"o16", "o17", "o18", "f17", "f18"}},
      {"F", {"ne19", "f19", "o19"}},
      {"Ne", {"ne20", "ne21", "ne22", "f20", "na21", "na22"}},
      {"Na", {"na23", "ne23", "mg23"}},
      {"Mg", {"mg24", "mg25", "mg26", "al-6", "na24", "al25"}},
      {"Al", {"mg27", "al*6", "al27", "si27"}},
      {"Si", {"al28", "si28", "si29", "si30", "p29", "p30"}},
      {"P", {"si31", "si32", "si33", "p31"}},
      {"S", {"s32", "s33", "s34", "p32", "p33", "p34"}},
      {"Cl", {"s35"}},
      {"Mn", {"fe55"}},
      {"Fe", {"fe54", "fe56", "fe57", "fe58"}},
      {"Co", {"ni59", "fe59", "co59"}},
      {"Ni", {"ni58", "ni60", "ni61", "ni62", "co60", "co61", "fe60", "fe61"}},
  };
  return map;
}

/// One Karakas 2010 table file and the metallicity CHEMPY keys it under.
struct karakas2010_file {
  const char* name;
  double metallicity;
  std::size_t dropped_trailing_rows;  ///< CHEMPY drops the last 77 rows of tablea5.dat
};

/// The four files in ascending metallicity.
inline constexpr std::array<karakas2010_file, 4> karakas2010_files{{
    {"tablea5.dat", 0.0001, 77},
    {"tablea4.dat", 0.004, 0},
    {"tablea3.dat", 0.008, 0},
    {"tablea2.dat", 0.02, 0},
}};

/// One species row of a Karakas 2010 table.
struct karakas2010_row {
  std::size_t line;
  double mass;
  double final_mass;
  std::string species;
  double value;  // net yield or ejected mass [Msun]
};

/// Builds one metallicity grid (descending masses) from a Karakas 2010 table file.
inline metallicity_grid load_karakas2010_grid(const std::filesystem::path& file,
                                              const karakas2010_file& spec, bool net) {
  const auto lines = read_lines(file);
  std::vector<karakas2010_row> rows;
  const std::size_t value_column = net ? 5 : 6;  // 0-based: net yield, ejected mass
  const char* value_name = net ? " net yield" : " ejected mass";
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != 11) {
      throw file_error(file.string(), ln.number, "",
                       "wrong column count: expected 11 (M Z M_final species A + 6 numbers), got " +
                           std::to_string(tok.size()));
    }
    const std::string& sp = tok[3];
    karakas2010_row r{ln.number, 0.0, 0.0, sp, 0.0};
    r.mass = parse_number<double>(tok[0], {&file, ln.number, sp + " M"});
    require_positive(r.mass, {&file, ln.number, sp + " M"});
    const auto z = parse_number<double>(tok[1], {&file, ln.number, sp + " Z"});
    if (z != spec.metallicity) {
      throw file_error(file.string(), ln.number, sp + " Z",
                       "metallicity " + tok[1] + " differs from the file's key " +
                           chempp::detail::format_value(spec.metallicity));
    }
    r.final_mass = parse_number<double>(tok[2], {&file, ln.number, sp + " M_final"});
    require_nonnegative(r.final_mass, {&file, ln.number, sp + " M_final"});
    for (std::size_t c = 4; c < 11; ++c) {
      const double v = parse_number<double>(
          tok[c], {&file, ln.number,
                   sp + (c == value_column ? value_name : " column " + std::to_string(c + 1))});
      if (c == value_column) r.value = v;
    }
    rows.push_back(std::move(r));
  }
  if (rows.size() < spec.dropped_trailing_rows) {
    throw file_error(file.string(), 0, "", "fewer rows than CHEMPY drops at the end");
  }
  rows.resize(rows.size() - spec.dropped_trailing_rows);
  // blocks of consecutive rows with the same initial mass
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // [first, last)
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i == 0 || rows[i].mass != rows[i - 1].mass) {
      if (!blocks.empty() && !(rows[i].mass > rows[i - 1].mass)) {
        throw file_error(file.string(), rows[i].line, rows[i].species + " M",
                         "model masses must increase from block to block");
      }
      blocks.emplace_back(i, i);
    }
    if (rows[i].final_mass != rows[blocks.back().first].final_mass) {
      throw file_error(file.string(), rows[i].line, rows[i].species + " M_final",
                       "final mass differs within the block starting on line " +
                           std::to_string(rows[blocks.back().first].line));
    }
    blocks.back().second = i + 1;
  }
  if (blocks.empty()) throw file_error(file.string(), 0, "", "no data rows");
  const auto& map = karakas2010_species_map();
  metallicity_grid g = zero_grid(spec.metallicity, blocks.size(), map.size());
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const auto [first, last] = blocks[b];
    const double mass = rows[first].mass;
    const double final_mass = rows[first].final_mass;
    if (final_mass > mass) {
      throw file_error(file.string(), rows[first].line, rows[first].species + " M_final",
                       "final mass exceeds the initial mass");
    }
    g.mass(b) = mass;
    g.mass_in_remnants(b) = final_mass / mass;
    for (std::size_t e = 0; e < map.size(); ++e) {
      double sum = 0.0;
      for (const char* sp : map[e].species) {
        std::size_t found = last;
        for (std::size_t i = first; i < last; ++i) {
          if (rows[i].species != sp) continue;
          if (found != last) {
            throw file_error(file.string(), rows[i].line, sp,
                             "species listed twice in the block (first on line " +
                                 std::to_string(rows[found].line) + ")");
          }
          found = i;
        }
        if (found == last) {
          throw file_error(file.string(), rows[first].line, sp,
                           "species missing from the block of M = " +
                               chempp::detail::format_value(mass) + " Msun");
        }
        sum += rows[found].value;
      }
      g.net_yield(b, e) = sum / mass;
    }
  }
  if (net) close_with_unprocessed(g);
  reverse_masses(g);
  return g;
}

/// Shared body of the two Karakas 2010 loaders.
inline yield_table load_karakas2010(const std::filesystem::path& dir, bool net) {
  provenance p = karakas2010_provenance(net);
  std::vector<metallicity_grid> grids;
  for (const auto& spec : karakas2010_files) {
    const auto file = dir / spec.name;
    grids.push_back(load_karakas2010_grid(file, spec, net));
    p.source_files.push_back(source_name(file));
  }
  return yield_table(channel::agb, std::move(p), species_map_elements(karakas2010_species_map()),
                     std::move(grids));
}

}  // namespace detail

/// Loads CHEMPY's `AGB_feedback.Karakas` (gross) table from the `Karakas2010/` folder.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_karakas2010_agb(const std::filesystem::path& dir) {
  return detail::load_karakas2010(dir, false);
}

/// Loads CHEMPY's `AGB_feedback.Karakas_net_yield` table from the `Karakas2010/` folder.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_karakas2010_net_agb(const std::filesystem::path& dir) {
  return detail::load_karakas2010(dir, true);
}

}  // namespace chempp::yields
