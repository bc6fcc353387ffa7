// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/loaders.hpp"

#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;

TEST_CASE("loaders: the registry lists CHEMPY's 21 working loaders") {
  CHECK(y::sn2_table_names() == std::vector<std::string>{"TNG_net", "Nomoto2013", "Nomoto2013_net",
                                                         "chieffi04", "chieffi04_net", "CL18_net",
                                                         "NuGrid_net", "OldNugrid", "Portinari_net",
                                                         "West17_net", "Frischknecht16_net"});
  CHECK(y::agb_table_names() == std::vector<std::string>{"TNG_net", "Nugrid", "Karakas",
                                                         "Karakas_net_yield", "Karakas16_net",
                                                         "Ventura_net"});
  CHECK(y::sn1a_table_names() ==
        std::vector<std::string>{"TNG", "Thielemann", "Seitenzahl", "Iwamoto"});
}

TEST_CASE("loaders: every registered table equals CHEMPY's reference table") {
  using load_fn = y::yield_table (*)(const std::string&, const std::filesystem::path&);
  const std::vector<std::pair<std::string, load_fn>> kinds{
      {"sn2", &y::load_sn2_table}, {"agb", &y::load_agb_table}, {"sn1a", &y::load_sn1a_table}};
  for (const auto& entry : kinds) {
    const std::string& kind = entry.first;  // (not a structured binding: clang 14 cannot capture one)
    const load_fn load = entry.second;
    const auto names = kind == "sn2"   ? y::sn2_table_names()
                       : kind == "agb" ? y::agb_table_names()
                                       : y::sn1a_table_names();
    for (const auto& name : names) {
      CAPTURE(kind);
      CAPTURE(name);
      const auto t = chempp::test::check_loader_against_reference(
          kind, name, [&, fn = load](const auto& dir) { return fn(name, dir); });
      if (!t) return;  // ../shared absent: skipped with a message
      CHECK(!t->source().reference.empty());
      CHECK(!t->source().yield_kind.empty());
      CHECK(!t->source().remnant_treatment.empty());
      CHECK(!t->source().source_files.empty());
    }
  }
}

TEST_CASE("loaders: an unknown name lists the valid ones") {
  const std::filesystem::path nowhere = "/nonexistent";
  try {
    (void)y::load_sn2_table("Nomoto2014", nowhere);
    FAIL("expected chempp::invalid_argument");
  } catch (const chempp::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("Nomoto2014") != std::string::npos);
    for (const auto& n : y::sn2_table_names()) CHECK(msg.find(n) != std::string::npos);
  }
  CHECK_THROWS_AS((void)y::load_agb_table("karakas", nowhere), chempp::invalid_argument);
  CHECK_THROWS_AS((void)y::load_sn1a_table("TNG_net", nowhere), chempp::invalid_argument);
  // a known name with a missing folder is a file error, not an unknown name
  CHECK_THROWS_AS((void)y::load_sn1a_table("Iwamoto", nowhere), chempp::file_error);
}
