// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Enrichment of a simple stellar population (SSP): what one unit of stellar mass born with
/// metallicity Z and birth composition f returns to the gas at each later time step, from core-
/// collapse SNe (SN II), AGB stars and SN Ia, exactly as CHEMPY's `SSP.sn2_feedback`,
/// `agb_feedback` and `sn1a_feedback` compute it (Rybizki et al. 2017, A&A 605, A59; used by
/// Buck et al. 2025). Yield tables are preprocessed once (`prepared_yields`): mass filtering,
/// CHEMPY's mass binning, logarithmic metallicity weights. See docs/chempy-model.md §6.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"
#include "chempp/gce/imf.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::gce {

/// Number of elements the paper's model traces (C, Fe, H, He, Mg, N, Ne, O, Si).
inline constexpr std::size_t n_traced = chempy_traced_elements.size();
/// Per-element masses in `chempy_traced_elements` order.
using element_masses = std::array<double, n_traced>;

/// Indices of the traced elements in `chempy_traced_elements`.
namespace traced {
inline constexpr std::size_t C = 0, Fe = 1, H = 2, He = 3, Mg = 4, N = 5, Ne = 6, O = 7, Si = 8;
}

/// Most masses one metallicity of a yield table may have (fixed-size scratch in the SSP loops).
inline constexpr std::size_t max_masses = 64;

/// Mass ranges of the channels [Msun] (CHEMPY `parameter.py` defaults).
struct channel_mass_ranges {
  double sn2_min = 8.0, sn2_max = 100.0;  ///< core-collapse SNe
  double agb_min = 1.0, agb_max = 8.0;    ///< AGB stars
  double sn1a_progenitor_mass = 2.156;    ///< CHEMPY `mean_mass` [Msun]
  double sn1a_remnant_fraction = 0.3;     ///< white dwarf = 0.3 × progenitor mass
};

/// Metallicity selection of CHEMPY (§6.6): one table, or two with logarithmic weights.
struct metallicity_choice {
  std::size_t lo = 0, hi = 0;  ///< grid indices
  double w_lo = 1.0, w_hi = 0.0;
  bool two = false;
};

/// One metallicity of one channel after CHEMPY's preprocessing.
struct prepared_grid {
  double z = 0.0;                          ///< metallicity
  std::vector<double> mass;                ///< masses in processing order [Msun]
  std::vector<double> unprocessed;         ///< unprocessed wind fraction per mass
  std::vector<element_masses> yield;       ///< net yield per mass (0 where not tabulated)
  std::vector<double> edges;               ///< bin edges / AGB support (size mass+1)
};

/// One channel (SN II, AGB or SN Ia) ready for the SSP loops.
struct prepared_channel {
  std::vector<prepared_grid> grids;        ///< ascending metallicity
  std::array<bool, n_traced> tabulated{};  ///< element listed by the table
  double zero_z_substitute = 1e-10;        ///< CHEMPY replaces a zero lower Z by this

  /// np.log10 of a float32 scalar as numpy 1.24 computes it on the reference machine (AVX-512
  /// SVML kernel, 1 ulp below the correctly rounded value for the TNG metallicities 0.001,
  /// 0.004, 0.008, 0.02); other inputs: the correctly rounded float32 logarithm.
  [[nodiscard]] static float log10_float32(float x) noexcept {
    struct pair {
      float in, out;
    };
    static constexpr pair svml[] = {{0x1.0624dep-10f, -0x1.800002p+1f},
                                    {0x1.0624dep-8f, -0x1.32efb4p+1f},
                                    {0x1.0624dep-7f, -0x1.0c678ep+1f},
                                    {0x1.47ae14p-6f, -0x1.b2efb4p+0f}};
    for (const auto& p : svml) {
      if (p.in == x) return p.out;
    }
    return static_cast<float>(std::log10(static_cast<double>(x)));
  }

  /// Whether a tabulated Z is a float32 value (TNG HDF5 tables), which changes CHEMPY's
  /// logarithm precision.
  [[nodiscard]] static bool is_float32(double v) noexcept {
    return static_cast<double>(static_cast<float>(v)) == v;
  }

  /// CHEMPY's metallicity selection and logarithmic weights.
  [[nodiscard]] metallicity_choice choose(double z) const noexcept {
    metallicity_choice c;
    const std::size_t n = grids.size();
    if (n == 1) return c;
    if (z < grids.front().z) return c;
    if (z > grids.back().z) {
      c.lo = n - 1;
      return c;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (grids[i].z == z) {
        c.lo = i;
        return c;
      }
    }
    std::size_t j = 1;
    while (grids[j].z < z) ++j;
    c.lo = j - 1;
    c.hi = j;
    c.two = true;
    // TNG tables store Z as float32: CHEMPY then takes np.log10 of float32 scalars (float32
    // results, float32 difference); a zero lower Z is replaced by a Python float (float64 log).
    const double zh = grids[j].z;
    double zl = grids[j - 1].z;
    const bool lo32 = zl != 0.0 && is_float32(zl);
    const bool hi32 = is_float32(zh);
    if (zl == 0.0) zl = zero_z_substitute;
    const double lh = hi32 ? static_cast<double>(log10_float32(static_cast<float>(zh))) : std::log10(zh);
    const double ll = lo32 ? static_cast<double>(log10_float32(static_cast<float>(zl))) : std::log10(zl);
    const double lz = std::log10(z);
    const double d = (hi32 && lo32) ? static_cast<double>(static_cast<float>(lh) - static_cast<float>(ll))
                                    : lh - ll;
    c.w_lo = (lh - lz) / d;
    c.w_hi = (lz - ll) / d;
    return c;
  }
};

/// The three channels of a yield set, preprocessed for the paper's element list.
struct prepared_yields {
  prepared_channel sn2, agb, sn1a;
  double sn1a_ejecta_mass = 0.0;  ///< M_ej of one SN Ia [Msun]
  channel_mass_ranges ranges;
};

namespace detail {

inline prepared_channel prepare_channel(const yields::yield_table& t, const char* what,
                                        bool require_all, double mmin, double mmax, bool sort_desc,
                                        bool filter) {
  prepared_channel ch;
  std::array<std::size_t, n_traced> col{};
  for (std::size_t e = 0; e < n_traced; ++e) {
    const auto idx = t.element_index(chempy_traced_elements[e]);
    if (!idx) {
      const element el = chempy_traced_elements[e];
      const bool optional = !require_all && (el == elements::H || el == elements::He);
      if (!optional) {
        throw invalid_argument(std::string("chempp::gce::prepare_yields: ") + what +
                               " table (" + t.source().loader + ") lacks traced element " +
                               std::string(el.symbol()));
      }
      ch.tabulated[e] = false;
      continue;
    }
    ch.tabulated[e] = true;
    col[e] = *idx;
  }
  for (const auto& g : t.grids()) {
    prepared_grid pg;
    pg.z = g.metallicity;
    std::vector<std::size_t> order;
    for (std::size_t m = 0; m < g.mass.size(); ++m) {
      if (!filter || (g.mass(m) >= mmin && g.mass(m) <= mmax)) order.push_back(m);
    }
    if (sort_desc) {
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return g.mass(a) < g.mass(b); });
      std::reverse(order.begin(), order.end());
    }
    if (filter && order.empty()) {
      throw invalid_argument(std::string("chempp::gce::prepare_yields: ") + what +
                             " table has no mass in [" + chempp::detail::format_value(mmin) +
                             ", " + chempp::detail::format_value(mmax) + "] at Z = " +
                             chempp::detail::format_value(g.metallicity));
    }
    if (order.size() > max_masses) {
      throw invalid_argument(std::string("chempp::gce::prepare_yields: ") + what + " table has " +
                             std::to_string(order.size()) + " masses at one metallicity (at most " +
                             std::to_string(max_masses) + " supported)");
    }
    for (std::size_t m : order) {
      pg.mass.push_back(g.mass(m));
      pg.unprocessed.push_back(g.unprocessed_mass_in_winds(m));
      element_masses y{};
      for (std::size_t e = 0; e < n_traced; ++e) y[e] = ch.tabulated[e] ? g.net_yield(m, col[e]) : 0.0;
      pg.yield.push_back(y);
    }
    if (filter) {
      pg.edges.push_back(mmax);
      for (std::size_t i = 0; i + 1 < pg.mass.size(); ++i) {
        pg.edges.push_back((pg.mass[i] + pg.mass[i + 1]) / 2.0);
      }
      pg.edges.push_back(mmin);
    }
    ch.grids.push_back(std::move(pg));
  }
  return ch;
}

}  // namespace detail

/// Preprocesses a yield set for the model (CHEMPY's per-call table handling, done once).
/// \throws invalid_argument when a table lacks a traced element (SN Ia tables may omit H, He).
inline prepared_yields prepare_yields(const yields::yield_set& set,
                                      const channel_mass_ranges& r = {}) {
  prepared_yields p;
  p.ranges = r;
  p.sn2 = detail::prepare_channel(set.sn2, "SN II", true, r.sn2_min, r.sn2_max, true, true);
  p.agb = detail::prepare_channel(set.agb, "AGB", true, r.agb_min, r.agb_max, false, true);
  p.sn1a = detail::prepare_channel(set.sn1a, "SN Ia", false, 0.0, 0.0, false, false);
  p.sn1a.zero_z_substitute = 1e-9;
  // CHEMPY (weighted_yield.SSP.sn1a_feedback): the ejected mass of one SN Ia is
  // −mass_in_remnants of the Z = 0.02 table (Iwamoto: its W7 sum 1.37083, not the nominal 1.38 of
  // `Mass`); a table without a Z = 0.02 grid (CHEMPY cannot run it) uses its first grid's `Mass`.
  const auto& g0 = set.sn1a.grid(0);
  p.sn1a_ejecta_mass = g0.mass(0);
  for (const auto& g : set.sn1a.grids())
    if (g.metallicity == 0.02 && g.mass_in_remnants(0) < 0.0) p.sn1a_ejecta_mass = -g.mass_in_remnants(0);
  check_positive("chempp::gce::prepare_yields", "SN Ia ejecta mass", p.sn1a_ejecta_mass);
  return p;
}

/// Reusable per-run scratch of the SSP computation (sized once; no allocation afterwards).
struct ssp_scratch {
  std::vector<double> m_dying;                 ///< dying mass per age step [Msun]
  std::vector<double> tau;                     ///< lifetime table (non-monotonic fits only)
  std::vector<element_masses> part0, part1;    ///< per-metallicity release tables
  std::vector<std::size_t> m_dying_index;      ///< IMF grid index of each dying mass
  void reserve(std::size_t n) {
    m_dying.resize(n);
    part0.resize(n);
    part1.resize(n);
    m_dying_index.resize(n);
  }
};

/// SSP feedback per unit SSP mass (docs/chempy-model.md §6): fills out[a] for ages a = 0 … L−1
/// (entry a = release between ages (a−1)·dt and a·dt) given the dying masses `m_dying[0..filled)`,
/// birth composition `f`, metallicity `z`, the IMF weights and SN Ia numbers per age step.
inline void ssp_feedback(const prepared_yields& py, const mass_grid& grid, const imf_weights& imf,
                         double z, const element_masses& f, std::span<const double> m_dying,
                         std::size_t filled, std::span<const double> sn1a_numbers,
                         std::span<element_masses> out, ssp_scratch& s) {
  const std::size_t len = out.size();
  for (std::size_t a = 0; a < len; ++a) out[a].fill(0.0);
  const auto& rg = py.ranges;
  // Every IMF window below is CHEMPY's half-open grid sum over lo <= x_j < hi, i.e.
  // imf.mass_in(lower_index(lo), lower_index(hi)). lower_index is monotone, so
  // lower_index(max(x, y)) = max(lower_index(x), lower_index(y)) (and likewise for min): the
  // grid indices of the dying masses and of the bin edges are found once per call instead of
  // once per window, with bit-identical window sums.
  const std::size_t n_idx = std::min(filled, len);
  if (s.m_dying_index.size() < n_idx) s.m_dying_index.resize(n_idx);  // only for a bare scratch
  std::size_t* const di = s.m_dying_index.data();
  for (std::size_t a = 0; a < n_idx; ++a) di[a] = grid.lower_index(m_dying[a]);
  std::size_t ei[max_masses + 1];  // grid indices of one table's bin edges / AGB support
  auto edge_indices = [&](const prepared_grid& g) {
    for (std::size_t b = 0; b < g.edges.size(); ++b) ei[b] = grid.lower_index(g.edges[b]);
  };
  // out[a] += part[a]·w for the rows [a0, a1) a table filled (the other rows are zero and would
  // add exactly nothing); w = 1 for a single table (x·1 = x exactly)
  auto add_rows = [&](const std::vector<element_masses>& part, std::size_t a0, std::size_t a1,
                      double w) {
    for (std::size_t a = a0; a < a1; ++a) {
      element_masses& o = out[a];
      const element_masses& pa = part[a];
      for (std::size_t e = 0; e < n_traced; ++e) o[e] += pa[e] * w;
    }
  };

  // ---- SN II (CHEMPY sn2_feedback) ----
  {
    const metallicity_choice mc = py.sn2.choose(z);
    const std::size_t nt = mc.two ? 2 : 1;
    std::size_t rows[2] = {0, 0};  // part[1 .. rows) written; part[0] and later rows are zero
    for (std::size_t si = 0; si < nt; ++si) {
      const prepared_grid& g = py.sn2.grids[si == 0 ? mc.lo : mc.hi];
      auto& part = si == 0 ? s.part0 : s.part1;
      const std::size_t nb = g.mass.size();
      edge_indices(g);
      for (std::size_t a = 0; a + 1 < len && a + 1 < filled; ++a) {
        if (m_dying[a] < rg.sn2_min) break;
        // weights per bin (bins without dying stars add exactly zero and are skipped):
        // IMF mass in [max(edge_{b+1}, m_{a+1}), min(edge_b, m_a)), empty when upper < lower
        double w[max_masses];
        std::size_t nz = 0;
        std::size_t idx[max_masses];
        for (std::size_t b = 0; b < nb; ++b) {
          const std::size_t lower = std::max(ei[b + 1], di[a + 1]);
          const std::size_t upper = std::min(ei[b], di[a]);
          const double wb = imf.mass_in(lower, upper);
          if (wb != 0.0) {
            w[nz] = wb;
            idx[nz++] = b;
          }
        }
        element_masses acc{};
        for (std::size_t q = 0; q < nz; ++q) {
          const auto& y = g.yield[idx[q]];
          for (std::size_t e = 0; e < n_traced; ++e) acc[e] += y[e] * w[q];
        }
        element_masses unp{};
        for (std::size_t q = 0; q < nz; ++q) {
          const double uw = g.unprocessed[idx[q]] * w[q];
          for (std::size_t e = 0; e < n_traced; ++e) unp[e] += uw * f[e];
        }
        for (std::size_t e = 0; e < n_traced; ++e) acc[e] += unp[e];
        part[a + 1] = acc;
        rows[si] = a + 2;
      }
    }
    if (mc.two) {
      add_rows(s.part0, 1, rows[0], mc.w_lo);
      add_rows(s.part1, 1, rows[1], mc.w_hi);
    } else {
      add_rows(s.part0, 1, rows[0], 1.0);
    }
  }

  // ---- AGB (CHEMPY agb_feedback) ----
  {
    const metallicity_choice mc = py.agb.choose(z);
    const std::size_t nt = mc.two ? 2 : 1;
    std::size_t rows[2] = {0, 0};  // part[0 .. rows) written; later rows are zero
    for (std::size_t si = 0; si < nt; ++si) {
      const prepared_grid& g = py.agb.grids[si == 0 ? mc.lo : mc.hi];
      auto& part = si == 0 ? s.part0 : s.part1;
      const auto& support = g.edges;
      edge_indices(g);
      std::size_t j = 0;
      std::size_t last_item = grid.lower_index(0.0);  // grid index of CHEMPY's initial 0.0
      for (std::size_t a = 0; a < len && a < filled; ++a) {
        const double item = m_dying[a];
        if (item < rg.agb_min) break;
        // pieces: IMF grid indices [gaps[t+1], gaps[t]) with yields of mass index
        // mass_index[t] (-1: none); the masses are support[j] and the dying masses
        std::size_t gaps[max_masses + 3];
        std::ptrdiff_t mass_index[max_masses + 3];
        std::size_t np = 0;
        gaps[0] = last_item;
        while (support[j] > item) {
          gaps[np + 1] = ei[j];
          mass_index[np] = static_cast<std::ptrdiff_t>(j) - 1;
          ++np;
          ++j;
        }
        mass_index[np] = static_cast<std::ptrdiff_t>(j) - 1;
        last_item = di[a];
        gaps[np + 1] = di[a];
        ++np;
        double w[max_masses + 2];
        std::size_t idx[max_masses + 2];
        std::size_t nz = 0;
        for (std::size_t t = 0; t < np; ++t) {
          if (mass_index[t] < 0) continue;  // above the AGB range: weight 0
          const double wt = imf.mass_in(gaps[t + 1], gaps[t]);
          if (wt != 0.0) {
            w[nz] = wt;
            idx[nz++] = static_cast<std::size_t>(mass_index[t]);
          }
        }
        element_masses acc{};
        for (std::size_t q = 0; q < nz; ++q) {
          const auto& y = g.yield[idx[q]];
          for (std::size_t e = 0; e < n_traced; ++e) acc[e] += y[e] * w[q];
        }
        for (std::size_t q = 0; q < nz; ++q) {
          const double uw = g.unprocessed[idx[q]] * w[q];
          for (std::size_t e = 0; e < n_traced; ++e) acc[e] += uw * f[e];
        }
        part[a] = acc;
        rows[si] = a + 1;
      }
    }
    if (mc.two) {
      add_rows(s.part0, 0, rows[0], mc.w_lo);
      add_rows(s.part1, 0, rows[1], mc.w_hi);
    } else {
      add_rows(s.part0, 0, rows[0], 1.0);
    }
  }

  // ---- SN Ia (CHEMPY sn1a_feedback, single-degenerate H accretion) ----
  {
    const double m_ej = py.sn1a_ejecta_mass;
    const double m_wd = rg.sn1a_progenitor_mass * rg.sn1a_remnant_fraction;
    const double h_loss = 1.0 - (m_wd / m_ej);
    const metallicity_choice mc = py.sn1a.choose(z);
    // local copies: the compiler cannot prove that `out` does not alias the tables
    const element_masses y_lo = py.sn1a.grids[mc.lo].yield[0];
    const element_masses y_hi = mc.two ? py.sn1a.grids[mc.hi].yield[0] : element_masses{};
    const std::array<bool, n_traced> tab = py.sn1a.tabulated;
    const double w_lo = mc.w_lo, w_hi = mc.w_hi;
    for (std::size_t a = 0; a < len; ++a) {
      const double mass = sn1a_numbers[a] * m_ej;
      element_masses& o = out[a];
      o[traced::H] -= mass * h_loss;
      if (mc.two) {
        for (std::size_t e = 0; e < n_traced; ++e) {
          if (!tab[e]) continue;
          o[e] += (mass * y_lo[e]) * w_lo;
          o[e] += (mass * y_hi[e]) * w_hi;
        }
      } else {
        for (std::size_t e = 0; e < n_traced; ++e) {
          if (tab[e]) o[e] += mass * y_lo[e];
        }
      }
    }
  }
}

}  // namespace chempp::gce
