// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Yield-table policies of the one-zone model: how the tables given to the model are turned into
/// the tables it uses. `unmodified_yields` is CHEMPY (Buck et al. 2025); `yield_modifier` is an
/// extension that scales the net yields of each channel (and optionally single elements), e.g.
/// to explore yield uncertainties as in Philcox & Rybizki (2019, ApJ 887, 9). Applied once at
/// model construction.

#include <array>
#include <concepts>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::gce {

/// A transformation of a yield set applied when the model is built.
template <class P>
concept YieldPolicy = requires(const P& p, yields::yield_set s) {
  { p.apply(std::move(s)) } -> std::same_as<yields::yield_set>;
};

/// Uses the tables as given (the paper's configuration).
struct unmodified_yields {
  /// Returns `s` unchanged.
  [[nodiscard]] yields::yield_set apply(yields::yield_set s) const { return s; }
};

/// Multiplies net yields: per channel (`sn2`, `agb`, `sn1a`) and per element (applied to every
/// channel). Remnant and unprocessed-wind fractions are left unchanged, so scaled net yields no
/// longer sum to zero; for SN Ia the ejecta of each element scale. Factors must be finite.
struct yield_modifier {
  double sn2 = 1.0;   ///< factor on SN II net yields
  double agb = 1.0;   ///< factor on AGB net yields
  double sn1a = 1.0;  ///< factor on SN Ia yields
  std::vector<std::pair<element, double>> per_element;  ///< extra factor for single elements

  /// The scaled set. \throws invalid_argument for a non-finite factor.
  [[nodiscard]] yields::yield_set apply(yields::yield_set s) const {
    constexpr const char* fn = "chempp::gce::yield_modifier";
    check_finite(fn, "sn2", sn2);
    check_finite(fn, "agb", agb);
    check_finite(fn, "sn1a", sn1a);
    for (const auto& [el, f] : per_element) {
      check_finite(fn, (std::string("factor of ") + std::string(el.symbol())).c_str(), f);
    }
    s.sn2 = scaled(s.sn2, sn2);
    s.agb = scaled(s.agb, agb);
    s.sn1a = scaled(s.sn1a, sn1a);
    return s;
  }

 private:
  [[nodiscard]] yields::yield_table scaled(const yields::yield_table& t, double f) const {
    std::vector<yields::metallicity_grid> grids = t.grids();
    for (auto& g : grids) {
      for (std::size_t e = 0; e < t.elements().size(); ++e) {
        double fe = f;
        for (const auto& [el, x] : per_element) {
          if (el == t.elements()[e]) fe *= x;
        }
        for (std::size_t m = 0; m < g.mass.size(); ++m) g.net_yield(m, e) *= fe;
      }
    }
    return yields::yield_table(t.kind(), t.source(), t.elements(), std::move(grids));
  }
};

static_assert(YieldPolicy<unmodified_yields>);
static_assert(YieldPolicy<yield_modifier>);

}  // namespace chempp::gce
