// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The per-sample computations of the CUDA kernels (emulator forward, MAF density, MAF inverse,
/// Gaussian moments) as `__host__ __device__` functions over packed flat arrays, plus the packing
/// of `dense_network_weights` / `maf_weights` into those arrays. Plain C++17 without CUDA headers:
/// compiled by nvcc the functions run on the device; compiled by a host compiler they run the very
/// same code on the CPU (`host_*` drivers below), which is how the kernels' arithmetic is tested on
/// machines without a GPU. Internal: use `chempp/cuda/emulator.cuh`, `maf.cuh`, `gaussian_fit.cuh`.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <math.h>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/cuda/weights.hpp"

#if defined(__CUDACC__)
#define CHEMPP_CUDA_HD __host__ __device__
#else
#define CHEMPP_CUDA_HD
#endif

namespace chempp::cuda {

/// Compile-time limits of the kernels (per-thread scratch lives in registers/local memory).
struct limits {
  static constexpr int max_layers = 16;     ///< dense network: affine layers
  static constexpr int max_width = 256;     ///< dense network: neurons per layer
  static constexpr int max_features = 32;   ///< MAF: D
  static constexpr int max_context = 64;    ///< MAF: C
  static constexpr int max_hidden = 64;     ///< MAF: H
  static constexpr int max_fit_dims = 8;    ///< Gaussian fit: k
};

namespace detail {

// ---- scalar math, overloaded for float and double (host and device) --------------------------
CHEMPP_CUDA_HD inline float m_exp(float v) { return expf(v); }
CHEMPP_CUDA_HD inline double m_exp(double v) { return exp(v); }
CHEMPP_CUDA_HD inline float m_log(float v) { return logf(v); }
CHEMPP_CUDA_HD inline double m_log(double v) { return log(v); }
CHEMPP_CUDA_HD inline float m_log1p(float v) { return log1pf(v); }
CHEMPP_CUDA_HD inline double m_log1p(double v) { return log1p(v); }
CHEMPP_CUDA_HD inline float m_tanh(float v) { return tanhf(v); }
CHEMPP_CUDA_HD inline double m_tanh(double v) { return tanh(v); }
CHEMPP_CUDA_HD inline float m_abs(float v) { return fabsf(v); }
CHEMPP_CUDA_HD inline double m_abs(double v) { return fabs(v); }
CHEMPP_CUDA_HD inline float m_fma(float a, float b, float c) { return fmaf(a, b, c); }
CHEMPP_CUDA_HD inline double m_fma(double a, double b, double c) { return fma(a, b, c); }

/// tanh for the MAF: in double the formula of `chempp::flow::internal::fast_tanh`
/// (sign(a)(1 - e^{-2|a|})/(1 + e^{-2|a|})), so GPU and CPU agree to rounding; tanhf in float.
CHEMPP_CUDA_HD inline double flow_tanh(double a) {
  const double t = exp(-2.0 * fabs(a));
  const double r = (1.0 - t) / (1.0 + t);
  return a < 0.0 ? -r : r;
}
CHEMPP_CUDA_HD inline float flow_tanh(float a) { return tanhf(a); }

/// Activation `id` (an `activation_id` value) applied to `a`; `flow` selects the MAF's tanh.
template <class T>
CHEMPP_CUDA_HD inline T activate(int id, T a, bool flow = false) {
  switch (id) {
    case 1: return flow ? flow_tanh(a) : m_tanh(a);
    case 2: return T(1) / (T(1) + m_exp(-a));
    case 3: return (a > T(0) ? a : T(0)) + m_log1p(m_exp(-m_abs(a)));
    case 4: return a > T(0) ? a : T(0);
    default: return a;
  }
}

/// Scale parametrisation `id` (a `scale_id` value): softplus(s) + 1e-3 or sigmoid(s + 2) + 1e-3.
template <class T>
CHEMPP_CUDA_HD inline T affine_scale(int id, T s) {
  if (id == 1) return T(1) / (T(1) + m_exp(-(s + T(2)))) + T(1e-3);
  return (s > T(0) ? s : T(0)) + m_log1p(m_exp(-m_abs(s))) + T(1e-3);
}

}  // namespace detail

// ---- packed dense network -------------------------------------------------------------------------
/// Sizes and offsets of a packed dense network (passed to kernels by value).
struct mlp_layout {
  int n_layers = 0;                           ///< affine layers
  int sizes[limits::max_layers + 1] = {};     ///< n_in, hidden..., n_out
  int act[limits::max_layers] = {};           ///< activation ids
  int w_off[limits::max_layers] = {};         ///< offset of W_l (row-major out x in)
  int b_off[limits::max_layers] = {};         ///< offset of b_l
  int out_scale_off = -1;                     ///< offset of the output scale, -1 if folded
  int out_mean_off = -1;                      ///< offset of the output mean, -1 if folded
  int total = 0;                              ///< number of packed scalars
};

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

/// One sample through a packed network: `x` (n_in raw values) -> `y` (n_out raw values).
template <class T>
CHEMPP_CUDA_HD inline void mlp_forward_one(const mlp_layout& L, const T* p, const T* x, T* y) {
  T buf0[limits::max_width];
  T buf1[limits::max_width];
  T* a = buf0;
  T* b = buf1;
  for (int i = 0; i < L.sizes[0]; ++i) a[i] = x[i];
  for (int l = 0; l < L.n_layers; ++l) {
    const int in = L.sizes[l], out = L.sizes[l + 1], id = L.act[l];
    const T* w = p + L.w_off[l];
    const T* bias = p + L.b_off[l];
    for (int o = 0; o < out; ++o) {
      T acc = bias[o];
      const T* wo = w + o * in;
      for (int i = 0; i < in; ++i) acc = detail::m_fma(wo[i], a[i], acc);
      b[o] = detail::activate(id, acc);
    }
    T* t = a;
    a = b;
    b = t;
  }
  const int n_out = L.sizes[L.n_layers];
  for (int o = 0; o < n_out; ++o)
    y[o] = L.out_scale_off < 0 ? a[o] : a[o] * p[L.out_scale_off + o] + p[L.out_mean_off + o];
}

// ---- packed MAF -------------------------------------------------------------------------------------
/// Sizes and offsets of a packed MAF (passed to kernels by value). Per transform t, at
/// `t * stride`: w_in (H x D), w_ctx (H x C), b_in (H), w_hidden (blocks x H x H), b_hidden
/// (blocks x H), w_out (2D x H), b_out (2D); after the T transforms: θ mean, θ std (D each),
/// x mean, x std (C each). Permutations are a separate int array (T x D).
struct maf_layout {
  int d = 0, c = 0, h = 0, blocks = 0, transforms = 0;  ///< D, C, H, blocks, T
  int act = 1;                                          ///< MADE activation id
  int scale = 0;                                        ///< scale parametrisation id
  int o_w_ctx = 0, o_b_in = 0, o_w_hid = 0, o_b_hid = 0, o_w_out = 0, o_b_out = 0;  ///< within a transform
  int stride = 0;                                       ///< scalars per transform
  int o_theta_mean = 0, o_theta_std = 0, o_x_mean = 0, o_x_std = 0;  ///< standardisation offsets
  int total = 0;                                        ///< number of packed scalars
};

/// A MAF packed into flat arrays.
template <class T>
struct packed_maf {
  maf_layout layout;      ///< sizes and offsets
  std::vector<T> params;  ///< see `maf_layout`
  std::vector<int> perms; ///< T x D, `next[i] = y[perm[i]]`
};

/// Packs `w` (validated; throws `invalid_argument` beyond `limits`).
template <class T>
packed_maf<T> pack(const maf_weights& w) {
  const char* fn = "chempp::cuda::pack(maf_weights)";
  w.validate(fn);
  if (w.features > static_cast<std::size_t>(limits::max_features) ||
      w.context > static_cast<std::size_t>(limits::max_context) ||
      w.hidden > static_cast<std::size_t>(limits::max_hidden))
    throw invalid_argument(std::string(fn) + ": D, C or H beyond the kernel limits (" +
                           std::to_string(limits::max_features) + ", " + std::to_string(limits::max_context) + ", " +
                           std::to_string(limits::max_hidden) + ")");
  packed_maf<T> p;
  auto& L = p.layout;
  L.d = static_cast<int>(w.features);
  L.c = static_cast<int>(w.context);
  L.h = static_cast<int>(w.hidden);
  L.blocks = static_cast<int>(w.blocks);
  L.transforms = static_cast<int>(w.num_transforms());
  L.act = static_cast<int>(w.activation);
  L.scale = static_cast<int>(w.scale);
  L.o_w_ctx = L.h * L.d;
  L.o_b_in = L.o_w_ctx + L.h * L.c;
  L.o_w_hid = L.o_b_in + L.h;
  L.o_b_hid = L.o_w_hid + L.blocks * L.h * L.h;
  L.o_w_out = L.o_b_hid + L.blocks * L.h;
  L.o_b_out = L.o_w_out + 2 * L.d * L.h;
  L.stride = L.o_b_out + 2 * L.d;
  auto put = [&p](const std::vector<double>& v) {
    for (double x : v) p.params.push_back(static_cast<T>(x));
  };
  for (std::size_t t = 0; t < w.num_transforms(); ++t) {
    const auto& m = w.transforms[t];
    put(m.w_in);
    put(m.w_ctx);
    put(m.b_in);
    for (const auto& x : m.w_hidden) put(x);
    for (const auto& x : m.b_hidden) put(x);
    put(m.w_out);
    put(m.b_out);
    for (int v : w.permutations[t]) p.perms.push_back(v);
  }
  L.o_theta_mean = static_cast<int>(p.params.size());
  put(w.theta_mean);
  L.o_theta_std = static_cast<int>(p.params.size());
  put(w.theta_std);
  L.o_x_mean = static_cast<int>(p.params.size());
  put(w.x_mean);
  L.o_x_std = static_cast<int>(p.params.size());
  put(w.x_std);
  L.total = static_cast<int>(p.params.size());
  return p;
}

/// Shape policy of the MAF per-sample code: sizes read from the layout at run time. Scratch
/// arrays are sized for `limits` (they live in local memory on the GPU).
struct dynamic_maf_shape {
  static constexpr int max_d = limits::max_features;  ///< scratch size for D
  static constexpr int max_c = limits::max_context;   ///< scratch size for C
  static constexpr int max_h = limits::max_hidden;    ///< scratch size for H
  /// D, C, H, blocks.
  CHEMPP_CUDA_HD static int d(const maf_layout& L) { return L.d; }
  CHEMPP_CUDA_HD static int c(const maf_layout& L) { return L.c; }
  CHEMPP_CUDA_HD static int h(const maf_layout& L) { return L.h; }
  CHEMPP_CUDA_HD static int blocks(const maf_layout& L) { return L.blocks; }
};

/// Shape policy with compile-time sizes: loops unroll and the scratch arrays stay in registers.
/// Only valid for a layout with exactly these sizes (`matches`).
template <int D, int C, int H, int B>
struct fixed_maf_shape {
  static constexpr int max_d = D;              ///< scratch size for D
  static constexpr int max_c = C > 0 ? C : 1;  ///< scratch size for C
  static constexpr int max_h = H;              ///< scratch size for H
  /// D, C, H, blocks.
  CHEMPP_CUDA_HD static constexpr int d(const maf_layout&) { return D; }
  CHEMPP_CUDA_HD static constexpr int c(const maf_layout&) { return C; }
  CHEMPP_CUDA_HD static constexpr int h(const maf_layout&) { return H; }
  CHEMPP_CUDA_HD static constexpr int blocks(const maf_layout&) { return B; }
  /// True if `L` has these sizes.
  static bool matches(const maf_layout& L) { return L.d == D && L.c == C && L.h == H && L.blocks == B; }
};

/// The paper's estimator (sbi MAF 8/4 on D = 6 parameters and C = 8 abundances, 2 blocks).
using paper_maf_shape = fixed_maf_shape<6, 8, 8, 2>;

#if defined(__CUDA_ARCH__)
#define CHEMPP_CUDA_UNROLL _Pragma("unroll")
#else
#define CHEMPP_CUDA_UNROLL
#endif

namespace detail {

/// Standardised context c = (x - μ_x) / σ_x.
template <class S, class T>
CHEMPP_CUDA_HD inline void maf_context(const maf_layout& L, const T* p, const T* x, T* c) {
  CHEMPP_CUDA_UNROLL
  for (int j = 0; j < S::c(L); ++j) c[j] = (x[j] - p[L.o_x_mean + j]) / p[L.o_x_std + j];
}

/// ctxb = b_in + W_ctx c for the MADE at `m`.
template <class S, class T>
CHEMPP_CUDA_HD inline void made_context_bias(const maf_layout& L, const T* m, const T* c, T* ctxb) {
  CHEMPP_CUDA_UNROLL
  for (int k = 0; k < S::h(L); ++k) {
    T acc = T(0);
    const T* wr = m + L.o_w_ctx + k * S::c(L);
    CHEMPP_CUDA_UNROLL
    for (int j = 0; j < S::c(L); ++j) acc = m_fma(wr[j], c[j], acc);
    ctxb[k] = acc + m[L.o_b_in + k];
  }
}

/// Last hidden layer of the MADE at `m` for inputs `u` (D) into `h`: h0 = W_in u + ctxb, then
/// `blocks` activated layers (`tmp` is scratch).
template <class S, class T>
CHEMPP_CUDA_HD inline void made_hidden(const maf_layout& L, const T* m, const T* u, const T* ctxb, T* h, T* tmp) {
  CHEMPP_CUDA_UNROLL
  for (int k = 0; k < S::h(L); ++k) {
    T acc = T(0);
    const T* wr = m + k * S::d(L);
    CHEMPP_CUDA_UNROLL
    for (int j = 0; j < S::d(L); ++j) acc = m_fma(wr[j], u[j], acc);
    h[k] = acc + ctxb[k];
  }
  for (int b = 0; b < S::blocks(L); ++b) {
    const T* w = m + L.o_w_hid + b * S::h(L) * S::h(L);
    const T* bias = m + L.o_b_hid + b * S::h(L);
    CHEMPP_CUDA_UNROLL
    for (int k = 0; k < S::h(L); ++k) {
      T acc = T(0);
      const T* wr = w + k * S::h(L);
      CHEMPP_CUDA_UNROLL
      for (int j = 0; j < S::h(L); ++j) acc = m_fma(wr[j], h[j], acc);
      tmp[k] = activate(L.act, acc + bias[k], true);
    }
    CHEMPP_CUDA_UNROLL
    for (int k = 0; k < S::h(L); ++k) h[k] = tmp[k];
  }
}

/// MADE output row r: b_out[r] + W_out[r, :] h.
template <class S, class T>
CHEMPP_CUDA_HD inline T made_output(const maf_layout& L, const T* m, const T* h, int r) {
  T acc = T(0);
  const T* wr = m + L.o_w_out + r * S::h(L);
  CHEMPP_CUDA_UNROLL
  for (int k = 0; k < S::h(L); ++k) acc = m_fma(wr[k], h[k], acc);
  return acc + m[L.o_b_out + r];
}

/// out[i] = in[perm[i]] without indexing `in` at run time (keeps both arrays in registers).
template <class S, class T>
CHEMPP_CUDA_HD inline void gather(const maf_layout& L, const int* perm, const T* in, T* out) {
  CHEMPP_CUDA_UNROLL
  for (int i = 0; i < S::d(L); ++i) {
    const int src = perm[i];
    T v = in[0];
    CHEMPP_CUDA_UNROLL
    for (int j = 1; j < S::d(L); ++j) v = src == j ? in[j] : v;
    out[i] = v;
  }
}

/// out[perm[i]] = in[i] (the inverse of `gather`), same technique.
template <class S, class T>
CHEMPP_CUDA_HD inline void scatter(const maf_layout& L, const int* perm, const T* in, T* out) {
  CHEMPP_CUDA_UNROLL
  for (int j = 0; j < S::d(L); ++j) {
    T v = in[0];
    CHEMPP_CUDA_UNROLL
    for (int i = 0; i < S::d(L); ++i) v = perm[i] == j ? in[i] : v;
    out[j] = v;
  }
}

}  // namespace detail

/// log q(θ | x) of one sample (θ: D raw values, x: C raw values); with k < D the marginal
/// density of the first k dimensions (exact only if every permutation keeps {0..k-1}, see
/// `maf_weights::keeps_leading_block`). Mirrors `conditional_maf::log_prob` / `log_prob_marginal`.
/// `S`: shape policy (`dynamic_maf_shape`, or a `fixed_maf_shape` matching the layout).
template <class T, class S = dynamic_maf_shape>
CHEMPP_CUDA_HD inline T maf_log_prob_one(const maf_layout& L, const T* p, const int* perms, const T* theta,
                                         const T* x, int k) {
  T u[S::max_d], y[S::max_d], c[S::max_c];
  T ctxb[S::max_h], h[S::max_h], tmp[S::max_h];
  CHEMPP_CUDA_UNROLL
  for (int j = 0; j < S::d(L); ++j) u[j] = (theta[j] - p[L.o_theta_mean + j]) / p[L.o_theta_std + j];
  detail::maf_context<S>(L, p, x, c);
  T logdet = T(0);
  for (int t = 0; t < L.transforms; ++t) {
    const T* m = p + t * L.stride;
    detail::made_context_bias<S>(L, m, c, ctxb);
    detail::made_hidden<S>(L, m, u, ctxb, h, tmp);
    CHEMPP_CUDA_UNROLL
    for (int i = 0; i < S::d(L); ++i) {
      const T sc = detail::affine_scale(L.scale, detail::made_output<S>(L, m, h, i));
      if (i < k) logdet += detail::m_log(sc);
      y[i] = sc * u[i] + detail::made_output<S>(L, m, h, S::d(L) + i);
    }
    detail::gather<S>(L, perms + t * S::d(L), y, u);
  }
  T sq = T(0), log_sigma = T(0);
  CHEMPP_CUDA_UNROLL
  for (int i = 0; i < S::d(L); ++i)
    if (i < k) {
      sq += u[i] * u[i];
      log_sigma += detail::m_log(p[L.o_theta_std + i]);
    }
  const T half_log_2pi = T(0.91893853320467274178);
  return logdet - T(0.5) * sq - T(k) * half_log_2pi - log_sigma;
}

/// θ (D raw values) = the inverse flow at base point z (D standard-normal values) for the
/// observation x (C raw values). Mirrors `conditional_maf::inverse_standardized` (D MADE passes per
/// transform) followed by θ = u σ_θ + μ_θ. `S`: shape policy as for `maf_log_prob_one`.
template <class T, class S = dynamic_maf_shape>
CHEMPP_CUDA_HD inline void maf_inverse_one(const maf_layout& L, const T* p, const int* perms, const T* z, const T* x,
                                           T* theta) {
  T cur[S::max_d], y[S::max_d], c[S::max_c];
  T ctxb[S::max_h], h[S::max_h], tmp[S::max_h];
  CHEMPP_CUDA_UNROLL
  for (int i = 0; i < S::d(L); ++i) cur[i] = z[i];
  detail::maf_context<S>(L, p, x, c);
  for (int t = L.transforms - 1; t >= 0; --t) {
    const T* m = p + t * L.stride;
    detail::scatter<S>(L, perms + t * S::d(L), cur, y);
    detail::made_context_bias<S>(L, m, c, ctxb);
    CHEMPP_CUDA_UNROLL
    for (int i = 0; i < S::d(L); ++i) cur[i] = T(0);
    // MADE output i depends on u_0..u_{i-1} only: invert dimension by dimension.
    CHEMPP_CUDA_UNROLL
    for (int i = 0; i < S::d(L); ++i) {
      detail::made_hidden<S>(L, m, cur, ctxb, h, tmp);
      const T s = detail::made_output<S>(L, m, h, i);
      const T shift = detail::made_output<S>(L, m, h, S::d(L) + i);
      cur[i] = (y[i] - shift) / detail::affine_scale(L.scale, s);
    }
  }
  CHEMPP_CUDA_UNROLL
  for (int i = 0; i < S::d(L); ++i) theta[i] = detail::m_fma(cur[i], p[L.o_theta_std + i], p[L.o_theta_mean + i]);
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
    out[s] = maf_log_prob_one<T, S>(f.layout, f.params.data(), f.perms.data(), theta + s * d,
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
    maf_inverse_one<T, S>(f.layout, f.params.data(), f.perms.data(), z + s * d, x + (s / n_per_x) * c, theta + s * d);
}

}  // namespace chempp::cuda
