// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loaders for the Chieffi & Limongi (2004, ApJ 608, 405) core-collapse yields, reproducing
/// CHEMPY's `SN2_feedback.chieffi04` (gross) and `SN2_feedback.chieffi04_net`.
///
/// `Chieffi04/yields.dat`: 9 whitespace columns — metallicity, time after explosion, species,
/// ejected mass [Msun] for 13 15 20 25 30 35 Msun. Six metallicity blocks in ascending order
/// (0, 1E-6, 1E-4, 1E-3, 6E-3, 2E-2); only rows with time = 0 are used. In each block the first
/// three rows are `0ejec` (total ejecta, unused), `0remn` (remnant mass) and `56Ni` (unused);
/// the rest are isotopes `<A><Symbol>` (`1H`, `16O`, …). CHEMPY's arithmetic:
///  * elements = all isotope symbols, sorted alphabetically (table column order);
///  * r = remn/M; y_X = Σ over X's isotope rows (file order) of isotope/M (gross ejecta);
///  * u = 1 − S with S = Σ_X y_X (alphabetical order) + r, left to right from 0.
/// `chieffi04_net` parses `yields.dat` the same way (elements, metallicities), then reads the
/// pre-computed net tables `chieffi_net_met_ind_<i>.npy` verbatim (i = 0 … 5 ↔ ascending Z).
/// CHEMPY also requires a file `Chieffi04/chieffi04_yields` to exist (content unused); not here.

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/npy.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// The initial masses [Msun] of the six ejecta columns of `yields.dat`.
inline constexpr std::array<double, 6> chieffi04_masses{13., 15., 20., 25., 30., 35.};

/// Provenance of CHEMPY's `SN2_feedback.chieffi04` (gross) or `chieffi04_net` table.
inline provenance chieffi04_provenance(bool net) {
  return {
      .loader = net ? "chieffi04_net" : "chieffi04",
      .reference = "Chieffi & Limongi 2004, ApJ 608, 405",
      .doi = "10.1086/392523",
      .yield_kind = net ? "net" : "gross",
      .remnant_treatment = net ? "pre-computed by the CHEMPY authors (equal to remn/M of chieffi04)"
                               : "remn/M from the table's '0remn' row",
      .source_files = {},
      .notes = net ? "Net tables pre-computed by the CHEMPY authors (according to the data README "
                     "net with respect to a scaled Anders & Grevesse 1989 composition) read "
                     "verbatim from chieffi_net_met_ind_<i>.npy; yields.dat is parsed for the "
                     "element and metallicity lists. Elements in alphabetical order."
                   : "Isotopes summed per element (time = 0 rows), y = gross ejecta / M; "
                     "u = 1 - (sum(y) + r) is the ejected mass the isotope rows do not list "
                     "(about 0.01). Elements in alphabetical order, as in CHEMPY.",
  };
}

namespace detail {

/// One metallicity block of `yields.dat` (time = 0 rows).
struct chieffi04_block {
  double metallicity;
  std::size_t line;                                                     // first row
  std::array<double, 6> remnant;                                        // Msun
  std::vector<std::pair<std::string, std::array<double, 6>>> isotopes;  // symbol, ejecta
};

/// Element symbol of a Chieffi isotope label `<A><Symbol>` ("16O" → "O").
inline std::string chieffi04_symbol(const std::string& label, const field_ref& at) {
  std::size_t i = 0;
  while (i < label.size() && std::isdigit(static_cast<unsigned char>(label[i])) != 0) ++i;
  if (i == 0 || i == label.size()) {
    throw file_error(at.file->string(), at.line, at.field,
                     "malformed isotope label '" + label + "'");
  }
  return std::string(element_from_symbol(label.substr(i), at).symbol());
}

/// Parses `yields.dat` into its metallicity blocks (file order, must be ascending).
inline std::vector<chieffi04_block> read_chieffi04(const std::filesystem::path& file) {
  const auto lines = read_lines(file);
  std::vector<chieffi04_block> blocks;
  std::size_t row_in_block = 0;
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != 9) {
      throw file_error(file.string(), ln.number, "",
                       "wrong column count: expected 9 (Z, time, species, 6 masses), got " +
                           std::to_string(tok.size()));
    }
    const auto z = parse_number<double>(tok[0], {&file, ln.number, tok[2] + " metallicity"});
    require_nonnegative(z, {&file, ln.number, tok[2] + " metallicity"});
    const auto time = parse_number<double>(tok[1], {&file, ln.number, tok[2] + " time"});
    std::array<double, 6> v{};
    for (std::size_t k = 0; k < 6; ++k) {
      const field_ref at{&file, ln.number,
                         tok[2] + " at M = " + shortest_repr(chieffi04_masses[k])};
      v[k] = parse_number<double>(tok[3 + k], at);
      require_nonnegative(v[k], at);
    }
    if (time != 0.0) continue;
    if (blocks.empty() || z != blocks.back().metallicity) {
      if (!blocks.empty() && !(z > blocks.back().metallicity)) {
        throw file_error(file.string(), ln.number, tok[2] + " metallicity",
                         "metallicity blocks must be in ascending order");
      }
      blocks.push_back({z, ln.number, {}, {}});
      row_in_block = 0;
    }
    auto& b = blocks.back();
    static const std::array<const char*, 3> leading{"0ejec", "0remn", "56Ni"};
    if (row_in_block < leading.size()) {
      if (tok[2] != leading[row_in_block]) {
        throw file_error(file.string(), ln.number, tok[2],
                         std::string("expected row '") + leading[row_in_block] +
                             "' at this position of the metallicity block");
      }
      if (row_in_block == 1) {
        for (std::size_t k = 0; k < 6; ++k) {
          if (v[k] > chieffi04_masses[k]) {
            throw file_error(file.string(), ln.number,
                             "0remn at M = " + shortest_repr(chieffi04_masses[k]),
                             "remnant mass exceeds the initial mass");
          }
        }
        b.remnant = v;
      }
    } else {
      b.isotopes.emplace_back(chieffi04_symbol(tok[2], {&file, ln.number, tok[2]}), v);
    }
    ++row_in_block;
  }
  if (blocks.empty()) throw file_error(file.string(), 0, "", "no time = 0 rows");
  for (const auto& b : blocks) {
    if (b.isotopes.empty()) {
      throw file_error(file.string(), b.line, "", "metallicity block without isotope rows");
    }
  }
  return blocks;
}

/// Alphabetically sorted element symbols of all blocks.
inline std::vector<std::string> chieffi04_symbols(const std::vector<chieffi04_block>& blocks) {
  std::vector<std::string> s;
  for (const auto& b : blocks) {
    for (const auto& [sym, v] : b.isotopes) s.push_back(sym);
  }
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

inline std::vector<element> to_elements(const std::vector<std::string>& symbols) {
  std::vector<element> out;
  for (const auto& s : symbols) out.emplace_back(std::string_view(s));
  return out;
}

}  // namespace detail

/// Loads CHEMPY's `SN2_feedback.chieffi04` (gross) table from `Chieffi04/yields.dat`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_chieffi04_sn2(const std::filesystem::path& file) {
  using namespace detail;
  const auto blocks = read_chieffi04(file);
  const auto symbols = chieffi04_symbols(blocks);
  const std::size_t nm = chieffi04_masses.size();
  std::vector<metallicity_grid> grids;
  for (const auto& b : blocks) {
    metallicity_grid g = zero_grid(b.metallicity, nm, symbols.size());
    for (std::size_t k = 0; k < nm; ++k) {
      const double mass = chieffi04_masses[k];
      g.mass(k) = mass;
      g.mass_in_remnants(k) = b.remnant[k] / mass;
      for (std::size_t e = 0; e < symbols.size(); ++e) {
        double y = 0.0;
        for (const auto& [sym, v] : b.isotopes) {
          if (sym == symbols[e]) y += v[k] / mass;
        }
        g.net_yield(k, e) = y;
      }
      g.unprocessed_mass_in_winds(k) = 1.0 - (yield_sum(g, k) + g.mass_in_remnants(k));
    }
    grids.push_back(std::move(g));
  }
  provenance p = chieffi04_provenance(false);
  p.source_files = {source_name(file)};
  return yield_table(channel::sn2, std::move(p), to_elements(symbols), std::move(grids));
}

/// Loads CHEMPY's `SN2_feedback.chieffi04_net` table from the `Chieffi04/` folder
/// (`yields.dat` and `chieffi_net_met_ind_0.npy` … `_5.npy`).
/// \throws file_error naming file, line and field on missing or malformed input, or when the
///         npy tables' elements differ from those of `yields.dat`.
inline yield_table load_chieffi04_net_sn2(const std::filesystem::path& dir) {
  using namespace detail;
  const auto dat = dir / "yields.dat";
  const auto blocks = read_chieffi04(dat);
  std::vector<double> zs;
  for (const auto& b : blocks) zs.push_back(b.metallicity);
  provenance p = chieffi04_provenance(true);
  p.source_files = {source_name(dat)};
  auto t = load_npy_tables(channel::sn2, std::move(p), dir, "chieffi_net_met_ind_", zs);
  if (t.elements() != to_elements(chieffi04_symbols(blocks))) {
    throw file_error((dir / "chieffi_net_met_ind_0.npy").string(), 0, "descr",
                     "element fields differ from the elements of yields.dat");
  }
  return t;
}

}  // namespace chempp::yields
