// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Abundance arithmetic: element masses → number ratios → [X/H], [X/Fe], [Fe/H] [dex], exactly as
/// CHEMPY's `making_abundances.mass_fraction_to_abundances` (Rybizki et al. 2017, A&A 605, A59)
/// with Asplund et al. (2009) photospheric solar reference (docs/science.md, "Abundances").
///
/// Special values follow CHEMPY, but never silently: each result carries a status.
/// * a zero mass of X gives [X/H] = -inf (status `zero_mass`);
/// * a negative mass gives NaN (status `negative_mass`; CHEMPY's assert on it is ineffective);
/// * if [Fe/H] is not finite, every other [X/Fe] is +inf (status `iron_undefined`).

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"

namespace chempp {

/// Outcome of an abundance conversion. Ordered by severity.
enum class abundance_status {
  ok,              ///< every value finite
  zero_mass,       ///< some element (or H) has zero mass: -inf/+inf values present
  iron_undefined,  ///< [Fe/H] not finite: all [X/Fe] set to +inf as CHEMPY does
  negative_mass,   ///< some mass negative: NaN values present
};

/// Human-readable name of a status.
[[nodiscard]] constexpr const char* to_string(abundance_status s) noexcept {
  switch (s) {
    case abundance_status::ok: return "ok";
    case abundance_status::zero_mass: return "zero_mass";
    case abundance_status::iron_undefined: return "iron_undefined";
    case abundance_status::negative_mass: return "negative_mass";
  }
  return "unknown";
}

/// Status plus the first element responsible for it (if any).
struct abundance_report {
  abundance_status status = abundance_status::ok;
  std::optional<element> culprit;
  [[nodiscard]] bool ok() const noexcept { return status == abundance_status::ok; }
};

/// Number ratio N_X/N_Y from masses m_X, m_Y (any common unit) and atomic weights.
[[nodiscard]] constexpr double number_ratio(double mass_x, element x, double mass_y,
                                            element y) noexcept {
  return (mass_x / x.atomic_mass()) / (mass_y / y.atomic_mass());
}

/// [X/H] = log10(N_X/N_H) - log10(N_X/N_H)_sun [dex] from element masses (Asplund 2009 sun).
/// Zero m_X gives -inf, negative gives NaN (as numpy does in CHEMPY).
[[nodiscard]] inline double x_over_h(double mass_x, element x, double mass_h) noexcept {
  const double ratio = number_ratio(mass_x, x, mass_h, elements::H);
  return std::log10(ratio) + 12.0 - x.solar_logeps();
}

namespace detail {
inline void raise(abundance_report& r, abundance_status s, element e) {
  if (static_cast<int>(s) > static_cast<int>(r.status)) {
    r.status = s;
    r.culprit = e;
  }
}
}  // namespace detail

/// CHEMPY's output vector from element masses (or mass fractions) `masses[i]` of `elems[i]`:
/// [X/Fe] for X ≠ Fe and X ≠ H, [Fe/H] for Fe, and -[Fe/H] for H (CHEMPY's quirk), written to
/// `out[i]` [dex]. Needs H and Fe among `elems`; `elems` must list each element once and have
/// a solar abundance. Does not allocate.
/// \throws invalid_argument on mismatched sizes, missing H/Fe or an element without solar value.
inline abundance_report chempy_abundances(std::span<const double> masses,
                                          std::span<const element> elems,
                                          std::span<double> out) {
  constexpr const char* fn = "chempp::chempy_abundances";
  if (masses.size() != elems.size() || out.size() != elems.size()) {
    throw invalid_argument(std::string(fn) + ": masses, elements and output differ in size (" +
                           std::to_string(masses.size()) + ", " + std::to_string(elems.size()) +
                           ", " + std::to_string(out.size()) + ")");
  }
  std::size_t ih = elems.size(), ife = elems.size();
  for (std::size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i].has_solar_abundance()) {
      throw invalid_argument(std::string(fn) + ": element " + std::string(elems[i].symbol()) +
                             " has no Asplund 2009 photospheric abundance");
    }
    if (elems[i] == elements::H) ih = i;
    if (elems[i] == elements::Fe) ife = i;
  }
  if (ih == elems.size() || ife == elems.size()) {
    throw invalid_argument(std::string(fn) + ": the element list must contain H and Fe");
  }
  abundance_report report;
  const double mh = masses[ih];
  for (std::size_t i = 0; i < elems.size(); ++i) {
    if (masses[i] < 0.0 || std::isnan(masses[i])) {
      detail::raise(report, abundance_status::negative_mass, elems[i]);
    } else if (masses[i] == 0.0) {
      detail::raise(report, abundance_status::zero_mass, elems[i]);
    }
    out[i] = x_over_h(masses[i], elems[i], mh);
  }
  const double fe_h = out[ife];
  const bool fe_finite = std::isfinite(fe_h);
  if (!fe_finite && report.status != abundance_status::negative_mass) {
    detail::raise(report, abundance_status::iron_undefined, elements::Fe);
  }
  for (std::size_t i = 0; i < elems.size(); ++i) {
    if (i == ife) continue;
    if (i == ih) {
      out[i] = -fe_h;
    } else if (!fe_finite) {
      out[i] = std::numeric_limits<double>::infinity();
    } else {
      out[i] -= fe_h;
    }
  }
  return report;
}

}  // namespace chempp
