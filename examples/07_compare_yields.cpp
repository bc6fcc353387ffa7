// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 07 — which yields made this galaxy? (program `chempp-compare`; docs/model-comparison.md)
//
// Buck et al. 2025 could only show that wrong nucleosynthetic yields bias Λ = (α_IMF, log10 N_Ia)
// by many σ. With the population evidence p(X | yields) chempp can say which yields the data
// prefer (Bayesian model comparison, as COMPASS did with 40 combinations, arXiv:2507.05060):
//   1. one model bundle per yield combination (pipeline::train_bundle with
//      bundle_config::yields = "tng", "alt" or "sn2=NAME,agb=NAME,sn1a=NAME"), or bundles
//      already trained by chempp-train (--model DIR, repeatable);
//   2. a mock galaxy: N stars made by CHEMPY itself with one of the combinations (--truth K),
//      Λ fixed (--lambda) or drawn from its prior (inference::gce_simulator,
//      pipeline::simulate_stars);
//   3. every bundle's population posterior and log evidence, the posterior model probabilities
//      and the model-averaged Λ posterior (pipeline::compare_models, inference::model_average);
//   4. the ranking, printed, and a figure (SVG: the probabilities and each model's Λ posterior).
// The same comparison for a survey catalog is `chempp-infer --model DIR1 --model DIR2 …`.
//
// Usage: chempp-compare [--model DIR ... | --yields SPEC ... [--config small|paper] [--save DIR]]
//        [--truth K] [--stars N] [--lambda A,B] [--seed N] [--threads N] [--figure FILE.svg] [--quiet]
// Without --model or --yields it trains small bundles for tng, alt and
// sn2=TNG_net,agb=Nugrid,sn1a=TNG (about a minute each).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "chempp/gce.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace inf = chempp::inference;
namespace pl = chempp::pipeline;

namespace {
// The figure: posterior model probabilities (bars) and each model's 1σ and 2σ Λ ellipses
// (Gaussian moments of its grid posterior), the true Λ as a cross.
void write_figure(const std::string& file, const std::vector<pl::model_bundle>& bundles, const pl::model_comparison& cmp,
                  std::size_t truth, const Eigen::Vector2d& lam) {
  std::ofstream f(file);
  if (!f) throw chempp::file_error(file, 0, "", "cannot open for writing");
  const std::size_t m = bundles.size();
  const char* colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"};
  const double W = 980, H = 420, bx = 330, bar_h = 12;  // left panel: bars, width bx
  f << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' font-size='12'>\n";
  f << "<rect width='100%' height='100%' fill='white'/>\n";
  f << "<text x='10' y='20' font-size='14'>posterior model probability (true model marked *)</text>\n";
  for (std::size_t k = 0; k < m; ++k) {
    const double y = 40 + 40.0 * static_cast<double>(k), p = cmp.average.probability[k];
    f << "<text x='10' y='" << y + 14 << "'>" << (k == truth ? "* " : "") << bundles[k].yields << "</text>\n";
    f << "<rect x='10' y='" << y + 18 << "' width='" << std::max(1.0, 300.0 * p) << "' height='" << bar_h
      << "' fill='" << colours[k % 8] << "'/>\n";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", p);
    f << "<text x='" << 15 + 300.0 * p << "' y='" << y + 29 << "'>" << buf << "</text>\n";
  }
  // right panel: Λ plane, bounds from every model's 2σ box and the truth
  double x0 = lam(0), x1 = lam(0), y0 = lam(1), y1 = lam(1);
  for (const auto& r : cmp.results) {
    const auto& p = r.posterior;
    const double sx = 2.5 * std::sqrt(p.cov(0, 0)), sy = 2.5 * std::sqrt(p.cov(1, 1));
    x0 = std::min(x0, p.mean(0) - sx), x1 = std::max(x1, p.mean(0) + sx);
    y0 = std::min(y0, p.mean(1) - sy), y1 = std::max(y1, p.mean(1) + sy);
  }
  const double px = bx + 60, pw = W - px - 20, py = 40, ph = H - py - 50;
  const auto X = [&](double v) { return px + (v - x0) / (x1 - x0) * pw; };
  const auto Y = [&](double v) { return py + ph - (v - y0) / (y1 - y0) * ph; };
  f << "<rect x='" << px << "' y='" << py << "' width='" << pw << "' height='" << ph << "' fill='none' stroke='black'/>\n";
  f << "<text x='" << px + pw / 2 - 20 << "' y='" << H - 10 << "'>alpha_IMF</text>\n";
  f << "<text x='" << px - 50 << "' y='" << py - 8 << "'>log10 N_Ia</text>\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", x0);
  f << "<text x='" << px << "' y='" << py + ph + 15 << "'>" << buf << "</text>\n";
  std::snprintf(buf, sizeof buf, "%.3f", x1);
  f << "<text x='" << px + pw - 40 << "' y='" << py + ph + 15 << "'>" << buf << "</text>\n";
  std::snprintf(buf, sizeof buf, "%.3f", y0);
  f << "<text x='" << px - 50 << "' y='" << py + ph << "'>" << buf << "</text>\n";
  std::snprintf(buf, sizeof buf, "%.3f", y1);
  f << "<text x='" << px - 50 << "' y='" << py + 10 << "'>" << buf << "</text>\n";
  for (std::size_t k = 0; k < m; ++k) {
    const auto& p = cmp.results[k].posterior;
    // 2×2 Cholesky factor of the covariance: the ellipse is mean + r L (cos a, sin a)
    const double l00 = std::sqrt(std::max(p.cov(0, 0), 0.0)), l10 = l00 > 0 ? p.cov(1, 0) / l00 : 0.0;
    const double l11 = std::sqrt(std::max(p.cov(1, 1) - l10 * l10, 0.0));
    for (const double r : {1.0, 2.0}) {  // the ellipse as a polygon, mapped point by point
      f << "<polygon fill='none' stroke='" << colours[k % 8] << "' stroke-width='" << (r == 1.0 ? 2 : 1) << "' points='";
      for (int s = 0; s < 64; ++s) {
        const double a = 2.0 * M_PI * s / 64.0;
        const Eigen::Vector2d u(r * l00 * std::cos(a), r * (l10 * std::cos(a) + l11 * std::sin(a)));
        f << X(p.mean(0) + u(0)) << ',' << Y(p.mean(1) + u(1)) << ' ';
      }
      f << "'/>\n";
    }
  }
  f << "<path d='M" << X(lam(0)) - 6 << ',' << Y(lam(1)) << " h12 M" << X(lam(0)) << ',' << Y(lam(1)) - 6
    << " v12' stroke='black' stroke-width='2'/>\n</svg>\n";
}
}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: chempp-compare [--model DIR ... | --yields SPEC ... [--config small|paper] [--save DIR]] [--truth K] [--stars N]\n"
      "                      [--lambda A,B] [--seed N] [--threads N] [--figure FILE.svg] [--quiet]",
      {"--model", "--yields", "--config", "--save", "--truth", "--stars", "--lambda", "--seed", "--threads", "--figure"}, {"--quiet"});
  if (cli.help()) return 0;
  const std::uint64_t seed = cli.count("--seed", 1);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet");
  const std::size_t n_stars = cli.positive("--stars", 100);
  const auto say = [&](const std::string& s) {
    if (!quiet) std::cerr << "[chempp-compare] " << s << std::endl;
  };

  // 1. the models: bundles from disk, or trained here for each yield combination
  std::vector<pl::model_bundle> bundles;
  for (const auto& d : cli.all("--model")) bundles.push_back(pl::load_bundle(d));
  if (bundles.empty()) {
    auto specs = cli.all("--yields");
    if (specs.empty()) specs = {"tng", "alt", "sn2=TNG_net,agb=Nugrid,sn1a=TNG"};
    const std::string config = cli.choice("--config", "small", {"small", "paper"}), save = cli.text("--save");
    for (std::size_t k = 0; k < specs.size(); ++k) {
      auto cfg = pl::make_bundle_config(config);
      cfg.yields = specs[k];
      const auto t0 = std::chrono::steady_clock::now();
      bundles.push_back(pl::train_bundle(cfg, seed + 100 * k, threads, [&](const std::string& s) { say(specs[k] + ": " + s); }));
      say("trained " + specs[k] + " in " + std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) + " s");
      if (!save.empty()) pl::save_bundle(bundles.back(), std::filesystem::path(save) / ("m" + std::to_string(k)));
    }
  }
  if (bundles.size() < 2) throw std::runtime_error("give at least two models (--model or --yields) to compare");
  const std::size_t truth = cli.count("--truth", 0);
  if (truth >= bundles.size()) throw std::runtime_error("--truth must be a model index below " + std::to_string(bundles.size()));

  // 2. the mock galaxy, made by CHEMPY with the true model's yields
  std::mt19937_64 rng(seed);
  Eigen::Vector2d lam = bundles[truth].global_prior().sample(rng);
  if (cli.has("--lambda")) {
    const auto v = cli.numbers("--lambda", 2);
    lam = {v[0], v[1]};
  }
  const chempp::gce::chempy_model chempy(chempp::yields::resolve_yield_set(bundles[truth].yields));
  const pl::chempy_simulator sim(chempy, {});
  const auto stars = pl::simulate_stars(sim, bundles[truth].prior6, bundles[truth].validity(), n_stars, pl::fixed_pattern{0.05, {}}, rng, &lam);
  say("mock galaxy: " + std::to_string(n_stars) + " CHEMPY stars with " + bundles[truth].yields + " yields");

  // 3. every model's evidence, the model probabilities, the model-averaged posterior
  pl::inference_settings set;
  set.engine.threads = threads;
  set.engine.seed = seed + 1;
  const auto t0 = std::chrono::steady_clock::now();
  const auto cmp = pl::compare_models(bundles, stars, set);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // 4. the ranking and the figure
  std::vector<std::size_t> order(bundles.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cmp.average.probability[a] > cmp.average.probability[b]; });
  std::printf("chempp-compare: %zu CHEMPY stars made with %s yields, Lambda = (%.3f, %.3f); %zu models compared in %.1f s\n", n_stars,
              bundles[truth].yields.c_str(), lam(0), lam(1), bundles.size(), secs);
  std::printf("  %-4s %-52s %14s %12s %12s  %s\n", "rank", "yields", "log evidence", "± MC error", "probability", "Lambda mean ± sd");
  for (std::size_t r = 0; r < order.size(); ++r) {
    const std::size_t k = order[r];
    const auto& p = cmp.results[k].posterior;
    std::printf("  %-4zu %-52s %14.2f %12.2g %12.4g  (%.3f ± %.3f, %.3f ± %.3f)%s\n", r + 1, bundles[k].yields.c_str(), p.log_evidence,
                p.log_evidence_se, cmp.average.probability[k], p.mean(0), std::sqrt(p.cov(0, 0)), p.mean(1), std::sqrt(p.cov(1, 1)),
                k == truth ? "  <- true" : "");
  }
  std::printf("  model-averaged Lambda: (%.3f ± %.3f, %.3f ± %.3f)\n", cmp.average.mean(0), std::sqrt(cmp.average.cov(0, 0)),
              cmp.average.mean(1), std::sqrt(cmp.average.cov(1, 1)));
  if (cli.has("--figure")) {
    write_figure(cli.text("--figure"), bundles, cmp, truth, lam);
    std::printf("  figure written to %s\n", cli.text("--figure").c_str());
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chempp-compare: error: " << e.what() << '\n';
  return 1;
}
