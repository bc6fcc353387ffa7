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
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "chempp/core/compat_xsimd.hpp"
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
template <class T>
void roofline(benchmark::State& state, double flop, unsigned threads = 1) {
  const double peak = measure_peak_gflops<T>() * threads;
  state.counters["GFLOP_s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsRate);
  state.counters["pct_peak"] = benchmark::Counter(100.0 * flop * 1e-9 / peak, benchmark::Counter::kIsRate);
  state.counters["peak_GFLOP_s"] = peak;
}

/// A benchmark that reports the probe itself (precision T, one thread).
template <class T>
void BM_fma_probe(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(peak_gflops<T>());
  state.counters["peak_GFLOP_s"] = peak_gflops<T>();
  state.SetLabel(xsimd::default_arch::name());
}

}  // namespace chempp::bench
