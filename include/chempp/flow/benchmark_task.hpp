// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The flow benchmark task of issue 5, shared by `benchmarks/bench_flow.cpp`,
/// `examples/flow_nll_compare.cpp` and the PyTorch reference (`benchmarks/reference/`):
/// θ ∈ R^6 ~ N(0, I); x ∈ R^8 with
///     x_k = sin(a_k·θ / 2) + 0.5 tanh(b_k·θ / 2) + 0.05 ε_k,   ε_k ~ N(0, 1),
///     a_kj = sin(1.3 k + 0.7 j + 0.5),  b_kj = cos(0.9 k - 1.1 j)      (k = 0..7, j = 0..5).
/// A fixed, smooth, nonlinear simulator with a known noise level; no physics.

#include <cmath>
#include <cstdint>
#include <random>

#include "chempp/core/compat_eigen.hpp"

namespace chempp::flow {

/// The benchmark simulator (see the file comment). Rows are pairs.
struct benchmark_task {
  static constexpr Eigen::Index theta_dim = 6;  ///< dim θ
  static constexpr Eigen::Index x_dim = 8;      ///< dim x
  static constexpr double noise = 0.05;         ///< absolute Gaussian noise on x

  /// Noise-free simulator output for one θ (6) into x (8).
  static void simulate_mean(const double* theta, double* x) {
    for (Eigen::Index k = 0; k < x_dim; ++k) {
      double a = 0.0, b = 0.0;
      for (Eigen::Index j = 0; j < theta_dim; ++j) {
        a += std::sin(1.3 * double(k) + 0.7 * double(j) + 0.5) * theta[j];
        b += std::cos(0.9 * double(k) - 1.1 * double(j)) * theta[j];
      }
      x[k] = std::sin(0.5 * a) + 0.5 * std::tanh(0.5 * b);
    }
  }

  /// Draws n pairs with engine `std::mt19937_64(seed)`: θ (n × 6) and x (n × 8).
  static void simulate(Eigen::Index n, std::uint64_t seed, Eigen::MatrixXd& theta, Eigen::MatrixXd& x) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> nd;
    theta.resize(n, theta_dim);
    x.resize(n, x_dim);
    double t[theta_dim], xm[x_dim];
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < theta_dim; ++j) t[j] = theta(i, j) = nd(rng);
      simulate_mean(t, xm);
      for (Eigen::Index k = 0; k < x_dim; ++k) x(i, k) = xm[k] + noise * nd(rng);
    }
  }
};

}  // namespace chempp::flow
