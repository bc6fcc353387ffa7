// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loaders for the IllustrisTNG yield tables (SN II, AGB, SN Ia) from the plain-text dumps of
/// CHEMPY's `input/yields/TNG/{SNII,AGB,SNIa}.hdf5` (`*_hdf5_dump.txt`), reproducing CHEMPY's
/// `SN2_feedback.TNG_net`, `AGB_feedback.TNG_net` and `SN1a_feedback.TNG` bit for bit
/// (Rybizki et al. 2017, A&A 605, A59; docs/yields.md).
///
/// The HDF5 files store float32. CHEMPY computes in float32 where numpy does (remnant fraction
/// (M - M_ej)/M, yield fraction Yield/M, the SN Ia mass as numpy's pairwise float32 sum) and
/// in float64 for the unprocessed fraction u = 1 - Σ y - remnant; this loader does the same, so
/// metallicities come out as float32 values converted to double (0.0010000000474974513).
///
/// Dump format (one record per line, '#' comments): `species <names…>`, `masses <M…>`,
/// `metallicities <Z…>`, `yield_names <names…>`, then per metallicity `group <name> Z <Z>`,
/// `Ejected_mass <per mass…>`, `Total_Metals <per mass…>`, `Yield <species> <per mass…>`.
/// The SN Ia dump has `Total_Metals <x>`, `Number_of_species <n>` and `<Species> <yield>` lines.

#include <array>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

namespace detail {

/// Element for a species name used in the TNG HDF5 files ("Hydrogen", "Sulphur", "Aluminum").
inline std::optional<element> element_from_tng_species(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 44> names{{
      {"Hydrogen", 1},   {"Helium", 2},     {"Lithium", 3},    {"Beryllium", 4},
      {"Boron", 5},      {"Carbon", 6},     {"Nitrogen", 7},   {"Oxygen", 8},
      {"Fluorine", 9},   {"Neon", 10},      {"Sodium", 11},    {"Magnesium", 12},
      {"Aluminum", 13},  {"Aluminium", 13}, {"Silicon", 14},   {"Phosphorus", 15},
      {"Sulphur", 16},   {"Sulfur", 16},    {"Chlorine", 17},  {"Argon", 18},
      {"Potassium", 19}, {"Calcium", 20},   {"Scandium", 21},  {"Titanium", 22},
      {"Vanadium", 23},  {"Chromium", 24},  {"Manganese", 25}, {"Iron", 26},
      {"Cobalt", 27},    {"Nickel", 28},    {"Copper", 29},    {"Zinc", 30},
      {"Gallium", 31},   {"Germanium", 32}, {"Arsenic", 33},   {"Selenium", 34},
      {"Bromine", 35},   {"Krypton", 36},   {"Rubidium", 37},  {"Strontium", 38},
      {"Yttrium", 39},   {"Zirconium", 40}, {"Niobium", 41},   {"Molybdenum", 42},
  }};
  for (const auto& [n, z] : names) {
    if (n == name) return element(z);
  }
  return std::nullopt;
}

/// Parsed content of an SNII/AGB dump.
struct tng_grid_dump {
  std::vector<element> elements;
  std::vector<float> masses;
  std::vector<float> metallicities;
  std::vector<std::string> yield_names;
  struct group {
    std::size_t line = 0;
    float z = 0.0f;
    std::vector<float> ejected;
    std::size_t ejected_line = 0;
    std::vector<std::vector<float>> yield;  // [species][mass]
    std::vector<std::size_t> yield_line;    // 0 = not seen
  };
  std::map<std::string, group> groups;
};

inline std::vector<float> parse_float_list(const std::vector<std::string>& tok, std::size_t first,
                                           const std::filesystem::path& file, std::size_t line,
                                           const std::string& field) {
  std::vector<float> out;
  for (std::size_t i = first; i < tok.size(); ++i) {
    out.push_back(
        parse_number<float>(tok[i], {&file, line, field + "[" + std::to_string(i - first) + "]"}));
  }
  return out;
}

inline tng_grid_dump parse_tng_grid_dump(const std::filesystem::path& file) {
  tng_grid_dump d;
  const auto lines = read_lines(file);
  std::map<std::string, std::size_t> seen;  // header key -> line
  tng_grid_dump::group* current = nullptr;
  std::string current_name;
  auto header_once = [&](const std::string& key, std::size_t line) {
    if (seen.count(key) != 0) {
      throw file_error(file.string(), line, key,
                       "duplicate record (first on line " + std::to_string(seen[key]) + ")");
    }
    seen[key] = line;
  };
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    const std::string& key = tok[0];
    if (key == "species") {
      header_once(key, ln.number);
      for (std::size_t i = 1; i < tok.size(); ++i) {
        auto e = element_from_tng_species(tok[i]);
        if (!e) {
          throw file_error(file.string(), ln.number, "species[" + std::to_string(i - 1) + "]",
                           "unknown species name '" + tok[i] + "'");
        }
        d.elements.push_back(*e);
      }
    } else if (key == "masses") {
      header_once(key, ln.number);
      d.masses = parse_float_list(tok, 1, file, ln.number, "masses");
      for (std::size_t i = 0; i < d.masses.size(); ++i) {
        require_positive(d.masses[i], {&file, ln.number, "masses[" + std::to_string(i) + "]"});
      }
      require_strictly_increasing(d.masses, {&file, ln.number, "masses"});
    } else if (key == "metallicities") {
      header_once(key, ln.number);
      d.metallicities = parse_float_list(tok, 1, file, ln.number, "metallicities");
      for (std::size_t i = 0; i < d.metallicities.size(); ++i) {
        require_nonnegative(d.metallicities[i],
                            {&file, ln.number, "metallicities[" + std::to_string(i) + "]"});
      }
      require_strictly_increasing(d.metallicities, {&file, ln.number, "metallicities"});
    } else if (key == "yield_names") {
      header_once(key, ln.number);
      d.yield_names.assign(tok.begin() + 1, tok.end());
    } else if (key == "group") {
      if (tok.size() != 4 || tok[2] != "Z") {
        throw file_error(file.string(), ln.number, "group",
                         "malformed row: expected 'group <name> Z <value>' (4 columns, got " +
                             std::to_string(tok.size()) + ")");
      }
      if (d.elements.empty() || d.masses.empty()) {
        throw file_error(file.string(), ln.number, "group",
                         "group before the 'species' and 'masses' records");
      }
      if (d.groups.count(tok[1]) != 0) {
        throw file_error(file.string(), ln.number, "group", "duplicate group '" + tok[1] + "'");
      }
      current_name = tok[1];
      current = &d.groups[current_name];
      current->line = ln.number;
      current->z = parse_number<float>(tok[3], {&file, ln.number, "group " + tok[1] + " Z"});
      current->yield.assign(d.elements.size(), {});
      current->yield_line.assign(d.elements.size(), 0);
    } else if (key == "Ejected_mass" || key == "Total_Metals" || key == "Yield") {
      if (current == nullptr) {
        throw file_error(file.string(), ln.number, key, "record outside a 'group'");
      }
      const std::size_t first = key == "Yield" ? 2 : 1;
      const std::string field = key == "Yield" && tok.size() > 1
                                    ? "group " + current_name + " Yield " + tok[1]
                                    : "group " + current_name + " " + key;
      if (tok.size() != first + d.masses.size()) {
        throw file_error(file.string(), ln.number, field,
                         "wrong column count: expected " + std::to_string(d.masses.size()) +
                             " values (one per mass), got " +
                             std::to_string(tok.size() < first ? 0 : tok.size() - first));
      }
      auto values = parse_float_list(tok, first, file, ln.number, field);
      if (key == "Ejected_mass") {
        if (current->ejected_line != 0) {
          throw file_error(file.string(), ln.number, field, "duplicate record");
        }
        for (std::size_t m = 0; m < values.size(); ++m) {
          const field_ref at{&file, ln.number, field + "[" + std::to_string(m) + "]"};
          require_nonnegative(values[m], at);
          if (values[m] > d.masses[m]) {
            throw file_error(file.string(), ln.number, at.field,
                             "ejected mass exceeds the initial mass (negative remnant mass)");
          }
        }
        current->ejected = std::move(values);
        current->ejected_line = ln.number;
      } else if (key == "Yield") {
        auto e = element_from_tng_species(tok[1]);
        std::size_t idx = d.elements.size();
        if (e) {
          for (std::size_t s = 0; s < d.elements.size(); ++s) {
            if (d.elements[s] == *e) idx = s;
          }
        }
        if (idx == d.elements.size()) {
          throw file_error(file.string(), ln.number, field,
                           "species '" + tok[1] + "' is not in the 'species' record");
        }
        if (current->yield_line[idx] != 0) {
          throw file_error(file.string(), ln.number, field, "duplicate record");
        }
        current->yield[idx] = std::move(values);
        current->yield_line[idx] = ln.number;
      }
      // Total_Metals is validated (count, numbers) but not used, as in CHEMPY.
    } else {
      throw file_error(file.string(), ln.number, key,
                       "malformed row: unknown record '" + key + "'");
    }
  }
  for (const char* k : {"species", "masses", "metallicities", "yield_names"}) {
    if (seen.count(k) == 0) {
      throw file_error(file.string(), 0, k, "missing record '" + std::string(k) + "'");
    }
  }
  if (d.yield_names.size() < d.metallicities.size()) {
    throw file_error(file.string(), seen["yield_names"], "yield_names",
                     "fewer names than metallicities");
  }
  for (const auto& [name, g] : d.groups) {
    bool used = false;
    for (std::size_t i = 0; i < d.metallicities.size(); ++i) used |= d.yield_names[i] == name;
    if (!used) {
      throw file_error(file.string(), g.line, "group " + name,
                       "group has no entry in 'metallicities' (its data would be dropped)");
    }
  }
  return d;
}

/// Builds one TNG SN II / AGB table (CHEMPY `TNG_net`); `reverse` stores masses descending.
inline yield_table build_tng_grid_table(const std::filesystem::path& file, channel kind,
                                        bool reverse, provenance prov) {
  const tng_grid_dump d = parse_tng_grid_dump(file);
  const std::size_t nm = d.masses.size();
  const std::size_t ne = d.elements.size();
  std::vector<metallicity_grid> grids;
  for (std::size_t zi = 0; zi < d.metallicities.size(); ++zi) {
    const std::string& name = d.yield_names[zi];
    auto it = d.groups.find(name);
    if (it == d.groups.end()) {
      throw file_error(
          file.string(), 0, "group " + name,
          "missing group for metallicity " + chempp::detail::format_value(d.metallicities[zi]));
    }
    const auto& g = it->second;
    if (g.z != d.metallicities[zi]) {
      throw file_error(file.string(), g.line, "group " + name + " Z",
                       "group metallicity " + chempp::detail::format_value(g.z) +
                           " differs from metallicities[" + std::to_string(zi) +
                           "] = " + chempp::detail::format_value(d.metallicities[zi]));
    }
    if (g.ejected_line == 0) {
      throw file_error(file.string(), g.line, "group " + name + " Ejected_mass", "missing record");
    }
    for (std::size_t s = 0; s < ne; ++s) {
      if (g.yield_line[s] == 0) {
        throw file_error(file.string(), g.line,
                         "group " + name + " Yield " + std::string(d.elements[s].symbol()),
                         "missing record");
      }
    }
    metallicity_grid gr;
    gr.metallicity = static_cast<double>(d.metallicities[zi]);
    gr.mass = xt::zeros<double>({nm});
    gr.mass_in_remnants = xt::zeros<double>({nm});
    gr.unprocessed_mass_in_winds = xt::zeros<double>({nm});
    gr.net_yield = xt::zeros<double>({nm, ne});
    for (std::size_t k = 0; k < nm; ++k) {
      const std::size_t m = reverse ? nm - 1 - k : k;  // source column
      const float mass = d.masses[m];
      const float remnant = mass - g.ejected[m];  // float32, as numpy
      const float remnant_fraction = remnant / mass;
      double summed = 0.0;
      for (std::size_t s = 0; s < ne; ++s) {
        const float y = g.yield[s][m] / mass;  // float32 / float32 in numpy
        gr.net_yield(k, s) = static_cast<double>(y);
        summed += static_cast<double>(y);
      }
      gr.mass(k) = static_cast<double>(mass);
      gr.mass_in_remnants(k) = static_cast<double>(remnant_fraction);
      gr.unprocessed_mass_in_winds(k) = 1.0 - summed - static_cast<double>(remnant_fraction);
    }
    grids.push_back(std::move(gr));
  }
  prov.source_files = {source_name(file)};
  return yield_table(kind, std::move(prov), d.elements, std::move(grids));
}

}  // namespace detail

/// Provenance of CHEMPY's `SN2_feedback.TNG_net` table.
inline provenance tng_sn2_provenance() {
  provenance p;
  p.loader = "TNG_net";
  p.reference =
      "Kobayashi et al. 2006, ApJ 653, 1145 and Portinari, Chiosi & Bressan 1998, A&A 334, 505, "
      "as compiled and renormalised for IllustrisTNG by Pillepich et al. 2018, MNRAS 473, 4077";
  p.doi = "10.1086/508914; 10.1093/mnras/stx2656";
  p.yield_kind = "net";
  p.remnant_treatment = "(M - Ejected_mass)/M from the table, float32";
  p.notes =
      "Net yields y = Yield/M (float32); u = 1 - sum(y) - remnant (float64). The HDF5 Reference "
      "attribute says 'Portinari et al. 1998'. CHEMPY's loader docstring warns the table was "
      "renormalised for an IMF slope of -2.3 only. Metallicities are the file's float32 values.";
  return p;
}

/// Provenance of CHEMPY's `AGB_feedback.TNG_net` table.
inline provenance tng_agb_provenance() {
  provenance p;
  p.loader = "TNG_net";
  p.reference =
      "Karakas 2010, MNRAS 403, 1413; Doherty et al. 2014, MNRAS 437, 195; Fishlock et al. 2014, "
      "ApJ 797, 44; as compiled for IllustrisTNG by Pillepich et al. 2018, MNRAS 473, 4077";
  p.doi =
      "10.1111/j.1365-2966.2009.16198.x; 10.1093/mnras/stt1877; 10.1088/0004-637X/797/1/44; "
      "10.1093/mnras/stx2656";
  p.yield_kind = "net";
  p.remnant_treatment = "(M - Ejected_mass)/M from the table, float32";
  p.notes =
      "Masses stored descending (CHEMPY reverses them). The file lists a fifth yield name Z_0.05 "
      "without data; it is not a metallicity of the table. Metallicities are the file's float32 "
      "values.";
  return p;
}

/// Provenance of CHEMPY's `SN1a_feedback.TNG` table.
inline provenance tng_sn1a_provenance() {
  provenance p;
  p.loader = "TNG";
  p.reference =
      "W7 model: Nomoto, Thielemann & Yokoi 1984 / Nomoto et al. 1997 according to the CHEMPY "
      "loader and the paper; the file's Reference attribute says Thielemann et al. 2003 (ESO/MPA/"
      "MPE workshop, p. 331) as tabulated in Travaglio et al. 2004, A&A 425, 1029; compiled for "
      "IllustrisTNG by Pillepich et al. 2018, MNRAS 473, 4077";
  p.doi = "10.1093/mnras/stx2656";
  p.yield_kind = "gross";
  p.remnant_treatment = "no remnant: mass_in_remnants = -Mass [Msun] (CHEMPY's SN Ia convention)";
  p.notes =
      "One metallicity keyed 0.02 (float64). Mass = numpy float32 pairwise sum of all 42 yields "
      "(1.3743416); y = Yield/Mass in float32. CHEMPY's SN Ia table has no "
      "unprocessed_mass_in_winds column; it is stored as zeros.";
  return p;
}

/// Loads CHEMPY's `SN2_feedback.TNG_net` table from `SNII_hdf5_dump.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_tng_sn2(const std::filesystem::path& dump_file) {
  return detail::build_tng_grid_table(dump_file, channel::sn2, false, tng_sn2_provenance());
}

/// Loads CHEMPY's `AGB_feedback.TNG_net` table from `AGB_hdf5_dump.txt` (masses descending).
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_tng_agb(const std::filesystem::path& dump_file) {
  return detail::build_tng_grid_table(dump_file, channel::agb, true, tng_agb_provenance());
}

/// Loads CHEMPY's `SN1a_feedback.TNG` table from `SNIa_hdf5_dump.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_tng_sn1a(const std::filesystem::path& dump_file) {
  using namespace detail;
  const auto lines = read_lines(dump_file);
  std::vector<element> elements;
  std::vector<float> yields;
  std::vector<std::size_t> where;
  std::optional<long> declared;
  std::size_t declared_line = 0;
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != 2) {
      throw file_error(dump_file.string(), ln.number, tok[0],
                       "wrong column count: expected '<name> <value>', got " +
                           std::to_string(tok.size()) + " columns");
    }
    if (tok[0] == "Total_Metals") {
      (void)parse_number<float>(tok[1], {&dump_file, ln.number, "Total_Metals"});
      continue;
    }
    if (tok[0] == "Number_of_species") {
      const auto n = parse_number<double>(tok[1], {&dump_file, ln.number, "Number_of_species"});
      declared = static_cast<long>(n);
      declared_line = ln.number;
      continue;
    }
    auto e = element_from_tng_species(tok[0]);
    if (!e) {
      throw file_error(dump_file.string(), ln.number, tok[0],
                       "malformed row: unknown species '" + tok[0] + "'");
    }
    for (std::size_t i = 0; i < elements.size(); ++i) {
      if (elements[i] == *e) {
        throw file_error(dump_file.string(), ln.number, tok[0],
                         "duplicate species (first on line " + std::to_string(where[i]) + ")");
      }
    }
    const auto y = parse_number<float>(tok[1], {&dump_file, ln.number, tok[0]});
    require_nonnegative(y, {&dump_file, ln.number, tok[0]});
    elements.push_back(*e);
    yields.push_back(y);
    where.push_back(ln.number);
  }
  if (elements.empty()) throw file_error(dump_file.string(), 0, "", "no species rows");
  if (declared && *declared != static_cast<long>(elements.size())) {
    throw file_error(dump_file.string(), declared_line, "Number_of_species",
                     "declares " + std::to_string(*declared) + " species but the file lists " +
                         std::to_string(elements.size()));
  }
  const float mass = numpy_pairwise_sum(yields.data(), yields.size());
  require_positive(mass, {&dump_file, 0, "sum of yields (Mass)"});
  metallicity_grid g;
  g.metallicity = 0.02;
  g.mass = xt::xtensor<double, 1>({static_cast<double>(mass)});
  g.mass_in_remnants = xt::xtensor<double, 1>({-static_cast<double>(mass)});
  g.unprocessed_mass_in_winds = xt::zeros<double>({std::size_t{1}});
  g.net_yield = xt::zeros<double>({std::size_t{1}, elements.size()});
  for (std::size_t s = 0; s < elements.size(); ++s) {
    g.net_yield(0, s) = static_cast<double>(yields[s] / mass);
  }
  provenance p = tng_sn1a_provenance();
  p.source_files = {detail::source_name(dump_file)};
  std::vector<metallicity_grid> grids;
  grids.push_back(std::move(g));
  return yield_table(channel::sn1a, std::move(p), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields
