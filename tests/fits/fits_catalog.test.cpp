// SPDX-License-Identifier: BSD-3-Clause
// Tests of the optional FITS catalogue reader (include/chempp/io/fits_catalog.hpp), built only
// with cfitsio (target chempp::fits). The tables are written here with cfitsio itself.
#include "chempp/io/fits_catalog.hpp"

#include <fitsio.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chempp/io/catalog.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using chempp::io::abundance_catalog;

namespace {

constexpr double qnan = std::numeric_limits<double>::quiet_NaN();

/// A directory under the system temp directory, removed with its files at the end.
struct temp_dir {
  fs::path path;
  temp_dir()
      : path(fs::temp_directory_path() /
             ("chempp-fits-test-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// A FITS file being written with cfitsio (REQUIREs success at every step).
class fits_writer {
 public:
  explicit fits_writer(const fs::path& p) {
    fits_create_file(&f_, ("!" + p.string()).c_str(), &status_);
    REQUIRE_MESSAGE(status_ == 0, "cannot create " << p.string());
  }
  fits_writer(const fits_writer&) = delete;
  fits_writer& operator=(const fits_writer&) = delete;
  ~fits_writer() { close(); }

  /// Appends an image HDU (the primary one when the file is empty).
  void image() {
    long axes[1] = {4};
    fits_create_img(f_, FLOAT_IMG, 1, axes, &status_);
    REQUIRE(status_ == 0);
  }

  /// Appends a binary table with columns `names` of formats `forms` (TFORM codes).
  void table(const std::vector<std::string>& names, const std::vector<std::string>& forms,
             const std::string& extname) {
    std::vector<std::string> n = names, t = forms;
    std::vector<char*> np, tp;
    for (auto& s : n) np.push_back(s.data());
    for (auto& s : t) tp.push_back(s.data());
    std::string e = extname;
    fits_create_tbl(f_, BINARY_TBL, 0, static_cast<int>(np.size()), np.data(), tp.data(), nullptr,
                    e.data(), &status_);
    REQUIRE(status_ == 0);
  }

  template <class T>
  void column(int number, int type, std::vector<T> values) {
    if (values.empty()) return;
    fits_write_col(f_, type, number, 1, 1, static_cast<long long>(values.size()), values.data(),
                   &status_);
    REQUIRE_MESSAGE(status_ == 0, "writing column " << number);
  }

  void strings(int number, const std::vector<std::string>& values) {
    std::vector<std::string> v = values;
    std::vector<char*> p;
    for (auto& s : v) p.push_back(s.data());
    fits_write_col(f_, TSTRING, number, 1, 1, static_cast<long long>(p.size()), p.data(), &status_);
    REQUIRE(status_ == 0);
  }

  void close() {
    if (f_ == nullptr) return;
    fits_close_file(f_, &status_);
    f_ = nullptr;
    CHECK(status_ == 0);
  }

 private:
  fitsfile* f_ = nullptr;
  int status_ = 0;
};

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

/// The file_error thrown by `f` (fails the test if none is thrown).
template <class F>
chempp::file_error fits_error(F&& f) {
  try {
    (void)f();
  } catch (const chempp::file_error& e) {
    return e;
  }
  FAIL("no file_error thrown");
  return chempp::file_error("", 0, "", "");
}

/// A one-column-pair APOGEE table FE_H / FE_H_ERR (+ extra columns) for the error cases.
void write_simple(const fs::path& p, const std::vector<std::string>& names,
                  const std::vector<std::string>& forms) {
  fits_writer w(p);
  w.table(names, forms, "ALLSTAR");
  for (std::size_t c = 0; c < names.size(); ++c) {
    const int col = static_cast<int>(c) + 1;
    if (forms[c].back() == 'A') {
      w.strings(col, {"a", "b", "c"});
    } else if (forms[c] == "3E") {
      w.column(col, TFLOAT, std::vector<float>(9, 0.5f));
    } else {
      w.column(col, TDOUBLE, std::vector<double>{0.1, 0.2, 0.3});
    }
  }
}

}  // namespace

TEST_CASE("fits: an APOGEE-convention table equals the same catalogue as GALAH CSV") {
  // Exact comparison (tolerance 0): float cells widen exactly to double and the CSV writer
  // round-trips doubles with max_digits10 digits.
  auto rng = chempp::test::seeded_rng(20250302);
  std::normal_distribution<double> value(0.0, 0.3);
  std::uniform_real_distribution<double> error(0.005, 0.2);
  std::bernoulli_distribution missing(0.15), flagged(0.15);
  std::uniform_int_distribution<int> bits(1, 1 << 16);

  const std::vector<std::string> obs = {"fe_h", "mg_fe", "si_fe", "ne_fe"};
  const int n = 80;
  // FE_H: float (E) with a 32-bit flag (J); MG_FE: double (D) with a 16-bit flag (I); SI_FE:
  // double without flag column; NE_FE absent.
  std::vector<float> fe(n), fe_err(n);
  std::vector<double> mg(n), mg_err(n), si(n), si_err(n), teff(n, 4800.0);
  std::vector<std::int32_t> fe_flag(n, 0);
  std::vector<std::int16_t> mg_flag(n, 0);
  std::vector<std::string> ids;

  abundance_catalog want;
  want.observables = obs;
  std::vector<std::vector<double>> wx, ws;
  std::vector<std::vector<bool>> wm;
  std::vector<std::size_t> want_flagged(obs.size(), 0), want_dropped, want_rows;
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    ids.push_back("2M" + std::to_string(1000000 + i) + "+" + std::to_string(i % 7));
    fe[u] = static_cast<float>(value(rng));
    fe_err[u] = static_cast<float>(error(rng));
    mg[u] = value(rng);
    mg_err[u] = error(rng);
    si[u] = value(rng);
    si_err[u] = error(rng);
    if (missing(rng)) fe[u] = std::numeric_limits<float>::quiet_NaN();
    if (missing(rng)) mg[u] = qnan;
    if (missing(rng)) si[u] = si_err[u] = qnan;
    if (flagged(rng)) fe_flag[u] = bits(rng);
    if (flagged(rng)) mg_flag[u] = static_cast<std::int16_t>(bits(rng) % 30000 + 1);
    // Fixed cases: a flagged value with a broken uncertainty (not checked), a NaN, a star whose
    // every given abundance is flagged (left out), a star measured in all three.
    if (i == 0) {
      fe_flag[u] = 4;
      fe_err[u] = -1.0f;
    }
    if (i == 1) mg[u] = mg_err[u] = qnan;
    if (i == 2) {
      fe_flag[u] = 1;
      mg_flag[u] = 2;
      si[u] = si_err[u] = qnan;
      fe[u] = 0.25f;
      mg[u] = 0.5;
    }
    if (i == 3) {
      fe_flag[u] = 0;
      mg_flag[u] = 0;
      fe[u] = -0.125f;
      mg[u] = 0.0625;
      si[u] = 0.03125;
      si_err[u] = 0.01;
    }
    const bool fe_given = !std::isnan(fe[u]), mg_given = !std::isnan(mg[u]);
    const bool si_given = !std::isnan(si[u]);
    if (!fe_given && !mg_given && !si_given) {  // every star must have something given
      si[u] = 0.1;
      si_err[u] = 0.05;
    }
    const bool fe_ok = fe_given && fe_flag[u] == 0, mg_ok = mg_given && mg_flag[u] == 0;
    const bool si_ok = !std::isnan(si[u]);
    if (fe_given && fe_flag[u] != 0) ++want_flagged[0];
    if (mg_given && mg_flag[u] != 0) ++want_flagged[1];
    if (!fe_ok && !mg_ok && !si_ok) {
      want_dropped.push_back(u + 1);
      continue;
    }
    want_rows.push_back(u + 1);
    want.id.push_back(ids.back());
    wx.push_back({fe_ok ? double(fe[u]) : qnan, mg_ok ? mg[u] : qnan, si_ok ? si[u] : qnan, qnan});
    ws.push_back({fe_ok ? double(fe_err[u]) : qnan, mg_ok ? mg_err[u] : qnan,
                  si_ok ? si_err[u] : qnan, qnan});
    wm.push_back({fe_ok, mg_ok, si_ok, false});
  }
  REQUIRE(!want_dropped.empty());
  const auto rows = static_cast<Eigen::Index>(wx.size());
  want.x.resize(rows, 4);
  want.sigma.resize(rows, 4);
  want.measured.resize(rows, 4);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index k = 0; k < 4; ++k) {
      const auto ui = static_cast<std::size_t>(i), uk = static_cast<std::size_t>(k);
      want.x(i, k) = wx[ui][uk];
      want.sigma(i, k) = ws[ui][uk];
      want.measured(i, k) = wm[ui][uk];
    }
  }

  temp_dir dir;
  const fs::path path = dir.path / "allStar-test.fits";
  {
    fits_writer w(path);
    w.table({"APOGEE_ID", "TEFF", "FE_H", "FE_H_ERR", "FE_H_FLAG", "MG_FE", "MG_FE_ERR",
             "MG_FE_FLAG", "SI_FE", "SI_FE_ERR"},
            {"18A", "E", "E", "E", "J", "D", "D", "I", "D", "D"}, "ALLSTAR");
    w.strings(1, ids);
    w.column(2, TDOUBLE, teff);
    w.column(3, TFLOAT, fe);
    w.column(4, TFLOAT, fe_err);
    w.column(5, TINT, std::vector<int>(fe_flag.begin(), fe_flag.end()));
    w.column(6, TDOUBLE, mg);
    w.column(7, TDOUBLE, mg_err);
    w.column(8, TSHORT, std::vector<short>(mg_flag.begin(), mg_flag.end()));
    w.column(9, TDOUBLE, si);
    w.column(10, TDOUBLE, si_err);
  }

  const auto f = chempp::io::read_fits_catalog(path, obs);
  std::ostringstream csv_text;
  chempp::io::write_abundance_catalog(csv_text, want, chempp::io::catalog_convention::galah);
  CHECK(csv_text.str().find("sobject_id,fe_h,e_fe_h,mg_fe") == 0);
  std::istringstream csv_in(csv_text.str());
  const auto c = chempp::io::parse_abundance_catalog(csv_in, "same.csv", obs);

  REQUIRE(f.stars() == want.stars());
  REQUIRE(c.stars() == want.stars());
  CHECK(f.source == path.string());
  CHECK(f.observables == obs);
  CHECK(f.id == c.id);
  CHECK(f.id == want.id);
  CHECK(f.id_column == "APOGEE_ID");
  CHECK((f.measured == c.measured).all());
  CHECK((f.measured == want.measured).all());
  bool exact = true;
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index k = 0; k < 4; ++k) {
      exact = exact && same(f.x(i, k), c.x(i, k)) && same(f.sigma(i, k), c.sigma(i, k)) &&
              same(f.x(i, k), want.x(i, k));
    }
  }
  CHECK(exact);
  const auto row4 = static_cast<Eigen::Index>(std::find(f.line.begin(), f.line.end(), 4) -
                                              f.line.begin());  // star i = 3: all measured
  REQUIRE(row4 < rows);
  CHECK(f.x(row4, 0) == -0.125);
  CHECK(f.x(row4, 1) == 0.0625);
  CHECK(f.x(row4, 2) == 0.03125);
  CHECK(f.line == want_rows);
  CHECK(f.dropped == want_dropped);
  CHECK(f.flagged == want_flagged);
  CHECK(c.flagged == std::vector<std::size_t>(4, 0));
  CHECK(f.value_column == std::vector<std::string>{"FE_H", "MG_FE", "SI_FE", ""});
  CHECK(f.sigma_column == std::vector<std::string>{"FE_H_ERR", "MG_FE_ERR", "SI_FE_ERR", ""});
  CHECK(f.flag_column == std::vector<std::string>{"FE_H_FLAG", "MG_FE_FLAG", "", ""});
  CHECK(f.missing_observables() == std::vector<std::string>{"ne_fe"});
  CHECK(c.missing_observables() == std::vector<std::string>{"ne_fe"});

  // The same HDU chosen by number and by name.
  const auto by_number = chempp::io::read_fits_catalog(path, obs, 1);
  const auto by_name = chempp::io::read_fits_catalog(path, obs, "allstar");
  CHECK((by_number.measured == f.measured).all());
  CHECK((by_name.measured == f.measured).all());
  CHECK(by_name.id == f.id);
}

TEST_CASE("fits: GALAH conventions, gzip, integer ids, float flags, a later extension") {
  temp_dir dir;
  const fs::path path = dir.path / "galah-test.fits.gz";
  {
    fits_writer w(path);
    w.image();  // primary
    w.image();  // HDU 1: an image extension, skipped by the default choice
    w.table({"sobject_id", "fe_h", "e_fe_h", "flag_fe_h", "mg_fe", "e_mg_fe", "flag_mg_fe"},
            {"K", "E", "E", "E", "E", "E", "J"}, "GALAH_DR3");
    w.column(1, TLONGLONG, std::vector<long long>{131116000501002LL, 140305003201339LL, 3LL});
    w.column(2, TFLOAT, std::vector<float>{-0.25f, 0.5f, 0.125f});
    w.column(3, TFLOAT, std::vector<float>{0.05f, 0.04f, 0.02f});
    w.column(4, TFLOAT, std::vector<float>{0.0f, std::nanf(""), 1.0f});  // NaN = no flag
    w.column(5, TFLOAT, std::vector<float>{0.25f, std::nanf(""), 0.75f});
    w.column(6, TFLOAT, std::vector<float>{0.1f, 0.1f, 0.1f});
    w.column(7, TINT, std::vector<int>{0, 0, 0});
  }
  const std::vector<std::string> obs = {"fe_h", "mg_fe"};
  for (const int mode : {0, 1, 2}) {
    CAPTURE(mode);
    const auto c = mode == 0   ? chempp::io::read_fits_catalog(path, obs)
                   : mode == 1 ? chempp::io::read_fits_catalog(path, obs, 2)
                               : chempp::io::read_fits_catalog(path, obs, "GALAH_DR3");
    REQUIRE(c.stars() == 3);
    CHECK(c.id == std::vector<std::string>{"131116000501002", "140305003201339", "3"});
    CHECK(c.id_column == "sobject_id");
    CHECK(c.x(0, 0) == -0.25);
    CHECK(c.sigma(0, 0) == double(0.05f));
    CHECK(c.measured(1, 0));
    CHECK_FALSE(c.measured(1, 1));
    CHECK_FALSE(c.measured(2, 0));  // flag_fe_h = 1
    CHECK(c.x(2, 1) == 0.75);
    CHECK(c.flagged == std::vector<std::size_t>{1, 0});
    CHECK(c.flag_column == std::vector<std::string>{"flag_fe_h", "flag_mg_fe"});
    CHECK(c.line == std::vector<std::size_t>{1, 2, 3});
    CHECK(c.row == std::vector<std::size_t>{0, 1, 2});
  }
  // a group column (integers read as text, like the ids) and a strided read: rows 0 and 2
  chempp::io::catalog_options o;
  o.group_column = "SOBJECT_ID";
  o.stride = 2;
  const auto g = chempp::io::read_fits_catalog(path, obs, o);
  REQUIRE(g.stars() == 2);
  CHECK(g.group == std::vector<std::string>{"131116000501002", "3"});
  CHECK(g.group_column == "sobject_id");
  CHECK(g.row == std::vector<std::size_t>{0, 2});
  CHECK(g.line == std::vector<std::size_t>{1, 3});
  o.offset = 1;
  CHECK(chempp::io::read_fits_catalog(path, obs, o).row == std::vector<std::size_t>{1});
  o.group_column = "radius_bin";
  CHECK_THROWS_WITH_AS(static_cast<void>(chempp::io::read_fits_catalog(path, obs, o)), doctest::Contains("radius_bin"),
                       chempp::file_error);
  o = {};
  o.offset = 2;
  CHECK_THROWS_AS(static_cast<void>(chempp::io::read_fits_catalog(path, obs, o)), chempp::invalid_argument);
}

TEST_CASE("fits: errors name the file, the HDU, the row and the column") {
  temp_dir dir;
  const std::vector<std::string> obs = {"fe_h", "mg_fe"};
  auto has = [](const chempp::file_error& e, const std::string& s) {
    const std::string what = e.what();
    CAPTURE(what);
    CAPTURE(s);
    CHECK(what.find(s) != std::string::npos);
  };

  SUBCASE("missing file") {
    const fs::path p = dir.path / "no-such-file.fits";
    const auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.file() == p.string());
    has(e, p.string());
    has(e, "cannot open the FITS file");
    has(e, "cfitsio status 104");
  }
  SUBCASE("not a FITS file") {
    const fs::path p = dir.path / "text.fits";
    std::ofstream(p) << "fe_h,e_fe_h\n0.1,0.1\n";
    const auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.file() == p.string());
    has(e, "cfitsio status");
  }
  const fs::path good = dir.path / "good.fits";
  write_simple(good, {"APOGEE_ID", "FE_H", "FE_H_ERR"}, {"8A", "D", "D"});
  SUBCASE("a non-table HDU") {
    const auto e = fits_error([&] { return chempp::io::read_fits_catalog(good, obs, 0); });
    CHECK(e.file() == good.string());
    has(e, "HDU 0");
    has(e, "not a table");
  }
  SUBCASE("an HDU past the end, an unknown name, a negative number") {
    auto e = fits_error([&] { return chempp::io::read_fits_catalog(good, obs, 7); });
    has(e, "HDU 7: no such HDU (the file has 2");
    e = fits_error([&] { return chempp::io::read_fits_catalog(good, obs, "NOPE"); });
    has(e, "'NOPE'");
    has(e, "cfitsio status");
    CHECK_THROWS_AS((void)chempp::io::read_fits_catalog(good, obs, -1), chempp::invalid_argument);
    CHECK_THROWS_AS((void)chempp::io::read_fits_catalog(good, obs, ""), chempp::invalid_argument);
  }
  SUBCASE("no table at all") {
    const fs::path p = dir.path / "image.fits";
    {
      fits_writer w(p);
      w.image();
    }
    const auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    has(e, "no binary-table HDU");
  }
  SUBCASE("wrong column types") {
    const fs::path p = dir.path / "types.fits";
    write_simple(p, {"APOGEE_ID", "FE_H", "FE_H_ERR"}, {"8A", "6A", "D"});
    auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.file() == p.string());
    CHECK(e.field() == "FE_H");
    has(e, "HDU 1 ('ALLSTAR')");
    has(e, "holds text (6 characters)");
    write_simple(p, {"FE_H", "FE_H_ERR"}, {"3E", "D"});
    e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.field() == "FE_H");
    has(e, "a vector of 3 cells");
    write_simple(p, {"FE_H", "FE_H_ERR", "FE_H_FLAG"}, {"D", "D", "4A"});
    e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.field() == "FE_H_FLAG");
    has(e, "integer quality flags");
  }
  SUBCASE("bad cells name their row") {
    const fs::path p = dir.path / "cells.fits";
    {
      fits_writer w(p);
      w.table({"FE_H", "FE_H_ERR", "FE_H_FLAG"}, {"D", "D", "E"}, "ALLSTAR");
      w.column(1, TDOUBLE, std::vector<double>{0.1, 0.2, 0.3});
      w.column(2, TDOUBLE, std::vector<double>{0.1, 0.1, 0.0});
      w.column(3, TFLOAT, std::vector<float>{0.0f, 0.0f, 0.0f});
    }
    auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.line() == 3);
    CHECK(e.field() == "FE_H_ERR");
    has(e, "HDU 1 ('ALLSTAR'), row 3: uncertainty must be positive");
    {
      fits_writer w(p);
      w.table({"FE_H", "FE_H_ERR", "FE_H_FLAG"}, {"D", "D", "E"}, "ALLSTAR");
      w.column(1, TDOUBLE, std::vector<double>{0.1, 0.2, 0.3});
      w.column(2, TDOUBLE, std::vector<double>{0.1, 0.1, 0.1});
      w.column(3, TFLOAT, std::vector<float>{0.0f, 1.5f, 0.0f});
    }
    e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.line() == 2);
    CHECK(e.field() == "FE_H_FLAG");
    has(e, "malformed quality flag 1.5");
    {
      fits_writer w(p);
      w.table({"FE_H", "FE_H_ERR"}, {"D", "D"}, "ALLSTAR");
      w.column(1, TDOUBLE, std::vector<double>{0.1, INFINITY});
      w.column(2, TDOUBLE, std::vector<double>{0.1, 0.1});
    }
    e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.line() == 2);
    CHECK(e.field() == "FE_H");
    has(e, "not finite");
  }
  SUBCASE("header problems as in the CSV reader") {
    const fs::path p = dir.path / "header.fits";
    write_simple(p, {"FE_H", "TEFF"}, {"D", "D"});
    auto e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    CHECK(e.field() == "FE_H");
    CHECK(e.line() == 0);
    has(e, "HDU 1 ('ALLSTAR'): abundance column without uncertainty column");
    write_simple(p, {"TEFF", "LOGG"}, {"D", "D"});
    e = fits_error([&] { return chempp::io::read_fits_catalog(p, obs); });
    has(e, "none of the wanted abundance columns");
  }
}
