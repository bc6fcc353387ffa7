// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/diagnostics/statistics.hpp"

#include <array>
#include <cmath>

#include "support/test_support.hpp"

using namespace chempp::diagnostics;

TEST_CASE("statistics: incomplete gamma against closed forms") {
  chempp::test::worst_error w;
  for (double x : {0.01, 0.3, 1.0, 2.5, 7.0, 20.0}) {
    w.update(std::abs(gamma_p(1.0, x) - (1.0 - std::exp(-x))), "P(1,x)");
    w.update(std::abs(gamma_p(0.5, x) - std::erf(std::sqrt(x))), "P(1/2,x)");
    w.update(std::abs(gamma_p(2.0, x) - (1.0 - (1.0 + x) * std::exp(-x))), "P(2,x)");
    w.update(std::abs(gamma_q(0.5, x) - std::erfc(std::sqrt(x))) / std::erfc(std::sqrt(x)),
             "Q(1/2,x) relative");
  }
  MESSAGE("worst error " << w.value << " at " << w.where);
  CHECK(w.value < 1e-13);
  CHECK(chi2_sf(3.841458820694124, 1.0) == doctest::Approx(0.05).epsilon(1e-12));
  CHECK(chi2_sf(16.918977604620448, 9.0) == doctest::Approx(0.05).epsilon(1e-12));
  CHECK(chi2_sf(5.0, 2.0) == doctest::Approx(std::exp(-2.5)).epsilon(1e-14));
  CHECK_THROWS_AS((void)gamma_p(0.0, 1.0), chempp::invalid_argument);
}

TEST_CASE("statistics: chi-square quantiles invert the CDF") {
  CHECK(chi2_quantile(0.95, 1.0) == doctest::Approx(3.841458820694124).epsilon(1e-12));
  CHECK(chi2_quantile(0.68, 2.0) == doctest::Approx(-2.0 * std::log(0.32)).epsilon(1e-15));
  CHECK(chi2_quantile(0.99, 10.0) == doctest::Approx(23.209251158954356).epsilon(1e-12));
  for (double k : {1.0, 3.0, 7.5}) {
    for (double p : {0.01, 0.5, 0.9973}) {
      CHECK(gamma_p(0.5 * k, 0.5 * chi2_quantile(p, k)) == doctest::Approx(p).epsilon(1e-12));
    }
  }
  CHECK_THROWS_AS((void)chi2_quantile(1.0, 2.0), chempp::invalid_argument);
}

TEST_CASE("statistics: Kolmogorov distribution and KS test") {
  CHECK(kolmogorov_sf(1.3580986393225505) == doctest::Approx(0.05).epsilon(1e-8));
  CHECK(kolmogorov_sf(1.6276236115189310) == doctest::Approx(0.01).epsilon(1e-8));
  CHECK(kolmogorov_sf(0.5) == doctest::Approx(0.9639452436648751).epsilon(1e-10));
  // The two series agree where they switch.
  CHECK(std::abs(kolmogorov_sf(1.18 - 1e-9) - kolmogorov_sf(1.18 + 1e-9)) < 1e-8);
  const std::array<double, 3> u{0.9, 0.1, 0.2};
  const auto t = ks_uniform_test(u);
  CHECK(t.statistic == doctest::Approx(2.0 / 3.0 - 0.2).epsilon(1e-14));
  std::array<double, 100> even{};
  for (std::size_t i = 0; i < even.size(); ++i) even[i] = (double(i) + 0.5) / 100.0;
  CHECK(ks_uniform_test(even).p_value > 0.999);
  std::array<double, 100> low{};
  for (std::size_t i = 0; i < low.size(); ++i) low[i] = 0.5 * (double(i) + 0.5) / 100.0;
  CHECK(ks_uniform_test(low).p_value < 1e-10);
  const std::array<double, 2> bad{0.5, 1.5};
  CHECK_THROWS_AS((void)ks_uniform_test(bad), chempp::invalid_argument);
}

TEST_CASE("statistics: Pearson chi-square test by hand") {
  const std::array<double, 3> o{10, 20, 30}, e{20, 20, 20};
  const auto t = chi2_test(o, e);
  CHECK(t.statistic == doctest::Approx(10.0));
  CHECK(t.dof == 2.0);
  CHECK(t.p_value == doctest::Approx(std::exp(-5.0)).epsilon(1e-13));
}
