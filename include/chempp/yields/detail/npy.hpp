// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The CHEMPY yield tables stored as numpy files (`Nomoto2013_net`, `chieffi04_net`, West17's
/// initial abundances), read with chempp's one numpy reader (`chempp/io/npz.hpp`). Not part of
/// the public API.

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/io/npz.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields::detail {

using io::npy_array;
using io::read_npy;

/// Member `name` (e.g. "keys.npy") of an uncompressed `.npz` archive.
/// \throws file_error if the archive is malformed or the member is absent.
inline npy_array read_npz_member(const std::filesystem::path& path, const std::string& name) {
  std::string key = name;
  if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
  return io::npz_file(path).raw(key);
}

/// A table CHEMPY reads verbatim from a structured `.npy` array with float64 fields `Mass`,
/// `mass_in_remnants`, `unprocessed_mass_in_winds` and one per element symbol (the pre-computed
/// `Nomoto2013_net` and `chieffi04_net` tables): one grid for metallicity `z` and its elements.
/// \throws file_error on a malformed file, missing fields or unknown element symbols.
inline std::pair<metallicity_grid, std::vector<element>> npy_record_grid(
    const std::filesystem::path& file, double z) {
  const npy_array a = read_npy(file);
  const std::vector<std::string> names = a.field_names();
  const std::vector<std::string> fixed{"Mass", "mass_in_remnants", "unprocessed_mass_in_winds"};
  if (a.shape.size() != 1 || names.size() <= fixed.size()) {
    throw file_error(file.string(), 0, "descr",
                     "expected a 1-d structured array with Mass, mass_in_remnants, "
                     "unprocessed_mass_in_winds and element fields");
  }
  for (std::size_t f = 0; f < fixed.size(); ++f) {
    if (names[f] != fixed[f]) {
      throw file_error(file.string(), 0, names[f],
                       "field " + std::to_string(f) + " must be '" + fixed[f] + "'");
    }
  }
  std::vector<element> elements;
  for (std::size_t f = fixed.size(); f < names.size(); ++f) {
    elements.push_back(element_from_symbol(names[f], {&file, 0, "field " + names[f]}));
  }
  const std::size_t nm = a.shape[0];
  metallicity_grid g = zero_grid(z, nm, elements.size());
  const auto mass = a.field("Mass");
  const auto rem = a.field("mass_in_remnants");
  const auto u = a.field("unprocessed_mass_in_winds");
  for (std::size_t m = 0; m < nm; ++m) {
    g.mass(m) = mass[m];
    g.mass_in_remnants(m) = rem[m];
    g.unprocessed_mass_in_winds(m) = u[m];
  }
  for (std::size_t e = 0; e < elements.size(); ++e) {
    const auto v = a.field(names[e + fixed.size()]);
    for (std::size_t m = 0; m < nm; ++m) g.net_yield(m, e) = v[m];
  }
  return {std::move(g), std::move(elements)};
}

/// A table of pre-computed grids `dir/<prefix><i>.npy`, i = 0 … n−1 with metallicity
/// `z_of_index[i]` (any order; grids are stored ascending in Z). Every file must list the same
/// elements. \throws file_error on malformed files or differing element lists.
inline yield_table load_npy_tables(channel kind, provenance prov, const std::filesystem::path& dir,
                                   const std::string& prefix,
                                   const std::vector<double>& z_of_index) {
  std::vector<std::size_t> order(z_of_index.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return z_of_index[a] < z_of_index[b]; });
  std::vector<metallicity_grid> grids;
  std::vector<element> elements;
  for (std::size_t i : order) {
    const auto file = dir / (prefix + std::to_string(i) + ".npy");
    auto [g, els] = npy_record_grid(file, z_of_index[i]);
    if (grids.empty()) {
      elements = els;
    } else if (els != elements) {
      throw file_error(file.string(), 0, "descr",
                       "lists different element fields than " + prov.source_files.front());
    }
    prov.source_files.push_back(source_name(file));
    grids.push_back(std::move(g));
  }
  return yield_table(kind, std::move(prov), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields::detail
