// SPDX-License-Identifier: BSD-3-Clause
// Nomoto2013_net, chieffi04 (gross and net) and Portinari_net SN II loaders.
#include <filesystem>
#include <fstream>
#include <string>

#include "chempp/yields/chieffi04_loader.hpp"
#include "chempp/yields/nomoto2013_loader.hpp"
#include "chempp/yields/portinari1998_loader.hpp"
#include "support/test_support.hpp"
#include "yields/yield_test_support.hpp"

namespace y = chempp::yields;
namespace fs = std::filesystem;
using chempp::test::copy_with_edit;
using chempp::test::require_file_error;

namespace {

/// Writes `bytes` of `src` (truncated to `keep` bytes) to `dst`.
void truncate_copy(const fs::path& src, const fs::path& dst, std::size_t keep) {
  std::ifstream in(src, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream out(dst, std::ios::binary);
  out << s.substr(0, keep);
}

}  // namespace

TEST_CASE("sn2_loaders: Nomoto2013_net equals CHEMPY's SN2_feedback.Nomoto2013_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "Nomoto2013_net",
      [](const auto& dir) { return y::load_nomoto2013_net_sn2(dir / "Nomoto2013"); });
  if (!t) return;
  CHECK(t->elements().size() == 32);
  CHECK(t->size() == 5);
}

TEST_CASE("sn2_loaders: chieffi04 equals CHEMPY's SN2_feedback.chieffi04") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "chieffi04",
      [](const auto& dir) { return y::load_chieffi04_sn2(dir / "Chieffi04/yields.dat"); });
  if (!t) return;
  CHECK(t->elements().size() == 42);
  CHECK(t->grid(0).mass_in_remnants(0) == 0.09307692307692307);
}

TEST_CASE("sn2_loaders: chieffi04_net equals CHEMPY's SN2_feedback.chieffi04_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "chieffi04_net",
      [](const auto& dir) { return y::load_chieffi04_net_sn2(dir / "Chieffi04"); });
  if (!t) return;
  CHECK(t->elements().size() == 42);
}

TEST_CASE("sn2_loaders: Portinari_net equals CHEMPY's SN2_feedback.Portinari_net") {
  const auto t = chempp::test::check_loader_against_reference(
      "sn2", "Portinari_net",
      [](const auto& dir) { return y::load_portinari1998_sn2(dir / "Portinari_1998"); });
  if (!t) return;
  CHECK(t->grid(3).mass_in_remnants(0) == 0.21666666666666665);
}

TEST_CASE("sn2_loaders: bad input names file, line and field (Nomoto, Chieffi, Portinari)") {
  auto dir = chempp::test::raw_yields_dir();
  if (!dir) return;
  chempp::test::temp_dir tmp("sn2");
  SUBCASE("Nomoto2013_net") {
    const chempp::test::broken_copy c(tmp, *dir / "Nomoto2013", "");
    const auto npy = c.dir / "nomoto_net_met_ind_2.npy";
    auto load = [&] { (void)y::load_nomoto2013_net_sn2(c.dir); };
    SUBCASE("missing file") {
      fs::remove(npy);
      require_file_error(load, "nomoto_net_met_ind_2.npy", 0, "");
    }
    SUBCASE("truncated payload") {
      truncate_copy(*dir / "Nomoto2013" / "nomoto_net_met_ind_2.npy", npy, 1000);
      require_file_error(load, "nomoto_net_met_ind_2.npy", 0, "data");
    }
    SUBCASE("not an npy file") {
      copy_with_edit(*dir / "Nomoto2013" / "nomoto_2013_z=0.0200.dat", npy, 1,
                     [](std::string s) { return s; });
      require_file_error(load, "nomoto_net_met_ind_2.npy", 0, "magic");
    }
  }
  SUBCASE("chieffi04") {
    const chempp::test::broken_copy c(tmp, *dir / "Chieffi04", "yields.dat");
    auto load = [&] { (void)y::load_chieffi04_sn2(c.bad); };
    SUBCASE("the net loader needs yields.dat too") {
      fs::remove(c.bad);
      require_file_error([&] { (void)y::load_chieffi04_net_sn2(c.dir); }, "yields.dat", 0, "");
    }
    chempp::test::check_token_edits(
        c, load, "yields.dat",
        {
            {"malformed number", 4, 4, "7.77F+00", 4, "1H at M = 15"},
            {"wrong column count", 5, chempp::test::token_edit::append, "1.0", 5, ""},
            {"unknown element", 6, 2, "3Hx", 6, "3Hx"},
            {"remnant row missing", 2, 2, "0rem", 2, "0rem"},
        });
    SUBCASE("npy element fields differ") {
      fs::copy_file(*dir / "Nomoto2013" / "nomoto_net_met_ind_0.npy",
                    c.dir / "chieffi_net_met_ind_3.npy", fs::copy_options::overwrite_existing);
      require_file_error([&] { (void)y::load_chieffi04_net_sn2(c.dir); },
                         "chieffi_net_met_ind_3.npy", 0, "descr");
    }
  }
  SUBCASE("Portinari_net") {
    const chempp::test::broken_copy c(tmp, *dir / "Portinari_1998", "0.008.txt");
    auto load = [&] { (void)y::load_portinari1998_sn2(c.dir); };
    chempp::test::check_token_edits(
        c, load, "0.008.txt",
        {
            {"NaN", 4, 6, "nan", 4, "N"},
            {"ejected mass above the initial mass", 4, 1, "12.5", 4, "ejected_mass"},
            {"mass grid differs", 4, 0, "10", 4, "Mass"},
            {"wrong column count", 3, chempp::test::token_edit::append, "1", 3, ""},
        });
  }
}
