// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one-zone galactic chemical evolution integrator (CHEMPY; Rybizki, Just & Rix 2017,
/// A&A 605, A59; configuration of Buck et al. 2025, arXiv:2503.02456), as a class template over
/// policies in the style of Boost.Odeint: IMF, stellar lifetimes, SN Ia DTD, SFH shape and time
/// grid. An observer receives the state after every step (default: none). docs/gce.md explains
/// every equation; docs/chempy-model.md §5 is the bookkeeping reproduced here.

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"
#include "chempp/gce/imf.hpp"
#include "chempp/gce/lifetimes.hpp"
#include "chempp/gce/sn1a_dtd.hpp"
#include "chempp/gce/ssp.hpp"
#include "chempp/gce/star_formation.hpp"
#include "chempp/gce/yield_policy.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::gce {

/// Why a run produced no abundances (CHEMPY returns `inf` in these cases).
enum class run_status {
  ok,                      ///< abundances are valid
  sfr_below_5pct_of_mean,  ///< the SFR at the birth time is below 5 % of its mean (§4)
  negative_mass            ///< an ISM element, the ISM gas or the corona became negative (§10)
};

/// Human-readable status ("ok", "sfr_below_5pct_of_mean", "negative_mass"), as in the oracle.
[[nodiscard]] constexpr const char* to_string(run_status s) noexcept {
  switch (s) {
    case run_status::ok: return "ok";
    case run_status::sfr_below_5pct_of_mean: return "sfr_below_5pct_of_mean";
    case run_status::negative_mass: return "negative_mass";
  }
  return "unknown";
}

/// Result of one model evaluation.
struct chempy_result {
  run_status status = run_status::ok;  ///< ok or the failure reason
  /// [C/Fe], [Fe/H], [He/Fe], [Mg/Fe], [N/Fe], [Ne/Fe], [O/Fe], [Si/Fe] [dex] of the ISM at the
  /// last grid point (the birth time); zeros when !ok().
  std::array<double, 8> abundances{};
  [[nodiscard]] bool ok() const noexcept { return status == run_status::ok; }
  /// CHEMPY's 9-vector (C, Fe, H, He, Mg, N, Ne, O, Si) with H = −[Fe/H].
  [[nodiscard]] std::array<double, 9> raw9() const noexcept {
    const auto& o = abundances;
    return {o[0], o[1], -o[1], o[2], o[3], o[4], o[5], o[6], o[7]};
  }
};

/// Physical parameters of one run (the paper's θ).
struct chempy_parameters {
  double alpha_imf = -2.3;       ///< IMF high-mass slope α
  double log10_n_ia = -2.89;     ///< log10 of SN Ia per Msun formed
  double log10_sfe = -0.3;       ///< log10 star-formation efficiency [1/Gyr]
  double log10_sfr_peak = 0.55;  ///< log10 SFR peak time = gamma scale [Gyr]
  double x_out = 0.5;            ///< fraction of stellar feedback sent to the corona
  double t_birth_gyr = 8.0;      ///< birth time T [Gyr], end of the run

  /// From θ = (α, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T).
  static chempy_parameters from_theta(const std::array<double, 6>& t) noexcept {
    return {t[0], t[1], t[2], t[3], t[4], t[5]};
  }
};

/// State after one step, passed to observers. Masses are in units of the total stellar mass
/// formed up to T (CHEMPY's normalisation); element arrays follow `chempy_traced_elements`.
struct step_state {
  std::size_t index = 0;              ///< grid index k
  double time_gyr = 0.0;              ///< t_k [Gyr]
  double sfr = 0.0;                   ///< stellar mass formed in step k
  double infall = 0.0;                ///< gas moved corona → ISM in step k
  double ism_gas = 0.0;               ///< ISM gas mass after star formation
  double corona_gas = 0.0;            ///< corona gas mass
  double metallicity = 0.0;           ///< ISM Z (mass fraction of elements other than H, He)
  double feedback = 0.0;              ///< total mass returned by all SSPs in step k
  double cosmic_inflow = 0.0;         ///< mass added to the corona in step k
  const element_masses* ism = nullptr;     ///< ISM element masses
  const element_masses* corona = nullptr;  ///< corona element masses
};

/// An observer: called with the state after each step (k = 0 … n−1).
template <class O>
concept Observer = requires(O o, const step_state& s) { o(s); };

/// The default observer: does nothing.
struct null_observer {
  constexpr void operator()(const step_state&) const noexcept {}
};

/// One recorded time step of a full track (see `track_observer`).
struct track_point {
  std::size_t index;  ///< fields as in `step_state`, element arrays copied
  double time_gyr, sfr, infall, ism_gas, corona_gas, metallicity, feedback, cosmic_inflow;
  element_masses ism, corona;
};

/// Observer recording the full time track (allocates; for analysis, not for batch runs).
struct track_observer {
  std::vector<track_point>* out;  ///< destination, appended to
  void operator()(const step_state& s) const {
    out->push_back({s.index, s.time_gyr, s.sfr, s.infall, s.ism_gas, s.corona_gas, s.metallicity,
                    s.feedback, s.cosmic_inflow, *s.ism, *s.corona});
  }
};

/// [X/Fe] (X ≠ Fe) and [Fe/H] [dex] of element masses, Asplund et al. (2009) photospheric solar
/// scale and CHEMPY's atomic weights, in the paper's output order. Non-finite for zero masses.
[[nodiscard]] inline std::array<double, 8> abundances_from_masses(const element_masses& m) noexcept {
  std::array<double, n_traced> xh{};
  const double nh = m[traced::H] / elements::H.atomic_mass();
  for (std::size_t e = 0; e < n_traced; ++e) {
    const element el = chempy_traced_elements[e];
    xh[e] = std::log10((m[e] / el.atomic_mass()) / nh) + 12.0 - el.solar_logeps();
  }
  const double feh = xh[traced::Fe];
  auto xfe = [&](std::size_t e) { return xh[e] - feh; };
  return {xfe(traced::C), feh, xfe(traced::He), xfe(traced::Mg), xfe(traced::N), xfe(traced::Ne),
          xfe(traced::O), xfe(traced::Si)};
}

/// Per-thread scratch of a `one_zone` model; reuse it and runs do not allocate (it grows only
/// when a run needs a longer grid, i.e. a smaller T, than any before).
class one_zone_workspace {
 public:
  one_zone_workspace() = default;

 private:
  template <InitialMassFunction, StellarLifetimes, DelayTimeDistribution, StarFormationHistory,
            class>
  friend class one_zone;

  void ensure(std::size_t n, std::size_t n_dtd, std::size_t n_imf) {
    if (t.size() < n) {
      t.resize(n);
      sfr.resize(n);
      infall.resize(n);
      gas.resize(n);
      cgas.resize(n);
      z.resize(n);
      ism.resize(n);
      cor.resize(n);
      fb.resize(n * n);
      numbers.resize(n);
      dtd_shape.resize(n);
      ssp.reserve(n);
    }
    if (fb.size() < n * n) fb.resize(n * n);
    if (dtd_prefix.size() < n_dtd + 1) dtd_prefix.resize(n_dtd + 1);
    if (imf.size() != n_imf) imf.resize(n_imf);
    if (ssp.tau.size() < n_imf) ssp.tau.resize(n_imf);  // non-monotonic lifetime fits (Z ≳ 0.08)
  }

  std::vector<double> t, sfr, infall, gas, cgas, z, numbers, dtd_shape, dtd_prefix;
  std::vector<element_masses> ism, cor, fb;
  imf_weights imf;
  ssp_scratch ssp;
};

/// The one-zone model. Policies:
/// - `Imf` (InitialMassFunction): IMF family with the high-mass slope free (Chabrier TNG).
/// - `Lifetimes` (StellarLifetimes): Portinari et al. 1998.
/// - `Dtd` (DelayTimeDistribution): SN Ia DTD shape (Maoz power law).
/// - `Sfh` (StarFormationHistory): SFR shape (gamma, k = 2).
/// - `Grid` (TimeGrid): CHEMPY's shortened grid or a fixed grid.
/// The yield tables are copied in and preprocessed at construction (optionally through a
/// `YieldPolicy` such as `yield_modifier`). `run` is const and thread-safe given one workspace
/// per thread.
template <InitialMassFunction Imf = chabrier_tng_imf, StellarLifetimes Lifetimes = portinari_lifetimes,
          DelayTimeDistribution Dtd = maoz_dtd, StarFormationHistory Sfh = gamma_sfh,
          class Grid = chempy_time_grid>
class one_zone {
  static_assert(TimeGrid<Grid, Sfh>);

 public:
  /// Builds the model from a yield set (copied). \throws invalid_argument if a table lacks a
  /// traced element (SN Ia tables may omit H and He).
  template <YieldPolicy Policy = unmodified_yields>
  explicit one_zone(yields::yield_set set, Dtd dtd = Dtd{}, Grid grid = Grid{},
                    const Policy& policy = Policy{}, Imf imf = Imf{}, Lifetimes lifetimes = Lifetimes{},
                    Sfh sfh = Sfh{})
      : set_(std::make_shared<const yields::yield_set>(policy.apply(std::move(set)))),
        prepared_(prepare_yields(*set_)),
        mass_grid_(),
        imf_(std::move(imf)),
        lifetimes_(std::move(lifetimes)),
        dtd_(std::move(dtd)),
        sfh_(std::move(sfh)),
        grid_(std::move(grid)) {
    imf_.bind(mass_grid_);
    // ln m for the SN Ia normalisation grid of runs down to T = 1 Gyr (see `run`)
    log_index_.resize(dtd_len(1.0 / 27.0, grid_.max_points(1.0)) + 1);
    for (std::size_t m = 0; m < log_index_.size(); ++m) {
      log_index_[m] = m == 0 ? 0.0 : std::log(static_cast<double>(m));
    }
  }

  /// The (possibly modified) yield set the model uses.
  [[nodiscard]] const yields::yield_set& yield_set() const noexcept { return *set_; }
  /// The SN Ia delay-time distribution policy.
  [[nodiscard]] const Dtd& dtd() const noexcept { return dtd_; }
  /// The time-grid policy.
  [[nodiscard]] const Grid& time_grid() const noexcept { return grid_; }
  /// The IMF mass grid (CHEMPY: linspace(0.1, 100, 5000)).
  [[nodiscard]] const mass_grid& imf_mass_grid() const noexcept { return mass_grid_; }

  /// A workspace sized for runs down to T = 1 Gyr (smaller T grows it once).
  [[nodiscard]] one_zone_workspace make_workspace() const {
    one_zone_workspace ws;
    const std::size_t n = grid_.max_points(1.0);
    ws.ensure(n, dtd_len(1.0 / 27.0, n), mass_grid_.size());
    return ws;
  }

  /// Smallest accepted birth time [Gyr] (CHEMPY itself asserts T >= 0.7976 Gyr).
  static constexpr double min_t_birth_gyr = 1e-3;

  /// The model's parameter domain (docs/gce.md, "Valid ranges"). It holds the paper's prior
  /// (Buck et al. 2025 §2.3: Normal(−2.3, 0.3), Normal(−2.89, 0.3), Normal(−0.3, 0.3),
  /// Normal(0.55, 0.1), Normal(0.5, 0.1)) beyond 9σ in every direction and the emulator's 5σ
  /// training box, and stays where the physics is meaningful: IMF slopes from bottom-heavy
  /// (−5) to flat (0), at most one SN Ia per solar mass formed, SFR peak times 0.1–100 Gyr.
  struct domain {
    static constexpr double alpha_imf_lo = -5.0, alpha_imf_hi = 0.0;            ///< IMF slope α
    static constexpr double log10_n_ia_lo = -6.0, log10_n_ia_hi = 0.0;          ///< SN Ia per Msun
    static constexpr double log10_sfe_lo = -4.0, log10_sfe_hi = 3.0;            ///< [1/Gyr]
    static constexpr double log10_sfr_peak_lo = -1.0, log10_sfr_peak_hi = 2.0;  ///< [Gyr]
    static constexpr double x_out_lo = 0.0, x_out_hi = 1.0;                     ///< fraction
    static constexpr double t_birth_lo_gyr = 1e-3, t_birth_hi_gyr = 13.8;       ///< T [Gyr]
  };

  /// True when every parameter lies in `domain` (no exception; for policies that map
  /// out-of-domain θ to "no star", such as `inference::gce_simulator`).
  [[nodiscard]] static bool in_domain(const chempy_parameters& p) noexcept {
    using d = domain;
    const auto in = [](double v, double lo, double hi) { return v >= lo && v <= hi; };  // false for NaN
    return in(p.alpha_imf, d::alpha_imf_lo, d::alpha_imf_hi) && in(p.log10_n_ia, d::log10_n_ia_lo, d::log10_n_ia_hi) &&
           in(p.log10_sfe, d::log10_sfe_lo, d::log10_sfe_hi) &&
           in(p.log10_sfr_peak, d::log10_sfr_peak_lo, d::log10_sfr_peak_hi) && in(p.x_out, d::x_out_lo, d::x_out_hi) &&
           in(p.t_birth_gyr, d::t_birth_lo_gyr, d::t_birth_hi_gyr);
  }

  /// Checks θ against `domain`.
  /// \throws invalid_argument naming the argument, its value and the valid range.
  static void check(const chempy_parameters& p) {
    constexpr const char* fn = "chempp::gce::one_zone";
    using d = domain;
    check_in_closed(fn, "alpha_imf", p.alpha_imf, d::alpha_imf_lo, d::alpha_imf_hi);
    check_in_closed(fn, "log10_n_ia", p.log10_n_ia, d::log10_n_ia_lo, d::log10_n_ia_hi);
    check_in_closed(fn, "log10_sfe", p.log10_sfe, d::log10_sfe_lo, d::log10_sfe_hi);
    check_in_closed(fn, "log10_sfr_peak", p.log10_sfr_peak, d::log10_sfr_peak_lo, d::log10_sfr_peak_hi);
    check_in_closed(fn, "x_out", p.x_out, d::x_out_lo, d::x_out_hi);
    check_finite(fn, "t_birth_gyr", p.t_birth_gyr);
    if (!(p.t_birth_gyr > 0.0) || p.t_birth_gyr > d::t_birth_hi_gyr) {
      chempp::detail::throw_argument(fn, "t_birth_gyr", "must lie in (0, 13.8]", p.t_birth_gyr);
    }
    if (p.t_birth_gyr < d::t_birth_lo_gyr) {
      chempp::detail::throw_argument(
          fn, "t_birth_gyr",
          "is below the smallest supported birth time 0.001 Gyr (dt = T/27 would need more than "
          "3.7e5 grid points; no star dies that early)",
          p.t_birth_gyr);
    }
  }

  /// One run; `obs` sees every step. Does not allocate once `ws` is sized (see
  /// `make_workspace`). \throws invalid_argument on bad parameters.
  template <Observer Obs = null_observer>
  chempy_result run(const chempy_parameters& p, one_zone_workspace& ws, Obs&& obs = Obs{}) const {
    check(p);
    chempy_result res;
    const double n_ia = std::pow(10.0, p.log10_n_ia);
    const double sfe = std::pow(10.0, p.log10_sfe);
    const double scale = std::pow(10.0, p.log10_sfr_peak);
    const double x_out = p.x_out;

    const std::size_t nmax = grid_.max_points(p.t_birth_gyr);
    if (ws.t.size() < nmax) ws.ensure(nmax, 0, mass_grid_.size());
    const time_grid_info info = grid_.build(p.t_birth_gyr, sfh_, scale, std::span<double>(ws.t));
    if (!info.sfr_test_passed) {
      res.status = run_status::sfr_below_5pct_of_mean;
      return res;
    }
    const std::size_t n = info.points;
    const double dt = info.dt;
    ws.ensure(n, dtd_len(dt, n), mass_grid_.size());
    auto& t = ws.t;

    // IMF for this α
    ws.imf.compute(imf_, mass_grid_, p.alpha_imf);

    // SFR per step, Σ = 1
    double ssum = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      ws.sfr[k] = sfh_.rate(t[k], scale);
      ssum += ws.sfr[k];
    }
    for (std::size_t k = 0; k < n; ++k) ws.sfr[k] = ws.sfr[k] / ssum;
    double sfr_total = 0.0;
    for (std::size_t k = 0; k < n; ++k) sfr_total += ws.sfr[k];
    const auto& sfr = ws.sfr;
    const double eps = sfe * dt;

    // primordial composition of infall and cosmic accretion
    element_masses prim{};
    prim[traced::H] = 0.76;
    prim[traced::He] = 0.24;

    // ---- step 0 (ABUNDANCE_MATRIX.__init__) ----
    const double i0 = std::max(sfr[0] * 1.0000001, sfr[0] / eps);
    {
      auto& m = ws.ism[0];
      for (std::size_t e = 0; e < n_traced; ++e) m[e] = 0.0 + prim[e] * i0;
      double g = 0.0 + i0;
      for (std::size_t e = 0; e < n_traced; ++e) m[e] -= (m[e] / g) * sfr[0];
      ws.gas[0] = g - sfr[0];
      ws.infall[0] = i0;
      const double cosmic = sfr[0] * 1.0;
      auto& c = ws.cor[0];
      for (std::size_t e = 0; e < n_traced; ++e) c[e] = prim[e] * cosmic;
      double cg = cosmic;
      const double starting = sfr_total * info.corona_factor - i0;
      cg += starting;
      for (std::size_t e = 0; e < n_traced; ++e) c[e] += prim[e] * starting;
      ws.cgas[0] = cg;
      ws.z[0] = metal_sum(m) / ws.gas[0];
      emit(obs, ws, 0, 0.0, sfr[0] + info.corona_factor * sfr_total);
    }

    // ---- SN Ia DTD sampled on the grid, prefix sums for each SSP's normalisation ----
    const double t_norm = dtd_.normalisation_end_gyr();
    const std::size_t n_dtd = dtd_len(dt, n);
    {
      // samples beyond the run (m >= n, t_m = m·dt) only enter the normalisation sums: a DTD
      // with a vectorisable `shape_on_grid` fills them in one pass (into dtd_prefix, summed
      // below in place), otherwise `shape` is called point by point
      bool tail_done = false;
      if constexpr (requires(double* o) { dtd_.shape_on_grid(dt, log_index_.data(), n, n_dtd, o); }) {
        if (n_dtd <= log_index_.size()) {
          tail_done = dtd_.shape_on_grid(dt, log_index_.data(), n, n_dtd, ws.dtd_prefix.data() + n + 1);
        }
      }
      double acc = 0.0;
      ws.dtd_prefix[0] = 0.0;
      for (std::size_t m = 0; m < n_dtd; ++m) {
        double v;
        if (m < n) {
          v = dtd_.shape(t[m]);
          ws.dtd_shape[m] = v;
        } else {
          v = tail_done ? ws.dtd_prefix[m + 1] : dtd_.shape(static_cast<double>(m) * dt);
        }
        acc += v;
        ws.dtd_prefix[m + 1] = acc;
      }
    }

    std::span<double> mdy(ws.ssp.m_dying.data(), n);
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const std::size_t len = n - i;
      // birth composition lagged by one step, metallicity of step i
      const std::size_t lag = i == 0 ? 0 : i - 1;
      element_masses f{};
      for (std::size_t e = 0; e < n_traced; ++e) f[e] = ws.ism[lag][e] / ws.gas[lag];
      const double z = ws.z[i];
      // SN Ia numbers: this SSP's grid extended by dt up to 13.8 Gyr (CHEMPY maoz_timedelay)
      {
        std::size_t count = len + dtd_extension(t[len - 1], dt, t_norm);
        if (count > n_dtd) count = n_dtd;  // cannot happen: dtd_len has margin
        const double s = ws.dtd_prefix[count];
        for (std::size_t a = 0; a < len; ++a) {
          ws.numbers[a] = s > 0.0 ? (ws.dtd_shape[a] / s) * n_ia : 0.0;
        }
      }
      const std::size_t filled =
          lifetimes_.dying_masses(mass_grid_, z, std::span<const double>(t.data(), len),
                                  mdy.subspan(0, len), prepared_.ranges.agb_min, ws.ssp.tau);
      std::span<element_masses> row(ws.fb.data() + i * n, len);
      ssp_feedback(prepared_, mass_grid_, ws.imf, z, f, mdy, filled,
                   std::span<const double>(ws.numbers.data(), len), row, ws.ssp);

      // ---- advance_one_step(k = i + 1) ----
      const std::size_t k = i + 1;
      // ex[e] = Σ_j sfr_j · fb_j(k − j)[e], summed over j in ascending order for every element
      // (CHEMPY's order); the j loop is outermost so each feedback row is read contiguously
      element_masses ex{};
      for (std::size_t j = 0; j < k; ++j) {
        const element_masses& r = ws.fb[j * n + (k - j)];
        const double sj = sfr[j];
        for (std::size_t e = 0; e < n_traced; ++e) ex[e] += sj * r[e];
      }
      double fb_total = 0.0;
      for (std::size_t e = 0; e < n_traced; ++e) fb_total += ex[e];
      auto& m = ws.ism[k];
      auto& c = ws.cor[k];
      for (std::size_t e = 0; e < n_traced; ++e) {
        m[e] = ws.ism[k - 1][e] + (1.0 - x_out) * ex[e];
        c[e] = ws.cor[k - 1][e] + ex[e] * x_out;
      }
      const double cosmic = sfr[k] * 1.0;
      double cg = ws.cgas[k - 1] + cosmic;
      for (std::size_t e = 0; e < n_traced; ++e) c[e] += prim[e] * cosmic;
      cg += fb_total * x_out;
      const double needed = sfr[k] / eps;
      double there = 0.0;
      for (std::size_t e = 0; e < n_traced; ++e) there += m[e];
      double inf = (needed - there) * 1.00000001;
      if (inf < 0.0) inf = 0.0;
      if (inf + there <= sfr[k]) inf = (sfr[k] - there) * 1.01;
      if (inf > cg) inf = cg;
      for (std::size_t e = 0; e < n_traced; ++e) m[e] += inf * (c[e] / cg);
      for (std::size_t e = 0; e < n_traced; ++e) c[e] -= inf * (c[e] / cg);
      cg -= inf;
      double g = 0.0;
      for (std::size_t e = 0; e < n_traced; ++e) g += m[e];
      const bool starved = !(g >= sfr[k]);
      for (std::size_t e = 0; e < n_traced; ++e) m[e] -= sfr[k] * (m[e] / g);
      ws.gas[k] = g - sfr[k];
      ws.cgas[k] = cg;
      ws.infall[k] = inf;
      ws.z[k] = metal_sum(m) / ws.gas[k];
      emit(obs, ws, k, fb_total, cosmic);
      if (starved) {  // CHEMPY: AssertionError in advance_one_step → the call fails
        res.status = run_status::negative_mass;
        return res;
      }
      // Chempy_all_times checks the *previous* index i
      if (negative(ws, i)) {
        res.status = run_status::negative_mass;
        return res;
      }
    }
    const auto& last = ws.ism[n - 1];
    if (negative(ws, n - 1)) {  // CHEMPY would return NaN here; we report the failure
      res.status = run_status::negative_mass;
      return res;
    }
    const auto ab = abundances_from_masses(last);
    for (double v : ab) {
      if (!std::isfinite(v)) {
        res.status = run_status::negative_mass;
        return res;
      }
    }
    res.abundances = ab;
    return res;
  }

  /// Convenience: one run with a temporary workspace (allocates; use `run` with a reused
  /// workspace, or `simulate_batch`, for speed).
  chempy_result operator()(const std::array<double, 6>& theta) const {
    one_zone_workspace ws = make_workspace();
    return run(chempy_parameters::from_theta(theta), ws);
  }
  /// One run with a caller-provided workspace (allocation-free).
  chempy_result operator()(const std::array<double, 6>& theta, one_zone_workspace& ws) const {
    return run(chempy_parameters::from_theta(theta), ws);
  }

 private:
  // longest SN Ia normalisation grid for step dt: up to 13.8 Gyr plus margin
  std::size_t dtd_len(double dt, std::size_t n) const {
    const double span = dtd_.normalisation_end_gyr() / dt;
    return static_cast<std::size_t>(std::ceil(span)) + n + 4;
  }
  // Number of steps CHEMPY appends to an SSP's time grid for the SN Ia normalisation: the
  // count m of `last += dt` while last < t_norm, with the sum rounded after every addition.
  // The exact-arithmetic count ceil((t_norm − last)/dt) is used when last + m·dt clears t_norm
  // on both sides by more than the rounding the m additions can accumulate (then both counts
  // agree); otherwise, e.g. when t_norm is a multiple of dt, the additions are replayed. Replaces
  // a dependent chain of up to 13.8 Gyr / dt additions per SSP.
  static std::size_t dtd_extension(double last, double dt, double t_norm) noexcept {
    if (!(last < t_norm)) return 0;
    const double r = std::ceil((t_norm - last) / dt);
    if (r >= 1.0 && r < 1e7) {
      const double m = r;
      const double margin = 4.0 * (m + 1.0) * (std::fabs(t_norm) + std::fabs(dt)) * 0x1p-52;
      const bool above = last + m * dt >= t_norm + margin;
      const bool below = last + (m - 1.0) * dt < t_norm - margin;
      if (above && below) return static_cast<std::size_t>(m);
    }
    std::size_t count = 0;
    while (last < t_norm) {
      last = last + dt;
      ++count;
    }
    return count;
  }
  static double metal_sum(const element_masses& m) noexcept {
    double s = 0.0;
    for (std::size_t e = 0; e < n_traced; ++e) {
      if (e == traced::H || e == traced::He) continue;
      s += m[e];
    }
    return s;
  }
  static bool negative(const one_zone_workspace& ws, std::size_t i) noexcept {
    for (double v : ws.ism[i]) {
      if (v < 0.0) return true;
    }
    return ws.gas[i] < 0.0 || ws.cgas[i] < 0.0;
  }
  template <class Obs>
  static void emit(Obs& obs, const one_zone_workspace& ws, std::size_t k, double feedback,
                   double cosmic) {
    if constexpr (!std::is_same_v<std::remove_cvref_t<Obs>, null_observer>) {
      step_state s;
      s.index = k;
      s.time_gyr = ws.t[k];
      s.sfr = ws.sfr[k];
      s.infall = ws.infall[k];
      s.ism_gas = ws.gas[k];
      s.corona_gas = ws.cgas[k];
      s.metallicity = ws.z[k];
      s.feedback = feedback;
      s.cosmic_inflow = cosmic;
      s.ism = &ws.ism[k];
      s.corona = &ws.cor[k];
      obs(s);
    } else {
      (void)obs;
      (void)ws;
      (void)k;
      (void)feedback;
      (void)cosmic;
    }
  }

  std::shared_ptr<const yields::yield_set> set_;
  prepared_yields prepared_;
  mass_grid mass_grid_;
  Imf imf_;
  Lifetimes lifetimes_;
  Dtd dtd_;
  Sfh sfh_;
  Grid grid_;
  std::vector<double> log_index_;  ///< ln m, m = 0 … (θ-independent; SN Ia normalisation grid)
};

}  // namespace chempp::gce
