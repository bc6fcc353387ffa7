// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Any combination of one SN II, one AGB and one SN Ia table as a yield set, spelt
/// `sn2=NAME,agb=NAME,sn1a=NAME` with CHEMPY's loader names (`yields/loaders.hpp`), and CHEMPY's
/// behaviour where a table lacks an element or a column (docs/yields.md, "Combinations";
/// CHEMPY's `SSP_wrap` and `weighted_yield.SSP.{sn2,agb,sn1a}_feedback`):
/// - a traced element absent from a table receives nothing from that table's element columns;
///   for net tables with an `unprocessed_mass_in_winds` column the unprocessed term still returns
///   it with the birth composition. Both are exactly a zero net-yield column, which is how
///   `with_traced_elements` completes such a table (AGB `Ventura_net`: Fe; SN Ia `Iwamoto`:
///   H, He);
/// - a table without `unprocessed_mass_in_winds` (SN II `OldNugrid`, AGB `Nugrid`, `Karakas`, all
///   SN Ia tables) adds no birth-composition term: its loader stores u = 0, which adds exactly 0.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"
#include "chempp/yields/json_io.hpp"
#include "chempp/yields/loaders.hpp"
#include "chempp/yields/shipped.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// The loader names of one combination.
struct yield_spec {
  std::string sn2, agb, sn1a;
  /// `sn2=NAME,agb=NAME,sn1a=NAME`.
  [[nodiscard]] std::string to_string() const { return "sn2=" + sn2 + ",agb=" + agb + ",sn1a=" + sn1a; }
  friend bool operator==(const yield_spec&, const yield_spec&) = default;
};

/// True when `text` is written as a combination (contains '='), not a shipped set name or file.
[[nodiscard]] inline bool is_yield_spec(std::string_view text) noexcept { return text.find('=') != std::string_view::npos; }

/// Parses `sn2=NAME,agb=NAME,sn1a=NAME` (any order, each channel exactly once).
/// \throws invalid_argument naming the problem; an unknown loader name lists the valid ones.
[[nodiscard]] inline yield_spec parse_yield_spec(std::string_view text) {
  const std::string fn = "chempp::yields::parse_yield_spec";
  yield_spec s;
  bool have[3] = {false, false, false};
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      throw invalid_argument(fn + ": '" + std::string(item) + "' is not CHANNEL=NAME (expected sn2=NAME,agb=NAME,sn1a=NAME)");
    }
    const std::string channel(item.substr(0, eq)), name(item.substr(eq + 1));
    (void)detail::find_loader(detail::loaders_of(channel, fn), channel, name, fn);  // names the valid ones
    const int k = channel == "sn2" ? 0 : channel == "agb" ? 1 : 2;
    std::string* slot = k == 0 ? &s.sn2 : k == 1 ? &s.agb : &s.sn1a;
    if (have[k]) throw invalid_argument(fn + ": channel '" + channel + "' given twice");
    *slot = name;
    have[k] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (!have[0] || !have[1] || !have[2]) {
    throw invalid_argument(fn + ": '" + std::string(text) + "' must name all three channels: sn2=NAME,agb=NAME,sn1a=NAME");
  }
  return s;
}

/// `t` with every traced element (`chempy_traced_elements`) present: absent ones are added as
/// zero net-yield columns, CHEMPY's behaviour for them (file comment). Unchanged if complete.
[[nodiscard]] inline yield_table with_traced_elements(const yield_table& t) {
  std::vector<element> missing;
  for (const element& e : chempy_traced_elements)
    if (!t.element_index(e)) missing.push_back(e);
  if (missing.empty()) return t;
  std::vector<element> els = t.elements();
  els.insert(els.end(), missing.begin(), missing.end());
  std::vector<metallicity_grid> grids;
  for (const auto& g : t.grids()) {
    metallicity_grid h = g;
    const std::size_t n = g.mass.size(), old = t.elements().size();
    h.net_yield = xt::zeros<double>({n, els.size()});
    for (std::size_t m = 0; m < n; ++m)
      for (std::size_t e = 0; e < old; ++e) h.net_yield(m, e) = g.net_yield(m, e);
    grids.push_back(std::move(h));
  }
  provenance p = t.source();
  std::string names;
  for (const auto& e : missing) names += (names.empty() ? "" : ", ") + std::string(e.symbol());
  p.notes += (p.notes.empty() ? "" : " ") + std::string("Traced elements absent from the table (") + names +
             ") added as zero net-yield columns, as CHEMPY treats them.";
  return yield_table(t.kind(), std::move(p), std::move(els), std::move(grids));
}

/// The shipped JSON form of CHEMPY's table `name` of channel `kind` ("sn2", "agb", "sn1a"):
/// `<dir>/tables/<kind>_<name>.json`, written by `chempp-convert-yields` from the raw files and
/// equal to the raw loader's table bit for bit (tested), so no raw files are needed.
/// \throws invalid_argument for an unknown channel or name (listing the valid names);
///         file_error when the file is missing or malformed.
[[nodiscard]] inline yield_table shipped_table(const std::string& kind, const std::string& name,
                                               const std::filesystem::path& dir = shipped_data_dir()) {
  const std::string fn = "chempp::yields::shipped_table";
  (void)detail::find_loader(detail::loaders_of(kind, fn), kind, name, fn);
  return read_yield_table_json(dir / "tables" / (kind + "_" + name + ".json"));
}

/// The yield set of a combination, completed with `with_traced_elements` and named
/// `spec.to_string()`: from CHEMPY's raw files in `yields_dir` (CHEMPY's `input/yields`
/// layout), or from the shipped tables (`shipped_table`) when `yields_dir` is empty.
/// \throws invalid_argument for unknown names; file_error for missing or malformed files.
[[nodiscard]] inline yield_set load_yield_set(const yield_spec& spec, const std::filesystem::path& yields_dir = {}) {
  yield_set s;
  s.name = spec.to_string();
  const bool raw = !yields_dir.empty();
  s.sn2 = with_traced_elements(raw ? load_sn2_table(spec.sn2, yields_dir) : shipped_table("sn2", spec.sn2));
  s.agb = with_traced_elements(raw ? load_agb_table(spec.agb, yields_dir) : shipped_table("agb", spec.agb));
  s.sn1a = with_traced_elements(raw ? load_sn1a_table(spec.sn1a, yields_dir) : shipped_table("sn1a", spec.sn1a));
  return s;
}

/// The yield set a user names, the same spelling for every program and the bundle: a shipped
/// set (`tng`, `alt`), a combination `sn2=NAME,agb=NAME,sn1a=NAME` (from the shipped tables, or
/// from CHEMPY's raw files in `yields_dir` when given), or the path of a yield-set JSON file.
/// \throws invalid_argument for unknown names; file_error for unreadable or malformed files.
[[nodiscard]] inline yield_set resolve_yield_set(const std::string& text, const std::filesystem::path& yields_dir = {}) {
  for (auto n : shipped_yield_set_names)
    if (text == n) return shipped_yield_set(text);
  if (is_yield_spec(text)) {
    return load_yield_set(parse_yield_spec(text), yields_dir);
  }
  if (text.empty()) throw invalid_argument("chempp::yields::resolve_yield_set: empty yield-set name");
  return read_yield_set_json(text);
}

}  // namespace chempp::yields
