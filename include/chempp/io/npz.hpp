// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Minimal readers for NumPy `.npy` arrays and uncompressed `.npz` archives (`np.savez`), enough
/// for the paper's data files (float32/float64/int/bool numbers, fixed-width byte and unicode
/// strings, C or Fortran order). Format: NumPy NEP 1 ("A simple file format for NumPy arrays")
/// and the PKWARE ZIP application note (stored entries only).
///
/// Every malformed input throws `chempp::file_error` naming the file (and the archive member).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "chempp/core/compat_xtensor.hpp"
#include "chempp/core/error.hpp"

namespace chempp::io {

/// One decoded `.npy` array: dtype descriptor, shape, storage order and the raw bytes.
struct npy_array {
  std::string source;              ///< file (and member) it came from, for messages
  std::string descr;               ///< NumPy dtype string, e.g. "<f4", "<U2", "|b1"
  std::vector<std::size_t> shape;  ///< empty for a scalar
  bool fortran_order = false;
  std::string bytes;               ///< raw data, size = count() * item_size()

  /// Number of elements (1 for a scalar).
  [[nodiscard]] std::size_t count() const {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }

  /// Bytes per element as given by the descriptor.
  [[nodiscard]] std::size_t item_size() const {
    const std::size_t n = std::stoul(descr.substr(2));
    return descr[1] == 'U' ? 4 * n : n;
  }

  /// The numbers converted to T, in C (row-major) order with the stored shape.
  /// \throws file_error for string dtypes or unsupported number types.
  template <class T>
  [[nodiscard]] xt::xarray<T> as() const {
    const std::size_t n = count();
    std::vector<T> flat(n);
    const char kind = descr.size() >= 2 ? descr[1] : '?';
    const std::size_t sz = item_size();
    const char* p = bytes.data();
    auto read = [&](auto tag, std::size_t i) {
      using S = decltype(tag);
      S v;
      std::memcpy(&v, p + i * sizeof(S), sizeof(S));
      return static_cast<T>(v);
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (kind == 'f' && sz == 4) flat[i] = read(float{}, i);
      else if (kind == 'f' && sz == 8) flat[i] = read(double{}, i);
      else if (kind == 'i' && sz == 4) flat[i] = read(std::int32_t{}, i);
      else if (kind == 'i' && sz == 8) flat[i] = read(std::int64_t{}, i);
      else if (kind == 'u' && sz == 1) flat[i] = read(std::uint8_t{}, i);
      else if (kind == 'u' && sz == 4) flat[i] = read(std::uint32_t{}, i);
      else if (kind == 'u' && sz == 8) flat[i] = read(std::uint64_t{}, i);
      else if (kind == 'b' && sz == 1) flat[i] = read(std::uint8_t{}, i);
      else
        throw file_error(source, 0, "descr",
                         "dtype '" + descr + "' cannot be converted to a number");
    }
    std::vector<std::size_t> shp = shape;
    if (!fortran_order || shp.size() < 2) {
      return xt::adapt(flat, shp);
    }
    std::reverse(shp.begin(), shp.end());
    xt::xarray<T> reversed = xt::adapt(flat, shp);
    return xt::xarray<T>(xt::transpose(reversed));
  }

  /// The elements of a 1-D string array (`|S<n>` bytes or `<U<n>` UTF-32, ASCII content),
  /// trailing NULs removed.
  [[nodiscard]] std::vector<std::string> strings() const {
    const char kind = descr.size() >= 2 ? descr[1] : '?';
    if (kind != 'S' && kind != 'U') {
      throw file_error(source, 0, "descr", "dtype '" + descr + "' is not a string type");
    }
    const std::size_t n = count(), sz = item_size();
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string s;
      const char* e = bytes.data() + i * sz;
      if (kind == 'S') {
        s.assign(e, strnlen(e, sz));
      } else {
        for (std::size_t c = 0; c < sz / 4; ++c) {
          std::uint32_t cp;
          std::memcpy(&cp, e + 4 * c, 4);
          if (cp == 0) break;
          if (cp > 127) throw file_error(source, 0, "data", "non-ASCII character in string");
          s.push_back(static_cast<char>(cp));
        }
      }
      out.push_back(std::move(s));
    }
    return out;
  }
};

namespace detail {

inline std::string npy_header_value(std::string_view header, std::string_view key,
                                    const std::string& source) {
  const auto k = header.find("'" + std::string(key) + "'");
  if (k == std::string_view::npos) {
    throw file_error(source, 0, std::string(key), "missing from the .npy header");
  }
  auto v = header.find(':', k);
  if (v == std::string_view::npos) throw file_error(source, 0, std::string(key), "malformed");
  ++v;
  while (v < header.size() && header[v] == ' ') ++v;
  std::size_t end = v;
  if (header[v] == '(') {
    end = header.find(')', v);
    if (end == std::string_view::npos) throw file_error(source, 0, std::string(key), "malformed");
    ++end;
  } else if (header[v] == '\'') {
    end = header.find('\'', v + 1);
    if (end == std::string_view::npos) throw file_error(source, 0, std::string(key), "malformed");
    ++end;
  } else {
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  }
  return std::string(header.substr(v, end - v));
}

inline std::uint32_t read_le(const std::string& b, std::size_t off, std::size_t n,
                             const std::string& source, const char* what) {
  if (off + n > b.size()) throw file_error(source, 0, what, "truncated");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[off + i])) << (8 * i);
  }
  return v;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), 0, "", "cannot open file");
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace detail

/// Decodes the bytes of one `.npy` file. `source` names it in error messages.
inline npy_array parse_npy(const std::string& b, const std::string& source) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) {
    throw file_error(source, 0, "magic", "not a .npy array (bad magic string)");
  }
  const auto major = static_cast<unsigned char>(b[6]);
  std::size_t hlen = 0, hoff = 0;
  if (major == 1) {
    hlen = detail::read_le(b, 8, 2, source, "header_len");
    hoff = 10;
  } else if (major == 2 || major == 3) {
    hlen = detail::read_le(b, 8, 4, source, "header_len");
    hoff = 12;
  } else {
    throw file_error(source, 0, "version", "unsupported .npy version " + std::to_string(major));
  }
  if (hoff + hlen > b.size()) throw file_error(source, 0, "header", "truncated header");
  const std::string_view header(b.data() + hoff, hlen);
  npy_array a;
  a.source = source;
  std::string descr = detail::npy_header_value(header, "descr", source);
  if (descr.size() < 4 || descr.front() != '\'') {
    throw file_error(source, 0, "descr", "structured dtypes are not supported: " + descr);
  }
  a.descr = descr.substr(1, descr.size() - 2);
  if (a.descr[0] == '>') {
    throw file_error(source, 0, "descr", "big-endian dtype '" + a.descr + "' is not supported");
  }
  a.fortran_order = detail::npy_header_value(header, "fortran_order", source) == "True";
  const std::string shape = detail::npy_header_value(header, "shape", source);
  std::size_t i = 1;
  while (i < shape.size()) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size() || shape[i] == ')') break;
    std::size_t used = 0;
    try {
      a.shape.push_back(std::stoul(shape.substr(i), &used));
    } catch (const std::exception&) {
      throw file_error(source, 0, "shape", "malformed shape " + shape);
    }
    i += used;
  }
  const std::size_t data_off = hoff + hlen;
  const std::size_t need = a.count() * a.item_size();
  if (b.size() - data_off < need) {
    throw file_error(source, 0, "data",
                     "holds " + std::to_string(b.size() - data_off) + " bytes, shape needs " +
                         std::to_string(need));
  }
  a.bytes = b.substr(data_off, need);
  return a;
}

/// Loads a `.npy` file as numbers of type T.
template <class T>
xt::xarray<T> load_npy(const std::filesystem::path& path) {
  return parse_npy(detail::read_file(path), path.string()).template as<T>();
}

/// An uncompressed `.npz` archive (as written by `np.savez`), read into memory at construction.
class npz_file {
 public:
  /// \throws file_error if the file is missing, not a ZIP archive, or has a compressed member.
  explicit npz_file(const std::filesystem::path& path) : path_(path.string()) {
    const std::string b = detail::read_file(path);
    // End of central directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes.
    std::size_t eocd = std::string::npos;
    for (std::size_t p = b.size() >= 22 ? b.size() - 22 : 0;; --p) {
      if (detail::read_le(b, p, 4, path_, "zip") == 0x06054b50u) {
        eocd = p;
        break;
      }
      if (p == 0 || b.size() - p > 65557) break;
    }
    if (eocd == std::string::npos) throw file_error(path_, 0, "zip", "not a ZIP/.npz archive");
    const std::size_t entries = detail::read_le(b, eocd + 10, 2, path_, "zip");
    std::size_t cd = detail::read_le(b, eocd + 16, 4, path_, "zip");
    for (std::size_t e = 0; e < entries; ++e) {
      if (detail::read_le(b, cd, 4, path_, "zip") != 0x02014b50u) {
        throw file_error(path_, 0, "zip", "corrupt central directory");
      }
      const auto method = detail::read_le(b, cd + 10, 2, path_, "zip");
      const std::size_t csize = detail::read_le(b, cd + 20, 4, path_, "zip");
      const std::size_t nlen = detail::read_le(b, cd + 28, 2, path_, "zip");
      const std::size_t xlen = detail::read_le(b, cd + 30, 2, path_, "zip");
      const std::size_t clen = detail::read_le(b, cd + 32, 2, path_, "zip");
      const std::size_t local = detail::read_le(b, cd + 42, 4, path_, "zip");
      if (cd + 46 + nlen > b.size()) throw file_error(path_, 0, "zip", "truncated directory");
      std::string name = b.substr(cd + 46, nlen);
      if (method != 0) {
        throw file_error(path_, 0, name,
                         "compressed member (np.savez_compressed) is not supported; "
                         "save with np.savez");
      }
      const std::size_t lnlen = detail::read_le(b, local + 26, 2, path_, "zip");
      const std::size_t lxlen = detail::read_le(b, local + 28, 2, path_, "zip");
      const std::size_t data = local + 30 + lnlen + lxlen;
      if (data + csize > b.size()) throw file_error(path_, 0, name, "truncated member");
      std::string key = name;
      if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) {
        key.resize(key.size() - 4);
      }
      members_.emplace(key, parse_npy(b.substr(data, csize), path_ + "[" + name + "]"));
      cd += 46 + nlen + xlen + clen;
    }
  }

  /// Member names without the ".npy" suffix, sorted.
  [[nodiscard]] std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& [name, a] : members_) k.push_back(name);
    return k;
  }
  [[nodiscard]] bool contains(const std::string& key) const { return members_.count(key) != 0; }

  /// The decoded member `key`. \throws file_error naming the key if absent.
  [[nodiscard]] const npy_array& raw(const std::string& key) const {
    auto it = members_.find(key);
    if (it == members_.end()) throw file_error(path_, 0, key, "no such array in the archive");
    return it->second;
  }
  template <class T>
  [[nodiscard]] xt::xarray<T> array(const std::string& key) const {
    return raw(key).template as<T>();
  }
  [[nodiscard]] std::vector<std::string> strings(const std::string& key) const {
    return raw(key).strings();
  }

 private:
  std::string path_;
  std::map<std::string, npy_array> members_;
};

}  // namespace chempp::io
