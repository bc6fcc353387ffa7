// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Stellar lifetimes and the "dying mass" sequence of a simple stellar population.
///
/// `portinari_lifetimes` is the analytic fit to the Portinari, Chiosi & Bressan (1998, A&A 334,
/// 505) main-sequence lifetimes hard-coded in CHEMPY's `weighted_yield.lifetime_Portinari`
/// (used by Buck et al. 2025). The inverse (which mass dies at age t) is CHEMPY's
/// `np.interp(t, τ(x[::-1]), x[::-1])` over the IMF mass grid, reproduced exactly: piecewise
/// linear in (τ, m) between grid masses, clamped to [m_min, m_max]. See docs/chempy-model.md §6.2.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "chempp/gce/imf.hpp"

namespace chempp::gce {

/// A lifetime model: τ(m, Z) in Gyr and its inverse on the IMF grid.
/// `dying_masses(grid, z, ages, out, stop_below)` fills out[a] = mass dying at age ages[a] and may
/// stop after the first value below `stop_below` (it returns how many entries it filled).
template <class L>
concept StellarLifetimes = requires(const L& l, const mass_grid& g, double m, double z,
                                    std::span<const double> ages, std::span<double> out,
                                    std::vector<double>& scratch) {
  { l.lifetime_gyr(m, z) } -> std::convertible_to<double>;
  { l.dying_masses(g, z, ages, out, m, scratch) } -> std::convertible_to<std::size_t>;
};

/// Portinari et al. (1998) lifetimes, CHEMPY's 8-coefficient fit:
/// log10(τ/yr) = c0 + c1 L + c2 L² + c3 Q + c4 L Q + c5 L² Q + c6 Q² + c7 Q² L,
/// L = log10(m/Msun), Q = log10 Z (Q = −5 for Z <= 0, no other clamping).
class portinari_lifetimes {
 public:
  static constexpr std::array<double, 8> c{10.0153615, -3.91089893, 0.99947209, -0.03601771,
                                           -0.31139679, 0.09109059,  -0.03218365, -0.01323112};

  /// log10 Z as CHEMPY uses it.
  [[nodiscard]] static double log_z(double z) noexcept { return z <= 0.0 ? -5.0 : std::log10(z); }

  /// The exponent (log10 of the lifetime in years) in CHEMPY's operation order.
  [[nodiscard]] static double exponent(double lm, double lz) noexcept {
    return c[0] + lm * c[1] + (lm * lm) * c[2] + lz * c[3] + lm * lz * c[4] + lm * lm * lz * c[5] +
           lz * lz * c[6] + lz * lz * lm * c[7];
  }

  /// Main-sequence lifetime [Gyr] of a star of mass m [Msun] and metallicity Z (mass fraction).
  [[nodiscard]] double lifetime_gyr(double m, double z) const noexcept {
    return std::pow(10.0, exponent(std::log10(m), log_z(z))) / 1e9;
  }

  /// Mass [Msun] dying at each age [Gyr] (numpy.interp over the reversed grid); stops after the
  /// first value below `stop_below` (returns the number filled). `scratch` is used only when the
  /// fit is not monotonic over the grid (Z ≳ 0.08) and is then resized to the grid once.
  std::size_t dying_masses(const mass_grid& g, double z, std::span<const double> ages,
                           std::span<double> out, double stop_below,
                           std::vector<double>& scratch) const {
    const double lz = log_z(z);
    // d exponent / dL = (c1 + c4 Q + c7 Q²) + 2 (c2 + c5 Q) L: linear in L, so checking both
    // ends of [log10 m_min, log10 m_max] proves strict monotonicity.
    const double b1 = c[1] + c[4] * lz + c[7] * lz * lz;
    const double c2 = c[2] + c[5] * lz;
    const double l0 = g.log10_mass(0), l1 = g.log10_mass(g.size() - 1);  // = log10(min, max)
    const bool monotone = (b1 + 2.0 * c2 * l0) < -1e-9 && (b1 + 2.0 * c2 * l1) < -1e-9;
    if (monotone) return dying_masses_monotone(g, lz, b1, c2, ages, out, stop_below);
    return dying_masses_reference(g, z, ages, out, stop_below, scratch);
  }

  /// Reference algorithm (used when the fit is not monotonic): the full lifetime table over the
  /// reversed grid and numpy's `interp` search (`binary_search_with_guess`), step by step.
  std::size_t dying_masses_reference(const mass_grid& g, double z, std::span<const double> ages,
                                     std::span<double> out, double stop_below,
                                     std::vector<double>& scratch) const {
    const double lz = log_z(z);
    const std::size_t n = g.size();
    auto tau_r = [&](std::size_t k) {
      return std::pow(10.0, exponent(g.log10_mass(n - 1 - k), lz)) / 1e9;
    };
    std::size_t filled = 0;
    // the table is filled lazily: numpy's search reads O(log n) entries per age
    scratch.resize(n);
    std::fill(scratch.begin(), scratch.end(), std::numeric_limits<double>::quiet_NaN());
    auto at = [&](std::size_t k) {
      if (std::isnan(scratch[k])) scratch[k] = tau_r(k);
      return scratch[k];
    };
    std::ptrdiff_t j = 0;
    for (std::size_t a = 0; a < ages.size(); ++a) {
      const double t = ages[a];
      j = numpy_search(t, at, n, j);
      double m;
      const auto ln = static_cast<std::ptrdiff_t>(n);
      if (j == -1) m = g[n - 1];
      else if (j == ln) m = g[0];
      else if (j == ln - 1) m = g[0];
      else {
        const auto uj = static_cast<std::size_t>(j);
        const double xj = g[n - 1 - uj], xj1 = g[n - 2 - uj];
        const double tj = at(uj), tj1 = at(uj + 1);
        if (tj == t) m = xj;
        else {
          const double slope = (xj1 - xj) / (tj1 - tj);
          m = slope * (t - tj) + xj;
        }
      }
      out[a] = m;
      ++filled;
      if (m < stop_below) break;
    }
    return filled;
  }

 private:
  /// Lifetime [Gyr] of reversed-grid mass k (xr[k] = x[n−1−k]; τr ascending when monotone):
  /// 10^e through the vectorisable exp (within a few ulp of pow, which moves dying masses by
  /// < 1e-11 relative; tests/gce/components.test.cpp bounds it).
  static double tau_reversed(const mass_grid& g, std::size_t k, double lz) noexcept {
    return detail::fast_exp(exponent(g.log10_mass(g.size() - 1 - k), lz) * 2.302585092994046) / 1e9;
  }

  /// `dying_masses` for a fit that is strictly monotonic over the grid. Exactly numpy.interp:
  /// an analytic guess of the bracket (root of the quadratic exponent(L) = log10 t + 9) is
  /// verified and corrected against the exact lifetimes. The ages are processed in blocks: the
  /// guesses and the two bracket lifetimes of every age are independent and computed in
  /// branch-free loops (vectorised), and only the rare corrections and the interpolation run
  /// age by age.
  std::size_t dying_masses_monotone(const mass_grid& g, double lz, double b1, double c2,
                                    std::span<const double> ages, std::span<double> out,
                                    double stop_below) const noexcept {
    const std::size_t n = g.size();
    // exponent(L) = A + B L + C L² (grouped form, used only to guess the bracket)
    const double qa = c[0] + c[3] * lz + c[6] * lz * lz;
    const double qb = b1;
    const double qc = c2;
    const bool linear = std::fabs(qc) < 1e-12;
    const double tau_first = tau_reversed(g, 0, lz), tau_last = tau_reversed(g, n - 1, lz);
    const double inv_h = 1.0 / g.step(), m0 = g.min();
    const double sign_qb = qb < 0.0 ? -1.0 : 1.0;
    const double j_max = static_cast<double>(n - 2);
    constexpr std::size_t block = 32;
    double tj_b[block], tj1_b[block];
    std::int64_t j_b[block];  // signed: double → int64 conversion vectorises
    std::size_t filled = 0;
    for (std::size_t a0 = 0; a0 < ages.size(); a0 += block) {
      const std::size_t nb = std::min(block, ages.size() - a0);
      const double* t_b = ages.data() + a0;
      // 1) guesses (values for ages outside (τ_first, τ_last) are computed but not used);
      //    everything here only picks the starting bracket, so approximations are harmless
      double lroot[block];
      if (linear) {
        for (std::size_t b = 0; b < nb; ++b) lroot[b] = -(qa - (approx_log10(t_b[b]) + 9.0)) / qb;
      } else {
        for (std::size_t b = 0; b < nb; ++b) {
          const double cc = qa - (approx_log10(t_b[b]) + 9.0);
          const double disc = std::max(0.0, qb * qb - 4.0 * qc * cc);
          const double q = -0.5 * (qb + sign_qb * approx_sqrt(disc));
          const double r1 = q / qc, r2 = cc / q;
          // the root where the derivative B + 2 C L is negative
          lroot[b] = (qb + 2.0 * qc * r1 < 0.0) ? r1 : r2;
        }
      }
      for (std::size_t b = 0; b < nb; ++b) {
        const double mg = detail::fast_exp(lroot[b] * 2.302585092994046);
        // reversed index k of the grid mass just above the root: xr[k] >= m > xr[k+1]
        double fj = std::floor((mg - m0) * inv_h);
        if (!(fj >= 0.0)) fj = 0.0;
        if (fj > j_max) fj = j_max;
        j_b[b] = static_cast<std::int64_t>(n - 2) - static_cast<std::int64_t>(fj);
      }
      // 2) lifetimes at both ends of the guessed bracket
      for (std::size_t b = 0; b < nb; ++b) {
        const auto j = static_cast<std::size_t>(j_b[b]);
        tj_b[b] = tau_reversed(g, j, lz);
        tj1_b[b] = tau_reversed(g, j + 1, lz);
      }
      // 3) verification, interpolation and the early stop, age by age
      for (std::size_t b = 0; b < nb; ++b) {
        const double t = t_b[b];
        double m;
        if (std::isnan(t)) {
          m = t;
        } else if (t < tau_first) {
          m = g[n - 1];
        } else if (t > tau_last || t == tau_last) {
          m = g[0];
        } else {
          // verify the bracket tau_r(j) <= t < tau_r(j+1) exactly, as numpy.interp finds it
          auto j = static_cast<std::size_t>(j_b[b]);
          double tj = tj_b[b], tj1 = tj1_b[b];
          while (j > 0 && t < tj) {
            --j;
            tj1 = tj;
            tj = tau_reversed(g, j, lz);
          }
          while (j + 2 < n && t >= tj1) {
            ++j;
            tj = tj1;
            tj1 = tau_reversed(g, j + 1, lz);
          }
          const double xj = g[n - 1 - j], xj1 = g[n - 2 - j];
          if (tj == t) {
            m = xj;
          } else {
            const double slope = (xj1 - xj) / (tj1 - tj);
            m = slope * (t - tj) + xj;
          }
        }
        out[a0 + b] = m;
        ++filled;
        if (m < stop_below) return filled;
      }
    }
    return filled;
  }

  // sqrt(x) for x >= 0 to ~1e-15 relative without libm (std::sqrt's errno path keeps the guess
  // loop from vectorising): bit-level initial guess (~4 %) and four Newton steps. Guess only.
  static double approx_sqrt(double x) noexcept {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    double y = std::bit_cast<double>((bits >> 1) + 0x1ff7a3bea91d9b1bULL);
    for (int it = 0; it < 4; ++it) y = 0.5 * (y + x / y);
    return x > 0.0 ? y : 0.0;
  }

  // log10 of a positive normal number to ~1e-9 (atanh series on the mantissa); only used to
  // guess the bracket, which is then verified with exact lifetimes.
  static double approx_log10(double x) noexcept {
    auto bits = std::bit_cast<std::uint64_t>(x);
    int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // mantissa in [1, 2)
    double m = std::bit_cast<double>(bits);
    if (m > 1.4142135623730951) {
      m *= 0.5;
      ++e;
    }
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    const double ln_m =
        2.0 * s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 / 11)))));
    return (ln_m + static_cast<double>(e) * 0.6931471805599453) * 0.4342944819032518;
  }

  // numpy/core/src/multiarray/compiled_base.c: binary_search_with_guess
  template <class At>
  static std::ptrdiff_t numpy_search(double key, At&& at_k, std::size_t n, std::ptrdiff_t guess) {
    constexpr std::ptrdiff_t cache = 8;
    const auto len = static_cast<std::ptrdiff_t>(n);
    std::ptrdiff_t imin = 0, imax = len;
    auto at = [&](std::ptrdiff_t i) { return at_k(static_cast<std::size_t>(i)); };
    if (key > at(len - 1)) return len;
    if (key < at(0)) return -1;
    if (guess > len - 3) guess = len - 3;
    if (guess < 1) guess = 1;
    if (key < at(guess)) {
      if (key < at(guess - 1)) {
        imax = guess - 1;
        if (guess > cache && key >= at(guess - cache)) imin = guess - cache;
      } else {
        return guess - 1;
      }
    } else {
      if (key < at(guess + 1)) return guess;
      if (key < at(guess + 2)) return guess + 1;
      imin = guess + 2;
      if (guess < len - cache - 1 && key < at(guess + cache)) imax = guess + cache;
    }
    while (imin < imax) {
      const std::ptrdiff_t imid = imin + ((imax - imin) >> 1);
      if (key >= at(imid)) imin = imid + 1;
      else imax = imid;
    }
    return imin - 1;
  }
};

static_assert(StellarLifetimes<portinari_lifetimes>);

}  // namespace chempp::gce
