// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The per-star step of the paper's inference on the GPU (Buck et al. 2025 §2.4–2.5,
/// docs/sbi-pipeline.md §5–6): for every star, draw n posterior samples θ ~ q(θ | x_star) from the
/// MAF (optionally inside the prior's support box) and fit a Gaussian to the first k dimensions
/// (Λ = (α_IMF, log10 N_Ia) for k = 2). The per-star Gaussians are then combined on the host with
/// `chempp::inference::corrected_gaussian_product` (eq. 5). Device buffers are kept between calls.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chempp/cuda/device.cuh"
#include "chempp/cuda/gaussian_fit.cuh"
#include "chempp/cuda/maf.cuh"

namespace chempp::cuda {

/// Per-star Gaussian summaries (host memory).
struct star_gaussians {
  std::size_t n_stars = 0;         ///< number of stars
  std::size_t k = 0;               ///< dimensions fitted
  std::vector<double> mean;        ///< n_stars × k
  std::vector<double> cov;         ///< n_stars × k × k
  std::size_t samples_outside = 0; ///< samples left outside the support box (see `batched_maf::sample`)
};

/// Samples every star's posterior and fits Gaussians, reusing device buffers.
template <class T = float>
class posterior_fitter {
 public:
  /// Uploads the flow once.
  explicit posterior_fitter(const maf_weights& w) : flow_(w) {}

  /// The resident flow.
  [[nodiscard]] batched_maf<T>& flow() noexcept { return flow_; }

  /// `x`: n_stars × C observations (row-major host values). Draws `n_per_star` samples per star
  /// with Philox(seed), rejecting outside `box` when given, and fits mean/covariance (divisor
  /// n_per_star − ddof) of the first k dimensions. Synchronous.
  [[nodiscard]] star_gaussians run(const std::vector<T>& x, std::size_t n_per_star, std::uint64_t seed, std::size_t k,
                                   int ddof = 1, const support_box* box = nullptr) {
    const std::size_t c = flow_.context_size(), d = flow_.features();
    if (c == 0 || x.size() % c != 0)
      throw invalid_argument("posterior_fitter::run: x must hold n_stars rows of C values");
    star_gaussians r;
    r.n_stars = x.size() / c;
    r.k = k;
    x_.reserve(x.size());
    x_.upload(x.data(), x.size());
    theta_.reserve(r.n_stars * n_per_star * d);
    mean_.reserve(r.n_stars * k);
    cov_.reserve(r.n_stars * k * k);
    r.samples_outside = flow_.sample(x_.data(), r.n_stars, n_per_star, seed, theta_.data(), box);
    fitter_.fit(theta_.data(), r.n_stars, n_per_star, d, k, ddof, mean_.data(), cov_.data());
    r.mean = mean_.to_host(r.n_stars * k);
    r.cov = cov_.to_host(r.n_stars * k * k);
    return r;
  }

  /// The samples of the last `run` ((n_stars n_per_star) × D on the device).
  [[nodiscard]] const device_buffer<T>& samples() const noexcept { return theta_; }

 private:
  batched_maf<T> flow_;
  gaussian_fitter fitter_;
  device_buffer<T> x_, theta_;
  device_buffer<double> mean_, cov_;
};

}  // namespace chempp::cuda
