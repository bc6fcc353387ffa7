// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// chempp's own JSON schema for yield tables and yield sets: writer and validating reader.
///
/// Schema `chempp.yield_table`, version 1 (documented in docs/yields.md):
/// \code{.json}
/// { "schema": "chempp.yield_table", "version": 1, "channel": "sn2" | "agb" | "sn1a",
///   "provenance": { "loader": "", "reference": "", "doi": "", "yield_kind": "",
///                   "remnant_treatment": "", "source_files": [""], "notes": "" },
///   "elements": ["H", "He", ...],
///   "grids": [ { "metallicity": Z, "mass": [M...], "mass_in_remnants": [...],
///                "unprocessed_mass_in_winds": [...],
///                "net_yield": { "H": [... one per mass ...], "He": [...], ... } } ] }
/// \endcode
/// Schema `chempp.yield_set`, version 1: `{ "schema": "chempp.yield_set", "version": 1,
/// "name": "tng", "sn2": <table>, "agb": <table>, "sn1a": <table> }`; an optional top-level
/// `"comment"` string is allowed in both. Numbers are written with the shortest representation
/// that reads back to the same double (nlohmann_json's default), so a write/read round trip is
/// exact. The reader rejects unknown keys, missing fields, wrong types and sizes, and names the
/// JSON path of the bad field (`$.agb.grids[2].net_yield.Fe[3]`) in a `file_error`.

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/core/error.hpp"
#include "chempp/io/json.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Schema name and version written into (and required from) table and set files.
inline constexpr std::string_view yield_table_schema = "chempp.yield_table";
inline constexpr std::string_view yield_set_schema = "chempp.yield_set";
inline constexpr int yield_json_version = 1;

namespace detail {

inline nlohmann::ordered_json to_json_array(const xt::xtensor<double, 1>& v) {
  auto a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(x);
  return a;
}

/// Pretty printer: objects indented, arrays of scalars on one line (keeps files diff-friendly).
inline void dump_compact(const nlohmann::ordered_json& j, std::ostringstream& os, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  const std::string pad2(static_cast<std::size_t>(indent + 2), ' ');
  if (j.is_object()) {
    if (j.empty()) {
      os << "{}";
      return;
    }
    os << "{\n";
    std::size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      os << pad2 << nlohmann::ordered_json(it.key()).dump() << ": ";
      dump_compact(it.value(), os, indent + 2);
      if (i + 1 < j.size()) os << ',';
      os << '\n';
    }
    os << pad << '}';
  } else if (j.is_array()) {
    bool scalars = true;
    for (const auto& e : j) scalars = scalars && !e.is_structured();
    if (scalars) {
      os << j.dump();
      return;
    }
    os << "[\n";
    for (std::size_t i = 0; i < j.size(); ++i) {
      os << pad2;
      dump_compact(j[i], os, indent + 2);
      if (i + 1 < j.size()) os << ',';
      os << '\n';
    }
    os << pad << ']';
  } else {
    os << j.dump();
  }
}

/// Context for reader errors: the source (file name) and the current JSON path.
struct json_ctx {
  std::string source;
  std::string path;
  [[nodiscard]] json_ctx key(std::string_view k) const {
    return {source, path + "." + std::string(k)};
  }
  [[nodiscard]] json_ctx index(std::size_t i) const {
    return {source, path + "[" + std::to_string(i) + "]"};
  }
  [[noreturn]] void fail(const std::string& what) const { throw file_error(source, 0, path, what); }
};

inline const nlohmann::ordered_json& require_key(const nlohmann::ordered_json& obj,
                                                 std::string_view k, const json_ctx& ctx) {
  auto it = obj.find(std::string(k));
  if (it == obj.end()) ctx.key(k).fail("missing field");
  return *it;
}

inline void require_object(const nlohmann::ordered_json& j, const json_ctx& ctx,
                           std::initializer_list<std::string_view> allowed) {
  if (!j.is_object()) ctx.fail("expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = it.key() == "comment";
    for (auto a : allowed) ok = ok || it.key() == a;
    if (!ok) ctx.key(it.key()).fail("unknown field (not part of the schema)");
  }
}

inline std::string get_string(const nlohmann::ordered_json& obj, std::string_view k,
                              const json_ctx& ctx) {
  const auto& v = require_key(obj, k, ctx);
  if (!v.is_string()) ctx.key(k).fail("expected a string");
  return v.get<std::string>();
}

inline double get_number(const nlohmann::ordered_json& v, const json_ctx& ctx) {
  if (!v.is_number()) {
    ctx.fail(v.is_null() ? "expected a number, got null (NaN or infinity?)" : "expected a number");
  }
  const double x = v.get<double>();
  if (!std::isfinite(x)) ctx.fail("value is not finite");
  return x;
}

inline xt::xtensor<double, 1> get_vector(const nlohmann::ordered_json& obj, std::string_view k,
                                         std::size_t expected, const json_ctx& ctx) {
  const auto& v = require_key(obj, k, ctx);
  const auto c = ctx.key(k);
  if (!v.is_array()) c.fail("expected an array of numbers");
  if (expected != static_cast<std::size_t>(-1) && v.size() != expected) {
    c.fail("expected " + std::to_string(expected) + " values (one per mass), got " +
           std::to_string(v.size()));
  }
  xt::xtensor<double, 1> out = xt::zeros<double>({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) out(i) = get_number(v[i], c.index(i));
  return out;
}

inline void check_schema(const nlohmann::ordered_json& j, std::string_view schema,
                         const json_ctx& ctx) {
  if (get_string(j, "schema", ctx) != schema) {
    ctx.key("schema").fail("expected \"" + std::string(schema) + "\"");
  }
  const auto& v = require_key(j, "version", ctx);
  if (!v.is_number_integer()) ctx.key("version").fail("expected an integer");
  if (v.get<long long>() != yield_json_version) {
    ctx.key("version").fail("unsupported version " + v.dump() + " (this reader reads version " +
                            std::to_string(yield_json_version) + ")");
  }
}

inline nlohmann::ordered_json parse_json_file(const std::filesystem::path& file) {
  return io::read_json_file<nlohmann::ordered_json>(file);
}

/// Runs a reader; an `invalid_argument` from a table's own checks (the file's content) becomes a
/// `file_error` naming the file, and foreign exceptions are converted (see io::rethrow_foreign).
template <class F>
auto read_guarded(const std::filesystem::path& file, F&& f) {
  return io::rethrow_foreign(file.string(), [&] {
    try {
      return f();
    } catch (const file_error&) {
      throw;
    } catch (const invalid_argument& e) {
      throw file_error(file.string(), 0, "", e.what());
    }
  });
}

}  // namespace detail

/// The JSON value of one table (schema `chempp.yield_table`).
inline nlohmann::ordered_json to_json(const yield_table& t) {
  nlohmann::ordered_json j;
  j["schema"] = yield_table_schema;
  j["version"] = yield_json_version;
  j["channel"] = to_string(t.kind());
  const auto& p = t.source();
  j["provenance"] = {{"loader", p.loader},
                     {"reference", p.reference},
                     {"doi", p.doi},
                     {"yield_kind", p.yield_kind},
                     {"remnant_treatment", p.remnant_treatment},
                     {"source_files", p.source_files},
                     {"notes", p.notes}};
  auto els = nlohmann::ordered_json::array();
  for (const auto& e : t.elements()) els.push_back(std::string(e.symbol()));
  j["elements"] = els;
  auto grids = nlohmann::ordered_json::array();
  for (const auto& g : t.grids()) {
    nlohmann::ordered_json jg;
    jg["metallicity"] = g.metallicity;
    jg["mass"] = detail::to_json_array(g.mass);
    jg["mass_in_remnants"] = detail::to_json_array(g.mass_in_remnants);
    jg["unprocessed_mass_in_winds"] = detail::to_json_array(g.unprocessed_mass_in_winds);
    nlohmann::ordered_json ny = nlohmann::ordered_json::object();
    for (std::size_t e = 0; e < t.elements().size(); ++e) {
      auto col = nlohmann::ordered_json::array();
      for (std::size_t m = 0; m < g.mass.size(); ++m) col.push_back(g.net_yield(m, e));
      ny[std::string(t.elements()[e].symbol())] = col;
    }
    jg["net_yield"] = ny;
    grids.push_back(jg);
  }
  j["grids"] = grids;
  return j;
}

/// The JSON value of a set (schema `chempp.yield_set`).
inline nlohmann::ordered_json to_json(const yield_set& s) {
  nlohmann::ordered_json j;
  j["schema"] = yield_set_schema;
  j["version"] = yield_json_version;
  j["name"] = s.name;
  j["sn2"] = to_json(s.sn2);
  j["agb"] = to_json(s.agb);
  j["sn1a"] = to_json(s.sn1a);
  return j;
}

/// Formats a JSON value as chempp writes its files (arrays of numbers on one line).
inline std::string format_json(const nlohmann::ordered_json& j) {
  std::ostringstream os;
  detail::dump_compact(j, os, 0);
  os << '\n';
  return os.str();
}

/// A table from its JSON value. `source` names the file (or stream) in errors; `path` is the
/// JSON path of `j` inside it.
/// \throws file_error naming source and JSON path of the first bad field.
inline yield_table yield_table_from_json(const nlohmann::ordered_json& j,
                                         std::string_view source = "<json>",
                                         std::string_view path = "$") {
  using detail::json_ctx;
  const json_ctx ctx{std::string(source), std::string(path)};
  detail::require_object(j, ctx,
                         {"schema", "version", "channel", "provenance", "elements", "grids"});
  detail::check_schema(j, yield_table_schema, ctx);
  const std::string ch = detail::get_string(j, "channel", ctx);
  channel kind{};
  if (ch == "sn2") {
    kind = channel::sn2;
  } else if (ch == "agb") {
    kind = channel::agb;
  } else if (ch == "sn1a") {
    kind = channel::sn1a;
  } else {
    ctx.key("channel").fail("expected \"sn2\", \"agb\" or \"sn1a\", got \"" + ch + "\"");
  }
  const auto& jp = detail::require_key(j, "provenance", ctx);
  const auto pc = ctx.key("provenance");
  detail::require_object(
      jp, pc,
      {"loader", "reference", "doi", "yield_kind", "remnant_treatment", "source_files", "notes"});
  provenance prov;
  prov.loader = detail::get_string(jp, "loader", pc);
  prov.reference = detail::get_string(jp, "reference", pc);
  prov.doi = detail::get_string(jp, "doi", pc);
  prov.yield_kind = detail::get_string(jp, "yield_kind", pc);
  prov.remnant_treatment = detail::get_string(jp, "remnant_treatment", pc);
  prov.notes = detail::get_string(jp, "notes", pc);
  const auto& sf = detail::require_key(jp, "source_files", pc);
  if (!sf.is_array()) pc.key("source_files").fail("expected an array of strings");
  for (std::size_t i = 0; i < sf.size(); ++i) {
    if (!sf[i].is_string()) pc.key("source_files").index(i).fail("expected a string");
    prov.source_files.push_back(sf[i].get<std::string>());
  }
  const auto& je = detail::require_key(j, "elements", ctx);
  const auto ec = ctx.key("elements");
  if (!je.is_array() || je.empty()) ec.fail("expected a non-empty array of element symbols");
  std::vector<element> elements;
  for (std::size_t i = 0; i < je.size(); ++i) {
    if (!je[i].is_string() || !element::is_symbol(je[i].get<std::string>())) {
      ec.index(i).fail("expected an element symbol, got " + je[i].dump());
    }
    const element e(je[i].get<std::string>());
    for (const auto& o : elements) {
      if (o == e) ec.index(i).fail("element listed twice");
    }
    elements.push_back(e);
  }
  const auto& jg = detail::require_key(j, "grids", ctx);
  const auto gc = ctx.key("grids");
  if (!jg.is_array() || jg.empty()) gc.fail("expected a non-empty array of grids");
  std::vector<metallicity_grid> grids;
  for (std::size_t gi = 0; gi < jg.size(); ++gi) {
    const auto& g = jg[gi];
    const auto c = gc.index(gi);
    detail::require_object(
        g, c,
        {"metallicity", "mass", "mass_in_remnants", "unprocessed_mass_in_winds", "net_yield"});
    metallicity_grid out;
    out.metallicity =
        detail::get_number(detail::require_key(g, "metallicity", c), c.key("metallicity"));
    if (out.metallicity < 0.0) c.key("metallicity").fail("must be non-negative");
    if (!grids.empty() && !(out.metallicity > grids.back().metallicity)) {
      c.key("metallicity").fail("metallicities must be strictly increasing");
    }
    out.mass = detail::get_vector(g, "mass", static_cast<std::size_t>(-1), c);
    const std::size_t n = out.mass.size();
    if (n == 0) c.key("mass").fail("no masses");
    for (std::size_t m = 0; m < n; ++m) {
      if (!(out.mass(m) > 0.0)) c.key("mass").index(m).fail("mass must be positive");
      if (m >= 1 && out.mass(m) == out.mass(m - 1)) c.key("mass").index(m).fail("repeated mass");
      if (m >= 2 && (out.mass(m) > out.mass(m - 1)) != (out.mass(1) > out.mass(0))) {
        c.key("mass").index(m).fail("masses must be strictly monotone");
      }
    }
    out.mass_in_remnants = detail::get_vector(g, "mass_in_remnants", n, c);
    out.unprocessed_mass_in_winds = detail::get_vector(g, "unprocessed_mass_in_winds", n, c);
    const auto& ny = detail::require_key(g, "net_yield", c);
    const auto nc = c.key("net_yield");
    if (!ny.is_object()) nc.fail("expected an object keyed by element symbol");
    for (auto it = ny.begin(); it != ny.end(); ++it) {
      bool known = false;
      for (const auto& e : elements) known = known || e.symbol() == it.key();
      if (!known) nc.key(it.key()).fail("element not listed in \"elements\"");
    }
    out.net_yield = xt::zeros<double>({n, elements.size()});
    for (std::size_t e = 0; e < elements.size(); ++e) {
      const auto col = detail::get_vector(ny, elements[e].symbol(), n, nc);
      for (std::size_t m = 0; m < n; ++m) out.net_yield(m, e) = col(m);
    }
    grids.push_back(std::move(out));
  }
  try {
    return yield_table(kind, std::move(prov), std::move(elements), std::move(grids));
  } catch (const invalid_argument& e) {
    ctx.fail(e.what());
  }
}

/// A set from its JSON value. \throws file_error naming source and JSON path of a bad field.
inline yield_set yield_set_from_json(const nlohmann::ordered_json& j,
                                     std::string_view source = "<json>") {
  const detail::json_ctx ctx{std::string(source), "$"};
  detail::require_object(j, ctx, {"schema", "version", "name", "sn2", "agb", "sn1a"});
  detail::check_schema(j, yield_set_schema, ctx);
  yield_set s;
  s.name = detail::get_string(j, "name", ctx);
  s.sn2 = yield_table_from_json(detail::require_key(j, "sn2", ctx), source, "$.sn2");
  s.agb = yield_table_from_json(detail::require_key(j, "agb", ctx), source, "$.agb");
  s.sn1a = yield_table_from_json(detail::require_key(j, "sn1a", ctx), source, "$.sn1a");
  const std::pair<const yield_table*, channel> expect[] = {
      {&s.sn2, channel::sn2}, {&s.agb, channel::agb}, {&s.sn1a, channel::sn1a}};
  for (const auto& [t, k] : expect) {
    if (t->kind() != k) {
      ctx.key(to_string(k)).key("channel").fail(std::string("expected \"") + to_string(k) + "\"");
    }
  }
  return s;
}

namespace detail {
inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  if (!out) throw file_error(file.string(), 0, "", "cannot open file for writing");
  out << text;
  out.flush();
  if (!out) throw file_error(file.string(), 0, "", "write failed");
}
}  // namespace detail

/// Writes a table as JSON (schema `chempp.yield_table`). \throws file_error if writing fails.
inline void write_json(const yield_table& t, const std::filesystem::path& file) {
  detail::write_text(file, format_json(to_json(t)));
}

/// Writes a set as JSON (schema `chempp.yield_set`). \throws file_error if writing fails.
inline void write_json(const yield_set& s, const std::filesystem::path& file) {
  detail::write_text(file, format_json(to_json(s)));
}

/// Reads a table written by `write_json`. \throws file_error naming file, line (JSON syntax
/// errors) or JSON path (schema errors).
inline yield_table read_yield_table_json(const std::filesystem::path& file) {
  const auto j = detail::parse_json_file(file);
  return detail::read_guarded(file, [&] { return yield_table_from_json(j, file.string()); });
}

/// Reads a set written by `write_json`. \throws file_error naming file, line (JSON syntax
/// errors) or JSON path (schema errors).
inline yield_set read_yield_set_json(const std::filesystem::path& file) {
  const auto j = detail::parse_json_file(file);
  return detail::read_guarded(file, [&] { return yield_set_from_json(j, file.string()); });
}

}  // namespace chempp::yields
