// SPDX-License-Identifier: BSD-3-Clause
// Tests of include/chempp/cuda/device.cuh: errors name the CUDA call; device discovery and
// allocation behave without a GPU.
#include "gpu_api.hpp"
#include "support/test_support.hpp"

#include <string>

namespace cu = chempp::cuda;

TEST_CASE("cuda_error names the call and the CUDA error") {
  const std::string msg = cu::test::cuda_error_message_for(2 /* cudaErrorMemoryAllocation */, "cudaMalloc(&p, bytes)");
  CHECK(msg.find("cudaMalloc(&p, bytes) failed") != std::string::npos);
  CHECK(msg.find("cudaErrorMemoryAllocation") != std::string::npos);
  CHECK(cu::test::cuda_error_message_for(0, "cudaFree(p)").empty());  // success: no exception
}

TEST_CASE("device_count never throws; allocation without a device throws cuda_error naming cudaMalloc") {
  std::string why;
  if (cu::test::gpu_available(why)) {
    MESSAGE("device present: " << cu::test::gpu_description());
    CHECK_NOTHROW(cu::test::allocate_device_floats(1024));
    // An absurd request fails with an exception naming the call, not a crash.
    CHECK_THROWS_WITH_AS(cu::test::allocate_device_floats(std::size_t(1) << 60), doctest::Contains("cudaMalloc"),
                         chempp::error);
  } else {
    MESSAGE("no CUDA device: " << why);
    CHECK(!why.empty());
    CHECK_THROWS_WITH_AS(cu::test::allocate_device_floats(1024), doctest::Contains("cudaMalloc"), chempp::error);
  }
}
