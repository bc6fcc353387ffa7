// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The dense network (emulator) forward pass, written **once** for every value type (see
/// kernels/functions.hpp): the CPU kernel `nn::simd_mlp` instantiates it with
/// `kernels::multi<xsimd::batch<T>, K>` (K × lanes samples per call), the CUDA emulator kernel
/// with the device's `float`/`double` (one sample per thread).
///
/// Packed layout (`mlp_layout` offsets into one flat array): W_l (out × in, row-major) then b_l for
/// every affine layer l, then optionally the output scale and mean (y = s a + m, when the output
/// standardisation could not be folded into the last layer).

#include "chempp/kernels/functions.hpp"

namespace chempp::kernels {

/// Compile-time limits of the packed layouts.
struct mlp_limits {
  static constexpr int max_layers = 16;  ///< affine layers
  static constexpr int max_width = 256;  ///< neurons per layer
};

/// Sizes and offsets of a packed dense network (by value into kernels).
struct mlp_layout {
  int n_layers = 0;                          ///< affine layers
  int sizes[mlp_limits::max_layers + 1] = {};  ///< n_in, hidden..., n_out
  int act[mlp_limits::max_layers] = {};      ///< activation ids: 0 identity, 1 tanh, 2 sigmoid, 3 softplus, 4 relu
  int w_off[mlp_limits::max_layers] = {};    ///< offset of W_l (row-major out × in)
  int b_off[mlp_limits::max_layers] = {};    ///< offset of b_l
  int out_scale_off = -1;                    ///< offset of the output scale, -1 if folded
  int out_mean_off = -1;                     ///< offset of the output mean, -1 if folded
  int total = 0;                             ///< packed scalars
};

/// y = f(W x + b) for one affine layer (W: out × in row-major), register-blocked: `Block` outputs
/// are accumulated together, so each input value x[i] is loaded once for all of them and Block × K
/// independent FMA chains are in flight (K = registers in a `multi`). Each output sums its inputs
/// in order i = 0..in-1 whatever the blocking, so results do not depend on `Block`.
template <class F, int Block = 4, class V, class T>
CHEMPP_HD inline void dense_layer(const T* w, const T* b, int in, int out, const V* x, V* y) {
  int o = 0;
  for (; o + Block <= out; o += Block) {
    V acc[Block];
    CHEMPP_UNROLL
    for (int r = 0; r < Block; ++r) acc[r] = V(b[o + r]);
    const T* wo = w + o * in;
    for (int i = 0; i < in; ++i) {
      V xi = x[i];
      keep_in_register(xi);  // one load of x[i] for all Block outputs (kernels/simd.hpp)
      CHEMPP_UNROLL
      for (int r = 0; r < Block; ++r) acc[r] = fma(V(wo[r * in + i]), xi, acc[r]);
    }
    CHEMPP_UNROLL
    for (int r = 0; r < Block; ++r) y[o + r] = F::apply(acc[r]);
  }
  if constexpr (Block > 1) {
    if (o < out) dense_layer<F, 1>(w + o * in, b + o, in, out - o, x, y + o);  // the last out mod Block
  }
}

/// The forward pass of one sample group: inputs in `a` (sizes[0] values), `b` scratch of the same
/// capacity (the widest layer); returns the buffer (a or b) that holds the n_out outputs, with the
/// output scale applied when the layout has one.
template <class V, class T>
CHEMPP_HD inline V* mlp_forward(const mlp_layout& L, const T* p, V* a, V* b) {
  for (int l = 0; l < L.n_layers; ++l) {
    const int in = L.sizes[l], out = L.sizes[l + 1];
    const T* w = p + L.w_off[l];
    const T* bias = p + L.b_off[l];
    switch (L.act[l]) {  // (a switch rather than a generic lambda: nvcc compiles it in device code)
      case 1: dense_layer<tanh_fn>(w, bias, in, out, a, b); break;
      case 2: dense_layer<sigmoid_fn>(w, bias, in, out, a, b); break;
      case 3: dense_layer<softplus_fn>(w, bias, in, out, a, b); break;
      case 4: dense_layer<relu_fn>(w, bias, in, out, a, b); break;
      default: dense_layer<identity_fn>(w, bias, in, out, a, b); break;
    }
    V* t = a;
    a = b;
    b = t;
  }
  if (L.out_scale_off >= 0) {
    const int n_out = L.sizes[L.n_layers];
    for (int o = 0; o < n_out; ++o) a[o] = fma(a[o], V(p[L.out_scale_off + o]), V(p[L.out_mean_off + o]));
  }
  return a;
}

/// Multiply-adds of one sample (1 multiply-add = 2 FLOP), for FLOP-rate reports.
inline double mlp_multiply_adds(const mlp_layout& L) {
  double n = 0.0;
  for (int l = 0; l < L.n_layers; ++l) n += double(L.sizes[l]) * L.sizes[l + 1];
  return n;
}

/// Activation evaluations of one sample (units of the layers whose activation is not the
/// identity), for the roofline's ceiling (benchmarks/roofline.hpp).
inline double mlp_activations(const mlp_layout& L) {
  double n = 0.0;
  for (int l = 0; l < L.n_layers; ++l) n += L.act[l] != 0 ? double(L.sizes[l + 1]) : 0.0;
  return n;
}

}  // namespace chempp::kernels
