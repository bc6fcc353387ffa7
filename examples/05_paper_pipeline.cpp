// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 05 — the paper's question with chempp's pipeline components (program `paper_pipeline`).
//
// Buck et al. 2025 (arXiv:2503.02456) infer the global galactic parameters Λ = (α_IMF, log10 N_Ia)
// from the abundances of many stars. Every stage here is one library call (docs/inference.md):
//   1. a model bundle — CHEMPY runs, the emulator, its error covariance, the proposal flow
//      q(θ | x, mask, σ): chempp::pipeline::train_bundle (or load_bundle, --model DIR);
//   2. three mock galaxies of 1000 stars: CHEMPY with the training (TNG) yields and with the
//      alternative yields (misspecified), both through pipeline::chempy_simulator and
//      pipeline::simulate_stars, and the IllustrisTNG galaxy read from its survey catalog
//      (io::read_abundance_catalog, pipeline::catalog_stars);
//   3. per-star proposals from the flow (pipeline::flow_proposals), then for N = 1, 10, 100,
//      1000 stars the population posterior (inference::population_engine: the likelihood does
//      the combining, with evidence) next to the paper's approach, the corrected Gaussian
//      product of the flow's per-star Λ marginals (inference::corrected_gaussian_product);
//   4. single-star calibration of the flow: SBC ranks and TARP (diagnostics::run_sbc, run_tarp);
//   5. multi-star calibration: mock galaxies with Λ from its prior (diagnostics::
//      combiner_coverage for the Gaussian product, combination_coverage for the engine's
//      moments): 68 % / 95 % coverage, mean Mahalanobis² (2 when calibrated), and the split by
//      the distance of Λ from the prior mean. (`population_coverage` does this at scale, with
//      HPD regions and GCE-simulated stars.)
// It writes DIR/results.json and CSV files; `05_paper_pipeline.py DIR` draws the figures.
//
// Usage: paper_pipeline [--out DIR] [--config small|paper] [--model DIR] [--seed N] [--threads N]
//        [--coverage-galaxies N] [--validation N] [--quiet]
// Progress goes to stderr through observer callbacks; chempp's library code prints nothing.
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
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/diagnostics.hpp"
#include "chempp/gce.hpp"
#include "chempp/io/catalog.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace fs = std::filesystem;
namespace inf = chempp::inference;
namespace pl = chempp::pipeline;
namespace diag = chempp::diagnostics;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

nlohmann::json gaussian_json(const inf::gaussian& g) {
  return {{"mean", {g.mean(0), g.mean(1)}},
          {"cov", {{g.cov(0, 0), g.cov(0, 1)}, {g.cov(1, 0), g.cov(1, 1)}}},
          {"sigma", {std::sqrt(g.cov(0, 0)), std::sqrt(g.cov(1, 1))}}};
}

nlohmann::json coverage_json(const diag::combiner_coverage_result& r) {
  return {{"galaxies", r.used},           {"failures", r.failures},          {"coverage_68", r.fraction[0]},
          {"coverage_95", r.fraction[1]}, {"binomial_sigma_68", r.binomial_sigma[0]},
          {"binomial_sigma_95", r.binomial_sigma[1]}, {"mean_mahalanobis2", r.mean_mahalanobis2}};
}

struct mock {
  std::string name, note;
  std::vector<inf::star_data> stars;
  Eigen::Vector2d truth;
};

}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(argc, argv,
                                 "usage: paper_pipeline [--out DIR] [--config small|paper] [--model DIR] [--seed N] [--threads N]\n"
                                 "       [--coverage-galaxies N] [--validation N] [--quiet]",
                                 {"--out", "--config", "--model", "--seed", "--threads", "--coverage-galaxies", "--validation"},
                                 {"--quiet"});
  if (cli.help()) return 0;
  const fs::path out_dir = cli.text("--out", "paper_pipeline_out");
  const std::string config = cli.choice("--config", "small", {"small", "paper"});
  const std::uint64_t seed = cli.count("--seed", 2025);
  const unsigned threads = cli.threads();
  const std::size_t n_coverage = cli.positive("--coverage-galaxies", 40), n_validation = cli.positive("--validation", 1000);
  const bool quiet = cli.has("--quiet");
  const std::vector<std::size_t> n_list{1, 10, 100, 1000};
  const std::size_t n_stars = n_list.back(), n_samples = 1000;  // stars per galaxy; flow draws per SBC case
  const double noise = 0.05;                                       // σ per abundance [dex]
  fs::create_directories(out_dir);
  auto log = [&](const std::string& s) {
    if (!quiet) std::cerr << "[paper_pipeline] " << s << std::endl;
  };
  nlohmann::json results;
  nlohmann::json& timing = results["timing_seconds"];
  const auto t_total = clock_type::now();

  // 1. The model bundle ------------------------------------------------------------------------
  auto t0 = clock_type::now();
  const pl::model_bundle b = cli.has("--model") ? pl::load_bundle(cli.text("--model"))
                                                : pl::train_bundle(pl::make_bundle_config(config), seed, threads, log);
  if (!cli.has("--model")) pl::save_bundle(b, out_dir / "model");
  timing["bundle"] = seconds_since(t0);
  results["config"] = {{"name", b.name}, {"seed", seed}, {"threads", threads}, {"n_stars", n_stars},
                       {"n_samples", n_samples}, {"noise_dex", noise}};
  results["emulator"] = {{"median_abs_dex", b.emulator_median_abs_dex}, {"paper_median_abs_dex", 0.005}};
  log("bundle '" + b.name + "': emulator median |GCE − emulator| " + std::to_string(b.emulator_median_abs_dex) + " dex");

  const auto emulator = b.simulator();
  const auto validity = b.validity();
  const chempp::gce::chempy_model chempy_tng(chempp::yields::shipped_yield_set("tng"));
  const chempp::gce::chempy_model chempy_alt(chempp::yields::shipped_yield_set("alt"));
  const pl::chempy_simulator gce_tng(chempy_tng, {});
  const pl::chempy_simulator gce_alt(chempy_alt, {});
  // The population engine with the bundle's emulator, priors and error covariance; the constant
  // valid fraction of CHEMPY's domain enters the evidence (pipeline::inference_settings).
  auto engine_validity = validity;
  engine_validity.valid = nullptr;
  const inf::population_engine engine(emulator, b.global_prior(), b.local_prior(), b.model_cov, engine_validity);
  const auto global = b.global_prior();
  const inf::gaussian lambda_prior{global.mean(), global.covariance()};
  inf::population_options eopt;
  eopt.threads = threads;

  // 2. Mock galaxies -----------------------------------------------------------------------------
  std::mt19937_64 rng(seed);
  const Eigen::Vector2d lambda_ref(-2.3, -2.89);  // TNG's IMF slope and SN Ia normalisation
  const pl::fixed_pattern paper_noise{noise, {}};
  std::vector<mock> galaxies;
  galaxies.push_back({"chempy_tng", "CHEMPY with the training (TNG) yields",
                      pl::simulate_stars(gce_tng, b.prior6, validity, n_stars, paper_noise, rng, &lambda_ref), lambda_ref});
  galaxies.push_back({"chempy_alt", "CHEMPY with the alternative yields (misspecified)",
                      pl::simulate_stars(gce_alt, b.prior6, validity, n_stars, paper_noise, rng, &lambda_ref), lambda_ref});
  {
    const auto cat = chempp::io::read_abundance_catalog(fs::path(CHEMPP_EXAMPLES_DATA_DIR) / "tng_galaxy_catalog.csv",
                                                        b.catalog_columns);
    galaxies.push_back({"tng_galaxy", "IllustrisTNG100 subhalo 523071 (examples/data/tng_galaxy_catalog.csv)",
                        pl::catalog_stars(cat), lambda_ref});
  }

  // 3. Per-star proposals, population posterior and the Gaussian product against N ---------------
  std::ofstream lam_csv(out_dir / "lambda_vs_n.csv");
  lam_csv << "scenario,combiner,n_stars,alpha_mean,log10_nia_mean,alpha_sigma,log10_nia_sigma,rho,alpha_true,log10_nia_true\n";
  lam_csv.precision(8);
  for (std::size_t gi = 0; gi < galaxies.size(); ++gi) {
    const auto& g = galaxies[gi];
    t0 = clock_type::now();
    std::size_t unrestricted = 0;
    const auto props = pl::flow_proposals(b.flow, g.stars, engine.local_map(), 256, seed + 100 + gi, threads, &unrestricted);
    nlohmann::json sj{{"note", g.note}, {"truth", {g.truth(0), g.truth(1)}}, {"stars_sampled_outside_support", unrestricted},
                      {"proposal_seconds", seconds_since(t0)}};
    for (const std::size_t n : n_list) {
      if (n > g.stars.size()) continue;
      nlohmann::json nj;
      std::map<std::string, inf::gaussian> est;
      std::vector<inf::gaussian> marg;
      for (std::size_t i = 0; i < n; ++i) marg.push_back({props[i].mean.head(2), props[i].cov.topLeftCorner(2, 2)});
      try {
        est["corrected"] = inf::corrected_gaussian_product{}.combine(marg, lambda_prior);
      } catch (const chempp::invalid_argument& e) {
        nj["corrected_error"] = e.what();
      }
      auto t1 = clock_type::now();
      auto opt = eopt;
      opt.seed = seed + 10 * gi + n;
      const auto post = engine.infer(std::span(g.stars).first(n), std::span(props).first(n), opt);
      est["population"] = post.moments();
      nj["population_seconds"] = seconds_since(t1);
      nj["log_evidence"] = post.log_evidence;
      nj["log_evidence_se"] = post.log_evidence_se;
      nj["converged"] = post.converged;
      for (const auto& [cname, ge] : est) {
        nj[cname] = gaussian_json(ge);
        lam_csv << g.name << ',' << cname << ',' << n << ',' << ge.mean(0) << ',' << ge.mean(1) << ','
                << std::sqrt(ge.cov(0, 0)) << ',' << std::sqrt(ge.cov(1, 1)) << ',' << ge.correlation(0, 1) << ','
                << g.truth(0) << ',' << g.truth(1) << '\n';
      }
      if (n == 100) {  // the population posterior's density on a box of ±5σ, for the contour plot
        std::ofstream gcsv(out_dir / ("grid_" + g.name + "_N100.csv"));
        gcsv.precision(10);
        gcsv << "alpha,log10_nia,log_density\n";
        const Eigen::Vector2d sd = post.cov.diagonal().cwiseSqrt();
        for (int a = 0; a < 61; ++a)
          for (int c = 0; c < 61; ++c) {
            const Eigen::Vector2d l = post.mean + Eigen::Vector2d((a - 30) / 6.0 * sd(0), (c - 30) / 6.0 * sd(1));
            gcsv << l(0) << ',' << l(1) << ',' << std::max(-1e3, post.log_density(l)) << '\n';
          }
      }
      sj["N"][std::to_string(n)] = nj;
    }
    const auto& last = sj["N"][std::to_string(std::min(n_stars, g.stars.size()))]["population"];
    log(g.name + ": population posterior (N = " + std::to_string(std::min(n_stars, g.stars.size())) + ") α_IMF = " +
        std::to_string(last["mean"][0].get<double>()) + " ± " + std::to_string(last["sigma"][0].get<double>()) +
        ", log10 N_Ia = " + std::to_string(last["mean"][1].get<double>()) + " ± " +
        std::to_string(last["sigma"][1].get<double>()));
    results["scenarios"][g.name] = sj;
  }
  timing["mock_galaxies"] = seconds_since(t_total) - timing["bundle"].get<double>();

  // 4. Single-star calibration of the flow: SBC and TARP -------------------------------------------
  t0 = clock_type::now();
  {
    Eigen::MatrixXd theta_val;
    const auto val = pl::simulate_stars(emulator, b.prior6, validity, n_validation, paper_noise, rng, nullptr, nullptr, &theta_val);
    const Eigen::MatrixXd ctx = pl::flow_contexts(val);
    const auto ns = static_cast<Eigen::Index>(n_samples);
    Eigen::MatrixXd all(ctx.rows() * ns, 6);
    chempp::flow::sample_many<xsimd::default_arch, float>(b.flow, ctx, ns, seed + 500, all, threads);
    std::vector<Eigen::MatrixXd> per_case;
    for (Eigen::Index i = 0; i < ctx.rows(); ++i) per_case.push_back(all.middleRows(i * ns, ns));
    const auto sbc = diag::run_sbc(per_case, theta_val);
    diag::tarp_options topt;
    topt.seed = seed + 600;
    const auto tarp = diag::run_tarp(per_case, theta_val, topt);
    nlohmann::json cj;
    cj["n_cases"] = ctx.rows();
    const auto& names = pl::parameter_names();
    for (std::size_t d = 0; d < 6; ++d)
      cj["sbc"][names[d]] = {{"chi2_p", sbc.chi2[d].p_value}, {"ks_p", sbc.ks[d].p_value}, {"histogram", sbc.histograms[d]}};
    cj["tarp"] = {{"max_abs_ecp_minus_alpha", tarp.max_abs_deviation}, {"atc", tarp.atc}, {"ks_p", tarp.ks.p_value}};
    std::ofstream tcsv(out_dir / "tarp.csv");
    tcsv << "alpha,ecp,ecp_mean,ecp_std\n";
    for (Eigen::Index k = 0; k < tarp.alpha.size(); ++k)
      tcsv << tarp.alpha(k) << ',' << tarp.ecp(k) << ',' << tarp.ecp_mean(k) << ',' << tarp.ecp_std(k) << '\n';
    std::ofstream rcsv(out_dir / "sbc_ranks.csv");
    for (std::size_t d = 0; d < 6; ++d) rcsv << (d ? "," : "") << names[d];
    rcsv << '\n';
    for (Eigen::Index i = 0; i < sbc.ranks.rows(); ++i) {
      for (Eigen::Index d = 0; d < sbc.ranks.cols(); ++d) rcsv << (d ? "," : "") << sbc.ranks(i, d);
      rcsv << '\n';
    }
    results["calibration"] = cj;
    log("single star: TARP max|ECP − α| = " + std::to_string(tarp.max_abs_deviation) + ", SBC KS p(α_IMF) = " +
        std::to_string(sbc.ks[0].p_value) + ", p(log10 N_Ia) = " + std::to_string(sbc.ks[1].p_value));
  }
  timing["single_star_calibration"] = seconds_since(t0);

  // 5. Multi-star calibration: galaxies of 100 emulator stars, Λ from its prior ---------------------
  t0 = clock_type::now();
  {
    std::vector<diag::mock_galaxy> all;
    std::vector<inf::gaussian> all_post;  // the population engine's moments per galaxy
    for (std::size_t k = 0; k < n_coverage; ++k) {
      const Eigen::Vector2d lam = global.sample(rng);
      const auto stars = pl::simulate_stars(emulator, b.prior6, validity, 100, paper_noise, rng, &lam);
      const auto props = pl::flow_proposals(b.flow, stars, engine.local_map(), 256, seed + 1000 + k, threads);
      auto opt = eopt;
      opt.seed = seed + 2000 + k;
      diag::mock_galaxy mg{{}, lam};
      for (const auto& p : props) mg.stars.push_back({p.mean.head(2), p.cov.topLeftCorner(2, 2)});
      all.push_back(std::move(mg));
      all_post.push_back(engine.infer(stars, props, opt).moments());
    }
    const std::array<double, 2> levels{0.68, 0.95};
    nlohmann::json mj{{"stars_per_galaxy", 100}};
    std::string line;
    for (const std::string split : {"all", "within_2sigma", "beyond_2sigma"}) {
      std::vector<diag::mock_galaxy> gal;
      std::vector<inf::gaussian> post;
      for (std::size_t k = 0; k < all.size(); ++k) {
        const bool far = lambda_prior.mahalanobis2(all[k].truth) > 4.0;
        if (split == "all" || far == (split == "beyond_2sigma")) {
          gal.push_back(all[k]);
          post.push_back(all_post[k]);
        }
      }
      if (gal.empty()) continue;
      const auto base = diag::combiner_coverage(std::span<const diag::mock_galaxy>(gal), lambda_prior, levels,
                                                inf::corrected_gaussian_product{});
      const auto pop = diag::combination_coverage(std::span<const diag::mock_galaxy>(gal), 2, levels, [&](const diag::mock_galaxy& m) {
        return post[static_cast<std::size_t>(&m - gal.data())];
      });
      mj[split] = {{"population", coverage_json(pop)}, {"corrected", coverage_json(base)}};
      line += "\n  " + split + " (" + std::to_string(gal.size()) + " galaxies): population 68/95 % = " + std::to_string(pop.fraction[0]) +
              "/" + std::to_string(pop.fraction[1]) + ", <M²> " + std::to_string(pop.mean_mahalanobis2) + "; Gaussian product " +
              std::to_string(base.fraction[0]) + "/" + std::to_string(base.fraction[1]) + ", <M²> " +
              std::to_string(base.mean_mahalanobis2);
    }
    results["multi_star_coverage"] = mj;
    log("multi-star coverage: " + line);
  }
  timing["multi_star_coverage"] = seconds_since(t0);
  timing["total"] = seconds_since(t_total);
  std::ofstream(out_dir / "results.json") << results.dump(2) << '\n';
  log("done in " + std::to_string(seconds_since(t_total)) + " s; results in " + (out_dir / "results.json").string());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "paper_pipeline: error: " << e.what() << '\n';
  return 1;
}
