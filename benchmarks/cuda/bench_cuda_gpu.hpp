// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// GPU side of `bench_cuda` (compiled by nvcc in bench_cuda_gpu.cu): runners that keep their
/// device buffers between iterations and time the GPU work with CUDA events.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chempp/cuda/weights.hpp"

namespace chempp::cuda::bench {

/// True if a CUDA device is usable; otherwise `why` says why not.
bool gpu_available(std::string& why);
/// GPU model and properties from cudaGetDeviceProperties.
std::string gpu_description();

/// n emulator evaluations (float) on the GPU; inputs uploaded once.
class emulator_runner {
 public:
  emulator_runner(const dense_network_weights& w, const std::vector<float>& x);
  ~emulator_runner();
  /// One batched forward of all inputs; returns the GPU time in seconds (CUDA events).
  double run();
  /// Output of the last run (n × n_out).
  std::vector<float> output() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// Per-star posterior sampling (float, Philox draws) + Gaussian fits of the first k dims.
class posterior_runner {
 public:
  posterior_runner(const maf_weights& w, const std::vector<float>& x_stars, std::size_t n_per_star, std::size_t k);
  ~posterior_runner();
  /// Samples every star and fits; returns {sampling seconds, fitting seconds} (CUDA events).
  std::vector<double> run(std::uint64_t seed);
  /// Means (n_stars × k) of the last run.
  std::vector<double> means() const;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace chempp::cuda::bench
