// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// A conjugate Gaussian model with an exact posterior, for the calibration tests:
/// θ ~ N(0, I_d), x | θ ~ N(θ, s² I_d), so θ | x ~ N(x/(1 + s²), s²/(1 + s²) I_d).
/// `make_cases` returns truths and posterior samples with the posterior width multiplied by
/// `width_factor` (1: exact; < 1: over-confident; > 1: under-confident) and the mean shifted by
/// `bias` posterior σ.

#include <cmath>
#include <random>
#include <vector>

#include "chempp/core/compat_eigen.hpp"

namespace chempp::test {

struct calibration_cases {
  Eigen::MatrixXd truths;                ///< cases × d
  std::vector<Eigen::MatrixXd> samples;  ///< per case L × d
};

inline calibration_cases make_cases(std::mt19937_64& rng, Eigen::Index cases, Eigen::Index d,
                                    Eigen::Index L, double width_factor, double bias = 0.0,
                                    double s = 0.5) {
  std::normal_distribution<double> n01;
  calibration_cases c;
  c.truths.resize(cases, d);
  const double post_sd = std::sqrt(s * s / (1.0 + s * s));
  for (Eigen::Index n = 0; n < cases; ++n) {
    Eigen::MatrixXd smp(L, d);
    for (Eigen::Index j = 0; j < d; ++j) {
      const double theta = n01(rng);
      const double x = theta + s * n01(rng);
      const double mu = x / (1.0 + s * s) + bias * post_sd;
      c.truths(n, j) = theta;
      for (Eigen::Index l = 0; l < L; ++l) smp(l, j) = mu + width_factor * post_sd * n01(rng);
    }
    c.samples.push_back(std::move(smp));
  }
  return c;
}

}  // namespace chempp::test
