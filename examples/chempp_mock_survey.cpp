// SPDX-License-Identifier: BSD-3-Clause
// chempp-mock-survey — a mock survey catalog of K stellar populations, each with its own
// Λ = (α_IMF, log10 N_Ia), that chempp-infer (--group-by) and chempp-infer-mpi read.
//
// Each population's Λ is drawn from the bundle's prior (or fixed with --lambda A,B); its stars get
// local parameters from the bundle's valid prior (CHEMPY's domain), abundances from the GCE model
// with the bundle's yields (--world gce, default; or the bundle's emulator, --world emulator), and
// survey-like uncertainties and missing elements (Gaussian noise added):
//   --pattern apogee: APOGEE DR17-like (Abdurro'uf et al. 2022, ApJS 259, 35): no He or Ne,
//                     other elements missing at random with probability 5 %, σ ~ U[0.02, 0.10] dex;
//                     columns FE_H / FE_H_ERR …, APOGEE_ID.
//   --pattern galah:  GALAH DR3-like (Buder et al. 2021, MNRAS 506, 150): no He or Ne, N missing in
//                     half of the stars and O in 10 %, others 5 %, σ ~ U[0.03, 0.10] dex;
//                     columns fe_h / e_fe_h …, sobject_id.
// (σ stays inside the range the flow is trained on, pipeline::noise_settings.) Every star carries
// its population's label (0 … K−1) in the column --group-column (default `population`).
// --truth writes each population's true Λ and star count (CSV: population, alpha_IMF,
// log10_N_Ia, n_stars), the file chempp-infer --truth reads. Populations are simulated in
// parallel (--threads); each has its own random stream (seed, population), so the catalog does
// not depend on the thread count.
//
// Usage: chempp-mock-survey --model DIR --out CATALOG.csv [--truth TRUTH.csv] [--populations K]
//        [--stars N] [--lambda A,B] [--pattern apogee|galah] [--world gce|emulator]
//        [--group-column NAME] [--seed N] [--threads N]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "chempp/core/parallel.hpp"
#include "chempp/gce.hpp"
#include "chempp/io/catalog.hpp"
#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

namespace pl = chempp::pipeline;

namespace {

// σ and mask of one star in a survey-like pattern (see the file comment).
struct pattern {
  bool galah = false;
  std::mt19937_64* rng = nullptr;
  std::vector<std::string> observables;
  void operator()(std::size_t, Eigen::Ref<Eigen::VectorXd> s, Eigen::Ref<Eigen::Array<bool, Eigen::Dynamic, 1>> m) const {
    std::uniform_real_distribution<double> sig(galah ? 0.03 : 0.02, 0.10), u01(0.0, 1.0);
    for (Eigen::Index j = 0; j < s.size(); ++j) {
      s(j) = sig(*rng);
      const std::string& name = observables[static_cast<std::size_t>(j)];
      double p_missing = name == "fe_h" ? 0.0 : 0.05;  // [Fe/H] always: it places the star
      if (name == "he_fe" || name == "ne_fe") p_missing = 1.0;
      if (galah && name == "n_fe") p_missing = 0.5;
      if (galah && name == "o_fe") p_missing = 0.1;
      m(j) = !(u01(*rng) < p_missing);
    }
  }
};

}  // namespace

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: chempp-mock-survey --model DIR --out CATALOG.csv [--truth TRUTH.csv] [--populations K] [--stars N]\n"
      "       [--lambda A,B] [--pattern apogee|galah] [--world gce|emulator] [--group-column NAME] [--seed N] [--threads N]\n"
      "K populations (default 4) of N stars each (default 1000), each with its own Lambda (from the bundle's prior unless\n"
      "--lambda), simulated by the GCE model with the bundle's yields and observed in an APOGEE- or GALAH-like pattern.",
      {"--model", "--out", "--truth", "--populations", "--stars", "--lambda", "--pattern", "--world", "--group-column", "--seed",
       "--threads"},
      {});
  if (cli.help()) return 0;
  const std::string model_dir = cli.required("--model"), out = cli.required("--out"), truth = cli.text("--truth");
  const std::size_t k_pop = cli.count("--populations", 4), n_stars = cli.count("--stars", 1000);
  const std::uint64_t seed = cli.count("--seed", 1);
  const unsigned threads = cli.threads();
  const std::string pat = cli.choice("--pattern", "apogee", {"apogee", "galah"});
  const std::string world = cli.choice("--world", "gce", {"gce", "emulator"});
  const std::string group_column = cli.text("--group-column", "population");
  if (k_pop == 0 || n_stars == 0) throw std::runtime_error("--populations and --stars must be at least 1");
  if (group_column.empty()) throw std::runtime_error("--group-column must not be empty");
  const auto b = pl::load_bundle(model_dir);
  const auto global = b.global_prior();
  const auto validity = b.validity();
  // Λ of each population first (independent of the star count)
  std::vector<Eigen::Vector2d> lambda(k_pop);
  {
    std::mt19937_64 rng(seed);
    const bool fixed = cli.has("--lambda");
    const auto v = fixed ? cli.numbers("--lambda", 2) : std::vector<double>{};
    for (auto& l : lambda) l = fixed ? Eigen::Vector2d(v[0], v[1]) : Eigen::Vector2d(global.sample(rng));
  }
  const chempp::gce::chempy_model chempy(chempp::yields::resolve_yield_set(b.yields));
  const pl::chempy_simulator gce_sim(chempy, {});
  const auto emu = b.simulator();
  std::vector<std::vector<chempp::inference::star_data>> stars(k_pop);
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  chempp::detail::run_workers(std::min<std::size_t>(threads, k_pop), [&](std::size_t) {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= k_pop) break;
      std::mt19937_64 rng(seed * 1000003ULL + k + 1), prng(seed * 7919ULL + k + 1);
      const pattern p{pat == "galah", &prng, b.catalog_columns};
      stars[k] = world == "gce" ? pl::simulate_stars(gce_sim, b.prior6, validity, n_stars, p, rng, &lambda[k])
                                : pl::simulate_stars(emu, b.prior6, validity, n_stars, p, rng, &lambda[k]);
    }
  });
  chempp::io::abundance_catalog cat;
  cat.observables = b.catalog_columns;
  const auto n = static_cast<Eigen::Index>(k_pop * n_stars);
  const auto m = static_cast<Eigen::Index>(cat.observables.size());
  cat.x.resize(n, m);
  cat.sigma.resize(n, m);
  cat.measured.resize(n, m);
  cat.group_column = group_column;
  Eigen::Index row = 0;
  for (std::size_t k = 0; k < k_pop; ++k)
    for (std::size_t i = 0; i < n_stars; ++i, ++row) {
      const auto& s = stars[k][i];
      cat.x.row(row) = s.x.transpose();
      cat.sigma.row(row) = s.sigma.transpose();
      cat.measured.row(row) = s.measured.transpose();
      cat.id.push_back("mock-" + std::to_string(k) + "-" + std::to_string(i));
      cat.group.push_back(std::to_string(k));
    }
  {
    std::ofstream f(out, std::ios::binary);
    if (!f) throw chempp::file_error(out, 0, "", "cannot open for writing");
    chempp::io::write_abundance_catalog(f, cat, pat == "galah" ? chempp::io::catalog_convention::galah : chempp::io::catalog_convention::apogee);
    if (!f) throw chempp::file_error(out, 0, "", "write failed");
  }
  if (!truth.empty()) {
    std::ofstream f(truth);
    if (!f) throw chempp::file_error(truth, 0, "", "cannot open for writing");
    f.precision(17);
    f << group_column << ",alpha_IMF,log10_N_Ia,n_stars\n";
    for (std::size_t k = 0; k < k_pop; ++k) f << k << ',' << lambda[k](0) << ',' << lambda[k](1) << ',' << n_stars << '\n';
    if (!f) throw chempp::file_error(truth, 0, "", "write failed");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "chempp-mock-survey: " << k_pop << " populations x " << n_stars << " stars (" << world << ", " << pat << " pattern, seed "
            << seed << ") in " << secs << " s; written to " << out << (truth.empty() ? "" : " and " + truth) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chempp-mock-survey: error: " << e.what() << '\n';
  return 1;
}
