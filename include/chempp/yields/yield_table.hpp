// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Nucleosynthetic yield tables: the `YieldTable` concept and the xtensor-backed `yield_table`.
///
/// A table belongs to one enrichment channel (core-collapse SN II, AGB, SN Ia) and holds, for each
/// tabulated metallicity Z (mass fraction), a grid of initial stellar masses [Msun] with per unit
/// initial mass: the net yield of every element, the mass locked in remnants and the mass
/// ejected unprocessed ("unprocessed_mass_in_winds", released with the star's birth composition).
/// These are exactly the columns CHEMPY's loaders build (Rybizki et al. 2017, A&A 605, A59;
/// docs/chempy-model.md §8). Provenance travels with the table.
///
/// Layout: `net_yield(m, e)` is row-major [mass index, element index]; mass order is the order
/// the source loader stores (CHEMPY's AGB tables are descending, SN II ascending), because the
/// GCE binning reproduces CHEMPY's ordering; metallicity grids are sorted ascending.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/compat_xtensor.hpp"
#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"

namespace chempp::yields {

/// Enrichment channel of a yield table.
enum class channel { sn2, agb, sn1a };

[[nodiscard]] constexpr const char* to_string(channel c) noexcept {
  switch (c) {
    case channel::sn2:
      return "sn2";
    case channel::agb:
      return "agb";
    case channel::sn1a:
      return "sn1a";
  }
  return "unknown";
}

/// Where a table comes from and how it was built.
struct provenance {
  std::string loader;     ///< CHEMPY loader it reproduces ("TNG_net", "Nomoto2013", ...)
  std::string reference;  ///< the paper(s), e.g. "Nomoto, Kobayashi & Tominaga 2013, ARA&A 51, 457"
  std::string doi;        ///< DOI(s) where known, else empty
  std::string yield_kind;                 ///< "net", "gross", "composition_difference"
  std::string remnant_treatment;          ///< how `mass_in_remnants` was obtained
  std::vector<std::string> source_files;  ///< raw files the table was built from
  std::string notes;                      ///< quirks reproduced, caveats

  friend bool operator==(const provenance&, const provenance&) = default;
};

/// All masses of one tabulated metallicity. Quantities are per unit initial stellar mass.
struct metallicity_grid {
  double metallicity = 0.0;                          ///< Z (mass fraction)
  xt::xtensor<double, 1> mass;                       ///< initial masses [Msun]
  xt::xtensor<double, 1> mass_in_remnants;           ///< remnant mass fraction
  xt::xtensor<double, 1> unprocessed_mass_in_winds;  ///< unprocessed ejected fraction
  xt::xtensor<double, 2> net_yield;                  ///< [mass, element] net yield fraction
};

/// A yield table for one channel: several metallicity grids over one element list.
class yield_table {
 public:
  yield_table() = default;

  /// Builds and validates a table.
  /// \throws invalid_argument naming the grid and field on inconsistent sizes, non-finite values,
  /// non-positive or non-monotone masses, duplicate elements or non-increasing metallicities.
  yield_table(channel kind, provenance prov, std::vector<element> elements,
              std::vector<metallicity_grid> grids)
      : kind_(kind),
        prov_(std::move(prov)),
        elements_(std::move(elements)),
        grids_(std::move(grids)) {
    validate();
  }

  [[nodiscard]] channel kind() const noexcept { return kind_; }
  [[nodiscard]] const struct provenance& source() const noexcept { return prov_; }
  [[nodiscard]] const std::vector<element>& elements() const noexcept { return elements_; }
  [[nodiscard]] std::size_t size() const noexcept { return grids_.size(); }
  /// Grid `i`. \throws invalid_argument when there is no grid `i`.
  [[nodiscard]] const metallicity_grid& grid(std::size_t i) const {
    if (i >= grids_.size())
      throw invalid_argument("chempp::yield_table::grid: index " + std::to_string(i) + " of " + std::to_string(grids_.size()));
    return grids_[i];
  }
  [[nodiscard]] const std::vector<metallicity_grid>& grids() const noexcept { return grids_; }

  /// Tabulated metallicities, ascending.
  [[nodiscard]] std::vector<double> metallicities() const {
    std::vector<double> z;
    z.reserve(grids_.size());
    for (const auto& g : grids_) z.push_back(g.metallicity);
    return z;
  }

  /// Column of element `e`, or nullopt if the table does not list it.
  [[nodiscard]] std::optional<std::size_t> element_index(element e) const noexcept {
    for (std::size_t i = 0; i < elements_.size(); ++i) {
      if (elements_[i] == e) return i;
    }
    return std::nullopt;
  }

 private:
  void validate() const;

  channel kind_ = channel::sn2;
  struct provenance prov_;
  std::vector<element> elements_;
  std::vector<metallicity_grid> grids_;
};

/// What the GCE model needs from a yield table.
template <class T>
concept YieldTable = requires(const T& t, element e, std::size_t i) {
  { t.kind() } -> std::same_as<channel>;
  { t.elements() } -> std::convertible_to<const std::vector<element>&>;
  { t.size() } -> std::convertible_to<std::size_t>;
  { t.grid(i) } -> std::convertible_to<const metallicity_grid&>;
  { t.element_index(e) } -> std::same_as<std::optional<std::size_t>>;
};

static_assert(YieldTable<yield_table>);

/// The three tables a one-zone model needs.
struct yield_set {
  std::string name;  ///< e.g. "tng", "alt"
  yield_table sn2;
  yield_table agb;
  yield_table sn1a;
};

inline void yield_table::validate() const {
  const std::string where =
      std::string("chempp::yield_table(") + to_string(kind_) + ", " + prov_.loader + ")";
  for (std::size_t i = 0; i < elements_.size(); ++i) {
    for (std::size_t j = i + 1; j < elements_.size(); ++j) {
      if (elements_[i] == elements_[j]) {
        throw invalid_argument(where + ": element " + std::string(elements_[i].symbol()) +
                               " listed twice");
      }
    }
  }
  if (grids_.empty()) throw invalid_argument(where + ": no metallicity grid");
  for (std::size_t g = 0; g < grids_.size(); ++g) {
    const auto& gr = grids_[g];
    const std::string at = where + ": grid " + std::to_string(g) +
                           " (Z = " + chempp::detail::format_value(gr.metallicity) + ")";
    check_nonnegative(at, "metallicity", gr.metallicity);
    if (g > 0 && !(gr.metallicity > grids_[g - 1].metallicity)) {
      throw invalid_argument(at + ": metallicities must be strictly increasing");
    }
    const std::size_t n = gr.mass.size();
    if (n == 0) throw invalid_argument(at + ": no masses");
    if (gr.mass_in_remnants.size() != n || gr.unprocessed_mass_in_winds.size() != n ||
        gr.net_yield.shape()[0] != n || gr.net_yield.shape()[1] != elements_.size()) {
      throw invalid_argument(at + ": column lengths differ from the number of masses (" +
                             std::to_string(n) + ") or elements (" +
                             std::to_string(elements_.size()) + ")");
    }
    for (std::size_t m = 0; m < n; ++m) {
      const std::string mi = "mass[" + std::to_string(m) + "]";
      check_positive(at, mi, gr.mass(m));
      if (m >= 2 && (gr.mass(m) > gr.mass(m - 1)) != (gr.mass(1) > gr.mass(0))) {
        throw invalid_argument(
            at + ": masses must be strictly monotone (ascending or descending); " + mi + " = " +
            chempp::detail::format_value(gr.mass(m)) + " breaks the order");
      }
      if (m >= 1 && gr.mass(m) == gr.mass(m - 1)) {
        throw invalid_argument(at + ": " + mi + " repeats the previous mass " +
                               chempp::detail::format_value(gr.mass(m)));
      }
      check_finite(at, "mass_in_remnants[" + std::to_string(m) + "]", gr.mass_in_remnants(m));
      check_finite(at, "unprocessed_mass_in_winds[" + std::to_string(m) + "]",
                   gr.unprocessed_mass_in_winds(m));
      for (std::size_t e = 0; e < elements_.size(); ++e) {
        check_finite(
            at, "net_yield[" + std::to_string(m) + "][" + std::string(elements_[e].symbol()) + "]",
            gr.net_yield(m, e));
      }
    }
  }
}

}  // namespace chempp::yields
