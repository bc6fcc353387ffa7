// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// A self-describing model bundle — emulator, its error model, flow, priors, observable names,
/// yield set, noise settings, library version — its training from CHEMPY runs, and population
/// inference with it. `chempp-train` writes one, `chempp-infer` reads one; nothing else is
/// needed to use it.
///
/// Directory layout: `bundle.json` (manifest), `emulator.json` (chempp::nn weight format),
/// `flow.json` (chempp::flow format).

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/core/error.hpp"
#include "chempp/core/processes.hpp"
#include "chempp/flow/io.hpp"
#include "chempp/io/json.hpp"
#include "chempp/flow/maf.hpp"
#include "chempp/flow/train.hpp"
#include "chempp/gce/chempy_model.hpp"
#include "chempp/inference/population.hpp"
#include "chempp/nn/accuracy.hpp"
#include "chempp/nn/emulator.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "chempp/nn/trainer.hpp"
#include "chempp/nn/training_data.hpp"
#include "chempp/inference/model_average.hpp"
#include "chempp/nn/weights_io.hpp"
#include "chempp/pipeline/components.hpp"
#include "chempp/yields/combination.hpp"
#include "chempp/yields/shipped.hpp"

namespace chempp::pipeline {

/// Library version written into bundles.
inline constexpr const char* library_version = "0.2.0";

/// θ = (α_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T) → CHEMPY's parameters
/// (`gce::chempy_parameters::from_theta`), as a function object.
struct chempy_theta {
  [[nodiscard]] gce::chempy_parameters operator()(const std::array<double, 6>& t) const {
    return gce::chempy_parameters::from_theta(t);
  }
};
/// CHEMPY itself as a `Simulator` of the paper's 8 observables (mock galaxies "made by CHEMPY",
/// the exact correction): `chempy_simulator sim(model, {})`; the model must outlive it.
using chempy_simulator = inference::gce_simulator<gce::chempy_model, chempy_theta>;

/// The emulator as a simulator of the 8 observables.
using emulator_simulator = inference::emulator_simulator<nn::simd_mlp<float>>;

/// What `train_bundle` builds and how.
struct bundle_config {
  std::string name = "small";
  std::string yields = "tng";                 ///< yield set (`yields::resolve_yield_set`: tng, alt, sn2=…,agb=…,sn1a=…, file)
  std::filesystem::path yields_dir;           ///< CHEMPY's raw yield files, needed for `sn2=…,agb=…,sn1a=…`
  nn::emulator_config emulator = nn::default_emulator_config();
  std::size_t n_error_runs = 20000;           ///< held-out CHEMPY runs for the error model
  std::size_t n_flow_pairs = 200000;          ///< noisy (θ, context) pairs for the flow
  flow::maf_config maf;                       ///< flow architecture (context set by the trainer)
  flow::train_options flow_training;
  noise_settings noise;
};

/// The configurations behind `chempp-train --config small|paper|tiny` (tiny: seconds, for tests).
/// \throws invalid_argument for another name.
[[nodiscard]] inline bundle_config make_bundle_config(const std::string& name) {
  bundle_config c;
  c.name = name;
  c.maf.features = 6;
  c.maf.transforms = 4;
  c.maf.blocks = 2;
  c.maf.permutation = flow::permutation_kind::global_first;
  c.maf.n_global = 2;
  c.maf.condition_first = true;
  c.maf.hidden = 48;
  c.flow_training.batch_size = 256;
  c.flow_training.learning_rate = 2e-3;
  if (name == "small") {
    c.emulator.n_simulations = 100000;
    c.emulator.training.epochs = 150;
    c.emulator.training.max_seconds = 90.0;
    c.n_flow_pairs = 100000;
    c.flow_training.max_epochs = 30;
  } else if (name == "tiny") {  // seconds: for tests of the plumbing (bindings, file formats), not for science
    c.emulator.n_simulations = 4000;
    c.emulator.training.epochs = 5;
    c.emulator.training.max_seconds = 10.0;
    c.n_error_runs = 1000;
    c.n_flow_pairs = 4000;
    c.flow_training.max_epochs = 3;
    c.maf.hidden = 16;
  } else if (name == "paper") {
    c.emulator.n_simulations = 300000;
    c.emulator.training.max_seconds = 150.0;
    c.n_flow_pairs = 200000;
    c.flow_training.max_epochs = 40;
  } else {
    chempp::detail::throw_argument("make_bundle_config", "name (" + name + ")", "must be small, paper or tiny", 0.0);
  }
  return c;
}

/// A trained model bundle.
struct model_bundle {
  std::string name;                            ///< configuration name
  std::string yields = "tng";                  ///< yield set of the GCE runs
  std::string version = library_version;       ///< library version that wrote it
  std::vector<std::string> observables = observable_names();
  std::vector<std::string> catalog_columns = pipeline::catalog_columns();
  inference::product_prior prior6 = inference::paper_prior();  ///< θ prior (Λ, then local)
  noise_settings noise;                        ///< flow training noise
  nn::mlp<float> emulator;                     ///< raw 9-output CHEMPY emulator
  Eigen::MatrixXd model_cov;                   ///< emulator error covariance (8 × 8) [dex²]
  double emulator_median_abs_dex = 0.0;        ///< median |GCE − emulator| on held-out runs
  flow::sbi_maf flow;                          ///< proposal q(θ | x, mask, σ)
  double log_valid_fraction = 0.0;             ///< log prior mass where CHEMPY has a solution
  nlohmann::json report;                       ///< training figures

  /// The validity policy with the stored valid fraction (see `chempy_validity`).
  [[nodiscard]] inference::validity_policy validity() const {
    inference::validity_policy v = chempy_validity(prior6, 0);
    const double lf = log_valid_fraction;
    v.log_fraction = [lf](const Eigen::Vector2d&) { return lf; };
    return v;
  }

  [[nodiscard]] emulator_simulator simulator() const {
    return emulator_simulator(nn::simd_mlp<float>(emulator), raw9_observables());
  }
  [[nodiscard]] inference::product_prior global_prior() const { return prior6.marginal({0, 1}); }
  [[nodiscard]] inference::product_prior local_prior() const { return prior6.marginal({2, 3, 4, 5}); }
};

namespace detail {
inline nlohmann::json prior_to_json(const inference::product_prior& p) {
  auto a = nlohmann::json::array();
  for (const auto& f : p.factors())
    a.push_back({{"name", f.name}, {"family", f.family == inference::prior_factor::kind::normal ? "normal" : "uniform"},
                 {"a", f.a}, {"b", f.b}});
  return a;
}
inline inference::product_prior prior_from_json(const nlohmann::json& j, const std::string& file) {
  const io::json_reader rd{file};
  std::vector<inference::prior_factor> f;
  if (!j.is_array() || j.empty()) rd.fail("prior", "must be a non-empty array");
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string field = "prior[" + std::to_string(i) + "]";
    rd.check_keys(j[i], field, {"name", "family", "a", "b"});
    const auto fam = rd.string(rd.member(j[i], "family", field), field + ".family");
    const double a = rd.number(rd.member(j[i], "a", field), field + ".a");
    const double b = rd.number(rd.member(j[i], "b", field), field + ".b");
    const auto* jn = rd.optional(j[i], "name", field);
    const auto name = jn != nullptr ? rd.string(*jn, field + ".name") : std::string{};
    try {
      if (fam == "normal") f.push_back(inference::prior_factor::normal(a, b, name));
      else if (fam == "uniform") f.push_back(inference::prior_factor::uniform(a, b, name));
      else rd.fail(field + ".family", "must be normal or uniform (got '" + fam + "')");
    } catch (const invalid_argument& e) {
      rd.fail(field, e.what());
    }
  }
  return inference::product_prior(std::move(f));
}
}  // namespace detail

/// Writes `b` into directory `dir` (created). \throws file_error on IO failure.
inline void save_bundle(const model_bundle& b, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  nn::mlp_metadata meta;
  meta.description = "CHEMPY emulator (" + b.yields + " yields), chempp " + b.version;
  meta.input_names = parameter_names();
  nn::save_mlp(b.emulator, dir / "emulator.json", meta);
  flow::save(b.flow, dir / "flow.json");
  nlohmann::json j;
  j["format"] = "chempp-model-bundle";
  j["format_version"] = 1;
  j["name"] = b.name;
  j["library_version"] = b.version;
  j["yields"] = b.yields;
  j["observables"] = b.observables;
  j["catalog_columns"] = b.catalog_columns;
  j["parameters"] = parameter_names();
  j["prior"] = detail::prior_to_json(b.prior6);
  j["noise"] = {{"sigma_dex", b.noise.sigma_dex}, {"sigma_lo", b.noise.sigma_lo}, {"sigma_hi", b.noise.sigma_hi},
                {"p_fixed_sigma", b.noise.p_fixed_sigma}, {"p_all_measured", b.noise.p_all_measured},
                {"p_no_he_ne", b.noise.p_no_he_ne}, {"p_drop", b.noise.p_drop}};
  j["emulator"] = {{"file", "emulator.json"}, {"raw_outputs_used", raw9_observables()},
                   {"median_abs_error_dex", b.emulator_median_abs_dex}};
  j["emulator"]["error_covariance_dex2"] = flow::internal::matrix_to_json(b.model_cov);
  j["flow"] = {{"file", "flow.json"}, {"context", "x (0 if missing), measured (0/1), sigma (0 if missing) per observable"}};
  j["log_valid_fraction"] = b.log_valid_fraction;
  j["report"] = b.report;
  std::ofstream out(dir / "bundle.json");
  if (!out) throw file_error((dir / "bundle.json").string(), 0, "", "cannot open for writing");
  out << j.dump(1) << '\n';
  if (!out) throw file_error((dir / "bundle.json").string(), 0, "", "write failed");
}

/// Reads a bundle written by `save_bundle`. \throws file_error naming the file and field.
[[nodiscard]] inline model_bundle load_bundle(const std::filesystem::path& dir) {
  const auto file = (dir / "bundle.json").string();
  const auto j = io::read_json_file(file, "is this a chempp-train output directory?");
  const io::json_reader rd{file};
  rd.check_keys(j, "", {"format", "format_version", "name", "library_version", "yields", "observables", "catalog_columns",
                        "parameters", "prior", "noise", "emulator", "flow", "log_valid_fraction", "report"});
  if (rd.string(rd.member(j, "format", ""), "format") != "chempp-model-bundle") rd.fail("format", "is not chempp-model-bundle");
  if (const auto* v = rd.optional(j, "format_version", ""); v != nullptr && rd.integer(*v, "format_version") != 1)
    rd.fail("format_version", "unsupported version " + v->dump() + " (this reader reads version 1)");
  model_bundle b;
  b.name = rd.string(rd.member(j, "name", ""), "name");
  b.version = rd.string(rd.member(j, "library_version", ""), "library_version");
  b.yields = rd.string(rd.member(j, "yields", ""), "yields");
  b.observables = rd.strings(rd.member(j, "observables", ""), "observables");
  b.catalog_columns = rd.strings(rd.member(j, "catalog_columns", ""), "catalog_columns");
  if (const auto* ps = rd.optional(j, "parameters", ""); ps != nullptr && rd.strings(*ps, "parameters") != parameter_names())
    rd.fail("parameters", "must list the 6 CHEMPY parameters in chempp's order");
  const auto& n = rd.member(j, "noise", "");
  rd.check_keys(n, "noise", {"sigma_dex", "sigma_lo", "sigma_hi", "p_fixed_sigma", "p_all_measured", "p_no_he_ne", "p_drop"});
  const auto num = [&](const nlohmann::json& o, const char* key, const std::string& parent) {
    return rd.number(rd.member(o, key, parent), io::json_reader::join(parent, key));
  };
  b.noise = {num(n, "sigma_dex", "noise"),      num(n, "sigma_lo", "noise"),   num(n, "sigma_hi", "noise"),
             num(n, "p_fixed_sigma", "noise"),  num(n, "p_all_measured", "noise"), num(n, "p_no_he_ne", "noise"),
             num(n, "p_drop", "noise")};
  const auto& je = rd.member(j, "emulator", "");
  rd.check_keys(je, "emulator", {"file", "raw_outputs_used", "median_abs_error_dex", "error_covariance_dex2"});
  b.emulator_median_abs_dex = num(je, "median_abs_error_dex", "emulator");
  b.model_cov = rd.matrix(rd.member(je, "error_covariance_dex2", "emulator"), "emulator.error_covariance_dex2", 8, 8);
  b.log_valid_fraction = num(j, "log_valid_fraction", "");
  if (b.log_valid_fraction > 0.0) rd.fail("log_valid_fraction", "a log fraction must be <= 0");
  if (const auto* r = rd.optional(j, "report", "")) b.report = *r;
  b.prior6 = detail::prior_from_json(rd.member(j, "prior", ""), file);
  if (b.prior6.dim() != 6) throw file_error(file, 0, "prior", "must have 6 factors");
  if (b.observables.size() != 8 || b.catalog_columns.size() != 8)
    throw file_error(file, 0, "observables", "must list 8 observables and 8 catalog columns");
  if (b.model_cov.rows() != 8 || b.model_cov.cols() != 8)
    throw file_error(file, 0, "emulator.error_covariance_dex2", "must be 8 x 8");
  b.emulator = nn::load_mlp<float>(dir / "emulator.json");
  b.flow = flow::load<flow::sbi_maf>(dir / "flow.json");
  if (b.emulator.input_size() != 6 || b.emulator.output_size() != 9)
    throw file_error((dir / "emulator.json").string(), 0, "layers", "the emulator must map the 6 parameters to 9 raw outputs");
  if (b.flow.context_size() != 24 || b.flow.features() != 6)
    throw file_error((dir / "flow.json").string(), 0, "config", "the flow must have 6 features and a 24-number context");
  return b;
}

/// Progress messages of `train_bundle` (nothing is printed by the library).
using progress_callback = std::function<void(const std::string&)>;

/// Trains a bundle: CHEMPY runs (emulator box), the emulator, its error model on fresh
/// held-out runs from the valid prior, noisy training pairs (with σ and mask patterns), and the
/// flow. `threads` parallelise the GCE runs and the flow; `seed` fixes everything.
/// `split`: the CHEMPY runs dealt out over processes (e.g. MPI ranks, chempp-train-mpi; every
/// process calls this with the same arguments and gets the same bundle, bit for bit the one of a
/// single process); the networks' training is not split (data-parallel SGD would make the
/// bundle depend on the number of processes) and runs on every process.
[[nodiscard]] inline model_bundle train_bundle(const bundle_config& cfg, std::uint64_t seed, unsigned threads,
                                               const progress_callback& log = {}, const process_split& split = {}) {
  using clock = std::chrono::steady_clock;
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  auto secs = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  model_bundle b;
  b.name = cfg.name;
  b.yields = cfg.yields;
  b.noise = cfg.noise;
  const auto t_all = clock::now();
  const gce::chempy_model model(yields::resolve_yield_set(cfg.yields, cfg.yields_dir));
  split.check("chempp::pipeline::train_bundle");
  const auto simulate = [&](std::span<const nn::theta_vector> th) { return gce::simulate_batch(model, th, threads, split); };
  // 1. emulator
  auto t0 = clock::now();
  auto ecfg = cfg.emulator;
  ecfg.data_seed = seed;
  ecfg.training.seed = seed + 1;
  const auto data = nn::generate_training_data(simulate, ecfg.n_simulations, ecfg.data_seed);
  b.report["gce_runs"] = {{"requested", data.n_requested}, {"failed", data.n_failed}, {"seconds", secs(t0)}};
  say("CHEMPY: " + std::to_string(data.x.cols()) + " runs in " + std::to_string(secs(t0)) + " s");
  t0 = clock::now();
  b.emulator = ecfg.make_network<float>(9);
  const auto er = nn::train(b.emulator, nn::matrix<float>(data.x.cast<float>()), nn::matrix<float>(data.y.cast<float>()),
                            ecfg.training, [&](const nn::epoch_report& e) {
                              if (e.epoch % 10 == 0)
                                say("emulator epoch " + std::to_string(e.epoch) + ": validation loss " + std::to_string(e.validation_loss));
                            });
  b.report["emulator_training"] = {{"epochs", er.history.size()}, {"seconds", secs(t0)}};
  // 2. error model on held-out runs from the valid prior
  t0 = clock::now();
  const auto validity = chempy_validity(b.prior6);
  b.log_valid_fraction = validity.log_fraction(Eigen::Vector2d::Zero());
  std::mt19937_64 rng(seed + 2);
  const Eigen::MatrixXd th_err = draw_valid_theta(b.prior6, validity, cfg.n_error_runs, rng);
  std::vector<nn::theta_vector> th_vec(static_cast<std::size_t>(th_err.rows()));
  for (Eigen::Index i = 0; i < th_err.rows(); ++i)
    for (std::size_t k = 0; k < 6; ++k) th_vec[static_cast<std::size_t>(i)][k] = th_err(i, static_cast<Eigen::Index>(k));
  const auto held = nn::simulate_dataset(simulate, std::span<const nn::theta_vector>(th_vec));
  const nn::matrix<float> pred = b.emulator.predict(nn::matrix<float>(held.x.cast<float>()));
  const auto acc = nn::evaluate_accuracy(pred, held.y);
  Eigen::MatrixXd res(held.x.cols(), 8);
  const auto& idx = raw9_observables();
  for (Eigen::Index c = 0; c < held.x.cols(); ++c)
    for (std::size_t j = 0; j < 8; ++j)
      res(c, static_cast<Eigen::Index>(j)) = held.y(static_cast<Eigen::Index>(idx[j]), c) - static_cast<double>(pred(static_cast<Eigen::Index>(idx[j]), c));
  const Eigen::RowVectorXd mres = res.colwise().mean();
  const Eigen::MatrixXd cres = res.rowwise() - mres;
  b.model_cov = cres.transpose() * cres / static_cast<double>(std::max<Eigen::Index>(1, res.rows() - 1));
  {
    std::vector<double> ad;
    for (Eigen::Index i = 0; i < res.size(); ++i) ad.push_back(std::abs(res(i % res.rows(), i / res.rows())));
    std::nth_element(ad.begin(), ad.begin() + static_cast<std::ptrdiff_t>(ad.size() / 2), ad.end());
    b.emulator_median_abs_dex = ad.empty() ? 0.0 : ad[ad.size() / 2];
  }
  b.report["emulator"] = {{"heldout_runs", held.x.cols()}, {"median_abs_error_dex", b.emulator_median_abs_dex},
                          {"median_ape_percent", acc.median_ape_percent},
                          {"residual_sd_dex", flow::internal::vector_to_json(Eigen::VectorXd(b.model_cov.diagonal().cwiseSqrt()))},
                          {"paper_median_abs_error_dex", 0.005}};
  say("emulator: median |GCE − emulator| " + std::to_string(b.emulator_median_abs_dex) + " dex on " +
      std::to_string(held.x.cols()) + " held-out runs (paper: 0.005 dex)");
  // 3. training pairs and flow
  t0 = clock::now();
  const auto sim = b.simulator();
  Eigen::MatrixXd theta_train;
  auto pattern = [&](std::size_t, Eigen::Ref<Eigen::VectorXd> s, Eigen::Ref<Eigen::Array<bool, Eigen::Dynamic, 1>> m) {
    draw_noise_pattern(cfg.noise, rng, s, m);
  };
  const auto train_stars = simulate_stars(sim, b.prior6, validity, cfg.n_flow_pairs, pattern, rng, nullptr, nullptr, &theta_train);
  const Eigen::MatrixXd ctx = flow_contexts(train_stars);
  auto mc = cfg.maf;
  mc.context = 24;
  mc.seed = seed + 3;
  b.flow = flow::sbi_maf(mc);
  auto ft = cfg.flow_training;
  ft.seed = seed + 4;
  const auto fr = flow::train(b.flow, theta_train, ctx, ft, [&](const flow::epoch_report& e) {
    if (e.epoch % 5 == 0) say("flow epoch " + std::to_string(e.epoch) + ": validation NLL " + std::to_string(e.validation_loss));
  });
  b.report["flow"] = {{"pairs", cfg.n_flow_pairs}, {"epochs", fr.epochs}, {"best_validation_nll", fr.best_validation_loss},
                      {"seconds", secs(t0)}};
  b.report["seconds_total"] = secs(t_all);
  b.report["seed"] = seed;
  say("flow: " + std::to_string(fr.epochs) + " epochs, validation NLL " + std::to_string(fr.best_validation_loss));
  return b;
}

/// Settings of `infer_population` beyond the engine's own.
struct inference_settings {
  inference::population_options engine;   ///< the population engine's options
  std::size_t flow_samples = 256;         ///< flow draws per star for its proposal
  bool use_model_error = true;            ///< add the emulator's error covariance
  /// Restrict the local prior to CHEMPY's domain inside every integral (the 5 % test per
  /// importance sample, ~1 µs each, several times the emulator's cost). Off by default: the test
  /// fails on 0.02 % of the prior and does not depend on Λ, so only the constant valid
  /// fraction enters (the evidence), which `validity()` always applies.
  bool use_validity = false;
  /// `compare_models` only: a model whose optimistic log evidence from the locating grids lies
  /// more than this many nats (beyond 3 Monte Carlo errors) below the best model's is screened:
  /// not refined, its located result kept and flagged (probability < e^−margin relative to the
  /// best). +∞: every model gets the full run.
  double screen_log_margin = 30.0;
  /// The engine's multi-fidelity correction by CHEMPY itself with the bundle's yields
  /// (`population_engine::infer` with an exact simulator): the summed log-likelihood difference
  /// CHEMPY − emulator at 6 points around the posterior, fitted by a quadratic in Λ, removes the
  /// emulator's systematic error, which adds up over stars (needed for calibrated posteriors of
  /// ~1000 real or CHEMPY-simulated stars; docs/survey-scale.md). Costs 6 × 2 × samples_per_star
  /// extra runs per star (half of them CHEMPY's, ~0.1 ms each).
  bool exact_correction = false;
};

/// What `infer_population` returns: the posterior plus how the proposals were made.
struct population_result {
  inference::population_posterior posterior;
  /// `compare_models` only: true when the model was screened (far below the best; the
  /// posterior is its last locating grid's, with that grid's evidence and Monte Carlo error).
  bool screened = false;
  std::size_t proposals_unrestricted = 0;  ///< stars whose flow draws ignored T's support
  double seconds = 0.0;
};

/// The bundle's population engine for simulator `sim` (kept by pointer: it must outlive the
/// engine) under settings `s`.
template <inference::Simulator Sim>
[[nodiscard]] inference::population_engine<Sim> population_engine_for(const model_bundle& b, const Sim& sim, const inference_settings& s) {
  inference::validity_policy v = b.validity();
  if (!s.use_validity) v.valid = nullptr;
  return inference::population_engine<Sim>(sim, b.global_prior(), b.local_prior(), s.use_model_error ? b.model_cov : Eigen::MatrixXd{}, v);
}

/// The flow's per-star proposals for `engine` under settings `s` (seed `s.engine.seed + 17`);
/// `unrestricted` counts the stars whose flow draws ignored T's support.
template <inference::Simulator Sim>
[[nodiscard]] std::vector<inference::star_proposal> population_proposals(const model_bundle& b, const inference::population_engine<Sim>& engine,
                                                                         std::span<const inference::star_data> stars,
                                                                         const inference_settings& s, std::size_t* unrestricted) {
  return flow_proposals(b.flow, stars, engine.local_map(), s.flow_samples, s.engine.seed + 17, s.engine.threads, unrestricted);
}

/// The population posterior of Λ for `stars` with the bundle's emulator (or another simulator
/// `sim` with the same parameters and observables, e.g. the GCE model).
template <inference::Simulator Sim>
[[nodiscard]] population_result infer_population(const model_bundle& b, const Sim& sim, std::span<const inference::star_data> stars,
                                                 const inference_settings& s = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  population_result r;
  const auto engine = population_engine_for(b, sim, s);
  const auto props = population_proposals(b, engine, stars, s, &r.proposals_unrestricted);
  if (s.exact_correction) {
    const gce::chempy_model chempy(yields::resolve_yield_set(b.yields));
    const chempy_simulator exact(chempy, {});
    r.posterior = engine.infer(stars, props, s.engine, exact);
  } else {
    r.posterior = engine.infer(stars, props, s.engine);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

/// `infer_population` with the bundle's own emulator.
[[nodiscard]] inline population_result infer_population(const model_bundle& b, std::span<const inference::star_data> stars,
                                                        const inference_settings& s = {}) {
  const auto sim = b.simulator();
  return infer_population(b, sim, stars, s);
}

/// Bayesian comparison of several bundles (e.g. yield sets) on the same stars: each bundle's
/// population posterior and evidence, the posterior model probabilities and the model-averaged
/// posterior of Λ (`inference::model_average`; docs/inference.md, "Model comparison").
struct model_comparison {
  std::vector<population_result> results;  ///< per bundle, in order
  inference::model_average average;        ///< probabilities, their MC errors, averaged Λ posterior
};

/// Every bundle's population posterior and evidence for the same stars (same settings and
/// seed), the posterior model probabilities and the model-averaged posterior of Λ.
///
/// Screening (`inference_settings::screen_log_margin`, `inference::compare_screened`,
/// docs/model-comparison.md): every model
/// first evaluates its first grid; in the order of those evidences each is located (coarse grids),
/// stopping early once it is clearly worse than the best located so far; only models whose
/// optimistic evidence (`population_engine::located_run::optimistic_log_evidence`) comes within
/// the margin of the best get the full run, and a screened model is refined after all when the
/// full runs' best evidence comes lower than first thought. A screened model's probability is
/// then below e^−margin against the best: the ranking and every probability above that are those
/// of full runs.
/// \param prior prior model probabilities (empty: equal).
/// \throws invalid_argument without bundles, or on a bad prior (see `inference::model_probabilities`).
[[nodiscard]] inline model_comparison compare_models(std::span<const model_bundle> bundles, std::span<const inference::star_data> stars,
                                                     const inference_settings& s = {}, std::span<const double> prior = {}) {
  if (bundles.empty()) throw invalid_argument("compare_models: no model bundles given");
  const std::size_t m = bundles.size();
  std::vector<emulator_simulator> sims;  // the engines keep a pointer to their simulator
  sims.reserve(m);
  for (const auto& b : bundles) sims.push_back(b.simulator());
  std::vector<inference::population_engine<emulator_simulator>> engines;
  engines.reserve(m);
  for (std::size_t k = 0; k < m; ++k) engines.push_back(population_engine_for(bundles[k], sims[k], s));
  std::vector<population_result> results(m);
  std::vector<inference::comparison_entry<emulator_simulator>> entries(m);
  // with the exact correction: CHEMPY with each bundle's yields (kept in place: the simulators
  // point to them)
  std::vector<std::unique_ptr<gce::chempy_model>> chempy;
  std::vector<std::unique_ptr<chempy_simulator>> exact;
  if (s.exact_correction)
    for (std::size_t k = 0; k < m; ++k) {
      chempy.push_back(std::make_unique<gce::chempy_model>(yields::resolve_yield_set(bundles[k].yields)));
      exact.push_back(std::make_unique<chempy_simulator>(*chempy.back(), chempy_theta{}));
    }
  for (std::size_t k = 0; k < m; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto props = population_proposals(bundles[k], engines[k], stars, s, &results[k].proposals_unrestricted);
    entries[k].engine = &engines[k];
    if (s.exact_correction)
      entries[k].resume = [&engines, &exact, k](inference::population_engine<emulator_simulator>::located_run&& r) {
        return engines[k].resume(std::move(r), *exact[k]);
      };
    entries[k].run = engines[k].begin(stars, props, s.engine);
    results[k].seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  inference::compare_screened<emulator_simulator>(entries, s.screen_log_margin);
  std::vector<inference::population_posterior> posts;
  for (std::size_t k = 0; k < m; ++k) {
    results[k].posterior = std::move(entries[k].posterior);
    results[k].screened = entries[k].screened;
    results[k].seconds += entries[k].seconds;
    posts.push_back(results[k].posterior);
  }
  inference::model_average avg(std::move(posts), prior);
  return {std::move(results), std::move(avg)};
}

}  // namespace chempp::pipeline
