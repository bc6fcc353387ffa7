// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Batched emulator forward pass on the GPU: one thread per sample, weights (standardisation
/// folded, `dense_network_weights`) uploaded once and staged in shared memory per block.
/// Layout as `chempp::nn::simd_mlp`: sample j occupies x[j n_in .. j n_in + n_in) and
/// y[j n_out .. j n_out + n_out) (row per sample). No Eigen/xtensor/xsimd (CUDA_STANDARD 17).

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <vector>

#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/cuda/device.cuh"
#include "chempp/cuda/weights.hpp"

namespace chempp::cuda {

namespace kernels {
/// y = net(x) for n samples, grid-stride; parameters copied to shared memory when `use_shared`.
template <class T>
__global__ void mlp_forward(mlp_layout L, const T* __restrict__ params, int use_shared, const T* __restrict__ x,
                            T* __restrict__ y, std::size_t n) {
  extern __shared__ __align__(16) unsigned char chempp_mlp_smem[];
  const T* p = params;
  if (use_shared) {
    T* sp = reinterpret_cast<T*>(chempp_mlp_smem);
    for (int i = static_cast<int>(threadIdx.x); i < L.total; i += static_cast<int>(blockDim.x)) sp[i] = params[i];
    __syncthreads();
    p = sp;
  }
  const auto ni = static_cast<std::size_t>(L.sizes[0]);
  const auto no = static_cast<std::size_t>(L.sizes[L.n_layers]);
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t s = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < n; s += step)
    mlp_forward_one(L, p, x + s * ni, y + s * no);
}
}  // namespace kernels

/// A trained dense network (the emulator) resident on the GPU, in precision `T` (float or double).
template <class T = float>
class batched_mlp {
 public:
  /// Threads per block.
  static constexpr unsigned block_size = 128;

  /// Packs `w` (converted to T) and uploads it. Throws `invalid_argument` on bad weights,
  /// `cuda_error` when the upload fails.
  explicit batched_mlp(const dense_network_weights& w) : packed_(pack<T>(w)), params_(packed_.params) {}

  /// n_in.
  [[nodiscard]] std::size_t input_size() const noexcept { return static_cast<std::size_t>(packed_.layout.sizes[0]); }
  /// n_out.
  [[nodiscard]] std::size_t output_size() const noexcept {
    return static_cast<std::size_t>(packed_.layout.sizes[packed_.layout.n_layers]);
  }
  /// The packed host copy (for `host_forward`, which runs the kernel's code on the CPU).
  [[nodiscard]] const packed_mlp<T>& packed() const noexcept { return packed_; }

  /// Enqueues y = net(x) for `n` samples on `stream`; `d_x` (n x n_in) and `d_y` (n x n_out) are
  /// device pointers. Asynchronous; throws `cuda_error` on a launch failure.
  void forward(const T* d_x, T* d_y, std::size_t n, cudaStream_t stream = nullptr) const {
    if (n == 0) return;
    const std::size_t bytes = packed_.params.size() * sizeof(T);
    const bool shared = bytes <= detail::default_shared_limit;
    kernels::mlp_forward<T><<<detail::grid_for(n, block_size), block_size, shared ? bytes : 0, stream>>>(
        packed_.layout, params_.data(), shared ? 1 : 0, d_x, d_y, n);
    detail::check_launch("chempp::cuda::kernels::mlp_forward", __FILE__, __LINE__);
  }

  /// Host convenience (allocates, copies, synchronises): `x` holds n x n_in values.
  [[nodiscard]] std::vector<T> forward(const std::vector<T>& x) const {
    if (x.size() % input_size() != 0)
      throw invalid_argument("batched_mlp::forward: x.size() = " + std::to_string(x.size()) +
                             " is not a multiple of n_in = " + std::to_string(input_size()));
    const std::size_t n = x.size() / input_size();
    device_buffer<T> dx(x), dy(n * output_size());
    forward(dx.data(), dy.data(), n);
    synchronize();
    return dy.to_host();
  }

 private:
  packed_mlp<T> packed_;
  device_buffer<T> params_;
};

}  // namespace chempp::cuda
