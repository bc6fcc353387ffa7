// SPDX-License-Identifier: BSD-3-Clause
// bench_emulator: forward throughput of the CHEMPY emulator (6 -> 100 -> 40 -> 9, tanh; the
// paper's weights when ../shared is present, else random weights of the same shape) at batch
// 1, 1e3, 1e5, 1e6 for the xsimd kernel (float, double; the arch the compiler targets) and the
// Eigen path (`mlp::predict`, in chunks of 8192 samples so 1e6 fits in memory), plus the
// scalar reference at small batches.
//
// Baseline: PyTorch 1.13 CPU, 2 threads, on the project's 2-core machine: ~15 us for one
// sample and ~2.4 us/sample at batch 1e6 (issue 4). Counters (computed from CPU time, like
// items_per_second): `us_per_sample` (microseconds per sample; Google Benchmark prints it with
// an "s" suffix because it is an inverted rate) and `x_vs_pytorch` = baseline us/sample / ours
// (printed with "/s"; batch 1 against the 15 us figure, larger batches against the 2.4 us/sample
// figure, the only large-batch baseline we have). All kernels run on one thread. The SIMD cases add
// the roofline columns (roofline.hpp): GFLOP_s of the network's multiply-adds and pct_peak against
// the FMA probe, run again right after each benchmark, in the kernel's precision, and the
// attainable ceiling (ceiling_pct_peak, pct_of_ceiling: the multiply-adds plus the 140 tanh per
// sample at the throughputs probed on this core).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "chempp/nn/simd_forward.hpp"
#include "chempp/nn/weights_io.hpp"
#include "emulator_weights.hpp"
#include "roofline.hpp"

namespace nn = chempp::nn;

namespace {


const nn::mlp<double>& emulator() { return chempp::bench::paper_emulator(); }

template <class T>
std::vector<T> inputs(std::size_t n) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> nd(0.0, 1.0);
  const double mean[6] = {-2.3, -2.89, -0.3, 0.55, 0.5, 7.4};
  const double sd[6] = {0.3, 0.3, 0.3, 0.1, 0.1, 3.7};
  std::vector<T> x(n * 6);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t f = 0; f < 6; ++f) x[j * 6 + f] = static_cast<T>(mean[f] + sd[f] * nd(rng));
  return x;
}

void set_counters(benchmark::State& state, std::size_t n) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  const double baseline = n == 1 ? 15.0 : 2.4;
  state.counters["us_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations() * n) * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["x_vs_pytorch"] = benchmark::Counter(
      static_cast<double>(state.iterations() * n) * baseline * 1e-6, benchmark::Counter::kIsRate);
}

template <class T>
void BM_simd(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nn::simd_mlp<T> kernel(emulator().cast<T>());
  const auto x = inputs<T>(n);
  std::vector<T> y(n * 9);
  for (auto _ : state) {
    kernel(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(nn::simd_mlp<T>::arch_name()) + ", " + chempp::bench::paper_emulator_source());
  set_counters(state, n);
  chempp::bench::roofline<T, chempp::kernels::tanh_fn>(state, chempp::bench::network_work(kernel),  // tanh: the paper's emulator
                                                       double(n) * double(state.iterations()));
}

template <class T>
void BM_eigen(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nn::mlp<T> net = emulator().cast<T>();
  const auto xv = inputs<T>(n);
  const Eigen::Map<const nn::matrix<T>> x(xv.data(), 6, static_cast<Eigen::Index>(n));
  nn::matrix<T> y(9, static_cast<Eigen::Index>(n));
  const Eigen::Index chunk = 8192;
  for (auto _ : state) {
    for (Eigen::Index s = 0; s < x.cols(); s += chunk) {
      const Eigen::Index len = std::min(chunk, x.cols() - s);
      y.middleCols(s, len) = net.predict(x.middleCols(s, len));
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

template <class T>
void BM_reference(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nn::mlp<T> net = emulator().cast<T>();
  const auto x = inputs<T>(n);
  std::vector<T> y(n * 9);
  for (auto _ : state) {
    nn::reference_forward(net, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(state, n);
}

}  // namespace

BENCHMARK(BM_simd<float>)->Arg(1)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_simd<double>)->Arg(1)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_eigen<float>)->Arg(1)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_eigen<double>)->Arg(1)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMicrosecond);
BENCHMARK(chempp::bench::BM_fma_probe<double>)->Iterations(1);
BENCHMARK(chempp::bench::BM_fma_probe<float>)->Iterations(1);
BENCHMARK(BM_reference<double>)->Arg(1)->Arg(1000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
