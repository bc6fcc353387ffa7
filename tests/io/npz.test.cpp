// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/io/npz.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

using chempp::io::parse_npy;

namespace {
std::string make_npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::string b = "\x93NUMPY";
  b.push_back('\x01');
  b.push_back('\x00');
  b.push_back(static_cast<char>(header.size() & 0xff));
  b.push_back(static_cast<char>(header.size() >> 8));
  return b + header + data;
}
template <class T>
std::string bytes_of(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::size_t i = 0;
  for (T x : v) std::memcpy(s.data() + sizeof(T) * i++, &x, sizeof(T));
  return s;
}
}  // namespace

TEST_CASE("npy: C and Fortran order float64, int64, strings") {
  const auto c = parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                                    bytes_of<double>({1, 2, 3, 4, 5, 6})),
                           "c.npy");
  const auto a = c.as<double>();
  REQUIRE(a.shape()[0] == 2);
  CHECK(a(1, 0) == 4.0);
  CHECK(a(0, 2) == 3.0);
  const auto f = parse_npy(make_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                    bytes_of<double>({1, 4, 2, 5, 3, 6})),
                           "f.npy");
  CHECK(f.as<double>() == a);
  const auto i = parse_npy(make_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                    bytes_of<std::int64_t>({-1, 0, 7})),
                           "i.npy");
  CHECK(i.as<double>()(0) == -1.0);
  std::string u(2 * 8, '\0');
  u[0] = 'F';
  u[4] = 'e';
  u[8] = 'C';
  const auto s =
      parse_npy(make_npy("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }", u), "s.npy");
  CHECK(s.strings() == std::vector<std::string>{"Fe", "C"});
  CHECK_THROWS_AS((void)s.as<double>(), chempp::file_error);
}

TEST_CASE("npy: malformed input names the problem") {
  CHECK_THROWS_WITH_AS(parse_npy("garbage-bytes", "x.npy"), doctest::Contains("magic"),
                       chempp::file_error);
  CHECK_THROWS_WITH_AS(
      parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                         bytes_of<double>({1, 2})),
                "t.npy"),
      doctest::Contains("t.npy: field 'data'"), chempp::file_error);
  CHECK_THROWS_WITH_AS(
      parse_npy(make_npy("{'fortran_order': False, 'shape': (1,), }", bytes_of<double>({1})),
                "d.npy"),
      doctest::Contains("descr"), chempp::file_error);
  CHECK_THROWS_AS(chempp::io::npz_file("/nonexistent/file.npz"), chempp::file_error);
}

TEST_CASE("npz: the paper's data files") {
  auto p = chempp::test::shared_file("data/sbi-chempy/chempy_alternative_yields.npz");
  if (!p) return;
  chempp::io::npz_file f(*p);
  CHECK(f.keys() == std::vector<std::string>{"abundances", "elements", "params"});
  const auto params = f.array<double>("params");
  REQUIRE(params.shape()[0] == 1000);
  REQUIRE(params.shape()[1] == 6);
  CHECK(params(0, 0) == doctest::Approx(-2.3));
  CHECK(params(0, 1) == doctest::Approx(-2.89));
  const auto el = f.strings("elements");
  CHECK(el == std::vector<std::string>{"C", "Fe", "H", "He", "Mg", "N", "Ne", "O", "Si"});
  CHECK_THROWS_WITH_AS((void)f.raw("missing"), doctest::Contains("missing"), chempp::file_error);

  auto q = chempp::test::shared_file("data/sbi-chempy/alpha_IMF_obs_NPE_C_maf_8_4.npy");
  if (!q) return;
  const auto alpha = chempp::io::load_npy<double>(*q);
  CHECK(alpha.shape()[0] == 200);
  CHECK(alpha.shape()[1] == 1000);
}

namespace {
// A stored (uncompressed) zip archive of the given members, as np.savez writes it.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, cd;
  auto le = [](std::string& s, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  for (const auto& [name, data] : members) {
    const auto local = static_cast<std::uint32_t>(out.size());
    le(out, 0x04034b50u, 4);
    le(out, 20, 2);
    le(out, 0, 2);  // flags
    le(out, 0, 2);  // stored
    le(out, 0, 4);  // time, date
    le(out, 0, 4);  // crc (not checked by numpy's reader nor ours)
    le(out, static_cast<std::uint32_t>(data.size()), 4);
    le(out, static_cast<std::uint32_t>(data.size()), 4);
    le(out, static_cast<std::uint32_t>(name.size()), 2);
    le(out, 0, 2);
    out += name + data;
    le(cd, 0x02014b50u, 4);
    le(cd, 20, 2);
    le(cd, 20, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 4);
    le(cd, 0, 4);
    le(cd, static_cast<std::uint32_t>(data.size()), 4);
    le(cd, static_cast<std::uint32_t>(data.size()), 4);
    le(cd, static_cast<std::uint32_t>(name.size()), 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 2);
    le(cd, 0, 4);
    le(cd, local, 4);
    cd += name;
  }
  const auto cd_off = static_cast<std::uint32_t>(out.size());
  out += cd;
  le(out, 0x06054b50u, 4);
  le(out, 0, 2);
  le(out, 0, 2);
  le(out, static_cast<std::uint32_t>(members.size()), 2);
  le(out, static_cast<std::uint32_t>(members.size()), 2);
  le(out, static_cast<std::uint32_t>(cd.size()), 4);
  le(out, cd_off, 4);
  le(out, 0, 2);
  return out;
}
const std::string f8_header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
}  // namespace

// Issue 15: inputs that crashed, exhausted memory or invoked undefined behaviour in the old
// reader. Each is kept as a corpus file of the npy/npz fuzz harnesses (tests/fuzz/corpus).
TEST_CASE("npy: hostile headers are file_errors, never out-of-bounds reads or huge allocations") {
  const std::string d2 = bytes_of<double>({1, 2});
  const std::vector<std::pair<std::string, std::string>> cases{
      {"{'descr':", "descr"},                                         // ends inside a value
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,", "shape"},  // unterminated tuple
      {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", "fortran_order"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", "data"},  // 8 TiB declared
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", "shape"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", "shape"},
      // empty (a size 0), but the other sizes overflow the strides (fuzz/npy, UBSan in xtensor)
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 1967296, 8589934592, 16), }", "shape"},
      {"{'descr': '<U4611686018427387904', 'fortran_order': False, 'shape': (2,), }", "descr"},
      {"{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "descr"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "extra"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } trailing", "header"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", "shape"},
      {"{'descr': [], 'fortran_order': False, 'shape': (2,), }", "descr"},
      {"{'descr': [('a', '<f8'), ('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", "a"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", "descr"},
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", "descr"},
  };
  for (const auto& c : cases) {
    const std::string& header = c.first;  // (not a structured binding: clang 14 cannot capture one)
    const std::string& field = c.second;
    CAPTURE(header);
    const std::string want = "field '" + field + "'";
    CHECK_THROWS_WITH_AS(parse_npy(make_npy(header, d2), "h.npy"), doctest::Contains(want.c_str()),
                         chempp::file_error);
  }
  // an empty array with ordinary sizes is still an array
  const auto empty = parse_npy(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", ""), "e.npy");
  CHECK(empty.as<double>().size() == 0);
  CHECK(empty.as<double>().shape(1) == 3);
}

TEST_CASE("npy: numbers an integer type cannot hold are errors, not undefined behaviour") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto a = parse_npy(make_npy(f8_header, bytes_of<double>({1.0, nan})), "n.npy");
  CHECK_THROWS_WITH_AS((void)a.as<int>(), doctest::Contains("element 1"), chempp::file_error);
  const auto b = parse_npy(make_npy(f8_header, bytes_of<double>({1.5, 2.0})), "n.npy");
  CHECK_THROWS_AS((void)b.as<long>(), chempp::file_error);  // 1.5 is not an integer
  const auto c = parse_npy(make_npy(f8_header, bytes_of<double>({1e300, 2.0})), "n.npy");
  CHECK_THROWS_AS((void)c.as<std::int64_t>(), chempp::file_error);
  const auto d = parse_npy(make_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                    bytes_of<std::int64_t>({-5, (std::int64_t{1} << 62) + 1})),
                           "i.npy");
  CHECK(d.as<std::int64_t>()(1) == (std::int64_t{1} << 62) + 1);  // exact, not via double
  CHECK_THROWS_AS((void)d.as<std::uint32_t>(), chempp::file_error);  // −5
  CHECK(std::isnan(a.as<double>()(1)));  // floating types keep NaN for the caller to judge
}

TEST_CASE("npy: structured arrays and Fortran order in three dimensions") {
  const auto s = parse_npy(make_npy("{'descr': [('Mass', '<f8'), ('n', '<i4')], 'fortran_order': False, 'shape': (2,), }",
                                    bytes_of<double>({1.5}) + bytes_of<std::int32_t>({7}) + bytes_of<double>({2.5}) +
                                        bytes_of<std::int32_t>({-3})),
                           "s.npy");
  CHECK(s.field_names() == std::vector<std::string>{"Mass", "n"});
  CHECK(s.field("Mass") == std::vector<double>{1.5, 2.5});
  CHECK(s.field<int>("n") == std::vector<int>{7, -3});
  CHECK_THROWS_WITH_AS((void)s.field("x"), doctest::Contains("field 'x'"), chempp::file_error);
  CHECK_THROWS_AS((void)s.as<double>(), chempp::file_error);
  // shape (2, 3, 2) stored in Fortran order: element (i, j, k) at i + 2 j + 6 k
  std::vector<double> f(12);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) f[static_cast<std::size_t>(i + 2 * j + 6 * k)] = 100 * i + 10 * j + k;
  std::string fb(f.size() * 8, '\0');
  std::memcpy(fb.data(), f.data(), fb.size());
  const auto a = parse_npy(make_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 2), }", fb), "f.npy").as<double>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) CHECK(a(i, j, k) == 100 * i + 10 * j + k);
}

TEST_CASE("npz: archives in memory; duplicate, truncated and compressed members are errors") {
  const std::string x = make_npy(f8_header, bytes_of<double>({1, 2}));
  const std::string y = make_npy(f8_header, bytes_of<double>({3, 4}));
  const auto ok = chempp::io::npz_file::from_bytes(make_zip({{"x.npy", x}, {"y.npy", y}}), "m.npz");
  CHECK(ok.keys() == std::vector<std::string>{"x", "y"});
  CHECK(ok.array<double>("y")(1) == 4.0);
  // numpy keeps the last of two equal names, the old reader the first: neither is silent now
  CHECK_THROWS_WITH_AS(chempp::io::npz_file::from_bytes(make_zip({{"x.npy", x}, {"x.npy", y}}), "d.npz"),
                       doctest::Contains("duplicate member 'x'"), chempp::file_error);
  CHECK_THROWS_AS(chempp::io::npz_file::from_bytes(make_zip({{"x.npy", x}, {"x", y}}), "d.npz"), chempp::file_error);
  std::string z = make_zip({{"x.npy", x}});
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, std::size_t{40}, z.size() - 23, z.size() - 1}) {
    CAPTURE(cut);
    CHECK_THROWS_AS(chempp::io::npz_file::from_bytes(z.substr(0, cut), "t.npz"), chempp::file_error);
  }
  std::string comp = z;
  comp[8] = 8;  // local header: deflate
  comp[x.size() + 30 + 5 + 10] = 8;  // central directory: deflate
  CHECK_THROWS_WITH_AS(chempp::io::npz_file::from_bytes(comp, "c.npz"), doctest::Contains("compressed"),
                       chempp::file_error);
  std::string big = z;  // central directory size pointing far beyond the file
  big[big.size() - 10] = '\xff';
  big[big.size() - 9] = '\xff';
  CHECK_THROWS_AS(chempp::io::npz_file::from_bytes(big, "b.npz"), chempp::file_error);
}
