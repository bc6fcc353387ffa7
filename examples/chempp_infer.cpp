// SPDX-License-Identifier: BSD-3-Clause
// chempp-infer — the population posterior of Λ = (α_IMF, log10 N_Ia) from a survey catalog,
// with a model bundle from chempp-train (chempp::pipeline::infer_population; docs/inference.md).
//
// Catalog: CSV with a header; abundance columns fe_h c_fe he_fe mg_fe n_fe ne_fe o_fe si_fe
// (any case), uncertainties e_<name> (GALAH) or <NAME>_ERR (APOGEE); empty or nan = not
// measured (chempp/io/catalog.hpp). Output JSON: n_stars, parameters, posterior.{mean, cov,
// sd, samples}, log_evidence, the bundle, and diagnostics.
//
// Usage: chempp-infer --model DIR --catalog FILE.csv --out RESULT.json [--threads N] [--seed N]
//        [--draws N] [--quiet]
#include <chrono>
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

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: chempp-infer --model DIR --catalog FILE.csv --out RESULT.json [--threads N] [--seed N] [--draws N] [--quiet]",
      {"--model", "--catalog", "--out", "--seed", "--draws", "--threads"}, {"--quiet"});
  if (cli.help()) return 0;
  const std::string model = cli.required("--model"), catalog = cli.required("--catalog"), out = cli.required("--out");
  const std::uint64_t seed = cli.count("--seed", 1);
  const std::size_t draws = cli.count("--draws", 4000);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet");
  if (draws < 2000) throw std::runtime_error("--draws must be at least 2000");
  const auto bundle = chempp::pipeline::load_bundle(model);
  const auto cat = chempp::io::read_abundance_catalog(catalog, bundle.catalog_columns);
  if (cat.stars() == 0) throw chempp::file_error(catalog, 0, "", "the catalog has no stars");
  const auto stars = chempp::pipeline::catalog_stars(cat);
  chempp::pipeline::inference_settings set;
  set.engine.threads = threads;
  set.engine.seed = seed;
  if (!quiet)
    set.engine.on_grid = [](const chempp::inference::grid_report& g) {
      std::cerr << "[chempp-infer] grid " << g.index << " (" << g.nodes << " nodes x " << g.samples_per_star
                << " samples/star): mean (" << g.mean(0) << ", " << g.mean(1) << "), sd (" << std::sqrt(g.cov(0, 0)) << ", "
                << std::sqrt(g.cov(1, 1)) << ")\n";
    };
  const auto res = chempp::pipeline::infer_population(bundle, stars, set);
  const auto& p = res.posterior;
  std::mt19937_64 rng(seed + 99);
  const Eigen::MatrixXd s = p.sample(draws, rng);
  nlohmann::json j;
  j["n_stars"] = cat.stars();
  j["catalog"] = catalog;
  j["parameters"] = {"alpha_IMF", "log10_N_Ia"};
  j["posterior"]["mean"] = {p.mean(0), p.mean(1)};
  j["posterior"]["cov"] = {{p.cov(0, 0), p.cov(0, 1)}, {p.cov(1, 0), p.cov(1, 1)}};
  j["posterior"]["sd"] = {std::sqrt(p.cov(0, 0)), std::sqrt(p.cov(1, 1))};
  j["posterior"]["samples"] = nlohmann::json::array();
  for (Eigen::Index r = 0; r < s.rows(); ++r) j["posterior"]["samples"].push_back({s(r, 0), s(r, 1)});
  j["log_evidence"] = p.log_evidence;
  j["model"] = {{"name", bundle.name}, {"directory", model}, {"yields", bundle.yields}, {"library_version", bundle.version}};
  double min_ess = INFINITY;
  for (const auto& d : p.stars) min_ess = std::min(min_ess, d.ess);
  std::vector<std::size_t> measured(cat.n_observables());
  for (std::size_t k = 0; k < cat.n_observables(); ++k) measured[k] = cat.n_measured(k);
  if (!p.converged)
    std::cerr << "chempp-infer: warning: the posterior grid did not converge (see diagnostics.converged)\n";
  j["diagnostics"] = {{"converged", p.converged}, {"log_evidence_standard_error", p.log_evidence_se}, {"grids", p.grids}, {"simulations", p.simulations}, {"smallest_ess", min_ess},
                      {"total_bias_correction", p.total_bias_correction},
                      {"stars_sampled_outside_T_support", res.proposals_unrestricted},
                      {"stars_measured_per_observable", measured}, {"seconds", res.seconds}};
  std::ofstream f(out);
  if (!f) throw chempp::file_error(out, 0, "", "cannot open for writing");
  f << j.dump(1) << '\n';
  std::cout << "chempp-infer: " << cat.stars() << " stars: alpha_IMF = " << p.mean(0) << " ± " << std::sqrt(p.cov(0, 0))
            << ", log10 N_Ia = " << p.mean(1) << " ± " << std::sqrt(p.cov(1, 1)) << ", log evidence = " << p.log_evidence << " ("
            << res.seconds << " s, " << threads << " threads); written to " << out << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chempp-infer: error: " << e.what() << '\n';
  return 1;
}
