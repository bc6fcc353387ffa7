// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Internal reader for the numpy binary files some CHEMPY yield loaders read verbatim:
/// `.npy` (format versions 1–3; C order; little-endian float64 arrays, structured arrays of
/// float64 fields, fixed-width unicode `<U n` arrays) and uncompressed `.npz` archives (a zip of
/// `.npy` members written by `numpy.savez`). Errors are `file_error`s naming the file (line 0,
/// these are binary) and what was wrong. Not part of the public API.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/yields/detail/grid_build.hpp"
#include "chempp/yields/detail/text_parse.hpp"
#include "chempp/yields/yield_table.hpp"

namespace chempp::yields::detail {

/// A non-negative integer from the text of an `.npy` header. \throws file_error if malformed.
inline std::size_t npy_header_size(const std::string& text, const std::string& source,
                                   const std::string& field) {
  std::size_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    throw file_error(source, 0, field, "malformed integer '" + text + "' in the .npy header");
  }
  return v;
}

/// A parsed `.npy` array.
struct npy_array {
  std::string source;               ///< file (and member) name for messages
  std::string descr;                ///< plain dtype ("<f8", "<U4"), empty for structured arrays
  std::vector<std::string> fields;  ///< structured arrays: field names (all '<f8')
  std::vector<std::size_t> shape;   ///< array shape
  std::vector<unsigned char> data;  ///< raw C-order payload

  [[nodiscard]] std::size_t count() const {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
  /// Field `name` of a structured float64 array, one value per record.
  [[nodiscard]] std::vector<double> field(const std::string& name) const {
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (fields[f] != name) continue;
      std::vector<double> out(count());
      for (std::size_t r = 0; r < out.size(); ++r) {
        std::memcpy(&out[r], data.data() + (r * fields.size() + f) * 8, 8);
      }
      return out;
    }
    throw file_error(source, 0, name, "structured array has no field '" + name + "'");
  }
  /// All values of a plain float64 array, C order.
  [[nodiscard]] std::vector<double> doubles() const {
    if (descr != "<f8") throw file_error(source, 0, "descr", "expected dtype '<f8', got " + descr);
    std::vector<double> out(count());
    if (!out.empty()) std::memcpy(out.data(), data.data(), out.size() * 8);
    return out;
  }
  /// All values of a plain `<U n` array (ASCII code points only), C order.
  [[nodiscard]] std::vector<std::string> strings() const {
    if (descr.rfind("<U", 0) != 0) {
      throw file_error(source, 0, "descr", "expected a unicode dtype '<U n', got " + descr);
    }
    const std::size_t width = npy_header_size(descr.substr(2), source, "descr");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < count(); ++i) {
      std::string s;
      for (std::size_t c = 0; c < width; ++c) {
        std::uint32_t cp = 0;
        std::memcpy(&cp, data.data() + (i * width + c) * 4, 4);
        if (cp == 0) break;
        if (cp > 127) throw file_error(source, 0, "data", "non-ASCII character in a string");
        s.push_back(static_cast<char>(cp));
      }
      out.push_back(std::move(s));
    }
    return out;
  }
};

/// Parses `.npy` bytes (`source` names them in messages).
/// \throws file_error on a bad magic string, an unsupported header or a truncated payload.
inline npy_array parse_npy(const std::vector<unsigned char>& bytes, const std::string& source) {
  npy_array a;
  a.source = source;
  auto fail = [&](const std::string& field, const std::string& msg) {
    throw file_error(source, 0, field, msg);
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    fail("magic", "not a numpy .npy file");
  }
  const unsigned major = bytes[6];
  std::size_t header_len = 0;
  std::size_t offset = 0;
  if (major == 1) {
    header_len = bytes[8] | (static_cast<std::size_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("header", "truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | bytes[8 + i];
    offset = 12;
  } else {
    fail("version", "unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) fail("header", "truncated header");
  const std::string h(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                      bytes.begin() + static_cast<std::ptrdiff_t>(offset + header_len));
  if (h.find("'fortran_order': False") == std::string::npos) {
    fail("fortran_order", "only C-order arrays are supported");
  }
  const auto d = h.find("'descr':");
  if (d == std::string::npos) fail("descr", "header without 'descr'");
  const std::size_t i = h.find_first_not_of(' ', d + 8);
  if (i == std::string::npos) fail("descr", "malformed 'descr'");
  std::size_t item = 0;
  if (h[i] == '\'') {
    const auto e = h.find('\'', i + 1);
    a.descr = h.substr(i + 1, e - i - 1);
    if (a.descr == "<f8") {
      item = 8;
    } else if (a.descr.rfind("<U", 0) == 0) {
      item = 4 * npy_header_size(a.descr.substr(2), source, "descr");
    } else {
      fail("descr", "unsupported dtype '" + a.descr + "'");
    }
  } else if (h[i] == '[') {
    const auto end = h.find(']', i);
    std::size_t p = i;
    while (true) {
      p = h.find("('", p);
      if (p == std::string::npos || p > end) break;
      const auto q = h.find('\'', p + 2);
      const std::string name = h.substr(p + 2, q - p - 2);
      const auto t1 = h.find('\'', q + 1);
      const auto t2 = h.find('\'', t1 + 1);
      if (q == std::string::npos || t1 == std::string::npos || t2 == std::string::npos) {
        fail("descr", "malformed structured dtype");
      }
      const std::string type = h.substr(t1 + 1, t2 - t1 - 1);
      if (type != "<f8") fail(name, "field '" + name + "' has dtype '" + type + "', not '<f8'");
      a.fields.push_back(name);
      p = t2;
    }
    if (a.fields.empty()) fail("descr", "structured dtype without fields");
    item = 8 * a.fields.size();
  } else {
    fail("descr", "malformed 'descr'");
  }
  const auto s = h.find("'shape':");
  if (s == std::string::npos) fail("shape", "header without 'shape'");
  const auto open = h.find('(', s);
  const auto close = open == std::string::npos ? open : h.find(')', open);
  if (close == std::string::npos) fail("shape", "malformed 'shape'");
  std::string dims = h.substr(open + 1, close - open - 1);
  std::size_t pos = 0;
  while (pos < dims.size()) {
    const auto comma = dims.find(',', pos);
    std::string tok = dims.substr(pos, (comma == std::string::npos ? dims.size() : comma) - pos);
    tok.erase(0, tok.find_first_not_of(' '));
    while (!tok.empty() && tok.back() == ' ') tok.pop_back();
    if (!tok.empty()) a.shape.push_back(npy_header_size(tok, source, "shape"));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::size_t need = a.count() * item;
  const std::size_t start = offset + header_len;
  if (bytes.size() - start != need) {
    fail("data", "payload has " + std::to_string(bytes.size() - start) + " bytes, the header " +
                     "implies " + std::to_string(need));
  }
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start), bytes.end());
  return a;
}

/// All bytes of `path`. \throws file_error if it cannot be opened.
inline std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), 0, "", "cannot open file (missing or unreadable)");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Reads a `.npy` file.
inline npy_array read_npy(const std::filesystem::path& path) {
  return parse_npy(read_bytes(path), path.string());
}

/// Reads member `name` (e.g. "keys.npy") of an uncompressed `.npz` archive.
/// \throws file_error if the archive is malformed, the member is absent or compressed.
inline npy_array read_npz_member(const std::filesystem::path& path, const std::string& name) {
  const auto bytes = read_bytes(path);
  auto u16 = [&](std::size_t p) {
    return static_cast<std::size_t>(bytes[p] | (bytes[p + 1] << 8));
  };
  auto u32 = [&](std::size_t p) {
    return static_cast<std::size_t>(bytes[p]) | (static_cast<std::size_t>(bytes[p + 1]) << 8) |
           (static_cast<std::size_t>(bytes[p + 2]) << 16) |
           (static_cast<std::size_t>(bytes[p + 3]) << 24);
  };
  std::size_t p = 0;
  while (p + 30 <= bytes.size() && u32(p) == 0x04034b50) {  // local file header
    const std::size_t method = u16(p + 8);
    const std::size_t flags = u16(p + 6);
    std::size_t csize = u32(p + 18);
    const std::size_t name_len = u16(p + 26);
    const std::size_t extra_len = u16(p + 28);
    if (p + 30 + name_len + extra_len > bytes.size()) break;
    const std::string member(bytes.begin() + static_cast<std::ptrdiff_t>(p + 30),
                             bytes.begin() + static_cast<std::ptrdiff_t>(p + 30 + name_len));
    const std::size_t data = p + 30 + name_len + extra_len;
    if ((flags & 0x8) != 0 || csize == 0xffffffff) {
      throw file_error(path.string(), 0, member, "zip member with data descriptor / zip64");
    }
    if (data + csize > bytes.size()) break;
    if (member == name) {
      if (method != 0) {
        throw file_error(path.string(), 0, member,
                         "compressed member (only numpy.savez's stored members are supported)");
      }
      return parse_npy({bytes.begin() + static_cast<std::ptrdiff_t>(data),
                        bytes.begin() + static_cast<std::ptrdiff_t>(data + csize)},
                       path.string() + ":" + name);
    }
    p = data + csize;
  }
  throw file_error(path.string(), 0, name, "archive member '" + name + "' not found");
}

/// A table CHEMPY reads verbatim from a structured `.npy` array with float64 fields `Mass`,
/// `mass_in_remnants`, `unprocessed_mass_in_winds` and one per element symbol (the pre-computed
/// `Nomoto2013_net` and `chieffi04_net` tables): one grid for metallicity `z` and its elements.
/// \throws file_error on a malformed file, missing fields or unknown element symbols.
inline std::pair<metallicity_grid, std::vector<element>> npy_record_grid(
    const std::filesystem::path& file, double z) {
  const npy_array a = read_npy(file);
  const std::vector<std::string> fixed{"Mass", "mass_in_remnants", "unprocessed_mass_in_winds"};
  if (a.shape.size() != 1 || a.fields.size() <= fixed.size()) {
    throw file_error(file.string(), 0, "descr",
                     "expected a 1-d structured array with Mass, mass_in_remnants, "
                     "unprocessed_mass_in_winds and element fields");
  }
  for (std::size_t f = 0; f < fixed.size(); ++f) {
    if (a.fields[f] != fixed[f]) {
      throw file_error(file.string(), 0, a.fields[f],
                       "field " + std::to_string(f) + " must be '" + fixed[f] + "'");
    }
  }
  std::vector<element> elements;
  for (std::size_t f = fixed.size(); f < a.fields.size(); ++f) {
    elements.push_back(element_from_symbol(a.fields[f], {&file, 0, "field " + a.fields[f]}));
  }
  const std::size_t nm = a.shape[0];
  metallicity_grid g = zero_grid(z, nm, elements.size());
  const auto mass = a.field("Mass");
  const auto rem = a.field("mass_in_remnants");
  const auto u = a.field("unprocessed_mass_in_winds");
  for (std::size_t m = 0; m < nm; ++m) {
    g.mass(m) = mass[m];
    g.mass_in_remnants(m) = rem[m];
    g.unprocessed_mass_in_winds(m) = u[m];
  }
  for (std::size_t e = 0; e < elements.size(); ++e) {
    const auto v = a.field(a.fields[e + fixed.size()]);
    for (std::size_t m = 0; m < nm; ++m) g.net_yield(m, e) = v[m];
  }
  return {std::move(g), std::move(elements)};
}

/// A table of pre-computed grids `dir/<prefix><i>.npy`, i = 0 … n−1 with metallicity
/// `z_of_index[i]` (any order; grids are stored ascending in Z). Every file must list the same
/// elements. \throws file_error on malformed files or differing element lists.
inline yield_table load_npy_tables(channel kind, provenance prov, const std::filesystem::path& dir,
                                   const std::string& prefix,
                                   const std::vector<double>& z_of_index) {
  std::vector<std::size_t> order(z_of_index.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return z_of_index[a] < z_of_index[b]; });
  std::vector<metallicity_grid> grids;
  std::vector<element> elements;
  for (std::size_t i : order) {
    const auto file = dir / (prefix + std::to_string(i) + ".npy");
    auto [g, els] = npy_record_grid(file, z_of_index[i]);
    if (grids.empty()) {
      elements = els;
    } else if (els != elements) {
      throw file_error(file.string(), 0, "descr",
                       "lists different element fields than " + prov.source_files.front());
    }
    prov.source_files.push_back(source_name(file));
    grids.push_back(std::move(g));
  }
  return yield_table(kind, std::move(prov), std::move(elements), std::move(grids));
}

}  // namespace chempp::yields::detail
