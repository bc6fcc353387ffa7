// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The random streams of the flows' samplers: one engine call per sampling call gives the key of
/// a counter-based normal stream (chempp/kernels/random.hpp), so draw j of a call is a fixed
/// function of (key, j), whatever the SIMD width or the number of samples in flight.

#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>

namespace chempp::flow::internal {

/// A 64-bit stream key from one engine call (two for an engine with fewer output bits, via
/// std::uniform_int_distribution).
template <class Rng>
inline std::uint64_t stream_key(Rng& rng) {
  using R = typename Rng::result_type;
  if constexpr (std::is_same_v<R, std::uint64_t> && Rng::min() == 0 &&
                Rng::max() == std::numeric_limits<std::uint64_t>::max()) {
    return rng();
  } else {
    return std::uniform_int_distribution<std::uint64_t>{}(rng);
  }
}

}  // namespace chempp::flow::internal
