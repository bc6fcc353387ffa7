// SPDX-License-Identifier: BSD-3-Clause
// bench_population: the population engine's hot loop (inference/population.hpp): for every star
// and Λ node, importance draws of the star's local parameters from its conditional proposal, the
// emulator on those draws (nn::simd_mlp<float>, 6 -> 100 -> 40 -> 9, tanh; the paper's weights when
// ../shared is present, else random weights of the same shape) and the star's Gaussian likelihood.
// One case = one `population_engine::infer` on N synthetic stars (emulator stars at the paper
// prior's draws, σ = 0.05 dex, proposals centred on the truth), 1 and 2 threads.
//
// Counters: `simulations_per_s` (emulator evaluations, as counted by the engine), `GFLOP_s` of the
// emulator's multiply-adds and `pct_peak` against the FMA probe in float (roofline.hpp) times the
// threads. The engine's other work (proposal draws, the prior map, likelihoods, sums) counts as
// time but not as FLOP, so pct_peak is the share of the machine spent on the network arithmetic.
// ceiling_pct_peak and pct_of_ceiling (roofline.hpp) count the emulator's multiply-adds and tanh
// only: the engine's other work makes the true ceiling lower still.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "chempp/inference.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "emulator_weights.hpp"
#include "roofline.hpp"

namespace nn = chempp::nn;
namespace inf = chempp::inference;

namespace {

using sim_type = inf::emulator_simulator<nn::simd_mlp<float>>;

struct problem {
  sim_type sim{nn::simd_mlp<float>(chempp::bench::paper_emulator()), {0, 1, 2, 3, 4, 5, 6, 7}};
  inf::product_prior prior6 = inf::paper_prior();
  std::vector<inf::star_data> stars;
  std::vector<inf::star_proposal> proposals;
  explicit problem(std::size_t n) {
    std::mt19937_64 rng(17);
    std::normal_distribution<double> nd;
    const auto global = prior6.marginal({0, 1}), local = prior6.marginal({2, 3, 4, 5});
    const inf::unbounded_map map(local);
    const Eigen::Vector2d lambda(-2.3, -2.89);
    for (std::size_t i = 0; i < n; ++i) {
      double th[6] = {lambda(0), lambda(1), 0.0, 0.0, 0.0, 0.0};
      Eigen::VectorXd u(4);
      for (int j = 0; j < 4; ++j) {
        u(j) = 0.3 * nd(rng);
        th[2 + j] = map.to_theta(static_cast<std::size_t>(j), u(j));
      }
      double x[8];
      sim.simulate(th, 1, x);
      inf::star_data s;
      s.x.resize(8);
      s.sigma = Eigen::VectorXd::Constant(8, 0.05);
      s.measured = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(8, true);
      for (int j = 0; j < 8; ++j) s.x(j) = x[j] + 0.05 * nd(rng);
      stars.push_back(s);
      inf::star_proposal p;
      p.mean.resize(6);
      p.mean << lambda, u;
      p.cov = Eigen::MatrixXd::Identity(6, 6) * 0.01;
      p.cov(0, 0) = p.cov(1, 1) = 0.04;
      proposals.push_back(p);
    }
  }
};

void BM_population_hot_loop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto threads = static_cast<unsigned>(state.range(1));
  static const problem pb(400);
  const inf::population_engine<sim_type> engine(pb.sim, pb.prior6.marginal({0, 1}), pb.prior6.marginal({2, 3, 4, 5}));
  inf::population_options o;
  o.threads = threads;
  o.seed = 3;
  double sims = 0.0;
  for (auto _ : state) {
    const auto post = engine.infer(std::span(pb.stars).first(n), std::span(pb.proposals).first(n), o);
    sims += double(post.simulations);
    benchmark::DoNotOptimize(post.mean.data());
  }
  state.counters["stars"] = double(n);
  state.SetLabel(chempp::bench::paper_emulator_source());
  state.counters["simulations_per_s"] = benchmark::Counter(sims, benchmark::Counter::kIsRate);
  // the emulator's part of the hot loop only (header comment)
  chempp::bench::roofline<float, chempp::kernels::tanh_fn>(state, chempp::bench::network_work(pb.sim.network()), sims, threads);
}
BENCHMARK(BM_population_hot_loop)
    ->ArgNames({"stars", "threads"})
    ->ArgsProduct({{100, 400}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(chempp::bench::BM_fma_probe<float>)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
