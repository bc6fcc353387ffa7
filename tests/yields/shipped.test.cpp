// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/shipped.hpp"

#include <cmath>
#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;

TEST_CASE("shipped: both sets load from the default location (no ../shared needed)") {
  // Default location: CHEMPP_DATA_DIR if defined, else ../data next to shipped.hpp.
  CHECK(std::filesystem::exists(y::shipped_data_dir() / "yields_tng.json"));
  const auto tng = y::shipped_yield_set("tng");
  CHECK(tng.name == "tng");
  CHECK(tng.sn2.kind() == y::channel::sn2);
  CHECK(tng.agb.kind() == y::channel::agb);
  CHECK(tng.sn1a.kind() == y::channel::sn1a);
  CHECK(tng.sn2.metallicities().size() == 4);
  CHECK(tng.agb.grid(0).mass.size() == 17);
  CHECK(tng.sn1a.elements().size() == 42);
  CHECK(tng.sn2.source().loader == "TNG_net");
  const auto alt = y::shipped_yield_set("alt");
  CHECK(alt.sn2.source().loader == "Nomoto2013");
  CHECK(alt.agb.source().loader == "Karakas16_net");
  CHECK(alt.sn1a.source().loader == "Thielemann");
  CHECK(alt.agb.elements().size() == 78);
  for (const auto* s : {&tng, &alt}) {
    for (const auto* t : {&s->sn2, &s->agb, &s->sn1a}) {
      CHECK_FALSE(t->source().reference.empty());
      CHECK_FALSE(t->source().yield_kind.empty());
      CHECK_FALSE(t->source().remnant_treatment.empty());
      CHECK_FALSE(t->source().source_files.empty());
      for (auto e : chempp::chempy_traced_elements) CHECK(t->element_index(e).has_value());
    }
  }
}

TEST_CASE("shipped: sets equal CHEMPY's loaded tables to 1e-9 relative") {
  for (const std::string name : {"tng", "alt"}) {
    auto ref = chempp::test::chempy_loaded_tables(name);
    if (!ref) return;
    const auto s = y::shipped_yield_set(name);
    INFO("set " << name);
    chempp::test::check_against_chempy(s.sn2, ref->at("sn2"));
    chempp::test::check_against_chempy(s.agb, ref->at("agb"));
    chempp::test::check_against_chempy(s.sn1a, ref->at("sn1a"));
  }
}

TEST_CASE("shipped: SN II and AGB mass budgets close (sum y + remnant + unprocessed = 1)") {
  // IMF-free check of every tabulated star; SN Ia tables follow CHEMPY's -M_WD convention instead.
  for (const std::string name : {"tng", "alt"}) {
    const auto s = y::shipped_yield_set(name);
    chempp::test::worst_error worst;
    for (const auto* t : {&s.sn2, &s.agb}) {
      for (const auto& g : t->grids()) {
        for (std::size_t m = 0; m < g.mass.size(); ++m) {
          double sum = g.mass_in_remnants(m) + g.unprocessed_mass_in_winds(m);
          for (std::size_t e = 0; e < t->elements().size(); ++e) sum += g.net_yield(m, e);
          worst.update(std::abs(sum - 1.0), name + " " + y::to_string(t->kind()) +
                                                " Z=" + std::to_string(g.metallicity) +
                                                " M=" + std::to_string(g.mass(m)));
        }
      }
    }
    INFO("worst |budget - 1| = " << worst.value << " at " << worst.where);
    CHECK(worst.value < 1e-12);
  }
}

TEST_CASE("shipped: unknown name and missing directory give clear errors") {
  CHECK_THROWS_AS((void)y::shipped_yield_set("kobayashi"), chempp::invalid_argument);
  chempp::test::temp_dir tmp("shipped");
  const auto msg = chempp::test::require_file_error(
      [&] { (void)y::shipped_yield_set("tng", tmp.path()); }, "yields_tng.json", 0, "");
  CHECK(msg.find("CHEMPP_DATA_DIR") != std::string::npos);
}
