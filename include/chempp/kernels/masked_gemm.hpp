// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The three products of a masked dense layer (a MADE layer, flow/made.hpp) on **row-major
/// batches**, where each feature's values are contiguous over the batch (`X(i, b)` at
/// `X[i * ldx + b]`), skipping the weights the mask zeroes:
///
///     forward, input gradient:  Y(o, :) = init(o) + Σ_i W(o, i) X(i, :)     (init: 0, bias, or Y)
///     weight gradient:          dW(o, i) += M(o, i) Σ_b G(o, b) X(i, b)
///
/// The input gradient is the forward product of the transposed weights (pass the strides of Wᵀ
/// and a plan built from Mᵀ). A `masked_plan` groups the outputs into tiles (outputs ordered by
/// how many inputs they see, so that tiles share them) and lists, per tile, the union of the
/// inputs its outputs see; with MADE degree masks on degree-sorted units the tiles are contiguous
/// and nearly every listed weight is live. Weights outside the mask must be zero (the MADE
/// invariant, `made::apply_masks`): a listed input that one output of the tile does not see then
/// adds 0·x, exactly 0 for finite x (an infinite or NaN input reaches only the outputs whose tiles
/// list it, where a dense product would spread it to all of them).
///
/// Register tiling (the reason this is not Eigen's GEMM, which packs the batch for every product
/// and cannot skip the masked ~40 % of a MADE's multiply-adds): the forward product keeps R = 3
/// outputs × 8 SIMD registers of batch columns in registers (4 where there are 16 registers, not
/// 32), loading each X register once for R multiply-adds; the weight gradient keeps 4 outputs ×
/// (lanes/4) inputs, sums them over the batch, and reduces the lanes of all its accumulators at
/// once with a transposing add tree (AVX-512; other instruction sets reduce each accumulator). Each
/// output sums its inputs in plan order, so where the SIMD multiply-add is fused (FMA3, AVX-512,
/// NEON) results do not depend on the SIMD width except in the weight gradient's lane sums. CPU
/// only (xsimd, the compiled instruction set); the MADE's column-major path uses Eigen.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <type_traits>
#include <vector>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/kernels/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace chempp::kernels {

/// How `masked_product` initialises each output row.
enum class masked_init {
  zero,        ///< Y(o, :) = Σ
  bias,        ///< Y(o, :) = bias[o] + Σ
  accumulate,  ///< Y(o, :) += Σ
};

/// A tiling of the outputs of a masked product (see the file comment).
struct masked_plan {
  int tile = 0;                ///< outputs per tile (the first tile may be shorter)
  std::vector<int> out;        ///< output order; tile t holds out[out_begin[t] .. out_begin[t+1])
  std::vector<int> out_begin;  ///< tiles + 1 offsets into `out`
  std::vector<int> in_begin;   ///< tile t reads inputs in[in_begin[t] .. in_begin[t+1])
  std::vector<int> in;  ///< per tile, ascending: the inputs any of its outputs sees (plus padding)

  /// Number of tiles.
  [[nodiscard]] int tiles() const noexcept {
    return in_begin.empty() ? 0 : int(in_begin.size()) - 1;
  }
  /// Outputs in tile t.
  [[nodiscard]] int tile_size(int t) const noexcept {
    return out_begin[std::size_t(t) + 1] - out_begin[std::size_t(t)];
  }
  /// Inputs listed for tile t.
  [[nodiscard]] int tile_inputs(int t) const noexcept {
    return in_begin[std::size_t(t) + 1] - in_begin[std::size_t(t)];
  }
  /// Multiply-adds per batch column the plan performs (live weights plus the zeros its tiles
  /// share).
  [[nodiscard]] std::ptrdiff_t multiply_adds() const noexcept {
    std::ptrdiff_t n = 0;
    for (int t = 0; t < tiles(); ++t) n += std::ptrdiff_t(tile_size(t)) * tile_inputs(t);
    return n;
  }
};

/// Builds the plan of an n_out × n_in mask; `allowed(o, i)` says whether W(o, i) is live.
/// Outputs are ordered by their number of live inputs (stable, so degree-sorted MADE units keep
/// their order and tiles are contiguous) and cut into tiles of `tile`, the short one (n_out mod
/// tile) first, where outputs see fewest inputs. `pad_inputs_to` > 1 appends inputs no output of
/// the tile sees, while there are any, until the tile's list is a multiple of it: for the weight
/// gradient, whose mask multiplies those pairs by exactly 0, so that its input tiles are full.
template <class Allowed>
masked_plan make_masked_plan(int n_out, int n_in, int tile, Allowed&& allowed,
                             int pad_inputs_to = 1) {
  masked_plan p;
  p.tile = std::max(tile, 1);
  std::vector<int> count(std::size_t(std::max(n_out, 0)), 0);
  for (int o = 0; o < n_out; ++o)
    for (int i = 0; i < n_in; ++i) count[std::size_t(o)] += allowed(o, i) ? 1 : 0;
  p.out.resize(count.size());
  std::iota(p.out.begin(), p.out.end(), 0);
  std::stable_sort(p.out.begin(), p.out.end(), [&count](int a, int b) {
    return count[std::size_t(a)] < count[std::size_t(b)];
  });
  p.out_begin.push_back(0);
  p.in_begin.push_back(0);
  std::vector<char> live(std::size_t(std::max(n_in, 0)));
  for (int o0 = 0; o0 < n_out;) {
    const int o1 = o0 == 0 && n_out % p.tile != 0 ? n_out % p.tile : o0 + p.tile;
    int listed = 0;
    for (int i = 0; i < n_in; ++i) {
      live[std::size_t(i)] = 0;
      for (int r = o0; r < o1 && live[std::size_t(i)] == 0; ++r)
        live[std::size_t(i)] = allowed(p.out[std::size_t(r)], i) ? 1 : 0;
      listed += live[std::size_t(i)];
    }
    for (int i = 0; i < n_in && pad_inputs_to > 1 && listed % pad_inputs_to != 0; ++i)
      if (live[std::size_t(i)] == 0) {
        live[std::size_t(i)] = 1;
        ++listed;
      }
    for (int i = 0; i < n_in; ++i)
      if (live[std::size_t(i)] != 0) p.in.push_back(i);
    p.out_begin.push_back(o1);
    p.in_begin.push_back(int(p.in.size()));
    o0 = o1;
  }
  return p;
}

namespace detail {
/// R outputs × C registers of batch columns from column c0 (see masked_product).
template <int R, int C, class T>
inline void product_tile(const int* out, const int* in, int n, const T* w, std::ptrdiff_t w_out,
                         std::ptrdiff_t w_in, const T* x, std::ptrdiff_t ldx, T* y,
                         std::ptrdiff_t ldy, std::ptrdiff_t c0, masked_init init, const T* bias) {
  using B = xsimd::batch<T>;
  constexpr std::ptrdiff_t L = std::ptrdiff_t(B::size);
  B acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      T* yr = y + std::ptrdiff_t(out[r]) * ldy + c0 + c * L;
      acc[r][c] = init == masked_init::bias         ? B(bias[out[r]])
                  : init == masked_init::accumulate ? B::load_unaligned(yr)
                                                    : B(T(0));
    }
  for (int j = 0; j < n; ++j) {
    const std::ptrdiff_t i = in[j];
    const T* xi = x + i * ldx + c0;
    B wr[R];
    for (int r = 0; r < R; ++r) wr[r] = B(w[std::ptrdiff_t(out[r]) * w_out + i * w_in]);
    for (int c = 0; c < C; ++c) {
      B xv = B::load_unaligned(xi + c * L);
      keep_in_register(xv);
      for (int r = 0; r < R; ++r) acc[r][c] = fused_multiply_add(wr[r], xv, acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c)
      acc[r][c].store_unaligned(y + std::ptrdiff_t(out[r]) * ldy + c0 + c * L);
}

/// SIMD registers of batch columns per forward tile: 8 with AVX-512's 32 registers (3 × 8
/// accumulators), 4 with 16 registers (AVX2, SSE, NEON).
template <class T>
constexpr int product_columns() {
#if defined(__AVX512F__)
  return std::is_base_of_v<xsimd::avx512f, typename xsimd::batch<T>::arch_type> ? 8 : 4;
#else
  return 4;
#endif
}

/// One tile of R outputs over all n_cols batch columns.
template <int R, class T>
inline void product_rows(const int* out, const int* in, int n, const T* w, std::ptrdiff_t w_out,
                         std::ptrdiff_t w_in, const T* x, std::ptrdiff_t ldx, T* y,
                         std::ptrdiff_t ldy, std::ptrdiff_t n_cols, masked_init init,
                         const T* bias) {
  constexpr std::ptrdiff_t L = std::ptrdiff_t(xsimd::batch<T>::size);
  std::ptrdiff_t c = 0;
  if constexpr (product_columns<T>() == 8)
    for (; c + 8 * L <= n_cols; c += 8 * L)
      product_tile<R, 8>(out, in, n, w, w_out, w_in, x, ldx, y, ldy, c, init, bias);
  for (; c + 4 * L <= n_cols; c += 4 * L)
    product_tile<R, 4>(out, in, n, w, w_out, w_in, x, ldx, y, ldy, c, init, bias);
  if (c + 2 * L <= n_cols) {
    product_tile<R, 2>(out, in, n, w, w_out, w_in, x, ldx, y, ldy, c, init, bias);
    c += 2 * L;
  }
  if (c + L <= n_cols) {
    product_tile<R, 1>(out, in, n, w, w_out, w_in, x, ldx, y, ldy, c, init, bias);
    c += L;
  }
  for (; c < n_cols; ++c)  // the last n_cols mod L columns, same order of summation
    for (int r = 0; r < R; ++r) {
      T* yr = y + std::ptrdiff_t(out[r]) * ldy + c;
      T s = init == masked_init::bias ? bias[out[r]] : init == masked_init::accumulate ? *yr : T(0);
      for (int j = 0; j < n; ++j)
        s = std::fma(w[std::ptrdiff_t(out[r]) * w_out + std::ptrdiff_t(in[j]) * w_in],
                     x[std::ptrdiff_t(in[j]) * ldx + c], s);
      *yr = s;
    }
}

/// Whether the weight gradient can reduce its accumulators with the transposing add tree.
template <class T>
constexpr bool fast_lane_sums() {
#if defined(__AVX512F__)
  using A = typename xsimd::batch<T>::arch_type;
  return std::is_base_of_v<xsimd::avx512f, A> &&
         (std::is_same_v<T, float> || std::is_same_v<T, double>);
#else
  return false;
#endif
}

#if defined(__AVX512F__)
// Whole 128-bit blocks of a and b: _mm512_shuffle_f32x4 / _f64x2 with immediate Imm.
template <int Imm>
inline __m512 shuffle_blocks(__m512 a, __m512 b) {
  return _mm512_shuffle_f32x4(a, b, Imm);
}
template <int Imm>
inline __m512d shuffle_blocks(__m512d a, __m512d b) {
  return _mm512_shuffle_f64x2(a, b, Imm);
}
inline __m512 add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
inline __m512d add(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
// r[k] = the pair (v[2k], v[2k+1]) folded once: blocks Lo of both plus blocks Hi of both.
template <int Lo, int Hi, class V>
inline void fold_blocks(const V* v, V* r, int pairs) {
  for (int k = 0; k < pairs; ++k)
    r[k] =
        add(shuffle_blocks<Lo>(v[2 * k], v[2 * k + 1]), shuffle_blocks<Hi>(v[2 * k], v[2 * k + 1]));
}
constexpr int halves_lo = _MM_SHUFFLE(1, 0, 1, 0),
              halves_hi = _MM_SHUFFLE(3, 2, 3, 2);  // 256-bit halves
constexpr int even_blocks = _MM_SHUFFLE(2, 0, 2, 0), odd_blocks = _MM_SHUFFLE(3, 1, 3, 1);

// Transposing add trees: 16 float (8 double) registers → one register of their lane sums.
// Lane l of the result is the sum of input register (l mod 4)·4 + l/4 for float and
// (l mod 2)·4 + l/2 for double (tested through masked_outer against a plain loop).
inline __m512 lane_sums16(const __m512* v) {
  __m512 r[8], s[4], u[2];
  fold_blocks<halves_lo, halves_hi>(v, r, 8);
  fold_blocks<even_blocks, odd_blocks>(r, s, 4);
  for (int k = 0; k < 2; ++k)  // within 128-bit blocks: pairs of lanes, then lanes
    u[k] = _mm512_add_ps(_mm512_shuffle_ps(s[2 * k], s[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(s[2 * k], s[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  return _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
}
inline __m512d lane_sums8(const __m512d* v) {
  __m512d r[4], s[2];
  fold_blocks<halves_lo, halves_hi>(v, r, 4);
  fold_blocks<even_blocks, odd_blocks>(r, s, 2);
  return _mm512_add_pd(_mm512_shuffle_pd(s[0], s[1], 0x00), _mm512_shuffle_pd(s[0], s[1], 0xFF));
}
#endif

/// dW(out[r], in[s]) += M · Σ_b G(out[r], b) X(in[s], b) for R outputs × S inputs.
template <int R, int S, class T>
inline void outer_tile(const int* out, const int* in, const T* g, std::ptrdiff_t ldg, const T* x,
                       std::ptrdiff_t ldx, std::ptrdiff_t n_cols, T* dw, std::ptrdiff_t w_out,
                       std::ptrdiff_t w_in, const T* mask) {
  using B = xsimd::batch<T>;
  constexpr std::ptrdiff_t L = std::ptrdiff_t(B::size);
  B acc[R][S];
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) acc[r][s] = B(T(0));
  std::ptrdiff_t c = 0;
  for (; c + L <= n_cols; c += L) {
    B gv[R], xv[S];
    for (int r = 0; r < R; ++r) {
      gv[r] = B::load_unaligned(g + std::ptrdiff_t(out[r]) * ldg + c);
      keep_in_register(gv[r]);
    }
    for (int s = 0; s < S; ++s) {
      xv[s] = B::load_unaligned(x + std::ptrdiff_t(in[s]) * ldx + c);
      keep_in_register(xv[s]);
    }
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < S; ++s) acc[r][s] = fused_multiply_add(gv[r], xv[s], acc[r][s]);
  }
  alignas(64) T sums[R * S];
  bool reduced = false;
#if defined(__AVX512F__)
  if constexpr (fast_lane_sums<T>() && R == 4 && R * S == L) {
    // Feed the tree so that lanes 4s..4s+3 of its result are outputs r = 0..3 of input s.
    alignas(64) T t[L];
    if constexpr (std::is_same_v<T, float>) {
      __m512 v[16];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < S; ++s) v[4 * r + s] = acc[r][s];
      _mm512_store_ps(t, lane_sums16(v));
    } else {
      __m512d v[8];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < S; ++s) v[(r % 2) * 4 + 2 * s + r / 2] = acc[r][s];
      _mm512_store_pd(t, lane_sums8(v));
    }
    if (c == n_cols && w_out == 1 && out[1] == out[0] + 1 && out[2] == out[0] + 2 &&
        out[3] == out[0] + 3) {
      // four consecutive outputs of a column-major dW: one short vector per input
      for (int s = 0; s < S; ++s) {
        const std::ptrdiff_t a = std::ptrdiff_t(out[0]) + std::ptrdiff_t(in[s]) * w_in;
        // M is 0 or 1, so M·v is exact and multiply + add rounds like the scalar path's fma
        // (and needs no FMA3 intrinsics, which -mavx512f alone does not enable)
        if constexpr (std::is_same_v<T, float>) {
          const __m128 v = _mm_load_ps(t + 4 * s), d = _mm_loadu_ps(dw + a);
          _mm_storeu_ps(dw + a,
                        _mm_add_ps(mask != nullptr ? _mm_mul_ps(_mm_loadu_ps(mask + a), v) : v, d));
        } else {
          const __m256d v = _mm256_load_pd(t + 4 * s), d = _mm256_loadu_pd(dw + a);
          _mm256_storeu_pd(
              dw + a,
              _mm256_add_pd(mask != nullptr ? _mm256_mul_pd(_mm256_loadu_pd(mask + a), v) : v, d));
        }
      }
      return;
    }
    for (int r = 0; r < 4; ++r)
      for (int s = 0; s < S; ++s) sums[r * S + s] = t[4 * s + r];
    reduced = true;
  }
#endif
  if (!reduced)
    for (int r = 0; r < R; ++r)
      for (int s = 0; s < S; ++s) sums[r * S + s] = chempp::simd::reduce_add(acc[r][s]);
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) {
      T v = sums[r * S + s];
      for (std::ptrdiff_t k = c; k < n_cols; ++k)
        v = std::fma(g[std::ptrdiff_t(out[r]) * ldg + k], x[std::ptrdiff_t(in[s]) * ldx + k], v);
      const std::ptrdiff_t a = std::ptrdiff_t(out[r]) * w_out + std::ptrdiff_t(in[s]) * w_in;
      dw[a] = mask != nullptr ? std::fma(mask[a], v, dw[a]) : dw[a] + v;
    }
}
}  // namespace detail

/// Y(o, :) = init(o) + Σ_{i listed for o's tile} W(o, i) X(i, :) for every output o of the plan
/// (file comment). W(o, i) is at `w[o * w_out + i * w_in]` (a column-major n_out × n_in matrix:
/// w_out = 1, w_in = n_out; its transpose: the other way round); batch rows X(i, ·) and Y(o, ·)
/// at `x + i * ldx`, `y + o * ldy`, `n_cols` columns each. `bias` is read only with
/// masked_init::bias. Tiles of 3 and 2 outputs use the register tiling, other sizes go one output
/// at a time.
template <class T>
void masked_product(const masked_plan& plan, const T* w, std::ptrdiff_t w_out, std::ptrdiff_t w_in,
                    const T* x, std::ptrdiff_t ldx, T* y, std::ptrdiff_t ldy, std::ptrdiff_t n_cols,
                    masked_init init, const T* bias = nullptr) {
  for (int t = 0; t < plan.tiles(); ++t) {
    const int* o = plan.out.data() + plan.out_begin[std::size_t(t)];
    const int* in = plan.in.data() + plan.in_begin[std::size_t(t)];
    const int n = plan.tile_inputs(t);
    switch (plan.tile_size(t)) {
      case 3:
        detail::product_rows<3>(o, in, n, w, w_out, w_in, x, ldx, y, ldy, n_cols, init, bias);
        break;
      case 2:
        detail::product_rows<2>(o, in, n, w, w_out, w_in, x, ldx, y, ldy, n_cols, init, bias);
        break;
      default:
        for (int r = 0; r < plan.tile_size(t); ++r)
          detail::product_rows<1>(o + r, in, n, w, w_out, w_in, x, ldx, y, ldy, n_cols, init, bias);
        break;
    }
  }
}

/// Inputs per weight-gradient tile (lanes / 4, at least 1): pass it as `pad_inputs_to` when
/// building a weight-gradient plan with a mask.
template <class T>
constexpr int masked_outer_inputs() {
  constexpr int L = int(xsimd::batch<T>::size);
  return L >= 4 ? L / 4 : 1;
}

/// dW(o, i) += M(o, i) Σ_b G(o, b) X(i, b) over the plan's (output, listed input) pairs (file
/// comment); dW and the 0/1 mask M share the layout `[o * w_out + i * w_in]`, so pairs the plan
/// lists but the mask does not get exactly zero (also the padding of `make_masked_plan`);
/// `mask` = nullptr: every listed pair is live (a dense layer; its plan must not be padded).
/// Tiles of 4 outputs × masked_outer_inputs<T>() inputs use the register tiling.
template <class T>
void masked_outer(const masked_plan& plan, const T* g, std::ptrdiff_t ldg, const T* x,
                  std::ptrdiff_t ldx, std::ptrdiff_t n_cols, T* dw, std::ptrdiff_t w_out,
                  std::ptrdiff_t w_in, const T* mask) {
  constexpr int S = masked_outer_inputs<T>();
  for (int t = 0; t < plan.tiles(); ++t) {
    const int* o = plan.out.data() + plan.out_begin[std::size_t(t)];
    const int* in = plan.in.data() + plan.in_begin[std::size_t(t)];
    const int n = plan.tile_inputs(t);
    const int rows = plan.tile_size(t);
    for (int r0 = 0; r0 < rows; r0 += (rows - r0 >= 4 ? 4 : 1)) {
      int s = 0;
      if (rows - r0 >= 4) {
        for (; s + S <= n; s += S)
          detail::outer_tile<4, S>(o + r0, in + s, g, ldg, x, ldx, n_cols, dw, w_out, w_in, mask);
        for (; s < n; ++s)
          detail::outer_tile<4, 1>(o + r0, in + s, g, ldg, x, ldx, n_cols, dw, w_out, w_in, mask);
      } else {
        for (; s + 4 <= n; s += 4)
          detail::outer_tile<1, 4>(o + r0, in + s, g, ldg, x, ldx, n_cols, dw, w_out, w_in, mask);
        for (; s < n; ++s)
          detail::outer_tile<1, 1>(o + r0, in + s, g, ldg, x, ldx, n_cols, dw, w_out, w_in, mask);
      }
    }
  }
}

}  // namespace chempp::kernels
