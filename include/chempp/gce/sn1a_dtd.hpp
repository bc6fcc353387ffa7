// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// SN Ia delay-time distributions (DTD). CHEMPY (Rybizki et al. 2017; Buck et al. 2025) uses the
/// Maoz, Mannucci & Brandt (2012, MNRAS 426, 3282) power law ∝ t^−1.12 starting at τ_Ia. The
/// shape is *sampled* at the SSP's time grid points (not integrated over steps), extended by steps
/// of dt up to 13.8 Gyr, normalised to sum 1 over that extended grid and multiplied by N_Ia
/// (SN Ia per Msun formed): the sampling itself lives in the integrator (one_zone.hpp); a DTD
/// policy only provides the unnormalised shape. See docs/chempy-model.md §6.5.

#include <cmath>
#include <concepts>
#include <cstddef>

#include "chempp/core/error.hpp"
#include "chempp/gce/imf.hpp"

namespace chempp::gce {

/// A SN Ia delay-time distribution shape: rate(t) up to a constant, t = SSP age [Gyr].
template <class D>
concept DelayTimeDistribution = requires(const D& d, double t) {
  { d.shape(t) } -> std::convertible_to<double>;
  { d.normalisation_end_gyr() } -> std::convertible_to<double>;
};

/// Maoz et al. (2012) power law as coded in CHEMPY's `maoz_timedelay`: 0 for t < τ_Ia, else
/// (t/τ_Ia)^(−s)·(s−1)/τ_Ia. Normalised over [0, 13.8 Gyr] (CHEMPY's hard-coded `end_of_time`).
struct maoz_dtd {
  double tau_ia_gyr = 0.04;          ///< minimum delay τ_Ia [Gyr] (paper's code: 0.04)
  double exponent = 1.12;            ///< power-law index s
  double end_of_time_gyr = 13.8;     ///< normalisation horizon [Gyr]

  /// Domain of τ_Ia [Gyr]: the minimum delay is the lifetime of the most massive SN Ia
  /// progenitor, ~0.04 Gyr (Maoz et al. 2012); [0.001, 1] Gyr holds every published value.
  /// Below it the rate underflows (τ_Ia = 1e-300 disabled SN Ia without a word).
  static constexpr double tau_ia_lo_gyr = 1e-3, tau_ia_hi_gyr = 1.0;
  /// Domain of s: s > 1 (the power law is normalisable only then; s ≤ 1 gave zero SN Ia), and
  /// s ≤ 3 (observed slopes are 1.0–1.5; Maoz et al. 2012, 2014).
  static constexpr double exponent_hi = 3.0;

  /// \throws invalid_argument for τ_Ia outside [0.001, 1] Gyr, s outside (1, 3] or non-finite values.
  explicit maoz_dtd(double tau_ia = 0.04, double s = 1.12) : tau_ia_gyr(tau_ia), exponent(s) {
    check_in_closed("chempp::gce::maoz_dtd", "tau_ia_gyr", tau_ia, tau_ia_lo_gyr, tau_ia_hi_gyr);
    check_in_closed("chempp::gce::maoz_dtd", "exponent", s, 1.0, exponent_hi);
    if (!(s > 1.0)) chempp::detail::throw_argument("chempp::gce::maoz_dtd", "exponent", "must exceed 1 (normalisable power law)", s);
  }
  /// Unnormalised rate at age t [Gyr].
  [[nodiscard]] double shape(double t) const noexcept {
    if (!(t >= tau_ia_gyr)) return 0.0;
    return std::pow(t / tau_ia_gyr, -1.0 * exponent) * ((exponent - 1.0) / tau_ia_gyr);
  }
  /// The same rate at t_m = m·dt for m in [m0, m1) (out[m − m0]), given ln m in log_m[m]:
  /// exp(−s·(ln m + ln(dt/τ_Ia)))·(s − 1)/τ_Ia through the vectorisable exp, within a few ulp
  /// of `shape` (the model uses it only for the long normalisation sum, where it moves results
  /// by round-off). Returns false, writing nothing, when the exponent could leave exp's range.
  bool shape_on_grid(double dt, const double* log_m, std::size_t m0, std::size_t m1,
                     double* out) const noexcept {
    if (m1 <= m0) return true;
    const double l_dt = std::log(dt / tau_ia_gyr);
    const double amp = (exponent - 1.0) / tau_ia_gyr;
    const double s = -1.0 * exponent;
    const double y_lo = s * (log_m[m0] + l_dt), y_hi = s * (log_m[m1 - 1] + l_dt);
    if (!(std::fabs(y_lo) < 700.0 && std::fabs(y_hi) < 700.0)) return false;  // monotone in m
    for (std::size_t m = m0; m < m1; ++m) {
      const double t = static_cast<double>(m) * dt;
      const double v = detail::fast_exp(s * (log_m[m] + l_dt)) * amp;
      out[m - m0] = t >= tau_ia_gyr ? v : 0.0;
    }
    return true;
  }
  /// Horizon of the normalisation sum [Gyr].
  [[nodiscard]] double normalisation_end_gyr() const noexcept { return end_of_time_gyr; }
};

/// Exponential DTD (e.g. Matteucci & Greggio 1986-style single timescale): 0 before τ_Ia, then
/// exp(−(t − τ_Ia)/τ_decay). Same sampling and normalisation as `maoz_dtd`. Not the paper's.
struct exponential_dtd {
  double tau_ia_gyr = 0.04;      ///< delay before the first SN Ia [Gyr]
  double decay_gyr = 1.5;        ///< e-folding time [Gyr]
  double end_of_time_gyr = 13.8; ///< normalisation horizon [Gyr]

  /// \throws invalid_argument for a negative delay or a non-positive decay time.
  explicit exponential_dtd(double tau_ia = 0.04, double decay = 1.5)
      : tau_ia_gyr(tau_ia), decay_gyr(decay) {
    check_nonnegative("chempp::gce::exponential_dtd", "tau_ia_gyr", tau_ia);
    check_positive("chempp::gce::exponential_dtd", "decay_gyr", decay);
  }
  /// Unnormalised rate at age t [Gyr].
  [[nodiscard]] double shape(double t) const noexcept {
    if (!(t >= tau_ia_gyr)) return 0.0;
    return std::exp(-(t - tau_ia_gyr) / decay_gyr);
  }
  /// Horizon of the normalisation sum [Gyr].
  [[nodiscard]] double normalisation_end_gyr() const noexcept { return end_of_time_gyr; }
};

static_assert(DelayTimeDistribution<maoz_dtd>);
static_assert(DelayTimeDistribution<exponential_dtd>);

}  // namespace chempp::gce
