// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Roofline columns for the benchmarks: the machine's measured peak (an FMA probe run inside the
// benchmark program) and the counters GFLOP_s and pct_peak next to each time.
//
// The probe: 16 independent accumulators of xsimd::batch<T> (the widest instruction set the
// build targets), each updated by one fused multiply-add per iteration (kernels::fused_multiply_add:
// xsimd 8.1's fma is a separate multiply and add on AVX-512 under -ffp-contract=off, which made
// an earlier probe — and the kernels — run mul + add pairs, reporting half the true peak). 16 chains cover the FMA
// latency times the FMA ports of current x86 cores (4 cycles × 2 ports = 8 in flight), so the
// loop is throughput-bound; its body is 16 vfmadd instructions on registers and a loop counter
// (checked with `objdump -d bench_flow | grep -A40 fma_probe_loop`, docs/kernels.md). Peak per
// thread = 2 FLOP × lanes × FMAs / second; with t threads on t cores the peak is t times that.
// It runs right after each benchmark (`roofline`), so each pct_peak compares a time with the
// machine's speed at that moment.
//
// FLOP counts are the useful multiply-adds of each computation (2 FLOP each; masked zeros of the
// MADEs are not counted, transcendental functions and divisions are not counted), from
// kernels::maf_multiply_adds / mlp_multiply_adds, so "pct_peak" is the share of the machine's
// FMA throughput spent on the network arithmetic itself.
//
// The attainable ceiling (`roofline` with an `element_work`): a network evaluation must also
// evaluate its activations, scales, reciprocals, logs and normal draws, which the FLOP count
// leaves out. Probes measure, right after each benchmark, the time per value of each of those
// function policies on this core (independent values from L1, 4 registers per step as in the
// kernels: `function_ns`, `normal_ns`). The ceiling time of one item is its multiply-adds at the
// probe's peak plus each function count times its probe time, one after the other:
//   ceiling_pct_peak = useful FLOP of an item at that time / peak (the best pct_peak the
//                      computation allows if its functions and its multiply-adds never overlap);
//   pct_of_ceiling   = measured FLOP rate / ceiling FLOP rate.
// On a core whose vector ports all share the FMA units (Intel's 512-bit ports 0 and 5) the sum is
// close to a hard bound; a core with separate add/logic pipes (AMD Zen 4/5) can overlap the two and
// exceed it (pct_of_ceiling > 100). Loads, stores, sums and the sampler's bookkeeping are not counted.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/kernels/functions.hpp"
#include "chempp/kernels/simd.hpp"

namespace chempp::bench {

template <class T>
__attribute__((noinline)) void fma_probe_loop(xsimd::batch<T>* acc, xsimd::batch<T> a, xsimd::batch<T> b,
                                              std::int64_t iters) {
  using B = xsimd::batch<T>;
  B r0 = acc[0], r1 = acc[1], r2 = acc[2], r3 = acc[3], r4 = acc[4], r5 = acc[5], r6 = acc[6], r7 = acc[7];
  B r8 = acc[8], r9 = acc[9], r10 = acc[10], r11 = acc[11], r12 = acc[12], r13 = acc[13], r14 = acc[14], r15 = acc[15];
  for (std::int64_t i = 0; i < iters; ++i) {
    r0 = kernels::fused_multiply_add(r0, a, b);
    r1 = kernels::fused_multiply_add(r1, a, b);
    r2 = kernels::fused_multiply_add(r2, a, b);
    r3 = kernels::fused_multiply_add(r3, a, b);
    r4 = kernels::fused_multiply_add(r4, a, b);
    r5 = kernels::fused_multiply_add(r5, a, b);
    r6 = kernels::fused_multiply_add(r6, a, b);
    r7 = kernels::fused_multiply_add(r7, a, b);
    r8 = kernels::fused_multiply_add(r8, a, b);
    r9 = kernels::fused_multiply_add(r9, a, b);
    r10 = kernels::fused_multiply_add(r10, a, b);
    r11 = kernels::fused_multiply_add(r11, a, b);
    r12 = kernels::fused_multiply_add(r12, a, b);
    r13 = kernels::fused_multiply_add(r13, a, b);
    r14 = kernels::fused_multiply_add(r14, a, b);
    r15 = kernels::fused_multiply_add(r15, a, b);
  }
  acc[0] = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7 + r8 + r9 + r10 + r11 + r12 + r13 + r14 + r15;
}

/// Peak FMA throughput of one core in precision T, GFLOP/s, measured now: the best of 5 runs of
/// the probe loop (2-5 ms each).
template <class T>
double measure_peak_gflops() {
  using B = xsimd::batch<T>;
  alignas(64) B acc[16];
  for (auto& r : acc) r = B(T(1));
  const std::int64_t iters = 1'000'000;
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    fma_probe_loop<T>(acc, B(T(0.999999)), B(T(1e-7)), iters);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(acc);
    const double gf = 2.0 * 16.0 * double(B::size) * double(iters) / s * 1e-9;
    best = gf > best ? gf : best;
  }
  return best;
}
/// The probe's peak measured once per program (the first call), for the probe's own benchmark.
template <class T>
double peak_gflops() {
  static const double peak = measure_peak_gflops<T>();
  return peak;
}
/// Adds GFLOP_s (useful FLOP over the real time) and pct_peak (against `threads` × the probe's
/// peak in precision T) to `state`; `flop` is the work of all iterations. The probe runs again
/// right after each benchmark (call this after the timed loop): on a virtual machine whose speed
/// drifts by tens of percent over minutes, a peak measured once at start-up made pct_peak swing
/// with the drift (2026-12-02: two runs of the same binary printed 201 and 224 GFLOP/s at start-up).
/// Returns the probe's peak of one core (GFLOP/s).
template <class T>
double roofline(benchmark::State& state, double flop, unsigned threads = 1) {
  const double peak1 = measure_peak_gflops<T>(), peak = peak1 * threads;
  state.counters["GFLOP_s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsRate);
  state.counters["pct_peak"] = benchmark::Counter(100.0 * flop * 1e-9 / peak, benchmark::Counter::kIsRate);
  state.counters["peak_GFLOP_s"] = peak;
  return peak1;
}

/// What one item (a sample, a pair, a simulation) evaluates besides arithmetic counted as FLOP.
struct element_work {
  double multiply_adds = 0.0;  ///< useful multiply-adds (the FLOP count / 2)
  double activations = 0.0;    ///< hidden activations (policy Act)
  double scales = 0.0;         ///< affine scales of a MAF (policy Scale)
  double reciprocals = 0.0;    ///< divisions (the MAF inverse divides by each scale)
  double logs = 0.0;           ///< logarithms (the MAF log-determinant)
  double normals = 0.0;        ///< standard-normal draws (kernels::normal_fill)
};
/// The work of one sample through a dense network (nn::simd_mlp: its multiply-adds and
/// activations).
template <class Net>
element_work network_work(const Net& net) {
  element_work w;
  w.multiply_adds = net.multiply_adds();
  w.activations = net.activations_per_sample();
  return w;
}

namespace detail {
/// 1 / x, the division the MAF inverse does per output.
struct reciprocal_fn {
  template <class V>
  static V apply(const V& x) {
    return V(1) / x;
  }
};
template <class F, class T>
__attribute__((noinline)) void function_probe_loop(const T* in, T* out, std::size_t n, int reps) {
  using M = kernels::multi<xsimd::batch<T>, 4>;
  for (int r = 0; r < reps; ++r)
    for (std::size_t i = 0; i + M::lanes <= n; i += M::lanes) F::apply(M::load(in + i)).store(out + i);
}
}  // namespace detail

/// Nanoseconds per value of the function policy F in precision T on this core now: 1024
/// independent values evenly spaced in [lo, hi] (L1-resident), read and written in groups of 4
/// registers as the kernels do; the best of 5 runs of ~1.5 ms.
template <class F, class T>
double function_ns(double lo, double hi) {
  constexpr std::size_t n = 1024;
  alignas(64) T in[n], out[n];
  for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<T>(lo + (hi - lo) * (double(i) + 0.5) / double(n));
  const int reps = 4000;
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    detail::function_probe_loop<F, T>(in, out, n, reps);
    benchmark::DoNotOptimize(out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s / (double(n) * reps) * 1e9);
  }
  return best;
}
/// Nanoseconds per standard-normal draw of kernels::normal_fill in precision T (2048 draws per call).
template <class T>
double normal_ns() {
  constexpr std::size_t n = 2048;
  alignas(64) T out[n];
  const int reps = 500;
  double best = 1e300;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) kernels::normal_fill(0x5EEDULL, std::uint64_t(r) * n, out, n);
    benchmark::DoNotOptimize(out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s / (double(n) * reps) * 1e9);
  }
  return best;
}

/// `roofline` plus the attainable ceiling of the computation (header comment): `work` is what one
/// item evaluates, `items` how many items all iterations evaluated (so flop = 2 multiply_adds
/// items). Act and Scale are the network's activation and scale policies (kernels/functions.hpp).
/// Adds ceiling_pct_peak, pct_of_ceiling and the probes' ns per value (ns_act, ns_scale, ns_recip,
/// ns_log, ns_normal, for the functions the item uses).
template <class T, class Act, class Scale = kernels::softplus_scale>
void roofline(benchmark::State& state, const element_work& work, double items, unsigned threads = 1) {
  const double flop = 2.0 * work.multiply_adds * items;
  const double peak1 = roofline<T>(state, flop, threads);
  double ns = 2.0 * work.multiply_adds / peak1;  // ns per item on one core (peak in GFLOP/s = FLOP/ns)
  const auto add = [&](double count, const char* name, auto probe) {
    if (count <= 0.0) return;
    const double t = probe();
    state.counters[name] = t;
    ns += count * t;
  };
  add(work.activations, "ns_act", [] { return function_ns<Act, T>(-3.0, 3.0); });
  add(work.scales, "ns_scale", [] { return function_ns<Scale, T>(-3.0, 3.0); });
  add(work.reciprocals, "ns_recip", [] { return function_ns<detail::reciprocal_fn, T>(0.5, 3.0); });
  add(work.logs, "ns_log", [] { return function_ns<kernels::log_fn, T>(0.5, 3.0); });
  add(work.normals, "ns_normal", [] { return normal_ns<T>(); });
  const double ceiling_gflops = 2.0 * work.multiply_adds / ns * threads;  // FLOP/ns = GFLOP/s
  state.counters["ceiling_pct_peak"] = 100.0 * ceiling_gflops / (peak1 * threads);
  state.counters["pct_of_ceiling"] = benchmark::Counter(100.0 * flop * 1e-9 / ceiling_gflops, benchmark::Counter::kIsRate);
}

/// A benchmark that reports the probe itself (precision T, one thread).
template <class T>
void BM_fma_probe(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(peak_gflops<T>());
  state.counters["peak_GFLOP_s"] = peak_gflops<T>();
  state.SetLabel(xsimd::default_arch::name());
}

}  // namespace chempp::bench
