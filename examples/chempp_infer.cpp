// SPDX-License-Identifier: BSD-3-Clause
// chempp-infer — the population posterior of Λ = (α_IMF, log10 N_Ia) from a survey catalog,
// with a model bundle from chempp-train (chempp::pipeline::infer_population; docs/inference.md).
//
// Catalog: CSV with a header; abundance columns fe_h c_fe he_fe mg_fe n_fe ne_fe o_fe si_fe
// (any case), uncertainties e_<name> (GALAH) or <NAME>_ERR (APOGEE); empty or nan = not
// measured; quality flags flag_<name> / <NAME>_FLAG honoured (chempp/io/catalog.hpp). A .fits,
// .fit or .fits.gz catalog is read as a FITS binary table with the same columns when built with
// cfitsio (chempp/io/fits_catalog.hpp, CMake target chempp::fits). Unless --quiet, the observables
// the catalog lacks and what the flags removed go to stderr. Output JSON: n_stars, parameters,
// posterior.{mean, cov, sd, samples}, log_evidence, the bundle, and diagnostics.
//
// Usage: chempp-infer --model DIR [--model DIR2 ...] --catalog FILE.csv|FILE.fits --out RESULT.json
//        [--model-prior P1,P2,...] [--threads N] [--seed N] [--draws N] [--quiet]
// With several models (e.g. bundles trained on different yield sets): each one's log evidence
// and posterior under `models`, the posterior model probabilities (equal prior unless
// --model-prior), and as the top-level `posterior` the model-averaged one
// (pipeline::compare_models, inference::model_average).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "chempp/io/catalog.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"
#ifdef CHEMPP_HAVE_FITS
#include "chempp/io/fits_catalog.hpp"
#endif

namespace {

// A CSV catalog, or a FITS one by its name (.fits, .fit, .fits.gz, .fit.gz; any case).
chempp::io::abundance_catalog read_catalog(const std::string& path, const std::vector<std::string>& columns) {
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const auto ends = [&lower](const std::string& s) { return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0; };
  if (!(ends(".fits") || ends(".fit") || ends(".fits.gz") || ends(".fit.gz"))) return chempp::io::read_abundance_catalog(path, columns);
#ifdef CHEMPP_HAVE_FITS
  return chempp::io::read_fits_catalog(path, columns);
#else
  throw chempp::file_error(path, 0, "", "a FITS catalog, but chempp-infer was built without FITS support (needs cfitsio: CMake option CHEMPP_ENABLE_FITS, Debian libcfitsio-dev); convert it to CSV");
#endif
}

nlohmann::json posterior_json(const Eigen::Vector2d& mean, const Eigen::Matrix2d& cov, const Eigen::MatrixXd& draws) {
  nlohmann::json j;
  j["mean"] = {mean(0), mean(1)};
  j["cov"] = {{cov(0, 0), cov(0, 1)}, {cov(1, 0), cov(1, 1)}};
  j["sd"] = {std::sqrt(cov(0, 0)), std::sqrt(cov(1, 1))};
  j["samples"] = nlohmann::json::array();
  for (Eigen::Index r = 0; r < draws.rows(); ++r) j["samples"].push_back({draws(r, 0), draws(r, 1)});
  return j;
}

nlohmann::json diagnostics_json(const chempp::pipeline::population_result& res, const chempp::io::abundance_catalog& cat) {
  const auto& p = res.posterior;
  double min_ess = INFINITY;
  for (const auto& d : p.stars) min_ess = std::min(min_ess, d.ess);
  std::vector<std::size_t> measured(cat.n_observables());
  for (std::size_t k = 0; k < cat.n_observables(); ++k) measured[k] = cat.n_measured(k);
  return {{"converged", p.converged}, {"screened", res.screened}, {"log_evidence_standard_error", p.log_evidence_se}, {"grids", p.grids},
          {"simulations", p.simulations}, {"smallest_ess", min_ess}, {"total_bias_correction", p.total_bias_correction},
          {"stars_sampled_outside_T_support", res.proposals_unrestricted}, {"stars_measured_per_observable", measured},
          {"seconds", res.seconds}};
}

}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: chempp-infer --model DIR [--model DIR2 ...] --catalog FILE.csv|FILE.fits --out RESULT.json [--model-prior P1,P2,...]\n"
      "       [--threads N] [--seed N] [--draws N] [--screen-margin NATS | --no-screen] [--quiet]\n"
      "With several --model: each model's log evidence, the posterior model probabilities and the model-averaged posterior;\n"
      "models whose evidence lies more than --screen-margin (default 30) nats below the best are screened (not refined).",
      {"--model", "--catalog", "--out", "--seed", "--draws", "--threads", "--model-prior", "--screen-margin"}, {"--quiet", "--no-screen"});
  if (cli.help()) return 0;
  const std::vector<std::string> models = cli.all("--model");
  if (models.empty()) throw std::runtime_error("--model is required (see --help)");
  const std::string catalog = cli.required("--catalog"), out = cli.required("--out");
  const std::uint64_t seed = cli.count("--seed", 1);
  const std::size_t draws = cli.count("--draws", 4000);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet");
  std::vector<double> model_prior;
  if (cli.has("--model-prior")) model_prior = cli.numbers("--model-prior", models.size());
  if (draws < 2000) throw std::runtime_error("--draws must be at least 2000");
  std::vector<chempp::pipeline::model_bundle> bundles;
  for (const auto& m : models) bundles.push_back(chempp::pipeline::load_bundle(m));
  for (std::size_t k = 1; k < bundles.size(); ++k)
    if (bundles[k].catalog_columns != bundles[0].catalog_columns)
      throw std::runtime_error("model " + models[k] + " has other observables than " + models[0]);
  const auto cat = read_catalog(catalog, bundles[0].catalog_columns);
  if (!quiet) {
    for (const auto& name : cat.missing_observables()) std::cerr << "[chempp-infer] the catalog has no " << name << " for any star\n";
    for (std::size_t k = 0; k < cat.n_observables(); ++k)
      if (cat.n_flagged(k) > 0) std::cerr << "[chempp-infer] " << cat.n_flagged(k) << " " << cat.flag_column[k] << " flags removed " << cat.observables[k] << " values\n";
    if (!cat.dropped.empty()) std::cerr << "[chempp-infer] " << cat.dropped.size() << " stars left out: every abundance they had is flagged\n";
  }
  if (cat.stars() == 0) throw chempp::file_error(catalog, 0, "", "the catalog has no stars");
  const auto stars = chempp::pipeline::catalog_stars(cat);
  chempp::pipeline::inference_settings set;
  set.engine.threads = threads;
  set.engine.seed = seed;
  set.screen_log_margin = cli.has("--no-screen") ? INFINITY : cli.number("--screen-margin", set.screen_log_margin);
  if (!(set.screen_log_margin >= 0.0)) throw std::runtime_error("--screen-margin must be >= 0");
  if (!quiet)
    set.engine.on_grid = [](const chempp::inference::grid_report& g) {
      std::cerr << "[chempp-infer] grid " << g.index << " (" << g.nodes << " nodes x " << g.samples_per_star
                << " samples/star): mean (" << g.mean(0) << ", " << g.mean(1) << "), sd (" << std::sqrt(g.cov(0, 0)) << ", "
                << std::sqrt(g.cov(1, 1)) << ")\n";
    };
  const auto cmp = chempp::pipeline::compare_models(bundles, stars, set, model_prior);
  const auto& avg = cmp.average;
  std::mt19937_64 rng(seed + 99);
  nlohmann::json j;
  j["n_stars"] = cat.stars();
  j["catalog"] = catalog;
  j["parameters"] = {"alpha_IMF", "log10_N_Ia"};
  // the single-model fields: the (model-averaged, with several models) posterior and evidence
  j["posterior"] = posterior_json(avg.mean, avg.cov, avg.sample(draws, rng));
  j["log_evidence"] = avg.log_evidence;
  const std::size_t best = avg.best();
  j["model"] = {{"name", bundles[best].name}, {"directory", models[best]}, {"yields", bundles[best].yields},
                {"library_version", bundles[best].version}};
  j["diagnostics"] = diagnostics_json(cmp.results[best], cat);
  bool all_converged = true;
  if (bundles.size() > 1) {
    j["models"] = nlohmann::json::array();
    for (std::size_t k = 0; k < bundles.size(); ++k) {
      const auto& p = cmp.results[k].posterior;
      all_converged = all_converged && (p.converged || cmp.results[k].screened);
      j["models"].push_back({{"name", bundles[k].name}, {"directory", models[k]}, {"yields", bundles[k].yields},
                             {"log_evidence", p.log_evidence}, {"log_evidence_standard_error", p.log_evidence_se},
                             {"prior_probability", model_prior.empty() ? 1.0 / static_cast<double>(bundles.size()) : model_prior[k]},
                             {"probability", avg.probability[k]}, {"probability_standard_error", avg.probability_se[k]},
                             {"posterior", posterior_json(p.mean, p.cov, p.sample(draws, rng))},
                             {"diagnostics", diagnostics_json(cmp.results[k], cat)}});
    }
  } else {
    all_converged = cmp.results[0].posterior.converged;
  }
  if (!all_converged)
    std::cerr << "chempp-infer: warning: a posterior grid did not converge (see diagnostics.converged)\n";
  std::ofstream f(out);
  if (!f) throw chempp::file_error(out, 0, "", "cannot open for writing");
  f << j.dump(1) << '\n';
  std::cout << "chempp-infer: " << cat.stars() << " stars: alpha_IMF = " << avg.mean(0) << " ± " << std::sqrt(avg.cov(0, 0))
            << ", log10 N_Ia = " << avg.mean(1) << " ± " << std::sqrt(avg.cov(1, 1)) << ", log evidence = " << avg.log_evidence;
  if (bundles.size() > 1) {
    std::cout << (model_prior.empty() ? " (model-averaged over equally likely models)" : " (model-averaged)");
    for (std::size_t k = 0; k < bundles.size(); ++k)
      std::cout << "\n  model " << models[k] << " (" << bundles[k].yields << "): log evidence " << cmp.results[k].posterior.log_evidence
                << " ± " << cmp.results[k].posterior.log_evidence_se << ", probability " << avg.probability[k] << " ± "
                << avg.probability_se[k] << (cmp.results[k].screened ? " (screened: far below the best, not refined)" : "");
  }
  std::cout << "\n  (" << threads << " threads); written to " << out << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chempp-infer: error: " << e.what() << '\n';
  return 1;
}
