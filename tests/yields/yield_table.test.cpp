// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/yield_table.hpp"

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace y = chempp::yields;

namespace {
y::metallicity_grid make_grid(double z, std::vector<double> masses, std::size_t n_el) {
  y::metallicity_grid g;
  g.metallicity = z;
  const std::size_t n = masses.size();
  g.mass = xt::adapt(masses, {n});
  g.mass_in_remnants = xt::zeros<double>({n});
  g.unprocessed_mass_in_winds = xt::ones<double>({n});
  g.net_yield = xt::zeros<double>({n, n_el});
  return g;
}
const std::vector<chempp::element> els{chempp::element("H"), chempp::element("Fe")};
}  // namespace

TEST_CASE("yield_table: valid tables, ascending or descending masses") {
  const y::yield_table a(y::channel::sn2, {}, els, {make_grid(0.0, {8, 9, 12}, 2)});
  const y::yield_table d(y::channel::agb, {}, els, {make_grid(0.01, {7, 3, 1}, 2)});
  CHECK(a.size() == 1);
  CHECK(d.grid(0).mass(0) == 7.0);
  CHECK_THROWS_AS((void)d.grid(1), chempp::invalid_argument);  // was std::out_of_range (issue 15)
  CHECK(a.element_index(chempp::element("Fe")) == std::optional<std::size_t>(1));
  CHECK_FALSE(a.element_index(chempp::element("O")).has_value());
  static_assert(y::YieldTable<y::yield_table>);
}

TEST_CASE("yield_table: invalid tables throw invalid_argument naming the problem") {
  auto bad = [](std::vector<y::metallicity_grid> g, const std::string& part) {
    try {
      y::yield_table t(y::channel::sn2, {}, els, std::move(g));
      FAIL("expected invalid_argument");
    } catch (const chempp::invalid_argument& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(part) != std::string::npos);
    }
  };
  bad({make_grid(0.0, {8, 9, 8.5}, 2)}, "monotone");
  bad({make_grid(0.0, {8, 8, 9}, 2)}, "repeats");
  bad({make_grid(0.0, {8, -9}, 2)}, "mass[1]");
  bad({make_grid(0.02, {8, 9}, 2), make_grid(0.01, {8, 9}, 2)}, "strictly increasing");
  bad({make_grid(0.0, {8, 9}, 3)}, "column lengths");
  auto g = make_grid(0.0, {8, 9}, 2);
  g.net_yield(1, 1) = std::nan("");
  bad({g}, "net_yield[1][Fe]");
  bad({}, "no metallicity grid");
}
