// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Internal helpers for building `metallicity_grid`s in the loaders: zero-initialised grids, the
/// mass-order reversal CHEMPY applies to AGB tables, and the remnant / unprocessed-mass closures
/// the loaders share. Not part of the public API.

#include <array>
#include <cstddef>
#include <utility>

#include "chempp/yields/yield_table.hpp"

namespace chempp::yields::detail {

/// Sum of T (float or double) values exactly as numpy's `np.sum` of a contiguous array computes
/// it (pairwise summation with eight accumulators below 128 elements, recursive halving
/// above; numpy/core/src/umath/loops_utils.h `pairwise_sum`).
template <class T>
T numpy_pairwise_sum(const T* a, std::size_t n) {
  if (n < 8) {
    T res = T(0);  // numpy starts from -0.0 for n < 8; identical for any non-empty sum
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    std::array<T, 8> r{};
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

/// `x`, rounded to double and opaque to the optimiser. Wrapping a product in it keeps a·b ± c
/// from being contracted into one fused multiply-add (GCC's default -ffp-contract=fast with
/// -march=native), so the product is rounded on its own as in numpy.
inline double rounded(double x) {
#if defined(__GNUC__) || defined(__clang__)
  asm("" : "+m"(x));
#endif
  return x;
}

/// A grid for metallicity `z` with `nm` masses and `ne` elements, all values zero.
inline metallicity_grid zero_grid(double z, std::size_t nm, std::size_t ne) {
  metallicity_grid g;
  g.metallicity = z;
  g.mass = xt::zeros<double>({nm});
  g.mass_in_remnants = xt::zeros<double>({nm});
  g.unprocessed_mass_in_winds = xt::zeros<double>({nm});
  g.net_yield = xt::zeros<double>({nm, ne});
  return g;
}

/// Reverses the mass order of `g` (CHEMPY builds AGB tables ascending, then reverses them).
inline void reverse_masses(metallicity_grid& g) {
  const std::size_t nm = g.mass.size();
  const std::size_t ne = g.net_yield.shape()[1];
  for (std::size_t a = 0, b = nm == 0 ? 0 : nm - 1; a < b; ++a, --b) {
    std::swap(g.mass(a), g.mass(b));
    std::swap(g.mass_in_remnants(a), g.mass_in_remnants(b));
    std::swap(g.unprocessed_mass_in_winds(a), g.unprocessed_mass_in_winds(b));
    for (std::size_t e = 0; e < ne; ++e) std::swap(g.net_yield(a, e), g.net_yield(b, e));
  }
}

/// Σ_X y_X of mass row `m`, left to right in element order from 0.
inline double yield_sum(const metallicity_grid& g, std::size_t m) {
  double s = 0.0;
  for (std::size_t e = 0; e < g.net_yield.shape()[1]; ++e) s += g.net_yield(m, e);
  return s;
}

/// Gross tables without a u column (CHEMPY `Nugrid`, `OldNugrid`): remnant = 1 − Σ_X y_X for
/// every mass row, u stays 0.
inline void close_with_remnant(metallicity_grid& g) {
  for (std::size_t m = 0; m < g.mass.size(); ++m) g.mass_in_remnants(m) = 1.0 - yield_sum(g, m);
}

/// Net tables: u = 1 − (r + Σ_X y_X) for every mass row (Portinari, Ventura, Karakas 2010).
inline void close_with_unprocessed(metallicity_grid& g) {
  for (std::size_t m = 0; m < g.mass.size(); ++m) {
    g.unprocessed_mass_in_winds(m) = 1.0 - (g.mass_in_remnants(m) + yield_sum(g, m));
  }
}

/// Net tables: u = (1 − r) − Σ_X y_X for every mass row (NuGrid_net, West17, CL18 …).
inline void close_with_unprocessed_after_remnant(metallicity_grid& g) {
  for (std::size_t m = 0; m < g.mass.size(); ++m) {
    g.unprocessed_mass_in_winds(m) = (1.0 - g.mass_in_remnants(m)) - yield_sum(g, m);
  }
}

}  // namespace chempp::yields::detail
