// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Inference kernels for a trained `mlp`: a scalar reference forward and an xsimd kernel
/// templated on the architecture tag (`xsimd::batch<T, Arch>`), vectorised across samples,
/// for float and double, that never allocates per call.
///
/// Both take raw (unstandardised) inputs and give raw outputs in the layout of
/// `chempp/nn/tensor.hpp`: sample `j` occupies `x[j*n_in .. j*n_in + n_in)` and
/// `y[j*n_out .. j*n_out + n_out)` (a column-major `features x samples` batch).
///
/// The SIMD kernel folds the input and output standardisation into the first and last layer
/// and processes blocks of `4 * lanes` and `lanes` samples with one sample per SIMD lane
/// (weights broadcast, activations in a stack buffer); fewer than `lanes` leftover samples
/// (and batch size 1) go through a per-sample path that vectorises across the neurons of a
/// layer instead. Scratch lives on the stack (at most `max_width` neurons per layer), so calls
/// are allocation-free and thread-safe.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/core/error.hpp"
#include "chempp/kernels/mlp.hpp"
#include "chempp/kernels/simd.hpp"
#include "chempp/nn/activation.hpp"
#include "chempp/nn/mlp.hpp"

namespace chempp::nn {

/// Scalar reference forward pass in the network's own precision: standardise, loop over
/// neurons with plain multiply-adds and `std` activations, de-standardise. `x`: n x n_in
/// floats in the documented layout; `y`: room for n x n_out. Slow; for testing.
template <class T>
void reference_forward(const mlp<T>& net, const T* x, T* y, std::size_t n) {
  const auto& sz = net.sizes();
  const std::size_t width = *std::max_element(sz.begin(), sz.end());
  std::vector<T> a(width), b(width);
  const auto& is = net.input_scaling();
  const auto& os = net.output_scaling();
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t f = 0; f < sz.front(); ++f) {
      const auto fi = static_cast<Eigen::Index>(f);
      a[f] = (x[s * sz.front() + f] - is.mean[fi]) / is.scale[fi];
    }
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
      const auto lay = net.layer(l);
      for (std::size_t o = 0; o < sz[l + 1]; ++o) {
        T acc = lay.bias()[static_cast<Eigen::Index>(o)];
        for (std::size_t i = 0; i < sz[l]; ++i)
          acc += lay.weight()(static_cast<Eigen::Index>(o), static_cast<Eigen::Index>(i)) * a[i];
        b[o] = visit_activation(net.layer_activation(l), [acc](auto fn) { return decltype(fn)::apply(acc); });
      }
      std::swap(a, b);
    }
    for (std::size_t o = 0; o < sz.back(); ++o) {
      const auto oi = static_cast<Eigen::Index>(o);
      y[s * sz.back() + o] = a[o] * os.scale[oi] + os.mean[oi];
    }
  }
}

/// A compiled, SIMD-vectorised copy of a trained network for fast inference.
///
/// \tparam T    float or double (the kernel's precision; weights are converted on construction)
/// \tparam Arch an xsimd architecture tag (default: the best one the compiler targets)
template <class T, class Arch = xsimd::default_arch>
class simd_mlp {
 public:
  using batch_type = xsimd::batch<T, Arch>;
  /// 64-byte aligned storage: the per-sample path loads whole registers of weight rows, and a
  /// misaligned row splits every load across two cache lines (batch 1: 1.1-1.6x longer,
  /// docs/kernels.md).
  using aligned_vector = std::vector<T, xsimd::aligned_allocator<T, 64>>;
  /// Samples per SIMD register.
  static constexpr std::size_t lanes = batch_type::size;
  /// Widest layer supported (stack scratch is `2 * max_width * 4 * lanes` scalars in the block
  /// path, plus 16 × 4 × lanes for staging inputs and outputs).
  static constexpr std::size_t max_width = 256;

  simd_mlp() = default;

  /// Copies `net` (any precision), folding its standardisation into the outer layers.
  /// Throws `invalid_argument` if a layer is wider than `max_width`.
  template <class U>
  explicit simd_mlp(const mlp<U>& net) : sizes_(net.sizes()), acts_(net.activations()) {
    if (acts_.size() > static_cast<std::size_t>(kernels::mlp_limits::max_layers))
      throw invalid_argument("simd_mlp: more than " + std::to_string(kernels::mlp_limits::max_layers) + " layers");
    for (auto s : sizes_)
      if (s > max_width)
        throw invalid_argument("simd_mlp: layer width " + std::to_string(s) + " exceeds max_width " +
                               std::to_string(max_width));
    const std::size_t nl = acts_.size();
    for (std::size_t l = 0; l < nl; ++l) {
      const std::size_t in = sizes_[l], out = sizes_[l + 1], pad = padded(out);
      const auto lay = net.layer(l);
      std::vector<double> w(out * in), bias(out);
      for (std::size_t o = 0; o < out; ++o) {
        bias[o] = static_cast<double>(lay.bias()[static_cast<Eigen::Index>(o)]);
        for (std::size_t i = 0; i < in; ++i)
          w[o * in + i] = static_cast<double>(lay.weight()(static_cast<Eigen::Index>(o), static_cast<Eigen::Index>(i)));
      }
      if (l == 0) {  // z = (x - m) / s  =>  W z + b = (W / s) x + (b - (W / s) m)
        const auto& sc = net.input_scaling();
        for (std::size_t o = 0; o < out; ++o)
          for (std::size_t i = 0; i < in; ++i) {
            w[o * in + i] /= static_cast<double>(sc.scale[static_cast<Eigen::Index>(i)]);
            bias[o] -= w[o * in + i] * static_cast<double>(sc.mean[static_cast<Eigen::Index>(i)]);
          }
      }
      if (l + 1 == nl) {  // y = s a + m  (the last layer's activation must be identity for folding)
        const auto& sc = net.output_scaling();
        if (acts_[l] != activation::identity) {
          out_scale_.resize(out);
          out_mean_.resize(out);
          for (std::size_t o = 0; o < out; ++o) {
            out_scale_[o] = static_cast<T>(sc.scale[static_cast<Eigen::Index>(o)]);
            out_mean_[o] = static_cast<T>(sc.mean[static_cast<Eigen::Index>(o)]);
          }
        } else {
          for (std::size_t o = 0; o < out; ++o) {
            const double s = static_cast<double>(sc.scale[static_cast<Eigen::Index>(o)]);
            for (std::size_t i = 0; i < in; ++i) w[o * in + i] *= s;
            bias[o] = bias[o] * s + static_cast<double>(sc.mean[static_cast<Eigen::Index>(o)]);
          }
        }
      }
      std::vector<T> wr(out * in);
      aligned_vector wt(in * pad, T(0)), bp(pad, T(0));
      for (std::size_t o = 0; o < out; ++o) {
        bp[o] = static_cast<T>(bias[o]);
        for (std::size_t i = 0; i < in; ++i) {
          wr[o * in + i] = static_cast<T>(w[o * in + i]);
          wt[i * pad + o] = static_cast<T>(w[o * in + i]);
        }
      }
      layout_.sizes[l] = static_cast<int>(in);
      layout_.sizes[l + 1] = static_cast<int>(out);
      layout_.act[l] = static_cast<int>(acts_[l]);
      layout_.w_off[l] = static_cast<int>(params_.size());
      params_.insert(params_.end(), wr.begin(), wr.end());
      layout_.b_off[l] = static_cast<int>(params_.size());
      params_.insert(params_.end(), bp.begin(), bp.begin() + static_cast<std::ptrdiff_t>(out));
      wt_.push_back(std::move(wt));
      b_.push_back(std::move(bp));
    }
    layout_.n_layers = static_cast<int>(nl);
    if (!out_scale_.empty()) {
      layout_.out_scale_off = static_cast<int>(params_.size());
      params_.insert(params_.end(), out_scale_.begin(), out_scale_.end());
      layout_.out_mean_off = static_cast<int>(params_.size());
      params_.insert(params_.end(), out_mean_.begin(), out_mean_.end());
    }
    layout_.total = static_cast<int>(params_.size());
  }

  /// Multiply-adds per sample (kernels::mlp_multiply_adds), for FLOP-rate reports.
  [[nodiscard]] double multiply_adds() const noexcept { return kernels::mlp_multiply_adds(layout_); }
  /// Activation evaluations per sample (kernels::mlp_activations), for the roofline's ceiling.
  [[nodiscard]] double activations_per_sample() const noexcept { return kernels::mlp_activations(layout_); }

  /// Name of the instruction set this kernel was compiled for (e.g. "avx512bw", "sse2").
  static constexpr const char* arch_name() noexcept { return Arch::name(); }
  [[nodiscard]] std::size_t input_size() const noexcept { return sizes_.empty() ? 0 : sizes_.front(); }
  [[nodiscard]] std::size_t output_size() const noexcept { return sizes_.empty() ? 0 : sizes_.back(); }

  /// Evaluates `n` samples: `x` holds n x n_in values, `y` receives n x n_out (layout above).
  /// Never allocates; safe to call concurrently.
  void operator()(const T* x, T* y, std::size_t n) const noexcept {
    std::size_t s = 0;
    for (; s + 4 * lanes <= n; s += 4 * lanes) block<4>(x, y, s);
    for (; s + lanes <= n; s += lanes) block<1>(x, y, s);
    for (; s < n; ++s) single(x + s * input_size(), y + s * output_size());
  }
  /// The same evaluation with feature-major (column-major) layouts: input f of sample s at
  /// x[f · ldx + s], output o at y[o · ldy + s] (ldx, ldy ≥ n), which are the SIMD lanes of the
  /// kernel, so no transposes (the population engine's hot loop). The samples run in the same
  /// groups as operator(), so each sample's outputs have the same bits in either layout (tested).
  /// Never allocates; safe to call concurrently.
  void columns(const T* x, std::size_t ldx, T* y, std::size_t ldy, std::size_t n) const noexcept {
    const std::size_t n_in = input_size(), n_out = output_size();
    std::size_t s = 0;
    for (; s + 4 * lanes <= n; s += 4 * lanes) column_block<4>(x, ldx, y, ldy, s);
    for (; s + lanes <= n; s += lanes) column_block<1>(x, ldx, y, ldy, s);
    for (; s < n; ++s) {
      T xs[max_width], ys[max_width];
      for (std::size_t f = 0; f < n_in; ++f) xs[f] = x[f * ldx + s];
      single(xs, ys);
      for (std::size_t o = 0; o < n_out; ++o) y[o * ldy + s] = ys[o];
    }
  }

 private:
  static constexpr std::size_t padded(std::size_t n) noexcept { return (n + lanes - 1) / lanes * lanes; }

  void finish_output(T* y) const noexcept {
    for (std::size_t o = 0; o < out_scale_.size(); ++o) y[o] = y[o] * out_scale_[o] + out_mean_[o];
  }

  /// f(std::integral_constant<std::size_t, n>{}) for n in 1..N (n must lie there), so that loops
  /// over n features unroll with the count known at compile time (the row transposes of `block`:
  /// the float emulator takes ~5 % less time at batch 1e5-1e6 with the paper's 6 inputs and 9
  /// outputs, docs/kernels.md).
  template <std::size_t N, class F>
  static void with_count(std::size_t n, F&& f) {
    assert(n >= 1 && n <= N);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (void)((n == I + 1 ? (f(std::integral_constant<std::size_t, I + 1>{}), true) : false) || ...);
    }(std::make_index_sequence<N>{});
  }

  /// U * lanes samples starting at `s0`, one sample per lane: the shared dense forward pass
  /// (kernels::mlp_forward) on U registers in flight.
  template <std::size_t U>
  void block(const T* x, T* y, std::size_t s0) const noexcept {
    using V = kernels::multi<batch_type, int(U)>;
    constexpr std::size_t group = U * lanes;  // samples of the block
    constexpr std::size_t chunk = 16;         // features staged at a time
    alignas(64) T tmp[chunk * group];
    const std::size_t n_in = input_size(), n_out = output_size();
    forward_group<U>(
        [&](V* in) {  // read x in memory order (sample by sample), transpose through `tmp` in L1
          for (std::size_t f0 = 0; f0 < n_in; f0 += chunk)
            with_count<chunk>(std::min(chunk, n_in - f0), [&](auto nf) {
              for (std::size_t l = 0; l < group; ++l) {
                const T* xs = x + (s0 + l) * n_in + f0;
                for (std::size_t f = 0; f < nf; ++f) tmp[f * group + l] = xs[f];
              }
              for (std::size_t f = 0; f < nf; ++f) in[f0 + f] = V::load(tmp + f * group);
            });
        },
        [&](const V* out) {  // transpose through `tmp`, then write y in memory order
          for (std::size_t o0 = 0; o0 < n_out; o0 += chunk)
            with_count<chunk>(std::min(chunk, n_out - o0), [&](auto no) {
              for (std::size_t o = 0; o < no; ++o) out[o0 + o].store(tmp + o * group);
              for (std::size_t l = 0; l < group; ++l) {
                T* ys = y + (s0 + l) * n_out + o0;
                for (std::size_t o = 0; o < no; ++o) ys[o] = tmp[o * group + l];
              }
            });
        });
  }
  /// The block of `columns`: the lanes are read and written in place.
  template <std::size_t U>
  void column_block(const T* x, std::size_t ldx, T* y, std::size_t ldy, std::size_t s0) const noexcept {
    using V = kernels::multi<batch_type, int(U)>;
    forward_group<U>([&](V* in) { for (std::size_t f = 0; f < input_size(); ++f) in[f] = V::load(x + f * ldx + s0); },
                     [&](const V* out) { for (std::size_t o = 0; o < output_size(); ++o) out[o].store(y + o * ldy + s0); });
  }
  /// One group of U registers of samples through the shared forward pass (kernels::mlp_forward):
  /// `in(V*)` fills the inputs, `out(const V*)` takes the outputs.
  template <std::size_t U, class In, class Out>
  void forward_group(In&& in, Out&& out) const noexcept {
    using V = kernels::multi<batch_type, int(U)>;
    V buf[2][max_width];
    in(buf[0]);
    out(static_cast<const V*>(kernels::mlp_forward(layout_, params_.data(), buf[0], buf[1])));
  }

  /// `K` consecutive SIMD blocks of outputs (starting at `ob`) of one layer for one sample,
  /// with the input loop split over `S` independent accumulators per block so that the FMA
  /// latency chain is `in / S` long instead of `in`.
  template <class Act, std::size_t K, std::size_t S>
  static void neuron_blocks(const T* cur, T* nxt, const T* wt, const T* b, std::size_t in, std::size_t pad,
                            std::size_t ob) noexcept {
    batch_type acc[K][S];
    for (std::size_t k = 0; k < K; ++k) {
      acc[k][0] = batch_type::load_unaligned(b + ob + k * lanes);
      for (std::size_t s = 1; s < S; ++s) acc[k][s] = batch_type(T(0));
    }
    std::size_t i = 0;
    for (; i + S <= in; i += S)
      for (std::size_t s = 0; s < S; ++s) {
        const batch_type xi(cur[i + s]);
        const T* row = wt + (i + s) * pad + ob;
        for (std::size_t k = 0; k < K; ++k)
          acc[k][s] = kernels::fused_multiply_add(xi, batch_type::load_unaligned(row + k * lanes), acc[k][s]);
      }
    for (; i < in; ++i) {
      const batch_type xi(cur[i]);
      const T* row = wt + i * pad + ob;
      for (std::size_t k = 0; k < K; ++k)
        acc[k][0] = kernels::fused_multiply_add(xi, batch_type::load_unaligned(row + k * lanes), acc[k][0]);
    }
    for (std::size_t k = 0; k < K; ++k) {
      batch_type sum = acc[k][0];
      for (std::size_t s = 1; s < S; ++s) sum += acc[k][s];
      kernels::apply_fn<Act>(sum).store_aligned(nxt + ob + k * lanes);  // (fused multiply-adds: kernels/simd.hpp)
    }
  }

  /// One sample, vectorised across the output neurons of each layer.
  void single(const T* x, T* y) const noexcept {
    alignas(64) T buf[2][max_width + lanes];
    T* cur = buf[0];
    T* nxt = buf[1];
    std::copy(x, x + input_size(), cur);
    for (std::size_t layer = 0; layer < acts_.size(); ++layer) {
      const std::size_t in = sizes_[layer], pad = padded(sizes_[layer + 1]);
      const T* wt = wt_[layer].data();
      const T* b = b_[layer].data();
      visit_activation(acts_[layer], [&](auto fn) {
        using act = decltype(fn);
        std::size_t ob = 0;
        for (; ob + 4 * lanes <= pad; ob += 4 * lanes) neuron_blocks<act, 4, 2>(cur, nxt, wt, b, in, pad, ob);
        switch ((pad - ob) / lanes) {
          case 3: neuron_blocks<act, 3, 2>(cur, nxt, wt, b, in, pad, ob); break;
          case 2: neuron_blocks<act, 2, 4>(cur, nxt, wt, b, in, pad, ob); break;
          case 1: neuron_blocks<act, 1, 4>(cur, nxt, wt, b, in, pad, ob); break;
          default: break;
        }
      });
      std::swap(cur, nxt);
    }
    std::copy(cur, cur + output_size(), y);
    finish_output(y);
  }

  std::vector<std::size_t> sizes_;
  std::vector<activation> acts_;
  kernels::mlp_layout layout_;  // the packed network of the shared kernel (block path)
  std::vector<T> params_;
  std::vector<aligned_vector> wt_, b_;
  std::vector<T> out_scale_, out_mean_;
};

}  // namespace chempp::nn
