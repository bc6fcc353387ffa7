// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Host-callable wrappers around the CUDA back end, compiled by nvcc in `gpu_api.cu` (C++17) and
/// called from the doctest files (C++20, which also include the CPU classes). Plain data only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chempp/cuda/weights.hpp"

namespace chempp::cuda::test {

/// True if a CUDA device is usable; otherwise `why` says why not.
bool gpu_available(std::string& why);
/// "name (cc X.Y, N SMs)" of the current device.
std::string gpu_description();
/// The message of the `cuda_error` thrown for a failing call (no device needed).
std::string cuda_error_message_for(int cuda_error_code, const std::string& call);
/// Allocates a device buffer of n floats (throws `cuda_error` naming cudaMalloc without a GPU).
void allocate_device_floats(std::size_t n);

/// Emulator forward on the GPU (x: n × n_in row-major).
std::vector<float> gpu_mlp_forward(const dense_network_weights& w, const std::vector<float>& x);
std::vector<double> gpu_mlp_forward(const dense_network_weights& w, const std::vector<double>& x);

/// MAF log density on the GPU (θ n × D, x n × C or 1 × C); k < D: marginal of the first k dims.
std::vector<float> gpu_maf_log_prob(const maf_weights& w, const std::vector<float>& theta,
                                    const std::vector<float>& x, std::size_t k);
std::vector<double> gpu_maf_log_prob(const maf_weights& w, const std::vector<double>& theta,
                                     const std::vector<double>& x, std::size_t k);

/// MAF inverse on the GPU for given base draws z ((n_obs n_per_x) × D), x n_obs × C.
std::vector<float> gpu_maf_sample_from_base(const maf_weights& w, const std::vector<float>& x, std::size_t n_per_x,
                                            const std::vector<float>& z);
std::vector<double> gpu_maf_sample_from_base(const maf_weights& w, const std::vector<double>& x,
                                             std::size_t n_per_x, const std::vector<double>& z);

/// Philox sampling on the GPU (double precision); returns θ and the count left outside the box
/// (`lower`/`upper` empty: no box).
std::vector<double> gpu_maf_sample(const maf_weights& w, const std::vector<double>& x, std::size_t n_per_x,
                                   std::uint64_t seed, const std::vector<double>& lower,
                                   const std::vector<double>& upper, std::size_t& n_outside);

/// Gaussian fits on the GPU.
void gpu_fit_gaussians(const std::vector<double>& samples, std::size_t n_stars, std::size_t n_per_star,
                       std::size_t ld, std::size_t k, int ddof, std::vector<double>& mean, std::vector<double>& cov);

}  // namespace chempp::cuda::test
