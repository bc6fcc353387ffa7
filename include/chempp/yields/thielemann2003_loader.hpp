// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the Thielemann et al. (2003) SN Ia yields as compiled by Travaglio et al. (2004),
/// CHEMPY's `SN1a_feedback.Thielemann` (`input/yields/Thielemann2003/0.02.txt`).
///
/// Format: a whitespace table with the header `Mass mass_in_remnants <element symbols…>` and one
/// row per model (the file has one): total ejected mass [Msun], `mass_in_remnants` (= −Mass, the
/// SN Ia convention of CHEMPY) and the ejected mass of each element [Msun]. CHEMPY stores
/// y_X = ejecta_X / 1.37409 (its hard-coded mass, equal to the file's Mass column); we divide by
/// the file's Mass column. One metallicity, keyed 0.02.

#include <filesystem>

#include "chempp/yields/detail/column_table.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// Provenance of CHEMPY's `SN1a_feedback.Thielemann` table.
inline provenance thielemann2003_provenance() {
  provenance p;
  p.loader = "Thielemann";
  p.reference =
      "Thielemann et al. 2003, in From Twilight to Highlight: The Physics of Supernovae "
      "(ESO/MPA/MPE Workshop), p. 331 (W7-type model), as tabulated in Travaglio et al. 2004, "
      "A&A 425, 1029";
  p.doi = "";
  p.yield_kind = "gross";
  p.remnant_treatment = "no remnant: mass_in_remnants = -Mass [Msun] as given in the file";
  p.notes =
      "One metallicity keyed 0.02; y = ejected mass / Mass (CHEMPY divides by its hard-coded "
      "1.37409, equal to the file's Mass). CHEMPY's SN Ia table has no unprocessed_mass_in_winds "
      "column; it is stored as zeros. Nearly the same data as the TNG SN Ia table "
      "(Fe 0.769 vs 0.743 Msun).";
  return p;
}

/// Loads CHEMPY's `SN1a_feedback.Thielemann` table from `Thielemann2003/0.02.txt`.
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_table load_thielemann2003_sn1a(const std::filesystem::path& file) {
  return detail::load_single_row_sn1a(file, thielemann2003_provenance());
}

}  // namespace chempp::yields
