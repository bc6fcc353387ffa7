// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Initial mass functions on CHEMPY's discrete mass grid (Rybizki, Just & Rix 2017, A&A 605, A59,
/// as used by Buck et al. 2025, arXiv:2503.02456, §2.2).
///
/// CHEMPY never integrates the IMF analytically: it tabulates dN/dm on `linspace(0.1, 100, 5000)`
/// and every "integral" is a sum over grid points in a half-open window [lo, hi). This header
/// reproduces that: `mass_grid` is the grid, an `InitialMassFunction` policy fills the
/// unnormalised dN/dm for a given high-mass slope, and `imf_weights` normalises it exactly as
/// CHEMPY does (dn → Σ=1, dm = dn·x → Σ=1, dn = dm/x) and keeps prefix sums so that a window sum
/// costs O(1). See docs/gce.md §IMF and docs/chempy-model.md §6.1.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::gce {

namespace detail {
// fast_exp must be inlined into its loops to vectorise; GCC's heuristics stop doing so once it
// has several callers, hence the attribute.
#if defined(__GNUC__) || defined(__clang__)
#define CHEMPP_GCE_ALWAYS_INLINE [[gnu::always_inline]]
#else
#define CHEMPP_GCE_ALWAYS_INLINE
#endif
/// exp(x) for |x| < 700 to within 1 ulp of std::exp (checked in tests/gce/components.test.cpp),
/// branch-free so that loops over the IMF grid vectorise: Cody–Waite reduction with fdlibm's
/// split ln 2 and a degree-13 Taylor polynomial on |r| <= ln2/2.
[[nodiscard]] CHEMPP_GCE_ALWAYS_INLINE inline double fast_exp(double x) noexcept {
  constexpr double log2e = 1.4426950408889634;
  constexpr double shifter = 0x1.8p52;
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double kd = x * log2e + shifter;
  const auto ki = std::bit_cast<std::uint64_t>(kd);
  const double k = kd - shifter;
  const double r = (x - k * ln2_hi) - k * ln2_lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r * r + r;  // exp(r) - 1
  const double scale = std::bit_cast<double>((ki + 1023) << 52);
  return scale + scale * p;
}
#undef CHEMPP_GCE_ALWAYS_INLINE

/// exp(slope·log_m[j]) for all j, vectorised when every exponent lies in (−700, 700).
inline void power_law(double slope, const double* log_m, double* out, std::size_t n,
                      double max_abs_log_m) noexcept {
  if (std::fabs(slope) * max_abs_log_m < 700.0) {
    for (std::size_t j = 0; j < n; ++j) out[j] = fast_exp(slope * log_m[j]);
  } else {
    for (std::size_t j = 0; j < n; ++j) out[j] = std::exp(slope * log_m[j]);
  }
}
}  // namespace detail

/// CHEMPY's IMF mass grid: `numpy.linspace(m_min, m_max, points)` reproduced bit for bit
/// (x_j = j·step + m_min, last point = m_max) [Msun].
class mass_grid {
 public:
  /// \param m_min lowest mass [Msun] (CHEMPY: 0.1), \param m_max highest mass [Msun] (100),
  /// \param points number of grid points (5000). \throws invalid_argument on a bad range.
  explicit mass_grid(double m_min = 0.1, double m_max = 100.0, std::size_t points = 5000) {
    check_positive("chempp::gce::mass_grid", "m_min", m_min);
    check_finite("chempp::gce::mass_grid", "m_max", m_max);
    if (!(m_max > m_min)) {
      chempp::detail::throw_argument("chempp::gce::mass_grid", "m_max", "must exceed m_min", m_max);
    }
    if (points < 2) {
      chempp::detail::throw_argument("chempp::gce::mass_grid", "points", "must be at least 2",
                             static_cast<double>(points));
    }
    step_ = (m_max - m_min) / static_cast<double>(points - 1);
    inv_step_ = 1.0 / step_;
    x_.resize(points);
    for (std::size_t j = 0; j < points; ++j) x_[j] = static_cast<double>(j) * step_ + m_min;
    x_.back() = m_max;
    lx_.resize(points);
    for (std::size_t j = 0; j < points; ++j) lx_[j] = std::log10(x_[j]);
  }

  /// Number of grid points.
  [[nodiscard]] std::size_t size() const noexcept { return x_.size(); }
  /// Grid mass j [Msun].
  [[nodiscard]] double operator[](std::size_t j) const noexcept { return x_[j]; }
  /// All grid masses [Msun], ascending.
  [[nodiscard]] const std::vector<double>& masses() const noexcept { return x_; }
  /// Grid spacing [Msun].
  [[nodiscard]] double step() const noexcept { return step_; }
  /// log10 of grid mass j.
  [[nodiscard]] double log10_mass(std::size_t j) const noexcept { return lx_[j]; }
  /// Lowest grid mass [Msun].
  [[nodiscard]] double min() const noexcept { return x_.front(); }
  /// Highest grid mass [Msun].
  [[nodiscard]] double max() const noexcept { return x_.back(); }

  /// Index of the first grid point with x_j >= m (size() if none). O(1).
  [[nodiscard]] std::size_t lower_index(double m) const noexcept {
    const std::size_t n = x_.size();
    if (!(m > x_.front())) return 0;
    if (m > x_.back()) return n;
    const double guess = (m - x_.front()) * inv_step_;  // > 0 here; truncation = floor
    std::size_t j = std::min(n, static_cast<std::size_t>(guess));
    while (j > 0 && x_[j - 1] >= m) --j;
    while (j < n && x_[j] < m) ++j;
    return j;
  }

 private:
  std::vector<double> x_, lx_;
  double step_ = 0.0, inv_step_ = 0.0;
};

/// An IMF family with one free parameter, the high-mass slope α (dN/dm ∝ m^α above 1 Msun).
/// `bind(grid)` precomputes whatever does not depend on α; `unnormalised_dn` then fills
/// dN/dm (any normalisation) at every grid point.
template <class I>
concept InitialMassFunction = requires(I imf, const I& cimf, const mass_grid& g, double slope,
                                       std::span<double> out) {
  { imf.bind(g) } -> std::same_as<void>;
  { cimf.unnormalised_dn(slope, out) } -> std::same_as<void>;
};

/// Chabrier (2003, PASP 115, 763) IMF with a variable high-mass slope in the form used by
/// IllustrisTNG and CHEMPY's `IMF.Chabrier_TNG`: dN/dm = A/m·exp(−(log10(m/m_c))²/(2σ²)) for
/// m < 1 Msun and B·m^α for m > 1 Msun (m = 1 is not on the grid), with A = 0.852464,
/// B = 0.237912, σ = 0.69, m_c = 0.079 Msun. The paper (Buck et al. 2025) varies α.
class chabrier_tng_imf {
 public:
  double a = 0.852464;      ///< low-mass amplitude
  double b = 0.237912;      ///< high-mass amplitude
  double sigma = 0.69;      ///< log-normal width [dex]
  double m_c = 0.079;       ///< characteristic mass [Msun]

  /// Precomputes the log-normal branch and ln m of the power-law branch.
  void bind(const mass_grid& g) {
    const std::size_t n = g.size();
    low_.assign(n, 0.0);
    log_m_.assign(n, 0.0);
    first_high_ = n;
    for (std::size_t j = 0; j < n; ++j) {
      const double x = g[j];
      if (x < 1.0) {
        const double l = std::log10(x / m_c);
        low_[j] = a / x * std::exp(-(l * l) / (2.0 * sigma * sigma));
      } else if (x > 1.0) {
        if (first_high_ == n) first_high_ = j;
        log_m_[j] = std::log(x);
      }
    }
    max_log_ = std::log(g.max());
  }

  /// dN/dm at every grid point for high-mass slope `slope` (e.g. −2.3 = Salpeter-like).
  void unnormalised_dn(double slope, std::span<double> out) const {
    const std::size_t n = low_.size();
    for (std::size_t j = 0; j < first_high_; ++j) out[j] = low_[j];
    detail::power_law(slope, log_m_.data() + first_high_, out.data() + first_high_,
                      n - first_high_, max_log_);
    for (std::size_t j = first_high_; j < n; ++j) out[j] *= b;
  }

 private:
  std::vector<double> low_, log_m_;
  std::size_t first_high_ = 0;
  double max_log_ = 0.0;
};

/// Salpeter (1955, ApJ 121, 161) power law dN/dm ∝ m^α over the whole grid (CHEMPY's
/// `IMF.salpeter` with alpha = −slope). For users; not the paper's configuration.
class salpeter_imf {
 public:
  /// Precomputes ln m on the grid.
  void bind(const mass_grid& g) {
    log_m_.resize(g.size());
    for (std::size_t j = 0; j < g.size(); ++j) log_m_[j] = std::log(g[j]);
    max_log_ = std::max(std::fabs(log_m_.front()), std::fabs(log_m_.back()));
  }
  /// dN/dm ∝ m^slope at every grid point.
  void unnormalised_dn(double slope, std::span<double> out) const {
    detail::power_law(slope, log_m_.data(), out.data(), log_m_.size(), max_log_);
  }

 private:
  std::vector<double> log_m_;
  double max_log_ = 0.0;
};

/// Kroupa (2001, MNRAS 322, 231) broken power law: slopes −0.3 (m < 0.08), −1.3 (0.08–0.5) and α
/// above 0.5 Msun, continuous at the breaks. For users; not the paper's configuration.
class kroupa_imf {
 public:
  double slope_low = -0.3;   ///< below 0.08 Msun
  double slope_mid = -1.3;   ///< 0.08–0.5 Msun
  double break_low = 0.08;   ///< [Msun]
  double break_high = 0.5;   ///< [Msun]

  /// Keeps the grid masses.
  void bind(const mass_grid& g) { m_.assign(g.masses().begin(), g.masses().end()); }
  /// Broken power law with high-mass slope `slope`, continuous at the breaks.
  void unnormalised_dn(double slope, std::span<double> out) const {
    const double c_low = std::pow(break_low, slope_mid - slope_low);
    const double c_high = std::pow(break_high, slope_mid - slope);
    for (std::size_t j = 0; j < m_.size(); ++j) {
      const double x = m_[j];
      if (x < break_low) out[j] = c_low * std::pow(x, slope_low);
      else if (x < break_high) out[j] = std::pow(x, slope_mid);
      else out[j] = c_high * std::pow(x, slope);
    }
  }

 private:
  std::vector<double> m_;
};

static_assert(InitialMassFunction<chabrier_tng_imf>);
static_assert(InitialMassFunction<salpeter_imf>);
static_assert(InitialMassFunction<kroupa_imf>);

/// The normalised IMF on a grid: dm_j (SSP mass fraction at grid point j, Σ dm = 1) and
/// dn_j = dm_j / x_j (stars per Msun), with compensated prefix sums of dm so that a window sum
/// costs O(1) at full double accuracy. CHEMPY normalises dn, multiplies by x and normalises
/// again; that equals dm_j = x_j·dN/dm_j / Σ_k x_k·dN/dm_k up to round-off, which is what is
/// computed here. Reusable scratch: `compute` does not allocate once sized for the grid.
class imf_weights {
 public:
  imf_weights() = default;
  /// Sized for grid `g` (no allocation in `compute` afterwards).
  explicit imf_weights(const mass_grid& g) { resize(g.size()); }
  /// Sizes the scratch for n grid points.
  void resize(std::size_t n) {
    dn_.resize(n);
    dm_.resize(n);
    raw_.resize(n);
    hi_.resize(n + 1);
    lo_.resize(n + 1);
  }

  /// Normalises `imf`'s dN/dm for slope α as CHEMPY does (`IMF.Chabrier_TNG` and friends).
  template <InitialMassFunction Imf>
  void compute(const Imf& imf, const mass_grid& g, double slope) {
    const std::size_t n = g.size();
    if (dn_.size() != n) resize(n);
    imf.unnormalised_dn(slope, std::span<double>(dn_.data(), n));
    const auto& x = g.masses();
    for (std::size_t j = 0; j < n; ++j) raw_[j] = dn_[j] * x[j];
    prefix_sums(n);
    // normalisation from the compensated total (a separate summation pass would be a second
    // dependent add chain over the grid)
    inv_ = 1.0 / (hi_[n] + lo_[n]);
    x_ = &x;
    have_dm_ = false;
  }

  /// Σ dm_j over grid indices [i0, i1).
  [[nodiscard]] double mass_in(std::size_t i0, std::size_t i1) const noexcept {
    return i1 > i0 ? ((hi_[i1] - hi_[i0]) + (lo_[i1] - lo_[i0])) * inv_ : 0.0;
  }
  /// Σ dn_j over grid indices [i0, i1) (direct sum; not used on the model's hot path).
  [[nodiscard]] double number_in(std::size_t i0, std::size_t i1) const noexcept {
    double s = 0.0;
    for (std::size_t j = i0; j < i1; ++j) s += (raw_[j] * inv_) / (*x_)[j];
    return s;
  }
  /// CHEMPY's `imf_mass_fraction_non_nativ`: Σ dm_j over lo <= x_j < hi (SSP mass fraction).
  [[nodiscard]] double mass_fraction(const mass_grid& g, double lo, double hi) const noexcept {
    return mass_in(g.lower_index(lo), g.lower_index(hi));
  }
  /// Σ dn_j over lo <= x_j < hi (stars per Msun of SSP).
  [[nodiscard]] double number_fraction(const mass_grid& g, double lo, double hi) const noexcept {
    return number_in(g.lower_index(lo), g.lower_index(hi));
  }
  /// Number of grid points the weights are sized for.
  [[nodiscard]] std::size_t size() const noexcept { return raw_.size(); }
  /// dm_j: SSP mass fraction carried by grid point j (filled on first use after `compute`).
  [[nodiscard]] std::span<const double> dm() {
    fill();
    return dm_;
  }
  /// dn_j = dm_j / x_j: stars per Msun of SSP at grid point j (filled on first use).
  [[nodiscard]] std::span<const double> dn() {
    fill();
    return dn_;
  }

 private:
  void fill() {
    if (have_dm_ || x_ == nullptr) return;
    for (std::size_t j = 0; j < raw_.size(); ++j) {
      dm_[j] = raw_[j] * inv_;
      dn_[j] = dm_[j] / (*x_)[j];
    }
    have_dm_ = true;
  }
  std::vector<double> dn_, dm_, raw_, hi_, lo_;
  // Error-free transformation (Knuth's TwoSum): a + b = s + err exactly.
  static void two_sum(double a, double b, double& sum, double& err) noexcept {
    sum = a + b;
    const double bp = sum - a;
    err = (a - (sum - bp)) + (b - bp);
  }
  // Compensated (TwoSum) prefix sums of the unnormalised dm, hi_[i] + lo_[i] = Σ_{j<i} raw_j to
  // ~1 ulp, so that window sums are accurate to ~1 ulp of the window. A single running sum is
  // latency-bound (one dependent add chain over the 5000 grid points); here four independent
  // chains run over consecutive quarters of the grid, then each quarter is shifted by the prefix
  // at its start, again with TwoSum (the shift pass has no dependency chain and vectorises).
  void prefix_sums(std::size_t n) noexcept {
    hi_[0] = 0.0;
    lo_[0] = 0.0;
    constexpr std::size_t chains = 4;
    const std::size_t q = n / chains;  // chunk c = [c q, (c+1) q); the last one runs to n
    // running (sum, error) of each chain, kept in named locals so that they stay in registers
    double h0 = 0.0, h1 = 0.0, h2 = 0.0, h3 = 0.0, l0 = 0.0, l1 = 0.0, l2 = 0.0, l3 = 0.0;
    auto step = [this](std::size_t k, double& h, double& l) {
      double t, err;
      two_sum(h, raw_[k], t, err);
      h = t;
      l += err;
      hi_[k + 1] = t;
      lo_[k + 1] = l;
    };
    for (std::size_t i = 0; i < q; ++i) {
      step(i, h0, l0);
      step(q + i, h1, l1);
      step(2 * q + i, h2, l2);
      step(3 * q + i, h3, l3);
    }
    for (std::size_t k = chains * q; k < n; ++k) step(k, h3, l3);
    for (std::size_t c = 1; c < chains; ++c) {
      const std::size_t begin = c * q, end = c + 1 == chains ? n : (c + 1) * q;
      const double off_hi = hi_[begin], off_lo = lo_[begin];
      for (std::size_t k = begin + 1; k <= end; ++k) {
        double t, err;
        two_sum(off_hi, hi_[k], t, err);
        lo_[k] = (off_lo + lo_[k]) + err;
        hi_[k] = t;
      }
    }
  }

  const std::vector<double>* x_ = nullptr;
  double inv_ = 0.0;
  bool have_dm_ = false;
};

}  // namespace chempp::gce
