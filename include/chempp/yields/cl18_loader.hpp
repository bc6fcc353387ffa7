// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Limongi & Chieffi (2018, ApJS 237, 13) set R core-collapse yields averaged over
/// rotation velocities, reproducing CHEMPY's `SN2_feedback.CL18_net`.
///
/// Files `CL18/tab_yieldsnet_ele_exp.dec` (net yields) and `CL18/tab_yieldstot_ele_exp.dec`
/// (total ejecta), Msun per star, same layout: 12 blocks, each a header line
/// `ele Z A initial 013a000 … 120a000` and 53 element rows `symbol Z A initial y(13) … y(120)`.
/// Block k = 3·m + r: metallicity index m = 0 … 3 ([Fe/H] = 0, −1, −2, −3; header letter a … d)
/// and rotation index r = 0, 1, 2 (0, 150, 300 km/s). CHEMPY's arithmetic, per mass M:
///  * y_e = Σ_r (net_r[e](M)·w[m][r]) / M, accumulated from 0 in rotation order;
///  * remnant r_M = Σ_r (1 − T_r(M)/M)·w[m][r], T_r = numpy pairwise sum of the 53 total ejecta;
///  * u = (1 − r_M) − Σ_e y_e (element order);
/// with CHEMPY's hard-coded rotation weights w (below) and keys 0.0134, 0.00134, 0.000134,
/// 1.34e-05 for m = 0 … 3. Masses 13 15 20 25 30 40 60 80 120 (120 is outside the GCE window).

#include <array>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// CHEMPY's metallicity keys for [Fe/H] = 0, −1, −2, −3.
inline constexpr std::array<double, 4> cl18_metallicities{0.0134, 0.00134, 0.000134, 1.34e-05};

/// CHEMPY's rotation weights w[m][r] (rotation 0, 150, 300 km/s) per metallicity index m.
inline constexpr std::array<std::array<double, 3>, 4> cl18_rotation_weights{{
    {0.7, 0.3, 0.0},
    {0.6, 0.4, 0.0},
    {0.48, 0.48, 0.04},
    {0.05, 0.7, 0.25},
}};

/// Initial masses [Msun] of the nine yield columns.
inline constexpr std::array<double, 9> cl18_masses{13., 15., 20., 25., 30., 40., 60., 80., 120.};

/// Provenance of CHEMPY's `SN2_feedback.CL18_net` table.
inline provenance cl18_provenance() {
  return {
      .loader = "CL18_net",
      .reference = "Limongi & Chieffi 2018, ApJS 237, 13 (set R, rotation-averaged)",
      .doi = "10.3847/1538-4365/aacb24",
      .yield_kind = "net",
      .remnant_treatment =
          "rotation-weighted 1 - (sum of the total ejecta of tab_yieldstot_ele_exp.dec)/M",
      .source_files = {},
      .notes =
          "Net yields averaged over the 0, 150, 300 km/s models with CHEMPY's hard-coded weights "
          "[[0.7,0.3,0],[0.6,0.4,0],[0.48,0.48,0.04],[0.05,0.7,0.25]] for Z = 0.0134, 0.00134, "
          "0.000134, 1.34e-05; u = (1 - r) - sum(y). At low Z the >= 30 Msun models collapse "
          "directly (remnant 0.6-0.93).",
  };
}

namespace detail {

/// One CL18 file: [block][element row][mass] values and the element list of block 0.
struct cl18_file {
  std::vector<element> elements;
  std::vector<std::vector<std::array<double, 9>>> blocks;
};

inline cl18_file read_cl18(const std::filesystem::path& file) {
  const auto lines = read_lines(file);
  cl18_file out;
  static const std::array<const char*, 3> rotation{"000", "150", "300"};
  std::vector<element> block_elements;
  auto finish_block = [&](std::size_t line) {
    if (out.blocks.empty()) return;
    if (out.blocks.size() == 1) {
      out.elements = block_elements;
    } else if (block_elements != out.elements) {
      throw file_error(file.string(), line, "ele",
                       "block " + std::to_string(out.blocks.size() - 1) +
                           " lists different elements (or a different order) than block 0");
    }
  };
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    if (tok.size() != 13) {
      throw file_error(file.string(), ln.number, tok[0],
                       "wrong column count: expected 13 (ele Z A initial + 9 masses), got " +
                           std::to_string(tok.size()));
    }
    if (tok[0] == "ele") {
      finish_block(ln.number);
      const std::size_t k = out.blocks.size();
      if (k >= 12) throw file_error(file.string(), ln.number, "ele", "more than 12 blocks");
      const char letter = static_cast<char>('a' + k / 3);
      for (std::size_t c = 0; c < 9; ++c) {
        char expect[16];
        std::snprintf(expect, sizeof expect, "%03d%c%s", static_cast<int>(cl18_masses[c]), letter,
                      rotation[k % 3]);
        if (tok[4 + c] != expect) {
          throw file_error(file.string(), ln.number, "header column " + std::to_string(5 + c),
                           "expected '" + std::string(expect) + "', got '" + tok[4 + c] + "'");
        }
      }
      out.blocks.emplace_back();
      block_elements.clear();
      continue;
    }
    if (out.blocks.empty()) {
      throw file_error(file.string(), ln.number, tok[0], "data row before the first header");
    }
    block_elements.push_back(element_from_symbol(tok[0], {&file, ln.number, "ele"}));
    std::array<double, 9> v{};
    for (std::size_t c = 0; c < 9; ++c) {
      v[c] = parse_number<double>(
          tok[4 + c], {&file, ln.number, tok[0] + " at M = " + shortest_repr(cl18_masses[c])});
    }
    out.blocks.back().push_back(v);
  }
  finish_block(0);
  if (out.blocks.size() != 12) {
    throw file_error(file.string(), 0, "ele",
                     "expected 12 blocks (4 metallicities x 3 rotations), got " +
                         std::to_string(out.blocks.size()));
  }
  return out;
}

}  // namespace detail

/// Loads CHEMPY's `SN2_feedback.CL18_net` table from the `CL18/` folder.
/// \throws file_error naming file, line and field on missing or malformed input, or when the net
///         and total files list different elements.
inline yield_table load_cl18_sn2(const std::filesystem::path& dir) {
  using namespace detail;
  const auto net_file = dir / "tab_yieldsnet_ele_exp.dec";
  const auto tot_file = dir / "tab_yieldstot_ele_exp.dec";
  const cl18_file net = read_cl18(net_file);
  const cl18_file tot = read_cl18(tot_file);
  if (net.elements != tot.elements) {
    throw file_error(tot_file.string(), 0, "ele", "lists different elements than the net file");
  }
  const std::size_t ne = net.elements.size();
  const std::size_t nm = cl18_masses.size();
  std::vector<metallicity_grid> grids;
  for (std::size_t mi = cl18_metallicities.size(); mi-- > 0;) {  // ascending Z
    const auto& w = cl18_rotation_weights[mi];
    metallicity_grid g = zero_grid(cl18_metallicities[mi], nm, ne);
    for (std::size_t k = 0; k < nm; ++k) {
      const double mass = cl18_masses[k];
      g.mass(k) = mass;
      double rem = 0.0;
      for (std::size_t r = 0; r < 3; ++r) {
        const auto& block = tot.blocks[3 * mi + r];
        std::vector<double> col(ne);
        for (std::size_t e = 0; e < ne; ++e) col[e] = block[e][k];
        rem += rounded((1.0 - numpy_pairwise_sum(col.data(), ne) / mass) * w[r]);
      }
      g.mass_in_remnants(k) = rem;
      for (std::size_t e = 0; e < ne; ++e) {
        double y = 0.0;
        for (std::size_t r = 0; r < 3; ++r) y += net.blocks[3 * mi + r][e][k] * w[r] / mass;
        g.net_yield(k, e) = y;
      }
    }
    close_with_unprocessed_after_remnant(g);
    grids.push_back(std::move(g));
  }
  provenance p = cl18_provenance();
  p.source_files = {source_name(net_file), source_name(tot_file)};
  return yield_table(channel::sn2, std::move(p), net.elements, std::move(grids));
}

}  // namespace chempp::yields
