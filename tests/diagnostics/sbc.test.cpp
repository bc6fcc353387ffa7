// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/diagnostics/sbc.hpp"

#include <array>

#include "diagnostics/calibration_model.hpp"
#include "support/test_support.hpp"

using namespace chempp::diagnostics;

TEST_CASE("sbc: ranks and histogram by hand") {
  std::vector<Eigen::MatrixXd> s{Eigen::MatrixXd(4, 2)};
  s[0] << 0.1, 5, 0.2, 6, 0.3, 7, 0.4, 8;
  Eigen::MatrixXd t(1, 2);
  t << 0.25, 9.0;
  const auto r = sbc_ranks(s, t);
  CHECK(r(0, 0) == 2);
  CHECK(r(0, 1) == 4);
  Eigen::VectorXi ranks(5);
  ranks << 0, 1, 2, 3, 4;  // L = 4: five rank values, 5 bins → one each
  const auto h = rank_histogram(ranks, 4, 5);
  for (double v : h) CHECK(v == 1.0);
  const auto e = expected_rank_histogram(5, 4, 5);
  for (double v : e) CHECK(v == doctest::Approx(1.0));
  // L = 1000, 10 bins: 1001 values, bins hold 101,100,...: expectations sum to the cases.
  const auto e2 = expected_rank_histogram(1001, 1000, 10);
  double tot = 0.0;
  for (double v : e2) tot += v;
  CHECK(tot == doctest::Approx(1001.0));
  CHECK_THROWS_AS((void)rank_histogram(ranks, 3, 5), chempp::invalid_argument);
  // zero bins (was a segfault in expected_rank_histogram, issue 15)
  CHECK_THROWS_AS((void)expected_rank_histogram(5, 4, 0), chempp::invalid_argument);
  sbc_options zero_bins;
  zero_bins.bins = 0;
  CHECK_THROWS_AS((void)run_sbc(s, Eigen::MatrixXd::Constant(1, 2, 0.25), zero_bins), chempp::invalid_argument);
  t(0, 1) = NAN;
  CHECK_THROWS_WITH_AS((void)sbc_ranks(s, t), doctest::Contains("case 0"),
                       chempp::invalid_argument);
}

// Thresholds: with the fixed seeds below an exact posterior must give every p-value > 0.01 and
// central coverage within 0.05 of the level (1000 cases: binomial σ ≤ 0.016); the over- and
// under-confident posteriors (width × 0.5 and × 2) must give p < 1e-6.
TEST_CASE("sbc: an exact posterior passes uniformity, mis-calibrated ones are flagged") {
  auto rng = chempp::test::seeded_rng(314159);
  const auto exact = chempp::test::make_cases(rng, 1000, 2, 300, 1.0);
  const auto r = run_sbc(exact.samples, exact.truths);
  for (std::size_t j = 0; j < 2; ++j) {
    MESSAGE("exact dim " << j << ": chi2 p = " << r.chi2[j].p_value
                         << ", KS p = " << r.ks[j].p_value);
    for (std::size_t k = 0; k < r.levels.size(); ++k) {
      CHECK(std::abs(r.coverage[j][k] - r.levels[k]) < 0.05);
    }
  }
  CHECK(r.min_p_value() > 0.01);

  const auto over = chempp::test::make_cases(rng, 1000, 2, 300, 0.5);
  const auto ro = run_sbc(over.samples, over.truths);
  MESSAGE("over-confident: min p = " << ro.min_p_value());
  CHECK(ro.min_p_value() < 1e-6);
  CHECK(ro.coverage[0][7] < 0.5);  // level 0.68
  // U-shaped histogram: the outer bins are overfull.
  CHECK(ro.histograms[0].front() > 2.0 * ro.histograms[0][5]);

  const auto under = chempp::test::make_cases(rng, 1000, 2, 300, 2.0);
  const auto ru = run_sbc(under.samples, under.truths);
  MESSAGE("under-confident: min p = " << ru.min_p_value());
  CHECK(ru.min_p_value() < 1e-6);
  CHECK(ru.coverage[0][7] > 0.9);

  const auto biased = chempp::test::make_cases(rng, 1000, 2, 300, 1.0, 1.0);
  CHECK(run_sbc(biased.samples, biased.truths).min_p_value() < 1e-6);
}
