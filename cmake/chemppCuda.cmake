# SPDX-License-Identifier: BSD-3-Clause
# Optional CUDA back end (include/chempp/cuda/, issue 7): the INTERFACE target chempp::cuda, its
# tests (tests/cuda), benchmark (benchmarks/cuda) and example 06. Enabled only when a CUDA
# compiler is found; everything else builds and tests without it. Nothing here is global except
# enable_language(CUDA), which CMake requires at directory scope.

option(CHEMPP_ENABLE_CUDA "Build the optional CUDA back end (chempp::cuda) when a CUDA compiler is found"
  ${PROJECT_IS_TOP_LEVEL})
set(CHEMPP_CUDA_FOUND OFF)

if(CHEMPP_ENABLE_CUDA)
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # H100 (sm_90). Override with -DCMAKE_CUDA_ARCHITECTURES=... for other GPUs.
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(CHEMPP_CUDA_FOUND ON)
    message(STATUS "chempp: CUDA back end enabled (${CMAKE_CUDA_COMPILER}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  else()
    message(STATUS "chempp: no CUDA compiler found; the CUDA back end (chempp::cuda) is disabled")
  endif()
endif()

if(NOT CHEMPP_CUDA_FOUND)
  return()
endif()

# ---- the target ---------------------------------------------------------------------------------
# Header-only: CUDA sources that include <chempp/cuda/*.cuh> must be compiled with CUDA_STANDARD 17
# (CMake 3.25 does not know CUDA 13's C++20 level); the .cuh headers use no Eigen/xtensor/xsimd.
add_library(chempp_cuda INTERFACE)
add_library(chempp::cuda ALIAS chempp_cuda)
set_target_properties(chempp_cuda PROPERTIES EXPORT_NAME cuda)
target_link_libraries(chempp_cuda INTERFACE chempp::chempp CUDA::cudart)

# chempp_configure_cuda_target(<target>): like chempp_configure_target for targets that mix C++
# (C++20, g++ warnings) and CUDA (C++17, nvcc) sources.
function(chempp_configure_cuda_target tgt)
  target_compile_features(${tgt} PRIVATE cxx_std_20)
  set_target_properties(${tgt} PROPERTIES CXX_EXTENSIONS OFF CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
    CUDA_EXTENSIONS OFF)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    set(_w -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
    target_compile_options(${tgt} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_w}>)
    # nvcc: its own warnings plus the host compiler's (the generated stubs trip -Wpedantic).
    target_compile_options(${tgt} PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow,-Wconversion,-Wno-sign-conversion>)
    if(CHEMPP_WARNINGS_AS_ERRORS)
      target_compile_options(${tgt} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>
        $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
    endif()
    if(CHEMPP_MARCH_NATIVE)
      target_compile_options(${tgt} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
      if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${tgt} PRIVATE
          $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized -Wno-uninitialized>)
      endif()
    endif()
    if(CHEMPP_SANITIZERS)
      string(REPLACE ";" "," _san "${CHEMPP_SANITIZERS}")
      target_compile_options(${tgt} PRIVATE
        $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
      target_link_options(${tgt} PRIVATE -fsanitize=${_san})
    endif()
  endif()
endfunction()

# ---- install / export (only when enabled): find_package(chemppCuda) -------------------------------
install(TARGETS chempp_cuda EXPORT chemppCudaTargets)
install(EXPORT chemppCudaTargets NAMESPACE chempp:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/chemppCuda)
file(WRITE ${PROJECT_BINARY_DIR}/chemppCudaConfig.cmake
"# SPDX-License-Identifier: BSD-3-Clause
# chempp's optional CUDA back end: defines chempp::cuda (needs chempp and the CUDA toolkit).
include(CMakeFindDependencyMacro)
find_dependency(chempp ${PROJECT_VERSION} CONFIG)
find_dependency(CUDAToolkit)
include(\"\${CMAKE_CURRENT_LIST_DIR}/chemppCudaTargets.cmake\")
")
write_basic_package_version_file(${PROJECT_BINARY_DIR}/chemppCudaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/chemppCudaConfig.cmake ${PROJECT_BINARY_DIR}/chemppCudaConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/chemppCuda)

# ---- tests, benchmark, example ------------------------------------------------------------------
# Deferred to the end of the top-level CMakeLists.txt, so that enable_testing() and the shared
# test support library (chempp_test_main, tests/CMakeLists.txt) exist first.
if(CHEMPP_BUILD_TESTS)
  cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL
    include ${PROJECT_SOURCE_DIR}/tests/cuda/tests.cmake)
endif()
if(CHEMPP_BUILD_BENCHMARKS)
  cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL
    include ${PROJECT_SOURCE_DIR}/benchmarks/cuda/benchmarks.cmake)
endif()
if(CHEMPP_BUILD_EXAMPLES)
  add_executable(example_06_gpu_inference ${PROJECT_SOURCE_DIR}/examples/06_gpu_inference.cpp
    ${PROJECT_SOURCE_DIR}/examples/06_gpu_inference.cu)
  target_link_libraries(example_06_gpu_inference PRIVATE chempp::cuda)
  target_include_directories(example_06_gpu_inference PRIVATE ${PROJECT_SOURCE_DIR}/examples)  # support/cli.hpp
  chempp_configure_cuda_target(example_06_gpu_inference)
  set_target_properties(example_06_gpu_inference PROPERTIES OUTPUT_NAME gpu_inference
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/examples)
endif()
