# SPDX-License-Identifier: BSD-3-Clause
# Tests of the optional CUDA back end, included (deferred, at top-level scope) from
# cmake/chemppCuda.cmake when CUDA is found and tests are on.
# One executable: doctest files (C++20, CPU references, the kernels' per-sample code run on the
# host) + gpu_api.cu (nvcc, C++17). Checks that need a GPU skip with a message when
# cudaGetDeviceCount reports none.

find_package(doctest REQUIRED CONFIG)
include(doctest)
set(_d ${CMAKE_CURRENT_LIST_DIR})
add_executable(test_cuda ${_d}/emulator.test.cpp ${_d}/maf.test.cpp ${_d}/gaussian_fit.test.cpp
  ${_d}/device.test.cpp ${_d}/gpu_api.cu)
target_link_libraries(test_cuda PRIVATE chempp_test_main chempp::cuda)
target_include_directories(test_cuda PRIVATE ${_d})
chempp_configure_cuda_target(test_cuda)
# CUDA's runtime maps device memory at fixed addresses that ASan's shadow gap protects.
doctest_discover_tests(test_cuda TEST_PREFIX "test_cuda/" PROPERTIES LABELS "cuda"
  ENVIRONMENT "ASAN_OPTIONS=protect_shadow_gap=0")
