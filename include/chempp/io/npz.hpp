// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one reader of NumPy `.npy` arrays and uncompressed `.npz` archives (`np.savez`) in chempp:
/// the paper's data files and the CHEMPY yield tables stored as numpy files. Supported: numbers
/// (float32/64, signed and unsigned integers of 1–8 bytes, bool), fixed-width byte (`|S n`) and
/// unicode (`<U n`) strings, structured arrays of numeric fields, C or Fortran order, format
/// versions 1–3. Formats: NumPy NEP 1 ("A simple file format for NumPy arrays") and the PKWARE
/// ZIP application note (stored members only).
///
/// The reader is written for hostile input: the header is parsed by a bounded grammar (no
/// lookups past its end), every declared size and offset is checked against the bytes actually
/// present before anything is allocated, element counts are multiplied with overflow checks, and
/// a number that cannot be represented in the requested type (NaN or 1e300 read as `int`) is an
/// error rather than undefined behaviour. Every malformed input throws `chempp::file_error`
/// naming the file (and archive member) and the field that is wrong.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "chempp/core/compat_xtensor.hpp"
#include "chempp/core/error.hpp"

namespace chempp::io {

/// Limits of the reader (well above anything numpy writes for data of this kind).
struct npy_limits {
  static constexpr std::size_t max_header_bytes = std::size_t{1} << 20;  ///< header dictionary
  static constexpr std::size_t max_dims = 32;                            ///< numpy's NPY_MAXDIMS
  static constexpr std::size_t max_string_width = std::size_t{1} << 20;  ///< characters of S/U
  static constexpr std::size_t max_fields = 4096;  ///< fields of a structured dtype
};

/// One element type: kind ('f', 'i', 'u', 'b', 'S', 'U') and size in bytes.
struct npy_dtype {
  char kind = '?';
  std::size_t size = 0;  ///< bytes per element (4 × characters for 'U')
  [[nodiscard]] bool numeric() const { return kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b'; }
};

/// One field of a structured array.
struct npy_field {
  std::string name;
  std::string descr;  ///< e.g. "<f8"
  npy_dtype type;
  std::size_t offset = 0;  ///< byte offset within a record
};

namespace detail {

[[noreturn]] inline void npy_fail(const std::string& source, const std::string& field, const std::string& what) {
  throw file_error(source, 0, field, what);
}

/// a·b, or a file_error when it does not fit in size_t.
inline std::size_t checked_mul(std::size_t a, std::size_t b, const std::string& source, const char* field) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) npy_fail(source, field, "declared size overflows");
  return a * b;
}
/// a+b, or a file_error when it does not fit in size_t.
inline std::size_t checked_add(std::size_t a, std::size_t b, const std::string& source, const char* field) {
  if (b > std::numeric_limits<std::size_t>::max() - a) npy_fail(source, field, "offset overflows");
  return a + b;
}

/// Parses a dtype string such as "<f8", "|b1", "<U2", "|S5".
inline npy_dtype parse_dtype(const std::string& d, const std::string& source, const std::string& field) {
  if (d.size() < 3) npy_fail(source, field, "malformed dtype '" + d + "'");
  if (d[0] == '>') npy_fail(source, field, "big-endian dtype '" + d + "' is not supported");
  if (d[0] != '<' && d[0] != '|' && d[0] != '=') npy_fail(source, field, "malformed dtype '" + d + "'");
  npy_dtype t;
  t.kind = d[1];
  std::size_t n = 0;
  const char* first = d.data() + 2;
  const char* last = d.data() + d.size();
  const auto [ptr, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || ptr != last) npy_fail(source, field, "malformed dtype '" + d + "'");
  switch (t.kind) {
    case 'f':
      if (n != 4 && n != 8) npy_fail(source, field, "unsupported float dtype '" + d + "'");
      t.size = n;
      break;
    case 'i':
    case 'u':
      if (n != 1 && n != 2 && n != 4 && n != 8) npy_fail(source, field, "unsupported integer dtype '" + d + "'");
      t.size = n;
      break;
    case 'b':
      if (n != 1) npy_fail(source, field, "unsupported bool dtype '" + d + "'");
      t.size = 1;
      break;
    case 'S':
    case 'U':
      if (n == 0 || n > npy_limits::max_string_width) {
        npy_fail(source, field, "string width in dtype '" + d + "' must lie in [1, " +
                                    std::to_string(npy_limits::max_string_width) + "]");
      }
      t.size = t.kind == 'U' ? 4 * n : n;
      break;
    default:
      npy_fail(source, field, "unsupported dtype '" + d + "'");
  }
  return t;
}

/// An integer of `size` bytes at `p`, of the signed (S) or unsigned family, as a double.
template <bool Signed>
double read_integer_as_double(std::size_t size, const char* p) {
  auto get = [p](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return static_cast<double>(v);
  };
  using I8 = std::conditional_t<Signed, std::int8_t, std::uint8_t>;
  using I16 = std::conditional_t<Signed, std::int16_t, std::uint16_t>;
  using I32 = std::conditional_t<Signed, std::int32_t, std::uint32_t>;
  using I64 = std::conditional_t<Signed, std::int64_t, std::uint64_t>;
  switch (size) {
    case 1: return get(I8{});
    case 2: return get(I16{});
    case 4: return get(I32{});
    default: return get(I64{});
  }
}

/// One element of a numeric dtype at `p` as a double (exact for integers up to 2^53; wider
/// integers are converted exactly by `convert_element`).
inline double read_number(const npy_dtype& t, const char* p) {
  switch (t.kind) {
    case 'f': {
      if (t.size == 4) {
        float v;
        std::memcpy(&v, p, 4);
        return v;
      }
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case 'i': return read_integer_as_double<true>(t.size, p);
    case 'u': return read_integer_as_double<false>(t.size, p);
    default: return *p != 0 ? 1.0 : 0.0;  // 'b'
  }
}

/// Converts one stored element to T. Floating T: any number (floats keep NaN/inf, which the
/// caller validates). Integral T: the value must be finite, integral and representable.
template <class T>
T convert_element(const npy_dtype& t, const char* p, const std::string& source, std::size_t index) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(read_number(t, p));
  } else {
    static_assert(std::is_integral_v<T>, "npy_array::as<T>: T must be a floating-point or integral type");
    // exact integer paths first (64-bit values do not survive a trip through double)
    if (t.kind == 'i' && t.size == 8) {
      std::int64_t v;
      std::memcpy(&v, p, 8);
      if (std::in_range<T>(v)) return static_cast<T>(v);
    } else if (t.kind == 'u' && t.size == 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      if (std::in_range<T>(v)) return static_cast<T>(v);
    } else {
      const double v = read_number(t, p);
      if (std::isfinite(v) && v == std::trunc(v) && v >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
          v <= static_cast<double>(std::numeric_limits<T>::max()) &&
          // max() of 64-bit types rounds up to 2^63 / 2^64 in double: exclude the bound itself
          !(sizeof(T) == 8 && v == static_cast<double>(std::numeric_limits<T>::max()))) {
        return static_cast<T>(v);
      }
      std::ostringstream os;
      os.precision(17);
      os << "element " << index << " (" << v << ") is not representable as the requested integer type";
      npy_fail(source, "data", os.str());
    }
    npy_fail(source, "data", "element " + std::to_string(index) + " is out of the requested integer type's range");
  }
}

/// A bounded recursive-descent parser of the `.npy` header, a Python dict literal:
/// `{'descr': <str or [(name, str), …]>, 'fortran_order': <True|False>, 'shape': (<int>, …)}`.
class npy_header_parser {
 public:
  npy_header_parser(std::string_view s, const std::string& source) : s_(s), source_(source) {}

  struct result {
    std::string descr;
    std::vector<npy_field> fields;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
  };

  result parse() {
    result r;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{', "header");
    while (true) {
      ws();
      if (eat('}')) break;
      const std::string key = quoted("header");
      ws();
      expect(':', key);
      ws();
      if (key == "descr") {
        if (have_descr) fail(key, "appears twice in the header");
        have_descr = true;
        if (peek() == '[') {
          r.fields = structured();
        } else {
          r.descr = quoted(key);
        }
      } else if (key == "fortran_order") {
        if (have_order) fail(key, "appears twice in the header");
        have_order = true;
        r.fortran_order = boolean(key);
      } else if (key == "shape") {
        if (have_shape) fail(key, "appears twice in the header");
        have_shape = true;
        r.shape = int_tuple(key);
      } else {
        fail(key, "unknown key '" + key + "' in the .npy header");
      }
      ws();
      if (eat(',')) continue;
      ws();
      expect('}', "header");
      break;
    }
    // numpy pads the header with spaces and ends it with a newline
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\0') fail("header", "text after the header dictionary");
    }
    if (!have_descr) fail("descr", "missing from the .npy header");
    if (!have_order) fail("fortran_order", "missing from the .npy header");
    if (!have_shape) fail("shape", "missing from the .npy header");
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const { npy_fail(source_, field, what); }
  [[nodiscard]] char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    if (peek() != c || i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  void expect(char c, const std::string& field) {
    if (!eat(c)) fail(field, std::string("malformed .npy header: expected '") + c + "'");
  }
  std::string quoted(const std::string& field) {
    const char q = peek();
    if (q != '\'' && q != '"') fail(field, "malformed .npy header: expected a quoted string");
    ++i_;
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') fail(field, "escape sequences are not supported in .npy headers");
      ++i_;
    }
    if (i_ >= s_.size()) fail(field, "unterminated string in the .npy header");
    return std::string(s_.substr(start, i_++ - start));
  }
  bool boolean(const std::string& field) {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    fail(field, "must be True or False");
  }
  std::size_t integer(const std::string& field) {
    std::size_t v = 0;
    const char* first = s_.data() + i_;
    const char* last = s_.data() + s_.size();
    const auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr == first) fail(field, "malformed integer in the .npy header");
    i_ += static_cast<std::size_t>(ptr - first);
    if (peek() == 'L') ++i_;  // Python 2 long suffix
    return v;
  }
  std::vector<std::size_t> int_tuple(const std::string& field) {
    expect('(', field);
    std::vector<std::size_t> v;
    while (true) {
      ws();
      if (eat(')')) break;
      if (v.size() == npy_limits::max_dims) fail(field, "more than " + std::to_string(npy_limits::max_dims) + " dimensions");
      v.push_back(integer(field));
      ws();
      if (eat(',')) continue;
      expect(')', field);
      break;
    }
    return v;
  }
  std::vector<npy_field> structured() {
    expect('[', "descr");
    std::vector<npy_field> f;
    std::size_t offset = 0;
    while (true) {
      ws();
      if (eat(']')) break;
      if (f.size() == npy_limits::max_fields) fail("descr", "more than " + std::to_string(npy_limits::max_fields) + " fields");
      expect('(', "descr");
      ws();
      npy_field fld;
      fld.name = quoted("descr");
      ws();
      expect(',', "descr");
      ws();
      if (peek() == '[') fail(fld.name, "nested structured dtypes are not supported");
      fld.descr = quoted(fld.name);
      fld.type = parse_dtype(fld.descr, source_, fld.name);
      if (!fld.type.numeric()) fail(fld.name, "structured fields must be numeric, got '" + fld.descr + "'");
      ws();
      if (eat(',')) {
        ws();
        if (!eat(')')) fail(fld.name, "sub-array fields are not supported");
      } else {
        expect(')', fld.name);
      }
      for (const auto& g : f) {
        if (g.name == fld.name) fail(fld.name, "field '" + fld.name + "' appears twice");
      }
      fld.offset = offset;
      offset = checked_add(offset, fld.type.size, source_, "descr");
      f.push_back(std::move(fld));
      ws();
      if (eat(',')) continue;
      ws();
      expect(']', "descr");
      break;
    }
    if (f.empty()) fail("descr", "structured dtype without fields");
    return f;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  const std::string& source_;
};

inline std::uint32_t read_le(const std::string& b, std::size_t off, std::size_t n, const std::string& source,
                             const char* what) {
  if (off > b.size() || n > b.size() - off) throw file_error(source, 0, what, "truncated");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[off + i])) << (8 * i);
  }
  return v;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path.string(), 0, "", "cannot open file (missing or unreadable)");
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw file_error(path.string(), 0, "", "read error");
  return os.str();
}

}  // namespace detail

/// One decoded `.npy` array: dtype, shape, storage order and the raw bytes. Built by `parse_npy`,
/// which guarantees `bytes.size() == count() * item_size()`.
struct npy_array {
  std::string source;              ///< file (and member) it came from, for messages
  std::string descr;               ///< NumPy dtype string ("<f4", "<U2", "|b1"); empty if structured
  std::vector<npy_field> fields;   ///< structured arrays: the fields, in record order
  std::vector<std::size_t> shape;  ///< empty for a scalar
  bool fortran_order = false;
  std::string bytes;               ///< raw data

  /// Number of elements (records for structured arrays; 1 for a scalar).
  /// \throws file_error if the product of the shape overflows.
  [[nodiscard]] std::size_t count() const {
    std::size_t n = 1;
    for (auto s : shape) n = detail::checked_mul(n, s, source, "shape");
    return n;
  }

  /// Bytes per element (per record for structured arrays).
  [[nodiscard]] std::size_t item_size() const {
    if (!fields.empty()) return fields.back().offset + fields.back().type.size;
    return detail::parse_dtype(descr, source, "descr").size;
  }
  [[nodiscard]] bool structured() const { return !fields.empty(); }

  /// The field names of a structured array, in record order.
  [[nodiscard]] std::vector<std::string> field_names() const {
    std::vector<std::string> n;
    for (const auto& f : fields) n.push_back(f.name);
    return n;
  }

  /// Field `name` of a structured array converted to T, one value per record, C order.
  /// \throws file_error if there is no such field.
  template <class T = double>
  [[nodiscard]] std::vector<T> field(const std::string& name) const {
    for (const auto& f : fields) {
      if (f.name != name) continue;
      const std::size_t n = count(), rec = item_size();
      std::vector<T> out(n);
      for (std::size_t r = 0; r < n; ++r) {
        out[r] = detail::convert_element<T>(f.type, bytes.data() + r * rec + f.offset, source, r);
      }
      return c_order(out);
    }
    throw file_error(source, 0, name, "structured array has no field '" + name + "'");
  }

  /// The numbers converted to T, flattened in C (row-major) order.
  /// \throws file_error for string or structured dtypes, or (integral T) a value that T cannot
  ///         represent.
  template <class T>
  [[nodiscard]] std::vector<T> values() const {
    if (structured()) throw file_error(source, 0, "descr", "structured array: read it with field(name)");
    const auto t = detail::parse_dtype(descr, source, "descr");
    if (!t.numeric()) throw file_error(source, 0, "descr", "dtype '" + descr + "' cannot be converted to a number");
    const std::size_t n = count();
    std::vector<T> flat(n);
    for (std::size_t i = 0; i < n; ++i) flat[i] = detail::convert_element<T>(t, bytes.data() + i * t.size, source, i);
    return c_order(flat);
  }

  /// `values<double>()`.
  [[nodiscard]] std::vector<double> doubles() const { return values<double>(); }

  /// The numbers converted to T with the stored shape, in C order.
  template <class T>
  [[nodiscard]] xt::xarray<T> as() const {
    std::vector<T> flat = values<T>();
    return xt::xarray<T>(xt::adapt(flat, shape));
  }

  /// The elements of a string array (`|S<n>` bytes or `<U<n>` UTF-32, ASCII content), trailing
  /// NULs removed, C order.
  [[nodiscard]] std::vector<std::string> strings() const {
    if (structured()) throw file_error(source, 0, "descr", "structured array is not a string array");
    const auto t = detail::parse_dtype(descr, source, "descr");
    if (t.kind != 'S' && t.kind != 'U') {
      throw file_error(source, 0, "descr", "dtype '" + descr + "' is not a string type");
    }
    const std::size_t n = count(), sz = t.size;
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string s;
      const char* e = bytes.data() + i * sz;
      if (t.kind == 'S') {
        s.assign(e, strnlen(e, sz));
      } else {
        for (std::size_t c = 0; c < sz / 4; ++c) {
          std::uint32_t cp;
          std::memcpy(&cp, e + 4 * c, 4);
          if (cp == 0) break;
          if (cp > 127) throw file_error(source, 0, "data", "non-ASCII character in string " + std::to_string(i));
          s.push_back(static_cast<char>(cp));
        }
      }
      out.push_back(std::move(s));
    }
    return c_order(out);
  }

 private:
  /// Reorders a flat vector stored in Fortran order to C order (no-op for C order or ≤ 1-D).
  template <class V>
  [[nodiscard]] V c_order(V flat) const {
    if (!fortran_order || shape.size() < 2) return flat;
    V out(flat.size());
    const std::size_t d = shape.size();
    std::vector<std::size_t> idx(d, 0);
    for (std::size_t c = 0; c < flat.size(); ++c) {
      // c is the C-order position of idx; its Fortran-order position is Σ idx_k · Π_{j<k} shape_j
      std::size_t f = 0, stride = 1;
      for (std::size_t k = 0; k < d; ++k) {
        f += idx[k] * stride;
        stride *= shape[k];
      }
      out[c] = std::move(flat[f]);
      for (std::size_t k = d; k-- > 0;) {
        if (++idx[k] < shape[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }
};

/// Decodes the bytes of one `.npy` file. `source` names it in error messages.
/// \throws file_error on a bad magic string, a malformed header, sizes that do not match the
///         payload, or an unsupported dtype.
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
  if (hlen > npy_limits::max_header_bytes) throw file_error(source, 0, "header_len", "header longer than 1 MiB");
  if (hlen > b.size() - hoff) throw file_error(source, 0, "header", "truncated header");
  const std::string_view header(b.data() + hoff, hlen);
  auto h = detail::npy_header_parser(header, source).parse();
  npy_array a;
  a.source = source;
  a.fortran_order = h.fortran_order;
  a.shape = std::move(h.shape);
  a.fields = std::move(h.fields);
  if (a.fields.empty()) {
    (void)detail::parse_dtype(h.descr, source, "descr");  // validates
    a.descr = std::move(h.descr);
  }
  // xtensor computes (signed) strides as products of the trailing sizes: those must fit even when
  // another size is 0 and the array is empty (shape (0, 2^32, 2^33, …) overflowed them)
  std::size_t extent = 1;
  for (auto s : a.shape)
    if (s != 0) extent = detail::checked_mul(extent, s, source, "shape");
  if (extent > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()))
    detail::npy_fail(source, "shape", "declared size overflows");
  const std::size_t data_off = hoff + hlen;
  const std::size_t need = detail::checked_mul(a.count(), a.item_size(), source, "shape");
  if (b.size() - data_off != need) {
    throw file_error(source, 0, "data",
                     "holds " + std::to_string(b.size() - data_off) + " bytes, the header declares " +
                         std::to_string(need));
  }
  a.bytes = b.substr(data_off, need);
  return a;
}

/// Reads a `.npy` file.
inline npy_array read_npy(const std::filesystem::path& path) { return parse_npy(detail::read_file(path), path.string()); }

/// Loads a `.npy` file as numbers of type T.
template <class T>
xt::xarray<T> load_npy(const std::filesystem::path& path) {
  return read_npy(path).template as<T>();
}

/// An uncompressed `.npz` archive (as written by `np.savez`), read into memory at construction.
/// Every member must be a stored (uncompressed) `.npy` file; member names are unique.
class npz_file {
 public:
  /// \throws file_error if the file is missing, not a ZIP archive, has a compressed, encrypted,
  ///         zip64 or duplicate member, or any member is not a valid `.npy` array.
  explicit npz_file(const std::filesystem::path& path) : path_(path.string()) { parse(detail::read_file(path)); }

  /// Decodes an archive held in memory; `source` names it in messages.
  static npz_file from_bytes(const std::string& bytes, std::string source) {
    npz_file f;
    f.path_ = std::move(source);
    f.parse(bytes);
    return f;
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
  [[nodiscard]] std::vector<std::string> strings(const std::string& key) const { return raw(key).strings(); }

 private:
  npz_file() = default;

  void parse(const std::string& b) {
    const std::string& src = path_;
    auto fail = [&](const std::string& field, const std::string& what) { throw file_error(src, 0, field, what); };
    auto u16 = [&](std::size_t off) -> std::size_t { return detail::read_le(b, off, 2, src, "zip"); };
    auto u32 = [&](std::size_t off) -> std::size_t { return detail::read_le(b, off, 4, src, "zip"); };
    // End of central directory record: signature 0x06054b50 within the last 64 KiB + 22 bytes.
    if (b.size() < 22) fail("zip", "not a ZIP/.npz archive (too short)");
    std::size_t eocd = std::string::npos;
    const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
    for (std::size_t p = b.size() - 22 + 1; p-- > lowest;) {
      if (u32(p) == 0x06054b50u) {
        eocd = p;
        break;
      }
    }
    if (eocd == std::string::npos) fail("zip", "not a ZIP/.npz archive");
    const std::size_t disk = u16(eocd + 4);
    const std::size_t cd_disk = u16(eocd + 6);
    const std::size_t entries_here = u16(eocd + 8);
    const std::size_t entries = u16(eocd + 10);
    const std::size_t cd_size = u32(eocd + 12);
    const std::size_t cd_off = u32(eocd + 16);
    if (disk != 0 || cd_disk != 0 || entries_here != entries) fail("zip", "multi-volume archives are not supported");
    if (entries == 0xffff || cd_off == 0xffffffffu || cd_size == 0xffffffffu) fail("zip", "zip64 archives are not supported");
    if (cd_off > eocd || cd_size > eocd - cd_off) fail("zip", "central directory lies outside the archive");
    const std::size_t cd_end = cd_off + cd_size;
    std::size_t cd = cd_off;
    for (std::size_t e = 0; e < entries; ++e) {
      if (cd > cd_end || cd_end - cd < 46) fail("zip", "central directory shorter than its " + std::to_string(entries) + " entries");
      if (u32(cd) != 0x02014b50u) fail("zip", "corrupt central directory");
      const std::size_t flags = u16(cd + 8);
      const std::size_t method = u16(cd + 10);
      const std::size_t csize = u32(cd + 20);
      const std::size_t usize = u32(cd + 24);
      const std::size_t nlen = u16(cd + 28);
      const std::size_t xlen = u16(cd + 30);
      const std::size_t clen = u16(cd + 32);
      const std::size_t local = u32(cd + 42);
      const std::size_t entry_len = 46 + nlen + xlen + clen;
      if (cd_end - cd < entry_len) fail("zip", "truncated central directory");
      const std::string name = b.substr(cd + 46, nlen);
      if (name.empty()) fail("zip", "member without a name");
      if ((flags & 0x1u) != 0) fail(name, "encrypted member is not supported");
      if (method != 0) fail(name, "compressed member (np.savez_compressed) is not supported; save with np.savez");
      if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu) fail(name, "zip64 member is not supported");
      if (csize != usize) fail(name, "stored member whose compressed and uncompressed sizes differ");
      if (local > cd_off || cd_off - local < 30) fail(name, "local header lies outside the archive's data");
      if (u32(local) != 0x04034b50u) fail(name, "corrupt local header");
      const std::size_t lnlen = u16(local + 26);
      const std::size_t lxlen = u16(local + 28);
      const std::size_t data = local + 30 + lnlen + lxlen;  // ≤ 2^32 + 2^17: no overflow
      if (data > cd_off || csize > cd_off - data) fail(name, "truncated member");
      if (b.compare(local + 30, lnlen, name) != 0) fail(name, "local and central names differ");
      std::string key = name;
      if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
      if (members_.count(key) != 0) fail(name, "duplicate member '" + key + "' in the archive");
      members_.emplace(key, parse_npy(b.substr(data, csize), path_ + "[" + name + "]"));
      cd += entry_len;
    }
  }

  std::string path_;
  std::map<std::string, npy_array> members_;
};

}  // namespace chempp::io
