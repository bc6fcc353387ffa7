// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/io/catalog.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chempp/io.hpp"
#include "support/test_support.hpp"

using chempp::io::abundance_catalog;
using chempp::io::catalog_convention;

namespace {

const std::vector<std::string> model_order = {"c_fe", "fe_h",  "he_fe", "mg_fe",
                                              "n_fe", "ne_fe", "o_fe",  "si_fe"};

abundance_catalog parse(const std::string& text,
                        const std::vector<std::string>& obs = {"fe_h", "mg_fe"}) {
  std::istringstream in(text);
  return chempp::io::parse_abundance_catalog(in, "cat.csv", obs);
}

/// The file_error thrown by parsing `text` (fails the test if none is thrown).
chempp::file_error parse_error(const std::string& text,
                               const std::vector<std::string>& obs = {"fe_h", "mg_fe"}) {
  try {
    (void)parse(text, obs);
  } catch (const chempp::file_error& e) {
    return e;
  }
  FAIL("no file_error thrown for:\n" << text);
  return chempp::file_error("", 0, "", "");
}

/// Checks that parsing `text` throws a file_error at `line` naming `field`, whose message holds
/// "cat.csv:<line>", the field and `contains`.
void check_error(const std::string& text, std::size_t line, const std::string& field,
                 const std::string& contains = "",
                 const std::vector<std::string>& obs = {"fe_h", "mg_fe"}) {
  CAPTURE(text);
  const auto e = parse_error(text, obs);
  const std::string what = e.what();
  CAPTURE(what);
  CHECK(e.file() == "cat.csv");
  CHECK(e.line() == line);
  CHECK(e.field() == field);
  CHECK(what.find("cat.csv:" + std::to_string(line)) != std::string::npos);
  CHECK(what.find("'" + field + "'") != std::string::npos);
  CHECK(what.find(contains) != std::string::npos);
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("catalog: GALAH-style columns") {
  const auto c = parse(
      "sobject_id,teff,fe_h,e_fe_h,flag_fe_h,mg_fe,e_mg_fe\n"
      "131116000501002,5800.5,-0.25,0.05,0,0.12,0.07\n"
      "131116000501003,4700,0.1,0.04,0,,\n");
  REQUIRE(c.stars() == 2);
  REQUIRE(c.n_observables() == 2);
  CHECK(c.observables == std::vector<std::string>{"fe_h", "mg_fe"});
  CHECK(c.source == "cat.csv");
  CHECK(c.x(0, 0) == -0.25);
  CHECK(c.sigma(0, 0) == 0.05);
  CHECK(c.x(0, 1) == 0.12);
  CHECK(c.sigma(0, 1) == 0.07);
  CHECK(c.x(1, 0) == 0.1);
  CHECK(c.measured(1, 0));
  CHECK_FALSE(c.measured(1, 1));
  CHECK(std::isnan(c.x(1, 1)));
  CHECK(std::isnan(c.sigma(1, 1)));
  CHECK(c.n_measured(0) == 2);
  CHECK(c.n_measured(1) == 1);
  CHECK(c.line == std::vector<std::size_t>{2, 3});
  CHECK(c.id == std::vector<std::string>{"131116000501002", "131116000501003"});
  CHECK(c.id_column == "sobject_id");
  CHECK(c.value_column == std::vector<std::string>{"fe_h", "mg_fe"});
  CHECK(c.sigma_column == std::vector<std::string>{"e_fe_h", "e_mg_fe"});
  CHECK(c.index("MG_FE") == 1);
  CHECK_THROWS_AS((void)c.index("si_fe"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)c.n_measured(2), chempp::invalid_argument);
}

TEST_CASE("catalog: APOGEE-style upper-case columns, all eight observables") {
  const auto c = parse(
      "APOGEE_ID,FE_H,FE_H_ERR,C_FE,C_FE_ERR,MG_FE,MG_FE_ERR,N_FE,N_FE_ERR,O_FE,O_FE_ERR,"
      "SI_FE,SI_FE_ERR,NE_FE,NE_FE_ERR,HE_FE,HE_FE_ERR,FE_H_FLAG\n"
      "2M00000002+7417074,-0.3,0.01,0.1,0.02,0.2,0.03,0.3,0.04,0.4,0.05,0.5,0.06,0.6,0.07,"
      "0.7,0.08,0\n",
      model_order);
  REQUIRE(c.stars() == 1);
  CHECK(c.id == std::vector<std::string>{"2M00000002+7417074"});
  CHECK(c.id_column == "APOGEE_ID");
  // Model order: c_fe fe_h he_fe mg_fe n_fe ne_fe o_fe si_fe.
  const std::vector<double> x = {0.1, -0.3, 0.7, 0.2, 0.3, 0.6, 0.4, 0.5};
  const std::vector<double> s = {0.02, 0.01, 0.08, 0.03, 0.04, 0.07, 0.05, 0.06};
  for (Eigen::Index k = 0; k < 8; ++k) {
    CAPTURE(k);
    CHECK(c.x(0, k) == x[static_cast<std::size_t>(k)]);
    CHECK(c.sigma(0, k) == s[static_cast<std::size_t>(k)]);
    CHECK(c.measured(0, k));
  }
  CHECK(c.sigma_column[1] == "FE_H_ERR");
}

TEST_CASE("catalog: mixed case, absent columns, empty and nan cells") {
  const auto c = parse(
      "Fe_H,E_FE_H,c_Fe,C_fe_Err,Star_ID\n"
      "0.5,0.1,nan,,a\n"
      "NaN,-1,0.2,0.3,b\n"
      " ,0,  -0.1 ,  0.2 ,c\n"
      "NAN,nan,1e-1,+2.5E-2,d\n"
      ",,3,0.1,e\n",
      {"c_fe", "fe_h", "he_fe"});
  REQUIRE(c.stars() == 5);
  CHECK(c.id_column == "Star_ID");
  CHECK(c.id == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK(c.value_column == std::vector<std::string>{"c_Fe", "Fe_H", ""});
  CHECK(c.sigma_column == std::vector<std::string>{"C_fe_Err", "E_FE_H", ""});
  // he_fe is absent from the header: measured for no star.
  CHECK(c.n_measured(2) == 0);
  CHECK(c.x.col(2).array().isNaN().all());
  CHECK(c.sigma.col(2).array().isNaN().all());
  CHECK(c.n_measured(0) == 4);
  CHECK(c.n_measured(1) == 1);
  CHECK(c.x(0, 1) == 0.5);
  CHECK_FALSE(c.measured(0, 0));
  CHECK(std::isnan(c.x(0, 0)));
  CHECK_FALSE(c.measured(1, 1));
  CHECK(std::isnan(c.sigma(1, 1)));  // the ignored uncertainty -1 is not kept
  CHECK(c.x(2, 0) == -0.1);
  CHECK(c.sigma(2, 0) == 0.2);
  CHECK(c.x(3, 0) == 0.1);
  CHECK(c.sigma(3, 0) == 0.025);
  CHECK(c.x(4, 0) == 3.0);
}

TEST_CASE("catalog: CRLF, byte-order mark, blank lines, quotes, extra columns") {
  const auto c = parse(
      "\xEF\xBB\xBF"
      "star_id , \"fe_h\",e_fe_h,comment,mg_fe,e_mg_fe,\"note, with comma\"\r\n"
      "\r\n"
      "   \r\n"
      "\"Smith, J.\",-1.5,0.1,\"said \"\"hi\"\", then left\",0.3,0.05,x\r\n"
      "\t\r\n"
      "\" padded \", \" -1.25 \" ,\"0.2\",,\"\",\"nan\",\"\"\r\n");
  REQUIRE(c.stars() == 2);
  CHECK(c.line == std::vector<std::size_t>{4, 6});
  CHECK(c.id_column == "star_id");
  CHECK(c.id == std::vector<std::string>{"Smith, J.", " padded "});
  CHECK(c.value_column[0] == "fe_h");
  CHECK(c.x(0, 0) == -1.5);
  CHECK(c.x(0, 1) == 0.3);
  CHECK(c.sigma(0, 1) == 0.05);
  CHECK(c.x(1, 0) == -1.25);
  CHECK(c.sigma(1, 0) == 0.2);
  CHECK_FALSE(c.measured(1, 1));
}

TEST_CASE("catalog: id columns") {
  // No id column: empty strings.
  const auto none = parse("fe_h,e_fe_h\n0,1\n1,1\n");
  CHECK(none.id == std::vector<std::string>{"", ""});
  CHECK(none.id_column.empty());
  // All four names are recognised, case-insensitively.
  for (const std::string name : {"ID", "Star_Id", "SOBJECT_ID", "apogee_id"}) {
    CAPTURE(name);
    const auto c = parse(name + ",fe_h,e_fe_h\nx1,0,1\n");
    CHECK(c.id_column == name);
    CHECK(c.id == std::vector<std::string>{"x1"});
  }
  // Several: the first of id, star_id, sobject_id, apogee_id.
  const auto both = parse("sobject_id,star_id,fe_h,e_fe_h\n1501,2MASS-J1,0,1\n");
  CHECK(both.id_column == "star_id");
  CHECK(both.id == std::vector<std::string>{"2MASS-J1"});
}

TEST_CASE("catalog: a header without rows is an empty catalogue") {
  const auto c = parse("fe_h,e_fe_h,mg_fe,e_mg_fe\n\n");
  CHECK(c.stars() == 0);
  CHECK(c.x.rows() == 0);
  CHECK(c.x.cols() == 2);
  CHECK(c.measured.cols() == 2);
  CHECK(c.n_measured(0) == 0);
}

TEST_CASE("catalog: header errors") {
  check_error("fe_h,mg_fe,e_mg_fe\n0,0,1\n", 1, "fe_h", "e_fe_h' or 'FE_H_ERR");
  check_error("FE_H,mg_fe,e_mg_fe\n0,0,1\n", 1, "FE_H", "without uncertainty column");
  {
    const auto e = parse_error("fe_h,e_fe_h,FE_H_ERR\n0,1,1\n");
    CHECK(e.line() == 1);
    CHECK(e.field() == "fe_h");
    CHECK(std::string(e.what()).find("'e_fe_h'") != std::string::npos);
    CHECK(std::string(e.what()).find("'FE_H_ERR'") != std::string::npos);
    CHECK(std::string(e.what()).find("ambiguous") != std::string::npos);
  }
  // Ambiguous even without the abundance column; the header line counts blank lines.
  check_error("\n\nmg_fe,E_MG_FE,mg_fe_err\n0,1,1\n", 3, "mg_fe", "ambiguous");
  check_error("fe_h,e_fe_h,teff,TEFF\n0,1,1,1\n", 1, "TEFF", "duplicate column");
  check_error("fe_h,e_fe_h,Fe_H\n0,1,1\n", 1, "Fe_H", "duplicate column");
  check_error("id,teff,logg\n1,2,3\n", 1, "fe_h, mg_fe", "none of the wanted abundance columns");
  check_error("e_fe_h,e_mg_fe\n1,2\n", 1, "fe_h, mg_fe", "none of the wanted");
  check_error("", 1, "header", "no header row");
  check_error("\xEF\xBB\xBF", 1, "header", "no header row");
  check_error("\n  \r\n\t\n", 1, "header", "no header row");
  check_error("fe_h,\"e_fe_h\n0,1\n", 1, "column 2", "unterminated quoted cell");
}

TEST_CASE("catalog: row errors name the line and the column") {
  const std::string head = "id,fe_h,e_fe_h,mg_fe,e_mg_fe\n";
  // Malformed numbers, in abundance and uncertainty columns.
  check_error(head + "a,1.2x,0.1,0,1\n", 2, "fe_h", "malformed number '1.2x'");
  check_error(head + "a,inf,0.1,0,1\n", 2, "fe_h", "malformed number 'inf'");
  check_error(head + "a,-Infinity,0.1,0,1\n", 2, "fe_h", "malformed");
  check_error(head + "a,0,0.1,-nan,1\n", 2, "mg_fe", "malformed");
  check_error(head + "a,0,0.1,nan(1),1\n", 2, "mg_fe", "malformed");
  check_error(head + "a,+-1,0.1,0,1\n", 2, "fe_h", "malformed");
  check_error(head + "a,1 2,0.1,0,1\n", 2, "fe_h", "malformed");
  check_error(head + "a,0x10,0.1,0,1\n", 2, "fe_h", "malformed");
  check_error(head + "a,1e999,0.1,0,1\n", 2, "fe_h", "out of range");
  check_error(head + "\n\na,0,0.1,0,0.1q\n", 4, "e_mg_fe", "malformed");
  // An unmeasured abundance's uncertainty is ignored but must still be readable.
  check_error(head + "a,,abc,0,1\n", 2, "e_fe_h", "malformed number 'abc'");
  // Uncertainties of measured abundances.
  check_error(head + "a,0,-0.1,0,1\n", 2, "e_fe_h", "must be positive (got -0.1");
  check_error(head + "a,0,0,0,1\n", 2, "e_fe_h", "must be positive (got 0");
  check_error(head + "a,0,1,0,\n", 2, "e_mg_fe", "uncertainty is missing");
  check_error(head + "a,0,1,0,NaN\n", 2, "e_mg_fe", "uncertainty is missing");
  // Nothing measured.
  check_error(head + "a,0,1,0,1\r\nb,,,nan,\r\n", 3, "fe_h, mg_fe", "no measured abundance");
  check_error("id,FE_H,FE_H_ERR,extra\nb,nan,nan,1\n", 2, "FE_H", "no measured abundance");
  check_error(head + ",,,,\n", 2, "fe_h, mg_fe", "no measured abundance");
  // Wrong number of cells.
  check_error(head + "a,0,1,0\n", 2, "e_mg_fe", "line has 4 cells, the header has 5 columns");
  {
    const auto e = parse_error(head + "a,0,1,0,1\na,0,1,0,1,\n");
    CHECK(e.line() == 3);
    CHECK(std::string(e.what()).find("cat.csv:3") != std::string::npos);
    CHECK(std::string(e.what()).find("line has 6 cells") != std::string::npos);
  }
  // Malformed quoting.
  check_error(head + "\"a,0,1,0,1\n", 2, "id", "unterminated quoted cell");
  check_error(head + "a,\"0\"1,1,0,1\n", 2, "fe_h", "after the closing quote");
}

TEST_CASE("catalog: invalid observables list and unreadable file") {
  std::istringstream in("fe_h,e_fe_h\n0,1\n");
  const std::vector<std::string> empty;
  CHECK_THROWS_AS(chempp::io::parse_abundance_catalog(in, "x", empty), chempp::invalid_argument);
  const std::vector<std::string> dup = {"fe_h", "FE_H"};
  CHECK_THROWS_WITH_AS(chempp::io::parse_abundance_catalog(in, "x", dup),
                       doctest::Contains("listed twice"), chempp::invalid_argument);
  const std::vector<std::string> blank = {"fe_h", ""};
  CHECK_THROWS_AS(chempp::io::parse_abundance_catalog(in, "x", blank), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(chempp::io::read_abundance_catalog("/nonexistent/catalog.csv", model_order),
                       doctest::Contains("/nonexistent/catalog.csv"), chempp::file_error);
}

TEST_CASE("catalog: writer round trip (GALAH and APOGEE naming, file and stream)") {
  auto rng = chempp::test::seeded_rng(20240611);
  std::normal_distribution<double> value(0.0, 0.4);
  std::uniform_real_distribution<double> error(0.001, 0.3);
  std::bernoulli_distribution missing(0.3);

  abundance_catalog c;
  c.observables = model_order;
  const Eigen::Index n = 40, m = 8;
  c.x.setConstant(n, m, std::nan(""));
  c.sigma.setConstant(n, m, std::nan(""));
  c.measured.setConstant(n, m, false);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index k = 0; k < m; ++k) {
      if (missing(rng) && !(k == m - 1 && !c.measured.row(i).any())) continue;
      c.measured(i, k) = true;
      c.x(i, k) = value(rng);
      c.sigma(i, k) = error(rng);
    }
    c.id.push_back("star " + std::to_string(i));
  }
  // Awkward values and ids.
  auto set = [&c](Eigen::Index i, Eigen::Index k, double x, double s) {
    c.measured(i, k) = true;
    c.x(i, k) = x;
    c.sigma(i, k) = s;
  };
  set(0, 1, 0.1, 0.2);
  set(1, 1, -1e-300, 1e-300);
  set(2, 1, 123456.789e10, 3.0);
  set(3, 1, 1.0 / 3.0, 5e-7);
  set(4, 1, -0.0, 1.0);
  c.id[0] = "Smith, \"J.\"";
  c.id[1] = "  padded\t";
  c.id[2] = "";
  c.id[3] = "nan";

  for (const auto convention : {catalog_convention::galah, catalog_convention::apogee}) {
    CAPTURE(static_cast<int>(convention));
    std::ostringstream out;
    chempp::io::write_abundance_catalog(out, c, convention);
    const std::string text = out.str();
    CHECK(text.find(convention == catalog_convention::galah ? "sobject_id,c_fe,e_c_fe,fe_h"
                                                            : "APOGEE_ID,C_FE,C_FE_ERR,FE_H") == 0);
    const auto r = parse(text, model_order);
    REQUIRE(r.stars() == static_cast<std::size_t>(n));
    CHECK(r.observables == c.observables);
    CHECK(r.id == c.id);
    CHECK((r.measured == c.measured).all());
    bool exact = true;
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index k = 0; k < m; ++k) {
        exact = exact && same(r.x(i, k), c.x(i, k)) && same(r.sigma(i, k), c.sigma(i, k));
      }
    }
    CHECK(exact);
    CHECK(std::signbit(r.x(4, 1)));
    CHECK(r.line.front() == 2);
    CHECK(r.line.back() == static_cast<std::size_t>(n) + 1);
  }

  // Through a file; without ids no id column is written.
  abundance_catalog d = c;
  d.id.clear();
  const auto path = std::filesystem::temp_directory_path() /
                    ("chempp-catalog-" + std::to_string(std::random_device{}()) + ".csv");
  {
    std::ofstream f(path, std::ios::binary);
    chempp::io::write_abundance_catalog(f, d, catalog_convention::apogee);
  }
  const auto r = chempp::io::read_abundance_catalog(path, model_order);
  std::filesystem::remove(path);
  CHECK(r.source == path.string());
  CHECK(r.id_column.empty());
  CHECK(r.id == std::vector<std::string>(static_cast<std::size_t>(n)));
  CHECK((r.measured == c.measured).all());
  CHECK(r.x(2, 1) == c.x(2, 1));
}

TEST_CASE("catalog: the writer refuses catalogues the reader would reject") {
  abundance_catalog c;
  c.observables = {"fe_h", "mg_fe"};
  c.x = Eigen::MatrixXd::Constant(2, 2, 0.1);
  c.sigma = Eigen::MatrixXd::Constant(2, 2, 0.05);
  c.measured.setConstant(2, 2, true);
  std::ostringstream out;
  const auto galah = catalog_convention::galah;
  CHECK_NOTHROW(chempp::io::write_abundance_catalog(out, c, galah));

  auto bad = c;
  bad.measured.row(1).setConstant(false);
  CHECK_THROWS_WITH_AS(chempp::io::write_abundance_catalog(out, bad, galah),
                       doctest::Contains("star 1 has no measured"), chempp::invalid_argument);
  bad = c;
  bad.sigma(0, 1) = 0.0;
  CHECK_THROWS_WITH_AS(chempp::io::write_abundance_catalog(out, bad, galah),
                       doctest::Contains("mg_fe"), chempp::invalid_argument);
  bad = c;
  bad.x(1, 0) = INFINITY;
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, bad, galah), chempp::invalid_argument);
  bad = c;
  bad.sigma.resize(2, 1);
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, bad, galah), chempp::invalid_argument);
  bad = c;
  bad.id = {"a"};
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, bad, galah), chempp::invalid_argument);
  bad.id = {"a", "b\nc"};
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, bad, galah), chempp::invalid_argument);
  bad = c;
  bad.observables = {"fe_h", "Fe_H"};
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, bad, galah), chempp::invalid_argument);
  // An unmeasured entry may hold anything.
  bad = c;
  bad.measured(0, 0) = false;
  bad.x(0, 0) = INFINITY;
  bad.sigma(0, 0) = -1.0;
  std::ostringstream ok;
  chempp::io::write_abundance_catalog(ok, bad, galah);
  CHECK(ok.str().find("fe_h,e_fe_h,mg_fe,e_mg_fe\n,,") == 0);
}

TEST_CASE("catalog: APOGEE quality flags (X_FE_FLAG, FE_H_FLAG) discard flagged values") {
  const auto c = parse(
      "APOGEE_ID,FE_H,FE_H_ERR,FE_H_FLAG,MG_FE,MG_FE_ERR,MG_FE_FLAG\n"
      "2M1,-0.3,0.01,0,0.2,0.03,0\n"
      "2M2,-0.4,0.02,0,0.25,nan,8\n"   // MG_FE flagged: its missing error is not checked
      "2M3,-0.5,0.03,0,,,16\n"         // flag on an empty cell: nothing to discard
      "2M4,0.1,0.01,1,0.3,0.02,256\n"  // both flagged: the star is left out
      "2M5,0.2,0.01,-1,0.1,0.02,\n");  // negative flag counts; empty flag cell = no flag
  REQUIRE(c.stars() == 4);
  CHECK(c.id == std::vector<std::string>{"2M1", "2M2", "2M3", "2M5"});
  CHECK(c.line == std::vector<std::size_t>{2, 3, 4, 6});
  CHECK(c.dropped == std::vector<std::size_t>{5});
  CHECK(c.flag_column == std::vector<std::string>{"FE_H_FLAG", "MG_FE_FLAG"});
  CHECK(c.flagged == std::vector<std::size_t>{2, 2});
  CHECK(c.n_flagged(0) == 2);
  CHECK(c.n_flagged(1) == 2);
  CHECK_THROWS_AS((void)c.n_flagged(2), chempp::invalid_argument);
  CHECK(c.measured(0, 0));
  CHECK(c.measured(0, 1));
  CHECK(c.measured(1, 0));
  CHECK_FALSE(c.measured(1, 1));
  CHECK(std::isnan(c.x(1, 1)));
  CHECK(std::isnan(c.sigma(1, 1)));
  CHECK_FALSE(c.measured(2, 1));
  CHECK_FALSE(c.measured(3, 0));
  CHECK(std::isnan(c.x(3, 0)));
  CHECK(c.measured(3, 1));
  CHECK(c.x(3, 1) == 0.1);
  CHECK(c.n_measured(0) == 3);
  CHECK(c.n_measured(1) == 2);
  CHECK(c.missing_observables().empty());
}

TEST_CASE("catalog: GALAH quality flags (flag_x_fe, flag_fe_h)") {
  const auto c = parse(
      "sobject_id,fe_h,e_fe_h,flag_fe_h,mg_fe,e_mg_fe,flag_mg_fe,flag_si_fe\n"
      "1,-0.25,0.05,0,0.12,0.07,1,x\n"  // flag_si_fe is not wanted: ignored, even malformed
      "2,0.1,0.04,0,0.2,0.05,+0,\n"
      "3,0.0,0.04,32,,,0,\n",  // the only given abundance is flagged: left out
      {"fe_h", "mg_fe"});
  REQUIRE(c.stars() == 2);
  CHECK(c.id == std::vector<std::string>{"1", "2"});
  CHECK(c.dropped == std::vector<std::size_t>{4});
  CHECK(c.flag_column == std::vector<std::string>{"flag_fe_h", "flag_mg_fe"});
  CHECK(c.flagged == std::vector<std::size_t>{1, 1});
  CHECK_FALSE(c.measured(0, 1));
  CHECK(c.measured(1, 1));
  CHECK(c.x(1, 1) == 0.2);
  // Mixed conventions work like the uncertainty columns: GALAH values with an APOGEE flag.
  const auto mixed = parse("fe_h,e_fe_h,FE_H_FLAG\n0.1,0.1,0\n0.2,0.1,4\n0.3,0.1,0\n", {"fe_h"});
  CHECK(mixed.stars() == 2);
  CHECK(mixed.dropped == std::vector<std::size_t>{3});
  CHECK(mixed.flag_column == std::vector<std::string>{"FE_H_FLAG"});
}

TEST_CASE("catalog: without flag columns nothing is flagged") {
  const auto c = parse("fe_h,e_fe_h,mg_fe,e_mg_fe\n0,1,0,1\n1,1,,\n");
  CHECK(c.stars() == 2);
  CHECK(c.flag_column == std::vector<std::string>{"", ""});
  CHECK(c.flagged == std::vector<std::size_t>{0, 0});
  CHECK(c.dropped.empty());
  // A hand-made catalogue without `flagged`.
  abundance_catalog d;
  d.observables = {"fe_h"};
  CHECK(d.n_flagged(0) == 0);
  CHECK(d.missing_observables() == std::vector<std::string>{"fe_h"});
}

TEST_CASE("catalog: missing_observables lists what no star has") {
  // si_fe absent from the header, mg_fe present but empty, o_fe present but always flagged.
  const auto c = parse(
      "FE_H,FE_H_ERR,MG_FE,MG_FE_ERR,O_FE,O_FE_ERR,O_FE_FLAG\n"
      "0.1,0.1,,,0.3,0.1,2\n"
      "0.2,0.1,nan,nan,0.4,0.1,1\n",
      {"si_fe", "fe_h", "mg_fe", "o_fe"});
  CHECK(c.stars() == 2);
  CHECK(c.missing_observables() == std::vector<std::string>{"si_fe", "mg_fe", "o_fe"});
  CHECK(c.flagged == std::vector<std::size_t>{0, 0, 0, 2});
  const auto all = parse("fe_h,e_fe_h,mg_fe,e_mg_fe\n0,1,0,1\n");
  CHECK(all.missing_observables().empty());
  const auto none = parse("fe_h,e_fe_h,mg_fe,e_mg_fe\n");
  CHECK(none.missing_observables() == std::vector<std::string>{"fe_h", "mg_fe"});
}

TEST_CASE("catalog: malformed and ambiguous flag columns") {
  const std::string head = "id,FE_H,FE_H_ERR,FE_H_FLAG,MG_FE,MG_FE_ERR\n";
  check_error(head + "a,0,1,x,0,1\n", 2, "FE_H_FLAG", "malformed quality flag 'x'");
  check_error(head + "a,0,1,1.5,0,1\n", 2, "FE_H_FLAG", "malformed quality flag '1.5'");
  check_error(head + "a,0,1,0,0,1\n\nb,0,1,nan,0,1\n", 4, "FE_H_FLAG", "expected an integer");
  check_error(head + "a,0,1,+-1,0,1\n", 2, "FE_H_FLAG", "malformed quality flag");
  check_error(head + "a,0,1,0x1,0,1\n", 2, "FE_H_FLAG", "malformed quality flag");
  check_error(head + "a,0,1,99999999999999999999,0,1\n", 2, "FE_H_FLAG", "malformed");
  // A flag on a star whose value is absent must still be readable.
  check_error(head + "a,,,bad,0,1\n", 2, "FE_H_FLAG", "malformed quality flag 'bad'");
  check_error("fe_h,e_fe_h,flag_fe_h,FE_H_FLAG\n0,1,0,0\n", 1, "fe_h",
              "ambiguous quality-flag columns", {"fe_h"});
  check_error("mg_fe,e_mg_fe,flag_fe_h,fe_h_flag\n0,1,0,0\n", 1, "fe_h", "ambiguous quality-flag");
  // An unflagged measured value still needs its uncertainty.
  check_error(head + "a,0,,0,0,1\n", 2, "FE_H_ERR", "uncertainty is missing");
  // A star with nothing given at all is still an error, flags or not.
  check_error(head + "a,,,0,,\n", 2, "FE_H, MG_FE", "no measured abundance");
}

TEST_CASE("catalog: random flags remove exactly the flagged cells") {
  auto rng = chempp::test::seeded_rng(20250301);
  std::normal_distribution<double> value(0.0, 0.3);
  std::uniform_real_distribution<double> error(0.01, 0.2);
  std::bernoulli_distribution missing(0.2), flagged(0.25);
  std::uniform_int_distribution<int> bits(1, 1 << 20);
  const std::vector<std::string> obs = {"fe_h", "mg_fe", "o_fe"};
  for (const bool galah : {true, false}) {
    CAPTURE(galah);
    std::ostringstream text;
    for (const auto& o : obs) {
      const std::string n = galah ? o : chempp::io::detail::csv::upper(o);
      text << (galah ? n + ",e_" + n + ",flag_" + n + "," : n + "," + n + "_ERR," + n + "_FLAG,");
    }
    text << "star_id\n";
    std::vector<std::vector<double>> want_x;
    std::vector<std::vector<bool>> want_m;
    std::vector<std::size_t> want_flagged(obs.size(), 0), want_dropped;
    const int n = 300;
    for (int i = 0; i < n; ++i) {
      std::vector<double> xs;
      std::vector<bool> ms;
      bool given = false;
      for (std::size_t k = 0; k < obs.size(); ++k) {
        const bool have = !missing(rng) || (k + 1 == obs.size() && !given);
        const bool flag = flagged(rng);
        const double x = value(rng);
        given = given || have;
        text << (have ? chempp::io::detail::csv::format(x) : "") << ","
             << chempp::io::detail::csv::format(error(rng)) << "," << (flag ? bits(rng) : 0) << ",";
        if (have && flag) ++want_flagged[k];
        xs.push_back(x);
        ms.push_back(have && !flag);
      }
      text << "s" << i << "\n";
      if (std::none_of(ms.begin(), ms.end(), [](bool b) { return b; })) {
        want_dropped.push_back(static_cast<std::size_t>(i) + 2);
        continue;
      }
      want_x.push_back(xs);
      want_m.push_back(ms);
    }
    const auto c = parse(text.str(), obs);
    REQUIRE(c.stars() == want_x.size());
    CHECK(c.flagged == want_flagged);
    CHECK(c.dropped == want_dropped);
    CHECK(c.stars() + c.dropped.size() == static_cast<std::size_t>(n));
    bool exact = true;
    for (std::size_t i = 0; i < c.stars(); ++i) {
      for (std::size_t k = 0; k < obs.size(); ++k) {
        const auto ii = static_cast<Eigen::Index>(i), kk = static_cast<Eigen::Index>(k);
        exact = exact && c.measured(ii, kk) == want_m[i][k] &&
                (!want_m[i][k] || c.x(ii, kk) == want_x[i][k]);
      }
    }
    CHECK(exact);
  }
}

TEST_CASE("catalog_from_columns: in-memory columns follow the CSV reader's rules") {
  // the same table as CSV (APOGEE names, a flag, an empty cell) and as columns (NaN = empty)
  const std::string csv =
      "APOGEE_ID,FE_H,FE_H_ERR,MG_FE,MG_FE_ERR,MG_FE_FLAG\n"
      "11,-0.1,0.05,0.2,0.04,0\n"
      "12,-0.3,0.06,,,0\n"
      "13,0.1,0.05,0.5,0.04,4\n";
  const auto a = parse(csv);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::string> names{"APOGEE_ID", "FE_H", "FE_H_ERR", "MG_FE", "MG_FE_ERR", "MG_FE_FLAG"};
  const std::vector<std::vector<double>> data{{11, 12, 13}, {-0.1, -0.3, 0.1}, {0.05, 0.06, 0.05},
                                              {0.2, nan, 0.5}, {0.04, nan, 0.04}, {0, 0, 4}};
  const std::vector<std::string> obs{"fe_h", "mg_fe"};
  const auto b = chempp::io::catalog_from_columns(names, data, obs);
  REQUIRE(b.stars() == a.stars());
  CHECK(b.id == a.id);
  CHECK(b.flagged == a.flagged);
  CHECK(b.n_flagged(1) == 1);
  for (Eigen::Index i = 0; i < a.x.rows(); ++i)
    for (Eigen::Index k = 0; k < a.x.cols(); ++k) {
      CHECK(b.measured(i, k) == a.measured(i, k));
      CHECK(same(b.x(i, k), a.x(i, k)));
    }
  // errors: unequal lengths, a malformed flag (row named), a measured value without uncertainty
  auto bad = data;
  bad[2].pop_back();
  CHECK_THROWS_AS(static_cast<void>(chempp::io::catalog_from_columns(names, bad, obs)), chempp::invalid_argument);
  bad = data;
  bad[5][1] = 0.5;
  CHECK_THROWS_WITH_AS(static_cast<void>(chempp::io::catalog_from_columns(names, bad, obs)), doctest::Contains("MG_FE_FLAG"),
                       chempp::file_error);
  bad = data;
  bad[2][0] = nan;
  try {
    static_cast<void>(chempp::io::catalog_from_columns(names, bad, obs));
    FAIL("no error for a measured value without uncertainty");
  } catch (const chempp::file_error& e) {
    CHECK(e.line() == 1);
    CHECK(e.field() == "FE_H_ERR");
  }
}

TEST_CASE("catalog: group column, data-row indices and strided reads (catalog_options)") {
  const std::string text =
      "id,Population,fe_h,e_fe_h,flag_fe_h\n"
      "a, 3 ,0.1,0.05,0\n"
      "\n"
      "b,1,0.2,0.05,1\n"  // flagged away: dropped, but its row counts
      "c,3,0.3,0.05,0\n"
      "d,x y,0.4,0.05,0\n";
  const std::vector<std::string> obs{"fe_h"};
  chempp::io::catalog_options o;
  o.group_column = "population";
  std::istringstream in(text);
  const auto c = chempp::io::parse_abundance_catalog(in, "cat.csv", obs, o);
  REQUIRE(c.stars() == 3);
  CHECK(c.group == std::vector<std::string>{"3", "3", "x y"});
  CHECK(c.group_column == "Population");
  CHECK(c.row == std::vector<std::size_t>{0, 2, 3});
  CHECK(c.line == std::vector<std::size_t>{2, 5, 6});
  CHECK(c.dropped == std::vector<std::size_t>{4});
  // rows split over 2 readers: offsets 0 and 1 hold the even and odd data rows
  for (const std::size_t off : {std::size_t{0}, std::size_t{1}}) {
    o.stride = 2;
    o.offset = off;
    std::istringstream again(text);
    const auto part = chempp::io::parse_abundance_catalog(again, "cat.csv", obs, o);
    CHECK(part.row == (off == 0 ? std::vector<std::size_t>{0, 2} : std::vector<std::size_t>{3}));
  }
  // a malformed row is reported only by the reader that owns it (row 1, line 3 here)
  const std::string bad = "fe_h,e_fe_h\n0.1,0.05\n0.2x,0.05\n0.3,0.05\n";
  o = {};
  o.stride = 2;
  std::istringstream b0(bad);
  CHECK(chempp::io::parse_abundance_catalog(b0, "cat.csv", obs, o).stars() == 2);
  o.offset = 1;
  std::istringstream b1(bad);
  CHECK_THROWS_WITH_AS(static_cast<void>(chempp::io::parse_abundance_catalog(b1, "cat.csv", obs, o)), doctest::Contains("cat.csv:3"),
                       chempp::file_error);
  // errors: empty label, missing column, bad stride
  o = {};
  o.group_column = "population";
  std::istringstream e1("fe_h,e_fe_h,population\n0.1,0.05,\n");
  CHECK_THROWS_WITH_AS(static_cast<void>(chempp::io::parse_abundance_catalog(e1, "cat.csv", obs, o)), doctest::Contains("cat.csv:2"),
                       chempp::file_error);
  std::istringstream e2("fe_h,e_fe_h\n0.1,0.05\n");
  CHECK_THROWS_WITH_AS(static_cast<void>(chempp::io::parse_abundance_catalog(e2, "cat.csv", obs, o)), doctest::Contains("population"),
                       chempp::file_error);
  o = {};
  o.stride = 0;
  std::istringstream e3("fe_h,e_fe_h\n0.1,0.05\n");
  CHECK_THROWS_AS(static_cast<void>(chempp::io::parse_abundance_catalog(e3, "cat.csv", obs, o)), chempp::invalid_argument);
  // the writer puts the group column after the id and reads back the same labels
  chempp::io::abundance_catalog w = c;
  std::ostringstream out;
  chempp::io::write_abundance_catalog(out, w, chempp::io::catalog_convention::galah);
  std::istringstream back(out.str());
  o = {};
  o.group_column = "population";
  const auto r = chempp::io::parse_abundance_catalog(back, "w.csv", obs, o);
  CHECK(r.group == c.group);
  CHECK(r.row == std::vector<std::size_t>{0, 1, 2});
  w.group[0] = " ";
  CHECK_THROWS_AS(chempp::io::write_abundance_catalog(out, w, chempp::io::catalog_convention::galah), chempp::invalid_argument);
}
