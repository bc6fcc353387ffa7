// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 05 — the paper's pipeline end to end (program `paper_pipeline`).
//
// Buck et al. 2025 (arXiv:2503.02456) infer the global galactic parameters Λ = (α_IMF, log10 N_Ia)
// from the abundances of many stars. This program walks through every stage with chempp:
//   1. simulate CHEMPY (chempp::gce::chempy_model, TNG yields) on the emulator's training box;
//   2. train the dense emulator (chempp::nn) on those runs;
//   3. simulate noisy training pairs (θ from the prior, x = emulator(θ) + N(0, 0.05²));
//   4. train the conditional MAF posterior q(θ | x) (chempp::flow) with a "global-first" ordering,
//      so q(Λ | x) is exact and cheap;
//   5. infer Λ from N = 1, 10, 100, 1000 stars of three mock galaxies (CHEMPY with the training
//      yields, CHEMPY with the alternative yields = misspecification, the IllustrisTNG galaxy),
//      with each combiner of chempp::inference;
//   6. check calibration: SBC ranks and TARP on validation cases, and multi-star coverage.
// It writes DIR/results.json, CSV files, and `05_paper_pipeline.py` draws the figures.
//
// Usage: paper_pipeline [--out DIR] [--config small|paper] [--seed N] [--threads N] [--quiet]
//        [--gce-runs N] [--emulator-epochs N] [--flow-epochs N] [--flow-hidden N] (override the config)
// Progress goes to stderr through observer callbacks; chempp's library code prints nothing.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/diagnostics.hpp"
#include "chempp/flow.hpp"
#include "chempp/gce.hpp"
#include "chempp/inference.hpp"
#include "chempp/io/npz.hpp"
#include "chempp/nn.hpp"
#include "chempp/yields/shipped.hpp"

namespace fs = std::filesystem;
namespace gce = chempp::gce;
namespace nn = chempp::nn;
namespace flow = chempp::flow;
namespace inf = chempp::inference;
namespace diag = chempp::diagnostics;
using Eigen::Index;
using clock_type = std::chrono::steady_clock;

namespace {

// ---- configuration ----------------------------------------------------------------------------
struct pipeline_config {
  std::string name;
  nn::emulator_config emulator;             // GCE runs + network + training of the emulator
  std::size_t n_flow_pairs = 100000;        // noisy (θ, x) pairs for the flow
  flow::maf_config maf;                     // flow architecture
  flow::train_options flow_training;        // flow optimiser and stopping
  std::size_t n_stars = 1000;               // stars per mock galaxy
  std::size_t n_samples = 1000;             // posterior samples per star
  std::vector<std::size_t> n_list{1, 10, 100, 1000};
  std::size_t n_validation = 1000;          // SBC / TARP cases
  std::size_t coverage_galaxies = 40;       // mock galaxies of the multi-star coverage check
  std::size_t coverage_stars = 100;         // stars per coverage galaxy
  std::size_t grid_points = 61;             // nodes per axis of the exact grid combiner
  double noise_dex = 0.05;                  // observational noise per abundance
};

pipeline_config make_config(const std::string& name) {
  pipeline_config c;
  c.name = name;
  c.maf.features = 6;
  c.maf.context = 8;
  c.maf.transforms = 4;
  c.maf.blocks = 2;
  c.maf.permutation = flow::permutation_kind::global_first;
  c.maf.n_global = 2;
  // Give the first MADE output hidden units of degree 0 so Λ's own conditional q(α | x) depends
  // on x (in nflows/sbi the first dimension of each transform ignores the context).
  c.maf.condition_first = true;
  if (name == "paper") {
    // Paper sizes: 1e5 CHEMPY runs, sbi's MAF 8/4 trained to convergence (patience 20).
    c.emulator = nn::default_emulator_config();
    c.maf.hidden = 8;
    c.flow_training.max_epochs = 1000;
  } else if (name == "small") {
    // A few-minute run on 2 cores: fewer GCE runs and epochs, a wider flow trained briefly.
    c.emulator = nn::default_emulator_config();
    c.emulator.n_simulations = 30000;
    c.emulator.training.epochs = 40;
    c.maf.hidden = 32;
    c.flow_training.max_epochs = 40;
    c.flow_training.batch_size = 256;
    c.flow_training.learning_rate = 2e-3;
    c.n_validation = 1000;
    c.grid_points = 41;
  } else {
    throw std::runtime_error("--config must be small or paper (got '" + name + "')");
  }
  return c;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// The 8 observables in the paper's order and CHEMPY's raw 9-vector order (H at index 2).
const std::array<const char*, 8> kObservables{"C/Fe", "Fe/H", "He/Fe", "Mg/Fe",
                                              "N/Fe", "Ne/Fe", "O/Fe", "Si/Fe"};
const std::array<const char*, 6> kParameters{"alpha_IMF", "log10_N_Ia", "log10_SFE",
                                             "log10_SFR_peak", "x_out", "T_Gyr"};

// ---- emulator as a simulator ------------------------------------------------------------------
// Wraps the SIMD network: θ rows (n × 6) → the 8 observables (n × 8), H (raw index 2) removed.
struct emulator_simulator {
  nn::simd_mlp<float> net;
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& theta) const {
    const auto n = static_cast<std::size_t>(theta.rows());
    std::vector<float> x(6 * n), y(9 * n);
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t k = 0; k < 6; ++k)
        x[j * 6 + k] = static_cast<float>(theta(static_cast<Index>(j), static_cast<Index>(k)));
    net(x.data(), y.data(), n);
    Eigen::MatrixXd out(theta.rows(), 8);
    for (std::size_t j = 0; j < n; ++j) {
      Index o = 0;
      for (std::size_t k = 0; k < 9; ++k) {
        if (k == 2) continue;
        out(static_cast<Index>(j), o++) = static_cast<double>(y[j * 9 + k]);
      }
    }
    return out;
  }
};

// θ draws from a prior as rows.
template <class Prior>
Eigen::MatrixXd draw_prior(const Prior& prior, std::size_t n, std::mt19937_64& rng) {
  Eigen::MatrixXd th(static_cast<Index>(n), static_cast<Index>(prior.dim()));
  for (Index i = 0; i < th.rows(); ++i) th.row(i) = prior.sample(rng).transpose();
  return th;
}

void add_noise(Eigen::MatrixXd& x, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<double> nd(0.0, sigma);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) x(i, j) += nd(rng);
}

// ---- mock galaxies ----------------------------------------------------------------------------
struct mock_galaxy {
  std::string name;
  Eigen::MatrixXd x;           // n_stars × 8 noisy abundances
  Eigen::Vector2d truth;       // Λ used to make it (or the reference value)
  std::size_t redraws = 0;     // CHEMPY failures replaced by a fresh draw of the local parameters
  std::string note;
};

// Stars from CHEMPY itself: Λ fixed, local parameters from the prior, T ~ U[2, 12.8] Gyr.
mock_galaxy chempy_mock(const std::string& name, const gce::chempy_model& model,
                        const Eigen::Vector2d& lambda, std::size_t n, double noise,
                        unsigned threads, std::mt19937_64& rng) {
  const auto prior = inf::paper_prior();
  mock_galaxy g;
  g.name = name;
  g.truth = lambda;
  g.x.resize(static_cast<Index>(n), 8);
  std::size_t filled = 0;
  while (filled < n) {
    std::vector<std::array<double, 6>> theta(n - filled);
    for (auto& t : theta) {
      const Eigen::VectorXd s = prior.sample(rng);
      t = {lambda(0), lambda(1), s(2), s(3), std::clamp(s(4), 0.0, 1.0), s(5)};
    }
    const auto res = gce::simulate_batch(model, std::span<const std::array<double, 6>>(theta), threads);
    for (const auto& r : res) {
      if (!r.ok()) {
        ++g.redraws;
        continue;
      }
      for (Index k = 0; k < 8; ++k) g.x(static_cast<Index>(filled), k) = r.abundances[static_cast<std::size_t>(k)];
      ++filled;
    }
  }
  add_noise(g.x, noise, rng);
  return g;
}

// ---- per-star posteriors and combination ------------------------------------------------------
struct star_posteriors {
  Eigen::MatrixXd samples;                 // (n_stars · n_samples) × 6
  std::vector<inf::gaussian> lambda_fits;  // Gaussian fit of the Λ samples per star
  std::size_t unrestricted = 0;            // stars sampled without the prior-support box
};

star_posteriors infer_stars(const flow::sbi_maf& q, const Eigen::MatrixXd& x, std::size_t n_samples,
                            const flow::support_box& box, std::uint64_t seed, unsigned threads) {
  star_posteriors p;
  const auto ns = static_cast<Index>(n_samples);
  p.samples.resize(x.rows() * ns, 6);
  try {
    flow::sample_many(q, x, ns, seed, p.samples, threads, &box);
  } catch (const chempp::error&) {
    // Some star's posterior puts almost no mass inside the prior support (T in [2, 12.8] Gyr):
    // typical of misspecified data. Sample star by star; such stars are sampled without the
    // support restriction and counted (never silently).
    for (Index i = 0; i < x.rows(); ++i) {
      auto rows = p.samples.middleRows(i * ns, ns);
      try {
        flow::sample_many(q, x.row(i), ns, seed + static_cast<std::uint64_t>(i), rows, 1, &box);
      } catch (const chempp::error&) {
        flow::sample_many(q, x.row(i), ns, seed + static_cast<std::uint64_t>(i), rows, 1);
        ++p.unrestricted;
      }
    }
  }
  p.lambda_fits.reserve(static_cast<std::size_t>(x.rows()));
  for (Index i = 0; i < x.rows(); ++i)
    p.lambda_fits.push_back(inf::fit_gaussian(p.samples.block(i * ns, 0, ns, 2)));
  return p;
}

nlohmann::json gaussian_json(const inf::gaussian& g) {
  return {{"mean", {g.mean(0), g.mean(1)}},
          {"cov", {{g.cov(0, 0), g.cov(0, 1)}, {g.cov(1, 0), g.cov(1, 1)}}},
          {"sigma", {std::sqrt(g.cov(0, 0)), std::sqrt(g.cov(1, 1))}}};
}

}  // namespace

int main(int argc, char** argv) try {
  std::string out_dir = "paper_pipeline_out", config_name = "small";
  std::uint64_t seed = 2025;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  bool quiet = false;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--out") out_dir = next();
    else if (a == "--config") config_name = next();
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--threads") threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--quiet") quiet = true;
    else if (a == "--gce-runs" || a == "--emulator-epochs" || a == "--flow-epochs" ||
             a == "--flow-hidden")
      overrides.emplace_back(a, next());
    else if (a == "--help" || a == "-h") {
      std::cout << "usage: paper_pipeline [--out DIR] [--config small|paper] [--seed N] "
                   "[--threads N] [--quiet]\n"
                   "       [--gce-runs N] [--emulator-epochs N] [--flow-epochs N] [--flow-hidden N]\n";
      return 0;
    } else throw std::runtime_error("unknown option " + a + " (see --help)");
  }
  threads = std::max(1u, threads);
  pipeline_config cfg = make_config(config_name);
  for (const auto& [key, value] : overrides) {
    if (key == "--gce-runs") cfg.emulator.n_simulations = std::stoul(value);
    else if (key == "--emulator-epochs") cfg.emulator.training.epochs = std::stoul(value);
    else if (key == "--flow-epochs") cfg.flow_training.max_epochs = std::stoi(value);
    else if (key == "--flow-hidden") cfg.maf.hidden = std::stol(value);
  }
  fs::create_directories(out_dir);
  auto log = [&](const std::string& s) {
    if (!quiet) std::cerr << "[paper_pipeline] " << s << std::endl;
  };
  std::mt19937_64 rng(seed);
  nlohmann::json results;
  results["config"] = {{"name", cfg.name}, {"seed", seed}, {"threads", threads},
                       {"n_gce_runs", cfg.emulator.n_simulations},
                       {"n_flow_pairs", cfg.n_flow_pairs}, {"flow_hidden", cfg.maf.hidden},
                       {"flow_transforms", cfg.maf.transforms}, {"n_stars", cfg.n_stars},
                       {"n_samples", cfg.n_samples}, {"noise_dex", cfg.noise_dex}};
  nlohmann::json& timing = results["timing_seconds"];
  const auto t_total = clock_type::now();

  // 1. CHEMPY runs for the emulator ---------------------------------------------------------------
  auto t0 = clock_type::now();
  const gce::chempy_model chempy_tng(chempp::yields::shipped_yield_set("tng"));
  const gce::chempy_model chempy_alt(chempp::yields::shipped_yield_set("alt"));
  const auto simulate = [&](std::span<const nn::theta_vector> th) {
    return gce::simulate_batch(chempy_tng, th, threads);
  };
  auto emu_cfg = cfg.emulator;
  emu_cfg.data_seed = seed;
  emu_cfg.training.seed = seed + 1;
  const auto data = nn::generate_training_data(simulate, emu_cfg.n_simulations, emu_cfg.data_seed);
  timing["gce_simulations"] = seconds_since(t0);
  log("CHEMPY: " + std::to_string(data.x.cols()) + " successful runs of " +
      std::to_string(data.n_requested) + " (" + std::to_string(data.n_failed) +
      " failed and dropped) in " + std::to_string(seconds_since(t0)) + " s");
  results["gce"] = {{"requested", data.n_requested}, {"failed", data.n_failed}};

  // 2. Emulator ------------------------------------------------------------------------------------
  t0 = clock_type::now();
  nn::mlp<float> net = emu_cfg.make_network<float>(9);
  const auto emu_res = nn::train(net, nn::matrix<float>(data.x.cast<float>()),
                                 nn::matrix<float>(data.y.cast<float>()), emu_cfg.training,
                                 [&](const nn::epoch_report& e) {
                                   if (e.epoch % 10 == 0)
                                     log("emulator epoch " + std::to_string(e.epoch) + ": val loss " +
                                         std::to_string(e.validation_loss));
                                 });
  timing["emulator_training"] = seconds_since(t0);
  const emulator_simulator emulator{nn::simd_mlp<float>(net)};
  nn::save_mlp(net, fs::path(out_dir) / "emulator.json");
  {  // held-out accuracy on fresh CHEMPY runs from the Gaussian prior
    const auto held_theta = nn::sample_gaussian_prior(2000, seed + 7);
    const auto held = nn::simulate_dataset(simulate, std::span<const nn::theta_vector>(held_theta));
    const nn::matrix<float> pred = net.predict(nn::matrix<float>(held.x.cast<float>()));
    const auto rep = nn::evaluate_accuracy(pred, held.y);
    results["emulator"] = {{"epochs", emu_res.history.size()},
                           {"heldout", held.x.cols()},
                           {"median_ape_percent", rep.median_ape_percent},
                           {"median_abs_dex", rep.median_abs_dex}};
    log("emulator: median APE " + std::to_string(rep.median_ape_percent) + " %, median |Δ| " +
        std::to_string(rep.median_abs_dex) + " dex on " + std::to_string(held.x.cols()) +
        " held-out CHEMPY runs");
  }

  // 3. Noisy training pairs for the flow -----------------------------------------------------------
  t0 = clock_type::now();
  const auto prior = inf::paper_prior();
  const Eigen::MatrixXd theta_train = draw_prior(prior, cfg.n_flow_pairs, rng);
  Eigen::MatrixXd x_train = emulator(theta_train);
  add_noise(x_train, cfg.noise_dex, rng);
  timing["flow_simulations"] = seconds_since(t0);

  // 4. Flow ----------------------------------------------------------------------------------------
  t0 = clock_type::now();
  auto maf_cfg = cfg.maf;
  maf_cfg.seed = seed + 2;
  flow::sbi_maf q(maf_cfg);
  auto ft = cfg.flow_training;
  ft.seed = seed + 3;
  const auto flow_res = flow::train(q, theta_train, x_train, ft, [&](const flow::epoch_report& e) {
    if (e.epoch % 5 == 0)
      log("flow epoch " + std::to_string(e.epoch) + ": train NLL " + std::to_string(e.train_loss) +
          ", validation NLL " + std::to_string(e.validation_loss));
  });
  timing["flow_training"] = seconds_since(t0);
  flow::save(q, fs::path(out_dir) / "flow.json");
  results["flow"] = {{"epochs", flow_res.epochs},
                     {"best_epoch", flow_res.best_epoch},
                     {"best_validation_nll", flow_res.best_validation_loss}};
  log("flow: " + std::to_string(flow_res.epochs) + " epochs, best validation NLL " +
      std::to_string(flow_res.best_validation_loss) + " in " + std::to_string(seconds_since(t0)) + " s");

  // Prior support box for sampling (sbi rejects T outside [2, 12.8]).
  flow::support_box box;
  box.lower = Eigen::VectorXd::Constant(6, -INFINITY);
  box.upper = Eigen::VectorXd::Constant(6, INFINITY);
  box.lower(5) = 2.0;
  box.upper(5) = 12.8;
  box.max_candidates_per_sample = 100.0;  // below 1 % acceptance: sample unrestricted, counted

  const inf::gaussian lambda_prior{Eigen::Vector2d(-2.3, -2.89),
                                   Eigen::Vector2d(0.09, 0.09).asDiagonal()};
  const auto global = inf::global_prior();
  const auto log_prior = [&](const Eigen::Vector2d& l) { return global.log_density(l); };

  // 5. Mock galaxies ----------------------------------------------------------------------------
  std::vector<mock_galaxy> galaxies;
  const Eigen::Vector2d lambda_true(-2.3, -2.89);
  galaxies.push_back(chempy_mock("chempy_tng", chempy_tng, lambda_true, cfg.n_stars, cfg.noise_dex, threads, rng));
  galaxies.back().note = "CHEMPY with the training (TNG) yields";
  galaxies.push_back(chempy_mock("chempy_alt", chempy_alt, lambda_true, cfg.n_stars, cfg.noise_dex, threads, rng));
  galaxies.back().note = "CHEMPY with the alternative yields (misspecified)";
  {
    // The IllustrisTNG galaxy (Philcox & Rybizki 2019; shipped in examples/data): true
    // abundances plus our own 0.05 dex noise. TNG's IMF slope and SN Ia normalisation are the
    // reference values (−2.3, −2.89) used by the paper.
    const fs::path tng_file = fs::path(CHEMPP_EXAMPLES_DATA_DIR) / "Mock_Data_TNG.npz";
    chempp::io::npz_file f(tng_file);
    const auto ab = f.array<double>("true_abuns");
    mock_galaxy g;
    g.name = "tng_galaxy";
    g.truth = lambda_true;
    g.note = "IllustrisTNG100 subhalo 523071 (true_abuns + noise)";
    const auto n = std::min<std::size_t>(cfg.n_stars, ab.shape()[0]);
    g.x.resize(static_cast<Index>(n), 8);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t k = 0; k < 8; ++k) {
        const double v = ab(i, k);
        if (!std::isfinite(v))
          throw chempp::file_error(tng_file.string(), 0, "true_abuns",
                                   "row " + std::to_string(i) + ", column " + std::to_string(k) +
                                       " is not finite");
        g.x(static_cast<Index>(i), static_cast<Index>(k)) = v;
      }
    add_noise(g.x, cfg.noise_dex, rng);
    galaxies.push_back(std::move(g));
  }

  std::ofstream lam_csv(fs::path(out_dir) / "lambda_vs_n.csv");
  lam_csv << "scenario,combiner,n_stars,alpha_mean,log10_nia_mean,alpha_sigma,log10_nia_sigma,rho,alpha_true,log10_nia_true\n";
  lam_csv.precision(8);
  nlohmann::json& scen_json = results["scenarios"];
  double inference_seconds_1000 = 0.0;
  for (std::size_t gi = 0; gi < galaxies.size(); ++gi) {
    const auto& g = galaxies[gi];
    t0 = clock_type::now();
    const auto post = infer_stars(q, g.x, cfg.n_samples, box, seed + 100 + gi, threads);
    const double t_sample = seconds_since(t0);
    nlohmann::json sj;
    sj["note"] = g.note;
    sj["truth"] = {g.truth(0), g.truth(1)};
    sj["chempy_redraws"] = g.redraws;
    sj["sampling_seconds"] = t_sample;
    sj["stars_sampled_outside_support"] = post.unrestricted;
    for (std::size_t n : cfg.n_list) {
      if (n > post.lambda_fits.size()) continue;
      const std::span<const inf::gaussian> stars(post.lambda_fits.data(), n);
      auto t1 = clock_type::now();
      std::map<std::string, inf::gaussian> est;
      nlohmann::json nj;
      try {
        est["corrected"] = inf::corrected_gaussian_product{}.combine(stars, lambda_prior);
      } catch (const chempp::invalid_argument& e) {
        nj["corrected_error"] = e.what();
      }
      est["paper"] = inf::paper_gaussian_product{}.combine(stars, lambda_prior);
      est["inverse_variance_1d"] = inf::inverse_variance_1d{}.combine(stars, lambda_prior);
      const double t_gauss = seconds_since(t1);
      t1 = clock_type::now();
      // Exact combination with the flow's marginal q(Λ | x_i) (global-first ordering).
      const auto log_q = [&](std::size_t star, const Eigen::Ref<const Eigen::MatrixXd>& pts,
                             Eigen::Ref<Eigen::VectorXd> out) {
        out = q.log_prob_marginal(pts, g.x.row(static_cast<Index>(star)));
      };
      inf::grid_combiner_options gopt;
      gopt.points_per_axis = cfg.grid_points;
      gopt.threads = threads;
      try {
        const auto grid = inf::grid_combine(stars, log_q, log_prior, lambda_prior, gopt);
        est["exact_grid"] = grid.moments;
        if (n == 100 || n == cfg.n_list.back()) {
          std::ofstream gcsv(fs::path(out_dir) / ("grid_" + g.name + "_N" + std::to_string(n) + ".csv"));
          gcsv.precision(10);
          gcsv << "alpha,log10_nia,log_density\n";
          for (Index a = 0; a < grid.x.size(); ++a)
            for (Index b = 0; b < grid.y.size(); ++b)
              gcsv << grid.x(a) << ',' << grid.y(b) << ',' << grid.log_density(a, b) << '\n';
        }
      } catch (const chempp::invalid_argument& e) {
        nj["exact_grid_error"] = e.what();
      }
      const double t_grid = seconds_since(t1);
      for (const auto& [cname, ge] : est) {
        nj[cname] = gaussian_json(ge);
        lam_csv << g.name << ',' << cname << ',' << n << ',' << ge.mean(0) << ',' << ge.mean(1) << ','
                << std::sqrt(ge.cov(0, 0)) << ',' << std::sqrt(ge.cov(1, 1)) << ','
                << ge.correlation(0, 1) << ',' << g.truth(0) << ',' << g.truth(1) << '\n';
      }
      nj["gaussian_combination_seconds"] = t_gauss;
      nj["exact_grid_seconds"] = t_grid;
      sj["N"][std::to_string(n)] = nj;
      if (gi == 0 && n == cfg.n_list.back()) inference_seconds_1000 = t_sample + t_gauss;
    }
    // per-star Gaussian fits for plots
    std::ofstream scsv(fs::path(out_dir) / ("stars_" + g.name + ".csv"));
    scsv.precision(8);
    scsv << "alpha_mean,log10_nia_mean,alpha_sigma,log10_nia_sigma,rho\n";
    for (const auto& s : post.lambda_fits)
      scsv << s.mean(0) << ',' << s.mean(1) << ',' << std::sqrt(s.cov(0, 0)) << ','
           << std::sqrt(s.cov(1, 1)) << ',' << s.correlation(0, 1) << '\n';
    scen_json[g.name] = sj;
    const auto& last = sj["N"][std::to_string(std::min(cfg.n_stars, cfg.n_list.back()))];
    if (last.contains("corrected"))
      log(g.name + ": Λ̂ (corrected, N=" + std::to_string(cfg.n_list.back()) + ") = (" +
          std::to_string(last["corrected"]["mean"][0].get<double>()) + " ± " +
          std::to_string(last["corrected"]["sigma"][0].get<double>()) + ", " +
          std::to_string(last["corrected"]["mean"][1].get<double>()) + " ± " +
          std::to_string(last["corrected"]["sigma"][1].get<double>()) + ")");
  }
  timing["inference_1000_stars_x_1000_samples_plus_gaussian_combination"] = inference_seconds_1000;

  // 6. Calibration: SBC, TARP, single-star accuracy, multi-star coverage ---------------------------
  t0 = clock_type::now();
  {
    const Eigen::MatrixXd theta_val = draw_prior(prior, cfg.n_validation, rng);
    Eigen::MatrixXd x_val = emulator(theta_val);
    add_noise(x_val, cfg.noise_dex, rng);
    const auto ns = static_cast<Index>(cfg.n_samples);
    Eigen::MatrixXd all(theta_val.rows() * ns, 6);
    flow::sample_many(q, x_val, ns, seed + 500, all, threads, &box);
    std::vector<Eigen::MatrixXd> per_case;
    per_case.reserve(static_cast<std::size_t>(theta_val.rows()));
    std::vector<double> ape_alpha, ape_nia;
    for (Index i = 0; i < theta_val.rows(); ++i) {
      per_case.push_back(all.middleRows(i * ns, ns));
      const Eigen::RowVectorXd m = per_case.back().colwise().mean();
      ape_alpha.push_back(100.0 * std::abs((theta_val(i, 0) - m(0)) / theta_val(i, 0)));
      ape_nia.push_back(100.0 * std::abs((theta_val(i, 1) - m(1)) / theta_val(i, 1)));
    }
    auto median = [](std::vector<double> v) {
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      return v[v.size() / 2];
    };
    const auto sbc = diag::run_sbc(per_case, theta_val);
    diag::tarp_options topt;
    topt.seed = seed + 600;
    const auto tarp = diag::run_tarp(per_case, theta_val, topt);
    nlohmann::json cj;
    cj["n_cases"] = theta_val.rows();
    cj["single_star_median_ape_percent"] = {{"alpha_IMF", median(ape_alpha)},
                                            {"log10_N_Ia", median(ape_nia)}};
    for (std::size_t d = 0; d < 6; ++d) {
      cj["sbc"][kParameters[d]] = {{"chi2_p", sbc.chi2[d].p_value},
                                   {"ks_p", sbc.ks[d].p_value},
                                   {"histogram", sbc.histograms[d]}};
    }
    cj["tarp"] = {{"max_abs_ecp_minus_alpha", tarp.max_abs_deviation},
                  {"atc", tarp.atc},
                  {"ks_p", tarp.ks.p_value}};
    std::ofstream tcsv(fs::path(out_dir) / "tarp.csv");
    tcsv << "alpha,ecp,ecp_mean,ecp_std\n";
    for (Index k = 0; k < tarp.alpha.size(); ++k)
      tcsv << tarp.alpha(k) << ',' << tarp.ecp(k) << ',' << tarp.ecp_mean(k) << ',' << tarp.ecp_std(k) << '\n';
    std::ofstream rcsv(fs::path(out_dir) / "sbc_ranks.csv");
    for (std::size_t d = 0; d < 6; ++d) rcsv << (d ? "," : "") << kParameters[d];
    rcsv << '\n';
    for (Index i = 0; i < sbc.ranks.rows(); ++i) {
      for (Index d = 0; d < sbc.ranks.cols(); ++d) rcsv << (d ? "," : "") << sbc.ranks(i, d);
      rcsv << '\n';
    }
    results["calibration"] = cj;
    log("calibration: TARP max|ECP−α| = " + std::to_string(tarp.max_abs_deviation) +
        ", SBC KS p(α_IMF) = " + std::to_string(sbc.ks[0].p_value) +
        ", p(log10 N_Ia) = " + std::to_string(sbc.ks[1].p_value));
  }
  timing["calibration"] = seconds_since(t0);

  t0 = clock_type::now();
  {
    // Multi-star coverage: mock galaxies with Λ drawn from its prior, stars simulated by the
    // emulator (the flow's own world), combined with each Gaussian combiner.
    std::map<std::string, std::array<std::size_t, 2>> hits;
    const std::array<double, 2> chi2_2dof{2.2788, 5.9915};  // 68 % and 95 % quantiles of χ²(2)
    for (std::size_t gidx = 0; gidx < cfg.coverage_galaxies; ++gidx) {
      const Eigen::VectorXd lam = global.sample(rng);
      Eigen::MatrixXd th = draw_prior(prior, cfg.coverage_stars, rng);
      th.col(0).setConstant(lam(0));
      th.col(1).setConstant(lam(1));
      Eigen::MatrixXd x = emulator(th);
      add_noise(x, cfg.noise_dex, rng);
      const auto post = infer_stars(q, x, cfg.n_samples, box, seed + 1000 + gidx, threads);
      std::map<std::string, inf::gaussian> est;
      try {
        est["corrected"] = inf::corrected_gaussian_product{}.combine(post.lambda_fits, lambda_prior);
      } catch (const chempp::invalid_argument&) {
      }
      est["paper"] = inf::paper_gaussian_product{}.combine(post.lambda_fits, lambda_prior);
      est["inverse_variance_1d"] = inf::inverse_variance_1d{}.combine(post.lambda_fits, lambda_prior);
      for (const auto& [name, e] : est) {
        const double m2 = e.mahalanobis2(lam);
        auto& h = hits[name];
        if (m2 <= chi2_2dof[0]) ++h[0];
        if (m2 <= chi2_2dof[1]) ++h[1];
      }
    }
    nlohmann::json mj;
    for (const auto& [name, h] : hits)
      mj[name] = {{"coverage_68", static_cast<double>(h[0]) / static_cast<double>(cfg.coverage_galaxies)},
                  {"coverage_95", static_cast<double>(h[1]) / static_cast<double>(cfg.coverage_galaxies)}};
    mj["galaxies"] = cfg.coverage_galaxies;
    mj["stars_per_galaxy"] = cfg.coverage_stars;
    results["multi_star_coverage"] = mj;
  }
  timing["multi_star_coverage"] = seconds_since(t0);
  timing["total"] = seconds_since(t_total);

  std::ofstream(fs::path(out_dir) / "results.json") << results.dump(2) << '\n';
  log("done in " + std::to_string(seconds_since(t_total)) + " s; results in " +
      (fs::path(out_dir) / "results.json").string());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "paper_pipeline: error: " << e.what() << '\n';
  return 1;
}
