// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one place chempp includes xsimd, plus shims over API differences between xsimd 8
/// (Debian 12) and xsimd 9+ (`hadd` was renamed `reduce_add`).

#include <xsimd/xsimd.hpp>

namespace chempp::simd {

/// Horizontal sum of a batch, whichever xsimd version is installed.
template <class T, class A>
inline T reduce_add(const xsimd::batch<T, A>& b) {
#if XSIMD_VERSION_MAJOR >= 9
  return xsimd::reduce_add(b);
#else
  return xsimd::hadd(b);
#endif
}

/// Name of the instruction set a kernel was instantiated for (for tests and benchmarks).
template <class Arch>
constexpr const char* arch_name() noexcept {
  return Arch::name();
}

}  // namespace chempp::simd
