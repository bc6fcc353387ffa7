// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helper shared by the combiner tests: a 2-D Gaussian from its means, standard deviations
// and correlation.
#include "chempp/inference/gaussian_fit.hpp"

namespace chempp::test {

/// N((m0, m1), [[s0², ρ s0 s1], [ρ s0 s1, s1²]]).
inline chempp::inference::gaussian gaussian_2d(double m0, double m1, double s0, double s1, double rho) {
  chempp::inference::gaussian g;
  g.mean = Eigen::Vector2d(m0, m1);
  g.cov.resize(2, 2);
  g.cov << s0 * s0, rho * s0 * s1, rho * s0 * s1, s1 * s1;
  return g;
}

}  // namespace chempp::test
