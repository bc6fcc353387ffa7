// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Counter-based standard-normal draws: draw j of the stream `key` is a fixed function of
/// (key, j), so a sample's base point does not depend on the SIMD width, the number of
/// registers in flight, the thread, or how many draws a call asks for (docs/kernels.md).
///
///  * uniform(key, n) = SplitMix64 output n of the seed `key` (Steele, Lea & Flood 2014,
///    "Fast splittable pseudorandom number generators", OOPSLA): mix64(key + (n + 1) γ), γ the
///    64-bit golden ratio, mapped to (0, 1) through the top 52 bits (2^-53 ≤ u ≤ 1 - 2^-53);
///  * normal(key, j) by the Box–Muller transform of the pair (u₁, u₂) = (uniform(key, 2q),
///    uniform(key, 2q + 1)), r = √(-2 ln u₁), with the pairs laid out in blocks of 32 draws (see
///    `normal_block`).
/// `normal_at` is the scalar definition (host and device); `kernels::normal_fill` (simd.hpp) is
/// the vectorised one the CPU samplers use, lane j computing draw j.

#include <math.h>

#include <cstdint>

#include "chempp/kernels/functions.hpp"

namespace chempp::kernels {

/// The SplitMix64 increment (2^64 / golden ratio).
inline constexpr std::uint64_t splitmix_gamma = 0x9E3779B97F4A7C15ULL;

/// SplitMix64's output function (a bijective 64-bit mixer).
CHEMPP_HD inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A uniform double in (0, 1) from 52 bits of h.
CHEMPP_HD inline double unit_open(std::uint64_t h) {
  return double(h >> 12) * 0x1.0p-52 + 0x1.0p-53;
}

/// Draws come in blocks of 32: block b holds the 16 Box–Muller pairs q = 16 b + l (l < 16) as
/// r cos 2πu₂ at position l and r sin 2πu₂ at position 16 + l, so a SIMD unit of up to 16 lanes
/// computes each pair once and stores both halves without shuffles, and the value of a draw is
/// still a fixed function of (key, j).
inline constexpr std::uint64_t normal_block = 32;

/// Draw j of the standard-normal stream `key` (scalar definition).
CHEMPP_HD inline double normal_at(std::uint64_t key, std::uint64_t j) {
  const std::uint64_t o = j % normal_block, q = (j / normal_block) * (normal_block / 2) + o % (normal_block / 2);
  const double u1 = unit_open(mix64(key + (2 * q + 1) * splitmix_gamma));
  const double u2 = unit_open(mix64(key + (2 * q + 2) * splitmix_gamma));
  const double r = ::sqrt(-2.0 * ::log(u1));
  const double a = 6.283185307179586477 * u2;
  return o < normal_block / 2 ? r * ::cos(a) : r * ::sin(a);
}

/// The key of dimension i's stream within the stream `key` (samplers draw dimension i of
/// candidate m as draw m of this stream, so a block of candidates reads contiguous draws).
CHEMPP_HD inline std::uint64_t dimension_key(std::uint64_t key, std::uint64_t i) {
  return mix64(key ^ mix64((i + 1) * splitmix_gamma));
}

}  // namespace chempp::kernels
