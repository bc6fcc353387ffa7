// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Loader for the AGB yields of Karakas & Lugaro (2016, ApJ 825, 26; Z = 0.007, 0.014, 0.03) and
/// Fishlock et al. (2014, ApJ 797, 44; Z = 0.001), reproducing CHEMPY's
/// `AGB_feedback.Karakas16_net` including its quirks:
///  * the "net yield" is a **composition difference**: each model's ejecta mass fractions X(i)
///    (Fishlock: <X(i)>) normalised to sum 1, minus the initial surface composition (first block
///    of `surf_zXXX.dat`, also normalised to sum 1) — not multiplied by the ejected fraction;
///  * the remnant fraction comes from **hard-coded** lists of masses and final masses in CHEMPY's
///    `yields.py` (`list_of_masses`, `list_of_remnant`; the same numbers are in
///    `shared/data/reference/chempy_loaded_tables_alt.json`), u = 1 − remnant fraction;
///  * the initial block of a surface file ends one row before its third `p` row (CHEMPY's
///    parser: `p` is hydrogen, then phosphorus, then the next block), so its last row (Po, X = 0)
///    is not read;
///  * masses are stored descending.
///
/// Formats: `yield_zXXX.dat` (K&L16) has blocks headed `# Initial mass = M, Z = …` with rows
/// `el Z log_e [X/H] [X/Fe] X(i) Mass(i)`; `yield_z001.dat` (Fishlock) has blocks headed
/// `#  M Msun, Z = 0.001` with rows `species A yield mass_lost mass_0 <X(i)> X0(i) log`;
/// `surf_zXXX.dat` rows are `el Z log_e [X/H] [X/Fe] [X/O] X(i)`. The surface files for
/// Z = 0.007 and 0.014 are missing from all public CHEMPY snapshots; this loader reads
/// `surf_z007.dat` if present, else the reconstruction `surf_z007_RECONSTRUCTED.dat` (likewise
/// for 0.014; for 0.03 `surf_z03.dat`, else `surf_z03_first_block.dat`).

#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields {

/// The metallicities CHEMPY's `Karakas16_net` loader reads, with its hard-coded model masses
/// [Msun] and final (remnant) masses [Msun] (CHEMPY `yields.py`, `list_of_masses` /
/// `list_of_remnant`).
struct karakas16_model_list {
  double metallicity;
  std::vector<double> masses;
  std::vector<double> final_masses;
};

/// CHEMPY's hard-coded Karakas16_net model lists, in CHEMPY's order (ascending mass).
inline std::vector<karakas16_model_list> karakas16_chempy_models() {
  return {
      {0.001,
       {1., 1.25, 1.5, 2.0, 2.25, 2.5, 2.75, 3., 3.25, 3.5, 4., 4.5, 5., 5.5, 6., 7.},
       {0.678, 0.669, 0.657, 0.668, 0.839, 0.948, 1.057, 1.189, 1.403, 1.176, 1.726, 1.659, 1.740,
        1.962, 1.725, 2.062}},
      {0.007,
       {1.,  1.25, 1.5, 1.75, 1.9, 2.1,  2.25, 2.5, 2.75, 3., 3.25,
        3.5, 3.75, 4.,  4.25, 4.5, 4.75, 5.,   5.5, 6.,   7., 7.5},
       {0.606, 0.629, 0.646, 0.641, 0.657, 0.659, 0.663, 0.668, 0.679, 0.698, 0.728,
        0.766, 0.802, 0.849, 0.859, 0.873, 0.883, 0.895, 0.921, 0.956, 1.040, 1.116}},
      {0.014,
       {1.,   1.25, 1.5,  1.75, 2.,   2.25, 2.5, 2.75, 3., 3.25, 3.5,
        3.75, 4.,   4.25, 4.5,  4.75, 5.,   5.5, 6.,   7., 8.},
       {0.585, 0.605, 0.616, 0.638, 0.66, 0.675, 0.679, 0.684, 0.694, 0.708, 0.73,
        0.766, 0.813, 0.853, 0.862, 0.87, 0.879, 0.9,   0.921, 0.976, 1.062}},
      {0.03,
       {1.,   1.25, 1.5,  1.75, 2.,   2.25, 2.5, 2.75, 3., 3.25, 3.5,
        3.75, 4.,   4.25, 4.5,  4.75, 5.,   5.5, 6.,   7., 8.},
       {0.573, 0.590, 0.607, 0.625, 0.643, 0.661, 0.650, 0.670, 0.691, 0.713, 0.727,
        0.744, 0.744, 0.806, 0.848, 0.858, 0.867, 0.886, 0.907, 0.963, 1.053}},
  };
}

/// Provenance of CHEMPY's `AGB_feedback.Karakas16_net` table.
inline provenance karakas16_provenance() {
  provenance p;
  p.loader = "Karakas16_net";
  p.reference =
      "Karakas & Lugaro 2016, ApJ 825, 26 (Z = 0.007, 0.014, 0.03); Fishlock, Karakas, Lugaro & "
      "Yong 2014, ApJ 797, 44 (Z = 0.001)";
  p.doi = "10.3847/0004-637X/825/1/26; 10.1088/0004-637X/797/1/44";
  p.yield_kind = "composition_difference";
  p.remnant_treatment =
      "hard-coded final masses of CHEMPY's yields.py (list_of_remnant) divided by M; they equal "
      "the yield files' 'Final mass' headers for Z = 0.007/0.014/0.03 except 4.0 Msun at Z = 0.03 "
      "(code 0.744, file 0.774); the Z = 0.001 list has no counterpart in the data; u = 1 - "
      "remnant";
  p.notes =
      "y = X(i)/sum X(i) of the ejecta minus the initial surface composition normalised to sum 1 "
      "(a composition difference, not multiplied by the ejected fraction). Masses stored "
      "descending. surf_z007.dat and surf_z014.dat are missing from all public snapshots; the "
      "_RECONSTRUCTED files (metals scaled from Z = 0.03, see shared/data/README.md) are used "
      "when the originals are absent. The last row of each initial surface block (Po, X = 0) is "
      "not read, as in CHEMPY.";
  return p;
}

namespace detail {

struct karakas_row {
  std::size_t line;
  std::string raw_name;
  element el;
  double x;  // mass fraction (X(i) or <X(i)>)
};

/// Element of a K&L16 / Fishlock row; `p` with atomic number 1 is hydrogen.
inline element karakas_row_element(const std::string& name, const std::string& z_token,
                                   const field_ref& at) {
  const auto z = parse_number<double>(z_token, {at.file, at.line, at.field + " atomic number"});
  std::string symbol = capitalise_symbol(name);
  if (symbol == "P" && z == 1.0) symbol = "H";
  const element e = element_from_symbol(symbol, at);
  if (static_cast<double>(e.atomic_number()) != z) {
    throw file_error(at.file->string(), at.line, at.field,
                     "atomic number " + z_token + " does not match element '" + name + "'");
  }
  return e;
}

/// Initial composition (normalised to sum 1) from the first block of a surface file.
inline std::vector<std::pair<element, double>> karakas_initial_composition(
    const std::filesystem::path& file) {
  const auto lines = read_lines(file);
  std::vector<karakas_row> rows;
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) continue;
    const auto tok = split(ln.text);
    const std::string field = "row '" + tok[0] + "'";
    if (tok.size() != 7) {
      throw file_error(file.string(), ln.number, field,
                       "wrong column count: expected 7 (El Z log_e [X/H] [X/Fe] [X/O] X(i)), got " +
                           std::to_string(tok.size()));
    }
    const field_ref at{&file, ln.number, field};
    const element e = karakas_row_element(tok[0], tok[1], at);
    for (std::size_t c = 2; c < 6; ++c) {
      (void)parse_number<double>(tok[c],
                                 {&file, ln.number, field + " column " + std::to_string(c + 1)});
    }
    const auto x = parse_number<double>(tok[6], {&file, ln.number, field + " X(i)"});
    require_nonnegative(x, {&file, ln.number, field + " X(i)"});
    rows.push_back({ln.number, tok[0], e, x});
  }
  std::vector<std::size_t> p_rows;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].raw_name == "p") p_rows.push_back(i);
  }
  if (p_rows.size() < 3) {
    throw file_error(file.string(), 0, "p",
                     "the initial-abundance block must be followed by a row 'p' (found " +
                         std::to_string(p_rows.size()) + " 'p' rows, need 3)");
  }
  const std::size_t n = p_rows[2] - 1;  // CHEMPY: len_elements = index of third 'p' - 1
  if (rows[n].x != 0.0) {
    throw file_error(file.string(), rows[n].line, "row '" + rows[n].raw_name + "' X(i)",
                     "CHEMPY does not read the last row of the initial block, but it is not zero");
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += rows[i].x;
  if (!(sum > 0.0)) throw file_error(file.string(), 0, "X(i)", "initial composition sums to 0");
  std::vector<std::pair<element, double>> out;
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& o : out) {
      if (o.first == rows[i].el) {
        throw file_error(file.string(), rows[i].line, "row '" + rows[i].raw_name + "'",
                         "element listed twice in the initial block");
      }
    }
    out.emplace_back(rows[i].el, rows[i].x / sum);
  }
  return out;
}

/// Blocks (one per model mass) of a yield file.
struct karakas_block {
  std::size_t line;
  double mass;
  std::vector<karakas_row> rows;
};

/// Parses the initial mass from a block header comment, if this comment is one.
inline bool karakas_block_header(const std::string& text, double& mass,
                                 const std::filesystem::path& file, std::size_t line) {
  const auto pos = text.find("Initial mass =");
  if (pos != std::string::npos) {
    const auto rest = text.substr(pos + 14);
    auto tok = split(rest);
    if (tok.empty()) throw file_error(file.string(), line, "Initial mass", "missing value");
    std::string v = tok[0];
    if (!v.empty() && v.back() == ',') v.pop_back();
    mass = parse_number<double>(v, {&file, line, "Initial mass"});
    return true;
  }
  const auto msun = text.find(" Msun, Z");
  if (msun != std::string::npos) {
    auto tok = split(text.substr(0, msun));
    if (tok.size() == 2 && tok[0] == "#") {
      mass = parse_number<double>(tok[1], {&file, line, "block mass"});
      return true;
    }
  }
  return false;
}

inline std::vector<karakas_block> karakas_yield_blocks(const std::filesystem::path& file,
                                                       bool fishlock) {
  const auto lines = read_lines(file);
  std::vector<karakas_block> blocks;
  const std::size_t ncol = fishlock ? 8 : 7;
  const std::size_t xcol = 5;  // X(i) resp. <X(i)>
  for (const auto& ln : lines) {
    if (is_comment_or_blank(ln.text)) {
      double m = 0.0;
      if (karakas_block_header(ln.text, m, file, ln.number)) {
        require_positive(m, {&file, ln.number, "Initial mass"});
        blocks.push_back({ln.number, m, {}});
      }
      continue;
    }
    const auto tok = split(ln.text);
    const std::string field = "row '" + tok[0] + "'";
    if (blocks.empty()) {
      throw file_error(file.string(), ln.number, field, "data row before the first block header");
    }
    if (tok.size() != ncol) {
      throw file_error(file.string(), ln.number, field,
                       "wrong column count: expected " + std::to_string(ncol) + ", got " +
                           std::to_string(tok.size()));
    }
    const field_ref at{&file, ln.number, field};
    const element e = karakas_row_element(tok[0], tok[1], at);
    for (std::size_t c = 2; c < ncol; ++c) {
      if (c == xcol) continue;
      (void)parse_number<double>(tok[c],
                                 {&file, ln.number, field + " column " + std::to_string(c + 1)});
    }
    const std::string xname = fishlock ? " <X(i)>" : " X(i)";
    const auto x = parse_number<double>(tok[xcol], {&file, ln.number, field + xname});
    require_nonnegative(x, {&file, ln.number, field + xname});
    blocks.back().rows.push_back({ln.number, tok[0], e, x});
  }
  for (const auto& b : blocks) {
    if (b.rows.empty()) {
      throw file_error(file.string(), b.line, "block", "block header without data rows");
    }
  }
  return blocks;
}

/// `dir/preferred` if it exists, else `dir/fallback` (the reconstructed / truncated copy).
inline std::filesystem::path karakas_pick(const std::filesystem::path& dir,
                                          const std::string& preferred,
                                          const std::string& fallback) {
  if (std::filesystem::exists(dir / preferred) || fallback.empty()) return dir / preferred;
  return dir / fallback;
}

}  // namespace detail

/// Loads CHEMPY's `AGB_feedback.Karakas16_net` table from the `Karakas2016/` folder.
/// \param models metallicities with CHEMPY's hard-coded masses and final masses (default:
///        `karakas16_chempy_models()`), ascending in metallicity.
/// \throws file_error naming file, line and field on missing or malformed input, when a file's
///         blocks do not match the model list, or when metallicities list different elements.
inline yield_table load_karakas16_agb(
    const std::filesystem::path& dir,
    const std::vector<karakas16_model_list>& models = karakas16_chempy_models()) {
  using namespace detail;
  provenance prov = karakas16_provenance();
  std::vector<metallicity_grid> grids;
  std::vector<element> elements;
  std::string first_yield_file;
  for (const auto& model : models) {
    std::string tag;
    if (model.metallicity == 0.001) {
      tag = "001";
    } else if (model.metallicity == 0.007) {
      tag = "007";
    } else if (model.metallicity == 0.014) {
      tag = "014";
    } else if (model.metallicity == 0.03) {
      tag = "03";
    } else {
      throw invalid_argument(
          "chempp::yields::load_karakas16_agb: no Karakas 2016 / Fishlock 2014 "
          "file for metallicity " +
          chempp::detail::format_value(model.metallicity));
    }
    if (model.masses.size() != model.final_masses.size() || model.masses.empty()) {
      throw invalid_argument("chempp::yields::load_karakas16_agb: model list for Z = " +
                             chempp::detail::format_value(model.metallicity) +
                             " has mismatched or empty masses / final_masses");
    }
    const bool fishlock = tag == "001";
    const auto yield_file = dir / ("yield_z" + tag + ".dat");
    std::string fallback;
    if (tag == "007" || tag == "014") fallback = "surf_z" + tag + "_RECONSTRUCTED.dat";
    if (tag == "03") fallback = "surf_z03_first_block.dat";
    const auto surf_file = karakas_pick(dir, "surf_z" + tag + ".dat", fallback);

    const auto initial = karakas_initial_composition(surf_file);
    const auto blocks = karakas_yield_blocks(yield_file, fishlock);
    if (blocks.size() != model.masses.size()) {
      throw file_error(yield_file.string(), 0, "blocks",
                       "file has " + std::to_string(blocks.size()) +
                           " mass blocks, the model list has " +
                           std::to_string(model.masses.size()) + " masses");
    }
    std::vector<double> block_masses;
    for (std::size_t j = 0; j < blocks.size(); ++j) {
      block_masses.push_back(blocks[j].mass);
      if (std::abs(blocks[j].mass - model.masses[j]) > 1e-9 * model.masses[j]) {
        throw file_error(yield_file.string(), blocks[j].line, "Initial mass",
                         "block " + std::to_string(j) + " has mass " +
                             chempp::detail::format_value(blocks[j].mass) +
                             " Msun, the model list expects " +
                             chempp::detail::format_value(model.masses[j]));
      }
    }
    require_strictly_increasing(block_masses, {&yield_file, blocks.front().line, "Initial mass"});
    // elements of this metallicity = rows of the first block; every block must list the same
    std::vector<element> els;
    for (const auto& r : blocks.front().rows) els.push_back(r.el);
    for (const auto& b : blocks) {
      if (b.rows.size() != els.size()) {
        throw file_error(yield_file.string(), b.line, "block",
                         "block lists " + std::to_string(b.rows.size()) +
                             " species, the first block " + std::to_string(els.size()));
      }
      for (std::size_t i = 0; i < els.size(); ++i) {
        if (!(b.rows[i].el == els[i])) {
          throw file_error(yield_file.string(), b.rows[i].line, "row '" + b.rows[i].raw_name + "'",
                           "species order differs from the first block (expected " +
                               std::string(els[i].symbol()) + ")");
        }
      }
    }
    if (grids.empty()) {
      elements = els;
      first_yield_file = yield_file.string();
    } else if (els != elements) {
      throw file_error(yield_file.string(), blocks.front().line, "species",
                       "lists different elements than " + first_yield_file);
    }
    std::vector<double> init(els.size());
    for (std::size_t i = 0; i < els.size(); ++i) {
      bool found = false;
      for (const auto& [e, x] : initial) {
        if (e == els[i]) {
          init[i] = x;
          found = true;
        }
      }
      if (!found) {
        throw file_error(surf_file.string(), 0, std::string(els[i].symbol()),
                         "element of " + yield_file.filename().string() +
                             " missing from the initial composition");
      }
    }
    const std::size_t nm = model.masses.size();
    const std::size_t ne = els.size();
    metallicity_grid g;
    g.metallicity = model.metallicity;
    g.mass = xt::zeros<double>({nm});
    g.mass_in_remnants = xt::zeros<double>({nm});
    g.unprocessed_mass_in_winds = xt::zeros<double>({nm});
    g.net_yield = xt::zeros<double>({nm, ne});
    for (std::size_t j = 0; j < nm; ++j) {
      const std::size_t k = nm - 1 - j;  // stored descending
      const double mass = model.masses[j];
      const double remnant = model.final_masses[j];
      if (!(remnant >= 0.0) || remnant > mass) {
        throw invalid_argument("chempp::yields::load_karakas16_agb: final mass " +
                               chempp::detail::format_value(remnant) +
                               " outside [0, M = " + chempp::detail::format_value(mass) + "]");
      }
      double sum = 0.0;
      for (const auto& r : blocks[j].rows) sum += r.x;
      if (!(sum > 0.0)) {
        throw file_error(yield_file.string(), blocks[j].line, "X(i)", "mass fractions sum to 0");
      }
      g.mass(k) = mass;
      g.mass_in_remnants(k) = remnant / mass;
      g.unprocessed_mass_in_winds(k) = 1.0 - g.mass_in_remnants(k);
      for (std::size_t i = 0; i < ne; ++i) g.net_yield(k, i) = blocks[j].rows[i].x / sum - init[i];
    }
    prov.source_files.push_back(source_name(yield_file));
    prov.source_files.push_back(source_name(surf_file));
    grids.push_back(std::move(g));
  }
  return yield_table(channel::agb, std::move(prov), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields
