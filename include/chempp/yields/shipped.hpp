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
/// Where the files are found: the directory given explicitly, else the macro `CHEMPP_DATA_DIR`
/// if it is defined, else `../data/` relative to this header's `__FILE__` (valid in the source
/// tree and after `cmake --install`). Nothing is cached: each call reads and validates the file;
/// keep the returned set.

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "chempp/core/error.hpp"
#include "chempp/yields/json_io.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Names of the shipped yield sets.
inline constexpr std::array<std::string_view, 2> shipped_yield_set_names{"tng", "alt"};

/// Directory holding the shipped JSON files: `CHEMPP_DATA_DIR` if defined, else `../data`
/// next to this header (from `__FILE__`).
inline std::filesystem::path shipped_data_dir() {
#if defined(CHEMPP_DATA_DIR)
  return std::filesystem::path(CHEMPP_DATA_DIR);
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "data";
#endif
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
                         "\" not found; pass the directory explicitly or define CHEMPP_DATA_DIR "
                         "to the folder holding yields_tng.json / yields_alt.json "
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
