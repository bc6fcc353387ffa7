// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Helpers for the yields tests: temporary directories with deliberately broken copies of the
// raw tables, and the comparison of a table against CHEMPY's dump
// shared/data/reference/chempy_loaded_tables_{tng,alt}.json.

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/core/error.hpp"
#include "chempp/yields/yield_table.hpp"
#include "support/test_support.hpp"

namespace chempp::test {

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  explicit temp_dir(const std::string& tag) {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("chempp-yields-test-" + tag + "-" + std::to_string(stamp));
    std::filesystem::create_directories(path_);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Lines of a text file (without newlines).
inline std::vector<std::string> file_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string s;
  while (std::getline(in, s)) out.push_back(s);
  return out;
}

/// Writes lines to a file.
inline void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::ofstream out(p);
  for (const auto& l : lines) out << l << '\n';
}

/// Copies `src` to `dst` with line `line` (1-based) replaced by `edit(old line)`.
inline void copy_with_edit(const std::filesystem::path& src, const std::filesystem::path& dst,
                           std::size_t line, const std::function<std::string(std::string)>& edit) {
  auto lines = file_lines(src);
  REQUIRE(line >= 1);
  REQUIRE(line <= lines.size());
  lines[line - 1] = edit(lines[line - 1]);
  write_lines(dst, lines);
}

/// A writable copy of a raw-yield folder (recursive) in a temporary directory, to break one of
/// its files: `src` is the pristine file, `bad` its copy (path `file` relative to the folder).
struct broken_copy {
  broken_copy(const temp_dir& tmp, const std::filesystem::path& raw_folder,
              const std::filesystem::path& file)
      : dir(tmp.path() / raw_folder.filename()), src(raw_folder / file), bad(dir / file) {
    std::filesystem::copy(raw_folder, dir, std::filesystem::copy_options::recursive);
  }
  std::filesystem::path dir;
  std::filesystem::path src;
  std::filesystem::path bad;
};

/// One deliberate break of a raw file and the error it must cause: token `token` (0-based) of
/// line `line` replaced by `value` (`append`: `value` appended to the line instead); the loader
/// must throw a file_error naming the file, line `expect_line` (0 = any) and a field containing
/// `field`.
struct token_edit {
  static constexpr std::size_t append = static_cast<std::size_t>(-1);
  std::string what;
  std::size_t line;
  std::size_t token;
  std::string value;
  std::size_t expect_line;
  std::string field;
};

/// 1-based number of the first line of `p` that starts with `prefix`.
inline std::size_t find_line(const std::filesystem::path& p, const std::string& prefix) {
  const auto lines = file_lines(p);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(prefix, 0) == 0) return i + 1;
  }
  FAIL("no line starting with '" << prefix << "' in " << p);
  return 0;
}

/// Replaces whitespace-separated token `index` (0-based) of `line` by `value`.
inline std::string replace_token(const std::string& line, std::size_t index,
                                 const std::string& value) {
  std::vector<std::string> tok;
  std::istringstream is(line);
  std::string t;
  while (is >> t) tok.push_back(t);
  REQUIRE(index < tok.size());
  tok[index] = value;
  std::string out;
  for (std::size_t i = 0; i < tok.size(); ++i) out += (i ? " " : "") + tok[i];
  return out;
}

/// Runs `f`, requires a chempp::file_error, and checks it names `file_part`, `line` (0 = any)
/// and a field containing `field_part`; returns the message.
template <class F>
std::string require_file_error(F&& f, const std::string& file_part, std::size_t line,
                               const std::string& field_part) {
  try {
    f();
  } catch (const chempp::file_error& e) {
    INFO("message: " << e.what());
    CHECK(e.file().find(file_part) != std::string::npos);
    if (line != 0) CHECK(e.line() == line);
    CHECK(e.field().find(field_part) != std::string::npos);
    return e.what();
  }
  FAIL("expected chempp::file_error (" << file_part << ", line " << line << ", field " << field_part
                                       << ")");
  return {};
}

/// Applies each edit to a fresh copy of `c.src` at `c.bad` and checks `load()` reports it, then
/// checks that a missing `c.bad` is reported too, and restores the pristine file.
template <class Load>
void check_token_edits(const broken_copy& c, Load&& load, const std::string& file_part,
                       const std::vector<token_edit>& edits) {
  for (const auto& e : edits) {
    INFO("edit: " << e.what << " (line " << e.line << " := '" << e.value << "')");
    copy_with_edit(c.src, c.bad, e.line, [&](const std::string& s) {
      return e.token == token_edit::append ? s + " " + e.value : replace_token(s, e.token, e.value);
    });
    require_file_error(load, file_part, e.expect_line, e.field);
  }
  INFO("edit: file removed");
  std::filesystem::remove(c.bad);
  require_file_error(load, file_part, 0, "");
  std::filesystem::copy_file(c.src, c.bad);
}

/// The CHEMPY reference dump for `set` ("tng"/"alt"), or nullopt (test skipped with a message).
inline std::optional<nlohmann::json> chempy_loaded_tables(const std::string& set) {
  auto f = shared_file("data/reference/chempy_loaded_tables_" + set + ".json");
  if (!f) return std::nullopt;
  std::ifstream in(*f);
  return nlohmann::json::parse(in);
}

/// One channel (`kind` = "sn2", "agb", "sn1a") of the CHEMPY reference dump
/// shared/data/reference/chempy_loaded_<kind>_<loader>.json, or nullopt (skipped with a message).
inline std::optional<nlohmann::json> chempy_loaded_table(const std::string& kind,
                                                         const std::string& loader) {
  auto f = shared_file("data/reference/chempy_loaded_" + kind + "_" + loader + ".json");
  if (!f) return std::nullopt;
  std::ifstream in(*f);
  return nlohmann::json::parse(in).at(kind);
}

/// Relative difference with an absolute floor for exact zeros in the reference.
inline double rel_diff(double ours, double ref) {
  const double scale = std::max(std::abs(ours), std::abs(ref));
  if (scale == 0.0) return 0.0;
  if (ref == 0.0) return std::abs(ours) <= 1e-18 ? 0.0 : INFINITY;
  return std::abs(ours - ref) / scale;
}

/// Checks `t` against CHEMPY's dump `ref` (one channel): element list, metallicities (float64
/// keys), and per metallicity Mass, mass_in_remnants, unprocessed_mass_in_winds (zeros where
/// CHEMPY has no column, i.e. SN Ia) and the 9 traced elements, to `tol` relative.
/// Returns the worst relative difference found.
inline double check_against_chempy(const chempp::yields::yield_table& t, const nlohmann::json& ref,
                                   double tol = 1e-9) {
  std::vector<std::string> els;
  for (const auto& e : t.elements()) els.emplace_back(e.symbol());
  CHECK(els == ref.at("elements_in_table").get<std::vector<std::string>>());
  const auto zs = ref.at("metallicities_as_float64").get<std::vector<double>>();
  REQUIRE(t.size() == zs.size());
  worst_error worst;
  std::size_t compared = 0;
  for (std::size_t gi = 0; gi < t.size(); ++gi) {
    const auto& g = t.grid(gi);
    CHECK(g.metallicity == zs[gi]);
    // CHEMPY's keys are Python's repr of the float64 metallicity; find by value
    const nlohmann::json* tab = nullptr;
    for (const auto& [k, v] : ref.at("tables").items()) {
      if (std::stod(k) == zs[gi]) tab = &v;
    }
    REQUIRE(tab != nullptr);
    const std::size_t n = g.mass.size();
    for (const auto& [key, col] : tab->items()) {
      const auto v = col.get<std::vector<double>>();
      REQUIRE(v.size() == n);
      for (std::size_t m = 0; m < n; ++m) {
        double ours = 0.0;
        if (key == "Mass") {
          ours = g.mass(m);
        } else if (key == "mass_in_remnants") {
          ours = g.mass_in_remnants(m);
        } else if (key == "unprocessed_mass_in_winds") {
          ours = g.unprocessed_mass_in_winds(m);
        } else {
          const auto idx = t.element_index(chempp::element(key));
          REQUIRE(idx.has_value());
          ours = g.net_yield(m, *idx);
        }
        worst.update(rel_diff(ours, v[m]), "Z=" + std::to_string(g.metallicity) + " " + key + "[" +
                                               std::to_string(m) + "]");
        ++compared;
      }
    }
    if (!tab->contains("unprocessed_mass_in_winds")) {
      for (std::size_t m = 0; m < n; ++m) CHECK(g.unprocessed_mass_in_winds(m) == 0.0);
    }
  }
  INFO("worst relative difference " << worst.value << " at " << worst.where << " (" << compared
                                    << " values compared)");
  CHECK(compared > 0);
  CHECK(worst.value <= tol);
  return worst.value;
}

/// Exact equality of two tables (values, elements, provenance).
inline void check_tables_identical(const chempp::yields::yield_table& a,
                                   const chempp::yields::yield_table& b) {
  CHECK(a.kind() == b.kind());
  CHECK(a.source() == b.source());
  CHECK(a.elements() == b.elements());
  REQUIRE(a.size() == b.size());
  for (std::size_t g = 0; g < a.size(); ++g) {
    const auto& x = a.grid(g);
    const auto& y = b.grid(g);
    CHECK(x.metallicity == y.metallicity);
    CHECK(x.mass == y.mass);
    CHECK(x.mass_in_remnants == y.mass_in_remnants);
    CHECK(x.unprocessed_mass_in_winds == y.unprocessed_mass_in_winds);
    CHECK(x.net_yield == y.net_yield);
  }
}

/// shared/data/chempy/yields, or nullopt (skipped with a message).
inline std::optional<std::filesystem::path> raw_yields_dir() {
  return shared_file("data/chempy/yields");
}

/// Loads a table with `load(raw_yields_dir)` and checks it against
/// reference/chempy_loaded_<kind>_<loader>.json to 1e-9 relative, reporting the worst relative
/// difference as a MESSAGE. Returns the table, or nullopt when ../shared is absent (skipped).
template <class Load>
std::optional<chempp::yields::yield_table> check_loader_against_reference(const std::string& kind,
                                                                          const std::string& loader,
                                                                          Load&& load) {
  auto dir = raw_yields_dir();
  auto ref = chempy_loaded_table(kind, loader);
  if (!dir || !ref) return std::nullopt;
  auto t = load(*dir);
  const double worst = check_against_chempy(t, *ref);
  MESSAGE(kind << " " << loader << ": max relative difference to CHEMPY " << worst);
  CHECK(t.source().loader == loader);
  CHECK(chempp::yields::to_string(t.kind()) == kind);
  return t;
}

}  // namespace chempp::test
