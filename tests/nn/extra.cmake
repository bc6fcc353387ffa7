# SPDX-License-Identifier: BSD-3-Clause
# GCC 12 reports false -Wmaybe-uninitialized positives inside Eigen's AVX-512 GEMM packing
# and xsimd's AVX-512 math (avx512fintrin.h `__Y = __Y` idiom, also -Wuninitialized) once
# -march=native enables AVX-512; they are not in our code.
if(TARGET test_nn AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(test_nn PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
endif()
if(TARGET test_nn_slow AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(test_nn_slow PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
endif()
