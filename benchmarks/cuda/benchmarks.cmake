# SPDX-License-Identifier: BSD-3-Clause
# The CUDA benchmark (issue 7), included (deferred, at top-level scope) from cmake/chemppCuda.cmake
# when CUDA is found and benchmarks are on: bench_cuda.cpp (Google Benchmark, CPU baselines,
# C++20) + bench_cuda.cu (GPU side, nvcc, C++17).
find_package(benchmark REQUIRED CONFIG)
set(_d ${CMAKE_CURRENT_LIST_DIR})
add_executable(bench_cuda ${_d}/bench_cuda.cpp ${_d}/bench_cuda_gpu.cu)
target_link_libraries(bench_cuda PRIVATE chempp::cuda benchmark::benchmark)
target_include_directories(bench_cuda PRIVATE ${_d})
chempp_configure_cuda_target(bench_cuda)
set_target_properties(bench_cuda PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/benchmarks)
