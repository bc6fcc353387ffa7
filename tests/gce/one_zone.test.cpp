// SPDX-License-Identifier: BSD-3-Clause
// The one-zone integrator and chempy_model (include/chempp/gce/{one_zone,chempy_model}.hpp):
// observer, mass conservation, bad input, policies (fixed grid, yield modifier), batch API.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "chempp/gce.hpp"
#include "chempp/inference/simulator.hpp"
#include "chempp/yields/shipped.hpp"
#include "support/test_support.hpp"

namespace gce = chempp::gce;

namespace {
// "Same computation" tolerance [dex]: with -march=native GCC may contract a*b+c into FMA
// differently at different inlining sites, so identical runs called from different places can
// differ at round-off (~1e-15 dex); 1e-12 dex still catches any real difference.
constexpr double same_tol = 1e-12;

const gce::chempy_model& tng_model() {
  static const gce::chempy_model m(chempp::yields::shipped_yield_set("tng"));
  return m;
}
constexpr std::array<double, 6> fiducial{-2.3, -2.89, -0.3, 0.55, 0.5, 8.0};

}  // namespace

TEST_CASE("run_status names match the oracle's") {
  CHECK(std::string(gce::to_string(gce::run_status::ok)) == "ok");
  CHECK(std::string(gce::to_string(gce::run_status::sfr_below_5pct_of_mean)) ==
        "sfr_below_5pct_of_mean");
  CHECK(std::string(gce::to_string(gce::run_status::negative_mass)) == "negative_mass");
  gce::chempy_result r;
  r.abundances = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto raw = r.raw9();
  CHECK(raw == std::array<double, 9>{1, 2, -2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("observer sees every step; the last step gives the result; mass is conserved") {
  const auto& model = tng_model();
  std::vector<gce::track_point> track;
  auto ws = model.make_workspace();
  const auto r = model.run(gce::chempy_parameters::from_theta(fiducial), ws,
                           gce::track_observer{&track});
  REQUIRE(r.ok());
  REQUIRE(track.size() == 28);
  CHECK(track.back().time_gyr == 8.0);
  const auto ab = gce::abundances_from_masses(track.back().ism);
  for (std::size_t k = 0; k < 8; ++k) CHECK(std::fabs(ab[k] - r.abundances[k]) <= same_tol);
  // Budget: ISM + corona + (stars formed − mass returned) = all gas ever put into the system.
  double in = 0.0, formed = 0.0, returned = 0.0, worst = 0.0;
  for (const auto& p : track) {
    in += p.cosmic_inflow;
    formed += p.sfr;
    returned += p.feedback;
    double ism = 0.0, cor = 0.0;
    for (double v : p.ism) ism += v;
    for (double v : p.corona) cor += v;
    CHECK(ism == doctest::Approx(p.ism_gas).epsilon(1e-12));  // elements add up to the gas
    const double total = p.ism_gas + p.corona_gas + formed - returned;
    worst = std::max(worst, std::fabs(total / in - 1.0));
    // corona element masses add up to the corona gas
    CHECK(cor == doctest::Approx(p.corona_gas).epsilon(1e-12));
  }
  MESSAGE("mass budget: worst relative imbalance " << worst);
  CHECK(worst <= 1e-12);
}

TEST_CASE("bad input throws invalid_argument naming the argument and value") {
  const auto& model = tng_model();
  auto with = [&](std::size_t i, double v) {
    auto th = fiducial;
    th[i] = v;
    return chempp::test::thrown_message<chempp::invalid_argument>([&] { (void)model(th); });
  };
  CHECK(with(0, std::nan("")).find("alpha_imf is NaN") != std::string::npos);
  CHECK(with(1, INFINITY).find("log10_n_ia is infinite") != std::string::npos);
  CHECK(with(2, -INFINITY).find("log10_sfe") != std::string::npos);
  CHECK(with(3, std::nan("")).find("log10_sfr_peak") != std::string::npos);
  CHECK(with(4, -0.1).find("x_out must lie in [0, 1] (got -0.10000000000000001)") !=
        std::string::npos);
  CHECK(with(4, 1.5).find("x_out") != std::string::npos);
  CHECK(with(5, 0.0).find("t_birth_gyr must lie in (0, 13.8] (got 0)") != std::string::npos);
  CHECK(with(5, 13.81).find("t_birth_gyr") != std::string::npos);
  CHECK(with(5, 1e-4).find("smallest supported birth time") != std::string::npos);
  {
    auto small = fiducial;
    small[5] = 0.01;  // far below CHEMPY's own limit, still computable
    CHECK_NOTHROW((void)model(small));
  }
  CHECK(with(5, std::nan("")).find("t_birth_gyr is NaN") != std::string::npos);
  // boundaries are valid
  auto th = fiducial;
  th[4] = 0.0;
  CHECK_NOTHROW((void)model(th));
  th[4] = 1.0;
  th[5] = 13.8;
  CHECK_NOTHROW((void)model(th));
  // issue 15: parameters far outside any physical range ran and returned "ok"
  CHECK(with(0, -400.0).find("alpha_imf must lie in [-5, 0] (got -400)") != std::string::npos);
  CHECK(with(1, 3.0).find("log10_n_ia must lie in [-6, 0]") != std::string::npos);
  CHECK(with(2, 50.0).find("log10_sfe must lie in [-4, 3]") != std::string::npos);
  CHECK(with(3, -7.0).find("log10_sfr_peak must lie in [-1, 2]") != std::string::npos);
  using gce::chempy_model;
  CHECK(chempy_model::in_domain(chempp::gce::chempy_parameters::from_theta(fiducial)));
  CHECK_FALSE(chempy_model::in_domain(chempp::gce::chempy_parameters::from_theta({-400, -2.89, -0.3, 0.55, 0.5, 8})));
  CHECK_FALSE(chempy_model::in_domain(chempp::gce::chempy_parameters::from_theta({NAN, -2.89, -0.3, 0.55, 0.5, 8})));
  // the domain holds the emulator's 5σ training box (Buck et al. 2025) at every corner
  for (int corner = 0; corner < 32; ++corner) {
    const std::array<double, 5> mu{-2.3, -2.89, -0.3, 0.55, 0.5}, sd{0.3, 0.3, 0.3, 0.1, 0.1};
    std::array<double, 6> t{};
    for (int k = 0; k < 5; ++k) t[k] = mu[k] + ((corner >> k) & 1 ? 5.0 : -5.0) * sd[k];
    t[4] = std::clamp(t[4], 0.0, 1.0);
    t[5] = 1.0;
    CHECK(chempy_model::in_domain(chempp::gce::chempy_parameters::from_theta(t)));
  }
}

TEST_CASE("a yield table missing a traced element is rejected at construction") {
  auto set = chempp::yields::shipped_yield_set("tng");
  const auto& t = set.sn2;
  std::vector<chempp::element> els;
  std::vector<std::size_t> keep;
  for (std::size_t e = 0; e < t.elements().size(); ++e) {
    if (t.elements()[e] != chempp::elements::Mg) {
      els.push_back(t.elements()[e]);
      keep.push_back(e);
    }
  }
  std::vector<chempp::yields::metallicity_grid> grids;
  for (const auto& g : t.grids()) {
    auto ng = g;
    ng.net_yield = xt::xtensor<double, 2>::from_shape({g.mass.size(), keep.size()});
    for (std::size_t m = 0; m < g.mass.size(); ++m) {
      for (std::size_t k = 0; k < keep.size(); ++k) ng.net_yield(m, k) = g.net_yield(m, keep[k]);
    }
    grids.push_back(std::move(ng));
  }
  set.sn2 = chempp::yields::yield_table(t.kind(), t.source(), els, std::move(grids));
  const std::string msg = chempp::test::thrown_message<chempp::invalid_argument>([&] { gce::chempy_model m(set); });
  CHECK(msg.find("SN II") != std::string::npos);
  CHECK(msg.find("Mg") != std::string::npos);
}

TEST_CASE("CHEMPY failure modes are typed, never inf/NaN") {
  const auto& model = tng_model();
  const auto low_sfr = model({-2.3, -2.89, -0.3, 0.05, 0.5, 13.8});
  CHECK(low_sfr.status == gce::run_status::sfr_below_5pct_of_mean);
  const auto neg = model({-0.8, -4.39, 1.2, 0.294, 0.0, 2.0});
  CHECK(neg.status == gce::run_status::negative_mass);
  for (double v : neg.abundances) CHECK(v == 0.0);
}

TEST_CASE("tau_Ia is configurable and matters only when dt < tau_Ia") {
  const auto set = chempp::yields::shipped_yield_set("tng");
  const gce::chempy_model fast(set, 0.04), slow(set, std::pow(10.0, -0.8));
  CHECK(slow.tau_ia_gyr() == doctest::Approx(0.158489).epsilon(1e-5));
  const auto a = fast({-2.3, -2.89, -0.3, 0.55, 0.5, 2.0});
  const auto b = slow({-2.3, -2.89, -0.3, 0.55, 0.5, 2.0});
  CHECK(std::fabs(a.abundances[1] - b.abundances[1]) > 1e-3);
  const auto c = fast({-2.3, -2.89, -0.3, 0.55, 0.5, 8.0});
  const auto d = slow({-2.3, -2.89, -0.3, 0.55, 0.5, 8.0});
  for (std::size_t k = 0; k < 8; ++k) CHECK(std::fabs(c.abundances[k] - d.abundances[k]) <= same_tol);
  CHECK_THROWS_AS(gce::chempy_model(set, -1.0), chempp::invalid_argument);
  CHECK_THROWS_AS(gce::chempy_model(set, 1e-300), chempp::invalid_argument);  // underflowed before
}

TEST_CASE("fixed_time_grid: same physics, no 5 % test, corona factor chosen by the user") {
  const auto set = chempp::yields::shipped_yield_set("tng");
  using fixed_model = gce::one_zone<gce::chabrier_tng_imf, gce::portinari_lifetimes, gce::maoz_dtd,
                                    gce::gamma_sfh, gce::fixed_time_grid>;
  // with CHEMPY's corona factor at T = 8 (whose grid is exactly linspace(0, 8, 28)) the fixed
  // grid reproduces chempy_model bit for bit
  std::vector<double> t(28);
  const auto info = gce::chempy_time_grid{}.build(8.0, gce::gamma_sfh{}, std::pow(10.0, 0.55), t);
  const fixed_model fm(set, gce::maoz_dtd(0.04), gce::fixed_time_grid{27, info.corona_factor});
  const auto a = fm(fiducial);
  const auto b = tng_model()(fiducial);
  REQUIRE(a.ok());
  for (std::size_t k = 0; k < 8; ++k) CHECK(std::fabs(a.abundances[k] - b.abundances[k]) <= same_tol);
  // a dying SFH is not rejected on the fixed grid
  const fixed_model fm1(set, gce::maoz_dtd(0.04), gce::fixed_time_grid{40, 1.0});
  const auto c = fm1({-2.3, -2.89, -0.3, 0.05, 0.5, 13.8});
  CHECK(c.ok());
  std::vector<gce::track_point> track;
  auto ws = fm1.make_workspace();
  (void)fm1.run(gce::chempy_parameters::from_theta(fiducial), ws, gce::track_observer{&track});
  CHECK(track.size() == 41);
  // [Fe/H] rises along the track once metals exist
  const auto early = gce::abundances_from_masses(track[10].ism);
  const auto late = gce::abundances_from_masses(track[40].ism);
  CHECK(late[1] > early[1]);
}

TEST_CASE("yield_modifier policy scales channels") {
  const auto set = chempp::yields::shipped_yield_set("tng");
  using model_t = gce::one_zone<>;
  const model_t same(set, gce::maoz_dtd(0.04), gce::chempy_time_grid{}, gce::yield_modifier{});
  const auto ref = tng_model()(fiducial);
  const auto r1 = same(fiducial);
  for (std::size_t k = 0; k < 8; ++k) CHECK(std::fabs(r1.abundances[k] - ref.abundances[k]) <= same_tol);
  gce::yield_modifier more_ia;
  more_ia.sn1a = 2.0;
  const model_t m2(set, gce::maoz_dtd(0.04), gce::chempy_time_grid{}, more_ia);
  const auto r2 = m2(fiducial);
  CHECK(r2.abundances[1] > ref.abundances[1] + 0.05);  // more iron
  CHECK(r2.abundances[3] < ref.abundances[3]);          // lower [Mg/Fe]
  gce::yield_modifier more_n;
  more_n.per_element = {{chempp::elements::N, 3.0}};
  const model_t m3(set, gce::maoz_dtd(0.04), gce::chempy_time_grid{}, more_n);
  CHECK(m3(fiducial).abundances[4] > ref.abundances[4] + 0.1);
  gce::yield_modifier bad;
  bad.agb = std::nan("");
  CHECK_THROWS_AS(model_t(set, gce::maoz_dtd(0.04), gce::chempy_time_grid{}, bad),
                  chempp::invalid_argument);
}

TEST_CASE("simulate_batch: threads give the serial results in input order") {
  const auto& model = tng_model();
  auto rng = chempp::test::seeded_rng(42);
  std::normal_distribution<double> n01(0.0, 1.0);
  std::uniform_real_distribution<double> ut(1.0, 13.8);
  std::vector<std::array<double, 6>> theta(300);
  for (auto& th : theta) {
    th = {-2.3 + 0.3 * n01(rng), -2.89 + 0.3 * n01(rng), -0.3 + 0.3 * n01(rng),
          0.55 + 0.1 * n01(rng), std::clamp(0.5 + 0.1 * n01(rng), 0.0, 1.0), ut(rng)};
  }
  const auto serial = gce::simulate_batch(model, theta, 1);
  const auto par = gce::simulate_batch(model, theta, 3);
  REQUIRE(serial.size() == theta.size());
  REQUIRE(par.size() == theta.size());
  std::size_t ok = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    CHECK(serial[i].status == par[i].status);
    const auto single = model(theta[i]);
    CHECK(single.status == serial[i].status);
    for (std::size_t k = 0; k < 8; ++k) {
      CHECK(std::fabs(serial[i].abundances[k] - par[i].abundances[k]) <= same_tol);
      CHECK(std::fabs(single.abundances[k] - serial[i].abundances[k]) <= same_tol);
    }
    ok += serial[i].ok() ? 1 : 0;
  }
  CHECK(ok > 200);
  theta[17][5] = 20.0;
  const std::string msg = chempp::test::thrown_message<chempp::invalid_argument>([&] { (void)gce::simulate_batch(model, theta, 2); });
  CHECK(msg.find("row 17") != std::string::npos);
  CHECK(gce::simulate_batch(model, std::span<const std::array<double, 6>>{}, 4).empty());
}

TEST_CASE("gce_simulator: parameters outside the model's domain give NaN observables, not an exception") {
  const auto& model = tng_model();
  const chempp::inference::gce_simulator sim(model, [](const std::array<double, 6>& t) {
    return chempp::gce::chempy_parameters::from_theta(t);
  });
  const std::array<double, 12> theta{-2.3, -2.89, -0.3, 0.55, 0.5, 8.0, -400.0, -2.89, -0.3, 0.55, 0.5, 8.0};
  std::array<double, 16> out{};
  sim.simulate(theta.data(), 2, out.data());
  CHECK(std::isfinite(out[0]));
  for (std::size_t j = 8; j < 16; ++j) CHECK(std::isnan(out[j]));
}
