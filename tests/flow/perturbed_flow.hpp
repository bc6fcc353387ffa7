// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test fixture: a paper-shaped conditional MAF (D 6, C 8, 4 transforms) whose weights are perturbed
// by N(0, sd) noise (masks re-applied), so that every path, output biases included, matters.
#include <random>

#include "chempp/flow/maf.hpp"

namespace chempp::test {

template <class Flow = flow::sbi_maf>
Flow perturbed_flow(std::uint64_t seed, Eigen::Index hidden = 8, bool condition_first = false, double sd = 0.5) {
  flow::maf_config cfg;
  cfg.features = 6;
  cfg.context = 8;
  cfg.hidden = hidden;
  cfg.transforms = 4;
  cfg.seed = seed;
  cfg.condition_first = condition_first;
  Flow f(cfg);
  std::mt19937_64 rng(seed + 1);
  std::normal_distribution<double> nd(0.0, sd);
  Eigen::VectorXd p = f.parameters();
  for (Eigen::Index i = 0; i < p.size(); ++i) p[i] += nd(rng);
  f.set_parameters(p);
  f.set_standardization(Eigen::VectorXd::LinSpaced(6, -1.0, 1.0), Eigen::VectorXd::Constant(6, 0.7),
                        Eigen::VectorXd::Zero(8), Eigen::VectorXd::Constant(8, 2.0));
  return f;
}

}  // namespace chempp::test
