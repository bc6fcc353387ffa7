// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark of the one-zone GCE model (chempp::gce::chempy_model).
// Baseline: the original Python CHEMPY takes ≈ 140 ms per call on this machine (yield tables are
// reloaded on every call there; docs/chempy-model.md §6); the ratio is printed as a counter.
// Benchmarks:
//   BM_chempy_single/T: one evaluation at the fiducial θ for birth time T (tables loaded once).
//   BM_chempy_batch/threads: 1e5 draws from the paper's priors (Gaussian priors, T ~ U[1, 13.8]);
//     runs/s reported (use --benchmark_filter=batch; it takes a few seconds per thread count).
//   BM_chempy_scaling/steps: time against the number of time steps (fixed grid, T = 8 Gyr).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chempp/gce.hpp"
#include "chempp/yields/shipped.hpp"

namespace {
namespace gce = chempp::gce;
constexpr double python_seconds_per_call = 0.140;  // original CHEMPY, measured by the project

const gce::chempy_model& model() {
  static const gce::chempy_model m(chempp::yields::shipped_yield_set("tng"));
  return m;
}

std::vector<std::array<double, 6>> prior_draws(std::size_t n) {
  std::mt19937_64 rng(20250302);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> ut(1.0, 13.8);
  std::vector<std::array<double, 6>> th(n);
  for (auto& t : th) {
    t = {-2.3 + 0.3 * nd(rng), -2.89 + 0.3 * nd(rng), -0.3 + 0.3 * nd(rng),
         0.55 + 0.1 * nd(rng), std::clamp(0.5 + 0.1 * nd(rng), 0.0, 1.0), ut(rng)};
  }
  return th;
}

void BM_chempy_single(benchmark::State& state) {
  const auto& m = model();
  auto ws = m.make_workspace();
  const std::array<double, 6> th{-2.3, -2.89, -0.3, 0.55, 0.5, static_cast<double>(state.range(0))};
  for (auto _ : state) {
    auto r = m(th, ws);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_chempy_single)->Arg(1)->Arg(8)->Arg(13)->Unit(benchmark::kMicrosecond);

void BM_chempy_prior_mix(benchmark::State& state) {
  const auto& m = model();
  auto ws = m.make_workspace();
  const auto th = prior_draws(1000);
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = m(th[i++ % th.size()], ws);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_chempy_prior_mix)->Unit(benchmark::kMicrosecond);

void BM_chempy_batch(benchmark::State& state) {
  const auto& m = model();
  const auto th = prior_draws(100000);
  const auto threads = static_cast<unsigned>(state.range(0));
  std::size_t runs = 0;
  for (auto _ : state) {
    auto r = gce::simulate_batch(m, th, threads);
    benchmark::DoNotOptimize(r.data());
    runs += r.size();
  }
  state.counters["runs_per_s"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_chempy_batch)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_chempy_scaling(benchmark::State& state) {
  using fixed_model = gce::one_zone<gce::chabrier_tng_imf, gce::portinari_lifetimes, gce::maoz_dtd,
                                    gce::gamma_sfh, gce::fixed_time_grid>;
  static const auto set = chempp::yields::shipped_yield_set("tng");
  const auto steps = static_cast<std::size_t>(state.range(0));
  const fixed_model m(set, gce::maoz_dtd(0.04), gce::fixed_time_grid{steps, 1.0});
  auto ws = m.make_workspace();
  const std::array<double, 6> th{-2.3, -2.89, -0.3, 0.55, 0.5, 8.0};
  for (auto _ : state) {
    auto r = m(th, ws);
    benchmark::DoNotOptimize(r);
  }
  state.SetComplexityN(static_cast<benchmark::IterationCount>(steps));
}
BENCHMARK(BM_chempy_scaling)->RangeMultiplier(2)->Range(8, 128)->Unit(benchmark::kMicrosecond)->Complexity();

// Prints, after each result, the per-call time and its ratio to the Python baseline.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      const double cpu_s = r.cpu_accumulated_time / static_cast<double>(r.iterations);
      const double real_s = r.real_accumulated_time / static_cast<double>(r.iterations);
      const auto it = r.counters.find("runs_per_s");
      if (it != r.counters.end()) {
        const double per_call = 1.0 / it->second.value;
        GetOutputStream() << "  -> " << r.benchmark_name() << ": " << it->second.value
                          << " runs/s (wall), " << per_call * 1e6 << " us/run; Python CHEMPY "
                          << "(140 ms/call, 1 core) is " << python_seconds_per_call / per_call
                          << "x slower\n";
      } else if (r.benchmark_name().find("scaling") == std::string::npos) {
        GetOutputStream() << "  -> " << r.benchmark_name() << ": " << cpu_s * 1e6
                          << " us CPU/call (" << real_s * 1e6 << " us wall); ratio to Python "
                          << "CHEMPY (140 ms/call): " << python_seconds_per_call / cpu_s
                          << "x faster\n";
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  // the ratio lines go with the console format only: --benchmark_format=json|csv gets Google
  // Benchmark's own reporter (machine-readable output, the counters hold the same figures)
  bool console = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--benchmark_format=", 0) == 0) console = a == "--benchmark_format=console";
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (console) {
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
