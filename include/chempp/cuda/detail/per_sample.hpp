// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The per-sample computations of the CUDA kernels (emulator forward, MAF density, MAF inverse,
/// Gaussian moments) as `__host__ __device__` functions over packed flat arrays, plus the packing
/// of `dense_network_weights` / `maf_weights` into those arrays. The arithmetic itself is the
/// library's one implementation (chempp/kernels/mlp.hpp, maf.hpp, functions.hpp) instantiated
/// with the device's float/double; this header adds the per-thread scratch, the run-time choice
/// of activation and scale policies, and the packing. Plain C++17 without CUDA headers: compiled by
/// nvcc the functions run on the device; compiled by a host compiler they run the very same code
/// on the CPU (`host_*` drivers below), which is how the kernels are tested on machines without a
/// GPU. Internal: use `chempp/cuda/emulator.cuh`, `maf.cuh`, `gaussian_fit.cuh`.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <math.h>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/cuda/weights.hpp"

#include "chempp/kernels/maf.hpp"
#include "chempp/kernels/mlp.hpp"

#define CHEMPP_CUDA_HD CHEMPP_HD

namespace chempp::cuda {

/// Compile-time limits of the kernels (per-thread scratch lives in registers/local memory).
struct limits {
  static constexpr int max_layers = ::chempp::kernels::mlp_limits::max_layers;  ///< dense network: affine layers
  static constexpr int max_width = ::chempp::kernels::mlp_limits::max_width;    ///< dense network: neurons per layer
  static constexpr int max_features = 32;   ///< MAF: D
  static constexpr int max_context = 64;    ///< MAF: C
  static constexpr int max_hidden = 64;     ///< MAF: H
  static constexpr int max_blocks = 4;      ///< MAF: activated hidden layers per MADE
  static constexpr int max_fit_dims = 8;    ///< Gaussian fit: k
};

// ---- packed dense network -------------------------------------------------------------------------
/// Sizes and offsets of a packed dense network (passed to kernels by value; kernels/mlp.hpp).
using mlp_layout = ::chempp::kernels::mlp_layout;

/// A dense network packed into one flat array of `T`.
template <class T>
struct packed_mlp {
  mlp_layout layout;      ///< sizes and offsets
  std::vector<T> params;  ///< W_0, b_0, W_1, b_1, ..., [output scale, output mean]
};

/// Packs `w` (validated; throws `invalid_argument` beyond `limits`).
template <class T>
packed_mlp<T> pack(const dense_network_weights& w) {
  const char* fn = "chempp::cuda::pack(dense_network_weights)";
  w.validate(fn);
  if (w.num_layers() > static_cast<std::size_t>(limits::max_layers))
    throw invalid_argument(std::string(fn) + ": more than " + std::to_string(limits::max_layers) + " layers");
  packed_mlp<T> p;
  p.layout.n_layers = static_cast<int>(w.num_layers());
  for (std::size_t l = 0; l < w.sizes.size(); ++l) {
    if (w.sizes[l] > static_cast<std::size_t>(limits::max_width))
      throw invalid_argument(std::string(fn) + ": layer width " + std::to_string(w.sizes[l]) + " exceeds " +
                             std::to_string(limits::max_width));
    p.layout.sizes[l] = static_cast<int>(w.sizes[l]);
  }
  for (std::size_t l = 0; l < w.num_layers(); ++l) {
    p.layout.act[l] = static_cast<int>(w.activations[l]);
    p.layout.w_off[l] = static_cast<int>(p.params.size());
    for (double v : w.weights[l]) p.params.push_back(static_cast<T>(v));
    p.layout.b_off[l] = static_cast<int>(p.params.size());
    for (double v : w.biases[l]) p.params.push_back(static_cast<T>(v));
  }
  if (!w.output_scale.empty()) {
    p.layout.out_scale_off = static_cast<int>(p.params.size());
    for (double v : w.output_scale) p.params.push_back(static_cast<T>(v));
    p.layout.out_mean_off = static_cast<int>(p.params.size());
    for (double v : w.output_mean) p.params.push_back(static_cast<T>(v));
  }
  p.layout.total = static_cast<int>(p.params.size());
  return p;
}

/// One sample through a packed network: `x` (n_in raw values) -> `y` (n_out raw values), with
/// the shared dense forward pass (::chempp::kernels::mlp_forward).
template <class T>
CHEMPP_CUDA_HD inline void mlp_forward_one(const mlp_layout& L, const T* p, const T* x, T* y) {
  T buf0[limits::max_width];
  T buf1[limits::max_width];
  for (int i = 0; i < L.sizes[0]; ++i) buf0[i] = x[i];
  const T* out = ::chempp::kernels::mlp_forward(L, p, buf0, buf1);
  for (int o = 0; o < L.sizes[L.n_layers]; ++o) y[o] = out[o];
}

// ---- packed MAF -------------------------------------------------------------------------------------
/// Sizes and offsets of a packed MAF (passed to kernels by value; kernels/maf.hpp).
using maf_layout = ::chempp::kernels::maf_layout;
/// A MAF packed into flat arrays (`params`, and `ints`: permutations and degree tables).
template <class T>
using packed_maf = ::chempp::kernels::packed_maf<T>;

namespace detail {
/// Accessors of `maf_weights` (row-major tensors) for `::chempp::kernels::pack_maf`.
struct maf_weights_source {
  const maf_weights& w;
  [[nodiscard]] double w_in(int t, int k, int i) const { return w.transforms[std::size_t(t)].w_in[std::size_t(k) * w.features + std::size_t(i)]; }
  [[nodiscard]] double w_ctx(int t, int k, int j) const { return w.transforms[std::size_t(t)].w_ctx[std::size_t(k) * w.context + std::size_t(j)]; }
  [[nodiscard]] double b_in(int t, int k) const { return w.transforms[std::size_t(t)].b_in[std::size_t(k)]; }
  [[nodiscard]] double w_hidden(int t, int l, int k, int j) const {
    return w.transforms[std::size_t(t)].w_hidden[std::size_t(l)][std::size_t(k) * w.hidden + std::size_t(j)];
  }
  [[nodiscard]] double b_hidden(int t, int l, int k) const { return w.transforms[std::size_t(t)].b_hidden[std::size_t(l)][std::size_t(k)]; }
  [[nodiscard]] double w_out(int t, int r, int k) const { return w.transforms[std::size_t(t)].w_out[std::size_t(r) * w.hidden + std::size_t(k)]; }
  [[nodiscard]] double b_out(int t, int r) const { return w.transforms[std::size_t(t)].b_out[std::size_t(r)]; }
  [[nodiscard]] int perm(int t, int i) const { return w.permutations[std::size_t(t)][std::size_t(i)]; }
  [[nodiscard]] double theta_mean(int i) const { return w.theta_mean[std::size_t(i)]; }
  [[nodiscard]] double theta_std(int i) const { return w.theta_std[std::size_t(i)]; }
  [[nodiscard]] double x_mean(int j) const { return w.x_mean[std::size_t(j)]; }
  [[nodiscard]] double x_std(int j) const { return w.x_std[std::size_t(j)]; }
};
}  // namespace detail

/// Packs `w` (validated; throws `invalid_argument` beyond `limits` or for a weight outside the
/// MADE masks that is not zero).
template <class T>
packed_maf<T> pack(const maf_weights& w) {
  const char* fn = "chempp::cuda::pack(maf_weights)";
  w.validate(fn);
  if (w.features > static_cast<std::size_t>(limits::max_features) ||
      w.context > static_cast<std::size_t>(limits::max_context) ||
      w.hidden > static_cast<std::size_t>(limits::max_hidden) || w.blocks > static_cast<std::size_t>(limits::max_blocks))
    throw invalid_argument(std::string(fn) + ": D, C, H or blocks beyond the kernel limits (" +
                           std::to_string(limits::max_features) + ", " + std::to_string(limits::max_context) + ", " +
                           std::to_string(limits::max_hidden) + ", " + std::to_string(limits::max_blocks) + ")");
  maf_layout L;
  L.d = static_cast<int>(w.features);
  L.c = static_cast<int>(w.context);
  L.h = static_cast<int>(w.hidden);
  L.blocks = static_cast<int>(w.blocks);
  L.transforms = static_cast<int>(w.num_transforms());
  L.act = static_cast<int>(w.activation);
  L.scale = static_cast<int>(w.scale);
  L.condition_first = w.condition_first ? 1 : 0;
  return ::chempp::kernels::pack_maf<T>(L, detail::maf_weights_source{w}, fn);
}

/// Shape policy of the MAF per-sample code: sizes read from the layout at run time. Scratch
/// arrays are sized for `limits` (they live in local memory on the GPU).
struct dynamic_maf_shape : ::chempp::kernels::dynamic_shape {
  static constexpr int max_d = limits::max_features;  ///< scratch size for D
  static constexpr int max_c = limits::max_context;   ///< scratch size for C
  static constexpr int max_h = limits::max_hidden;    ///< scratch size for H
  static constexpr int max_blocks = limits::max_blocks;  ///< scratch size for the blocks
};

/// Shape policy with compile-time sizes (and degree rule): loops unroll and the scratch arrays
/// stay in registers. Only valid for a layout with exactly these sizes (`matches`).
template <int D, int C, int H, int B, bool CF = false>
using fixed_maf_shape = ::chempp::kernels::fixed_shape<D, C, H, B, CF>;

/// The paper's estimator (sbi MAF 8/4 on D = 6 parameters and C = 8 abundances, 2 blocks).
using paper_maf_shape = fixed_maf_shape<6, 8, 8, 2>;

namespace detail {
/// Calls `f(Act{}, Scale{})` with the policies named by the layout (tanh/relu, softplus/sigmoid).
template <class F>
CHEMPP_CUDA_HD inline void with_maf_policies(const maf_layout& L, F&& f) {
  if (L.act == 4) {
    if (L.scale == 1) f(::chempp::kernels::relu_fn{}, ::chempp::kernels::sigmoid_scale{});
    else f(::chempp::kernels::relu_fn{}, ::chempp::kernels::softplus_scale{});
  } else {
    if (L.scale == 1) f(::chempp::kernels::tanh_fn{}, ::chempp::kernels::sigmoid_scale{});
    else f(::chempp::kernels::tanh_fn{}, ::chempp::kernels::softplus_scale{});
  }
}
}  // namespace detail

/// log q(θ | x) of one sample (θ: D raw values, x: C raw values); with k < D the marginal
/// density of the first k dimensions (exact only if every permutation keeps {0..k-1}, see
/// `maf_weights::keeps_leading_block`). The shared forward kernel (::chempp::kernels::maf_forward).
/// `S`: shape policy (`dynamic_maf_shape`, or a `fixed_maf_shape` matching the layout).
template <class T, class S = dynamic_maf_shape>
CHEMPP_CUDA_HD inline T maf_log_prob_one(const maf_layout& L, const T* p, const int* ints, const T* theta,
                                         const T* x, int k) {
  T u[S::max_d], c[S::max_c];
  T work[::chempp::kernels::maf_work_size(S::max_d, S::max_h, S::max_blocks)];
  CHEMPP_UNROLL
  for (int j = 0; j < S::d(L); ++j) u[j] = (theta[j] - p[L.o_theta_mean + j]) / p[L.o_theta_std + j];
  CHEMPP_UNROLL
  for (int j = 0; j < S::c(L); ++j) c[j] = (x[j] - p[L.o_x_mean + j]) / p[L.o_x_std + j];
  T lq = T(0);
  detail::with_maf_policies(L, [&](auto act, auto scale) {
    lq = ::chempp::kernels::maf_forward<decltype(act), decltype(scale), S>(L, p, ints, u, c, k, work);
  });
  T log_sigma = T(0);
  for (int i = 0; i < S::d(L) && i < k; ++i) log_sigma += ::chempp::kernels::log(p[L.o_theta_std + i]);
  const T half_log_2pi = T(0.91893853320467274178);
  return lq - T(k) * half_log_2pi - log_sigma;
}

/// θ (D raw values) = the inverse flow at base point z (D standard-normal values) for the
/// observation x (C raw values): the shared inverse kernel (::chempp::kernels::maf_inverse) followed by
/// θ = u σ_θ + μ_θ. `S`: shape policy as for `maf_log_prob_one`.
template <class T, class S = dynamic_maf_shape>
CHEMPP_CUDA_HD inline void maf_inverse_one(const maf_layout& L, const T* p, const int* ints, const T* z, const T* x,
                                           T* theta) {
  T cur[S::max_d], c[S::max_c], ctxb[S::max_h];
  T work[::chempp::kernels::maf_work_size(S::max_d, S::max_h, S::max_blocks)];
  CHEMPP_UNROLL
  for (int i = 0; i < S::d(L); ++i) cur[i] = z[i];
  CHEMPP_UNROLL
  for (int j = 0; j < S::c(L); ++j) c[j] = (x[j] - p[L.o_x_mean + j]) / p[L.o_x_std + j];
  // the context bias of transform t is computed when the inverse reaches it (one transform's
  // worth of scratch): ctxb holds transform `cached`
  int cached = -1;
  const auto bias = [&](int t, int k) -> T {
    if (t != cached) {
      ::chempp::kernels::maf_context_bias<S>(L, p, t, c, ctxb);
      cached = t;
    }
    return ctxb[k];
  };
  detail::with_maf_policies(L, [&](auto act, auto scale) {
    ::chempp::kernels::maf_inverse<decltype(act), decltype(scale), S>(L, p, ints, cur, bias, work);
  });
  CHEMPP_UNROLL
  for (int i = 0; i < S::d(L); ++i) theta[i] = ::chempp::kernels::fma(cur[i], p[L.o_theta_std + i], p[L.o_theta_mean + i]);
}

/// Mean (k) and covariance (k x k, divisor n - ddof) of the first k columns of n rows of `s`
/// (row stride `ld`), two-pass in double. Host version of the `fit_gaussians` kernel.
template <class T>
inline void gaussian_moments_host(const T* s, std::size_t n, std::size_t ld, int k, int ddof, double* mean,
                                  double* cov) {
  for (int a = 0; a < k; ++a) {
    double acc = 0.0;
    for (std::size_t r = 0; r < n; ++r) acc += static_cast<double>(s[r * ld + static_cast<std::size_t>(a)]);
    mean[a] = acc / static_cast<double>(n);
  }
  for (int a = 0; a < k; ++a)
    for (int b = 0; b <= a; ++b) {
      double acc = 0.0;
      for (std::size_t r = 0; r < n; ++r)
        acc += (static_cast<double>(s[r * ld + static_cast<std::size_t>(a)]) - mean[a]) *
               (static_cast<double>(s[r * ld + static_cast<std::size_t>(b)]) - mean[b]);
      cov[a * k + b] = cov[b * k + a] = acc / static_cast<double>(static_cast<long long>(n) - ddof);
    }
}

// ---- host drivers: the kernels' code on the CPU ----------------------------------------------------
/// Throws `invalid_argument` if the shape policy S has fixed sizes that `L` does not have.
template <class S>
void check_shape(const maf_layout& L, const char* fn) {
  if constexpr (!std::is_same_v<S, dynamic_maf_shape>) {
    if (!S::matches(L)) throw invalid_argument(std::string(fn) + ": the fixed shape policy does not match the flow");
  }
}

/// Runs the emulator kernel's per-sample code on the CPU: x (n x n_in, row per sample) -> y.
template <class T>
void host_forward(const packed_mlp<T>& net, const T* x, T* y, std::size_t n) {
  const auto ni = static_cast<std::size_t>(net.layout.sizes[0]);
  const auto no = static_cast<std::size_t>(net.layout.sizes[net.layout.n_layers]);
  for (std::size_t s = 0; s < n; ++s) mlp_forward_one(net.layout, net.params.data(), x + s * ni, y + s * no);
}

/// Runs the MAF density kernel's per-sample code (shape policy S) on the CPU: θ (n x D), x (n x C, or 1 x C when
/// `broadcast_x`), k leading dimensions -> out (n).
template <class S = dynamic_maf_shape, class T>
void host_log_prob(const packed_maf<T>& f, const T* theta, const T* x, std::size_t n, bool broadcast_x, int k,
                   T* out) {
  check_shape<S>(f.layout, "chempp::cuda::host_log_prob");
  const auto d = static_cast<std::size_t>(f.layout.d), c = static_cast<std::size_t>(f.layout.c);
  for (std::size_t s = 0; s < n; ++s)
    out[s] = maf_log_prob_one<T, S>(f.layout, f.params.data(), f.ints.data(), theta + s * d,
                              x + (broadcast_x ? 0 : s * c), k);
}

/// Runs the MAF sampling kernel's per-sample code (shape policy S) on the CPU: observation m = row m of x
/// (n_obs x C) gets base points z rows [m n_per_x, (m+1) n_per_x) -> θ rows (same indices).
template <class S = dynamic_maf_shape, class T>
void host_sample_from_base(const packed_maf<T>& f, const T* x, std::size_t n_obs, std::size_t n_per_x, const T* z,
                           T* theta) {
  check_shape<S>(f.layout, "chempp::cuda::host_sample_from_base");
  const auto d = static_cast<std::size_t>(f.layout.d), c = static_cast<std::size_t>(f.layout.c);
  for (std::size_t s = 0; s < n_obs * n_per_x; ++s)
    maf_inverse_one<T, S>(f.layout, f.params.data(), f.ints.data(), z + s * d, x + (s / n_per_x) * c, theta + s * d);
}

}  // namespace chempp::cuda
