// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Nomoto, Kobayashi & Tominaga (2013, ARA&A 51, 457) core-collapse SN yields,
/// reproducing CHEMPY's `SN2_feedback.Nomoto2013` (not `Nomoto2013_net`).
///
/// File format (`nomoto_2013_z=0.0200.dat`): whitespace table; first row `M` and 27 initial
/// masses [Msun] (0.9 … 10 AGB part, then 13 15 18 20 25 30 40 CC-SN part), second row `Mrem`
/// (remnant mass [Msun]), then one row per isotope (`H__1`, `He_3`, `Ne20`, …) with the ejected
/// mass per star [Msun]. CHEMPY's arithmetic, reproduced here:
///  * only the seven CC-SN columns (13 … 40 Msun) are used;
///  * isotopes are summed per element in file order, y_X = Σ_iso ejecta/M — **gross** ejecta,
///    not net yields; the K-40 isotope is counted as calcium (CHEMPY's `calcium_list`);
///  * remnant fraction = Mrem/M; u = (1 − remnant) − Σ_X y_X (0.005 … 0.45: mass the isotope
///    table does not list, released with the birth composition).
///
/// Also CHEMPY's `SN2_feedback.Nomoto2013_net`: the pre-computed net tables
/// `nomoto_net_met_ind_<i>.npy` (numpy structured arrays, 7 rows 13 … 40 Msun, float64 fields
/// Mass, mass_in_remnants, unprocessed_mass_in_winds, H … Ge) read verbatim, i = 0 … 4 ↔
/// Z = 0.05, 0.02, 0.008, 0.004, 0.001.

#include <array>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/npy.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Metallicities CHEMPY's `Nomoto2013` loader reads (file `nomoto_2013_z=%.4f.dat` each).
inline constexpr std::array<double, 5> nomoto2013_metallicities{0.001, 0.004, 0.008, 0.02, 0.05};

/// The CC-SN initial masses [Msun] CHEMPY uses (columns 21 … 27 of each row).
inline constexpr std::array<double, 7> nomoto2013_cc_masses{13., 15., 18., 20., 25., 30., 40.};

/// Provenance of CHEMPY's `SN2_feedback.Nomoto2013` table.
inline provenance nomoto2013_provenance() {
  provenance p;
  p.loader = "Nomoto2013";
  p.reference = "Nomoto, Kobayashi & Tominaga 2013, ARA&A 51, 457";
  p.doi = "10.1146/annurev-astro-082812-140956";
  p.yield_kind = "gross";
  p.remnant_treatment = "Mrem/M from the table's Mrem row";
  p.notes =
      "Only the CC-SN columns 13-40 Msun are used (the 0.9-10 Msun AGB columns are ignored, as in "
      "CHEMPY). Isotopes summed per element; K-40 counted as Ca. y = total (gross) ejecta / M, "
      "not net yields; u = 1 - remnant - sum(y) is the mass the isotope table does not list. "
      "CHEMPY also loads the hypernova tables and mixes them with weight 0 (no effect; not "
      "loaded here).";
  return p;
}

namespace detail {

/// Element of a Nomoto isotope label ("H__1" → H, "Ne20" → Ne, "K_40" → Ca as in CHEMPY).
inline element nomoto_isotope_element(const std::string& label, const field_ref& at) {
  std::size_t i = 0;
  while (i < label.size() && std::isalpha(static_cast<unsigned char>(label[i])) != 0) ++i;
  std::size_t j = i;
  while (j < label.size() && label[j] == '_') ++j;
  std::size_t k = j;
  while (k < label.size() && std::isdigit(static_cast<unsigned char>(label[k])) != 0) ++k;
  if (i == 0 || k == j || k != label.size()) {
    throw file_error(at.file->string(), at.line, at.field,
                     "malformed isotope label '" + label + "'");
  }
  const std::string symbol = label.substr(0, i);
  if (symbol == "K" && label.substr(j) == "40") return element(20);  // CHEMPY: K-40 -> Ca
  return element_from_symbol(symbol, at);
}

/// One metallicity of the Nomoto 2013 table and the elements it lists (ascending Z).
inline std::pair<metallicity_grid, std::vector<element>> load_nomoto2013_grid(
    const std::filesystem::path& file, double metallicity) {
  const auto lines = read_lines(file);
  std::vector<std::pair<std::size_t, std::vector<std::string>>> rows;
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    rows.emplace_back(ln.number, split(ln.text));
  }
  if (rows.size() < 3) {
    throw file_error(file.string(), 0, "", "too few rows (need M, Mrem and isotope rows)");
  }
  const auto& [mline, mtok] = rows[0];
  if (mtok[0] != "M") {
    throw file_error(file.string(), mline, "M", "first row must be 'M <masses…>'");
  }
  const std::size_t ncol = mtok.size();
  if (ncol < 8) {
    throw file_error(file.string(), mline, "M",
                     "wrong column count: need at least 7 masses, got " + std::to_string(ncol - 1));
  }
  std::vector<double> all_masses;
  for (std::size_t c = 1; c < ncol; ++c) {
    const field_ref at{&file, mline, "M[" + std::to_string(c - 1) + "]"};
    all_masses.push_back(parse_number<double>(mtok[c], at));
    require_positive(all_masses.back(), at);
  }
  require_strictly_increasing(all_masses, {&file, mline, "M"});
  // CHEMPY takes the last seven columns (21 … 27 in a 28-column row) as 13 … 40 Msun.
  const std::size_t first = ncol - nomoto2013_cc_masses.size();
  for (std::size_t k = 0; k < nomoto2013_cc_masses.size(); ++k) {
    if (all_masses[first - 1 + k] != nomoto2013_cc_masses[k]) {
      throw file_error(file.string(), mline, "M[" + std::to_string(first - 1 + k) + "]",
                       "expected the CC-SN mass " +
                           chempp::detail::format_value(nomoto2013_cc_masses[k]) + " Msun, got " +
                           chempp::detail::format_value(all_masses[first - 1 + k]));
    }
  }
  const std::size_t nm = nomoto2013_cc_masses.size();
  auto row_values = [&](std::size_t r, const std::string& name) {
    const auto& [line, tok] = rows[r];
    if (tok.size() != ncol) {
      throw file_error(file.string(), line, name,
                       "wrong column count: expected " + std::to_string(ncol) + ", got " +
                           std::to_string(tok.size()));
    }
    std::vector<double> v(nm);
    for (std::size_t k = 0; k < nm; ++k) {
      const field_ref at{&file, line,
                         name + " at M = " + chempp::detail::format_value(nomoto2013_cc_masses[k])};
      v[k] = parse_number<double>(tok[first + k], at);
      require_nonnegative(v[k], at);
    }
    // the AGB columns are unused, but must still be numbers
    for (std::size_t c = 1; c < first; ++c) {
      (void)parse_number<double>(tok[c], {&file, line, name + "[" + std::to_string(c - 1) + "]"});
    }
    return v;
  };
  if (rows[1].second[0] != "Mrem") {
    throw file_error(file.string(), rows[1].first, "Mrem", "second row must be 'Mrem <…>'");
  }
  const auto mrem = row_values(1, "Mrem");
  // element -> summed ejecta fraction, isotopes accumulated in file order
  std::map<int, std::vector<double>> by_z;
  std::map<std::string, std::size_t> seen;
  for (std::size_t r = 2; r < rows.size(); ++r) {
    const std::string& label = rows[r].second[0];
    if (seen.count(label) != 0) {
      throw file_error(file.string(), rows[r].first, label,
                       "duplicate isotope row (first on line " + std::to_string(seen[label]) + ")");
    }
    seen[label] = rows[r].first;
    const element e = nomoto_isotope_element(label, {&file, rows[r].first, label});
    const auto v = row_values(r, label);
    auto& acc = by_z[e.atomic_number()];
    if (acc.empty()) acc.assign(nm, 0.0);
    for (std::size_t k = 0; k < nm; ++k) acc[k] += v[k] / nomoto2013_cc_masses[k];
  }
  std::vector<element> elements;
  for (const auto& [z, v] : by_z) elements.emplace_back(z);
  metallicity_grid g;
  g.metallicity = metallicity;
  g.mass = xt::zeros<double>({nm});
  g.mass_in_remnants = xt::zeros<double>({nm});
  g.unprocessed_mass_in_winds = xt::zeros<double>({nm});
  g.net_yield = xt::zeros<double>({nm, elements.size()});
  for (std::size_t k = 0; k < nm; ++k) {
    const double m = nomoto2013_cc_masses[k];
    if (mrem[k] > m) {
      throw file_error(file.string(), rows[1].first,
                       "Mrem at M = " + chempp::detail::format_value(m),
                       "remnant mass exceeds the initial mass");
    }
    g.mass(k) = m;
    g.mass_in_remnants(k) = mrem[k] / m;
    double sum = 0.0;
    std::size_t e = 0;
    for (const auto& [z, v] : by_z) {
      g.net_yield(k, e++) = v[k];
      sum += v[k];
    }
    g.unprocessed_mass_in_winds(k) = 1.0 - g.mass_in_remnants(k) - sum;
  }
  return {std::move(g), std::move(elements)};
}

}  // namespace detail

/// Loads CHEMPY's `SN2_feedback.Nomoto2013` table from the folder holding
/// `nomoto_2013_z=0.0010.dat` … `nomoto_2013_z=0.0500.dat`.
/// \param metallicities the Z values to read (file name `nomoto_2013_z=%.4f.dat`), ascending.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_nomoto2013_sn2(const std::filesystem::path& dir,
                                       const std::vector<double>& metallicities = {
                                           nomoto2013_metallicities.begin(),
                                           nomoto2013_metallicities.end()}) {
  std::vector<metallicity_grid> grids;
  std::vector<element> elements;
  provenance p = nomoto2013_provenance();
  for (double z : metallicities) {
    std::array<char, 64> name{};
    std::snprintf(name.data(), name.size(), "nomoto_2013_z=%.4f.dat", z);
    const auto file = dir / name.data();
    auto [g, els] = detail::load_nomoto2013_grid(file, z);
    if (grids.empty()) {
      elements = els;
    } else if (els != elements) {
      throw file_error(file.string(), 0, "isotope rows",
                       "lists a different set of elements than " + p.source_files.front());
    }
    p.source_files.push_back(detail::source_name(file));
    grids.push_back(std::move(g));
  }
  return yield_table(channel::sn2, std::move(p), std::move(elements), std::move(grids));
}

/// Provenance of CHEMPY's `SN2_feedback.Nomoto2013_net` table.
inline provenance nomoto2013_net_provenance() {
  return {
      .loader = "Nomoto2013_net",
      .reference = "Nomoto, Kobayashi & Tominaga 2013, ARA&A 51, 457",
      .doi = "10.1146/annurev-astro-082812-140956",
      .yield_kind = "net",
      .remnant_treatment = "pre-computed by the CHEMPY authors (equal to Mrem/M of Nomoto2013)",
      .source_files = {},
      .notes =
          "Net tables pre-computed by the CHEMPY authors and read verbatim from "
          "nomoto_net_met_ind_<i>.npy (i = 0..4 <-> Z = 0.05, 0.02, 0.008, 0.004, 0.001); which "
          "initial composition they subtract is not documented. CHEMPY also parses the .dat files "
          "without using them (not read here).",
  };
}

/// Loads CHEMPY's `SN2_feedback.Nomoto2013_net` table from the `Nomoto2013/` folder
/// (`nomoto_net_met_ind_0.npy` … `_4.npy`).
/// \throws file_error naming file and field on missing or malformed input, or when the files
///         list different elements.
inline yield_table load_nomoto2013_net_sn2(const std::filesystem::path& dir) {
  // index i of the npy files <-> CHEMPY's metallicity list [0.05, 0.02, 0.008, 0.004, 0.001]
  constexpr std::array<double, 5> z_of_index{0.05, 0.02, 0.008, 0.004, 0.001};
  return detail::load_npy_tables(channel::sn2, nomoto2013_net_provenance(), dir,
                                 "nomoto_net_met_ind_", {z_of_index.begin(), z_of_index.end()});
}

}  // namespace chempp::yields
