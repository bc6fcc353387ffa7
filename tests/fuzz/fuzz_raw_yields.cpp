// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: CHEMPY's raw yield formats (yields/*_loader.hpp) through the loader registry.
// The first input byte chooses the loader; the rest is the content of the file it reads
// (single-file loaders: TNG dumps, Thielemann, Seitenzahl, Iwamoto, chieffi04, NuGrid_net,
// Frischknecht16_net).
#include <array>

#include "chempp/yields/loaders.hpp"
#include "fuzz_support.hpp"

namespace {
struct target {
  const char* kind;  // sn2, agb, sn1a
  const char* name;  // CHEMPY's loader name
  const char* file;  // path below the yields directory
};
constexpr std::array<target, 9> targets{{
    {"sn1a", "TNG", "TNG/SNIa_hdf5_dump.txt"},
    {"sn1a", "Thielemann", "Thielemann2003/0.02.txt"},
    {"sn1a", "Seitenzahl", "Seitenzahl2013/0.02.txt"},
    {"sn1a", "Iwamoto", "Iwamoto/sn1a_yields.txt"},
    {"sn2", "TNG_net", "TNG/SNII_hdf5_dump.txt"},
    {"agb", "TNG_net", "TNG/AGB_hdf5_dump.txt"},
    {"sn2", "chieffi04", "Chieffi04/yields.dat"},
    {"sn2", "NuGrid_net", "NuGrid/H NuGrid yields delay_total.txt"},
    {"sn2", "Frischknecht16_net", "Frischknecht16/yields_total.txt"},
}};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const target& t = targets[data[0] % targets.size()];
  return chempp_fuzz::guarded([&] {
    const auto dir = chempp_fuzz::scratch_dir() / "yields";
    chempp_fuzz::write_file(dir / t.file, chempp_fuzz::as_string(data + 1, size - 1));
    const std::string kind = t.kind;
    if (kind == "sn2") (void)chempp::yields::load_sn2_table(t.name, dir);
    else if (kind == "agb") (void)chempp::yields::load_agb_table(t.name, dir);
    else (void)chempp::yields::load_sn1a_table(t.name, dir);
  });
}
