// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Chemical elements usable at compile time: symbol, atomic number, standard atomic weight and
/// the Asplund et al. (2009, ARA&A 47, 481) photospheric solar abundance.
///
/// Atomic weights [amu] are CHEMPY's `input/elemental_table.npy`; the solar log eps(X) =
/// log10(N_X/N_H) + 12 [dex] are what CHEMPY's `solar_abundances.Asplund09()` sets (elements it
/// does not set have `has_solar == false` and log eps = 0, as in CHEMPY). Generated once from
/// `shared/data/chempy/asplund09_solar_chempy.csv`; `tests/elements/element.test.cpp` checks the
/// table against that file when it is available.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chempp/core/error.hpp"

namespace chempp {

namespace detail {
struct element_record {
  std::string_view symbol;
  int number;                ///< atomic number Z
  double mass_amu;           ///< standard atomic weight [amu]
  double logeps_asplund09;   ///< photospheric log eps [dex], 0 if not set
  bool has_solar;            ///< Asplund09() assigns a value
};

// clang-format off
inline constexpr std::array<element_record, 116> element_table{{
    {"H", 1, 1.00794, 12.0, true},
    {"He", 2, 4.002602, 10.93, true},
    {"Li", 3, 6.941, 3.26, true},
    {"Be", 4, 9.012182, 1.3, true},
    {"B", 5, 10.811, 2.79, true},
    {"C", 6, 12.0107, 8.43, true},
    {"N", 7, 14.0067, 7.83, true},
    {"O", 8, 15.9994, 8.69, true},
    {"F", 9, 18.9994, 4.42, true},
    {"Ne", 10, 20.1797, 7.93, true},
    {"Na", 11, 22.98976928, 6.24, true},
    {"Mg", 12, 24.305, 7.6, true},
    {"Al", 13, 26.9815386, 6.45, true},
    {"Si", 14, 28.0855, 7.51, true},
    {"P", 15, 30.973762, 5.41, true},
    {"S", 16, 32.065, 7.12, true},
    {"Cl", 17, 35.453, 5.23, true},
    {"Ar", 18, 39.948, 6.4, true},
    {"K", 19, 39.0983, 5.03, true},
    {"Ca", 20, 40.078, 6.34, true},
    {"Sc", 21, 44.955912, 3.15, true},
    {"Ti", 22, 47.867, 4.95, true},
    {"V", 23, 50.9415, 3.93, true},
    {"Cr", 24, 51.9961, 5.64, true},
    {"Mn", 25, 54.938045, 5.43, true},
    {"Fe", 26, 55.845, 7.5, true},
    {"Co", 27, 58.933195, 4.99, true},
    {"Ni", 28, 58.6934, 6.22, true},
    {"Cu", 29, 63.546, 4.19, true},
    {"Zn", 30, 65.38, 4.56, true},
    {"Ga", 31, 69.723, 3.04, true},
    {"Ge", 32, 72.64, 3.65, true},
    {"As", 33, 74.9216, 2.3, true},
    {"Se", 34, 78.96, 3.34, true},
    {"Br", 35, 79.904, 2.54, true},
    {"Kr", 36, 83.798, 3.25, true},
    {"Rb", 37, 85.4678, 2.52, true},
    {"Sr", 38, 87.62, 2.87, true},
    {"Y", 39, 88.90585, 2.21, true},
    {"Zr", 40, 91.224, 2.57, true},
    {"Nb", 41, 92.90638, 1.46, true},
    {"Mo", 42, 95.96, 1.88, true},
    {"Tc", 43, 98.0, 0.0, false},
    {"Ru", 44, 101.07, 1.75, true},
    {"Rh", 45, 102.9055, 0.91, true},
    {"Pd", 46, 106.42, 1.57, true},
    {"Ag", 47, 107.8682, 0.94, true},
    {"Cd", 48, 112.411, 1.71, true},
    {"In", 49, 114.818, 0.8, true},
    {"Sn", 50, 118.71, 2.04, true},
    {"Sb", 51, 121.76, 1.01, true},
    {"Te", 52, 127.6, 2.18, true},
    {"I", 53, 126.90447, 1.55, true},
    {"Xe", 54, 131.293, 2.24, true},
    {"Cs", 55, 132.9054519, 1.08, true},
    {"Ba", 56, 137.327, 2.18, true},
    {"La", 57, 138.90547, 1.1, true},
    {"Ce", 58, 140.116, 1.58, true},
    {"Pr", 59, 140.90765, 0.72, true},
    {"Nd", 60, 144.242, 1.42, true},
    {"Pm", 61, 145.0, 0.0, false},
    {"Sm", 62, 150.36, 0.96, true},
    {"Eu", 63, 151.964, 0.52, true},
    {"Gd", 64, 157.25, 1.07, true},
    {"Tb", 65, 158.92535, 0.3, true},
    {"Dy", 66, 162.5001, 1.1, true},
    {"Ho", 67, 164.93032, 0.48, true},
    {"Er", 68, 167.259, 0.92, true},
    {"Tm", 69, 168.93421, 0.1, true},
    {"Yb", 70, 173.054, 0.84, true},
    {"Lu", 71, 174.9668, 0.1, true},
    {"Hf", 72, 178.49, 0.85, true},
    {"Ta", 73, 180.94788, -0.12, true},
    {"W", 74, 183.84, 0.85, true},
    {"Re", 75, 186.207, 0.26, true},
    {"Os", 76, 190.23, 1.4, true},
    {"Ir", 77, 192.217, 1.38, true},
    {"Pt", 78, 192.084, 1.62, true},
    {"Au", 79, 196.966569, 0.92, true},
    {"Hg", 80, 200.59, 1.17, true},
    {"Tl", 81, 204.3833, 0.9, true},
    {"Pb", 82, 207.2, 1.75, true},
    {"Bi", 83, 208.980401, 0.65, true},
    {"Po", 84, 210.0, 0.0, false},
    {"At", 85, 210.0, 0.0, false},
    {"Rn", 86, 220.0, 0.0, false},
    {"Fr", 87, 223.0, 0.0, false},
    {"Ra", 88, 226.0, 0.0, false},
    {"Ac", 89, 227.0, 0.0, false},
    {"Th", 90, 232.03806, 0.02, true},
    {"Pa", 91, 231.03588, 0.0, false},
    {"U", 92, 238.02891, -0.54, true},
    {"Np", 93, 237.0, 0.0, false},
    {"Pu", 94, 244.0, 0.0, false},
    {"Am", 95, 243.0, 0.0, false},
    {"Cm", 96, 247.0, 0.0, false},
    {"Bk", 97, 247.0, 0.0, false},
    {"Cf", 98, 251.0, 0.0, false},
    {"Es", 99, 252.0, 0.0, false},
    {"Fm", 100, 257.0, 0.0, false},
    {"Md", 101, 258.0, 0.0, false},
    {"No", 102, 259.0, 0.0, false},
    {"Lr", 103, 262.0, 0.0, false},
    {"Rf", 104, 261.0, 0.0, false},
    {"Db", 105, 262.0, 0.0, false},
    {"Sg", 106, 266.0, 0.0, false},
    {"Bh", 107, 264.0, 0.0, false},
    {"Hs", 108, 277.0, 0.0, false},
    {"Mt", 109, 268.0, 0.0, false},
    {"Ds", 110, 271.0, 0.0, false},
    {"Rg", 111, 272.0, 0.0, false},
    {"Uub", 112, 285.0, 0.0, false},
    {"Uut", 113, 284.0, 0.0, false},
    {"Uuq", 114, 289.0, 0.0, false},
    {"Uup", 115, 288.0, 0.0, false},
    {"Uuh", 116, 292.0, 0.0, false},}};
// clang-format on
}  // namespace detail

/// A chemical element, identified by its atomic number (1 ... 116). Trivially copyable,
/// constexpr everywhere; `element("Fe")` in a constant expression fails to compile for an
/// unknown symbol and throws `invalid_argument` at run time.
class element {
 public:
  constexpr element() noexcept = default;  ///< hydrogen

  /// From the atomic number Z (1 ... 116).
  constexpr explicit element(int atomic_number) : index_(index_from_number(atomic_number)) {}

  /// From the chemical symbol, case-sensitive as in the periodic table ("Fe", "He").
  constexpr explicit element(std::string_view symbol) : index_(index_from_symbol(symbol)) {}

  [[nodiscard]] constexpr std::string_view symbol() const noexcept { return rec().symbol; }
  [[nodiscard]] constexpr int atomic_number() const noexcept { return rec().number; }
  /// Standard atomic weight [amu] (CHEMPY's elemental table).
  [[nodiscard]] constexpr double atomic_mass() const noexcept { return rec().mass_amu; }
  /// Asplund et al. 2009 photospheric log eps = log10(N_X/N_H) + 12 [dex].
  [[nodiscard]] constexpr double solar_logeps() const noexcept { return rec().logeps_asplund09; }
  /// Whether Asplund et al. 2009 (as coded in CHEMPY) gives a photospheric value.
  [[nodiscard]] constexpr bool has_solar_abundance() const noexcept { return rec().has_solar; }

  friend constexpr bool operator==(element a, element b) noexcept { return a.index_ == b.index_; }
  friend constexpr auto operator<=>(element a, element b) noexcept { return a.index_ <=> b.index_; }

  /// Whether `symbol` names a known element.
  [[nodiscard]] static constexpr bool is_symbol(std::string_view symbol) noexcept {
    for (const auto& r : detail::element_table) {
      if (r.symbol == symbol) return true;
    }
    return false;
  }

 private:
  [[nodiscard]] constexpr const detail::element_record& rec() const noexcept {
    return detail::element_table[index_];
  }
  static constexpr std::uint8_t index_from_number(int z) {
    if (z < 1 || z > static_cast<int>(detail::element_table.size())) {
      throw invalid_argument("chempp::element: atomic number " + std::to_string(z) +
                             " is outside [1, 116]");
    }
    return static_cast<std::uint8_t>(z - 1);
  }
  static constexpr std::uint8_t index_from_symbol(std::string_view s) {
    for (std::size_t i = 0; i < detail::element_table.size(); ++i) {
      if (detail::element_table[i].symbol == s) return static_cast<std::uint8_t>(i);
    }
    throw invalid_argument("chempp::element: unknown element symbol '" + std::string(s) + "'");
  }
  std::uint8_t index_ = 0;
};

/// Named constants for the elements CHEMPY traces.
namespace elements {
inline constexpr element H{1}, He{2}, C{6}, N{7}, O{8}, Ne{10}, Mg{12}, Si{14}, S{16}, Ca{20},
    Fe{26};
}  // namespace elements

/// The elements traced by CHEMPY in the paper's configuration, in CHEMPY's
/// `elements_to_trace` order (alphabetical): C, Fe, H, He, Mg, N, Ne, O, Si.
inline constexpr std::array<element, 9> chempy_traced_elements{
    elements::C,  elements::Fe, elements::H, elements::He, elements::Mg,
    elements::N,  elements::Ne, elements::O, elements::Si};

}  // namespace chempp
