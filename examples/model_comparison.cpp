// SPDX-License-Identifier: BSD-3-Clause
// model_comparison — can the evidence tell which yields made a galaxy, and are its model
// probabilities calibrated? (docs/model-comparison.md)
//
// For every true model t (a bundle trained on one yield set) and each of --galaxies mock
// galaxies: Λ drawn from the prior, --stars stars with local parameters from the valid prior,
// simulated by CHEMPY itself with t's yields (not by an emulator), observed with σ = 0.05 dex
// in every element (--pattern paper) or with He and Ne missing and σ ~ U[0.02, 0.10] dex
// (--pattern survey). Every bundle then computes its population posterior and log evidence
// (pipeline::compare_models), equal prior model probabilities.
// Printed: how often the true model is the most probable (binomial error), the confusion
// matrix, the reliability table of the model probabilities (predicted P against the realised
// frequency of "this model is the true one", over every galaxy and model), the coverage of the
// model-averaged Λ posterior, the largest Monte Carlo error of a log evidence, and timing.
// --time-stars N: afterwards one galaxy of N stars (true model 0) compared across all models,
// timed (the "8 models, 1000 stars ≤ 2 min").
//
// Usage: model_comparison --model DIR --model DIR2 ... [--truth all|K[,K...]] [--galaxies N]
//        [--stars N] [--pattern paper|survey] [--seed N] [--threads N] [--time-stars N]
//        [--out FILE.json] [--no-screen] [--quiet]
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/gce.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace inf = chempp::inference;
namespace pl = chempp::pipeline;

namespace {
// One mock galaxy of `n` stars made by CHEMPY with bundle `truth`'s yields.
std::vector<inf::star_data> mock_galaxy(const pl::model_bundle& truth, const pl::chempy_simulator& sim, const std::string& pattern, std::size_t n,
                                        const Eigen::Vector2d& lambda, std::mt19937_64& rng, std::uint64_t pattern_seed) {
  const auto validity = truth.validity();
  if (pattern == "paper") return pl::simulate_stars(sim, truth.prior6, validity, n, pl::fixed_pattern{0.05, {}}, rng, &lambda);
  std::mt19937_64 prng(pattern_seed);
  const pl::survey_pattern<std::mt19937_64> pat{0.02, 0.10, {2, 5}, &prng};
  return pl::simulate_stars(sim, truth.prior6, validity, n, pat, rng, &lambda);
}

// Reliability bins of a predicted probability.
constexpr std::array<double, 9> edges{0.0, 1e-3, 1e-2, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0 + 1e-12};
struct bin {
  std::size_t n = 0, hits = 0;
  double sum_p = 0.0;
};
std::size_t bin_of(double p) {
  for (std::size_t b = 0; b + 1 < edges.size(); ++b)
    if (p < edges[b + 1]) return b;
  return edges.size() - 2;
}
}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: model_comparison --model DIR --model DIR2 ... [--truth all|K[,K...]] [--galaxies N] [--stars N]\n"
      "       [--pattern paper|survey] [--seed N] [--threads N] [--time-stars N] [--out FILE.json] [--no-screen] [--quiet]\n"
      "--no-screen: every model gets the full run (default: models 30 nats below the best are screened)",
      {"--model", "--truth", "--galaxies", "--stars", "--pattern", "--seed", "--threads", "--time-stars", "--out"}, {"--quiet", "--no-screen"});
  if (cli.help()) return 0;
  const std::vector<std::string> dirs = cli.all("--model");
  if (dirs.size() < 2) throw std::runtime_error("give at least two --model bundles to compare");
  const std::size_t galaxies = cli.count("--galaxies", 20), n_stars = cli.positive("--stars", 100);
  const std::size_t time_stars = cli.count("--time-stars", 0);
  const std::string pattern = cli.choice("--pattern", "paper", {"paper", "survey"}), out_file = cli.text("--out");
  const std::uint64_t seed = cli.count("--seed", 1);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet");
  std::vector<pl::model_bundle> bundles;
  for (const auto& d : dirs) bundles.push_back(pl::load_bundle(d));
  const std::size_t m = bundles.size();
  std::vector<std::size_t> truths;
  const std::string truth_text = cli.text("--truth", "all");
  if (truth_text == "all") {
    for (std::size_t k = 0; k < m; ++k) truths.push_back(k);
  } else {
    std::stringstream ss(truth_text);
    for (std::string item; std::getline(ss, item, ',');) {
      std::size_t used = 0;
      unsigned long k = 0;
      try {
        k = std::stoul(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || item.empty() || k >= m)
        throw std::runtime_error("--truth: '" + item + "' is not a model index in [0, " + std::to_string(m) + ")");
      truths.push_back(k);
    }
  }
  std::vector<chempp::gce::chempy_model> chempy;  // the true worlds: CHEMPY with each bundle's yields
  chempy.reserve(m);
  for (const auto& b : bundles) chempy.emplace_back(chempp::yields::resolve_yield_set(b.yields));
  pl::inference_settings set;
  set.engine.threads = threads;
  if (cli.has("--no-screen")) set.screen_log_margin = INFINITY;
  std::cerr << "[model_comparison] " << m << " models, truths " << truth_text << ", " << galaxies << " galaxies x " << n_stars << " "
            << pattern << " CHEMPY stars each, seed " << seed << ", threads " << threads << "\n";
  for (std::size_t k = 0; k < m; ++k) std::cerr << "[model_comparison] model " << k << ": " << dirs[k] << " (" << bundles[k].yields << ")\n";

  std::vector<std::vector<std::size_t>> confusion(m, std::vector<std::size_t>(m, 0));
  std::vector<std::size_t> n_truth(m, 0), n_top(m, 0), n_cov68(m, 0), n_cov95(m, 0);
  std::vector<double> min_p_true(m, 1.0);
  std::array<bin, edges.size() - 1> rel{}, rel_top{};
  double max_logz_se = 0.0, t_compare = 0.0;
  std::size_t comparisons = 0, not_converged = 0, screened = 0;
  nlohmann::json per_galaxy = nlohmann::json::array();
  for (const std::size_t t : truths) {
    const pl::chempy_simulator sim(chempy[t], {});
    const auto global = bundles[t].global_prior();
    for (std::size_t g = 0; g < galaxies; ++g) {
      const std::uint64_t gseed = seed * 1000003 + t * 10007 + g;
      std::mt19937_64 rng(gseed);
      const Eigen::Vector2d lam = global.sample(rng);
      const auto stars = mock_galaxy(bundles[t], sim, pattern, n_stars, lam, rng, gseed + 1);
      set.engine.seed = gseed + 2;
      const auto t0 = std::chrono::steady_clock::now();
      const auto cmp = pl::compare_models(bundles, stars, set);
      t_compare += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++comparisons;
      const auto& avg = cmp.average;
      const std::size_t top = avg.best();
      ++n_truth[t];
      ++confusion[t][top];
      n_top[t] += top == t ? 1 : 0;
      min_p_true[t] = std::min(min_p_true[t], avg.probability[t]);
      for (std::size_t k = 0; k < m; ++k) {
        auto& b = rel[bin_of(avg.probability[k])];
        ++b.n;
        b.sum_p += avg.probability[k];
        b.hits += k == t ? 1 : 0;
        max_logz_se = std::max(max_logz_se, cmp.results[k].posterior.log_evidence_se);
        screened += cmp.results[k].screened ? 1 : 0;
        not_converged += cmp.results[k].posterior.converged || cmp.results[k].screened ? 0 : 1;
      }
      auto& bt = rel_top[bin_of(avg.probability[top])];
      ++bt.n;
      bt.sum_p += avg.probability[top];
      bt.hits += top == t ? 1 : 0;
      std::mt19937_64 drng(gseed + 3);
      const double level = avg.hpd_level(lam, avg.sample(20000, drng));
      n_cov68[t] += level <= 0.68 ? 1 : 0;
      n_cov95[t] += level <= 0.95 ? 1 : 0;
      nlohmann::json lz = nlohmann::json::array(), lzse = nlohmann::json::array();
      for (const auto& r : cmp.results) {
        lz.push_back(r.posterior.log_evidence);
        lzse.push_back(r.posterior.log_evidence_se);
      }
      per_galaxy.push_back({{"truth", t}, {"lambda", {lam(0), lam(1)}}, {"log_evidence", lz}, {"log_evidence_se", lzse},
                            {"probability", avg.probability}, {"top", top}, {"averaged_hpd_level", level},
                            {"averaged_mean", {avg.mean(0), avg.mean(1)}}});
      if (!quiet)
        std::cerr << "[model_comparison] truth " << t << " galaxy " << g << ": top " << top << ", P(true) " << avg.probability[t]
                  << ", averaged HPD level of the true Lambda " << level << "\n";
    }
  }

  // ---- report ---------------------------------------------------------------------------------
  const auto frac = [](std::size_t a, std::size_t n) { return n == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(n); };
  const auto berr = [](double p, std::size_t n) { return n == 0 ? 0.0 : std::sqrt(std::max(p * (1 - p), 0.0) / static_cast<double>(n)); };
  std::printf("model_comparison: %zu models, %zu galaxies x %zu CHEMPY stars per true model, pattern %s, seed %llu\n", m, galaxies,
              n_stars, pattern.c_str(), static_cast<unsigned long long>(seed));
  std::size_t all_top = 0, all_n = 0, all68 = 0, all95 = 0;
  for (const std::size_t t : truths) {
    const std::size_t n = n_truth[t];
    if (n == 0) continue;
    all_top += n_top[t];
    all_n += n;
    all68 += n_cov68[t];
    all95 += n_cov95[t];
    std::printf("  true model %zu (%s): top in %zu/%zu = %.2f; smallest P(true) %.3g; averaged Lambda 68%%/95%% coverage %.2f/%.2f\n", t,
                bundles[t].yields.c_str(), n_top[t], n, frac(n_top[t], n), min_p_true[t], frac(n_cov68[t], n), frac(n_cov95[t], n));
  }
  const double top_frac = frac(all_top, all_n);
  std::printf("true model most probable: %zu/%zu = %.3f ± %.3f (binomial); model-averaged Lambda coverage 68%%: %.3f ± %.3f, 95%%: %.3f ± %.3f\n",
              all_top, all_n, top_frac, berr(top_frac, all_n), frac(all68, all_n), berr(0.68, all_n), frac(all95, all_n),
              berr(0.95, all_n));
  std::printf("confusion matrix (rows: true model, columns: most probable model)\n      ");
  for (std::size_t k = 0; k < m; ++k) std::printf(" %5zu", k);
  std::printf("\n");
  for (const std::size_t t : truths) {
    std::printf("  %3zu ", t);
    for (std::size_t k = 0; k < m; ++k) std::printf(" %5zu", confusion[t][k]);
    std::printf("\n");
  }
  const auto print_rel = [&](const char* title, const auto& r) {
    std::printf("%s\n  %-16s %6s %12s %10s %10s\n", title, "predicted P", "n", "mean P", "realised", "binom. err");
    for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
      if (r[b].n == 0) continue;
      const double mp = r[b].sum_p / static_cast<double>(r[b].n);
      char range[40];
      std::snprintf(range, sizeof range, "[%g, %g)", edges[b], std::min(edges[b + 1], 1.0));
      std::printf("  %-16s %6zu %12.4f %10.4f %10.4f\n", range, r[b].n, mp, frac(r[b].hits, r[b].n), berr(mp, r[b].n));
    }
  };
  print_rel("reliability of every model probability (realised: fraction where that model is the true one)", rel);
  print_rel("reliability of the top model's probability (realised: fraction where the top model is the true one)", rel_top);
  std::printf("largest Monte Carlo standard error of a log evidence: %.3g nats; screened models (%g nats below the best): %zu of %zu; "
              "other posterior grids not converged: %zu\n",
              max_logz_se, set.screen_log_margin, screened, comparisons * m, not_converged);
  std::printf("comparison of %zu models on %zu stars: %.2f s per galaxy (%u threads)\n", m, n_stars,
              comparisons == 0 ? 0.0 : t_compare / static_cast<double>(comparisons), threads);
  nlohmann::json timing;
  if (time_stars > 0) {
    std::mt19937_64 rng(seed + 77);
    const pl::chempy_simulator sim(chempy[0], {});
    const Eigen::Vector2d lam = bundles[0].global_prior().mean();
    const auto stars = mock_galaxy(bundles[0], sim, pattern, time_stars, lam, rng, seed + 78);
    set.engine.seed = seed + 79;
    const auto t0 = std::chrono::steady_clock::now();
    const auto cmp = pl::compare_models(bundles, stars, set);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("timing: %zu models compared on one galaxy of %zu CHEMPY stars (true model 0): %.1f s (%u threads; target 120 s); P(true) = %.4f\n",
                m, time_stars, secs, threads, cmp.average.probability[0]);
    nlohmann::json per_model = nlohmann::json::array();
    for (std::size_t k = 0; k < m; ++k) {
      const auto& r = cmp.results[k];
      std::printf("  model %zu: %.1f s, %zu grids, %.3g simulations, log evidence %.2f ± %.2f, P %.3g%s\n", k, r.seconds, r.posterior.grids,
                  static_cast<double>(r.posterior.simulations), r.posterior.log_evidence, r.posterior.log_evidence_se,
                  cmp.average.probability[k], r.screened ? " (screened)" : r.posterior.converged ? "" : " (not converged)");
      per_model.push_back({{"seconds", r.seconds}, {"grids", r.posterior.grids}, {"simulations", r.posterior.simulations},
                           {"log_evidence", r.posterior.log_evidence}, {"log_evidence_se", r.posterior.log_evidence_se},
                           {"converged", r.posterior.converged}, {"screened", r.screened}});
    }
    timing = {{"stars", time_stars}, {"models", m}, {"seconds", secs}, {"threads", threads}, {"probability_true", cmp.average.probability[0]},
              {"per_model", per_model}};
  }
  if (!out_file.empty()) {
    nlohmann::json j;
    j["settings"] = {{"models", dirs}, {"truths", truths}, {"galaxies", galaxies}, {"stars", n_stars}, {"pattern", pattern},
                     {"seed", seed}, {"threads", threads}, {"screen_log_margin", set.screen_log_margin}};
    j["yields"] = nlohmann::json::array();
    for (const auto& b : bundles) j["yields"].push_back(b.yields);
    j["top_fraction"] = top_frac;
    j["confusion"] = confusion;
    nlohmann::json rj = nlohmann::json::array();
    for (std::size_t b = 0; b + 1 < edges.size(); ++b)
      rj.push_back({{"lower", edges[b]}, {"upper", std::min(edges[b + 1], 1.0)}, {"n", rel[b].n},
                    {"mean_predicted", rel[b].n ? rel[b].sum_p / static_cast<double>(rel[b].n) : 0.0}, {"realised", frac(rel[b].hits, rel[b].n)}});
    j["reliability"] = rj;
    j["max_log_evidence_se"] = max_logz_se;
    j["seconds_per_comparison"] = comparisons == 0 ? 0.0 : t_compare / static_cast<double>(comparisons);
    if (!timing.is_null()) j["timing"] = timing;
    j["galaxies"] = per_galaxy;
    std::ofstream f(out_file);
    if (!f) throw chempp::file_error(out_file, 0, "", "cannot open for writing");
    f << j.dump(1) << '\n';
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "model_comparison: error: " << e.what() << '\n';
  return 1;
}
