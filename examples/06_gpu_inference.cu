// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 06, GPU side (nvcc, C++17): per-star posterior sampling and Gaussian fits with the
// CUDA back end. Called from 06_gpu_inference.cpp, which owns everything else.
#include <cstdint>
#include <string>
#include <vector>

#include "chempp/cuda/device.cuh"
#include "chempp/cuda/posterior.cuh"
#include "chempp/cuda/weights.hpp"

// Returns false (with the reason in `device`) when no GPU is usable; otherwise fills the per-star
// means (n_stars × 2) and covariances (n_stars × 2 × 2) of Λ = the first two dimensions, and the
// GPU model in `device`.
bool gpu_star_gaussians(const chempp::cuda::maf_weights& weights, const std::vector<float>& x_stars,
                        std::size_t samples_per_star, std::uint64_t seed, std::vector<double>& mean,
                        std::vector<double>& cov, std::string& device) {
  namespace cu = chempp::cuda;
  if (cu::device_count(&device) == 0) return false;
  device = cu::current_device().name;
  cu::posterior_fitter<float> fitter(weights);  // uploads the flow once
  const cu::star_gaussians g = fitter.run(x_stars, samples_per_star, seed, 2, /*ddof=*/1);
  mean = g.mean;
  cov = g.cov;
  return true;
}
