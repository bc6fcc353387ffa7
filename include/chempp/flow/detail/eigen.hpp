// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Includes Eigen/Core for the flow module. GCC 12 reports false `-W(maybe-)uninitialized` warnings
/// inside its own AVX-512 intrinsics (`__m512d __Y = __Y;` in avx512fintrin.h) when Eigen's GEMM
/// packing is inlined under -march=native; GCC decides such middle-end warnings by the
/// diagnostic state at the intrinsic's location, so the intrinsics are included here with that
/// warning off. No effect on other compilers or on user code's own diagnostics.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#endif
#include <Eigen/Core>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
