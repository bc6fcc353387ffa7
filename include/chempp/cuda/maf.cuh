// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Batched conditional-MAF density and sampling on the GPU for many observations at once
/// (the per-star posteriors of Buck et al. 2025 §2.4, docs/sbi-pipeline.md §4–6): one thread per
/// sample, the packed flow staged in shared memory per block. Sampling either takes
/// caller-provided standard-normal base draws (`sample_from_base`, comparable draw for draw with
/// `chempp::cuda::sample_from_base` on the CPU) or draws them with cuRAND's Philox generator
/// (`sample`, seeded, independent of launch configuration), optionally rejecting draws outside a
/// box prior support as sbi's DirectPosterior does.
///
/// Kernels are compiled twice per precision: for the paper's shape (D = 6, C = 8, H = 8, 2 blocks;
/// sizes known at compile time, scratch in registers) and for any shape within `limits`.
///
/// Layout: row per item. θ: n × D, x: n × C (or 1 × C broadcast), z and θ samples:
/// (n_obs n_per_x) × D with rows [m n_per_x, (m+1) n_per_x) belonging to observation m.
/// No Eigen/xtensor/xsimd (CUDA_STANDARD 17).

#include <cuda_runtime.h>
#include <curand_kernel.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/cuda/device.cuh"
#include "chempp/cuda/weights.hpp"

namespace chempp::cuda {

/// A box prior support lower_i <= θ_i <= upper_i for rejection sampling (θ units; use ±infinity
/// to leave a dimension free).
struct support_box {
  std::vector<double> lower;      ///< D lower bounds
  std::vector<double> upper;      ///< D upper bounds
  unsigned max_attempts = 1000;   ///< candidates per sample before giving up on it
};

namespace kernels {

/// The box, by value, in kernel precision.
template <class T>
struct box_params {
  int active = 0;                        ///< 0: no rejection
  unsigned max_attempts = 1;             ///< candidates per sample
  T lower[limits::max_features] = {};    ///< lower bounds
  T upper[limits::max_features] = {};    ///< upper bounds
};

/// Copies the packed flow into shared memory (when `use_shared`); returns the pointers to use.
template <class T>
__device__ inline void stage_maf(const maf_layout& L, const T* params, const int* perms, int use_shared,
                                 const T*& p, const int*& pr) {
  extern __shared__ __align__(16) unsigned char chempp_maf_smem[];
  p = params;
  pr = perms;
  if (use_shared) {
    T* sp = reinterpret_cast<T*>(chempp_maf_smem);
    int* si = reinterpret_cast<int*>(sp + L.total);
    for (int i = static_cast<int>(threadIdx.x); i < L.total; i += static_cast<int>(blockDim.x)) sp[i] = params[i];
    for (int i = static_cast<int>(threadIdx.x); i < L.total_ints; i += static_cast<int>(blockDim.x)) si[i] = perms[i];
    __syncthreads();
    p = sp;
    pr = si;
  }
}

/// out[s] = log q(θ_s | x_s) (first k dimensions), grid-stride; S: shape policy.
template <class T, class S>
__global__ void maf_log_prob(maf_layout L, const T* __restrict__ params, const int* __restrict__ perms, int use_shared,
                             const T* __restrict__ theta, const T* __restrict__ x, int broadcast_x, int k,
                             T* __restrict__ out, std::size_t n) {
  const T* p;
  const int* pr;
  stage_maf(L, params, perms, use_shared, p, pr);
  const auto d = static_cast<std::size_t>(L.d), c = static_cast<std::size_t>(L.c);
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < n; s += step)
    out[s] = maf_log_prob_one<T, S>(L, p, pr, theta + s * d, x + (broadcast_x ? 0 : s * c), k);
}

/// θ_s = flow⁻¹(z_s; x_{s / n_per_x}), grid-stride over n = n_obs n_per_x; S: shape policy.
template <class T, class S>
__global__ void maf_sample_from_base(maf_layout L, const T* __restrict__ params, const int* __restrict__ perms,
                                     int use_shared, const T* __restrict__ x, const T* __restrict__ z,
                                     T* __restrict__ theta, std::size_t n_per_x, std::size_t n) {
  const T* p;
  const int* pr;
  stage_maf(L, params, perms, use_shared, p, pr);
  const auto d = static_cast<std::size_t>(L.d), c = static_cast<std::size_t>(L.c);
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < n; s += step)
    maf_inverse_one<T, S>(L, p, pr, z + s * d, x + (s / n_per_x) * c, theta + s * d);
}

__device__ inline float normal_draw(curandStatePhilox4_32_10_t* st, float*) { return curand_normal(st); }
__device__ inline double normal_draw(curandStatePhilox4_32_10_t* st, double*) { return curand_normal_double(st); }

/// Sample s draws its base points from Philox(seed, subsequence s), so results do not depend on
/// the launch configuration; rejected candidates (outside `box`) are redrawn up to
/// `box.max_attempts` times; samples still outside then keep their last candidate and are counted
/// in `*n_outside`. S: shape policy.
template <class T, class S>
__global__ void maf_sample_philox(maf_layout L, const T* __restrict__ params, const int* __restrict__ perms,
                                  int use_shared, const T* __restrict__ x, std::uint64_t seed, box_params<T> box,
                                  T* __restrict__ theta, unsigned long long* n_outside, std::size_t n_per_x,
                                  std::size_t n) {
  const T* p;
  const int* pr;
  stage_maf(L, params, perms, use_shared, p, pr);
  const auto d = static_cast<std::size_t>(L.d), c = static_cast<std::size_t>(L.c);
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  T z[S::max_d];
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < n; s += step) {
    curandStatePhilox4_32_10_t st;
    curand_init(static_cast<unsigned long long>(seed), static_cast<unsigned long long>(s), 0ULL, &st);
    T* out = theta + s * d;
    const T* xs = x + (s / n_per_x) * c;
    unsigned attempt = 0;
    for (;;) {
      CHEMPP_UNROLL
      for (int i = 0; i < S::d(L); ++i) z[i] = normal_draw(&st, static_cast<T*>(nullptr));
      maf_inverse_one<T, S>(L, p, pr, z, xs, out);
      if (!box.active) break;
      bool inside = true;
      for (int i = 0; i < L.d; ++i) inside = inside && out[i] >= box.lower[i] && out[i] <= box.upper[i];
      if (inside) break;
      if (++attempt >= box.max_attempts) {
        atomicAdd(n_outside, 1ULL);
        break;
      }
    }
  }
}

}  // namespace kernels

/// A trained conditional MAF resident on the GPU, in precision `T` (float or double).
template <class T = float>
class batched_maf {
 public:
  /// Threads per block.
  static constexpr unsigned block_size = 128;

  /// Packs `w` (converted to T) and uploads it once. Throws `invalid_argument` on bad weights
  /// (or beyond `limits`), `cuda_error` when the upload fails.
  explicit batched_maf(const maf_weights& w)
      : packed_(pack<T>(w)), params_(packed_.params), perms_(packed_.ints), outside_(1), weights_(w) {}

  /// D.
  [[nodiscard]] std::size_t features() const noexcept { return static_cast<std::size_t>(packed_.layout.d); }
  /// C.
  [[nodiscard]] std::size_t context_size() const noexcept { return static_cast<std::size_t>(packed_.layout.c); }
  /// The packed host copy (for the `host_*` drivers, which run the kernels' code on the CPU).
  [[nodiscard]] const packed_maf<T>& packed() const noexcept { return packed_; }

  /// Enqueues out[s] = log q(θ_s | x_s) for `n` rows (device pointers; `x_rows` = n, or 1 to
  /// broadcast one observation). Asynchronous.
  void log_prob(const T* d_theta, const T* d_x, std::size_t n, std::size_t x_rows, T* d_out,
                cudaStream_t stream = nullptr) const {
    launch_log_prob(d_theta, d_x, n, x_rows, packed_.layout.d, d_out, stream, "batched_maf::log_prob");
  }

  /// Enqueues the exact marginal log q(θ_0..θ_{k-1} | x) (θ rows still hold D values; the rest
  /// are ignored). Throws `invalid_argument` unless every permutation keeps {0..k-1}.
  void log_prob_marginal(const T* d_theta, const T* d_x, std::size_t n, std::size_t x_rows, std::size_t k, T* d_out,
                         cudaStream_t stream = nullptr) const {
    const char* fn = "batched_maf::log_prob_marginal";
    if (k < 1 || k > features()) throw invalid_argument(std::string(fn) + ": k must lie in [1, D]");
    if (!weights_.keeps_leading_block(k))
      throw invalid_argument(std::string(fn) + ": the permutations do not keep the leading block (global_first)");
    launch_log_prob(d_theta, d_x, n, x_rows, static_cast<int>(k), d_out, stream, fn);
  }

  /// Enqueues θ = flow⁻¹(z; x) for n_obs observations (`d_x`: n_obs × C) with n_per_x given
  /// standard-normal base draws each (`d_z`, `d_theta`: (n_obs n_per_x) × D). Asynchronous.
  void sample_from_base(const T* d_x, std::size_t n_obs, std::size_t n_per_x, const T* d_z, T* d_theta,
                        cudaStream_t stream = nullptr) const {
    const std::size_t n = n_obs * n_per_x;
    if (n == 0) return;
    const bool sh = use_shared();
    with_shape([&](auto shape) {
      using S = decltype(shape);
      kernels::maf_sample_from_base<T, S><<<detail::grid_for(n, block_size), block_size, sh ? shared_bytes() : 0, stream>>>(
          packed_.layout, params_.data(), perms_.data(), sh ? 1 : 0, d_x, d_z, d_theta, n_per_x, n);
    });
    detail::check_launch("chempp::cuda::kernels::maf_sample_from_base", __FILE__, __LINE__);
  }

  /// Draws n_per_x samples θ ~ q(θ | x_m) for each of the n_obs observations in `d_x` into
  /// `d_theta` ((n_obs n_per_x) × D), with base draws from Philox(seed). With `box`, candidates
  /// outside it are redrawn up to `box->max_attempts` times. Synchronises `stream` and returns
  /// the number of samples still outside the box (they keep their last candidate; 0 without a
  /// box), so the caller can report them — nothing is dropped silently.
  std::size_t sample(const T* d_x, std::size_t n_obs, std::size_t n_per_x, std::uint64_t seed, T* d_theta,
                     const support_box* box = nullptr, cudaStream_t stream = nullptr) {
    const char* fn = "batched_maf::sample";
    const std::size_t n = n_obs * n_per_x;
    if (n == 0) return 0;
    kernels::box_params<T> bp;
    if (box != nullptr) {
      if (box->lower.size() != features() || box->upper.size() != features())
        throw invalid_argument(std::string(fn) + ": support box must have D bounds");
      if (box->max_attempts < 1) throw invalid_argument(std::string(fn) + ": box max_attempts must be >= 1");
      bp.active = 1;
      bp.max_attempts = box->max_attempts;
      for (std::size_t i = 0; i < features(); ++i) {
        bp.lower[i] = static_cast<T>(box->lower[i]);
        bp.upper[i] = static_cast<T>(box->upper[i]);
      }
    }
    CHEMPP_CUDA_CHECK(cudaMemsetAsync(outside_.data(), 0, sizeof(unsigned long long), stream));
    const bool sh = use_shared();
    with_shape([&](auto shape) {
      using S = decltype(shape);
      kernels::maf_sample_philox<T, S><<<detail::grid_for(n, block_size), block_size, sh ? shared_bytes() : 0, stream>>>(
          packed_.layout, params_.data(), perms_.data(), sh ? 1 : 0, d_x, seed, bp, d_theta, outside_.data(), n_per_x, n);
    });
    detail::check_launch("chempp::cuda::kernels::maf_sample_philox", __FILE__, __LINE__);
    unsigned long long count = 0;
    CHEMPP_CUDA_CHECK(cudaMemcpyAsync(&count, outside_.data(), sizeof count, cudaMemcpyDeviceToHost, stream));
    synchronize(stream);
    return static_cast<std::size_t>(count);
  }

  // ---- host conveniences (allocate, copy, synchronise) -------------------------------------------
  /// log q(θ_s | x_s): θ n × D, x n × C or 1 × C, row-major host vectors.
  [[nodiscard]] std::vector<T> log_prob(const std::vector<T>& theta, const std::vector<T>& x) const {
    const std::size_t n = theta.size() / features();
    const std::size_t xr = context_size() == 0 ? n : x.size() / context_size();
    device_buffer<T> dt(theta), dx(x.empty() ? std::vector<T>(1) : x), out(n);
    log_prob(dt.data(), dx.data(), n, xr, out.data());
    synchronize();
    return out.to_host();
  }
  /// θ = flow⁻¹(z; x): x n_obs × C, z (n_obs n_per_x) × D, row-major host vectors.
  [[nodiscard]] std::vector<T> sample_from_base(const std::vector<T>& x, std::size_t n_per_x,
                                                const std::vector<T>& z) const {
    if (n_per_x == 0 || z.size() % (features() * n_per_x) != 0)
      throw invalid_argument("batched_maf::sample_from_base: z must hold n_obs * n_per_x rows of D values");
    const std::size_t n_obs = z.size() / (features() * n_per_x);
    if (x.size() != n_obs * context_size())
      throw invalid_argument("batched_maf::sample_from_base: x must hold n_obs rows of C values");
    device_buffer<T> dx(x.empty() ? std::vector<T>(1) : x), dz(z), out(z.size());
    sample_from_base(dx.data(), n_obs, n_per_x, dz.data(), out.data());
    synchronize();
    return out.to_host();
  }

 private:
  [[nodiscard]] std::size_t shared_bytes() const noexcept {
    return packed_.params.size() * sizeof(T) + packed_.ints.size() * sizeof(int);
  }
  [[nodiscard]] bool use_shared() const noexcept { return shared_bytes() <= detail::default_shared_limit; }

  // Calls f(shape policy): the compiled-in paper shape (registers, unrolled) when the flow has
  // it, the run-time shape otherwise.
  template <class F>
  void with_shape(F&& f) const {
    if (paper_maf_shape::matches(packed_.layout)) f(paper_maf_shape{});
    else f(dynamic_maf_shape{});
  }

  void launch_log_prob(const T* d_theta, const T* d_x, std::size_t n, std::size_t x_rows, int k, T* d_out,
                       cudaStream_t stream, const char* fn) const {
    if (x_rows != n && x_rows != 1)
      throw invalid_argument(std::string(fn) + ": x must have n rows or 1 row (got " + std::to_string(x_rows) + ")");
    if (n == 0) return;
    const bool sh = use_shared();
    with_shape([&](auto shape) {
      using S = decltype(shape);
      kernels::maf_log_prob<T, S><<<detail::grid_for(n, block_size), block_size, sh ? shared_bytes() : 0, stream>>>(
          packed_.layout, params_.data(), perms_.data(), sh ? 1 : 0, d_theta, d_x, x_rows == 1 && n != 1 ? 1 : 0, k,
          d_out, n);
    });
    detail::check_launch("chempp::cuda::kernels::maf_log_prob", __FILE__, __LINE__);
  }

  packed_maf<T> packed_;
  device_buffer<T> params_;
  device_buffer<int> perms_;
  device_buffer<unsigned long long> outside_;
  maf_weights weights_;
};

}  // namespace chempp::cuda
