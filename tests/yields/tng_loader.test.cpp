// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/yields/tng_loader.hpp"

#include <array>
#include <string>

#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
using chempp::test::copy_with_edit;
using chempp::test::find_line;
using chempp::test::replace_token;
using chempp::test::require_file_error;

TEST_CASE("tng_loader: numpy pairwise float32 sum") {
  // n < 8: sequential; 8 <= n <= 128: eight accumulators; checked against hand evaluation.
  const std::array<float, 3> small{1.0f, 2.0f, 3.0f};
  CHECK(y::detail::numpy_pairwise_sum(small.data(), small.size()) == 6.0f);
  std::array<float, 10> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1.0f / static_cast<float>(i + 1);
  std::array<float, 8> r{};
  for (std::size_t j = 0; j < 8; ++j) r[j] = v[j];
  float expect = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  expect += v[8];
  expect += v[9];
  CHECK(y::detail::numpy_pairwise_sum(v.data(), v.size()) == expect);
}

TEST_CASE("tng_loader: tables equal CHEMPY's (TNG_net SN II / AGB, TNG SN Ia)") {
  auto dir = chempp::test::raw_yields_dir();
  auto ref = chempp::test::chempy_loaded_tables("tng");
  if (!dir || !ref) return;
  const auto sn2 = y::load_tng_sn2(*dir / "TNG" / "SNII_hdf5_dump.txt");
  const auto agb = y::load_tng_agb(*dir / "TNG" / "AGB_hdf5_dump.txt");
  const auto sn1a = y::load_tng_sn1a(*dir / "TNG" / "SNIa_hdf5_dump.txt");
  SUBCASE("sn2") { chempp::test::check_against_chempy(sn2, ref->at("sn2")); }
  SUBCASE("agb") { chempp::test::check_against_chempy(agb, ref->at("agb")); }
  SUBCASE("sn1a") { chempp::test::check_against_chempy(sn1a, ref->at("sn1a")); }
  SUBCASE("float32 metallicities, masses descending for AGB, provenance") {
    CHECK(sn2.grid(1).metallicity == 0.0010000000474974513);
    CHECK(agb.grid(0).mass(0) == 7.5);
    CHECK(agb.grid(0).mass(16) == 1.0);
    CHECK(sn2.kind() == y::channel::sn2);
    CHECK(agb.kind() == y::channel::agb);
    CHECK(sn1a.kind() == y::channel::sn1a);
    CHECK(sn2.source().yield_kind == "net");
    CHECK(sn2.source().source_files == std::vector<std::string>{"TNG/SNII_hdf5_dump.txt"});
    CHECK(sn1a.grid(0).mass(0) == 1.374341607093811);  // float32 pairwise sum
    CHECK(sn1a.grid(0).mass_in_remnants(0) == -1.374341607093811);
    CHECK(sn1a.elements().size() == 42);
  }
}

TEST_CASE("tng_loader: bad input names file, line and field") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  const auto sn2 = *dir / "TNG" / "SNII_hdf5_dump.txt";
  const auto sn1a = *dir / "TNG" / "SNIa_hdf5_dump.txt";
  chempp::test::temp_dir tmp("tng");
  const auto bad = tmp.path() / "SNII_hdf5_dump.txt";

  SUBCASE("missing file") {
    require_file_error([&] { (void)y::load_tng_sn2(tmp.path() / "nope.txt"); }, "nope.txt", 0, "");
  }
  SUBCASE("NaN in a yield") {
    const auto ln = find_line(sn2, "Yield Oxygen");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return replace_token(s, 4, "nan"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln,
                       "Yield Oxygen[2]");
  }
  SUBCASE("malformed number") {
    const auto ln = find_line(sn2, "Ejected_mass");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return replace_token(s, 3, "8.6x"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln,
                       "Ejected_mass[2]");
  }
  SUBCASE("wrong column count") {
    const auto ln = find_line(sn2, "Yield Carbon");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return s + " 0.5"; });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln,
                       "Yield Carbon");
  }
  SUBCASE("negative mass") {
    const auto ln = find_line(sn2, "masses");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return replace_token(s, 1, "-8"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln, "masses[0]");
  }
  SUBCASE("non-monotone mass grid") {
    const auto ln = find_line(sn2, "masses");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return replace_token(s, 3, "8.5"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln, "masses");
  }
  SUBCASE("non-monotone metallicity grid") {
    const auto ln = find_line(sn2, "metallicities");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return replace_token(s, 2, "0.03"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln,
                       "metallicities");
  }
  SUBCASE("malformed row (unknown record)") {
    const auto ln = find_line(sn2, "Total_Metals");
    copy_with_edit(sn2, bad, ln, [](std::string s) { return "Totl_Metals" + s.substr(12); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", ln,
                       "Totl_Metals");
  }
  SUBCASE("missing species row in a group is not silently zero") {
    const auto ln = find_line(sn2, "Yield Iron");
    copy_with_edit(sn2, bad, ln, [](std::string) { return std::string("# removed"); });
    require_file_error([&] { (void)y::load_tng_sn2(bad); }, "SNII_hdf5_dump.txt", 0, "Yield Fe");
  }
  SUBCASE("SN Ia: NaN and wrong column count") {
    const auto bad1a = tmp.path() / "SNIa_hdf5_dump.txt";
    const auto ln = find_line(sn1a, "Iron");
    copy_with_edit(sn1a, bad1a, ln, [](std::string) { return std::string("Iron NaN"); });
    require_file_error([&] { (void)y::load_tng_sn1a(bad1a); }, "SNIa_hdf5_dump.txt", ln, "Iron");
    copy_with_edit(sn1a, bad1a, ln, [](std::string) { return std::string("Iron 0.7 0.1"); });
    require_file_error([&] { (void)y::load_tng_sn1a(bad1a); }, "SNIa_hdf5_dump.txt", ln, "Iron");
  }
}
