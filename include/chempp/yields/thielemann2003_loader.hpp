// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Thielemann et al. (2003) SN Ia yields as compiled by Travaglio et al. (2004),
/// CHEMPY's `SN1a_feedback.Thielemann` (`input/yields/Thielemann2003/0.02.txt`).
///
/// Format: a whitespace table with the header `Mass mass_in_remnants <element symbols…>` and one
/// row per model (the file has one): total ejected mass [Msun], `mass_in_remnants` (= −Mass, the
/// SN Ia convention of CHEMPY) and the ejected mass of each element [Msun]. CHEMPY stores
/// y_X = ejecta_X / 1.37409 (its hard-coded mass, equal to the file's Mass column); we divide by
/// the file's Mass column. One metallicity, keyed 0.02.

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Provenance of CHEMPY's `SN1a_feedback.Thielemann` table.
inline provenance thielemann2003_provenance() {
  provenance p;
  p.loader = "Thielemann";
  p.reference =
      "Thielemann et al. 2003, in From Twilight to Highlight: The Physics of Supernovae "
      "(ESO/MPA/MPE Workshop), p. 331 (W7-type model), as tabulated in Travaglio et al. 2004, "
      "A&A 425, 1029";
  p.doi = "";
  p.yield_kind = "gross";
  p.remnant_treatment = "no remnant: mass_in_remnants = -Mass [Msun] as given in the file";
  p.notes =
      "One metallicity keyed 0.02; y = ejected mass / Mass (CHEMPY divides by its hard-coded "
      "1.37409, equal to the file's Mass). CHEMPY's SN Ia table has no unprocessed_mass_in_winds "
      "column; it is stored as zeros. Nearly the same data as the TNG SN Ia table "
      "(Fe 0.769 vs 0.743 Msun).";
  return p;
}

/// Loads CHEMPY's `SN1a_feedback.Thielemann` table from `Thielemann2003/0.02.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_thielemann2003_sn1a(const std::filesystem::path& file) {
  using namespace detail;
  const auto lines = read_lines(file);
  std::vector<std::string> header;
  std::size_t header_line = 0;
  std::vector<std::pair<std::size_t, std::vector<std::string>>> rows;
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    auto tok = split(ln.text);
    if (header.empty()) {
      header = std::move(tok);
      header_line = ln.number;
    } else {
      rows.emplace_back(ln.number, std::move(tok));
    }
  }
  if (header.size() < 3 || header[0] != "Mass" || header[1] != "mass_in_remnants") {
    throw file_error(file.string(), header_line, "header",
                     "malformed header: expected 'Mass mass_in_remnants <elements…>'");
  }
  std::vector<element> elements;
  for (std::size_t c = 2; c < header.size(); ++c) {
    const element e = element_from_symbol(
        header[c], {&file, header_line, "header column " + std::to_string(c + 1)});
    for (const auto& o : elements) {
      if (o == e) {
        throw file_error(file.string(), header_line, header[c], "element listed twice");
      }
    }
    elements.push_back(e);
  }
  if (rows.size() != 1) {
    throw file_error(
        file.string(), rows.empty() ? 0 : rows[1].first, "",
        "expected exactly one data row (one SN Ia model), got " + std::to_string(rows.size()));
  }
  const auto& [line, tok] = rows[0];
  if (tok.size() != header.size()) {
    throw file_error(file.string(), line, "",
                     "wrong column count: header has " + std::to_string(header.size()) +
                         " columns, row has " + std::to_string(tok.size()));
  }
  const auto mass = parse_number<double>(tok[0], {&file, line, "Mass"});
  require_positive(mass, {&file, line, "Mass"});
  const auto remnant = parse_number<double>(tok[1], {&file, line, "mass_in_remnants"});
  metallicity_grid g;
  g.metallicity = 0.02;
  g.mass = xt::xtensor<double, 1>({mass});
  g.mass_in_remnants = xt::xtensor<double, 1>({remnant});
  g.unprocessed_mass_in_winds = xt::zeros<double>({std::size_t{1}});
  g.net_yield = xt::zeros<double>({std::size_t{1}, elements.size()});
  for (std::size_t c = 2; c < tok.size(); ++c) {
    const field_ref at{&file, line, header[c]};
    const auto ej = parse_number<double>(tok[c], at);
    require_nonnegative(ej, at);
    g.net_yield(0, c - 2) = ej / mass;
  }
  provenance p = thielemann2003_provenance();
  p.source_files = {source_name(file)};
  std::vector<metallicity_grid> grids;
  grids.push_back(std::move(g));
  return yield_table(channel::sn1a, std::move(p), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields
