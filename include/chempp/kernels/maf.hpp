// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The conditional MAF's arithmetic, written **once** (Papamakarios et al. 2017; sbi 0.23.1 /
/// nflows 0.14 MADEs, docs/sbi-pipeline.md §4): the log density (forward, θ → z) and the
/// sequential inverse (sampling, z → θ) of one sample group (the inverse: of G groups together),
/// templated over
///  * the value type `V`: `double`, `float`, `xsimd::batch<T, A>`, `kernels::multi<B, K>` (K
///    SIMD registers in flight) or the CUDA device's `float`/`double`;
///  * the activation and scale policies (kernels/functions.hpp);
///  * a shape policy `S` (sizes and the degree tables read at run time, or fixed at compile time
///    so that the CUDA compiler keeps the scratch in registers).
/// The CPU sampler (`flow::maf_sampler`), `conditional_maf::log_prob`/`inverse_standardized` and the
/// CUDA kernels all instantiate these two functions on the same packed weights (`pack_maf`).
///
/// **Packed layout** (`maf_layout` offsets; hidden units sorted by MADE degree, stable):
/// per transform t at `t * stride`: w_in (D × H, column i contiguous), w_ctx (H × C), b_in (H),
/// w_hidden (blocks × H × H, row-major), b_hidden (blocks × H), w_out (2D × H), b_out (2D); after
/// the T transforms θ mean, θ std (D each), x mean, x std (C each). Integer tables: permutations
/// (T × D, next[i] = y[perm[i]]), n_active (D: units of degree ≤ i, which output i reads),
/// row_len (H: units of degree ≤ degree(k), which unit k of a hidden layer reads), degree (H).
///
/// Why sorted: a unit of degree g depends on u_0..u_{g-1} only, so (forward) every dot product
/// skips the masked zeros, and (inverse) the unit is final from step g on and is computed exactly
/// once per transform; the first layer is updated incrementally, a0 += W_in[:, i] u_i, after
/// dimension i is inverted. The inverse then costs about one MADE pass per transform instead of D.

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/kernels/functions.hpp"
#include "chempp/kernels/mlp.hpp"

// The loops over the groups of `maf_inverse` (G, a template argument) unrolled by GCC, Clang and
// on the CUDA device (GCC otherwise keeps them as loops, with the groups' values in indexed
// memory); empty for nvcc's host pass and other compilers.
#if defined(__CUDA_ARCH__)
#define CHEMPP_UNROLL_GROUPS _Pragma("unroll")
#elif defined(__CUDACC__)  // nvcc's host pass: its front end rejects GCC's pragma, GCC rejects nvcc's
#define CHEMPP_UNROLL_GROUPS
#elif defined(__clang__)
#define CHEMPP_UNROLL_GROUPS _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define CHEMPP_UNROLL_GROUPS _Pragma("GCC unroll 16")
#else
#define CHEMPP_UNROLL_GROUPS
#endif

namespace chempp::kernels {

/// Degree of hidden unit k of a MADE with D features (nflows 0.14, sequential degrees; see
/// flow/made.hpp): k mod max(1, D-1) + min(1, D-1), or k mod D with `condition_first`.
CHEMPP_HD constexpr int made_hidden_degree(int k, int d, bool condition_first) {
  if (condition_first) return k % d;
  const int mx = d - 1 > 1 ? d - 1 : 1, mn = d - 1 < 1 ? d - 1 : 1;
  return k % mx + mn;
}

/// Sizes and offsets of a packed MAF (by value into kernels; plain ints).
struct maf_layout {
  int d = 0, c = 0, h = 0, blocks = 0, transforms = 0;  ///< D, C, H, activated layers, T
  int act = 1;                                          ///< MADE activation id (1 tanh, 4 relu)
  int scale = 0;                                        ///< scale id (0 softplus, 1 sigmoid)
  int condition_first = 0;                              ///< degree rule (made_hidden_degree)
  int o_w_ctx = 0, o_b_in = 0, o_w_hid = 0, o_b_hid = 0, o_w_out = 0, o_b_out = 0;  ///< within a transform
  int stride = 0;                                       ///< scalars per transform
  int o_theta_mean = 0, o_theta_std = 0, o_x_mean = 0, o_x_std = 0;  ///< standardisation offsets
  int total = 0;                                        ///< packed scalars
  int o_n_active = 0, o_row_len = 0, o_degree = 0;      ///< integer tables after the permutations
  int total_ints = 0;                                   ///< packed integers
};

/// A MAF packed into flat arrays (host side).
template <class T>
struct packed_maf {
  maf_layout layout;        ///< sizes and offsets
  std::vector<T> params;    ///< see the file comment
  std::vector<int> ints;    ///< permutations, n_active, row_len, degree
};

/// Packs a MAF given by accessors (original, unsorted unit order):
/// `src.w_in(t, k, i)`, `w_ctx(t, k, j)`, `b_in(t, k)`, `w_hidden(t, l, k, j)`, `b_hidden(t, l, k)`,
/// `w_out(t, r, k)`, `b_out(t, r)`, `perm(t, i)`, `theta_mean(i)`, `theta_std(i)`, `x_mean(j)`,
/// `x_std(j)`. A weight that the MADE masks set to zero but is not zero is an error: the sorted
/// kernels never read it. \throws chempp::invalid_argument naming the transform, tensor and entry.
template <class T, class Src>
packed_maf<T> pack_maf(maf_layout L, const Src& src, const char* fn) {
  const int d = L.d, c = L.c, h = L.h, nb = L.blocks, nt = L.transforms;
  packed_maf<T> p;
  std::vector<int> deg(static_cast<std::size_t>(h)), order(static_cast<std::size_t>(h));
  for (int k = 0; k < h; ++k) deg[static_cast<std::size_t>(k)] = made_hidden_degree(k, d, L.condition_first != 0);
  int n = 0;  // stable sort by degree (counting)
  for (int g = 0; g <= d; ++g)
    for (int k = 0; k < h; ++k)
      if (deg[static_cast<std::size_t>(k)] == g) order[static_cast<std::size_t>(n++)] = k;
  auto unit = [&](int k) { return order[static_cast<std::size_t>(k)]; };
  auto dg = [&](int k) { return deg[static_cast<std::size_t>(unit(k))]; };
  auto masked = [&](double v, int t, const char* what, int r, int col) {
    if (v != 0.0)
      throw invalid_argument(std::string(fn) + ": transforms[" + std::to_string(t) + "]." + what + "(" +
                             std::to_string(r) + ", " + std::to_string(col) + ") is outside the MADE mask but not zero (" +
                             chempp::detail::format_value(v) + ")");
  };
  L.o_w_ctx = h * d;
  L.o_b_in = L.o_w_ctx + h * c;
  L.o_w_hid = L.o_b_in + h;
  L.o_b_hid = L.o_w_hid + nb * h * h;
  L.o_w_out = L.o_b_hid + nb * h;
  L.o_b_out = L.o_w_out + 2 * d * h;
  L.stride = L.o_b_out + 2 * d;
  auto put = [&p](double v) { p.params.push_back(static_cast<T>(v)); };
  for (int t = 0; t < nt; ++t) {
    for (int i = 0; i < d; ++i)
      for (int k = 0; k < h; ++k) {  // unit sees input i iff degree >= i + 1
        const double w = src.w_in(t, unit(k), i);
        if (dg(k) < i + 1) masked(w, t, "w_in", unit(k), i);
        put(w);
      }
    for (int k = 0; k < h; ++k)
      for (int j = 0; j < c; ++j) put(src.w_ctx(t, unit(k), j));
    for (int k = 0; k < h; ++k) put(src.b_in(t, unit(k)));
    for (int l = 0; l < nb; ++l)
      for (int k = 0; k < h; ++k)
        for (int j = 0; j < h; ++j) {
          const double w = src.w_hidden(t, l, unit(k), unit(j));
          if (dg(j) > dg(k)) masked(w, t, "w_hidden", unit(k), unit(j));
          put(w);
        }
    for (int l = 0; l < nb; ++l)
      for (int k = 0; k < h; ++k) put(src.b_hidden(t, l, unit(k)));
    for (int r = 0; r < 2 * d; ++r)
      for (int k = 0; k < h; ++k) {  // output r sees units of degree < (r mod D) + 1
        const double w = src.w_out(t, r, unit(k));
        if (dg(k) >= r % d + 1) masked(w, t, "w_out", r, unit(k));
        put(w);
      }
    for (int r = 0; r < 2 * d; ++r) put(src.b_out(t, r));
    for (int i = 0; i < d; ++i) p.ints.push_back(src.perm(t, i));
  }
  L.o_theta_mean = static_cast<int>(p.params.size());
  for (int i = 0; i < d; ++i) put(src.theta_mean(i));
  L.o_theta_std = static_cast<int>(p.params.size());
  for (int i = 0; i < d; ++i) put(src.theta_std(i));
  L.o_x_mean = static_cast<int>(p.params.size());
  for (int j = 0; j < c; ++j) put(src.x_mean(j));
  L.o_x_std = static_cast<int>(p.params.size());
  for (int j = 0; j < c; ++j) put(src.x_std(j));
  L.total = static_cast<int>(p.params.size());
  L.o_n_active = static_cast<int>(p.ints.size());
  for (int i = 0; i < d; ++i) {
    int na = 0;
    for (int k = 0; k < h; ++k) na += dg(k) <= i ? 1 : 0;
    p.ints.push_back(na);
  }
  L.o_row_len = static_cast<int>(p.ints.size());
  for (int k = 0; k < h; ++k) {
    int len = 0;
    for (int j = 0; j < h; ++j) len += dg(j) <= dg(k) ? 1 : 0;
    p.ints.push_back(len);
  }
  L.o_degree = static_cast<int>(p.ints.size());
  for (int k = 0; k < h; ++k) p.ints.push_back(dg(k));
  L.total_ints = static_cast<int>(p.ints.size());
  p.layout = L;
  return p;
}

/// Shape policy with sizes and degree tables read at run time; `work` scratch is caller-owned.
struct dynamic_shape {
  CHEMPP_HD static int d(const maf_layout& L) { return L.d; }
  CHEMPP_HD static int c(const maf_layout& L) { return L.c; }
  CHEMPP_HD static int h(const maf_layout& L) { return L.h; }
  CHEMPP_HD static int blocks(const maf_layout& L) { return L.blocks; }
  /// Units of degree ≤ i (read by output i).
  CHEMPP_HD static int n_active(const maf_layout& L, const int* ints, int i) { return ints[L.o_n_active + i]; }
  /// Units of degree ≤ degree(k) (read by hidden unit k).
  CHEMPP_HD static int row_len(const maf_layout& L, const int* ints, int k) { return ints[L.o_row_len + k]; }
  /// Degree of (sorted) unit k.
  CHEMPP_HD static int degree(const maf_layout& L, const int* ints, int k) { return ints[L.o_degree + k]; }
  /// out[i] = in[perm[i]].
  template <class V>
  CHEMPP_HD static void gather(const maf_layout& L, const int* perm, const V* in, V* out) {
    for (int i = 0; i < L.d; ++i) out[i] = in[perm[i]];
  }
  /// out[perm[i]] = in[i].
  template <class V>
  CHEMPP_HD static void scatter(const maf_layout& L, const int* perm, const V* in, V* out) {
    for (int i = 0; i < L.d; ++i) out[perm[i]] = in[i];
  }
};

/// Shape policy with compile-time sizes and degree rule: loops unroll and, on the GPU, scratch
/// arrays stay in registers (permutations applied without run-time indexing). Valid only for a
/// layout with exactly these sizes (`matches`).
template <int D, int C, int H, int B, bool CF = false>
struct fixed_shape {
  static constexpr int max_d = D;
  static constexpr int max_c = C > 0 ? C : 1;
  static constexpr int max_h = H;
  static constexpr int max_blocks = B;
  CHEMPP_HD static constexpr int d(const maf_layout&) { return D; }
  CHEMPP_HD static constexpr int c(const maf_layout&) { return C; }
  CHEMPP_HD static constexpr int h(const maf_layout&) { return H; }
  CHEMPP_HD static constexpr int blocks(const maf_layout&) { return B; }
  CHEMPP_HD static constexpr int sorted_degree(int k) {  // k-th smallest degree
    int n = 0;
    for (int g = 0; g <= D; ++g)
      for (int j = 0; j < H; ++j)
        if (made_hidden_degree(j, D, CF) == g) {
          if (n == k) return g;
          ++n;
        }
    return D;
  }
  CHEMPP_HD static constexpr int n_active(const maf_layout&, const int*, int i) {
    int n = 0;
    for (int j = 0; j < H; ++j) n += made_hidden_degree(j, D, CF) <= i ? 1 : 0;
    return n;
  }
  CHEMPP_HD static constexpr int row_len(const maf_layout& L, const int* ints, int k) {
    return n_active(L, ints, sorted_degree(k));
  }
  CHEMPP_HD static constexpr int degree(const maf_layout&, const int*, int k) { return sorted_degree(k); }
  template <class V>
  CHEMPP_HD static void gather(const maf_layout&, const int* perm, const V* in, V* out) {
    CHEMPP_UNROLL
    for (int i = 0; i < D; ++i) {
      const int src = perm[i];
      V v = in[0];
      CHEMPP_UNROLL
      for (int j = 1; j < D; ++j) v = src == j ? in[j] : v;
      out[i] = v;
    }
  }
  template <class V>
  CHEMPP_HD static void scatter(const maf_layout&, const int* perm, const V* in, V* out) {
    CHEMPP_UNROLL
    for (int j = 0; j < D; ++j) {
      V v = in[0];
      CHEMPP_UNROLL
      for (int i = 0; i < D; ++i) v = perm[i] == j ? in[i] : v;
      out[j] = v;
    }
  }
  /// True if `L` has these sizes and degree rule.
  static bool matches(const maf_layout& L) {
    return L.d == D && L.c == C && L.h == H && L.blocks == B && (L.condition_first != 0) == CF;
  }
};

/// Scratch values a MAF pass needs: (blocks + 1) H hidden values and 2 D dimensions.
CHEMPP_HD constexpr int maf_work_size(int d, int h, int blocks) { return (blocks + 1) * h + 2 * d; }

/// ctxb[k] = b_in[k] + Σ_j w_ctx[k, j] c_j for transform t (c: standardised context): an identity
/// dense layer (kernels/mlp.hpp `dense_layer`: 4 units per register-pinned load of c_j, each unit
/// summing j = 0..C-1 in order).
template <class S, class V, class T>
CHEMPP_HD inline void maf_context_bias(const maf_layout& L, const T* p, int t, const V* c, V* ctxb) {
  const T* m = p + t * L.stride;
  dense_layer<identity_fn>(m + L.o_w_ctx, m + L.o_b_in, S::c(L), S::h(L), c, ctxb);
}

/// Units [lo, hi) of every activated hidden layer of the MADE at `m` (layer 0, the first
/// affine layer, in work[0, H)); layer l in work[l H, (l + 1) H). Returns the last layer.
template <class Act, class S, class V, class T>
CHEMPP_HD inline const V* made_hidden_units(const maf_layout& L, const int* ints, const T* m, int lo, int hi, V* work) {
  const int h = S::h(L);
  const V* prev = work;
  for (int l = 0; l < S::blocks(L); ++l) {
    V* cur = work + (l + 1) * h;
    const T* w = m + L.o_w_hid + l * h * h;
    const T* b = m + L.o_b_hid + l * h;
    int kk = lo;
    // two units at a time (register blocking): each prev[j] is read once for both dot
    // products and the two chains, and their activations, run side by side; each unit still
    // sums j = 0, 1, ... in order, so the result does not depend on the blocking (3 or 4 units
    // at a time measured slower overall with 4 registers of samples in flight: docs/kernels.md)
    CHEMPP_UNROLL
    for (; kk + 1 < hi; kk += 2) {
      V acc0 = V(b[kk]), acc1 = V(b[kk + 1]);
      const T* w0 = w + kk * h;
      const T* w1 = w0 + h;
      const int len0 = S::row_len(L, ints, kk), len1 = S::row_len(L, ints, kk + 1);
      const int both = len0 < len1 ? len0 : len1;
      CHEMPP_UNROLL
      for (int j = 0; j < both; ++j) {
        V pj = prev[j];
        keep_in_register(pj);  // one load for both units (else each FMA reloads it: load-bound)
        acc0 = fma(V(w0[j]), pj, acc0);
        acc1 = fma(V(w1[j]), pj, acc1);
      }
      CHEMPP_UNROLL
      for (int j = both; j < len0; ++j) acc0 = fma(V(w0[j]), prev[j], acc0);
      CHEMPP_UNROLL
      for (int j = both; j < len1; ++j) acc1 = fma(V(w1[j]), prev[j], acc1);
      cur[kk] = apply_fn<Act>(acc0);
      cur[kk + 1] = apply_fn<Act>(acc1);
    }
    if (kk < hi) {  // the last unit of an odd range: unit kk reads the units of degree <= its own
      V acc = V(b[kk]);
      const T* wr = w + kk * h;
      const int len = S::row_len(L, ints, kk);
      CHEMPP_UNROLL
      for (int j = 0; j < len; ++j) acc = fma(V(wr[j]), prev[j], acc);
      cur[kk] = apply_fn<Act>(acc);
    }
    prev = cur;
  }
  return prev;
}

/// Output rows i (unconstrained scale s) and D + i (shift) of the MADE at `m`, from the first
/// `n` units of its last hidden layer `hl`.
template <class S, class V, class T>
CHEMPP_HD inline void made_output_pair(const maf_layout& L, const T* m, int i, int n, const V* hl, V& s, V& sh) {
  const int d = S::d(L), h = S::h(L);
  s = V(m[L.o_b_out + i]);
  sh = V(m[L.o_b_out + d + i]);
  const T* ws = m + L.o_w_out + i * h;
  const T* wm = m + L.o_w_out + (d + i) * h;
  CHEMPP_UNROLL
  for (int kk = 0; kk < n; ++kk) {
    V hk = hl[kk];
    keep_in_register(hk);  // one load for both rows
    s = fma(V(ws[kk]), hk, s);
    sh = fma(V(wm[kk]), hk, sh);
  }
}

/// Forward pass of one sample group: `u` (D, standardised θ) becomes z; `c` (C) is the
/// standardised context. Returns Σ_t Σ_{i<k} log scale_{t,i} - ½ Σ_{i<k} z_i², the log density of
/// the first k standardised dimensions without the -k/2 log 2π and -Σ log σ_θ terms (k = D: the
/// full density). In float, each transform's Σ_{i<k} log scale_{t,i} is log Π_{i<k} scale_{t,i}
/// (one log instead of k; the product carries at most k - 1 roundings, ≤ 6e-8 (k - 1) in the
/// log), and a group with a lane whose product, or a running product before it, is not a normal
/// float sums the k logs instead; an output that reads no hidden unit (i = 0 under the nflows
/// degrees) takes its scale from the bias as one scalar. Double is the plain sum of logs.
/// `work`: `maf_work_size` values.
template <class Act, class Scale, class S, class V, class T>
CHEMPP_HD inline V maf_forward(const maf_layout& L, const T* p, const int* ints, V* u, const V* c, int k, V* work) {
  const int d = S::d(L), h = S::h(L), nb = S::blocks(L);
  V* a0 = work;
  V* y = work + (nb + 1) * h;
  V logdet = V(0);
  for (int t = 0; t < L.transforms; ++t) {
    const T* m = p + t * L.stride;
    maf_context_bias<S>(L, p, t, c, a0);
    CHEMPP_UNROLL
    for (int kk = 0; kk < h; ++kk) {  // unit kk sees u_j, j < degree(kk)
      V acc = a0[kk];
      const int g = S::degree(L, ints, kk);
      CHEMPP_UNROLL
      for (int j = 0; j < g; ++j) acc = fma(V(m[j * h + kk]), u[j], acc);
      a0[kk] = acc;
    }
    const V* prev = made_hidden_units<Act, S>(L, ints, m, 0, h, work);
    // float: the log-determinant of a transform is the log of the product of its k scales (one
    // log instead of k; the product carries at most k - 1 roundings) unless a lane's product, or
    // any running product before it, leaves the normal range: then the scales' logs are summed
    // (the scales are kept in y[D, 2D)). An output that reads no hidden unit (the first one under
    // the nflows degrees) takes its scale from the bias, one scalar. Double: the plain sum.
    constexpr bool product = std::is_same_v<scalar_of_t<V>, float>;
    [[maybe_unused]] V prod = V(1), lowest = V(1);
    V* scales = y + d;
    CHEMPP_UNROLL
    for (int i = 0; i < d; ++i) {
      V s, sh;
      const int na = S::n_active(L, ints, i);
      made_output_pair<S>(L, m, i, na, prev, s, sh);
      const V sc = product && na == 0 ? V(Scale::apply(m[L.o_b_out + i])) : Scale::apply(s);
      y[i] = fma(sc, u[i], sh);
      scales[i] = sc;
      if constexpr (product) {
        if (i < k) {
          prod = prod * sc;
          lowest = min(lowest, prod);
        }
      }
    }
    using range = ieee_layout<scalar_of_t<V>>;
    const auto normal = [](const V& v) { return !value_bits<V>::any_outside(v, V(range::min_normal), V(range::max_finite)); };
    if (product && normal(prod) && normal(lowest)) {
      logdet = logdet + log_fn::apply(prod);
    } else {
      for (int i = 0; i < d && i < k; ++i) logdet = logdet + log_fn::apply(scales[i]);
    }
    S::gather(L, ints + t * d, y, u);
  }
  V sq = V(0);
  for (int i = 0; i < d && i < k; ++i) sq = fma(u[i], u[i], sq);
  return logdet - V(0.5) * sq;
}

/// Inverse of G sample groups: `cur` (G × D base points z, group g at cur + g D) becomes u_0
/// (standardised θ). `ctxb(t, k)` gives the context bias of unit k in transform t
/// (`maf_context_bias`; a value convertible to V, one per lane or one scalar shared by every lane;
/// with G > 1 every group takes the same values: the groups sample one observation). `work`:
/// G × `maf_work_size` values.
/// With G > 1 the groups go through each dimension step phase by phase (hidden units and output
/// pair of every group, then the scale, division and first-layer update of every group), so that
/// the out-of-order core finds another group's independent work next to each phase's dependent
/// tail; each group's arithmetic, and so its result, is that of G = 1 (docs/kernels.md, tenth
/// session: 2 groups of 4 registers took 0.85× the time of one value of 8 in float H 8 sampling).
template <class Act, class Scale, class S, int G = 1, class V, class T, class CtxBias>
CHEMPP_HD inline void maf_inverse(const maf_layout& L, const T* p, const int* ints, V* cur, const CtxBias& ctxb,
                                  V* work) {
  static_assert(G >= 1, "maf_inverse: G must be at least 1");
  const int d = S::d(L), h = S::h(L), nb = S::blocks(L);
  const int ws = maf_work_size(d, h, nb);  // per group: a0 (then the hidden layers), y, u
  const int yo = (nb + 1) * h;
  for (int t = L.transforms - 1; t >= 0; --t) {
    const T* m = p + t * L.stride;
    CHEMPP_UNROLL_GROUPS
    for (int g = 0; g < G; ++g) {
      V* a0 = work + g * ws;
      S::scatter(L, ints + t * d, cur + g * d, a0 + yo);
      CHEMPP_UNROLL
      for (int kk = 0; kk < h; ++kk) a0[kk] = V(ctxb(t, kk));
    }
    CHEMPP_UNROLL
    for (int i = 0; i < d; ++i) {
      // units of degree <= i are final once u_0..u_{i-1} are known: compute [lo, hi) now
      const int lo = i == 0 ? 0 : S::n_active(L, ints, i - 1), hi = S::n_active(L, ints, i);
      V s[G], sh[G];
      CHEMPP_UNROLL_GROUPS
      for (int g = 0; g < G; ++g) {
        const V* prev = made_hidden_units<Act, S>(L, ints, m, lo, hi, work + g * ws);
        made_output_pair<S>(L, m, i, hi, prev, s[g], sh[g]);
      }
      const T* wi = m + i * h;  // first layer: units of degree > i still take u_i
      CHEMPP_UNROLL_GROUPS
      for (int g = 0; g < G; ++g) {
        V* a0 = work + g * ws;
        const V ui = (a0[yo + i] - sh[g]) / apply_fn<Scale>(s[g]);
        a0[yo + d + i] = ui;
        CHEMPP_UNROLL
        for (int kk = hi; kk < h; ++kk) a0[kk] = fma(V(wi[kk]), ui, a0[kk]);
      }
    }
    CHEMPP_UNROLL_GROUPS
    for (int g = 0; g < G; ++g) {
      CHEMPP_UNROLL
      for (int i = 0; i < d; ++i) cur[g * d + i] = work[g * ws + yo + d + i];
    }
  }
}

/// Multiply-adds of one sample through `maf_forward` (k = D) and `maf_inverse` (context bias
/// excluded, it is computed once per observation when sampling), for FLOP-rate reports: the
/// useful work only (masked zeros are not counted, 1 multiply-add = 2 FLOP).
template <class S = dynamic_shape>
inline double maf_multiply_adds(const maf_layout& L, const int* ints, bool inverse) {
  double n = 0.0;
  const int h = L.h, d = L.d;
  for (int k = 0; k < h; ++k) n += S::degree(L, ints, k) + (inverse ? 0 : L.c);
  for (int k = 0; k < h; ++k) n += double(L.blocks) * S::row_len(L, ints, k);
  for (int i = 0; i < d; ++i) n += 2.0 * S::n_active(L, ints, i) + 1.0;
  return n * L.transforms;
}

}  // namespace chempp::kernels
