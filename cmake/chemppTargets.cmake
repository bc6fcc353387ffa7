# SPDX-License-Identifier: BSD-3-Clause
# Helpers for chempp's own targets (tests, examples, benchmarks). Nothing here is global.

# chempp_configure_target(<target>): C++20, strict warnings (as errors when
# CHEMPP_WARNINGS_AS_ERRORS), -march=native (CHEMPP_MARCH_NATIVE), optional sanitizers. Applied to chempp's own targets only.
function(chempp_configure_target tgt)
  target_compile_features(${tgt} PRIVATE cxx_std_20)
  set_target_properties(${tgt} PROPERTIES CXX_EXTENSIONS OFF)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
      -Wno-sign-conversion)
    # No implicit a*b+c -> fma contraction (GCC's default in C++ even with -std=c++20): which
    # operations get fused then depends on inlining, i.e. on what else a translation unit holds,
    # and the same GCE run differed by 1 ulp between chempp-gce and the Python module. Explicit
    # fma (xsimd, Eigen's kernels) is unaffected.
    target_compile_options(${tgt} PRIVATE -ffp-contract=off)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      # GCC 12 bug 105329: false -Wrestrict inside libstdc++ for `"literal" + std::string&&`.
      target_compile_options(${tgt} PRIVATE -Wno-restrict)
    endif()
    if(CHEMPP_WARNINGS_AS_ERRORS)
      target_compile_options(${tgt} PRIVATE -Werror)
    endif()
    if(CHEMPP_MARCH_NATIVE)
      target_compile_options(${tgt} PRIVATE -march=native)
      if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # GCC 12 reports false -Wmaybe-uninitialized/-Wuninitialized positives inside Eigen's
        # AVX-512 GEMM packing and xsimd's AVX-512 math (the avx512fintrin.h `__Y = __Y` idiom)
        # once -march=native enables AVX-512; they are not in chempp's code.
        target_compile_options(${tgt} PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
      endif()
    endif()
    if(CHEMPP_SANITIZERS)
      string(REPLACE ";" "," _san "${CHEMPP_SANITIZERS}")
      target_compile_options(${tgt} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
      target_link_options(${tgt} PRIVATE -fsanitize=${_san})
    endif()
  elseif(MSVC)
    target_compile_options(${tgt} PRIVATE /W4 $<$<BOOL:${CHEMPP_WARNINGS_AS_ERRORS}>:/WX>)
  endif()
endfunction()
