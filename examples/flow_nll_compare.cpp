// SPDX-License-Identifier: BSD-3-Clause
// Trains chempp's conditional MAF on the issue-5 benchmark task (benchmark_task.hpp: θ ∈ R^6,
// x ∈ R^8, 1e5 training pairs, hidden 8, 4 transforms, sbi defaults: batch 200, lr 5e-4, 10 %
// validation, patience 20, clip 5) and prints the NLL on 1e4 held-out test pairs. It also writes
// the data (raw little-endian doubles) so the PyTorch reference
// (benchmarks/reference/maf_reference.py) trains the same-size flow on the same pairs:
//
//   flow_nll_compare [out_dir] [max_epochs] [float64|float32|both]
//   /usr/bin/python3 benchmarks/reference/maf_reference.py out_dir [max_epochs]
//
// The third argument picks the arithmetic of the training steps (flow::training_precision);
// `both` trains twice from the same initialisation, split and batch order and prints the two
// test NLLs and their difference (the issue-12 check that float training reaches the NLL of
// double training). Output: out_dir/flow_task_{train,test}.bin (rows θ(6) then x(8)),
// out_dir/flow_nll_chempp[_float32].json.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "chempp/flow.hpp"

namespace {
void write_pairs(const std::filesystem::path& p, const Eigen::MatrixXd& theta, const Eigen::MatrixXd& x) {
  std::ofstream out(p, std::ios::binary);
  for (Eigen::Index i = 0; i < theta.rows(); ++i) {
    for (Eigen::Index j = 0; j < theta.cols(); ++j) out.write(reinterpret_cast<const char*>(&theta(i, j)), sizeof(double));
    for (Eigen::Index j = 0; j < x.cols(); ++j) out.write(reinterpret_cast<const char*>(&x(i, j)), sizeof(double));
  }
}
}  // namespace

int main(int argc, char** argv) {
  using namespace chempp::flow;
  const std::filesystem::path dir = argc > 1 ? argv[1] : "flow_nll_compare_out";
  const int max_epochs = argc > 2 ? std::stoi(argv[2]) : 1000;
  std::filesystem::create_directories(dir);

  Eigen::MatrixXd theta, x, theta_test, x_test;
  benchmark_task::simulate(100000, 20240501, theta, x);  // same seed as bench_flow
  benchmark_task::simulate(10000, 777, theta_test, x_test);
  write_pairs(dir / "flow_task_train.bin", theta, x);
  write_pairs(dir / "flow_task_test.bin", theta_test, x_test);

  const std::string which = argc > 3 ? argv[3] : "float64";
  if (which != "float64" && which != "float32" && which != "both") {
    std::fprintf(stderr, "flow_nll_compare: precision must be float64, float32 or both, got '%s'\n", which.c_str());
    return 2;
  }
  auto run = [&](training_precision precision) {
    const bool single = precision == training_precision::float32;
    maf_config cfg;
    cfg.features = 6;
    cfg.context = 8;
    cfg.hidden = 8;
    cfg.transforms = 4;
    cfg.seed = 1;
    sbi_maf flow(cfg);
    train_options opt;  // sbi 0.23.1 defaults
    opt.max_epochs = max_epochs;
    opt.seed = 2;
    opt.precision = precision;
    const auto t0 = std::chrono::steady_clock::now();
    const auto res = train(flow, theta, x, opt, [](const epoch_report& e) {
      if (e.epoch % 10 == 0)
        std::printf("epoch %4d  train NLL %.4f  validation NLL %.4f  (%.3f s)\n", e.epoch, e.train_loss,
                    e.validation_loss, e.seconds);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double test_nll = -flow.log_prob(theta_test, x_test).mean();  // evaluated in double
    std::printf("chempp MAF (%s steps): %d epochs (best %d, early stop %s), %.1f s, best validation NLL %.4f, test NLL %.4f\n",
                single ? "float32" : "float64", res.epochs, res.best_epoch, res.early_stopped ? "yes" : "no", seconds,
                res.best_validation_loss, test_nll);
    const std::string suffix = single ? "_float32" : "";
    std::ofstream(dir / ("flow_nll_chempp" + suffix + ".json"))
        << "{\"epochs\": " << res.epochs << ", \"best_validation_nll\": " << res.best_validation_loss
        << ", \"test_nll\": " << test_nll << ", \"seconds\": " << seconds << ", \"precision\": \""
        << (single ? "float32" : "float64") << "\"}\n";
    save(flow, dir / ("flow_task_maf" + suffix + ".json"));
    return test_nll;
  };
  if (which == "both") {
    const double d = run(training_precision::float64);
    const double f = run(training_precision::float32);
    std::printf("test NLL float32 - float64 = %+.2e nats\n", f - d);
  } else {
    run(which == "float32" ? training_precision::float32 : training_precision::float64);
  }
  return 0;
}
