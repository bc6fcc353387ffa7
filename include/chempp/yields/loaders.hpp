// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Registry of every CHEMPY yield-table loader chempp reproduces, by CHEMPY's loader name
/// (`SN2_feedback.<name>`, `AGB_feedback.<name>`, `SN1a_feedback.<name>`):
///  * SN II: TNG_net, Nomoto2013, Nomoto2013_net, chieffi04, chieffi04_net, CL18_net, NuGrid_net,
///    OldNugrid, Portinari_net, West17_net, Frischknecht16_net;
///  * AGB: TNG_net, Nugrid, Karakas, Karakas_net_yield, Karakas16_net, Ventura_net;
///  * SN Ia: TNG, Thielemann, Seitenzahl, Iwamoto.
/// Every loader reads its raw files from CHEMPY's `input/yields` folder layout (here
/// `shared/data/chempy/yields`). CHEMPY's two loaders that do not run (SN II `francois`, AGB
/// `Nomoto2013`) are not provided.

#include <filesystem>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/yields/chieffi04_loader.hpp"
#include "chempp/yields/cl18_loader.hpp"
#include "chempp/yields/frischknecht16_loader.hpp"
#include "chempp/yields/karakas16_loader.hpp"
#include "chempp/yields/karakas2010_loader.hpp"
#include "chempp/yields/nomoto2013_loader.hpp"
#include "chempp/yields/nugrid_loader.hpp"
#include "chempp/yields/portinari1998_loader.hpp"
#include "chempp/yields/sn1a_loaders.hpp"
#include "chempp/yields/thielemann2003_loader.hpp"
#include "chempp/yields/tng_loader.hpp"
#include "chempp/yields/ventura2013_loader.hpp"
#include "chempp/yields/west17_loader.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// One registered loader: CHEMPY's name and a function of the `input/yields` folder.
struct named_loader {
  const char* name;
  yield_table (*load)(const std::filesystem::path& yields_dir);
};

/// The SN II loaders, in CHEMPY's documentation order.
inline const std::vector<named_loader>& sn2_loaders() {
  using path = std::filesystem::path;
  static const std::vector<named_loader> list{
      {"TNG_net", [](const path& d) { return load_tng_sn2(d / "TNG" / "SNII_hdf5_dump.txt"); }},
      {"Nomoto2013", [](const path& d) { return load_nomoto2013_sn2(d / "Nomoto2013"); }},
      {"Nomoto2013_net", [](const path& d) { return load_nomoto2013_net_sn2(d / "Nomoto2013"); }},
      {"chieffi04",
       [](const path& d) { return load_chieffi04_sn2(d / "Chieffi04" / "yields.dat"); }},
      {"chieffi04_net", [](const path& d) { return load_chieffi04_net_sn2(d / "Chieffi04"); }},
      {"CL18_net", [](const path& d) { return load_cl18_sn2(d / "CL18"); }},
      {"NuGrid_net",
       [](const path& d) {
         return load_nugrid_net_sn2(d / "NuGrid" / "H NuGrid yields delay_total.txt");
       }},
      {"OldNugrid", [](const path& d) { return load_old_nugrid_sn2(d / "NuGrid_AGB_SNII_2013"); }},
      {"Portinari_net", [](const path& d) { return load_portinari1998_sn2(d / "Portinari_1998"); }},
      {"West17_net", [](const path& d) { return load_west17_sn2(d / "West17"); }},
      {"Frischknecht16_net",
       [](const path& d) {
         return load_frischknecht16_sn2(d / "Frischknecht16" / "yields_total.txt");
       }},
  };
  return list;
}

/// The AGB loaders, in CHEMPY's documentation order.
inline const std::vector<named_loader>& agb_loaders() {
  using path = std::filesystem::path;
  static const std::vector<named_loader> list{
      {"TNG_net", [](const path& d) { return load_tng_agb(d / "TNG" / "AGB_hdf5_dump.txt"); }},
      {"Nugrid", [](const path& d) { return load_nugrid_agb(d / "NuGrid_AGB_SNII_2013"); }},
      {"Karakas", [](const path& d) { return load_karakas2010_agb(d / "Karakas2010"); }},
      {"Karakas_net_yield",
       [](const path& d) { return load_karakas2010_net_agb(d / "Karakas2010"); }},
      {"Karakas16_net", [](const path& d) { return load_karakas16_agb(d / "Karakas2016"); }},
      {"Ventura_net", [](const path& d) { return load_ventura2013_agb(d / "Ventura2013"); }},
  };
  return list;
}

/// The SN Ia loaders, in CHEMPY's documentation order.
inline const std::vector<named_loader>& sn1a_loaders() {
  using path = std::filesystem::path;
  static const std::vector<named_loader> list{
      {"TNG", [](const path& d) { return load_tng_sn1a(d / "TNG" / "SNIa_hdf5_dump.txt"); }},
      {"Thielemann",
       [](const path& d) { return load_thielemann2003_sn1a(d / "Thielemann2003" / "0.02.txt"); }},
      {"Seitenzahl",
       [](const path& d) { return load_seitenzahl2013_sn1a(d / "Seitenzahl2013" / "0.02.txt"); }},
      {"Iwamoto",
       [](const path& d) { return load_iwamoto1999_sn1a(d / "Iwamoto" / "sn1a_yields.txt"); }},
  };
  return list;
}

namespace detail {

inline std::vector<std::string> loader_names(const std::vector<named_loader>& list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (const auto& l : list) out.emplace_back(l.name);
  return out;
}

/// The loader called `name` in `list`. \throws invalid_argument from `fn` listing the valid
/// names when there is none.
inline const named_loader& find_loader(const std::vector<named_loader>& list, const std::string& kind,
                                       const std::string& name, const std::string& fn) {
  for (const auto& l : list) {
    if (name == l.name) return l;
  }
  std::string valid;
  for (const auto& l : list) valid += (valid.empty() ? "" : ", ") + std::string(l.name);
  throw invalid_argument(fn + ": unknown " + kind + " yield table '" + name + "'; valid names: " + valid);
}

inline yield_table load_named(const std::vector<named_loader>& list, const char* kind,
                              const std::string& name, const std::filesystem::path& yields_dir) {
  return find_loader(list, kind, name, std::string("chempp::yields::load_") + kind + "_table").load(yields_dir);
}

}  // namespace detail

namespace detail {
/// The loaders of channel `kind` ("sn2", "agb", "sn1a"). \throws invalid_argument from `fn` otherwise.
inline const std::vector<named_loader>& loaders_of(const std::string& kind, const std::string& fn) {
  if (kind == "sn2") return sn2_loaders();
  if (kind == "agb") return agb_loaders();
  if (kind == "sn1a") return sn1a_loaders();
  throw invalid_argument(fn + ": unknown channel '" + kind + "' (expected sn2, agb or sn1a)");
}
}  // namespace detail

/// CHEMPY's SN II loader names chempp provides.
inline std::vector<std::string> sn2_table_names() { return detail::loader_names(sn2_loaders()); }
/// CHEMPY's AGB loader names chempp provides.
inline std::vector<std::string> agb_table_names() { return detail::loader_names(agb_loaders()); }
/// CHEMPY's SN Ia loader names chempp provides.
inline std::vector<std::string> sn1a_table_names() { return detail::loader_names(sn1a_loaders()); }

/// Loads the SN II table CHEMPY calls `name` from `yields_dir` (CHEMPY's `input/yields` layout).
/// \throws invalid_argument listing the valid names for an unknown name; file_error naming file,
///         line and field on missing or malformed input.
inline yield_table load_sn2_table(const std::string& name,
                                  const std::filesystem::path& yields_dir) {
  return detail::load_named(sn2_loaders(), "sn2", name, yields_dir);
}

/// Loads the AGB table CHEMPY calls `name` from `yields_dir`.
/// \throws invalid_argument listing the valid names for an unknown name; file_error on bad input.
inline yield_table load_agb_table(const std::string& name,
                                  const std::filesystem::path& yields_dir) {
  return detail::load_named(agb_loaders(), "agb", name, yields_dir);
}

/// Loads the SN Ia table CHEMPY calls `name` from `yields_dir`.
/// \throws invalid_argument listing the valid names for an unknown name; file_error on bad input.
inline yield_table load_sn1a_table(const std::string& name,
                                   const std::filesystem::path& yields_dir) {
  return detail::load_named(sn1a_loaders(), "sn1a", name, yields_dir);
}

}  // namespace chempp::yields
