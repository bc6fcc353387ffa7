// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Per-star Gaussian fits on the GPU: for each star, the mean and covariance (divisor n − ddof;
/// ddof = 1 is `np.cov`, ddof = 0 `np.std`²) of the first k columns of its n posterior samples,
/// as `chempp::inference::fit_gaussian` computes them (Buck et al. 2025 §2.5,
/// docs/sbi-pipeline.md §6). One block per star, two passes in double. No Eigen/xtensor/xsimd.

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/cuda/device.cuh"

namespace chempp::cuda {

namespace kernels {

/// Sum of `v` over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ inline double block_sum(double v, double* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
  __syncthreads();  // scratch may still be read by the previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  double s = 0.0;
  const int nw = static_cast<int>(blockDim.x) >> 5;
  for (int w = 0; w < nw; ++w) s += scratch[w];
  return s;
}

/// Star b = blockIdx.x (grid-stride over stars): rows [b n, (b+1) n) of `s` (row stride ld).
/// Writes mean (k) and cov (k × k); flags the first star with a non-finite value in `*bad`.
template <class T>
__global__ void fit_gaussians(const T* __restrict__ s, std::size_t n_stars, std::size_t n, std::size_t ld, int k,
                              int ddof, double* __restrict__ mean, double* __restrict__ cov, int* bad) {
  __shared__ double scratch[32];
  __shared__ double mu[limits::max_fit_dims];
  for (std::size_t star = blockIdx.x; star < n_stars; star += gridDim.x) {
    const T* base = s + star * n * ld;
    bool finite = true;
    for (int a = 0; a < k; ++a) {
      double acc = 0.0;
      for (std::size_t r = threadIdx.x; r < n; r += blockDim.x) {
        const double v = static_cast<double>(base[r * ld + static_cast<std::size_t>(a)]);
        finite = finite && isfinite(v);
        acc += v;
      }
      const double tot = block_sum(acc, scratch);
      if (threadIdx.x == 0) {
        mu[a] = tot / static_cast<double>(n);
        mean[star * static_cast<std::size_t>(k) + static_cast<std::size_t>(a)] = mu[a];
      }
    }
    if (!finite) atomicMin(bad, static_cast<int>(star));
    __syncthreads();
    for (int a = 0; a < k; ++a)
      for (int b = 0; b <= a; ++b) {
        double acc = 0.0;
        for (std::size_t r = threadIdx.x; r < n; r += blockDim.x)
          acc += (static_cast<double>(base[r * ld + static_cast<std::size_t>(a)]) - mu[a]) *
                 (static_cast<double>(base[r * ld + static_cast<std::size_t>(b)]) - mu[b]);
        const double tot = block_sum(acc, scratch) / static_cast<double>(static_cast<long long>(n) - ddof);
        if (threadIdx.x == 0) {
          double* cs = cov + star * static_cast<std::size_t>(k * k);
          cs[a * k + b] = tot;
          cs[b * k + a] = tot;
        }
      }
    __syncthreads();
  }
}

}  // namespace kernels

/// Fits Gaussians to many stars' samples on the GPU; holds a small device flag (reuse it).
class gaussian_fitter {
 public:
  /// Threads per block (one block per star).
  static constexpr unsigned block_size = 128;

  gaussian_fitter() : bad_(1) {}

  /// For each of `n_stars` stars with `n_per_star` consecutive rows in `d_samples` (row stride `ld`
  /// values), writes the mean of the first k columns to `d_mean` (n_stars × k) and their
  /// covariance (divisor n_per_star − ddof) to `d_cov` (n_stars × k × k), all on the device.
  /// Synchronises `stream`; throws `invalid_argument` on bad sizes or when a star has a non-finite
  /// sample (naming the first such star), `cuda_error` on CUDA failures.
  template <class T>
  void fit(const T* d_samples, std::size_t n_stars, std::size_t n_per_star, std::size_t ld, std::size_t k, int ddof,
           double* d_mean, double* d_cov, cudaStream_t stream = nullptr) {
    const std::string fn = "chempp::cuda::gaussian_fitter::fit";
    if (ddof < 0) throw invalid_argument(fn + ": ddof must be non-negative");
    if (k < 1 || k > static_cast<std::size_t>(limits::max_fit_dims) || k > ld)
      throw invalid_argument(fn + ": k must lie in [1, min(ld, " + std::to_string(limits::max_fit_dims) + ")]");
    if (n_per_star <= static_cast<std::size_t>(ddof))
      throw invalid_argument(fn + ": n_per_star must exceed ddof (got " + std::to_string(n_per_star) + ")");
    if (n_stars == 0) return;
    const int none = 0x7fffffff;
    CHEMPP_CUDA_CHECK(cudaMemcpyAsync(bad_.data(), &none, sizeof none, cudaMemcpyHostToDevice, stream));
    const unsigned grid = static_cast<unsigned>(n_stars < 65535u * 16u ? n_stars : 65535u * 16u);
    kernels::fit_gaussians<T><<<grid, block_size, 0, stream>>>(d_samples, n_stars, n_per_star, ld, static_cast<int>(k),
                                                               ddof, d_mean, d_cov, bad_.data());
    detail::check_launch("chempp::cuda::kernels::fit_gaussians", __FILE__, __LINE__);
    int first_bad = none;
    CHEMPP_CUDA_CHECK(cudaMemcpyAsync(&first_bad, bad_.data(), sizeof first_bad, cudaMemcpyDeviceToHost, stream));
    synchronize(stream);
    if (first_bad != none)
      throw invalid_argument(fn + ": star " + std::to_string(first_bad) + " has a non-finite sample");
  }

  /// Host convenience: samples (n_stars n_per_star) × ld row-major; returns means (n_stars × k)
  /// and covariances (n_stars × k × k).
  template <class T>
  void fit(const std::vector<T>& samples, std::size_t n_stars, std::size_t n_per_star, std::size_t ld, std::size_t k,
           int ddof, std::vector<double>& mean, std::vector<double>& cov) {
    if (samples.size() != n_stars * n_per_star * ld)
      throw invalid_argument("chempp::cuda::gaussian_fitter::fit: samples must hold n_stars * n_per_star rows of ld values");
    device_buffer<T> ds(samples);
    device_buffer<double> dm(n_stars * k), dc(n_stars * k * k);
    fit(ds.data(), n_stars, n_per_star, ld, k, ddof, dm.data(), dc.data());
    mean = dm.to_host();
    cov = dc.to_host();
  }

 private:
  device_buffer<int> bad_;
};

}  // namespace chempp::cuda
