// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 03: train a neural emulator of the CHEMPY one-zone model.
//
// Buck et al. (2025) replace each GCE call (~1 s in Python) by a small MLP so that
// simulation-based inference can afford millions of simulations. This example
//   1. runs the GCE model on parameters drawn uniformly from the prior mean +- 5 sigma box,
//   2. trains an MLP (hand-written backprop, schedule-free AdamW, standardised data),
//   3. saves it as JSON (with a self-test case that is checked when the file is loaded),
//   4. evaluates it on fresh runs from the Gaussian priors and prints the error table
//      (also written to emulator_03_errors.csv).
// Usage: example_03_train_emulator [n_simulations=40000] [epochs=30] [out=emulator_03.json]
// The full-size default configuration is measured by the `emulator_accuracy` program.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "chempp/gce.hpp"
#include "chempp/nn.hpp"
#include "chempp/yields/shipped.hpp"

namespace nn = chempp::nn;

int main(int argc, char** argv) try {
  const std::size_t n_sim = argc > 1 ? std::stoul(argv[1]) : 40000;
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 30;
  const std::string out_path = argc > 3 ? argv[3] : "emulator_03.json";

  // 1. The simulator: the paper's CHEMPY configuration with the IllustrisTNG yields, run on
  //    two threads. Any callable taking a span of theta vectors would do.
  const chempp::gce::chempy_model model(chempp::yields::shipped_yield_set("tng"));
  const auto simulate = [&](std::span<const nn::theta_vector> theta) {
    return chempp::gce::simulate_batch(model, theta, 2);
  };
  const nn::simulated_set data = nn::generate_training_data(simulate, n_sim, /*seed=*/1);
  std::printf("GCE runs: %zu requested, %zu failed (dropped, e.g. SFR below 5%% of its mean)\n",
              data.n_requested, data.n_failed);

  // 2. The network and its training: chempp's default architecture and options, with the
  //    data size and epochs of this tutorial.
  nn::emulator_config cfg = nn::default_emulator_config();
  cfg.training.epochs = epochs;
  // warm-up: at most a tenth of all optimiser steps (the default's 2,000 suits 2e5 samples)
  const std::size_t steps = epochs * (static_cast<std::size_t>(data.x.cols()) / cfg.training.batch_size + 1);
  cfg.training.adam.warmup_steps = std::min<std::size_t>(cfg.training.adam.warmup_steps, steps / 10);
  nn::mlp<float> net = cfg.make_network<float>(9);
  const auto result = nn::train(net, nn::matrix<float>(data.x.cast<float>()),
                                nn::matrix<float>(data.y.cast<float>()), cfg.training,
                                [](const nn::epoch_report& e) {
                                  std::printf("epoch %3zu  train %.3e  validation %.3e\n", e.epoch,
                                              e.train_loss, e.validation_loss);
                                });
  std::printf("kept epoch %zu (validation loss %.3e, standardised units)\n", result.best_epoch,
              result.best_validation_loss);

  // 3. Save with names; load_mlp re-checks the embedded test case.
  nn::save_mlp(net, out_path,
               {"tutorial 03 emulator", {"alpha_IMF", "log10_N_Ia", "log10_SFE", "log10_SFR_peak", "x_out", "T_Gyr"},
                {"C", "Fe", "H", "He", "Mg", "N", "Ne", "O", "Si"}});
  const nn::mlp<float> reloaded = nn::load_mlp<float>(out_path);

  // 4. Held-out runs from the Gaussian priors, evaluated with the SIMD kernel.
  const auto theta = nn::sample_gaussian_prior(3000, /*seed=*/2);
  const nn::simulated_set test = nn::simulate_dataset(simulate, std::span<const nn::theta_vector>(theta));
  const nn::simd_mlp<float> kernel(reloaded);
  const nn::matrix<float> xf = test.x.cast<float>();
  nn::matrix<float> pred(9, xf.cols());
  kernel(xf.data(), pred.data(), static_cast<std::size_t>(xf.cols()));
  const auto acc = nn::evaluate_accuracy(pred.cast<double>(), test.y);

  const char* names[9] = {"C", "Fe", "H", "He", "Mg", "N", "Ne", "O", "Si"};
  std::ofstream csv("emulator_03_errors.csv");
  csv << "output,median_ape_percent,median_abs_dex\n";
  std::printf("\n%-6s %18s %16s\n", "output", "median APE [%]", "median |d| [dex]");
  for (std::size_t o = 0; o < 9; ++o) {
    std::printf("%-6s %18.3f %16.5f\n", names[o], acc.median_ape_per_output[o], acc.median_abs_per_output[o]);
    csv << names[o] << ',' << acc.median_ape_per_output[o] << ',' << acc.median_abs_per_output[o] << '\n';
  }
  std::printf("%-6s %18.3f %16.5f   (%zu held-out runs, %zu failed)\n", "all", acc.median_ape_percent,
              acc.median_abs_dex, acc.n_samples, test.n_failed);
  std::printf("saved %s (SIMD kernel: %s)\n", out_path.c_str(), nn::simd_mlp<float>::arch_name());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "example_03_train_emulator: " << e.what() << '\n';
  return 1;
}
