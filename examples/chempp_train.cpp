// SPDX-License-Identifier: BSD-3-Clause
// chempp-train — trains a self-describing model bundle for chempp-infer: CHEMPY runs, the
// emulator, its error model on held-out CHEMPY runs, and the proposal flow q(θ | x, mask, σ)
// (chempp::pipeline::train_bundle; docs/inference.md).
//
// Usage: chempp-train --out DIR [--config small|paper|tiny] [--seed N] [--yields tng|alt|sn2=A,agb=B,sn1a=C|FILE]
//        [--yields-dir DIR] [--threads N] [--quiet]
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>

#include "chempp/pipeline.hpp"
#include "support/cli.hpp"

int main(int argc, char** argv) try {
  const chempp_examples::cli cli(
      argc, argv,
      "usage: chempp-train --out DIR [--config small|paper|tiny] [--seed N] [--yields tng|alt|sn2=NAME,agb=NAME,sn1a=NAME|FILE.json]\n"
      "                    [--yields-dir CHEMPY_YIELDS_DIR] [--threads N] [--quiet]",
      {"--out", "--config", "--seed", "--yields", "--yields-dir", "--threads"}, {"--quiet"});
  if (cli.help()) return 0;
  const std::string out = cli.required("--out"), config = cli.choice("--config", "small", {"small", "paper", "tiny"});
  const std::string yields = cli.text("--yields", "tng");
  const std::uint64_t seed = cli.count("--seed", 1);
  const unsigned threads = cli.threads();
  const bool quiet = cli.has("--quiet");
  auto cfg = chempp::pipeline::make_bundle_config(config);
  cfg.yields = yields;
  cfg.yields_dir = cli.text("--yields-dir");
  const auto t0 = std::chrono::steady_clock::now();
  const auto bundle = chempp::pipeline::train_bundle(cfg, seed, threads, [&](const std::string& s) {
    if (!quiet) std::cerr << "[chempp-train] " << s << std::endl;
  });
  chempp::pipeline::save_bundle(bundle, out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "chempp-train: bundle '" << bundle.name << "' (" << bundle.yields << " yields) written to " << out << " in " << secs
            << " s; emulator median |GCE - emulator| = " << bundle.emulator_median_abs_dex
            << " dex on held-out CHEMPY runs (paper: 0.005 dex)\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "chempp-train: error: " << e.what() << '\n';
  return 1;
}
