// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/diagnostics/tarp.hpp"

#include "diagnostics/calibration_model.hpp"
#include "support/test_support.hpp"

using namespace chempp::diagnostics;

TEST_CASE("tarp: coverage fraction and ECP by hand with fixed references") {
  // Two 1-D cases, reference at 0 (no normalisation): case 0 has samples at distance
  // 0.1..0.4 and truth at 0.25 → f = 0.5; case 1 truth beyond all samples → f = 1.
  std::vector<Eigen::MatrixXd> s{Eigen::MatrixXd(4, 1), Eigen::MatrixXd(4, 1)};
  s[0] << 0.1, 0.2, 0.3, 0.4;
  s[1] << 0.1, 0.2, 0.3, 0.4;
  Eigen::MatrixXd t(2, 1);
  t << 0.25, 0.5;
  tarp_options o;
  o.normalize = false;
  o.num_bootstrap = 0;
  o.num_alpha_bins = 4;
  o.references = Eigen::MatrixXd::Zero(2, 1);
  const auto r = run_tarp(s, t, o);
  CHECK(r.f(0) == 0.5);
  CHECK(r.f(1) == 1.0);
  // f = {0.5, 1}: bins [0,.25) [.25,.5) [.5,.75) [.75,1] → ECP 0, 0, 0, 0.5, 1.
  const double ecp[5] = {0, 0, 0, 0.5, 1};
  for (int k = 0; k < 5; ++k) CHECK(r.ecp(k) == doctest::Approx(ecp[k]));
  CHECK(r.alpha(2) == doctest::Approx(0.5));
  CHECK(r.max_abs_deviation == doctest::Approx(0.5));
  // Manhattan = Euclidean in 1-D.
  o.metric = tarp_metric::manhattan;
  CHECK(run_tarp(s, t, o).f(0) == 0.5);
  o.references = Eigen::MatrixXd::Zero(3, 1);
  CHECK_THROWS_AS((void)run_tarp(s, t, o), chempp::invalid_argument);
}

// Thresholds (fixed seeds): exact posterior, 2000 cases → max |ECP − α| ≤ 0.05 (the KS 99 %
// point for 2000 cases is 0.036, bins add ≤ 0.005) and KS p > 0.01; the × 0.5 / × 2 widths must
// give max |ECP − α| > 0.1 with ATC < 0 (over-confident) / ATC > 0 (under-confident).
TEST_CASE("tarp: exact posterior is calibrated; over-/under-confident ones are flagged") {
  auto rng = chempp::test::seeded_rng(271828);
  tarp_options o;
  o.num_bootstrap = 10;
  o.seed = 17;
  const auto exact = chempp::test::make_cases(rng, 2000, 3, 200, 1.0);
  const auto r = run_tarp(exact.samples, exact.truths, o);
  MESSAGE("exact: max|ECP-alpha| = " << r.max_abs_deviation << ", ATC = " << r.atc
                                     << ", KS p = " << r.ks.p_value);
  CHECK(r.alpha.size() == 201);
  CHECK(r.ecp(0) == 0.0);
  CHECK(r.ecp(200) == doctest::Approx(1.0));
  CHECK(r.max_abs_deviation <= 0.05);
  CHECK(r.ks.p_value > 0.01);
  // Bootstrap band: ~ binomial scatter at α = 0.5 (√(0.25/2000) = 0.011), within a factor 2.
  CHECK(r.ecp_std(100) > 0.0055);
  CHECK(r.ecp_std(100) < 0.022);
  CHECK(std::abs(r.ecp_mean(100) - 0.5) < 0.05);
  // Reproducible with the same seed.
  CHECK(run_tarp(exact.samples, exact.truths, o).ecp_bootstrap == r.ecp_bootstrap);

  o.num_bootstrap = 0;
  const auto over = chempp::test::make_cases(rng, 2000, 3, 200, 0.5);
  const auto ro = run_tarp(over.samples, over.truths, o);
  MESSAGE("over-confident: max|ECP-alpha| = " << ro.max_abs_deviation << ", ATC = " << ro.atc);
  CHECK(ro.max_abs_deviation > 0.1);
  CHECK(ro.atc < 0.0);
  CHECK(ro.ks.p_value < 1e-6);
  const auto under = chempp::test::make_cases(rng, 2000, 3, 200, 2.0);
  const auto ru = run_tarp(under.samples, under.truths, o);
  MESSAGE("under-confident: max|ECP-alpha| = " << ru.max_abs_deviation << ", ATC = " << ru.atc);
  CHECK(ru.max_abs_deviation > 0.1);
  CHECK(ru.atc > 0.0);
  CHECK(ru.ks.p_value < 1e-6);
}
