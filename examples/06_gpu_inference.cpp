// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 06 / program `gpu_inference`: the inference step of the paper's pipeline (Buck et al.
// 2025 §2.4–2.5; tutorial 05) with the per-star work on the GPU.
//
//   1. train a conditional MAF q(θ | x) of the paper's shape (sbi MAF 8/4, D = 6, C = 8,
//      global-first ordering so that Λ = θ_0..1 are the "global" parameters) on the flow
//      benchmark simulator (`chempp/flow/benchmark_task.hpp`: θ ~ N(0, I), a smooth nonlinear
//      x(θ) plus 0.05 noise) — a stand-in for the emulator + CHEMPY of tutorial 05 that trains in
//      seconds;
//   2. a mock galaxy: N stars sharing Λ_true, with their own local parameters θ_2..5 ~ N(0, 1);
//   3. per star, 1000 posterior samples θ ~ q(θ | x_star) and a Gaussian fit of their Λ columns —
//      on the GPU (`chempp::cuda::posterior_fitter`) when one is present, else on the CPU
//      (`chempp::flow::sample_many` + `chempp::inference::fit_gaussian`), with a message;
//   4. combine the per-star Gaussians with the corrected product (eq. 5,
//      `corrected_gaussian_product`; prior N(0, I) on Λ) for growing numbers of stars.
// Writes DIR/star_fits.csv and DIR/lambda_vs_n.csv.
//
// Usage: gpu_inference [--out DIR] [--stars N] [--samples N] [--seed N] [--train-pairs N] [--epochs N] [--cpu] [--threads N]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/inference/gaussian_combiner.hpp"
#include "chempp/inference/gaussian_fit.hpp"
#include "chempp/cuda/convert.hpp"
#include "chempp/flow/benchmark_task.hpp"
#include "chempp/flow/sampler.hpp"
#include "chempp/flow/train.hpp"
#include "support/cli.hpp"

namespace fl = chempp::flow;
namespace inf = chempp::inference;

// Defined in 06_gpu_inference.cu (compiled by nvcc): false when no GPU is usable.
bool gpu_star_gaussians(const chempp::cuda::maf_weights& weights, const std::vector<float>& x_stars,
                        std::size_t samples_per_star, std::uint64_t seed, std::vector<double>& mean,
                        std::vector<double>& cov, std::string& device);

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: gpu_inference [--out DIR] [--stars N] [--samples N] [--seed N] [--train-pairs N] [--epochs N] [--cpu] [--threads N]",
      {"--out", "--stars", "--samples", "--seed", "--train-pairs", "--epochs", "--threads"}, {"--cpu"});
  if (cli.help()) return 0;
  const std::filesystem::path out_dir = cli.text("--out", "gpu_inference_out");
  const std::size_t n_stars = cli.positive("--stars", 1000), samples = cli.count("--samples", 1000);
  const std::size_t train_pairs = cli.positive("--train-pairs", 20000);
  const int max_epochs = static_cast<int>(cli.positive("--epochs", 300));
  const std::uint64_t seed = cli.count("--seed", 1);
  const bool force_cpu = cli.has("--cpu");
  const unsigned threads = static_cast<unsigned>(cli.positive("--threads", 2));
  if (n_stars < 1 || samples < 3) throw chempp::invalid_argument("gpu_inference: need >= 1 star and >= 3 samples");
  std::filesystem::create_directories(out_dir);
  using clock = std::chrono::steady_clock;
  auto since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };

  // ---- 1. train the posterior estimator ---------------------------------------------------------
  auto t0 = clock::now();
  Eigen::MatrixXd theta_train, x_train;
  fl::benchmark_task::simulate(static_cast<Eigen::Index>(train_pairs), seed, theta_train, x_train);
  fl::maf_config cfg;
  cfg.features = 6;
  cfg.context = 8;
  cfg.permutation = fl::permutation_kind::global_first;
  cfg.n_global = 2;
  cfg.seed = seed + 1;
  fl::sbi_maf flow(cfg);
  fl::train_options topt;
  topt.max_epochs = max_epochs;
  topt.patience = 20;
  topt.learning_rate = 1e-3;
  topt.seed = seed + 2;
  const auto tres = fl::train(flow, theta_train, x_train, topt);
  std::printf("[1/4] flow trained: %d epochs, validation NLL %.3f, %.1f s\n", tres.epochs, tres.best_validation_loss,
              since(t0));

  // ---- 2. mock galaxy -------------------------------------------------------------------------------
  const Eigen::Vector2d lambda_true(0.6, -0.4);
  std::mt19937_64 rng(seed + 3);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd x_obs(static_cast<Eigen::Index>(n_stars), 8);
  for (Eigen::Index s = 0; s < x_obs.rows(); ++s) {
    double th[6] = {lambda_true(0), lambda_true(1), nd(rng), nd(rng), nd(rng), nd(rng)}, xm[8];
    fl::benchmark_task::simulate_mean(th, xm);
    for (int k = 0; k < 8; ++k) x_obs(s, k) = xm[k] + fl::benchmark_task::noise * nd(rng);
  }
  std::printf("[2/4] mock galaxy: %zu stars, Lambda_true = (%.2f, %.2f)\n", n_stars, lambda_true(0), lambda_true(1));

  // ---- 3. per-star posteriors and Gaussian fits -----------------------------------------------------
  t0 = clock::now();
  std::vector<inf::gaussian> fits(n_stars);
  std::string device;
  std::vector<double> mean, cov;
  bool on_gpu = false;
  if (!force_cpu) {
    std::vector<float> xf(n_stars * 8);
    for (std::size_t s = 0; s < n_stars; ++s)
      for (std::size_t k = 0; k < 8; ++k)
        xf[s * 8 + k] = static_cast<float>(x_obs(static_cast<Eigen::Index>(s), static_cast<Eigen::Index>(k)));
    on_gpu = gpu_star_gaussians(chempp::cuda::to_maf_weights(flow), xf, samples, seed + 4, mean, cov, device);
    if (!on_gpu) std::printf("      no CUDA device (%s): running the per-star step on the CPU\n", device.c_str());
  }
  if (on_gpu) {
    for (std::size_t s = 0; s < n_stars; ++s) {
      fits[s].mean = Eigen::Vector2d(mean[2 * s], mean[2 * s + 1]);
      fits[s].cov = Eigen::Map<const Eigen::Matrix2d>(&cov[4 * s]);  // symmetric: layout irrelevant
    }
  } else {
    Eigen::MatrixXd draws(static_cast<Eigen::Index>(n_stars * samples), 6);
    fl::sample_many(flow, x_obs, static_cast<Eigen::Index>(samples), seed + 4, draws, threads);
    for (std::size_t s = 0; s < n_stars; ++s)
      fits[s] = inf::fit_gaussian(draws.block(static_cast<Eigen::Index>(s * samples), 0,
                                              static_cast<Eigen::Index>(samples), 2), 1);
  }
  const double t_stars = since(t0);
  std::printf("[3/4] %zu stars x %zu samples + Gaussian fits on the %s in %.3f s\n", n_stars, samples,
              on_gpu ? ("GPU (" + device + ")").c_str() : "CPU", t_stars);
  {
    std::ofstream csv(out_dir / "star_fits.csv");
    csv << "star,mu_0,mu_1,sigma_0,sigma_1,rho\n";
    for (std::size_t s = 0; s < n_stars; ++s)
      csv << s << ',' << fits[s].mean(0) << ',' << fits[s].mean(1) << ',' << std::sqrt(fits[s].cov(0, 0)) << ','
          << std::sqrt(fits[s].cov(1, 1)) << ',' << fits[s].correlation(0, 1) << '\n';
  }

  // ---- 4. combine: corrected Gaussian product (eq. 5) -----------------------------------------------
  const inf::gaussian prior{Eigen::Vector2d::Zero(), Eigen::Matrix2d::Identity()};  // θ_0..1 ~ N(0, I)
  std::ofstream csv(out_dir / "lambda_vs_n.csv");
  csv << "device,n_stars,mu_0,mu_1,sigma_0,sigma_1,rho,truth_0,truth_1\n";
  std::printf("[4/4] corrected Gaussian product:\n      %8s %10s %10s %9s %9s\n", "N", "mu_0", "mu_1", "sigma_0",
              "sigma_1");
  std::vector<std::size_t> counts;
  for (std::size_t n = 1; n < n_stars; n *= 10) counts.push_back(n);
  counts.push_back(n_stars);
  for (std::size_t n : counts) {
    try {
      const inf::gaussian g =
          inf::corrected_gaussian_product{}.combine(std::span<const inf::gaussian>(fits.data(), n), prior);
      std::printf("      %8zu %10.4f %10.4f %9.4f %9.4f\n", n, g.mean(0), g.mean(1), std::sqrt(g.cov(0, 0)),
                  std::sqrt(g.cov(1, 1)));
      csv << (on_gpu ? "gpu" : "cpu") << ',' << n << ',' << g.mean(0) << ',' << g.mean(1) << ','
          << std::sqrt(g.cov(0, 0)) << ',' << std::sqrt(g.cov(1, 1)) << ',' << g.correlation(0, 1) << ','
          << lambda_true(0) << ',' << lambda_true(1) << '\n';
    } catch (const chempp::invalid_argument& e) {
      // The corrected product needs Σ_i Σ_i⁻¹ − (N−1) Σ_p⁻¹ positive definite; say so, don't hide it.
      std::printf("      %8zu  not positive definite: %s\n", n, e.what());
    }
  }
  std::printf("      truth     %10.4f %10.4f\nwrote %s and %s\n", lambda_true(0), lambda_true(1),
              (out_dir / "star_fits.csv").string().c_str(), (out_dir / "lambda_vs_n.csv").string().c_str());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "gpu_inference: " << e.what() << '\n';
  return 1;
}
