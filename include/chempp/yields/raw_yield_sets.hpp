// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The two yield sets of Buck et al. 2025 built from CHEMPY's raw yield files
/// (`shared/data/chempy/yields/`): the IllustrisTNG set (training configuration) and the
/// "alternative" misspecification set (SN II `Nomoto2013`, AGB `Karakas16_net`, SN Ia
/// `Thielemann`; chempy-model.md §8). Applications normally use the shipped JSON copies
/// (`shipped.hpp`); these builders exist to produce and check them.

#include <filesystem>

#include "chempp/yields/karakas16_loader.hpp"
#include "chempp/yields/nomoto2013_loader.hpp"
#include "chempp/yields/thielemann2003_loader.hpp"
#include "chempp/yields/tng_loader.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// The TNG set from `yields_dir/TNG/{SNII,AGB,SNIa}_hdf5_dump.txt`; name "tng".
/// \param yields_dir CHEMPY's `input/yields` folder (here `shared/data/chempy/yields`).
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_set load_tng_set(const std::filesystem::path& yields_dir) {
  yield_set s;
  s.name = "tng";
  s.sn2 = load_tng_sn2(yields_dir / "TNG" / "SNII_hdf5_dump.txt");
  s.agb = load_tng_agb(yields_dir / "TNG" / "AGB_hdf5_dump.txt");
  s.sn1a = load_tng_sn1a(yields_dir / "TNG" / "SNIa_hdf5_dump.txt");
  return s;
}

/// The alternative set: `Nomoto2013/`, `Karakas2016/`, `Thielemann2003/0.02.txt`; name "alt".
/// \param yields_dir CHEMPY's `input/yields` folder (here `shared/data/chempy/yields`).
/// \throws file_error naming file, line and field on missing or malformed input.
inline yield_set load_alternative_set(const std::filesystem::path& yields_dir) {
  yield_set s;
  s.name = "alt";
  s.sn2 = load_nomoto2013_sn2(yields_dir / "Nomoto2013");
  s.agb = load_karakas16_agb(yields_dir / "Karakas2016");
  s.sn1a = load_thielemann2003_sn1a(yields_dir / "Thielemann2003" / "0.02.txt");
  return s;
}

}  // namespace chempp::yields
