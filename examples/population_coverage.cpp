// SPDX-License-Identifier: BSD-3-Clause
// population_coverage — is the population posterior of Λ = (α_IMF, log10 N_Ia) calibrated?
//
// Mock galaxies: Λ drawn from its prior (or fixed with --lambda), N stars each with their own
// local parameters from the valid prior, simulated by the bundle's emulator (--world emulator)
// or by CHEMPY itself (--world gce), observed with σ = 0.05 dex in every element (--pattern
// paper) or with He and Ne missing and σ ~ U[0.02, 0.10] dex per star and element (--pattern
// survey). Each galaxy is inferred twice: by the likelihood-based population engine and, as
// the baseline, by the corrected Gaussian product of the flow's per-star Λ marginals.
// Printed: 68 % / 95 % HPD coverage (binomial 1σ errors), the split by distance of Λ from the
// prior mean, the mean Mahalanobis² (2 for a calibrated 2-D posterior), and timing.
//
// Usage: population_coverage --model DIR [--world emulator|gce] [--pattern paper|survey]
//        [--galaxies N] [--stars N] [--lambda A,B] [--seed N] [--threads N] [--samples M]
//        [--out FILE.json] [--quiet] [--exact-correction] [--trace]
// --trace: every grid of every galaxy (mean, σ, border log drop, evidence) on stderr.
// --exact-correction: the engine's multi-fidelity correction by CHEMPY itself (6 × 128 CHEMPY
// runs per star) on top of the emulator.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/diagnostics.hpp"
#include "chempp/gce.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace inf = chempp::inference;
namespace pl = chempp::pipeline;

namespace {
struct tally {
  std::size_t n = 0, h68 = 0, h95 = 0;
  double m2 = 0.0;
  void add(double level, double maha2) {
    ++n;
    h68 += level <= 0.68 ? 1 : 0;
    h95 += level <= 0.95 ? 1 : 0;
    m2 += maha2;
  }
  [[nodiscard]] nlohmann::json json() const {
    const double dn = static_cast<double>(std::max<std::size_t>(1, n));
    const double c68 = static_cast<double>(h68) / dn, c95 = static_cast<double>(h95) / dn;
    return {{"galaxies", n},
            {"coverage_68", c68},
            {"coverage_68_binomial_error", std::sqrt(0.68 * 0.32 / dn)},
            {"coverage_95", c95},
            {"coverage_95_binomial_error", std::sqrt(0.95 * 0.05 / dn)},
            {"mean_mahalanobis2", m2 / dn}};
  }
};
std::string line(const std::string& name, const tally& t) {
  const auto j = t.json();
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-34s n=%4zu  68%%: %.3f ± %.3f   95%%: %.3f ± %.3f   <M²> = %.2f", name.c_str(), t.n,
                j["coverage_68"].get<double>(), j["coverage_68_binomial_error"].get<double>(), j["coverage_95"].get<double>(),
                j["coverage_95_binomial_error"].get<double>(), j["mean_mahalanobis2"].get<double>());
  return buf;
}
}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: population_coverage --model DIR [--world emulator|gce] [--pattern paper|survey]\n"
      "       [--galaxies N] [--stars N] [--lambda A,B] [--seed N] [--threads N] [--samples M] [--out FILE]\n"
      "       [--quiet] [--exact-correction] [--trace]",
      {"--model", "--world", "--pattern", "--galaxies", "--stars", "--samples", "--seed", "--threads", "--out", "--lambda"},
      {"--quiet", "--exact-correction", "--trace"});
  if (cli.help()) return 0;
  const std::string model_dir = cli.required("--model"), out_file = cli.text("--out");
  const std::string world = cli.choice("--world", "emulator", {"emulator", "gce"});
  const std::string pattern = cli.choice("--pattern", "paper", {"paper", "survey"});
  const std::size_t galaxies = cli.positive("--galaxies", 400), n_stars = cli.positive("--stars", 100);
  const std::size_t samples = cli.count("--samples", 0);
  const std::uint64_t seed = cli.count("--seed", 1);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet"), exact_correction = cli.has("--exact-correction"), trace = cli.has("--trace");
  const bool fixed_lambda = cli.has("--lambda");
  Eigen::Vector2d lambda_fixed(-2.3, -2.89);
  if (fixed_lambda) {
    const auto v = cli.numbers("--lambda", 2);
    lambda_fixed = {v[0], v[1]};
  }
  const auto b = pl::load_bundle(model_dir);
  const auto emu = b.simulator();
  const chempp::gce::chempy_model chempy(chempp::yields::resolve_yield_set(b.yields));
  const pl::chempy_simulator gce_sim(chempy, {});
  const auto validity = b.validity();
  const auto global = b.global_prior();
  auto engine_validity = validity;  // the constant valid fraction only (see inference_settings)
  engine_validity.valid = nullptr;
  const inf::population_engine engine(emu, global, b.local_prior(), b.model_cov, engine_validity);
  const inf::gaussian lambda_prior{global.mean(), global.covariance()};
  pl::inference_settings set;
  set.engine.threads = threads;
  if (samples > 0) set.engine.samples_per_star = samples;
  std::mt19937_64 rng(seed);
  std::cerr << "[population_coverage] model " << model_dir << " (" << b.name << "), world " << world << ", pattern " << pattern
            << ", " << galaxies << " galaxies x " << n_stars << " stars, seed " << seed << ", threads " << threads << "\n";
  tally eng_all, eng_far, eng_near, base_all, base_far, base_near;
  std::size_t base_failed = 0, unrestricted = 0, redraws = 0, not_converged = 0, grids_total = 0;
  double t_infer = 0.0, min_ess = INFINITY;
  nlohmann::json per_galaxy = nlohmann::json::array();
  const auto t_start = std::chrono::steady_clock::now();
  for (std::size_t g = 0; g < galaxies; ++g) {
    const Eigen::Vector2d lam = fixed_lambda ? lambda_fixed : Eigen::Vector2d(global.sample(rng));
    std::vector<inf::star_data> stars;
    std::size_t rd = 0;
    if (pattern == "paper") {
      const pl::fixed_pattern pat{0.05, {}};
      stars = world == "emulator" ? pl::simulate_stars(emu, b.prior6, validity, n_stars, pat, rng, &lam, &rd)
                                  : pl::simulate_stars(gce_sim, b.prior6, validity, n_stars, pat, rng, &lam, &rd);
    } else {
      std::mt19937_64 prng(seed * 7919 + g);
      const pl::survey_pattern<std::mt19937_64> pat{0.02, 0.10, {2, 5}, &prng};
      stars = world == "emulator" ? pl::simulate_stars(emu, b.prior6, validity, n_stars, pat, rng, &lam, &rd)
                                  : pl::simulate_stars(gce_sim, b.prior6, validity, n_stars, pat, rng, &lam, &rd);
    }
    redraws += rd;
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t unres = 0;
    const auto props = pl::flow_proposals(b.flow, stars, engine.local_map(), set.flow_samples, seed * 1000003 + g, threads, &unres);
    unrestricted += unres;
    auto opt = set.engine;
    opt.seed = seed * 1000003 + g;
    if (trace)
      opt.on_grid = [g](const inf::grid_report& r) {
        std::cerr << "[trace] galaxy " << g << " grid " << r.index << " nodes " << r.nodes << " M " << r.samples_per_star
                  << " mean " << r.mean.transpose() << " sd " << r.cov.diagonal().cwiseSqrt().transpose() << " border "
                  << r.border_log_drop << " logZ " << r.log_evidence << "\n";
      };
    const auto post = exact_correction ? engine.infer(stars, props, opt, gce_sim) : engine.infer(stars, props, opt);
    t_infer += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& s : post.stars) min_ess = std::min(min_ess, s.ess);
    not_converged += post.converged ? 0 : 1;
    if (trace)
      std::cerr << "[trace] galaxy " << g << " final mean " << post.mean.transpose() << " sd "
                << post.cov.diagonal().cwiseSqrt().transpose() << " converged " << post.converged << " correction "
                << Eigen::Map<const Eigen::VectorXd>(post.exact_correction.data(), 6).transpose() << " true " << lam.transpose() << "\n";
    grids_total += post.grids;
    const double prior_d2 = inf::gaussian{global.mean(), global.covariance()}.mahalanobis2(lam);
    const double level = post.hpd_level(lam), m2 = post.moments().mahalanobis2(lam);
    eng_all.add(level, m2);
    (prior_d2 > 4.0 ? eng_far : eng_near).add(level, m2);
    // baseline: corrected Gaussian product of the flow's Λ marginals
    std::vector<inf::gaussian> marg;
    for (const auto& p : props) marg.push_back({p.mean.head(2), p.cov.topLeftCorner(2, 2)});
    double b_m2 = NAN;
    try {
      const auto comb = inf::corrected_gaussian_product{}.combine(marg, lambda_prior);
      b_m2 = comb.mahalanobis2(lam);
      const double b_level = 1.0 - std::exp(-0.5 * b_m2);  // Gaussian HPD level in 2-D
      base_all.add(b_level, b_m2);
      (prior_d2 > 4.0 ? base_far : base_near).add(b_level, b_m2);
    } catch (const chempp::numerical_error&) {  // corrected precision not positive definite
      ++base_failed;
    }
    per_galaxy.push_back({{"lambda", {lam(0), lam(1)}},
                          {"mean", {post.mean(0), post.mean(1)}},
                          {"sd", {std::sqrt(post.cov(0, 0)), std::sqrt(post.cov(1, 1))}},
                          {"hpd_level", level},
                          {"mahalanobis2", m2},
                          {"baseline_mahalanobis2", b_m2},
                          {"log_evidence", post.log_evidence},
                          {"grids", post.grids},
                          {"converged", post.converged}});
    if (!quiet && ((g + 1) % 20 == 0 || g + 1 == galaxies))
      std::cerr << "[population_coverage] " << (g + 1) << "/" << galaxies << ": " << line("engine", eng_all) << "\n";
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::cout << "population_coverage: " << galaxies << " galaxies x " << n_stars << " " << world << " stars, pattern " << pattern
            << (fixed_lambda ? ", fixed Lambda" : ", Lambda from its prior") << ", seed " << seed << "\n";
  std::cout << line("engine (likelihood, IS)", eng_all) << "\n";
  std::cout << line("engine, Lambda > 2 sigma from prior", eng_far) << "\n";
  std::cout << line("engine, Lambda < 2 sigma from prior", eng_near) << "\n";
  std::cout << line("baseline (corrected Gaussian)", base_all) << "\n";
  std::cout << line("baseline, > 2 sigma from prior", base_far) << "\n";
  std::cout << "baseline failures (not positive definite): " << base_failed << "\n";
  std::cout << "inference: " << t_infer / static_cast<double>(galaxies) << " s per galaxy (" << threads << " threads); smallest ESS "
            << min_ess << "; stars sampled outside T support " << unrestricted << "; GCE redraws " << redraws << "; total " << total
            << " s\n";
  std::cout << "grids per galaxy " << static_cast<double>(grids_total) / static_cast<double>(galaxies)
            << "; galaxies whose grids did not converge: " << not_converged << "\n";
  if (!out_file.empty()) {
    nlohmann::json j;
    j["settings"] = {{"model", model_dir}, {"world", world}, {"pattern", pattern}, {"galaxies", galaxies}, {"stars", n_stars},
                     {"seed", seed}, {"threads", threads}, {"fixed_lambda", fixed_lambda},
                     {"exact_correction", exact_correction}};
    j["engine"] = {{"all", eng_all.json()}, {"beyond_2sigma", eng_far.json()}, {"within_2sigma", eng_near.json()}};
    j["baseline_corrected_gaussian"] = {{"all", base_all.json()}, {"beyond_2sigma", base_far.json()},
                                        {"within_2sigma", base_near.json()}, {"failed", base_failed}};
    j["seconds_per_galaxy"] = t_infer / static_cast<double>(galaxies);
    j["not_converged"] = not_converged;
    j["galaxies"] = per_galaxy;
    std::ofstream(out_file) << j.dump(1) << '\n';
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "population_coverage: error: " << e.what() << '\n';
  return 1;
}
