// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/json_io.hpp"

#include <random>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::require_file_error;

namespace {

// A random table with awkward doubles (tiny, huge, negative, many digits).
y::yield_table random_table(std::mt19937_64& rng, y::channel kind) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<chempp::element> els{chempp::element("H"), chempp::element("O"),
                                   chempp::element("Fe"), chempp::element("Bi")};
  std::vector<y::metallicity_grid> grids;
  for (std::size_t gi = 0; gi < 3; ++gi) {
    y::metallicity_grid g;
    g.metallicity = 0.001 * static_cast<double>(gi) + (gi ? u(rng) * 1e-5 + 1e-5 : 0.0);
    const std::size_t n = 5;
    g.mass = xt::zeros<double>({n});
    g.mass_in_remnants = xt::zeros<double>({n});
    g.unprocessed_mass_in_winds = xt::zeros<double>({n});
    g.net_yield = xt::zeros<double>({n, els.size()});
    for (std::size_t m = 0; m < n; ++m) {
      g.mass(m) = 1.0 + static_cast<double>(m) + 0.1 * (u(rng) + 1.0) * 0.4;
      g.mass_in_remnants(m) = u(rng);
      g.unprocessed_mass_in_winds(m) = u(rng) * 1e-300;
      for (std::size_t e = 0; e < els.size(); ++e)
        g.net_yield(m, e) = u(rng) * std::pow(10.0, 40.0 * u(rng));
    }
    grids.push_back(std::move(g));
  }
  y::provenance p{"loader \"quoted\"", "ref é ünïcode", "10.1/x", "net", "r",
                  {"a/b.txt", "c"},    "n\nl"};
  return y::yield_table(kind, std::move(p), std::move(els), std::move(grids));
}

y::yield_set random_set(std::mt19937_64& rng) {
  return {"test", random_table(rng, y::channel::sn2), random_table(rng, y::channel::agb),
          random_table(rng, y::channel::sn1a)};
}

}  // namespace

TEST_CASE("json_io: table and set round trip exactly (full double precision)") {
  auto rng = chempp::test::seeded_rng(20250302);
  chempp::test::temp_dir tmp("json");
  const auto t = random_table(rng, y::channel::agb);
  y::write_json(t, tmp.path() / "t.json");
  chempp::test::check_tables_identical(y::read_yield_table_json(tmp.path() / "t.json"), t);
  const auto s = random_set(rng);
  y::write_json(s, tmp.path() / "s.json");
  const auto back = y::read_yield_set_json(tmp.path() / "s.json");
  CHECK(back.name == "test");
  chempp::test::check_tables_identical(back.sn2, s.sn2);
  chempp::test::check_tables_identical(back.agb, s.agb);
  chempp::test::check_tables_identical(back.sn1a, s.sn1a);
  // in-memory round trip too
  chempp::test::check_tables_identical(y::yield_table_from_json(y::to_json(t)), t);
}

TEST_CASE("json_io: the reader names the JSON path of a bad field") {
  auto rng = chempp::test::seeded_rng(7);
  const auto s = random_set(rng);
  chempp::test::temp_dir tmp("jsonbad");
  const auto file = tmp.path() / "bad.json";
  auto expect = [&](const std::function<void(nlohmann::ordered_json&)>& edit,
                    const std::string& path) {
    auto j = y::to_json(s);
    edit(j);
    chempp::yields::detail::write_text(file, y::format_json(j));
    const auto msg =
        require_file_error([&] { (void)y::read_yield_set_json(file); }, "bad.json", 0, path);
    CHECK(msg.find(path) != std::string::npos);
  };
  expect([](auto& j) { j["agb"]["grids"][1]["net_yield"]["Fe"][3] = "x"; },
         "$.agb.grids[1].net_yield.Fe[3]");
  expect([](auto& j) { j["sn2"]["grids"][0]["mass"][2] = -1.0; }, "$.sn2.grids[0].mass[2]");
  expect([](auto& j) { j["sn2"]["grids"][0]["mass"][2] = nullptr; }, "$.sn2.grids[0].mass[2]");
  expect([](auto& j) { j["sn2"]["grids"][0]["mass"][3] = 0.5; }, "$.sn2.grids[0].mass[3]");
  expect([](auto& j) { j["sn1a"]["grids"][0]["mass_in_remnants"].erase(0); },
         "$.sn1a.grids[0].mass_in_remnants");
  expect([](auto& j) { j["sn2"]["grids"][0].erase("unprocessed_mass_in_winds"); },
         "$.sn2.grids[0].unprocessed_mass_in_winds");
  expect([](auto& j) { j["agb"]["grids"][0]["net_yield"]["Zn"] = j["agb"]["grids"][0]["mass"]; },
         "$.agb.grids[0].net_yield.Zn");
  expect([](auto& j) { j["agb"]["elements"][2] = "Xx"; }, "$.agb.elements[2]");
  expect([](auto& j) { j["agb"]["grids"][2]["metallicity"] = 0.0; }, "$.agb.grids[2].metallicity");
  expect([](auto& j) { j["agb"]["channel"] = "sn2"; }, "$.agb.channel");
  expect([](auto& j) { j["version"] = 2; }, "$.version");
  expect([](auto& j) { j["schema"] = "other"; }, "$.schema");
  expect([](auto& j) { j["sn2"]["provenance"]["extra"] = 1; }, "$.sn2.provenance.extra");
  expect([](auto& j) { j["sn2"]["provenance"].erase("doi"); }, "$.sn2.provenance.doi");

  SUBCASE("syntax error reports the line") {
    chempp::yields::detail::write_text(file, "{\n  \"schema\": \"chempp.yield_set\",\n  oops\n}\n");
    require_file_error([&] { (void)y::read_yield_set_json(file); }, "bad.json", 3, "");
  }
  SUBCASE("missing file") {
    require_file_error([&] { (void)y::read_yield_set_json(tmp.path() / "none.json"); }, "none.json",
                       0, "");
  }
}
