// SPDX-License-Identifier: BSD-3-Clause
// bench_cuda (issue 7): the GPU back end against the CPU SIMD path on the same machine.
//
//   * emulator: 1e6 forward evaluations of the paper's emulator shape (6-100-40-9, tanh, float);
//     baseline `chempp::nn::simd_mlp<float>` on one core;
//   * posterior: N stars × 1000 samples θ ~ q(θ | x_star) from the paper's MAF shape (sbi MAF
//     8/4, D = 6, C = 8, float on the GPU) + Gaussian fits of the first 2 dimensions; baseline
//     `chempp::flow::sample_many` (xsimd, double and float, one thread) + `inference::fit_gaussian`.
//     The target: 1e4 stars × 1000 samples in <= 20 ms on an H100.
// GPU times come from CUDA events (manual time). Without a GPU the GPU benchmarks report an error
// saying so and the CPU baselines still run. A summary with the GPU/CPU ratios is printed at the
// end. Weights are random (timing does not depend on them).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "chempp/cuda/convert.hpp"
#include "chempp/flow/sampler.hpp"
#include "chempp/inference/gaussian_fit.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "bench_cuda_gpu.hpp"

namespace cu = chempp::cuda;
namespace fl = chempp::flow;
namespace nn = chempp::nn;

namespace {

constexpr std::size_t n_emulator = 1000000;
constexpr std::size_t samples_per_star = 1000;

// Seconds per item of each benchmark family, for the ratio summary.
std::map<std::string, double>& per_item() {
  static std::map<std::string, double> m;
  return m;
}

nn::mlp<float> emulator_net() {
  nn::mlp<float> net({6, 100, 40, 9}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
  net.initialize(1);
  return net;
}

std::vector<float> emulator_inputs(std::size_t n) {
  std::mt19937_64 rng(2);
  std::normal_distribution<float> nd;
  std::vector<float> x(n * 6);
  for (auto& v : x) v = nd(rng);
  return x;
}

fl::sbi_maf paper_flow() {
  fl::maf_config cfg;
  cfg.features = 6;
  cfg.context = 8;
  cfg.permutation = fl::permutation_kind::global_first;
  cfg.n_global = 2;
  cfg.seed = 3;
  return fl::sbi_maf(cfg);
}

Eigen::MatrixXd star_observations(std::size_t n) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), 8);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  return x;
}

bool need_gpu(benchmark::State& state) {
  std::string why;
  if (cu::bench::gpu_available(why)) return true;
  state.SkipWithError(("no CUDA device: " + why).c_str());
  return false;
}

void BM_emulator_cpu_simd(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const nn::simd_mlp<float> net(emulator_net());
  const auto x = emulator_inputs(n);
  std::vector<float> y(n * 9);
  for (auto _ : state) {
    net(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
  state.SetLabel(std::string("baseline: simd_mlp<float> (") + nn::simd_mlp<float>::arch_name() + "), 1 thread");
}

void BM_emulator_gpu(benchmark::State& state) {
  if (!need_gpu(state)) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  cu::bench::emulator_runner gpu(cu::to_dense_network_weights(emulator_net()), emulator_inputs(n));
  (void)gpu.run();  // warm-up
  double total = 0.0;
  for (auto _ : state) {
    const double s = gpu.run();
    total += s;
    state.SetIterationTime(s);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
  per_item()["emulator_gpu"] = total / double(state.iterations()) / double(n);
}

template <class T>
void BM_posterior_cpu_simd(benchmark::State& state) {
  const auto n_stars = static_cast<std::size_t>(state.range(0));
  const auto flow = paper_flow();
  const Eigen::MatrixXd x = star_observations(n_stars);
  Eigen::MatrixXd out(static_cast<Eigen::Index>(n_stars * samples_per_star), 6);
  std::uint64_t seed = 5;
  for (auto _ : state) {
    fl::sample_many<xsimd::default_arch, T>(flow, x, static_cast<Eigen::Index>(samples_per_star), seed++, out, 1);
    for (std::size_t s = 0; s < n_stars; ++s) {
      const auto g = chempp::inference::fit_gaussian(
          out.block(static_cast<Eigen::Index>(s * samples_per_star), 0, static_cast<Eigen::Index>(samples_per_star), 2), 1);
      benchmark::DoNotOptimize(g.cov.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n_stars));
  state.counters["samples_per_star"] = double(samples_per_star);
  state.SetLabel(std::string("items = stars; baseline: maf_sampler (xsimd, ") + (sizeof(T) == 4 ? "float" : "double") +
                 "), 1 thread, + fit_gaussian");
}

void BM_posterior_gpu(benchmark::State& state) {
  if (!need_gpu(state)) return;
  const auto n_stars = static_cast<std::size_t>(state.range(0));
  const Eigen::MatrixXd x = star_observations(n_stars);
  std::vector<float> xf(static_cast<std::size_t>(x.size()));
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < 8; ++j) xf[static_cast<std::size_t>(i * 8 + j)] = static_cast<float>(x(i, j));
  cu::bench::posterior_runner gpu(cu::to_maf_weights(paper_flow()), xf, samples_per_star, 2);
  (void)gpu.run(1);  // warm-up
  std::uint64_t seed = 5;
  double t_sample = 0.0, t_fit = 0.0;
  for (auto _ : state) {
    const auto t = gpu.run(seed++);
    t_sample += t[0];
    t_fit += t[1];
    state.SetIterationTime(t[0] + t[1]);
  }
  const double it = double(state.iterations());
  state.counters["sample_ms"] = 1e3 * t_sample / it;
  state.counters["fit_ms"] = 1e3 * t_fit / it;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n_stars));
  state.SetLabel("items = stars; float, Philox base draws, 1000 samples/star, fits of 2 dims");
  per_item()["posterior_gpu"] = (t_sample + t_fit) / it / double(n_stars);
}

// Wall time of one call of f (the summary re-times the CPU baselines once).
template <class F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BENCHMARK(BM_emulator_cpu_simd)->Arg(static_cast<std::int64_t>(n_emulator))->Unit(benchmark::kMillisecond);
BENCHMARK(BM_emulator_gpu)->Arg(static_cast<std::int64_t>(n_emulator))->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_posterior_cpu_simd, double)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_posterior_cpu_simd, float)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_posterior_gpu)->Arg(100)->Arg(1000)->Arg(10000)->UseManualTime()->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  std::string why, gpu = "none";
  const bool have_gpu = cu::bench::gpu_available(why);
  gpu = have_gpu ? cu::bench::gpu_description() : "none (" + why + ")";
  benchmark::AddCustomContext("gpu", gpu);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  // Summary: GPU/CPU ratios (CPU side re-timed once, single thread, on this loaded machine).
  std::printf("\nGPU: %s\n", gpu.c_str());
  if (!have_gpu) {
    std::printf("no GPU: ratios not computed (CPU baselines above)\n");
    return 0;
  }
  if (per_item().count("emulator_gpu") != 0) {
    const nn::simd_mlp<float> net(emulator_net());
    const auto x = emulator_inputs(n_emulator);
    std::vector<float> y(n_emulator * 9);
    const double cpu = seconds_of([&] { net(x.data(), y.data(), n_emulator); }) / double(n_emulator);
    const double g = per_item()["emulator_gpu"];
    std::printf("emulator, 1e6 evaluations: CPU SIMD %.1f ms, GPU %.3f ms, speed-up %.0fx\n", 1e3 * cpu * 1e6,
                1e3 * g * 1e6, cpu / g);
  }
  if (per_item().count("posterior_gpu") != 0) {
    const auto flow = paper_flow();
    const std::size_t ns = 50;
    const Eigen::MatrixXd x = star_observations(ns);
    Eigen::MatrixXd out(static_cast<Eigen::Index>(ns * samples_per_star), 6);
    const double cpu = seconds_of([&] {
                         fl::sample_many<xsimd::default_arch, float>(flow, x, static_cast<Eigen::Index>(samples_per_star),
                                                                     9, out, 1);
                         for (std::size_t s = 0; s < ns; ++s)
                           (void)chempp::inference::fit_gaussian(
                               out.block(static_cast<Eigen::Index>(s * samples_per_star), 0,
                                         static_cast<Eigen::Index>(samples_per_star), 2), 1);
                       }) / double(ns);
    const double g = per_item()["posterior_gpu"];
    std::printf("posterior, 1e4 stars x 1000 samples + fits: CPU SIMD float (1 thread, extrapolated from %zu stars) %.1f s, "
                "GPU %.2f ms (target <= 20 ms on an H100), speed-up %.0fx\n",
                ns, cpu * 1e4, 1e3 * g * 1e4, cpu / g);
  }
  return 0;
}
