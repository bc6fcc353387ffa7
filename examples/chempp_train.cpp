// SPDX-License-Identifier: BSD-3-Clause
// chempp-train — trains a self-describing model bundle for chempp-infer: CHEMPY runs, the
// emulator, its error model on held-out CHEMPY runs, and the proposal flow q(θ | x, mask, σ)
// (chempp::pipeline::train_bundle; docs/inference.md).
//
// Usage: chempp-train --out DIR [--config small|paper|tiny] [--seed N] [--yields tng|alt|sn2=A,agb=B,sn1a=C|FILE]
//        [--yields-dir DIR] [--flow-precision float64|float32] [--threads N] [--quiet]
//
// --flow-precision float32 trains the flow's steps in single precision (flow::training_precision,
// as PyTorch does; about 1.3-1.9× faster per epoch, bench_flow); the default float64 is the
// bit-reproducible double path.
//
// chempp-train-mpi is this program built with MPI (CMake target chempp::mpi): under mpirun the
// CHEMPY runs are dealt out over the ranks (gce::simulate_batch with a process_split) and the
// bundle equals the one of a single process bit for bit (its timings aside); the networks are
// trained on every rank (not split: data-parallel SGD would make the bundle depend on the rank
// count); rank 0 writes it (docs/survey-scale.md).
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "chempp/pipeline.hpp"
#include "support/cli.hpp"
#include "support/processes.hpp"

// The work of chempp-train and chempp-train-mpi, compiled once; their `main` is
// chempp_train_main.cpp (support/program_main.hpp).
int chempp_examples::train_program(int argc, char** argv, const program_processes& procs) {
  const chempp::process_split& split = procs.split();
  const bool root = procs.root();
  std::optional<std::pair<std::uint64_t, std::string>> failure;
  std::string out;
  chempp::pipeline::bundle_config cfg;
  std::uint64_t seed = 1;
  unsigned threads = 1;
  bool quiet = false, help = false;
  try {  // options: errors agreed on by every process, printed once
    const chempp_examples::cli cli(
        argc, argv,
        "usage: chempp-train --out DIR [--config small|paper|tiny] [--seed N] [--yields tng|alt|sn2=NAME,agb=NAME,sn1a=NAME|FILE.json]\n"
        "                    [--yields-dir CHEMPY_YIELDS_DIR] [--flow-precision float64|float32] [--threads N] [--quiet]",
        {"--out", "--config", "--seed", "--yields", "--yields-dir", "--flow-precision", "--threads"}, {"--quiet"});
    help = cli.help();
    if (!help) {
      out = cli.required("--out");
      const std::string config = cli.choice("--config", "small", {"small", "paper", "tiny"});
      seed = cli.count("--seed", 1);
      threads = cli.threads();
      quiet = cli.has("--quiet");
      cfg = chempp::pipeline::make_bundle_config(config);
      cfg.yields = cli.text("--yields", "tng");
      cfg.yields_dir = cli.text("--yields-dir");
      if (cli.choice("--flow-precision", "float64", {"float64", "float32"}) == "float32")
        cfg.flow_training.precision = chempp::flow::training_precision::float32;
    }
  } catch (const std::exception& e) {
    failure = std::make_pair(std::uint64_t{0}, std::string(e.what()));
  }
  if (const auto err = procs.first_error(failure)) {
    if (root) std::cerr << "chempp-train: error: " << *err << '\n';
    return 1;
  }
  if (help) return 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto bundle = chempp::pipeline::train_bundle(
      cfg, seed, threads,
      [&](const std::string& s) {
        if (!quiet && root) std::cerr << "[chempp-train] " << s << std::endl;
      },
      split);
  if (!root) return 0;
  chempp::pipeline::save_bundle(bundle, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "chempp-train: bundle '" << bundle.name << "' (" << bundle.yields << " yields) written to " << out << " in " << secs
            << " s; emulator median |GCE - emulator| = " << bundle.emulator_median_abs_dex
            << " dex on held-out CHEMPY runs (paper: 0.005 dex)";
  if (split.distributed()) std::cout << "; CHEMPY runs split over " << split.size << " processes";
  std::cout << "\n";
  return 0;
}
