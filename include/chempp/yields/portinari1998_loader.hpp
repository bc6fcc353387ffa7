// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Portinari, Chiosi & Bressan (1998, A&A 334, 505) core-collapse net yields,
/// reproducing CHEMPY's `SN2_feedback.Portinari_net`.
///
/// Files `Portinari_1998/0.0004.txt`, `0.004.txt`, `0.008.txt`, `0.02.txt`, `0.05.txt`: a
/// `#`-prefixed header `Mass ejected_mass total_metals H He C N O Ne Mg Si S Ca Fe`, then one row
/// per model (6 7 9 12 15 20 30 40 60 100 120 Msun), values in Msun per star (net yields).
/// CHEMPY's arithmetic: y_X = X/M; r = (M − ejected_mass)/M; u = 1 − (r + Σ_X y_X).
/// The 6, 7 and 120 Msun rows are kept (the GCE model drops them: outside 8–100 Msun).

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Metallicities CHEMPY's `Portinari_net` reads (file `<Z>.txt`), ascending.
inline constexpr std::array<double, 5> portinari1998_metallicities{0.0004, 0.004, 0.008, 0.02,
                                                                   0.05};

/// Provenance of CHEMPY's `SN2_feedback.Portinari_net` table.
inline provenance portinari1998_provenance() {
  return {
      .loader = "Portinari_net",
      .reference = "Portinari, Chiosi & Bressan 1998, A&A 334, 505",
      .doi = "",
      .yield_kind = "net",
      .remnant_treatment = "(M - ejected_mass)/M from the table",
      .source_files = {},
      .notes =
          "y = net yield / M; u = 1 - (r + sum(y)). Elements H He C N O Ne Mg Si S Ca Fe. The 6, 7 "
          "and 120 Msun rows lie outside CHEMPY's 8-100 Msun SN II window (bibcode "
          "1998A&A...334..505P).",
  };
}

/// Loads CHEMPY's `SN2_feedback.Portinari_net` table from the `Portinari_1998/` folder.
/// \throws file_error naming file, line and field on missing or malformed input, or when the
///         files list different masses or elements.
inline yield_table load_portinari1998_sn2(const std::filesystem::path& dir) {
  using namespace detail;
  provenance p = portinari1998_provenance();
  std::vector<metallicity_grid> grids;
  std::vector<element> elements;
  std::vector<std::string> first_names;
  for (double z : portinari1998_metallicities) {
    const auto file = dir / (shortest_repr(z) + ".txt");
    const column_table t = read_column_table(file, header_style::comment);
    if (t.names.size() < 4 || t.names[0] != "Mass" || t.names[1] != "ejected_mass" ||
        t.names[2] != "total_metals") {
      throw file_error(file.string(), t.header_line, "header",
                       "malformed header: expected '# Mass ejected_mass total_metals <elements…>'");
    }
    if (grids.empty()) {
      first_names = t.names;
      for (std::size_t c = 3; c < t.names.size(); ++c) {
        elements.push_back(element_from_symbol(
            t.names[c], {&file, t.header_line, "header column " + std::to_string(c + 1)}));
      }
    } else if (t.names != first_names) {
      throw file_error(file.string(), t.header_line, "header",
                       "columns differ from those of " + p.source_files.front());
    }
    if (t.rows.empty()) throw file_error(file.string(), 0, "", "no data rows");
    metallicity_grid g = zero_grid(z, t.rows.size(), elements.size());
    for (std::size_t m = 0; m < t.rows.size(); ++m) {
      const auto& r = t.rows[m];
      const double mass = r.values[0];
      require_positive(mass, {&file, r.line, "Mass"});
      if (!grids.empty() &&
          (grids.front().mass.size() != t.rows.size() || grids.front().mass(m) != mass)) {
        throw file_error(file.string(), r.line, "Mass",
                         "mass grid differs from that of " + p.source_files.front());
      }
      const double ejected = r.values[1];
      require_nonnegative(ejected, {&file, r.line, "ejected_mass"});
      if (ejected > mass) {
        throw file_error(file.string(), r.line, "ejected_mass",
                         "ejected mass exceeds the initial mass");
      }
      g.mass(m) = mass;
      g.mass_in_remnants(m) = (mass - ejected) / mass;
      for (std::size_t e = 0; e < elements.size(); ++e) g.net_yield(m, e) = r.values[3 + e] / mass;
    }
    close_with_unprocessed(g);
    p.source_files.push_back(source_name(file));
    grids.push_back(std::move(g));
  }
  return yield_table(channel::sn2, std::move(p), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields
