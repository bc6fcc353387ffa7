// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Internal helpers shared by the loaders whose raw files are whitespace tables with one header
/// line of column names (Thielemann 2003, Seitenzahl 2013, Portinari 1998, Ventura 2013,
/// Iwamoto 1999, Karakas 2010 …), plus the single-row SN Ia table builder and the summation of
/// species (isotope) columns into elements. Not part of the public API.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields::detail {

/// A whitespace table: column names from a header line and numeric rows.
struct column_table {
  std::filesystem::path file;
  std::size_t header_line = 0;
  std::vector<std::string> names;  ///< all column names (a label column included)
  struct row {
    std::size_t line = 0;
    std::string label;           ///< first token when the table is labelled, else empty
    std::vector<double> values;  ///< the numeric columns (after the label, if any)
  };
  std::vector<row> rows;
  bool labelled = false;

  /// Index into `row::values` of the column called `name`.
  /// \throws file_error naming the header line when the column is absent.
  [[nodiscard]] std::size_t value_index(const std::string& name) const {
    for (std::size_t c = labelled ? 1 : 0; c < names.size(); ++c) {
      if (names[c] == name) return labelled ? c - 1 : c;
    }
    throw file_error(file.string(), header_line, name, "missing column '" + name + "' in header");
  }
};

/// How the header line of a column table is found.
enum class header_style {
  first_line,  ///< the first non-blank, non-comment line holds the names
  comment,     ///< the first line starting with '#' holds the names (the '#' is dropped)
};

/// Reads a whitespace table. Every data row must have as many columns as the header; numbers are
/// parsed as doubles with the column name as field.
/// \param labelled the first column holds text labels (e.g. isotope names), not numbers.
/// \param skip_lines leading lines ignored before looking for the header (free text).
/// \throws file_error naming file, line and field on missing or malformed input.
inline column_table read_column_table(const std::filesystem::path& file, header_style style,
                                      bool labelled = false, std::size_t skip_lines = 0) {
  column_table t;
  t.file = file;
  t.labelled = labelled;
  const auto lines = read_lines(file);
  for (const auto& ln : lines) {
    if (ln.number <= skip_lines) continue;
    if (t.names.empty()) {
      if (style == header_style::comment) {
        auto tok = split(ln.text);
        if (tok.empty() || tok[0].front() != '#') continue;
        tok[0].erase(0, 1);
        if (tok[0].empty()) tok.erase(tok.begin());
        t.names = std::move(tok);
      } else {
        if (is_comment_or_blank(ln.text)) continue;
        t.names = split(ln.text);
      }
      t.header_line = ln.number;
      if (t.names.empty()) throw file_error(file.string(), ln.number, "header", "empty header");
      continue;
    }
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != t.names.size()) {
      throw file_error(file.string(), ln.number, "",
                       "wrong column count: header has " + std::to_string(t.names.size()) +
                           " columns, row has " + std::to_string(tok.size()));
    }
    column_table::row r;
    r.line = ln.number;
    std::size_t c = 0;
    if (labelled) r.label = tok[c++];
    for (; c < tok.size(); ++c) {
      const std::string field = labelled ? r.label + " " + t.names[c] : t.names[c];
      r.values.push_back(parse_number<double>(tok[c], {&file, ln.number, field}));
    }
    t.rows.push_back(std::move(r));
  }
  if (t.names.empty()) throw file_error(file.string(), 0, "header", "no header line");
  return t;
}

/// One element and the species (isotope) columns or rows summed into it, in summation order.
struct element_species {
  const char* symbol;
  std::vector<const char*> species;
};

/// Elements of a species map, in map order.
inline std::vector<element> species_map_elements(const std::vector<element_species>& map) {
  std::vector<element> out;
  out.reserve(map.size());
  for (const auto& es : map) out.emplace_back(std::string_view(es.symbol));
  return out;
}

/// Builds CHEMPY's single-row SN Ia table from a file with header
/// `Mass mass_in_remnants <element symbols…>` and one data row of ejected masses [Msun]
/// (Thielemann 2003, Seitenzahl 2013): y_X = ejecta_X / Mass, `mass_in_remnants` copied,
/// one metallicity keyed 0.02, no unprocessed_mass_in_winds column (stored as zeros).
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_single_row_sn1a(const std::filesystem::path& file, provenance prov) {
  const column_table t = read_column_table(file, header_style::first_line);
  const auto& header = t.names;
  if (header.size() < 3 || header[0] != "Mass" || header[1] != "mass_in_remnants") {
    throw file_error(file.string(), t.header_line, "header",
                     "malformed header: expected 'Mass mass_in_remnants <elements…>'");
  }
  std::vector<element> elements;
  for (std::size_t c = 2; c < header.size(); ++c) {
    const element e = element_from_symbol(
        header[c], {&file, t.header_line, "header column " + std::to_string(c + 1)});
    for (const auto& o : elements) {
      if (o == e) {
        throw file_error(file.string(), t.header_line, header[c], "element listed twice");
      }
    }
    elements.push_back(e);
  }
  if (t.rows.size() != 1) {
    throw file_error(
        file.string(), t.rows.empty() ? 0 : t.rows[1].line, "",
        "expected exactly one data row (one SN Ia model), got " + std::to_string(t.rows.size()));
  }
  const auto& row = t.rows[0];
  const double mass = row.values[0];
  require_positive(mass, {&file, row.line, "Mass"});
  metallicity_grid g;
  g.metallicity = 0.02;
  g.mass = xt::xtensor<double, 1>({mass});
  g.mass_in_remnants = xt::xtensor<double, 1>({row.values[1]});
  g.unprocessed_mass_in_winds = xt::zeros<double>({std::size_t{1}});
  g.net_yield = xt::zeros<double>({std::size_t{1}, elements.size()});
  for (std::size_t c = 2; c < row.values.size(); ++c) {
    const double ej = row.values[c];
    require_nonnegative(ej, {&file, row.line, header[c]});
    g.net_yield(0, c - 2) = ej / mass;
  }
  prov.source_files = {source_name(file)};
  std::vector<metallicity_grid> grids;
  grids.push_back(std::move(g));
  return yield_table(channel::sn1a, std::move(prov), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields::detail
