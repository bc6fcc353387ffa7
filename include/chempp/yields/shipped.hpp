// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The yield sets shipped with chempp (JSON files in `include/chempp/data/`, installed with the
/// headers), so the library works without CHEMPY's raw tables:
///  * "tng": IllustrisTNG set (SN II `TNG_net`, AGB `TNG_net`, SN Ia `TNG`), the configuration
///    the emulator of Buck et al. 2025 was trained on;
///  * "alt": alternative set (SN II `Nomoto2013`, AGB `Karakas16_net`, SN Ia `Thielemann`) used
///    for the paper's misspecification test.
/// Both were produced by `examples/tools/convert_yields.cpp` from the raw tables with the
/// loaders of this module (tests check they equal what the loaders build and what CHEMPY builds).
///
/// Where the files are found (`shipped_data_dir`, searched at run time, so an installed prefix can
/// be moved): the directory given explicitly; else the macro `CHEMPP_DATA_DIR` if the program
/// was compiled with it; else the environment variable `CHEMPP_DATA_DIR`; else, relative to the
/// binary that holds this code (the program or shared object, e.g. the Python module), `data/`,
/// `../include/chempp/data/` or `../share/chempp/data/`; else `../data/` relative to this header
/// as it was compiled (`__FILE__`: the source tree, or the prefix a consumer was compiled
/// against). The first directory holding `yields_tng.json` wins. Nothing is cached: each call
/// reads and validates the file; keep the returned set.

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "chempp/core/error.hpp"
#include "chempp/yields/json_io.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Names of the shipped yield sets.
inline constexpr std::array<std::string_view, 2> shipped_yield_set_names{"tng", "alt"};

namespace detail {
// An address inside the binary that holds this code (internal linkage: every program or shared
// object has its own), for `dladdr`.
[[maybe_unused]] static void data_dir_anchor() {}
}  // namespace detail

/// The directories `shipped_data_dir` searches, in order (see the file comment).
inline std::vector<std::filesystem::path> shipped_data_dir_candidates() {
  std::vector<std::filesystem::path> c;
#if defined(CHEMPP_DATA_DIR)
  c.emplace_back(CHEMPP_DATA_DIR);
#endif
  if (const char* env = std::getenv("CHEMPP_DATA_DIR"); env != nullptr && *env != '\0') c.emplace_back(env);
#if defined(__unix__) || defined(__APPLE__)
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&detail::data_dir_anchor), &info) != 0 && info.dli_fname != nullptr && *info.dli_fname != '\0') {
    std::error_code ec;
    auto bin = std::filesystem::path(info.dli_fname);
    if (bin.is_relative()) bin = std::filesystem::absolute(bin, ec);
    const auto dir = std::filesystem::weakly_canonical(bin, ec).parent_path();
    c.push_back(dir / "data");
    c.push_back(dir.parent_path() / "include" / "chempp" / "data");
    c.push_back(dir.parent_path() / "share" / "chempp" / "data");
  }
#endif
  c.push_back(std::filesystem::path(__FILE__).parent_path().parent_path() / "data");
  return c;
}

/// Directory holding the shipped JSON files: the first of `shipped_data_dir_candidates()` that
/// holds `yields_tng.json`, else the last candidate (the header-relative one; reading from it then
/// fails with a message naming it).
inline std::filesystem::path shipped_data_dir() {
  const auto c = shipped_data_dir_candidates();
  for (const auto& d : c) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(d / "yields_tng.json", ec)) return d;
  }
  return c.back();
}

/// File name of a shipped set ("tng" → "yields_tng.json").
/// \throws invalid_argument for a name that is not shipped.
inline std::string shipped_yield_file_name(std::string_view name) {
  for (auto n : shipped_yield_set_names) {
    if (n == name) return "yields_" + std::string(name) + ".json";
  }
  throw invalid_argument("chempp::yields::shipped_yield_set: unknown yield set \"" +
                         std::string(name) + "\" (shipped: \"tng\", \"alt\")");
}

/// Reads shipped set `name` ("tng" or "alt") from directory `dir`.
/// \throws invalid_argument for an unknown name; file_error if the file is missing (naming the
/// path searched) or invalid.
inline yield_set shipped_yield_set(std::string_view name, const std::filesystem::path& dir) {
  const auto file = dir / shipped_yield_file_name(name);
  if (!std::filesystem::exists(file)) {
    throw file_error(file.string(), 0, "",
                     "shipped yield set \"" + std::string(name) +
                         "\" not found; pass the directory explicitly or set the environment variable "
                         "CHEMPP_DATA_DIR to the folder holding yields_tng.json / yields_alt.json "
                         "(include/chempp/data in the source tree or install prefix)");
  }
  yield_set s = read_yield_set_json(file);
  if (s.name != name) {
    throw file_error(file.string(), 0, "$.name",
                     "expected \"" + std::string(name) + "\", got \"" + s.name + "\"");
  }
  return s;
}

/// Reads shipped set `name` ("tng" or "alt") from `shipped_data_dir()`.
/// \throws invalid_argument for an unknown name; file_error if the file is missing or invalid.
inline yield_set shipped_yield_set(std::string_view name) {
  return shipped_yield_set(name, shipped_data_dir());
}

}  // namespace chempp::yields
