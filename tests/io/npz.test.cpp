// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/io/npz.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>

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
