// SPDX-License-Identifier: BSD-3-Clause
// Fast paths of the GCE model against their straightforward definitions: the blocked
// compensated IMF prefix sums (imf.hpp), the vectorised SN Ia DTD samples (sn1a_dtd.hpp) and the
// SSP feedback window indexing (ssp.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "chempp/gce.hpp"

namespace gce = chempp::gce;

TEST_CASE("imf_weights window sums match a long-double sum of dm to round-off") {
  const gce::mass_grid g;
  gce::chabrier_tng_imf imf;
  imf.bind(g);
  gce::imf_weights w(g);
  for (double alpha : {-3.2, -2.3, -1.4}) {
    w.compute(imf, g, alpha);
    const auto dm = w.dm();
    std::vector<long double> prefix(dm.size() + 1, 0.0L);
    for (std::size_t j = 0; j < dm.size(); ++j) prefix[j + 1] = prefix[j] + dm[j];
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::size_t> pick(0, g.size());
    double worst = 0.0;
    for (int k = 0; k < 20000; ++k) {
      std::size_t i0 = pick(rng), i1 = pick(rng);
      if (i1 < i0) std::swap(i0, i1);
      if (i1 == i0) continue;
      const double ref = static_cast<double>(prefix[i1] - prefix[i0]);
      worst = std::max(worst, std::fabs(w.mass_in(i0, i1) - ref) / ref);
    }
    MESSAGE("alpha " << alpha << ": worst relative window error " << worst);
    CHECK(worst < 2e-13);  // the pre-blocking serial prefix sums give the same 8e-14 at α = −3.2
  }
}

TEST_CASE("maoz_dtd::shape_on_grid agrees with shape to a few ulp") {
  const gce::maoz_dtd d;
  std::vector<double> log_m(2000);
  for (std::size_t m = 1; m < log_m.size(); ++m) log_m[m] = std::log(static_cast<double>(m));
  for (double dt : {1.0 / 27.0, 0.2962962962962963, 0.5, 0.0123}) {
    std::vector<double> out(log_m.size());
    REQUIRE(d.shape_on_grid(dt, log_m.data(), 1, log_m.size(), out.data()));
    double worst = 0.0;
    for (std::size_t m = 1; m < log_m.size(); ++m) {
      const double ref = d.shape(static_cast<double>(m) * dt);
      if (ref == 0.0) {
        CHECK(out[m - 1] == 0.0);
      } else {
        worst = std::max(worst, std::fabs(out[m - 1] - ref) / ref);
      }
    }
    CHECK(worst < 1e-14);
  }
}
