// SPDX-License-Identifier: BSD-3-Clause
// IMF, lifetimes, SN Ia DTD and time-grid components (include/chempp/gce/{imf,lifetimes,
// sn1a_dtd,star_formation}.hpp). Reference numbers: CHEMPY trace for T = 8 Gyr (copied into
// docs/chempy-model.md §6.1 and shared/data/reference/chempy_trace_tng_T8.json).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "chempp/gce.hpp"
#include "support/test_support.hpp"

namespace gce = chempp::gce;

TEST_CASE("mass_grid reproduces numpy.linspace(0.1, 100, 5000) and window indices") {
  const gce::mass_grid g;
  CHECK(g.size() == 5000);
  CHECK(g[0] == 0.1);
  CHECK(g[4999] == 100.0);
  CHECK(g[1] == doctest::Approx(0.1 + 99.9 / 4999).epsilon(1e-15));
  for (double m : {0.1, 0.5, 1.0, 8.0, 8.5, 27.5, 99.99, 100.0}) {
    const std::size_t j = g.lower_index(m);
    if (j < g.size()) CHECK(g[j] >= m);
    if (j > 0) CHECK(g[j - 1] < m);
  }
  CHECK(g.lower_index(0.0) == 0);
  CHECK(g.lower_index(200.0) == 5000);
  CHECK_THROWS_AS(gce::mass_grid(1.0, 0.5, 10), chempp::invalid_argument);
}

TEST_CASE("Chabrier TNG IMF grid sums match CHEMPY (alpha = -2.3)") {
  const gce::mass_grid g;
  gce::chabrier_tng_imf imf;
  imf.bind(g);
  gce::imf_weights w(g);
  w.compute(imf, g, -2.3);
  // CHEMPY trace values (chempy_trace_tng_T8.json "imf"); relative tolerance 1e-12
  CHECK(w.mass_fraction(g, 8, 100) == doctest::Approx(0.22381915573519656).epsilon(1e-12));
  CHECK(w.mass_fraction(g, 1, 8) == doctest::Approx(0.36285177192450635).epsilon(1e-12));
  CHECK(w.mass_fraction(g, 0.1, 1) == doctest::Approx(0.4133172299222165).epsilon(1e-12));
  CHECK(w.number_fraction(g, 8, 100) == doctest::Approx(0.011693037948773745).epsilon(1e-12));
  CHECK(w.dm()[0] == doctest::Approx(0.016707832300593414).epsilon(1e-13));
  CHECK(w.dm()[1000] == doctest::Approx(9.544104873701915e-05).epsilon(1e-13));
  CHECK(w.dn()[4999] == doctest::Approx(1.1842418086005607e-07).epsilon(1e-13));
  CHECK(w.mass_fraction(g, 0.0, 1000.0) == doctest::Approx(1.0).epsilon(1e-12));
  // a steeper slope puts less mass into massive stars
  gce::imf_weights w2(g);
  w2.compute(imf, g, -2.8);
  CHECK(w2.mass_fraction(g, 8, 100) < w.mass_fraction(g, 8, 100));
}

TEST_CASE("Salpeter and Kroupa IMFs: grid sums approximate the analytic integrals") {
  const gce::mass_grid g;
  gce::salpeter_imf sal;
  sal.bind(g);
  gce::imf_weights w(g);
  w.compute(sal, g, -2.35);
  // ∫ m^{-1.35} dm ratios; the grid sum (spacing 0.02) approximates them to < 2 % above 1 Msun
  auto integ = [](double a, double b) { return (std::pow(b, -0.35) - std::pow(a, -0.35)) / -0.35; };
  const double exact = integ(8, 100) / integ(1, 100);
  const double grid = w.mass_fraction(g, 8, 100) / w.mass_fraction(g, 1, 100);
  CHECK(grid == doctest::Approx(exact).epsilon(0.02));
  gce::kroupa_imf kr;
  kr.bind(g);
  w.compute(kr, g, -2.3);
  CHECK(w.mass_fraction(g, 0, 1000) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(w.mass_fraction(g, 8, 100) > 0.1);
  CHECK(w.mass_fraction(g, 8, 100) < 0.4);
}

TEST_CASE("Portinari lifetimes: fit values and the numpy.interp inversion") {
  const gce::portinari_lifetimes lt;
  // 1 Msun at solar-like Z lives ~10 Gyr; massive stars a few Myr
  CHECK(lt.lifetime_gyr(1.0, 0.02) > 8.0);
  CHECK(lt.lifetime_gyr(1.0, 0.02) < 13.0);
  CHECK(lt.lifetime_gyr(100.0, 0.02) < 0.01);
  // CHEMPY quirk: tiny Z gives absurdly short lifetimes (§6.2)
  CHECK(lt.lifetime_gyr(1.0, 1e-11) < 0.01);
  const gce::mass_grid g;
  std::vector<double> scratch;
  auto rng = chempp::test::seeded_rng(7);
  std::uniform_real_distribution<double> ua(0.0, 14.0);
  double worst = 0.0;
  for (double z : {0.0, 1e-11, 1e-4, 0.0013727421389214548, 0.02, 0.05, 0.1}) {
    std::vector<double> ages(40);
    for (auto& a : ages) a = ua(rng);
    std::sort(ages.begin(), ages.end());
    ages[0] = 0.0;
    std::vector<double> fast(ages.size()), ref(ages.size());
    const auto nf = lt.dying_masses(g, z, ages, fast, 0.0, scratch);
    const auto nr = lt.dying_masses_reference(g, z, ages, ref, 0.0, scratch);
    REQUIRE(nf == nr);
    for (std::size_t a = 0; a < nf; ++a) worst = std::max(worst, std::fabs(fast[a] - ref[a]));
    CHECK(fast[0] == 100.0);  // age 0: the most massive star
  }
  MESSAGE("fast vs reference inversion: max |Δm| = " << worst << " Msun");
  CHECK(worst <= 1e-9);
  // round trip: lifetime of the dying mass equals the age (piecewise-linear error only)
  std::vector<double> ages{0.05, 0.5, 2.0, 8.0};
  std::vector<double> m(ages.size());
  lt.dying_masses(g, 0.01, ages, m, 0.0, scratch);
  for (std::size_t a = 0; a < ages.size(); ++a) {
    CHECK(lt.lifetime_gyr(m[a], 0.01) == doctest::Approx(ages[a]).epsilon(1e-3));
  }
  // stop_below ends the sequence after the first mass below the threshold
  std::vector<double> long_ages{0.0, 0.1, 1.0, 5.0, 10.0, 13.0};
  std::vector<double> out(long_ages.size());
  const auto filled = lt.dying_masses(g, 0.02, long_ages, out, 8.0, scratch);
  CHECK(filled < long_ages.size());
  CHECK(out[filled - 1] < 8.0);
}

TEST_CASE("SN Ia delay-time distributions") {
  const gce::maoz_dtd maoz(0.04);
  CHECK(maoz.shape(0.039) == 0.0);
  CHECK(maoz.shape(0.04) > 0.0);
  // power law t^-1.12
  CHECK(maoz.shape(2.0) / maoz.shape(1.0) == doctest::Approx(std::pow(2.0, -1.12)).epsilon(1e-14));
  CHECK(maoz.normalisation_end_gyr() == 13.8);
  CHECK_THROWS_AS(gce::maoz_dtd(0.0), chempp::invalid_argument);
  CHECK_THROWS_AS(gce::maoz_dtd(std::nan("")), chempp::invalid_argument);
  // issue 15: an underflowing delay and a non-normalisable slope silently removed SN Ia
  CHECK_THROWS_WITH_AS(gce::maoz_dtd(1e-300), doctest::Contains("tau_ia_gyr"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(gce::maoz_dtd(0.04, 1.0), doctest::Contains("exponent"), chempp::invalid_argument);
  CHECK_THROWS_AS(gce::maoz_dtd(0.04, 0.5), chempp::invalid_argument);
  CHECK_NOTHROW(gce::maoz_dtd(0.001, 1.0000001));
  const gce::exponential_dtd ex(0.1, 2.0);
  CHECK(ex.shape(0.05) == 0.0);
  CHECK(ex.shape(2.1) / ex.shape(0.1) == doctest::Approx(std::exp(-1.0)).epsilon(1e-14));
  CHECK_THROWS_AS(gce::exponential_dtd(0.1, 0.0), chempp::invalid_argument);
}

TEST_CASE("CHEMPY time grid: dt = T/27, corona factor, 5 % test, T > 13.797617 edge") {
  const gce::chempy_time_grid grid;
  const gce::gamma_sfh sfh;
  std::vector<double> t(28);
  // fiducial T = 8 (CHEMPY trace: dt 0.2962962962962963, corona factor 1.3461037133337195)
  auto info = grid.build(8.0, sfh, std::pow(10.0, 0.55), t);
  CHECK(info.points == 28);
  CHECK(info.dt == doctest::Approx(0.2962962962962963).epsilon(1e-15));
  CHECK(info.corona_factor == doctest::Approx(1.3461037133337195).epsilon(1e-13));
  CHECK(info.sfr_test_passed);
  CHECK(t[27] == 8.0);
  // T = 13.8: 27 points, last at 26·T/27
  info = grid.build(13.8, sfh, std::pow(10.0, 0.55), t);
  CHECK(info.points == 27);
  CHECK(t[26] == doctest::Approx(26.0 * 13.8 / 27.0).epsilon(1e-14));
  // an SFH that has died out by T fails the 5 % test
  info = grid.build(13.8, sfh, std::pow(10.0, 0.05), t);
  CHECK_FALSE(info.sfr_test_passed);
  // gamma SFH: peak at the scale, 1e-10 at t = 0
  CHECK(sfh.rate(0.0, 3.0) == 1e-10);
  CHECK(sfh.rate(3.0, 3.0) > sfh.rate(2.5, 3.0));
  CHECK(sfh.rate(3.0, 3.0) > sfh.rate(3.5, 3.0));
  // fixed grid: n equal steps, no rescaling
  const gce::fixed_time_grid fixed{10, 1.0};
  std::vector<double> tf(11);
  info = fixed.build(5.0, sfh, 1.0, tf);
  CHECK(info.points == 11);
  CHECK(tf[10] == 5.0);
  CHECK(info.dt == doctest::Approx(0.5));
  // zero steps (was a heap-buffer overflow, issue 15) and a short buffer are errors
  const gce::fixed_time_grid none{0, 1.0};
  std::vector<double> t1(1);
  CHECK_THROWS_WITH_AS((void)none.build(5.0, sfh, 1.0, t1), doctest::Contains("steps"), chempp::invalid_argument);
  std::vector<double> t5(5);
  CHECK_THROWS_AS((void)fixed.build(5.0, sfh, 1.0, t5), chempp::invalid_argument);
}

TEST_CASE("vectorisable exp used for the IMF power law is within 1 ulp of std::exp") {
  auto rng = chempp::test::seeded_rng(11);
  std::uniform_real_distribution<double> u(-700.0, 700.0), v(-20.0, 5.0);
  double worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 == 0 ? u(rng) : v(rng);
    worst = std::max(worst, std::fabs(gce::detail::fast_exp(x) / std::exp(x) - 1.0));
  }
  MESSAGE("fast_exp: worst relative error " << worst);
  CHECK(worst <= 2.3e-16);
  CHECK(gce::detail::fast_exp(0.0) == 1.0);
}
