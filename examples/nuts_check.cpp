// SPDX-License-Identifier: BSD-3-Clause
// nuts_check — the population engine against a reference sampler on the same galaxies: NUTS
// (chempp::inference::run_nuts) over the whole hierarchical model — Λ and every star's
// (log10 SFE, log10 SFR_peak, x_out, T) with T through a logit — using the emulator's analytic
// input Jacobian. Both use the same likelihood (star_likelihood: masked Gaussian with the
// emulator's error covariance) and priors. Printed per galaxy: both means and σ, the difference
// in engine σ units, the σ ratio, and the time of each (the published HMC took ~42 h for 200
// stars; Buck et al. 2025 §1).
//
// Usage: nuts_check --model DIR [--stars N] [--galaxies N] [--first K] [--seed N] [--warmup N]
//        [--draws N] [--threads N] [--out FILE.json]
// --first K simulates (and skips) galaxies 0..K-1, so galaxy K is the same as in a full run: the
// expensive NUTS runs of one seed can be split across processes or sessions.
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "chempp/inference/hierarchical_model.hpp"
#include "chempp/inference/nuts.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace inf = chempp::inference;
namespace pl = chempp::pipeline;

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: nuts_check --model DIR [--stars N] [--galaxies N] [--first K] [--seed N] [--warmup N] [--draws N] [--threads N] "
      "[--out FILE]",
      {"--model", "--stars", "--galaxies", "--first", "--seed", "--warmup", "--draws", "--threads", "--out"});
  if (cli.help()) return 0;
  const std::string model_dir = cli.required("--model"), out_file = cli.text("--out");
  const std::size_t n_stars = cli.positive("--stars", 100), galaxies = cli.count("--galaxies", 3);
  const std::size_t first = cli.count("--first", 0);
  if (first >= galaxies && galaxies > 0)
    throw std::invalid_argument("--first " + std::to_string(first) + " leaves no galaxy of --galaxies " + std::to_string(galaxies));
  const std::size_t warmup = cli.positive("--warmup", 500), draws = cli.positive("--draws", 1000);
  const std::uint64_t seed = cli.count("--seed", 5);
  const unsigned threads = cli.threads();
  const auto b = pl::load_bundle(model_dir);
  const auto emu = b.simulator();
  auto validity = b.validity();
  std::mt19937_64 rng(seed);
  nlohmann::json out = nlohmann::json::array();
  const std::array<Eigen::Vector2d, 3> lambdas{Eigen::Vector2d(-2.3, -2.89), Eigen::Vector2d(-2.1, -3.0),
                                               Eigen::Vector2d(-2.5, -2.7)};
  for (std::size_t g = 0; g < galaxies; ++g) {
    const Eigen::Vector2d lam = lambdas[g % lambdas.size()];
    Eigen::MatrixXd theta;
    const pl::fixed_pattern pat{0.05, {}};
    const auto stars = pl::simulate_stars(emu, b.prior6, validity, n_stars, pat, rng, &lam, nullptr, &theta);
    if (g < first) continue;  // simulated only to advance the generator as a full run does
    // engine
    auto t0 = std::chrono::steady_clock::now();
    pl::inference_settings set;
    set.engine.threads = threads;
    set.engine.seed = seed + g;
    const auto res = pl::infer_population(b, emu, stars, set);
    const double t_engine = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // NUTS over the hierarchical model, started at the truth of the locals' neighbourhood:
    // the engine's Λ and each star's proposal mean (no information from the truth)
    std::vector<inf::star_likelihood> liks;
    for (const auto& s : stars) liks.emplace_back(s, b.model_cov);
    auto dsim = inf::differentiable_mlp_simulator::chempy_observables(b.emulator);
    const inf::hierarchical_model model(std::move(dsim), std::move(liks), b.global_prior(), b.local_prior());
    const auto props = pl::flow_proposals(b.flow, stars, inf::unbounded_map(b.local_prior()), 256, seed + 100 + g, threads);
    Eigen::MatrixXd locals(static_cast<Eigen::Index>(n_stars), 4);
    const inf::unbounded_map map(b.local_prior());
    for (std::size_t i = 0; i < n_stars; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        locals(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            map.to_theta(j, props[i].mean(static_cast<Eigen::Index>(2 + j)));
    const Eigen::VectorXd q0 = model.unconstrain(res.posterior.mean, locals);
    inf::nuts_options no;
    no.warmup = warmup;
    no.draws = draws;
    no.seed = seed * 31 + g;
    t0 = std::chrono::steady_clock::now();
    const auto nr = inf::run_nuts(model, q0, no);
    const double t_nuts = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Eigen::MatrixXd lam_draws = model.global_draws(nr.draws);
    const inf::gaussian nf = inf::fit_gaussian(lam_draws);
    const Eigen::Vector2d esd = res.posterior.cov.diagonal().cwiseSqrt();
    const Eigen::Vector2d nsd = nf.cov.diagonal().cwiseSqrt();
    const double ess0 = inf::effective_sample_size(Eigen::VectorXd(lam_draws.col(0)));
    const double ess1 = inf::effective_sample_size(Eigen::VectorXd(lam_draws.col(1)));
    // the NUTS mean's own Monte Carlo error, in engine σ
    const Eigen::Vector2d mcse(nsd(0) / std::sqrt(ess0), nsd(1) / std::sqrt(ess1));
    std::printf("galaxy %zu (%zu stars, Lambda = (%.2f, %.2f)):\n", g, n_stars, lam(0), lam(1));
    std::printf("  engine  mean (%.5f, %.5f)  sd (%.5f, %.5f)  %.2f s\n", res.posterior.mean(0), res.posterior.mean(1), esd(0),
                esd(1), t_engine);
    std::printf("  NUTS    mean (%.5f, %.5f)  sd (%.5f, %.5f)  %.1f s, ESS (%.0f, %.0f), divergences %zu, mean depth %.1f\n",
                nf.mean(0), nf.mean(1), nsd(0), nsd(1), t_nuts, ess0, ess1, nr.divergences, nr.mean_tree_depth);
    std::printf("  |mean difference| / engine sd: (%.3f, %.3f)  [NUTS MC error (%.3f, %.3f)];  sd ratio engine/NUTS: (%.3f, %.3f)\n",
                std::abs(res.posterior.mean(0) - nf.mean(0)) / esd(0), std::abs(res.posterior.mean(1) - nf.mean(1)) / esd(1),
                mcse(0) / esd(0), mcse(1) / esd(1), esd(0) / nsd(0), esd(1) / nsd(1));
    std::fflush(stdout);
    out.push_back({{"stars", n_stars},
                   {"lambda_true", {lam(0), lam(1)}},
                   {"engine", {{"mean", {res.posterior.mean(0), res.posterior.mean(1)}}, {"sd", {esd(0), esd(1)}}, {"seconds", t_engine}}},
                   {"nuts",
                    {{"mean", {nf.mean(0), nf.mean(1)}},
                     {"sd", {nsd(0), nsd(1)}},
                     {"seconds", t_nuts},
                     {"ess", {ess0, ess1}},
                     {"divergences", nr.divergences},
                     {"warmup", warmup},
                     {"draws", draws}}}});
  }
  if (!out_file.empty()) std::ofstream(out_file) << out.dump(1) << '\n';
  return 0;
} catch (const std::exception& e) {
  std::cerr << "nuts_check: error: " << e.what() << '\n';
  return 1;
}
