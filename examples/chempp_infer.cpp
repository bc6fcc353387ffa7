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
//        [--model-prior P1,P2,...] [--group-by COLUMN [--truth TRUTH.csv]] [--exact-correction]
//        [--threads N] [--seed N] [--draws N] [--quiet]
// --exact-correction: the population engine's multi-fidelity correction of the emulator by CHEMPY
// with the bundle's yields (pipeline::inference_settings::exact_correction): the emulator's small
// systematic error adds up over stars; at ~1000 stars per population it is needed for calibrated
// posteriors (docs/survey-scale.md).
// With several models (e.g. bundles trained on different yield sets): each one's log evidence
// and posterior under `models`, the posterior model probabilities (equal prior unless
// --model-prior), and as the top-level `posterior` the model-averaged one
// (pipeline::compare_models, inference::model_average).
// With --group-by COLUMN: one posterior and evidence per value of that column (a population,
// e.g. a radial bin), all in `populations`, with a per-population `summary` table (also printed);
// --truth (CSV: the column's name, alpha_IMF, log10_N_Ia, as chempp-mock-survey writes) adds each
// population's HPD level of its true Λ and the 68 %/95 % coverage (docs/survey-scale.md).
//
// chempp-infer-mpi is this program built with MPI (CMake target chempp::mpi): run under mpirun,
// rank r reads the catalog rows r, r + size, … ; the stars' random numbers are keyed on their
// catalog row and the engine's sums over stars are exact, so the result file is the same for
// any number of ranks; rank 0 writes it. A malformed row on any rank stops every rank with that
// row's message; an error during inference ends all ranks (MPI_Abort).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <random>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "chempp/io/catalog.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"
#ifdef CHEMPP_HAVE_FITS
#include "chempp/io/fits_catalog.hpp"
#endif
#include "support/processes.hpp"

namespace {

// The processes the catalog is split over: the MPI ranks (chempp-infer-mpi) or this one process.
using processes = chempp_examples::program_processes;

bool is_fits(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  const auto ends = [&lower](const std::string& s) { return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0; };
  return ends(".fits") || ends(".fit") || ends(".fits.gz") || ends(".fit.gz");
}

// This process's rows (r % size == rank) of a CSV catalog, or of a FITS one by its name.
chempp::io::abundance_catalog read_catalog(const std::string& path, const std::vector<std::string>& columns, const std::string& group_by,
                                           const processes& procs) {
  chempp::io::catalog_options o;
  o.group_column = group_by;
  o.stride = static_cast<std::size_t>(procs.size());
  o.offset = static_cast<std::size_t>(procs.rank());
  if (!is_fits(path)) return chempp::io::read_abundance_catalog(path, columns, o);
#ifdef CHEMPP_HAVE_FITS
  return chempp::io::read_fits_catalog(path, columns, o);
#else
  throw chempp::file_error(path, 0, "", "a FITS catalog, but chempp-infer was built without FITS support (needs cfitsio: CMake option CHEMPP_ENABLE_FITS, Debian libcfitsio-dev); convert it to CSV");
#endif
}

// Population labels in a natural order: numerically when every label is a number, else as text.
std::vector<std::string> sorted_labels(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  bool numeric = true;
  std::map<std::string, double> value;
  for (const auto& s : v) {
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    numeric = numeric && end != s.c_str() && *end == '\0' && std::isfinite(d);
    value[s] = d;
  }
  if (numeric) std::stable_sort(v.begin(), v.end(), [&](const std::string& a, const std::string& b) { return value[a] < value[b]; });
  return v;
}

// The true Λ of each population: CSV with a header naming the group column, alpha_IMF and
// log10_N_Ia (chempp-mock-survey's --truth file), read with the catalog reader's CSV rules.
std::map<std::string, Eigen::Vector2d> read_truth(const std::string& path, const std::string& group_by) {
  namespace csv = chempp::io::detail::csv;
  std::ifstream in(path);
  if (!in) throw chempp::file_error(path, 0, "", "cannot open the truth file");
  std::string text;
  std::size_t line_no = 0;
  std::vector<std::string> head;
  std::map<std::string, Eigen::Vector2d> out;
  std::size_t g = 0, a = 0, n = 0;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (csv::blank_line(text)) continue;
    csv::record r = csv::split(text);
    if (!r.problem.empty()) throw chempp::file_error(path, line_no, "column " + std::to_string(r.bad_cell + 1), r.problem);
    if (head.empty()) {
      head = std::move(r.cells);
      const auto col = [&](const std::string& name) {
        for (std::size_t c = 0; c < head.size(); ++c)
          if (csv::lower(head[c]) == csv::lower(name)) return c;
        throw chempp::file_error(path, line_no, name, "the truth file has no such column");
      };
      g = col(group_by), a = col("alpha_IMF"), n = col("log10_N_Ia");
      continue;
    }
    if (r.cells.size() != head.size())
      throw chempp::file_error(path, line_no, "", "line has " + std::to_string(r.cells.size()) + " cells, the header " + std::to_string(head.size()));
    const auto num = [&](std::size_t c) {
      const auto v = csv::number(r.cells[c], path, line_no, head[c]);
      if (!v) throw chempp::file_error(path, line_no, head[c], "the true value is missing");
      return *v;
    };
    out[r.cells[g]] = Eigen::Vector2d(num(a), num(n));
  }
  if (head.empty()) throw chempp::file_error(path, 1, "header", "the truth file is empty");
  return out;
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

// Diagnostics over every process's stars (collective: every process calls it in the same order).
nlohmann::json diagnostics_json(const chempp::pipeline::population_result& res, const chempp::io::abundance_catalog& cat,
                                std::span<const Eigen::Index> rows, const processes& procs) {
  const auto& p = res.posterior;
  double min_ess = INFINITY;
  for (const auto& d : p.stars) min_ess = std::min(min_ess, d.ess);
  min_ess = procs.min(min_ess);
  std::vector<std::size_t> measured(cat.n_observables(), 0);
  for (std::size_t k = 0; k < cat.n_observables(); ++k) {
    for (const Eigen::Index r : rows) measured[k] += cat.measured(r, static_cast<Eigen::Index>(k)) ? 1 : 0;
    measured[k] = procs.sum(measured[k]);
  }
  return {{"converged", p.converged}, {"screened", res.screened}, {"log_evidence_standard_error", p.log_evidence_se}, {"grids", p.grids},
          {"simulations", p.simulations}, {"smallest_ess", min_ess}, {"total_bias_correction", p.total_bias_correction},
          {"stars_sampled_outside_T_support", procs.sum(res.proposals_unrestricted)}, {"stars_measured_per_observable", measured},
          {"exact_correction", p.exact_correction}, {"exact_correction_stars_skipped", p.exact_skipped}, {"seconds", res.seconds}};
}

// What one population's inference gives, for the summary.
struct population_outcome {
  std::string label;
  std::size_t stars = 0;
  Eigen::Vector2d mean, sd;
  double log_evidence = 0.0, log_evidence_se = 0.0, seconds = 0.0;
  bool converged = false;
  std::string best_model;
  std::optional<double> truth_level;  // HPD level of the true Λ
};

// Everything up to the inference: options, bundles, this process's catalog rows and the
// population labels. Errors here are agreed on by all processes (`first_error`), so every process
// stops with the same message (the catalog's first bad line over all processes).
struct setup {
  std::vector<std::string> models;
  std::vector<chempp::pipeline::model_bundle> bundles;
  std::string catalog, out, group_by, truth_file;
  std::uint64_t seed = 1;
  std::size_t draws = 4000;
  unsigned threads = 1;
  bool quiet = false;
  std::vector<double> model_prior;
  chempp::pipeline::inference_settings set;
  chempp::io::abundance_catalog cat;
  std::map<std::string, Eigen::Vector2d> truth;
};

int run(int argc, char** argv, const processes& procs) {
  std::optional<std::pair<std::uint64_t, std::string>> failure;
  setup su;
  bool help = false;
  try {
    const chempp_examples::cli cli(
        argc, argv,
        "usage: chempp-infer --model DIR [--model DIR2 ...] --catalog FILE.csv|FILE.fits --out RESULT.json [--model-prior P1,P2,...]\n"
        "       [--group-by COLUMN [--truth TRUTH.csv]] [--exact-correction] [--threads N] [--seed N] [--draws N]\n"
        "       [--screen-margin NATS | --no-screen] [--quiet]\n"
        "With several --model: each model's log evidence, the posterior model probabilities and the model-averaged posterior;\n"
        "models whose evidence lies more than --screen-margin (default 30) nats below the best are screened (not refined).\n"
        "With --group-by: one posterior per value of COLUMN (a population) and a summary table; --truth adds the coverage of the true values.\n"
        "--exact-correction: the engine's correction of the emulator by CHEMPY itself (the bundle's yields; ~2x the time), for\n"
        "calibrated posteriors of ~1000 stars or more.",
        {"--model", "--catalog", "--out", "--seed", "--draws", "--threads", "--model-prior", "--screen-margin", "--group-by", "--truth"},
        {"--quiet", "--no-screen", "--exact-correction"});
    help = cli.help();
    if (!help) {
      su.models = cli.all("--model");
      if (su.models.empty()) throw std::runtime_error("--model is required (see --help)");
      su.catalog = cli.required("--catalog");
      su.out = cli.required("--out");
      su.seed = cli.count("--seed", 1);
      su.draws = cli.count("--draws", 4000);
      su.threads = cli.threads();
      su.quiet = cli.has("--quiet");
      su.group_by = cli.text("--group-by");
      su.truth_file = cli.text("--truth");
      if (!su.truth_file.empty() && su.group_by.empty()) throw std::runtime_error("--truth needs --group-by");
      if (cli.has("--model-prior")) su.model_prior = cli.numbers("--model-prior", su.models.size());
      if (su.draws < 2000) throw std::runtime_error("--draws must be at least 2000");
      for (const auto& m : su.models) su.bundles.push_back(chempp::pipeline::load_bundle(m));
      for (std::size_t k = 1; k < su.bundles.size(); ++k)
        if (su.bundles[k].catalog_columns != su.bundles[0].catalog_columns)
          throw std::runtime_error("model " + su.models[k] + " has other observables than " + su.models[0]);
      su.set.engine.threads = su.threads;
      su.set.engine.seed = su.seed;
      su.set.screen_log_margin = cli.has("--no-screen") ? INFINITY : cli.number("--screen-margin", su.set.screen_log_margin);
      if (!(su.set.screen_log_margin >= 0.0)) throw std::runtime_error("--screen-margin must be >= 0");
      su.set.exact_correction = cli.has("--exact-correction");
      if (!su.truth_file.empty()) su.truth = read_truth(su.truth_file, su.group_by);
      su.cat = read_catalog(su.catalog, su.bundles[0].catalog_columns, su.group_by, procs);
    }
  } catch (const chempp::file_error& e) {
    failure = std::make_pair(static_cast<std::uint64_t>(e.line()), std::string(e.what()));
  } catch (const std::exception& e) {
    failure = std::make_pair(std::uint64_t{0}, std::string(e.what()));
  }
  if (const auto err = procs.first_error(failure)) {
    if (procs.root()) std::cerr << "chempp-infer: error: " << *err << '\n';
    return 1;
  }
  if (help) return 0;
  const auto& cat = su.cat;
  const auto& bundles = su.bundles;
  const auto& models = su.models;
  const bool quiet = su.quiet;
  const bool say = !quiet && procs.root();
  // what the catalog holds, over every process's rows
  const std::size_t n_total = procs.sum(cat.stars());
  std::vector<std::size_t> measured(cat.n_observables()), flagged(cat.n_observables());
  for (std::size_t k = 0; k < cat.n_observables(); ++k) {
    measured[k] = procs.sum(cat.n_measured(k));
    flagged[k] = procs.sum(cat.n_flagged(k));
  }
  const std::size_t dropped = procs.sum(cat.dropped.size());
  if (say) {
    for (std::size_t k = 0; k < cat.n_observables(); ++k) {
      if (measured[k] == 0) std::cerr << "[chempp-infer] the catalog has no " << cat.observables[k] << " for any star\n";
      if (flagged[k] > 0) std::cerr << "[chempp-infer] " << flagged[k] << " " << cat.flag_column[k] << " flags removed " << cat.observables[k] << " values\n";
    }
    if (dropped > 0) std::cerr << "[chempp-infer] " << dropped << " stars left out: every abundance they had is flagged\n";
  }
  if (n_total == 0) {
    if (procs.root()) std::cerr << "chempp-infer: error: " << chempp::file_error(su.catalog, 0, "", "the catalog has no stars").what() << '\n';
    return 1;
  }
  const auto all_stars = chempp::pipeline::catalog_stars(cat);
  // the populations: every label any process has, in natural order (one unnamed without --group-by)
  std::vector<std::string> labels{""};
  if (!su.group_by.empty()) labels = sorted_labels(procs.all_strings(sorted_labels(cat.group)));
  for (const auto& [label, t] : su.truth)
    if (std::find(labels.begin(), labels.end(), label) == labels.end() && say)
      std::cerr << "[chempp-infer] the truth file names population '" << label << "', which has no stars\n";
  auto set = su.set;
  set.engine.sum_over_processes = procs.summer();
  // fault injection for the test that a dying rank is reported, not hung on (tests/programs)
  if (const char* kill = std::getenv("CHEMPP_TEST_KILL_RANK"); procs.mpi() && kill != nullptr && std::atoi(kill) == procs.rank())
    std::raise(SIGKILL);
  nlohmann::json populations = nlohmann::json::array();
  std::vector<population_outcome> outcomes;
  bool all_converged = true;
  nlohmann::json single;
  for (const auto& label : labels) {
    std::vector<Eigen::Index> rows;
    for (std::size_t i = 0; i < cat.stars(); ++i)
      if (su.group_by.empty() || cat.group[i] == label) rows.push_back(static_cast<Eigen::Index>(i));
    std::vector<chempp::inference::star_data> stars;
    stars.reserve(rows.size());
    for (const Eigen::Index r : rows) stars.push_back(all_stars[static_cast<std::size_t>(r)]);
    const std::size_t n_pop = procs.sum(stars.size());
    if (say && !su.group_by.empty()) std::cerr << "[chempp-infer] population " << su.group_by << " = " << label << ": " << n_pop << " stars\n";
    auto pset = set;
    if (say)
      pset.engine.on_grid = [](const chempp::inference::grid_report& g) {
        std::cerr << "[chempp-infer] grid " << g.index << " (" << g.nodes << " nodes x " << g.samples_per_star
                  << " samples/star): mean (" << g.mean(0) << ", " << g.mean(1) << "), sd (" << std::sqrt(g.cov(0, 0)) << ", "
                  << std::sqrt(g.cov(1, 1)) << ")\n";
      };
    const auto cmp = chempp::pipeline::compare_models(bundles, stars, pset, su.model_prior);
    const auto& avg = cmp.average;
    std::mt19937_64 rng(su.seed + 99);
    nlohmann::json j;
    if (!su.group_by.empty()) j["population"] = label;
    j["n_stars"] = n_pop;
    const Eigen::MatrixXd draws = avg.sample(su.draws, rng);
    j["posterior"] = posterior_json(avg.mean, avg.cov, draws);
    j["log_evidence"] = avg.log_evidence;
    const std::size_t best = avg.best();
    j["model"] = {{"name", bundles[best].name}, {"directory", models[best]}, {"yields", bundles[best].yields},
                  {"library_version", bundles[best].version}};
    j["diagnostics"] = diagnostics_json(cmp.results[best], cat, rows, procs);
    bool converged = true;
    if (bundles.size() > 1) {
      j["models"] = nlohmann::json::array();
      for (std::size_t k = 0; k < bundles.size(); ++k) {
        const auto& p = cmp.results[k].posterior;
        converged = converged && (p.converged || cmp.results[k].screened);
        j["models"].push_back({{"name", bundles[k].name}, {"directory", models[k]}, {"yields", bundles[k].yields},
                               {"log_evidence", p.log_evidence}, {"log_evidence_standard_error", p.log_evidence_se},
                               {"prior_probability", su.model_prior.empty() ? 1.0 / static_cast<double>(bundles.size()) : su.model_prior[k]},
                               {"probability", avg.probability[k]}, {"probability_standard_error", avg.probability_se[k]},
                               {"posterior", posterior_json(p.mean, p.cov, p.sample(su.draws, rng))},
                               {"diagnostics", diagnostics_json(cmp.results[k], cat, rows, procs)}});
      }
    } else {
      converged = cmp.results[0].posterior.converged;
    }
    all_converged = all_converged && converged;
    population_outcome o;
    o.label = label;
    o.stars = n_pop;
    o.mean = avg.mean;
    o.sd = avg.cov.diagonal().cwiseSqrt();
    o.log_evidence = avg.log_evidence;
    o.log_evidence_se = cmp.results[best].posterior.log_evidence_se;
    o.converged = converged;
    o.best_model = bundles[best].name;
    for (const auto& r : cmp.results) o.seconds += r.seconds;
    if (const auto t = su.truth.find(label); t != su.truth.end()) {
      // one model: the grid's exact HPD level; several: the mixture's, from the draws
      o.truth_level = bundles.size() == 1 ? cmp.results[0].posterior.hpd_level(t->second) : avg.hpd_level(t->second, draws);
      j["truth"] = {{"lambda", {t->second(0), t->second(1)}}, {"hpd_level", *o.truth_level}};
    }
    outcomes.push_back(o);
    if (su.group_by.empty()) {
      single = std::move(j);
      single["catalog"] = su.catalog;
      single["parameters"] = {"alpha_IMF", "log10_N_Ia"};
    } else {
      populations.push_back(std::move(j));
    }
  }
  if (!all_converged && procs.root())
    std::cerr << "chempp-infer: warning: a posterior grid did not converge (see diagnostics.converged)\n";
  nlohmann::json out_json;
  if (su.group_by.empty()) {
    out_json = std::move(single);
  } else {
    out_json["n_stars"] = n_total;
    out_json["catalog"] = su.catalog;
    out_json["parameters"] = {"alpha_IMF", "log10_N_Ia"};
    out_json["group_by"] = su.group_by;
    out_json["populations"] = std::move(populations);
    nlohmann::json table = nlohmann::json::array();
    std::size_t with_truth = 0, in68 = 0, in95 = 0;
    for (const auto& o : outcomes) {
      nlohmann::json row = {{"population", o.label}, {"n_stars", o.stars}, {"mean", {o.mean(0), o.mean(1)}}, {"sd", {o.sd(0), o.sd(1)}},
                            {"log_evidence", o.log_evidence}, {"log_evidence_standard_error", o.log_evidence_se},
                            {"converged", o.converged}, {"model", o.best_model}, {"seconds", o.seconds}};
      if (o.truth_level) {
        ++with_truth;
        in68 += *o.truth_level <= 0.68 ? 1 : 0;
        in95 += *o.truth_level <= 0.95 ? 1 : 0;
        row["truth_hpd_level"] = *o.truth_level;
      }
      table.push_back(std::move(row));
    }
    out_json["summary"] = std::move(table);
    if (with_truth > 0) {
      const auto frac = [&](std::size_t k) { return static_cast<double>(k) / static_cast<double>(with_truth); };
      const auto se = [&](double q) { return std::sqrt(q * (1.0 - q) / static_cast<double>(with_truth)); };
      out_json["coverage"] = {{"populations", with_truth}, {"covered_68", in68}, {"covered_95", in95},
                              {"fraction_68", frac(in68)}, {"fraction_95", frac(in95)},
                              {"binomial_se_68", se(0.68)}, {"binomial_se_95", se(0.95)}};
    }
  }
  out_json["processes"] = procs.size();
  if (procs.root()) {
    std::ofstream f(su.out);
    if (!f) throw chempp::file_error(su.out, 0, "", "cannot open for writing");
    f << out_json.dump(1) << '\n';
    if (!f) throw chempp::file_error(su.out, 0, "", "write failed");
  }
  if (!procs.root()) return 0;
  if (su.group_by.empty()) {
    const auto& o = outcomes[0];
    std::cout << "chempp-infer: " << n_total << " stars: alpha_IMF = " << o.mean(0) << " ± " << o.sd(0) << ", log10 N_Ia = " << o.mean(1)
              << " ± " << o.sd(1) << ", log evidence = " << o.log_evidence;
    if (bundles.size() > 1) {
      std::cout << (su.model_prior.empty() ? " (model-averaged over equally likely models)" : " (model-averaged)");
      const auto& pm = out_json["models"];
      for (std::size_t k = 0; k < bundles.size(); ++k)
        std::cout << "\n  model " << models[k] << " (" << bundles[k].yields << "): log evidence " << pm[k]["log_evidence"].get<double>()
                  << " ± " << pm[k]["log_evidence_standard_error"].get<double>() << ", probability " << pm[k]["probability"].get<double>()
                  << " ± " << pm[k]["probability_standard_error"].get<double>()
                  << (pm[k]["diagnostics"]["screened"].get<bool>() ? " (screened: far below the best, not refined)" : "");
    }
  } else {
    std::cout << "chempp-infer: " << n_total << " stars in " << outcomes.size() << " populations (" << su.group_by << ")\n";
    std::cout << "  population        stars   alpha_IMF          log10_N_Ia         log evidence          conv  model";
    if (!su.truth.empty()) std::cout << "   HPD(true)";
    std::cout << "\n";
    char buf[512];
    for (const auto& o : outcomes) {
      std::snprintf(buf, sizeof buf, "  %-16s %6zu   %7.4f ± %6.4f   %7.4f ± %6.4f   %12.2f ± %5.2f   %-4s  %s", o.label.c_str(), o.stars,
                    o.mean(0), o.sd(0), o.mean(1), o.sd(1), o.log_evidence, o.log_evidence_se, o.converged ? "yes" : "NO",
                    o.best_model.c_str());
      std::cout << buf;
      if (o.truth_level) {
        std::snprintf(buf, sizeof buf, "   %6.3f", *o.truth_level);
        std::cout << buf;
      }
      std::cout << "\n";
    }
    if (out_json.contains("coverage")) {
      const auto& c = out_json["coverage"];
      std::snprintf(buf, sizeof buf,
                    "  coverage of the true values: 68 %% region %zu/%zu = %.3f (expected 0.68 ± %.3f binomial), 95 %% region %zu/%zu = %.3f (0.95 ± %.3f)",
                    c["covered_68"].get<std::size_t>(), c["populations"].get<std::size_t>(), c["fraction_68"].get<double>(),
                    c["binomial_se_68"].get<double>(), c["covered_95"].get<std::size_t>(), c["populations"].get<std::size_t>(),
                    c["fraction_95"].get<double>(), c["binomial_se_95"].get<double>());
      std::cout << buf;
    }
  }
  std::cout << "\n  (" << procs.size() << (procs.size() == 1 ? " process, " : " processes, ") << su.threads << " threads each); written to " << su.out << "\n";
  return 0;
}

}  // namespace

// The work of chempp-infer and chempp-infer-mpi, compiled once; their `main` is
// chempp_infer_main.cpp (support/program_main.hpp).
int chempp_examples::infer_program(int argc, char** argv, const program_processes& procs) { return run(argc, argv, procs); }
