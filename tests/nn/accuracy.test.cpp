// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/nn/accuracy.hpp"

#include "support/test_support.hpp"

TEST_CASE("Test_accuracy: APE and dex statistics on a hand example") {
  chempp::nn::matrix<double> t(2, 2), p(2, 2);
  t << 1.0, 2.0, -0.5, 0.1;
  p << 1.01, 2.0, -0.5, 0.2;
  const auto r = chempp::nn::evaluate_accuracy(p, t);
  // APEs: 1, 0, 0, 100 -> median 0.5; |d|: 0.01, 0, 0, 0.1 -> median 0.005
  CHECK(r.median_ape_percent == doctest::Approx(0.5));
  CHECK(r.median_abs_dex == doctest::Approx(0.005));
  CHECK(r.median_ape_per_output[1] == doctest::Approx(50.0));
  CHECK(r.n_samples == 2);
  CHECK_THROWS_AS(chempp::nn::evaluate_accuracy(p.leftCols(1), t), chempp::invalid_argument);
}
