// SPDX-License-Identifier: BSD-3-Clause
// emulator_accuracy: trains chempp's default CHEMPY emulator on GCE runs drawn uniformly from
// the prior mean +- 5 sigma box (or loads one with --load), evaluates it on fresh held-out GCE
// runs drawn from the Gaussian priors (T ~ U[1, 13.8] Gyr) and prints one JSON line:
//   median_ape_percent (all 9 outputs, as the paper reports), median_abs_dex, n_heldout,
//   train_seconds, and more (data size, epochs, failures, per-output errors, and the same
//   metrics for the paper's own weights when ../shared is present).
//
// Options: --load FILE, --save FILE, --n-train N, --epochs E, --hidden 128,128,64, --batch B,
//          --lr X, --warmup S, --patience P, --max-seconds S, --n-heldout N, --threads T, --paper, --seed S,
//          --paper-weights FILE
// Progress goes to stderr; the JSON line to stdout.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/gce.hpp"
#include "chempp/nn.hpp"
#include "chempp/yields/shipped.hpp"

namespace nn = chempp::nn;
using clock_type = std::chrono::steady_clock;

namespace {
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}
std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> r;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) r.push_back(std::stoul(tok));
  return r;
}
nlohmann::json report_json(const nn::accuracy_report& r) {
  return {{"median_ape_percent", r.median_ape_percent},
          {"ape_q25_percent", r.ape_q25_percent},
          {"ape_q75_percent", r.ape_q75_percent},
          {"median_abs_dex", r.median_abs_dex},
          {"p95_abs_dex", r.p95_abs_dex},
          {"median_ape_per_output", r.median_ape_per_output},
          {"median_abs_dex_per_output", r.median_abs_per_output}};
}
}  // namespace

int main(int argc, char** argv) try {
  nn::emulator_config cfg = nn::default_emulator_config();
  std::string load, save, paper_weights;
  std::size_t n_heldout = 5000;
  unsigned threads = 2;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto next = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::runtime_error("missing value after " + args[i]);
      return args[++i];
    };
    const std::string& a = args[i];
    if (a == "--paper") {
      cfg = nn::paper_emulator_config();
    } else if (a == "--load") load = next();
    else if (a == "--save") save = next();
    else if (a == "--paper-weights") paper_weights = next();
    else if (a == "--n-train") cfg.n_simulations = std::stoul(next());
    else if (a == "--epochs") cfg.training.epochs = std::stoul(next());
    else if (a == "--hidden") cfg.hidden = parse_list(next());
    else if (a == "--batch") cfg.training.batch_size = std::stoul(next());
    else if (a == "--lr") cfg.training.adam.learning_rate = std::stod(next());
    else if (a == "--warmup") cfg.training.adam.warmup_steps = std::stoul(next());
    else if (a == "--patience") cfg.training.patience = std::stoul(next());
    else if (a == "--max-seconds") cfg.training.max_seconds = std::stod(next());
    else if (a == "--adam") cfg.training.optimizer = nn::optimizer_kind::adam;
    else if (a == "--n-heldout") n_heldout = std::stoul(next());
    else if (a == "--threads") threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--seed") cfg.data_seed = std::stoull(next());
    else throw std::runtime_error("unknown option " + a);
  }

  const chempp::gce::chempy_model model(chempp::yields::shipped_yield_set("tng"));
  const auto simulate = [&](std::span<const nn::theta_vector> th) {
    return chempp::gce::simulate_batch(model, th, threads);
  };
  nlohmann::json out;

  nn::mlp<float> net;
  double train_seconds = 0.0, data_seconds = 0.0;
  if (!load.empty()) {
    net = nn::load_mlp<float>(load);
    out["loaded"] = load;
  } else {
    auto t0 = clock_type::now();
    const auto data = nn::generate_training_data(simulate, cfg.n_simulations, cfg.data_seed);
    data_seconds = seconds_since(t0);
    std::cerr << "training data: " << data.x.cols() << " ok of " << data.n_requested << " GCE runs ("
              << data.n_failed << " failed, dropped) in " << data_seconds << " s\n";
    net = cfg.make_network<float>(9);
    t0 = clock_type::now();
    const auto res = nn::train(net, nn::matrix<float>(data.x.cast<float>()), nn::matrix<float>(data.y.cast<float>()),
                               cfg.training, [&](const nn::epoch_report& e) {
                                 std::cerr << "epoch " << e.epoch << " train " << e.train_loss << " val "
                                           << e.validation_loss << " (" << seconds_since(t0) << " s)\n";
                               });
    train_seconds = seconds_since(t0);
    out["n_train_requested"] = data.n_requested;
    out["n_train_failed"] = data.n_failed;
    out["n_train_ok"] = data.x.cols();
    out["epochs_run"] = res.history.size();
    out["best_epoch"] = res.best_epoch;
    out["stopped_by_time"] = res.stopped_by_time;
    out["max_epochs"] = cfg.training.epochs;
    out["best_validation_loss"] = res.best_validation_loss;
    out["batch_size"] = cfg.training.batch_size;
    out["learning_rate"] = cfg.training.adam.learning_rate;
    if (!save.empty()) {
      nn::save_mlp(net, save, {"chempp emulator trained by emulator_accuracy", {"alpha_IMF", "log10_N_Ia", "log10_SFE", "log10_SFR_peak", "x_out", "T_Gyr"}, {"C", "Fe", "H", "He", "Mg", "N", "Ne", "O", "Si"}});
      out["saved"] = save;
    }
  }
  out["architecture"] = net.sizes();
  out["train_seconds"] = train_seconds;
  out["data_seconds"] = data_seconds;

  // held-out runs from the Gaussian priors; draws the GCE model rejects (x_out outside [0, 1])
  // and failed runs are counted, not silently dropped
  auto thetas = nn::sample_gaussian_prior(n_heldout + n_heldout / 10 + 100, cfg.data_seed + 1000003);
  std::vector<nn::theta_vector> valid;
  std::size_t n_outside = 0;
  for (const auto& t : thetas) {
    if (t[4] < 0.0 || t[4] > 1.0) ++n_outside;
    else valid.push_back(t);
  }
  const auto held = nn::simulate_dataset(simulate, std::span<const nn::theta_vector>(valid));
  const Eigen::Index n_use = std::min<Eigen::Index>(held.x.cols(), static_cast<Eigen::Index>(n_heldout));
  const nn::matrix<double> xh = held.x.leftCols(n_use), yh = held.y.leftCols(n_use);
  const nn::simd_mlp<float> kernel(net);
  const nn::matrix<float> xf = xh.cast<float>();
  nn::matrix<float> pf(9, n_use);
  kernel(xf.data(), pf.data(), static_cast<std::size_t>(n_use));
  const auto rep = nn::evaluate_accuracy(pf.cast<double>(), yh);
  nlohmann::json acc = report_json(rep);
  for (auto it = acc.begin(); it != acc.end(); ++it) out[it.key()] = it.value();
  // the 8 observables the SBI uses (H = -[Fe/H] removed)
  std::vector<Eigen::Index> keep{0, 1, 3, 4, 5, 6, 7, 8};
  out["median_ape_percent_8_outputs"] = nn::evaluate_accuracy(pf.cast<double>()(keep, Eigen::all), yh(keep, Eigen::all)).median_ape_percent;
  out["n_heldout"] = n_use;
  out["n_heldout_failed"] = held.n_failed;
  out["n_heldout_prior_draws_outside_xout_range"] = n_outside;
  out["output_order"] = {"C", "Fe", "H", "He", "Mg", "N", "Ne", "O", "Si"};
  // the paper's emulator on the same held-out runs
  std::filesystem::path pw = paper_weights.empty()
                                 ? std::filesystem::path(CHEMPP_EXAMPLE_SHARED_DIR) / "data/sbi-chempy/emulator_5sigma_uni_prior_weights.json"
                                 : std::filesystem::path(paper_weights);
  if (std::filesystem::exists(pw)) {
    const auto paper = nn::load_mlp<double>(pw);
    const auto rp = nn::evaluate_accuracy(paper.predict(xh), yh);
    out["paper_weights_median_ape_percent"] = rp.median_ape_percent;
    out["paper_weights_median_abs_dex"] = rp.median_abs_dex;
  }
  std::cout << out.dump() << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "emulator_accuracy: " << e.what() << '\n';
  return 1;
}
