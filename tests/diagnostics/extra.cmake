# SPDX-License-Identifier: BSD-3-Clause
# GCC 12 reports false -Wmaybe-uninitialized positives inside Eigen's AVX-512 GEMM packing
# (avx512fintrin.h `__Y = __Y` idiom) once -march=native enables AVX-512; they are not in our code.
# (chempp/inference/detail/eigen.hpp silences them when it is the first Eigen include; this keeps
# the test executables warning-free whatever the include order.)
foreach(t test_diagnostics test_diagnostics_slow)
  if(TARGET ${t} AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${t} PRIVATE -Wno-maybe-uninitialized)
  endif()
endforeach()
