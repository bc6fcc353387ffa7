// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one place chempp's modules include Eigen (Core and Cholesky).
///
/// GCC 12 reports false `-W(maybe-)uninitialized` / `-Warray-bounds` warnings inside its own
/// AVX-512 intrinsics (`__m512d __Y = __Y;` in avx512fintrin.h) when Eigen's GEMM packing is
/// inlined under -march=native. GCC decides such middle-end warnings by the diagnostic state at
/// the intrinsic's location, so the intrinsics are included here with those warnings off
/// (effective when this is their first inclusion). No effect on other compilers or on the
/// diagnostics of user code.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Warray-bounds"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#endif
#include <Eigen/Cholesky>
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
