// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/karakas16_loader.hpp"

#include <filesystem>
#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::copy_with_edit;
using chempp::test::find_line;
using chempp::test::replace_token;
using chempp::test::require_file_error;

TEST_CASE("karakas16_loader: table equals CHEMPY's Karakas16_net (composition difference)") {
  auto dir = chempp::test::raw_yields_dir();
  auto ref = chempp::test::chempy_loaded_tables("alt");
  if (!dir || !ref) return;
  const auto t = y::load_karakas16_agb(*dir / "Karakas2016");
  chempp::test::check_against_chempy(t, ref->at("agb"));
  CHECK(t.elements().size() == 78);
  CHECK(t.source().yield_kind == "composition_difference");
  // masses descending, u = 1 - remnant
  for (const auto& g : t.grids()) {
    for (std::size_t m = 0; m < g.mass.size(); ++m) {
      if (m > 0) CHECK(g.mass(m) < g.mass(m - 1));
      CHECK(g.unprocessed_mass_in_winds(m) == 1.0 - g.mass_in_remnants(m));
    }
  }
  // the Z = 0.03, 4.0 Msun quirk: CHEMPY's hard-coded final mass is 0.744 (the file says 0.774)
  const auto& z03 = t.grid(3);
  for (std::size_t m = 0; m < z03.mass.size(); ++m) {
    if (z03.mass(m) == 4.0) CHECK(z03.mass_in_remnants(m) == 0.744 / 4.0);
  }
}

TEST_CASE("karakas16_loader: the hard-coded remnant lists are CHEMPY's (reference dump)") {
  auto ref = chempp::test::chempy_loaded_tables("alt");
  if (!ref) return;
  for (const auto& model : y::karakas16_chempy_models()) {
    const nlohmann::json* tab = nullptr;
    for (const auto& [k, v] : ref->at("agb").at("tables").items()) {
      if (std::stod(k) == model.metallicity) tab = &v;
    }
    REQUIRE(tab != nullptr);
    const auto mass = tab->at("Mass").get<std::vector<double>>();
    const auto mir = tab->at("mass_in_remnants").get<std::vector<double>>();
    REQUIRE(mass.size() == model.masses.size());
    const std::size_t n = mass.size();
    for (std::size_t j = 0; j < n; ++j) {
      CHECK(mass[n - 1 - j] == model.masses[j]);
      CHECK(mir[n - 1 - j] == model.final_masses[j] / model.masses[j]);
    }
  }
}

TEST_CASE("karakas16_loader: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  const auto src_dir = *dir / "Karakas2016";
  chempp::test::temp_dir tmp("karakas");
  for (const auto& e : std::filesystem::directory_iterator(src_dir)) {
    std::filesystem::copy_file(e.path(), tmp.path() / e.path().filename());
  }
  auto load = [&] { (void)y::load_karakas16_agb(tmp.path()); };
  const std::string yname = "yield_z014.dat";
  const auto ysrc = src_dir / yname;
  const auto ybad = tmp.path() / yname;

  SUBCASE("missing surface file") {
    std::filesystem::remove(tmp.path() / "surf_z014_RECONSTRUCTED.dat");
    require_file_error(load, "surf_z014", 0, "");
  }
  SUBCASE("NaN in X(i)") {
    const auto ln = find_line(ysrc, " fe  26");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) { return replace_token(s, 5, "nan"); });
    require_file_error(load, yname, ln, "row 'fe' X(i)");
  }
  SUBCASE("malformed row") {
    const auto ln = find_line(ysrc, "  c   6");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) { return replace_token(s, 5, "2.1q-03"); });
    require_file_error(load, yname, ln, "row 'c' X(i)");
  }
  SUBCASE("wrong column count") {
    const auto ln = find_line(ysrc, "  o   8");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) { return s + " 1.0"; });
    require_file_error(load, yname, ln, "row 'o'");
  }
  SUBCASE("negative mass fraction") {
    const auto ln = find_line(ysrc, " mg  12");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) { return replace_token(s, 5, "-7.5E-04"); });
    require_file_error(load, yname, ln, "row 'mg' X(i)");
  }
  SUBCASE("block masses do not match the model list (non-monotone grid)") {
    const auto ln = find_line(ysrc, "# Initial mass = 1.250");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) {
      return "# Initial mass = 0.900" + s.substr(std::string("# Initial mass = 1.250").size());
    });
    require_file_error(load, yname, ln, "Initial mass");
  }
  SUBCASE("negative initial mass") {
    const auto ln = find_line(ysrc, "# Initial mass = 1.000");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) {
      return "# Initial mass = -1.000" + s.substr(std::string("# Initial mass = 1.000").size());
    });
    require_file_error(load, yname, ln, "Initial mass");
  }
  SUBCASE("element whose atomic number does not match") {
    const auto ln = find_line(ysrc, " ne  10");
    copy_with_edit(ysrc, ybad, ln, [](std::string s) { return replace_token(s, 1, "11"); });
    require_file_error(load, yname, ln, "row 'ne'");
  }
  SUBCASE("an original surf_z014.dat is preferred over the reconstruction") {
    const auto rsrc = src_dir / "surf_z014_RECONSTRUCTED.dat";
    const auto ln = find_line(rsrc, "  c   6");
    copy_with_edit(rsrc, tmp.path() / "surf_z014.dat", ln,
                   [](std::string s) { return replace_token(s, 6, "nan"); });
    const auto msg = require_file_error(load, "surf_z014.dat", ln, "row 'c' X(i)");
    CHECK(msg.find("RECONSTRUCTED") == std::string::npos);
  }
  SUBCASE("surface file: NaN") {
    const std::string sname = "surf_z001.dat";
    const auto ssrc = src_dir / sname;
    const auto ln = find_line(ssrc, "  o   8");
    copy_with_edit(ssrc, tmp.path() / sname, ln,
                   [](std::string s) { return replace_token(s, 6, "NaN"); });
    require_file_error(load, sname, ln, "row 'o' X(i)");
  }
}
