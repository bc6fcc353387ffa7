// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// CPU value types for the shared kernels (kernels/maf.hpp, kernels/mlp.hpp) and element-wise
/// maps over arrays:
///  * `multi<B, K>`: K SIMD registers of type B (`xsimd::batch<T, A>`) treated as one value, so
///    that one instantiation of a kernel keeps K sample groups in flight: each weight is
///    broadcast once for K fused multiply-adds, and K independent latency chains hide the FMA
///    latency that one register per chain exposes;
///  * `map_n<F>(a, y, n)` / `map2_n`: y = F::apply(a) (or F::derivative(a, b)) over arrays with xsimd, the
///    scalar tail through the same policy, so body and tail agree to the last bit.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <type_traits>
#include <utility>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/kernels/functions.hpp"
#include "chempp/kernels/random.hpp"

namespace chempp::kernels {

/// Comparison result of two `multi` values (one `batch_bool` per register).
template <class BB, int K>
struct multi_bool {
  BB v[K];
};

namespace detail {
// r.v[k] = f(args.v[k]...) for every k, unrolled by a fold (no loop left for the optimiser to
// unroll: at -O2 GCC 12 kept the K-loops and the kernels ran 2-3x slower).
template <class R, class F, std::size_t... I, class... A>
inline R each(std::index_sequence<I...>, F&& f, const A&... a) {
  R r;
  const auto one = [&](auto k) { r.v[k.value] = f(a.v[k.value]...); };
  (one(std::integral_constant<std::size_t, I>{}), ...);
  return r;
}
}  // namespace detail

/// K SIMD registers used as one value (see the file comment).
template <class B, int K>
struct multi {
  using batch_type = B;
  using value_type = typename B::value_type;
  static constexpr int registers = K;
  static constexpr std::size_t lanes = B::size * K;  ///< scalar lanes in total
  using seq = std::make_index_sequence<std::size_t(K)>;
  B v[K];

  multi() = default;
  /// Broadcast of a scalar.
  template <class U, std::enable_if_t<std::is_arithmetic_v<U>, int> = 0>
  multi(U x) {  // NOLINT(google-explicit-constructor): scalars mix with values like in the kernels
    const B b(static_cast<value_type>(x));
    broadcast(b, seq{});
  }
  /// Loads K registers from `p` (K B::size consecutive scalars).
  static multi load(const value_type* p) {
    multi r;
    r.load_from(p, seq{});
    return r;
  }
  /// Stores K registers to `p`.
  void store(value_type* p) const { store_to(p, seq{}); }

 private:
  template <std::size_t... I>
  void broadcast(const B& b, std::index_sequence<I...>) {
    ((v[I] = b), ...);
  }
  template <std::size_t... I>
  void load_from(const value_type* p, std::index_sequence<I...>) {
    ((v[I] = B::load_unaligned(p + I * B::size)), ...);
  }
  template <std::size_t... I>
  void store_to(value_type* p, std::index_sequence<I...>) const {
    ((v[I].store_unaligned(p + I * B::size)), ...);
  }
};

#define CHEMPP_MULTI_BINARY(op)                                                                   \
  template <class B, int K>                                                                       \
  inline multi<B, K> operator op(const multi<B, K>& a, const multi<B, K>& b) {                    \
    return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x, const B& y) { return x op y; }, a, b); \
  }
CHEMPP_MULTI_BINARY(+)
CHEMPP_MULTI_BINARY(-)
CHEMPP_MULTI_BINARY(*)
CHEMPP_MULTI_BINARY(/)
#undef CHEMPP_MULTI_BINARY

#define CHEMPP_MULTI_UNARY(fn)                                                                    \
  template <class B, int K>                                                                       \
  inline multi<B, K> fn(const multi<B, K>& a) {                                                   \
    return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x) { return xsimd::fn(x); }, a); \
  }
CHEMPP_MULTI_UNARY(exp)
CHEMPP_MULTI_UNARY(log)
CHEMPP_MULTI_UNARY(log1p)
CHEMPP_MULTI_UNARY(abs)
CHEMPP_MULTI_UNARY(sqrt)
#undef CHEMPP_MULTI_UNARY

template <class B, int K>
inline multi<B, K> operator-(const multi<B, K>& a) {
  return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x) { return -x; }, a);
}
/// x y + z rounded once, on one register. xsimd 8.1 has no AVX-512 `fma` kernel: for the avx512*
/// architectures its generic fallback computes x * y + z, which under -ffp-contract=off (chempp's
/// targets) is a multiply and an add — half the FLOP rate and a second rounding. The AVX-512
/// intrinsics are called directly here; every other architecture keeps xsimd::fma.
template <class B>
inline B fused_multiply_add(const B& x, const B& y, const B& z) {
#if defined(__AVX512F__)
  using A = typename B::arch_type;
  if constexpr (std::is_base_of_v<xsimd::avx512f, A>) {
    if constexpr (std::is_same_v<typename B::value_type, float>) return B(_mm512_fmadd_ps(x, y, z));
    else if constexpr (std::is_same_v<typename B::value_type, double>) return B(_mm512_fmadd_pd(x, y, z));
    else return xsimd::fma(x, y, z);
  } else {
    return xsimd::fma(x, y, z);
  }
#else
  return xsimd::fma(x, y, z);
#endif
}

/// The offsets 0, s, 2 s, … (lane l: l·s) as a batch of integers of B's lane width, for
/// `B::gather` of one column of B::size rows with stride s (the row loops of the population
/// engine and the likelihood: writing lanes as scalars and reading them back as one vector stalls
/// on store forwarding).
template <class B>
[[nodiscard]] inline xsimd::batch<xsimd::as_integer_t<typename B::value_type>, typename B::arch_type> lane_offsets(std::size_t s) noexcept {
  using I = xsimd::as_integer_t<typename B::value_type>;
  alignas(64) I off[B::size];
  for (std::size_t l = 0; l < B::size; ++l) off[l] = static_cast<I>(l * s);
  return xsimd::batch<I, typename B::arch_type>::load_aligned(off);
}

template <class B, int K>
inline multi<B, K> fma(const multi<B, K>& a, const multi<B, K>& b, const multi<B, K>& c) {
  return detail::each<multi<B, K>>(typename multi<B, K>::seq{},
                                   [](const B& x, const B& y, const B& z) { return fused_multiply_add(x, y, z); }, a, b, c);
}
template <class B, int K>
inline multi<B, K> max(const multi<B, K>& a, const multi<B, K>& b) {
  return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x, const B& y) { return xsimd::max(x, y); }, a, b);
}
template <class B, int K>
inline multi<B, K> min(const multi<B, K>& a, const multi<B, K>& b) {
  return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x, const B& y) { return xsimd::min(x, y); }, a, b);
}
template <class B, int K>
inline auto operator<(const multi<B, K>& a, const multi<B, K>& b) {
  return detail::each<multi_bool<typename B::batch_bool_type, K>>(typename multi<B, K>::seq{},
                                                                  [](const B& x, const B& y) { return x < y; }, a, b);
}
template <class BB, class B, int K>
inline multi<B, K> select(const multi_bool<BB, K>& c, const multi<B, K>& a, const multi<B, K>& b) {
  return detail::each<multi<B, K>>(typename multi<B, K>::seq{},
                                   [](const BB& m, const B& x, const B& y) { return xsimd::select(m, x, y); }, c, a, b);
}

/// 2^k from k + 1.5 · 2^m and x = 2^e m (kernels/functions.hpp) on every lane of a float or
/// double register.
template <class T, class A>
struct value_bits<xsimd::batch<T, A>> {
  using B = xsimd::batch<T, A>;
  using L = ieee_layout<T>;
  using U = xsimd::batch<typename L::bits_type, A>;
  using S = xsimd::batch<typename L::signed_type, A>;
  static B pow2_from_magic(const B& kd) {
    return xsimd::bitwise_cast<B>((xsimd::bitwise_cast<U>(kd) + U(L::bias)) << L::mantissa_bits);
  }
  static bool any_outside(const B& x, const B& lo, const B& hi) { return !xsimd::all((x >= lo) & (x <= hi)); }
  static B split_exponent(const B& x, B& e) {
    const S b = xsimd::bitwise_cast<S>(x);
    const S k = (b - S(L::sqrt_half_bits)) >> L::mantissa_bits;  // arithmetic shift
    const B magic(T(3) * T(typename L::signed_type(1) << (L::mantissa_bits - 1)));
    e = xsimd::bitwise_cast<B>(xsimd::bitwise_cast<S>(magic) + k) - magic;
    return xsimd::bitwise_cast<B>(b - (k << L::mantissa_bits));
  }
};
/// ... and on every register of a `multi`.
template <class B, int K>
struct value_bits<multi<B, K>> {
  static multi<B, K> pow2_from_magic(const multi<B, K>& kd) {
    return detail::each<multi<B, K>>(typename multi<B, K>::seq{}, [](const B& x) { return value_bits<B>::pow2_from_magic(x); }, kd);
  }
  static bool any_outside(const multi<B, K>& x, const multi<B, K>& lo, const multi<B, K>& hi) {
    bool out = false;
    for (int k = 0; k < K; ++k) out = out || value_bits<B>::any_outside(x.v[k], lo.v[k], hi.v[k]);
    return out;
  }
  static multi<B, K> split_exponent(const multi<B, K>& x, multi<B, K>& e) {
    multi<B, K> m;
    for (int k = 0; k < K; ++k) m.v[k] = value_bits<B>::split_exponent(x.v[k], e.v[k]);
    return m;
  }
};


/// F::apply on a `multi` of K > 4 registers, 4 registers at a time: a policy's temporaries (tanh
/// keeps ~4 values per register alive, softplus more) then fit the 32 vector registers, where K = 8
/// at once spilled them to the stack (the K = 8 sampler ran 2.3× slower than K = 4 before this,
/// 1.14× faster after, docs/kernels.md). Lanes never mix, so the result is the same bits.
template <class F, class B, int K>
inline multi<B, K> apply_fn(const multi<B, K>& x) {
  if constexpr (K > 4 && K % 4 == 0) {
    multi<B, K> y;
    for (int c = 0; c < K; c += 4) {
      multi<B, 4> part;
      for (int k = 0; k < 4; ++k) part.v[k] = x.v[c + k];
      const multi<B, 4> r = F::apply(part);
      for (int k = 0; k < 4; ++k) y.v[c + k] = r.v[k];
    }
    return y;
  } else {
    return F::apply(x);
  }
}

/// F::apply on one plain xsimd register, evaluated as a `multi` of one register so that its
/// multiply-adds go through `fused_multiply_add` (xsimd 8.1's own AVX-512 `fma` is a multiply and
/// an add): on FMA hardware each lane then gets the same bits as F::apply on that lane's scalar
/// (without FMA instructions, SSE2–AVX, xsimd's fma rounds twice and the last bit may differ).
template <class F, class T, class A>
inline xsimd::batch<T, A> apply_fn(const xsimd::batch<T, A>& x) {
  multi<xsimd::batch<T, A>, 1> v;
  v.v[0] = x;
  return F::apply(v).v[0];
}

/// Keeps a loaded SIMD value in a register (an empty asm statement the value passes through): GCC
/// and Clang otherwise fold the load into every multiply-add that uses it, which turns one load per
/// R multiply-adds into R loads and makes a register-blocked kernel load-bound (seen in perf
/// profiles of the masked products and of the dense layer, docs/kernels.md). A no-op for scalars
/// (kernels/functions.hpp) and other compilers.
template <class T, class A>
inline void keep_in_register(xsimd::batch<T, A>& b) {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  auto r = static_cast<typename xsimd::batch<T, A>::register_type>(b);
  asm("" : "+v"(r));
  b = xsimd::batch<T, A>(r);
#else
  (void)b;
#endif
}
/// Every register of a `multi`.
template <class B, int K>
inline void keep_in_register(multi<B, K>& m) {
  for (int k = 0; k < K; ++k) keep_in_register(m.v[k]);
}


/// Loads the value of type `V` (T itself, or a `multi` of T) that starts at `p`.
template <class V, class T>
inline V lane_load(const T* p) {
  if constexpr (std::is_same_v<V, T>) {
    return *p;
  } else {
    return V::load(p);
  }
}
/// Stores a scalar value at `p`.
template <class T>
inline void lane_store(T* p, const T& v) {
  *p = v;
}
/// Stores a `multi` value at `p`.
template <class T, class B, int K>
inline void lane_store(T* p, const multi<B, K>& v) {
  v.store(p);
}

/// An element-wise loop over [0, n) written once for SIMD and scalar values: calls
/// `body(i, std::type_identity<V>{})` with V = `multi<xsimd::batch<T>, 1>` for each whole SIMD
/// group starting at i, then with V = T for each remaining index. The body reads and writes
/// through `lane_load<V>` and `lane_store`, so the group and the tail run the same arithmetic.
template <class T, class Body>
inline void for_lanes(std::size_t n, Body&& body) {
  using B = multi<xsimd::batch<T>, 1>;
  std::size_t i = 0;
  for (; i + B::lanes <= n; i += B::lanes) body(i, std::type_identity<B>{});
  for (; i < n; ++i) body(i, std::type_identity<T>{});
}

/// y[i] = F::apply(a[i]) for i < n (a and y may alias); xsimd body, scalar tail.
template <class F, class T>
inline void map_n(const T* a, T* y, std::size_t n) {
  for_lanes<T>(n, [&](std::size_t i, auto type) {
    using V = typename decltype(type)::type;  // multi: the kernels' value type, its fma fused everywhere
    lane_store(y + i, F::apply(lane_load<V>(a + i)));
  });
}

/// y[i] = F::derivative(a[i], b[i]) for i < n.
template <class F, class T>
inline void map2_n(const T* a, const T* b, T* y, std::size_t n) {
  for_lanes<T>(n, [&](std::size_t i, auto type) {
    using V = typename decltype(type)::type;
    lane_store(y + i, F::derivative(lane_load<V>(a + i), lane_load<V>(b + i)));
  });
}

namespace detail {
/// The uniforms (u₁, u₂) of the Box–Muller pairs q = 16 b + l0 + lane of the stream `key`
/// (kernels/random.hpp), exactly `unit_open` of the SplitMix64 outputs 2q + 1 and 2q + 2.
template <class Arch>
inline void normal_uniforms(std::uint64_t key, std::uint64_t b, std::size_t l0, xsimd::batch<double, Arch>& u1,
                            xsimd::batch<double, Arch>& u2) {
  using D = xsimd::batch<double, Arch>;
  using U = xsimd::batch<std::uint64_t, Arch>;
  alignas(64) std::uint64_t idx[D::size];
  for (std::size_t l = 0; l < D::size; ++l) idx[l] = 2 * l;
  const U q2 = U(2 * (b * (normal_block / 2) + l0)) + U::load_aligned(idx);  // 2q
  const auto mix = [](U z) {
    z = (z ^ (z >> 30)) * U(0xBF58476D1CE4E5B9ULL);
    z = (z ^ (z >> 27)) * U(0x94D049BB133111EBULL);
    return z ^ (z >> 31);
  };
  const auto unit = [](const U& h) {  // 1 + k 2^-52 - 1 + 2^-53: exactly unit_open(h)
    return (xsimd::bitwise_cast<D>((h >> 12) | U(0x3FF0000000000000ULL)) - D(1.0)) + D(0x1.0p-53);
  };
  const U gamma(splitmix_gamma);
  u1 = unit(mix(U(key) + (q2 + U(1)) * gamma));
  u2 = unit(mix(U(key) + (q2 + U(2)) * gamma));
}

/// Calls `block(b, dst)` for every block of 32 draws that [first, first + n) touches, writing whole
/// blocks straight to `out` and partial ones through a temporary.
template <class T, class Block>
inline void for_normal_blocks(std::uint64_t first, T* out, std::size_t n, const Block& block) {
  constexpr std::size_t blk = normal_block;
  alignas(64) T tmp[blk];
  const std::uint64_t end = first + n;
  for (std::uint64_t b = first / blk; b * blk < end; ++b) {
    const std::uint64_t lo = b * blk;
    if (lo >= first && lo + blk <= end) {
      block(b, out + (lo - first));
    } else {
      block(b, tmp);
      for (std::uint64_t j = std::max(lo, first); j < std::min(lo + blk, end); ++j) out[j - first] = tmp[j - lo];
    }
  }
}
}  // namespace detail

/// out[i] = draw first + i of the counter-based normal stream `key` (kernels/random.hpp), i < n,
/// vectorised over the Box–Muller pairs of each block of 32 draws (each pair computed once, its
/// cosine and sine half stored 16 apart); a block only partly requested is computed whole and
/// copied. A draw's value depends on (key, index) alone, not on where a call starts or how many
/// draws it asks for; it agrees with the scalar `normal_at` to an ulp of the SIMD log/sincos.
template <class Arch = xsimd::default_arch>
inline void normal_fill(std::uint64_t key, std::uint64_t first, double* out, std::size_t n) {
  using D = xsimd::batch<double, Arch>;
  constexpr std::size_t w = D::size, half = normal_block / 2;
  static_assert(half % w == 0, "normal_fill: SIMD width must divide 16");
  detail::for_normal_blocks(first, out, n, [key](std::uint64_t b, double* dst) {  // the 32 draws of block b
    for (std::size_t l0 = 0; l0 < half; l0 += w) {
      D u1, u2;
      detail::normal_uniforms<Arch>(key, b, l0, u1, u2);
      const D r = xsimd::sqrt(D(-2.0) * xsimd::log(u1));
      const auto sc = xsimd::sincos(D(2.0 * std::numbers::pi) * u2);  // (sin, cos)
      (r * sc.second).store_unaligned(dst + l0);
      (r * sc.first).store_unaligned(dst + half + l0);
    }
  });
}

/// The same draws in single precision, for the float samplers: the uniforms are the double
/// ones (the same SplitMix64 outputs), reduced exactly in double and finished in float, so a
/// draw is `normal_at(key, j)` to ≤ 4e-7 (1 + |z|) (tested), for about half the cost:
///  * ln u₁ = e ln 2 + ln m with u₁ = 2^e m, m ∈ [√½, √2) and f = m - 1 taken exactly from the
///    bits in double; ln m = 2 atanh(f / (2 + f)) (Taylor series to s^9, |s| ≤ 0.172, truncation
///    < 4e-10), so u₁ near 1 (small radii) keeps its relative accuracy;
///  * 2π u₂ = (π/2)(q + g) with q = round(4 u₂) and g = 4 u₂ - q ∈ [-½, ½] exact in double; sin
///    and cos of (π/2) g ∈ [-π/4, π/4] by their Taylor series to x^9 and x^8 (truncation < 3e-8),
///    the quadrant q mod 4 swapping and negating them.
template <class Arch = xsimd::default_arch>
inline void normal_fill(std::uint64_t key, std::uint64_t first, float* out, std::size_t n) {
  using D = xsimd::batch<double, Arch>;
  using U = xsimd::batch<std::uint64_t, Arch>;
  using F = xsimd::batch<float, Arch>;
  constexpr std::size_t w = D::size, wf = F::size, half = normal_block / 2;
  static_assert(half % w == 0 && half % wf == 0, "normal_fill: SIMD width must divide 16");
  detail::for_normal_blocks(first, out, n, [key](std::uint64_t b, float* dst) {
    alignas(64) double fd[half], ed[half], gd[half], qd[half];
    const D magic(6755399441055744.0);  // 0x1.8p52: adding it rounds to an integer
    for (std::size_t l0 = 0; l0 < half; l0 += w) {  // exact reductions in double
      D u1, u2, e;
      detail::normal_uniforms<Arch>(key, b, l0, u1, u2);
      const D m = value_bits<D>::split_exponent(u1, e);  // u1 = 2^e m, m ∈ [√½, √2)
      (m - D(1.0)).store_aligned(fd + l0);               // exact (Sterbenz)
      e.store_aligned(ed + l0);
      const D t = D(4.0) * u2;
      const D tq = t + magic;
      (t - (tq - magic)).store_aligned(gd + l0);                                                   // g, exact
      const U quadrant = xsimd::bitwise_cast<U>(tq) & U(3);
      (xsimd::bitwise_cast<D>(xsimd::bitwise_cast<U>(magic) + quadrant) - magic).store_aligned(qd + l0);
    }
    alignas(64) float ff[half], ef[half], gf[half], qf[half];
    for (std::size_t l = 0; l < half; ++l) {
      ff[l] = static_cast<float>(fd[l]);
      ef[l] = static_cast<float>(ed[l]);
      gf[l] = static_cast<float>(gd[l]);
      qf[l] = static_cast<float>(qd[l]);
    }
    for (std::size_t l0 = 0; l0 < half; l0 += wf) {  // float
      using M = multi<F, 1>;  // (fused multiply-adds on every architecture)
      const F ln_u1 = log_reduced(M::load(ff + l0), M::load(ef + l0)).v[0];
      const F r = xsimd::sqrt(F(-2.0f) * ln_u1);
      const F x = F(1.57079632679489662f) * F::load_aligned(gf + l0), x2 = x * x;
      F sp = fused_multiply_add(x2, F(1.0f / 362880.0f), F(-1.0f / 5040.0f));
      sp = fused_multiply_add(sp, x2, F(1.0f / 120.0f));
      sp = fused_multiply_add(sp, x2, F(-1.0f / 6.0f));
      sp = fused_multiply_add(sp, x2, F(1.0f));
      const F sn = x * sp;
      F cp = fused_multiply_add(x2, F(1.0f / 40320.0f), F(-1.0f / 720.0f));
      cp = fused_multiply_add(cp, x2, F(1.0f / 24.0f));
      cp = fused_multiply_add(cp, x2, F(-0.5f));
      const F cs = fused_multiply_add(cp, x2, F(1.0f));
      const F q = F::load_aligned(qf + l0);
      const auto odd = (q == F(1.0f)) | (q == F(3.0f));
      const F a = xsimd::select(odd, sn, cs), c = xsimd::select(odd, cs, sn);  // cos, sin of (π/2) q + x
      const F cos_t = xsimd::select((q == F(1.0f)) | (q == F(2.0f)), -a, a);
      const F sin_t = xsimd::select(q >= F(2.0f), -c, c);
      (r * cos_t).store_unaligned(dst + l0);
      (r * sin_t).store_unaligned(dst + half + l0);
    }
  });
}

}  // namespace chempp::kernels
