// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loaders for the NuGrid set 1 element tables (Pignatari et al. 2016, ApJS 225, 24) under
/// `NuGrid_AGB_SNII_2013/`, reproducing CHEMPY's `AGB_feedback.Nugrid` and
/// `SN2_feedback.OldNugrid`.
///
/// Format (`set1p2/element_table_set1.2_yields_{winds,exp}.txt` for Z = 0.02, `set1p1/…set1.1…`
/// for Z = 0.01): two text lines, then a LaTeX-like header `& specie & 1.65 Msun & … & \\`, then
/// one row per element `& H & 6.848E-01 & … & \\` with ejected masses [Msun]. Wind columns are
/// named `<M> Msun`, explosive columns `<M> Msun delay` / `<M> Msun rapid`. CHEMPY's arithmetic:
///  * `Nugrid` (AGB): the 1.65, 2, 3, 5 Msun wind columns; y_X = wind/M (gross);
///    r = 1 − Σ_X y_X; no unprocessed_mass_in_winds column (stored as zeros); masses stored
///    descending (5, 3, 2, 1.65);
///  * `OldNugrid` (SN II): ejecta = explosive `<M> Msun delay` + wind `<M> Msun` for
///    M = 15 20 25 32 60 (Z = 0.02) and 15 20 25 (Z = 0.01); y_X = ejecta/M (gross);
///    r = 1 − Σ_X y_X; no u column (zeros); masses ascending.
/// The element list (80 symbols, file order) is that of the Z = 0.02 file; Z = 0.01 rows are
/// matched by symbol.
///
/// Also CHEMPY's `SN2_feedback.NuGrid_net`, from the NuGrid set 1 extension (Ritter et al. 2018)
/// file `NuGrid/H NuGrid yields delay_total.txt`: blocks headed `H Table: (M=<M>,Z=<Z>)`, then
/// `H Lifetime`, `H Mfinal`, `&Isotopes &Yields &X0 &Z` and element rows `&El &yield &X0 &Z`
/// (total wind + explosive ejecta [Msun], initial mass fraction). For Z = 0.02 0.01 0.006 0.001
/// 0.0001 and M = 12 15 20 25: r = M_rem/M with CHEMPY's **hard-coded** remnant masses (not the
/// file's Mfinal); y_X = (yield − X0·(M − M_rem))/M; u = (1 − r) − Σ_X y_X. Elements: the 80 rows
/// of the (Z = 0.02, M = 12) block in file order (Pb after P, as in the file).

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Provenance of CHEMPY's `AGB_feedback.Nugrid` table.
inline provenance nugrid_agb_provenance() {
  return {
      .loader = "Nugrid",
      .reference = "Pignatari et al. 2016, ApJS 225, 24 (NuGrid set 1, stellar winds)",
      .doi = "10.3847/0067-0049/225/2/24",
      .yield_kind = "gross",
      .remnant_treatment = "1 - sum of the element yields per unit mass",
      .source_files = {},
      .notes =
          "Wind yields of the 1.65, 2, 3, 5 Msun models, y = wind ejecta / M. CHEMPY's table has "
          "no "
          "unprocessed_mass_in_winds column; stored as zeros. Masses stored descending.",
  };
}

/// Provenance of CHEMPY's `SN2_feedback.OldNugrid` table.
inline provenance old_nugrid_sn2_provenance() {
  return {
      .loader = "OldNugrid",
      .reference = "Pignatari et al. 2016, ApJS 225, 24 (NuGrid set 1, winds + delay explosions)",
      .doi = "10.3847/0067-0049/225/2/24",
      .yield_kind = "gross",
      .remnant_treatment = "1 - sum of the element yields per unit mass",
      .source_files = {},
      .notes =
          "Ejecta = explosive 'delay' + wind yields; Z = 0.02 has 15 20 25 32 60 Msun, Z = 0.01 "
          "only "
          "15 20 25 Msun. CHEMPY's table has no unprocessed_mass_in_winds column; stored as zeros. "
          "The loader docstring notes that the remnants disagree with the paper's remnant masses.",
  };
}

/// Provenance of CHEMPY's `SN2_feedback.NuGrid_net` table.
inline provenance nugrid_net_sn2_provenance() {
  return {
      .loader = "NuGrid_net",
      .reference =
          "Ritter et al. 2018, MNRAS 480, 538 (NuGrid set 1 extension, Fryer 2012 delay "
          "explosions)",
      .doi = "10.1093/mnras/sty1729",
      .yield_kind = "net",
      .remnant_treatment =
          "hard-coded remnant masses of CHEMPY's yields.py (delay set) divided by M, not the "
          "file's Mfinal",
      .source_files = {},
      .notes =
          "Net yield y = (total yield - X0 (M - M_rem)) / M from the file's initial mass fractions "
          "X0; u = (1 - r) - sum(y). Element order of the file (Pb after P). CHEMPY's unused "
          "'rapid' "
          "variant is not loaded.",
  };
}

/// The NuGrid_net model grid: metallicity, masses [Msun], CHEMPY's remnant masses [Msun].
struct nugrid_net_model {
  double metallicity;
  std::array<double, 4> remnants;  ///< for M = 12, 15, 20, 25 Msun
};

/// CHEMPY's hard-coded remnant masses (delay explosions), ascending Z.
inline constexpr std::array<nugrid_net_model, 5> nugrid_net_models{{
    {0.0001, {1.62, 1.62, 2.82, 6.38}},
    {0.001, {1.62, 1.62, 2.81, 6.35}},
    {0.006, {1.62, 1.62, 2.79, 6.18}},
    {0.01, {1.61, 1.61, 2.77, 6.05}},
    {0.02, {1.61, 1.61, 2.73, 5.71}},
}};

/// The NuGrid_net initial masses [Msun].
inline constexpr std::array<double, 4> nugrid_net_masses{12., 15., 20., 25.};

namespace detail {

/// One `H Table: (M=…,Z=…)` block of the NuGrid set 1 extension file.
struct nugrid_net_block {
  std::size_t line;
  double mass;
  double metallicity;
  struct row {
    std::size_t line;
    element el;
    double yield;  // Msun
    double x0;     // initial mass fraction
  };
  std::vector<row> rows;
};

/// Parses all blocks of `H NuGrid yields delay_total.txt`.
inline std::vector<nugrid_net_block> read_nugrid_net(const std::filesystem::path& file) {
  const auto lines = read_lines(file);
  std::vector<nugrid_net_block> blocks;
  for (const auto& ln : lines) {
    if (ln.text.empty()) continue;
    if (ln.text.rfind("H Table:", 0) == 0) {
      const auto m = ln.text.find("(M=");
      const auto c = ln.text.find(",Z=");
      const auto e = ln.text.find(')');
      if (m == std::string::npos || c == std::string::npos || e == std::string::npos || c < m ||
          e < c) {
        throw file_error(file.string(), ln.number, "Table",
                         "malformed block header: expected 'H Table: (M=<M>,Z=<Z>)'");
      }
      nugrid_net_block b{ln.number, 0.0, 0.0, {}};
      b.mass = parse_number<double>(ln.text.substr(m + 3, c - m - 3), {&file, ln.number, "M"});
      b.metallicity =
          parse_number<double>(ln.text.substr(c + 3, e - c - 3), {&file, ln.number, "Z"});
      blocks.push_back(std::move(b));
      continue;
    }
    if (ln.text[0] == 'H' || ln.text.rfind("&Isotopes", 0) == 0) continue;  // H lines, headers
    if (ln.text[0] != '&') {
      throw file_error(file.string(), ln.number, "", "malformed row: expected '&El &yield &X0 &Z'");
    }
    auto tok = split(ln.text);
    for (auto& t : tok) {
      if (t.empty() || t[0] != '&') {
        throw file_error(file.string(), ln.number, "", "malformed row: fields must start with '&'");
      }
      t.erase(0, 1);
    }
    if (tok.size() != 4) {
      throw file_error(
          file.string(), ln.number, tok[0],
          "wrong column count: expected 4 (&El &yield &X0 &Z), got " + std::to_string(tok.size()));
    }
    if (blocks.empty()) {
      throw file_error(file.string(), ln.number, tok[0], "element row before the first table");
    }
    const element el = element_from_symbol(tok[0], {&file, ln.number, "element"});
    const field_ref ay{&file, ln.number, tok[0] + " yield"};
    const field_ref ax{&file, ln.number, tok[0] + " X0"};
    const double y = parse_number<double>(tok[1], ay);
    const double x0 = parse_number<double>(tok[2], ax);
    require_nonnegative(y, ay);
    require_nonnegative(x0, ax);
    (void)parse_number<double>(tok[3], {&file, ln.number, tok[0] + " Z"});
    blocks.back().rows.push_back({ln.number, el, y, x0});
  }
  return blocks;
}

/// One NuGrid set 1 element table: column names (after `specie`) and element rows.
struct nugrid_element_table {
  std::filesystem::path file;
  std::size_t header_line = 0;
  std::vector<std::string> columns;
  struct row {
    std::size_t line;
    element el;
    std::vector<double> values;
  };
  std::vector<row> rows;

  /// Index of the column called `name` (e.g. "15 Msun delay").
  [[nodiscard]] std::size_t column(const std::string& name) const {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c] == name) return c;
    }
    throw file_error(file.string(), header_line, name, "missing column '" + name + "'");
  }
  /// The row of element `e`. \throws file_error if absent.
  [[nodiscard]] const row& row_of(element e) const {
    for (const auto& r : rows) {
      if (r.el == e) return r;
    }
    throw file_error(file.string(), 0, std::string(e.symbol()), "element row missing");
  }
};

/// `&`-separated fields of a NuGrid row with blanks stripped (the leading empty field and the
/// trailing `\\` removed). \throws file_error if the row is not `& … & \\`.
inline std::vector<std::string> nugrid_fields(const std::string& text,
                                              const std::filesystem::path& file, std::size_t line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto amp = text.find('&', start);
    std::string_view f(text.data() + start, (amp == std::string::npos ? text.size() : amp) - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    out.emplace_back(f);
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  if (out.size() < 3 || !out.front().empty() || out.back() != "\\\\") {
    throw file_error(file.string(), line, "",
                     "malformed row: expected '& <name> & <values…> & \\\\'");
  }
  out.erase(out.begin());
  out.pop_back();
  return out;
}

/// Reads a NuGrid set 1 element table (3 header lines, then element rows).
/// \throws file_error naming file, line and field on missing or malformed input.
inline nugrid_element_table read_nugrid_element_table(const std::filesystem::path& file) {
  const auto lines = read_lines(file);
  nugrid_element_table t;
  t.file = file;
  if (lines.size() < 3) throw file_error(file.string(), 0, "", "fewer than 3 header lines");
  t.header_line = lines[2].number;
  auto head = nugrid_fields(lines[2].text, file, t.header_line);
  if (head.front() != "specie") {
    throw file_error(file.string(), t.header_line, "specie",
                     "malformed header: expected '& specie & <columns…> & \\\\'");
  }
  t.columns.assign(head.begin() + 1, head.end());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    const auto& ln = lines[i];
    if (is_comment_or_blank(ln.text)) continue;
    auto f = nugrid_fields(ln.text, file, ln.number);
    if (f.size() != t.columns.size() + 1) {
      throw file_error(file.string(), ln.number, f.front(),
                       "wrong column count: expected " + std::to_string(t.columns.size()) +
                           " values, got " + std::to_string(f.size() - 1));
    }
    const element e = element_from_symbol(f.front(), {&file, ln.number, "specie"});
    for (const auto& r : t.rows) {
      if (r.el == e) {
        throw file_error(file.string(), ln.number, f.front(),
                         "element listed twice (first on line " + std::to_string(r.line) + ")");
      }
    }
    nugrid_element_table::row r{ln.number, e, {}};
    for (std::size_t c = 1; c < f.size(); ++c) {
      const field_ref at{&file, ln.number, f.front() + " " + t.columns[c - 1]};
      r.values.push_back(parse_number<double>(f[c], at));
      require_nonnegative(r.values.back(), at);
    }
    t.rows.push_back(std::move(r));
  }
  if (t.rows.empty()) throw file_error(file.string(), 0, "", "no element rows");
  return t;
}

/// Elements of a NuGrid element table in file order.
inline std::vector<element> nugrid_elements(const nugrid_element_table& t) {
  std::vector<element> out;
  for (const auto& r : t.rows) out.push_back(r.el);
  return out;
}

/// Mass label as in the NuGrid column names (1.65 -> "1.65", 15 -> "15").
inline std::string nugrid_mass_label(double m) { return shortest_repr(m); }

/// One gross grid: y_X = (Σ over `sources` of column "<M> Msun<suffix>") / M, r = 1 − Σ y.
/// `sources` are (table, suffix) pairs added in order for every mass.
inline metallicity_grid nugrid_gross_grid(
    double z, const std::vector<double>& masses, const std::vector<element>& elements,
    const std::vector<std::pair<const nugrid_element_table*, std::string>>& sources) {
  metallicity_grid g = zero_grid(z, masses.size(), elements.size());
  for (std::size_t m = 0; m < masses.size(); ++m) {
    g.mass(m) = masses[m];
    for (std::size_t e = 0; e < elements.size(); ++e) {
      double ej = 0.0;
      bool first = true;
      for (const auto& [t, suffix] : sources) {
        const double v = t->row_of(elements[e])
                             .values[t->column(nugrid_mass_label(masses[m]) + " Msun" + suffix)];
        ej = first ? v : ej + v;
        first = false;
      }
      g.net_yield(m, e) = ej / masses[m];
    }
  }
  close_with_remnant(g);
  return g;
}

}  // namespace detail

/// Loads CHEMPY's `AGB_feedback.Nugrid` table from the `NuGrid_AGB_SNII_2013/` folder.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_nugrid_agb(const std::filesystem::path& dir) {
  using namespace detail;
  const auto f02 = dir / "set1p2" / "element_table_set1.2_yields_winds.txt";
  const auto f01 = dir / "set1p1" / "element_table_set1.1_yields_winds.txt";
  const auto w02 = read_nugrid_element_table(f02);
  const auto w01 = read_nugrid_element_table(f01);
  const auto elements = nugrid_elements(w02);
  const std::vector<double> masses{1.65, 2., 3., 5.};
  std::vector<metallicity_grid> grids;
  grids.push_back(nugrid_gross_grid(0.01, masses, elements, {{&w01, ""}}));
  grids.push_back(nugrid_gross_grid(0.02, masses, elements, {{&w02, ""}}));
  for (auto& g : grids) reverse_masses(g);
  provenance p = nugrid_agb_provenance();
  p.source_files = {source_name(f01), source_name(f02)};
  return yield_table(channel::agb, std::move(p), elements, std::move(grids));
}

/// Loads CHEMPY's `SN2_feedback.OldNugrid` table from the `NuGrid_AGB_SNII_2013/` folder.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_old_nugrid_sn2(const std::filesystem::path& dir) {
  using namespace detail;
  const auto fw02 = dir / "set1p2" / "element_table_set1.2_yields_winds.txt";
  const auto fe02 = dir / "set1p2" / "element_table_set1.2_yields_exp.txt";
  const auto fw01 = dir / "set1p1" / "element_table_set1.1_yields_winds.txt";
  const auto fe01 = dir / "set1p1" / "element_table_set1.1_yields_exp.txt";
  const auto w02 = read_nugrid_element_table(fw02);
  const auto e02 = read_nugrid_element_table(fe02);
  const auto w01 = read_nugrid_element_table(fw01);
  const auto e01 = read_nugrid_element_table(fe01);
  const auto elements = nugrid_elements(e02);
  std::vector<metallicity_grid> grids;
  grids.push_back(
      nugrid_gross_grid(0.01, {15., 20., 25.}, elements, {{&e01, " delay"}, {&w01, ""}}));
  grids.push_back(
      nugrid_gross_grid(0.02, {15., 20., 25., 32., 60.}, elements, {{&e02, " delay"}, {&w02, ""}}));
  provenance p = old_nugrid_sn2_provenance();
  p.source_files = {source_name(fe01), source_name(fw01), source_name(fe02), source_name(fw02)};
  return yield_table(channel::sn2, std::move(p), elements, std::move(grids));
}

/// Loads CHEMPY's `SN2_feedback.NuGrid_net` table from `NuGrid/H NuGrid yields delay_total.txt`.
/// \throws file_error naming file, line and field on missing or malformed input: a (Z, M) block
///         missing or repeated, a block listing other elements than the (0.02, 12) block.
inline yield_table load_nugrid_net_sn2(const std::filesystem::path& file) {
  using namespace detail;
  const auto blocks = read_nugrid_net(file);
  auto find = [&](double z, double m) -> const nugrid_net_block& {
    const nugrid_net_block* found = nullptr;
    for (const auto& b : blocks) {
      if (b.metallicity != z || b.mass != m) continue;
      if (found != nullptr) {
        throw file_error(file.string(), b.line, "Table",
                         "block (M=" + shortest_repr(m) + ",Z=" + shortest_repr(z) +
                             ") repeated (first on line " + std::to_string(found->line) + ")");
      }
      found = &b;
    }
    if (found == nullptr) {
      throw file_error(file.string(), 0, "Table",
                       "block (M=" + shortest_repr(m) + ",Z=" + shortest_repr(z) + ") missing");
    }
    return *found;
  };
  std::vector<element> elements;
  for (const auto& r : find(0.02, 12.0).rows) elements.push_back(r.el);
  std::vector<metallicity_grid> grids;
  for (const auto& model : nugrid_net_models) {
    metallicity_grid g = zero_grid(model.metallicity, nugrid_net_masses.size(), elements.size());
    for (std::size_t k = 0; k < nugrid_net_masses.size(); ++k) {
      const double mass = nugrid_net_masses[k];
      const double rem = model.remnants[k];
      const auto& b = find(model.metallicity, mass);
      if (b.rows.size() != elements.size()) {
        throw file_error(file.string(), b.line, "Table",
                         "block lists " + std::to_string(b.rows.size()) + " elements, expected " +
                             std::to_string(elements.size()));
      }
      g.mass(k) = mass;
      g.mass_in_remnants(k) = rem / mass;
      for (std::size_t e = 0; e < elements.size(); ++e) {
        const auto& r = b.rows[e];
        if (!(r.el == elements[e])) {
          throw file_error(file.string(), r.line, "element",
                           "expected " + std::string(elements[e].symbol()) +
                               " (the element order of the (M=12,Z=0.02) block)");
        }
        g.net_yield(k, e) = (r.yield - rounded(r.x0 * (mass - rem))) / mass;
      }
    }
    close_with_unprocessed_after_remnant(g);
    grids.push_back(std::move(g));
  }
  provenance p = nugrid_net_sn2_provenance();
  p.source_files = {source_name(file)};
  return yield_table(channel::sn2, std::move(p), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields
