// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Star-formation history shapes and the time-grid policies of the one-zone model.
///
/// CHEMPY (Rybizki et al. 2017; Buck et al. 2025 §2.2) uses a gamma-function SFR with shape k = 2
/// and scale θ = SFR_peak [Gyr] (peak at t = θ). `chempy_time_grid` reproduces CHEMPY's
/// `shorten_sfr`: the run always ends at the grid point nearest the birth time T with dt = T/27,
/// the 5 % test rejects SFHs that have (almost) stopped at T, and the corona ("gas reservoir")
/// is scaled by 1/r with r the fraction of all star formation (to 13.8 Gyr) that happens before
/// T. `fixed_time_grid` is an extension (not CHEMPY): n equal steps to T, no 5 % test, no
/// rescaling, so the track gives abundances at every intermediate birth time of one galaxy.
/// See docs/chempy-model.md §3–4 and docs/gce.md.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>

#include "chempp/core/error.hpp"

namespace chempp::gce {

/// An SFH shape: unnormalised star-formation rate at time t [Gyr] for scale parameter [Gyr].
template <class S>
concept StarFormationHistory = requires(const S& s, double t, double scale) {
  { s.rate(t, scale) } -> std::convertible_to<double>;
};

/// Gamma-function SFR (scipy.stats.gamma.pdf with a = 2, loc = 0): t/θ²·exp(−t/θ); a grid value
/// of exactly 0 (t = 0) is replaced by 1e−10 as CHEMPY's `SFR.gamma_function` does.
struct gamma_sfh {
  /// Rate at t [Gyr] for scale θ = `scale_gyr` (any normalisation).
  [[nodiscard]] double rate(double t, double scale_gyr) const noexcept {
    const double y = t / scale_gyr;
    const double v = y == 0.0 ? 0.0 : std::exp(std::log(y) - y) / scale_gyr;
    return v == 0.0 ? 1e-10 : v;
  }
};
static_assert(StarFormationHistory<gamma_sfh>);

/// Outcome of building a time grid.
struct time_grid_info {
  std::size_t points = 0;        ///< number of grid points n (n − 1 steps)
  double dt = 0.0;               ///< step [Gyr]
  double corona_factor = 1.0;    ///< corona mass / total mass formed in the run (CHEMPY: 1/r)
  bool sfr_test_passed = true;   ///< CHEMPY's 5 % test at the birth time
};

/// A time-grid policy: `max_points(T)` bounds the grid size, `build` fills t[0..n) and sfr info.
template <class G, class Sfh>
concept TimeGrid = requires(const G& g, double t_end, const Sfh& sfh, double scale,
                            std::span<double> out) {
  { g.max_points(t_end) } -> std::convertible_to<std::size_t>;
  { g.build(t_end, sfh, scale, out) } -> std::same_as<time_grid_info>;
};

/// CHEMPY's `shorten_sfr` grid (docs/chempy-model.md §3–4): reference grid of 28 points over
/// [0, 13.797617 Gyr], rescaled so that dt = T/27; run to index 27 (26 when T > 13.797617).
struct chempy_time_grid {
  double end_gyr = 13.797617;     ///< CHEMPY's `end`
  std::size_t reference_points = 28;  ///< CHEMPY's `time_steps`
  double min_fraction_of_mean_sfr = 0.05;  ///< the 5 % test

  /// Largest number of grid points a run can have.
  [[nodiscard]] std::size_t max_points(double) const noexcept { return reference_points; }

  /// Fills t[0..n) for birth time `t_birth` [Gyr]; SFH shape `sfh` with scale `scale` [Gyr].
  template <class Sfh>
  time_grid_info build(double t_birth, const Sfh& sfh, double scale, std::span<double> t) const {
    const double n0m1 = static_cast<double>(reference_points - 1);
    const double age = end_gyr - t_birth;
    const double span = end_gyr - age;
    const auto n_long = static_cast<std::size_t>(n0m1 * end_gyr / span + 1.0);
    const double end_long = span * static_cast<double>(n_long - 1) / n0m1;
    const double step_long = end_long / static_cast<double>(n_long - 1);
    auto t_long = [&](std::size_t k) {
      return k + 1 == n_long ? end_long : static_cast<double>(k) * step_long;
    };
    // nearest long-grid point to T: index 27 (26 when T > end, where n_long = 27); ties cannot
    // occur for T in (0, 13.8] (docs/chempy-model.md §3)
    const std::size_t cut = std::min(reference_points - 1, n_long - 1);
    double total = 0.0, before = 0.0, g_cut = 0.0;
    for (std::size_t k = 0; k < n_long; ++k) {
      const double g = sfh.rate(t_long(k), scale);
      total += g;
      if (k == cut) {
        before = total;
        g_cut = g;
      }
    }
    const double mean_sum = 1.0;
    const double s_cut = g_cut / total;
    before /= total;
    time_grid_info info;
    const double mean_sfr = mean_sum / end_long;
    const double sfr_at_end = s_cut / step_long;
    info.sfr_test_passed = sfr_at_end / mean_sfr > min_fraction_of_mean_sfr;
    info.corona_factor = 1.0 / before;
    const double t_model = t_long(cut);
    info.points = cut + 1;
    const double step = t_model / static_cast<double>(cut);
    for (std::size_t k = 0; k < info.points; ++k) t[k] = static_cast<double>(k) * step;
    t[cut] = t_model;
    info.dt = t[1] - t[0];
    return info;
  }
};

/// Extension (not CHEMPY): `steps` equal steps from 0 to T, no 5 % test, corona factor 1 (all
/// star formation of the run happens before T). With it one run gives the ISM abundances at every
/// grid time, i.e. at every birth time of one galaxy; CHEMPY instead rebuilds the whole history
/// for each birth time (dt = T/27 and the corona scale depend on T), so the two differ.
struct fixed_time_grid {
  std::size_t steps = 27;  ///< number of steps (points − 1)
  double corona_factor = 1.0;  ///< corona mass / total star formation of the run

  /// Number of grid points (steps + 1).
  [[nodiscard]] std::size_t max_points(double) const noexcept { return steps + 1; }

  /// Fills t[0..steps] = k·T/steps.
  /// \throws invalid_argument when `steps` is 0 or `t` holds fewer than steps + 1 points.
  template <class Sfh>
  time_grid_info build(double t_end, const Sfh&, double, std::span<double> t) const {
    if (steps == 0) throw invalid_argument("fixed_time_grid: steps must be at least 1");
    if (t.size() < steps + 1)
      throw invalid_argument("fixed_time_grid: the time buffer holds " + std::to_string(t.size()) + " points, " +
                             std::to_string(steps + 1) + " needed");
    time_grid_info info;
    info.points = steps + 1;
    const double step = t_end / static_cast<double>(steps);
    for (std::size_t k = 0; k <= steps; ++k) t[k] = static_cast<double>(k) * step;
    t[steps] = t_end;
    info.dt = t[1] - t[0];
    info.corona_factor = corona_factor;
    info.sfr_test_passed = true;
    return info;
  }
};

static_assert(TimeGrid<chempy_time_grid, gamma_sfh>);
static_assert(TimeGrid<fixed_time_grid, gamma_sfh>);

}  // namespace chempp::gce
