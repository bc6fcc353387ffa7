// SPDX-License-Identifier: BSD-3-Clause
// Conditional MAF benchmarks on the issue-5 task (include/chempp/flow/benchmark_task.hpp):
// θ ∈ R^6, x ∈ R^8, 1e5 pairs, MAF with hidden 8, 4 transforms, 2 tanh blocks.
// Baseline: nflows 0.14 on PyTorch 1.13, 2 threads, same machine (issue 5):
//   1.69 s per training epoch (batch 128), 7.1 ms for 1000 samples of one x,
//   4.8 s for 1000 x × 1000 samples, 1.2 M log_prob pairs/s.
// Each case reports `speedup_vs_nflows` = baseline time / our time (or our rate / baseline rate).
// The float cases on one thread also report `vs_nflows_issue12`: the same ratio against issue 12's
// nflows figures (CPU time per thread, the issue's machine): training epoch 2.03 s (H 8) and
// 4.50 s (H 50), 1000 × 1000 samples 6.31 s (H 8) and 58.6 s (H 50), log_prob 0.89 M pairs/s (H 8).
// The float sampling, float log_prob and training cases also run at hidden widths 32 and 50 (the
// last argument; the baselines above are for width 8, so only those cases report the speed-up).
// Roofline columns (roofline.hpp): GFLOP_s of useful multiply-adds and pct_peak against the FMA
// probe's peak, measured again right after each benchmark, times the thread count, in the
// kernel's precision (BM_fma_probe prints the probe once per program).
// The sampling and log_prob cases add the attainable ceiling (roofline.hpp): ceiling_pct_peak,
// the best pct_peak their multiply-adds, tanh, scales, divisions, logs and normal draws allow at
// the throughputs the probes measure on this core, and pct_of_ceiling.
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include "chempp/flow.hpp"
#include "roofline.hpp"

namespace {

using chempp::flow::benchmark_task;
using chempp::flow::sbi_maf;

constexpr double kBaseEpochS = 1.69, kBaseSample1kS = 7.1e-3, kBaseSample1Mx1kS = 4.8, kBaseLogProbRate = 1.2e6;

// Issue 12's nflows time of one case at hidden width h (seconds; 0 where the issue gives none).
enum class issue12_case { epoch, sample_1000x1000, log_prob_1e5 };
double issue12_nflows_s(issue12_case c, long h) {
  switch (c) {
    case issue12_case::epoch: return h == 8 ? 2.03 : h == 50 ? 4.50 : 0.0;
    case issue12_case::sample_1000x1000: return h == 8 ? 6.31 : h == 50 ? 58.6 : 0.0;
    case issue12_case::log_prob_1e5: return h == 8 ? 1e5 / 0.89e6 : 0.0;
  }
  return 0.0;
}
// Adds `vs_nflows_issue12` (issue-12 nflows time / our time per iteration) where the issue has a figure.
void report_vs_issue12(benchmark::State& state, issue12_case c, long h) {
  const double base = issue12_nflows_s(c, h);
  if (base > 0.0)
    state.counters["vs_nflows_issue12"] = benchmark::Counter(base * double(state.iterations()), benchmark::Counter::kIsRate);
}

struct task_data {
  Eigen::MatrixXd theta, x;
  task_data() { benchmark_task::simulate(100000, 20240501, theta, x); }
};
const task_data& data() {
  static const task_data d;
  return d;
}

sbi_maf make_flow(Eigen::Index hidden = 8) {
  chempp::flow::maf_config cfg;
  cfg.features = 6;
  cfg.context = 8;
  cfg.hidden = hidden;
  cfg.transforms = 4;
  cfg.seed = 1;
  sbi_maf flow(cfg);
  flow.fit_standardization(data().theta, data().x);
  return flow;
}

// What one sample (inverse) or pair (forward) evaluates in precision T, for the roofline's
// ceiling (roofline.hpp): per transform H·blocks tanh, the D scales (the float forward takes an
// output that reads no hidden unit from its bias, once per call: not counted), D divisions
// (inverse) or the log-determinant (float: one log; double: D), and D normal draws per sample.
template <class T>
chempp::bench::element_work maf_work(const sbi_maf& flow, bool inverse) {
  const auto pk = flow.packed<double>();
  const auto& L = pk.layout;
  chempp::bench::element_work w;
  w.multiply_adds = chempp::kernels::maf_multiply_adds(pk.layout, pk.ints.data(), inverse);
  const double nt = L.transforms;
  w.activations = nt * L.h * L.blocks;
  constexpr bool single = std::is_same_v<T, float>;
  double scaled = 0.0;
  for (int i = 0; i < L.d; ++i)
    scaled += (!inverse && single && chempp::kernels::dynamic_shape::n_active(L, pk.ints.data(), i) == 0) ? 0.0 : 1.0;
  w.scales = nt * scaled;
  if (inverse) {
    w.reciprocals = nt * L.d;
    w.normals = L.d;
  } else {
    w.logs = single ? nt : nt * L.d;
  }
  return w;
}
template <class T>
void flow_roofline(benchmark::State& state, const sbi_maf& flow, bool inverse, double items, unsigned threads = 1) {
  chempp::bench::roofline<T, sbi_maf::activation_type, sbi_maf::scale_type>(state, maf_work<T>(flow, inverse), items, threads);
}

// Useful multiply-adds of one pair through the training forward pass: the weights the MADE masks
// leave live (the float steps' masked products skip the others; the double steps' dense Eigen
// products also multiply the masked zeros, which are not counted); backward ≈ 2 × forward.
double training_macs(const sbi_maf& flow) {
  const auto& c = flow.config();
  double n = 0.0;
  for (const auto& m : flow.mades())
    n += m.mask_in.sum() + double(c.hidden) * double(c.context) + double(c.blocks) * m.mask_hidden.sum() + m.mask_out.sum();
  return n;
}

// One training epoch over 1e5 pairs (90 % train steps + the 10 % validation pass, as sbi),
// batch 128; second argument: 0 = double steps, 1 = float steps (training_precision::float32, as
// PyTorch trains). The time is that of a whole epoch in a running training: train() runs two
// epochs and the clock reads the interval between the observer's two calls (steps, validation,
// best-weight copy), so the one-time set-up of each train() call (input checks, z-scoring, copies
// of the data) is not counted; it is reported as `setup_s` (set-up plus the first epoch, minus an epoch).
void BM_flow_train_epoch_1e5_batch128(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const auto& d = data();
  auto flow = make_flow(state.range(0));
  const bool single = state.range(1) != 0;
  chempp::flow::train_options opt;
  opt.batch_size = 128;
  opt.max_epochs = 2;
  opt.precision = single ? chempp::flow::training_precision::float32 : chempp::flow::training_precision::float64;
  double steps = 0.0, setup = 0.0;
  for (auto _ : state) {
    std::vector<clock::time_point> at;
    const auto start = clock::now();
    auto r = chempp::flow::train(flow, d.theta, d.x, opt, [&](const chempp::flow::epoch_report&) { at.push_back(clock::now()); });
    const double epoch = std::chrono::duration<double>(at[1] - at[0]).count();
    state.SetIterationTime(epoch);
    setup = std::chrono::duration<double>(at[0] - start).count() - epoch;
    steps = r.history.back().seconds;
    benchmark::DoNotOptimize(r);
  }
  state.counters["epoch_train_steps_s"] = steps;
  state.counters["setup_s"] = setup;
  state.counters["hidden"] = static_cast<double>(state.range(0));
  // 9e4 training pairs forward + backward (3 × forward), 1e4 validation pairs forward
  const double flops = 2.0 * training_macs(flow) * (3.0 * 9e4 + 1e4) * double(state.iterations());
  if (single) chempp::bench::roofline<float>(state, flops);
  else chempp::bench::roofline<double>(state, flops);
  if (state.range(0) == 8)
    state.counters["speedup_vs_nflows"] =
        benchmark::Counter(kBaseEpochS * double(state.iterations()), benchmark::Counter::kIsRate);
  if (single) report_vs_issue12(state, issue12_case::epoch, static_cast<long>(state.range(0)));
}
BENCHMARK(BM_flow_train_epoch_1e5_batch128)
    ->ArgNames({"hidden", "float"})
    ->ArgsProduct({{8, 32, 50}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

// 1000 samples for one x (xsimd kernel, one thread).
void BM_flow_sample_1000_one_x(benchmark::State& state) {
  auto flow = make_flow();
  chempp::flow::maf_sampler<sbi_maf> sampler(flow);
  Eigen::VectorXd x = data().x.row(0).transpose();
  Eigen::MatrixXd out(1000, 6);
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    sampler.sample(x, rng, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(sampler.arch_name());
  state.counters["speedup_vs_nflows"] =
      benchmark::Counter(kBaseSample1kS * double(state.iterations()), benchmark::Counter::kIsRate);
  flow_roofline<double>(state, flow, true, 1000.0 * double(state.iterations()));
}
BENCHMARK(BM_flow_sample_1000_one_x)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Same with the float kernel (twice the SIMD width).
void BM_flow_sample_1000_one_x_float(benchmark::State& state) {
  auto flow = make_flow();
  chempp::flow::maf_sampler<sbi_maf, xsimd::default_arch, float> sampler(flow);
  Eigen::VectorXd x = data().x.row(0).transpose();
  Eigen::MatrixXd out(1000, 6);
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    sampler.sample(x, rng, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(sampler.arch_name());
  state.counters["speedup_vs_nflows"] =
      benchmark::Counter(kBaseSample1kS * double(state.iterations()), benchmark::Counter::kIsRate);
  flow_roofline<float>(state, flow, true, 1000.0 * double(state.iterations()));
}
BENCHMARK(BM_flow_sample_1000_one_x_float)->Unit(benchmark::kMicrosecond)->UseRealTime();

// 1000 samples for one x through conditional_maf::sample (the same kernel behind the flow's own
// API: packs the weights on every call, 2 registers in flight).
void BM_flow_sample_1000_one_x_conditional_maf(benchmark::State& state) {
  auto flow = make_flow();
  Eigen::MatrixXd x = data().x.row(0);
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    auto s = flow.sample(1000, x, rng);
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["speedup_vs_nflows"] =
      benchmark::Counter(kBaseSample1kS * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_flow_sample_1000_one_x_conditional_maf)->Unit(benchmark::kMicrosecond)->UseRealTime();

// 1000 observations × 1000 samples, on state.range(0) threads.
void BM_flow_sample_1000x_1000(benchmark::State& state) {
  auto flow = make_flow();
  Eigen::MatrixXd xs = data().x.topRows(1000);
  // written once before the timed loop: the first write to the 48 MB of fresh pages takes the
  // kernel's page faults (~0.1 s on the project's VMs), which the first timed iteration of each of
  // Google Benchmark's runs would otherwise carry (1000 x 1000 at H 8 printed 53 ms against
  // ~40 ms per call after the first, docs/kernels.md, ninth session)
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(1000 * 1000, 6);
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    chempp::flow::sample_many(flow, xs, 1000, 11, out, threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["speedup_vs_nflows"] =
      benchmark::Counter(kBaseSample1Mx1kS * double(state.iterations()), benchmark::Counter::kIsRate);
  flow_roofline<double>(state, flow, true, 1e6 * double(state.iterations()), threads);
}
BENCHMARK(BM_flow_sample_1000x_1000)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Same with the float kernel; arguments: threads, hidden width.
void BM_flow_sample_1000x_1000_float(benchmark::State& state) {
  auto flow = make_flow(state.range(1));
  Eigen::MatrixXd xs = data().x.topRows(1000);
  // written before the timed loop (page faults: see BM_flow_sample_1000x_1000)
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(1000 * 1000, 6);
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    chempp::flow::sample_many<xsimd::default_arch, float>(flow, xs, 1000, 11, out, threads);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["hidden"] = static_cast<double>(state.range(1));
  if (state.range(1) == 8)
    state.counters["speedup_vs_nflows"] =
        benchmark::Counter(kBaseSample1Mx1kS * double(state.iterations()), benchmark::Counter::kIsRate);
  if (threads == 1) report_vs_issue12(state, issue12_case::sample_1000x1000, static_cast<long>(state.range(1)));
  flow_roofline<float>(state, flow, true, 1e6 * double(state.iterations()), threads);
}
BENCHMARK(BM_flow_sample_1000x_1000_float)
    ->ArgNames({"threads", "hidden"})
    ->ArgsProduct({{1, 2}, {8, 32, 50}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// log_prob of 1e5 (θ, x) pairs through conditional_maf::log_prob (the shared kernel, one thread).
void BM_flow_log_prob_1e5_pairs(benchmark::State& state) {
  const auto& d = data();
  auto flow = make_flow();
  for (auto _ : state) {
    auto lp = flow.log_prob(d.theta, d.x);
    benchmark::DoNotOptimize(lp.data());
  }
  const double pairs = 1e5 * double(state.iterations());
  state.counters["pairs_per_s"] = benchmark::Counter(pairs, benchmark::Counter::kIsRate);
  state.counters["speedup_vs_nflows"] = benchmark::Counter(pairs / kBaseLogProbRate, benchmark::Counter::kIsRate);
  flow_roofline<double>(state, flow, false, pairs);
}
BENCHMARK(BM_flow_log_prob_1e5_pairs)->Unit(benchmark::kMillisecond)->UseRealTime();

// log_prob of 1e5 pairs with the xsimd kernel on state.range(0) threads.
void BM_flow_log_prob_1e5_pairs_simd(benchmark::State& state) {
  const auto& d = data();
  auto flow = make_flow();
  Eigen::VectorXd out = Eigen::VectorXd::Zero(d.theta.rows());  // pages touched before timing (BM_flow_sample_1000x_1000)
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    chempp::flow::log_prob_parallel(flow, d.theta, d.x, out, threads);
    benchmark::DoNotOptimize(out.data());
  }
  const double pairs = 1e5 * double(state.iterations());
  state.counters["pairs_per_s"] = benchmark::Counter(pairs, benchmark::Counter::kIsRate);
  state.counters["speedup_vs_nflows"] = benchmark::Counter(pairs / kBaseLogProbRate, benchmark::Counter::kIsRate);
  flow_roofline<double>(state, flow, false, pairs, threads);
}
BENCHMARK(BM_flow_log_prob_1e5_pairs_simd)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Same with the float kernel; arguments: threads, hidden width.
void BM_flow_log_prob_1e5_pairs_simd_float(benchmark::State& state) {
  const auto& d = data();
  auto flow = make_flow(state.range(1));
  Eigen::VectorXd out = Eigen::VectorXd::Zero(d.theta.rows());  // pages touched before timing (BM_flow_sample_1000x_1000)
  const auto threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) {
    chempp::flow::log_prob_parallel<xsimd::default_arch, float>(flow, d.theta, d.x, out, threads);
    benchmark::DoNotOptimize(out.data());
  }
  const double pairs = 1e5 * double(state.iterations());
  state.counters["pairs_per_s"] = benchmark::Counter(pairs, benchmark::Counter::kIsRate);
  state.counters["hidden"] = static_cast<double>(state.range(1));
  if (state.range(1) == 8)
    state.counters["speedup_vs_nflows"] = benchmark::Counter(pairs / kBaseLogProbRate, benchmark::Counter::kIsRate);
  if (threads == 1) report_vs_issue12(state, issue12_case::log_prob_1e5, static_cast<long>(state.range(1)));
  flow_roofline<float>(state, flow, false, pairs, threads);
}
BENCHMARK(BM_flow_log_prob_1e5_pairs_simd_float)
    ->ArgNames({"threads", "hidden"})
    ->ArgsProduct({{1, 2}, {8, 32, 50}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ---- What each function costs inside the float kernels (docs/kernels.md, tenth session) ----
// The probes of `flow_roofline` time a function on independent values in isolation; inside the
// kernels a function can also cost the latency it exposes (the MAF inverse's scale and division
// lie on the chain from one dimension to the next). Here the same kernels run four times per
// iteration, interleaved: with the real policies, with the activation replaced by a cheap
// stand-in (x / 2), with the scale replaced by one (s² + 1, positive, so the inverse divides by
// ≥ 1 and the float log density keeps its one-log path), and with both. The time the stand-in
// saves, per sample or pair, is what the function costs in the kernel (`in_situ_act_ns`,
// `in_situ_scale_ns`), next to what the probes count for it (`isolated_act_ns`,
// `isolated_scale_ns`: count × probe); `rest_ns` is the time with both stand-ins. Case 0: 100 × 1000
// samples (`maf_sampler::sample`, one observation at a time); case 1: log_prob of 1e5 pairs. The
// differences hold only while the stand-ins leave the compiler's layout of the kernel alone, and
// they leave out the stand-ins' own cost (lower bounds; `rest_ns` an upper bound).
struct stand_in_act {
  static constexpr const char* name = "stand-in";
  template <class V>
  static V apply(const V& x) {
    return x * V(0.5);
  }
  template <class V>
  static V derivative(const V& /*x*/, const V& /*y*/) {
    return V(0.5);
  }
};
struct stand_in_scale {
  static constexpr const char* name = "stand-in";
  template <class V>
  static V apply(const V& s) {
    return s * s + V(1);
  }
  template <class V>
  static V derivative(const V& s, const V& /*scale*/) {
    return V(2) * s;
  }
};
// The flow's weights under other policy types (maf_sampler reads Flow::activation_type/scale_type).
template <class Act, class Scale>
struct stand_in_maf : sbi_maf {
  using activation_type = Act;
  using scale_type = Scale;
  explicit stand_in_maf(const sbi_maf& f) : sbi_maf(f) {}
};

template <class Flow>
double run_in_situ_case(const Flow& flow, bool sample, const Eigen::MatrixXd& xs, Eigen::MatrixXd& out, Eigen::VectorXd& lp) {
  const auto& d = data();
  chempp::flow::maf_sampler<Flow, xsimd::default_arch, float> k(flow);
  const auto t0 = std::chrono::steady_clock::now();
  if (sample) {
    std::mt19937_64 rng(11);
    for (Eigen::Index m = 0; m < xs.rows(); ++m) {
      const Eigen::VectorXd x = xs.row(m).transpose();
      k.sample(x, rng, out);
    }
  } else {
    k.log_prob(d.theta, d.x, lp);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  benchmark::DoNotOptimize(out.data());
  benchmark::DoNotOptimize(lp.data());
  return s;
}

void BM_flow_function_cost_in_situ(benchmark::State& state) {
  const bool sample = state.range(0) == 0;
  const sbi_maf flow = make_flow(state.range(1));
  const stand_in_maf<stand_in_act, sbi_maf::scale_type> no_act(flow);
  const stand_in_maf<sbi_maf::activation_type, stand_in_scale> no_scale(flow);
  const stand_in_maf<stand_in_act, stand_in_scale> neither(flow);
  const Eigen::MatrixXd xs = data().x.topRows(100);
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(1000, 6);
  Eigen::VectorXd lp = Eigen::VectorXd::Zero(data().theta.rows());
  const double items = sample ? double(xs.rows() * out.rows()) : double(data().theta.rows());
  double t[4] = {0.0, 0.0, 0.0, 0.0};
  for (auto _ : state) {
    const double real = run_in_situ_case(flow, sample, xs, out, lp);
    t[0] += real;
    t[1] += run_in_situ_case(no_act, sample, xs, out, lp);
    t[2] += run_in_situ_case(no_scale, sample, xs, out, lp);
    t[3] += run_in_situ_case(neither, sample, xs, out, lp);
    state.SetIterationTime(real);
  }
  const double per = 1e9 / (items * double(state.iterations()));
  const auto w = maf_work<float>(flow, sample);
  state.counters["hidden"] = static_cast<double>(state.range(1));
  state.counters["ns_per_item"] = t[0] * per;
  state.counters["in_situ_act_ns"] = (t[0] - t[1]) * per;
  state.counters["in_situ_scale_ns"] = (t[0] - t[2]) * per;
  state.counters["rest_ns"] = t[3] * per;
  state.counters["isolated_act_ns"] = w.activations * chempp::bench::function_ns<sbi_maf::activation_type, float>(-3.0, 3.0);
  state.counters["isolated_scale_ns"] = w.scales * chempp::bench::function_ns<sbi_maf::scale_type, float>(-3.0, 3.0);
}
// (H 8 only: at H 50 the stand-ins let GCC inline the hidden-unit loops into the interleaved
// inverse, which then ran slower with both stand-ins than with the real functions, so the
// differences there measure the compiler's layout, not the functions; docs/kernels.md)
BENCHMARK(BM_flow_function_cost_in_situ)
    ->ArgNames({"log_prob", "hidden"})
    ->ArgsProduct({{0, 1}, {8}})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

BENCHMARK(chempp::bench::BM_fma_probe<double>)->Iterations(1);
BENCHMARK(chempp::bench::BM_fma_probe<float>)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
