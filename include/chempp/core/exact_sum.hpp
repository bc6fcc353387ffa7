// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Exact, order-independent summation of doubles: `exact_sum` keeps the sum of every double added
/// as a fixed-point integer spanning the whole double range (2^−1088 … 2^1088 in 68 limbs of 32
/// bits, held in int64 so that carries wait, plus counts of NaN, +∞ and −∞), so the sum does not depend on the order of the terms nor
/// on how they were split between threads or processes. Two partial sums combine exactly
/// (`merge`), and their integer form (`to_integers` / `from_integers`, `integers` values each)
/// combines by element-wise integer addition, which is what an MPI host does with
/// `MPI_Allreduce(…, MPI_INT64_T, MPI_SUM, …)`: the population engine's sums over stars are
/// therefore bit-identical whatever the number of ranks or threads (docs/survey-scale.md).
///
/// `value()` rounds the exact sum to a double deterministically (the same exact sum always gives
/// the same double; within 1 ulp of the correctly rounded value). IEEE rules for special values:
/// any NaN, or both +∞ and −∞, give NaN; otherwise any ±∞ gives that infinity; an exact sum beyond
/// the double range gives ±∞. Idea: Kulisch's long accumulator (Kulisch & Miranker 1986,
/// "The arithmetic of the digital computer", SIAM Review 28:1); the layout here is our own.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "chempp/core/error.hpp"

namespace chempp {

class exact_sum {
 public:
  static constexpr int limbs = 68;          ///< 32-bit limbs of the fixed-point value
  static constexpr int lowest_exponent = -1088;  ///< weight of limb 0 is 2^lowest_exponent
  /// int64 values of `to_integers` (the limbs, then the NaN, +∞ and −∞ counts).
  static constexpr std::size_t integers = limbs + 3;

  exact_sum() = default;

  /// Adds x exactly (NaN and ±∞ are counted).
  void add(double x) noexcept {
    if (!std::isfinite(x)) {
      ++v_[std::isnan(x) ? limbs : (x > 0 ? limbs + 1 : limbs + 2)];
      return;
    }
    if (x == 0.0) return;
    int e = 0;
    const double f = std::frexp(x, &e);  // x = f · 2^e, 0.5 ≤ |f| < 1
    // mantissa as a 53-bit integer: x = m · 2^(e − 53); subnormals have fewer bits (exact too)
    auto m = static_cast<std::int64_t>(std::ldexp(f, 53));
    int shift = e - 53 - lowest_exponent;  // ≥ −21 for the smallest subnormal 2^−1074
    if (shift < 0) {  // never loses bits: m carries −shift trailing zeros for such x
      m >>= -shift;
      shift = 0;
    }
    const int limb = shift / 32, bit = shift % 32;
    const bool neg = m < 0;
    // |m| < 2^53 shifted by bit < 32: its low and high 32-bit halves, each shifted, give three
    // limb parts, each < 2^32 (limb + 1 gets two)
    const auto a = static_cast<std::uint64_t>(neg ? -m : m);
    const std::uint64_t lo = (a & 0xffffffffULL) << bit, hi = (a >> 32) << bit;  // < 2^63, < 2^53
    const auto put = [&](int k, std::uint64_t part) {
      const auto p = static_cast<std::int64_t>(part);
      v_[static_cast<std::size_t>(k)] += neg ? -p : p;
    };
    put(limb, lo & 0xffffffffULL);
    put(limb + 1, lo >> 32);
    put(limb + 1, hi & 0xffffffffULL);
    put(limb + 2, hi >> 32);
    if (++pending_ >= (1 << 29)) normalise();
  }

  /// Adds another partial sum (exactly).
  void merge(const exact_sum& o) noexcept {
    exact_sum b = o;
    b.normalise();
    normalise();
    for (std::size_t k = 0; k < integers; ++k) v_[k] += b.v_[k];
    normalise();
  }

  /// The sum rounded to a double (see the file comment).
  [[nodiscard]] double value() const noexcept {
    if (v_[limbs] > 0 || (v_[limbs + 1] > 0 && v_[limbs + 2] > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (v_[limbs + 1] > 0) return INFINITY;
    if (v_[limbs + 2] > 0) return -INFINITY;
    exact_sum n = *this;
    n.normalise();
    // two's complement with limbs 0 … limbs−2 in [0, 2^32) and a signed top limb: a negative
    // sum is turned positive first, so the conversion below only adds non-negative parts
    const bool neg = n.v_[limbs - 1] < 0;
    if (neg) n.negate();
    int top = limbs - 1;
    while (top >= 0 && n.v_[static_cast<std::size_t>(top)] == 0) --top;
    if (top < 0) return 0.0;
    // the three leading limbs hold ≥ 65 significant bits; the rest only decide a tie: fold them
    // into a sticky bit of the lowest of the three
    const auto limb_at = [&](int k) { return k >= 0 ? static_cast<std::uint64_t>(n.v_[static_cast<std::size_t>(k)]) : std::uint64_t{0}; };
    const int low = top - 2;  // may be < 0 (then those limbs are zero)
    const std::uint64_t t2 = limb_at(top), t1 = limb_at(top - 1);
    std::uint64_t t0 = limb_at(top - 2);
    bool sticky = false;
    for (int k = top - 3; k >= 0; --k) sticky = sticky || n.v_[static_cast<std::size_t>(k)] != 0;
    if (sticky) t0 |= 1;
    // t2 · 2^64 + (t1 · 2^32 + t0), each part converted with one rounding; their sum rounds once
    // more (deterministic, within 1 ulp)
    const double r = std::ldexp(static_cast<double>(t2), 64) + static_cast<double>((t1 << 32) | t0);
    const double out = std::ldexp(r, 32 * low + lowest_exponent);
    return neg ? -out : out;
  }

  /// The integer form (normalised: limbs 0 … limbs−2 in [0, 2^32), then the special-value counts).
  /// Element-wise integer sums of such arrays from up to 2^31 partial sums are valid input of
  /// `from_integers`.
  [[nodiscard]] std::array<std::int64_t, integers> to_integers() const noexcept {
    exact_sum n = *this;
    n.normalise();
    return n.v_;
  }
  void to_integers(std::span<std::int64_t> out) const {
    if (out.size() != integers) throw invalid_argument("exact_sum::to_integers: the span must hold exact_sum::integers values");
    const auto a = to_integers();
    for (std::size_t k = 0; k < integers; ++k) out[k] = a[k];
  }
  /// The partial sum whose integer form (or an element-wise sum of integer forms) is `in`.
  /// \throws invalid_argument unless `in` holds `integers` values.
  [[nodiscard]] static exact_sum from_integers(std::span<const std::int64_t> in) {
    if (in.size() != integers) throw invalid_argument("exact_sum::from_integers: the span must hold exact_sum::integers values");
    exact_sum s;
    for (std::size_t k = 0; k < integers; ++k) s.v_[k] = in[k];
    s.normalise();
    return s;
  }

 private:
  // carries so that limbs 0 … limbs−2 lie in [0, 2^32); the top limb keeps the sign
  void normalise() noexcept {
    for (std::size_t k = 0; k + 1 < static_cast<std::size_t>(limbs); ++k) {
      const std::int64_t carry = v_[k] >> 32;  // arithmetic shift: floor division by 2^32
      v_[k] -= carry * (std::int64_t{1} << 32);
      v_[k + 1] += carry;
    }
    pending_ = 0;
  }
  void negate() noexcept {  // of a normalised value (counts untouched)
    for (std::size_t k = 0; k < static_cast<std::size_t>(limbs); ++k) v_[k] = -v_[k];
    normalise();
  }

  std::array<std::int64_t, integers> v_{};
  int pending_ = 0;
};

}  // namespace chempp
