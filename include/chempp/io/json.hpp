// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one JSON reading layer of chempp (emulator weights, flows, model bundles, yield tables).
///
/// `parse_json` reads text in two passes. A SAX pass (nlohmann's iterative parser, no recursion)
/// rejects what the DOM would accept silently or choke on: nesting deeper than
/// `json_limits::max_depth`, numbers that overflow a double (`1e400` becomes infinity in the
/// lexer), and duplicate keys in an object (nlohmann keeps one of them without a word). Then the
/// DOM is built. Syntax errors become `file_error`s with the line number.
///
/// `json_reader` reads fields of a parsed value: every accessor checks the JSON type, the range
/// of integers (before anything is allocated from them) and the finiteness of numbers, so no
/// nlohmann exception (`type_error`, `out_of_range`) can escape; each failure is a `file_error`
/// naming the file and the JSON path of the field. `check_keys` rejects unknown keys, so a
/// misspelt optional field (`input_standardisation`) is an error instead of being ignored.
/// `rethrow_foreign` converts what remains possible from third-party code (allocation failures
/// and nlohmann exceptions) into `file_error`s naming the file.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <new>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chempp/core/compat_eigen.hpp"
#include "chempp/core/error.hpp"

namespace chempp::io {

/// Limits of the JSON reader.
struct json_limits {
  static constexpr std::size_t max_depth = 64;  ///< nesting of arrays and objects
};

namespace detail {

/// 1-based line of byte `pos` in `text`.
inline std::size_t line_of(const std::string& text, std::size_t pos) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

/// SAX handler of the validation pass.
template <class Json>
class json_validator {
 public:
  using number_integer_t = typename Json::number_integer_t;
  using number_unsigned_t = typename Json::number_unsigned_t;
  using number_float_t = typename Json::number_float_t;
  using string_t = typename Json::string_t;
  using binary_t = typename Json::binary_t;

  json_validator(const std::string& source, const std::string& text) : source_(source), text_(text) {}

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(number_integer_t) { return true; }
  bool number_unsigned(number_unsigned_t) { return true; }
  bool number_float(number_float_t v, const string_t& literal) {
    if (!std::isfinite(v)) fail("number " + literal + " does not fit in a double");
    return true;
  }
  bool string(string_t&) { return true; }
  bool binary(binary_t&) { return true; }
  bool start_object(std::size_t) { return open(); }
  bool key(string_t& k) {
    if (!stack_.back().insert(k).second) fail("key \"" + k + "\" appears twice in one object");
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(); }
  bool end_array() { return close(); }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string&, const Exception& e) {
    throw file_error(source_, line_of(text_, position), "", std::string("invalid JSON: ") + e.what());
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw file_error(source_, 0, path(), what); }
  bool open() {
    if (stack_.size() >= json_limits::max_depth) {
      fail("nested deeper than " + std::to_string(json_limits::max_depth) + " levels");
    }
    stack_.emplace_back();  // arrays get an (unused) key set too: one stack, one depth
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }
  [[nodiscard]] std::string path() const { return "depth " + std::to_string(stack_.size()); }

  const std::string& source_;
  const std::string& text_;
  std::vector<std::set<string_t>> stack_;  // keys seen in each open object (one entry per level)
};

}  // namespace detail

/// Parses JSON `text`; `source` names it in messages.
/// \throws file_error on a syntax error (with its line), nesting deeper than
///         `json_limits::max_depth`, a number that overflows a double, or a duplicate key.
template <class Json = nlohmann::json>
[[nodiscard]] Json parse_json(const std::string& text, const std::string& source) {
  detail::json_validator<Json> v(source, text);
  try {
    Json::sax_parse(text, &v);
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // not expected after validation
    throw file_error(source, 0, "", std::string("invalid JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw file_error(source, 0, "", "JSON document too large for the available memory");
  }
}

/// Reads and parses the JSON file `path` (see `parse_json`).
/// \throws file_error if the file cannot be read or is not valid JSON.
template <class Json = nlohmann::json>
[[nodiscard]] Json read_json_file(const std::filesystem::path& path, std::string_view hint = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw file_error(path.string(), 0, "",
                     "cannot open (missing or unreadable)" + (hint.empty() ? std::string() : "; " + std::string(hint)));
  }
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw file_error(path.string(), 0, "", "read error");
  return parse_json<Json>(os.str(), path.string());
}

/// Calls `f()`; converts a foreign exception escaping it (nlohmann's, `std::bad_alloc`,
/// `std::length_error`) into a `file_error` naming `source`. chempp's own errors pass through.
template <class F>
decltype(auto) rethrow_foreign(const std::string& source, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const chempp::error&) {
    throw;
  } catch (const nlohmann::json::exception& e) {
    throw file_error(source, 0, "", std::string("malformed content: ") + e.what());
  } catch (const std::bad_alloc&) {
    throw file_error(source, 0, "", "declared sizes exceed the available memory");
  } catch (const std::length_error& e) {
    throw file_error(source, 0, "", std::string("declared size too large: ") + e.what());
  }
}

/// Typed, range-checked access to the fields of a parsed JSON value. `Json` is
/// `nlohmann::json` or `nlohmann::ordered_json`. Paths are written `a.b[3].c`; the root is "".
template <class Json = nlohmann::json>
struct basic_json_reader {
  std::string file;  ///< named in every error

  [[noreturn]] void fail(const std::string& field, const std::string& what) const { throw file_error(file, 0, field, what); }

  /// `parent.key` (or `key` at the root).
  [[nodiscard]] static std::string join(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
  }
  [[nodiscard]] static std::string index(const std::string& parent, std::size_t i) {
    return parent + "[" + std::to_string(i) + "]";
  }

  /// Member `key` of the object `j` (whose path is `parent`). \throws if `j` is not an object
  /// or has no such member.
  const Json& member(const Json& j, std::string_view key, const std::string& parent) const {
    if (!j.is_object()) fail(parent, std::string("expected an object, got ") + j.type_name());
    auto it = j.find(std::string(key));
    if (it == j.end()) fail(join(parent, key), "missing");
    return *it;
  }
  /// Member `key` of `j`, or nullptr when absent (`j` must be an object).
  const Json* optional(const Json& j, std::string_view key, const std::string& parent) const {
    if (!j.is_object()) fail(parent, std::string("expected an object, got ") + j.type_name());
    auto it = j.find(std::string(key));
    return it == j.end() ? nullptr : &*it;
  }
  /// Fails on any key of the object `j` not in `allowed`.
  void check_keys(const Json& j, const std::string& parent, std::initializer_list<std::string_view> allowed) const {
    if (!j.is_object()) fail(parent, std::string("expected an object, got ") + j.type_name());
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool ok = false;
      for (auto a : allowed) ok = ok || it.key() == a;
      if (!ok) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(join(parent, it.key()), "unknown key (expected one of: " + list + ")");
      }
    }
  }
  /// A finite number.
  double number(const Json& j, const std::string& field) const {
    if (!j.is_number()) fail(field, std::string("expected a number, got ") + j.type_name());
    const double v = j.template get<double>();
    if (!std::isfinite(v)) fail(field, "not finite");
    return v;
  }
  /// An integer in [lo, hi] (checked before any conversion, so 2^32 + 1 is not read as 1).
  std::int64_t integer(const Json& j, const std::string& field, std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                       std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const {
    std::int64_t v = 0;
    if (j.is_number_unsigned()) {
      const auto u = j.template get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) fail(field, "integer " + j.dump() + " out of range");
      v = static_cast<std::int64_t>(u);
    } else if (j.is_number_integer()) {
      v = j.template get<std::int64_t>();
    } else {
      fail(field, std::string("expected an integer, got ") + j.type_name() + (j.is_number() ? " " + j.dump() : ""));
    }
    if (v < lo || v > hi) {
      fail(field, "must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
    }
    return v;
  }
  /// An unsigned 64-bit integer (seeds).
  std::uint64_t unsigned_integer(const Json& j, const std::string& field) const {
    if (j.is_number_unsigned()) return j.template get<std::uint64_t>();
    if (j.is_number_integer() && j.template get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(j.template get<std::int64_t>());
    fail(field, std::string("expected a non-negative integer, got ") + j.type_name());
  }
  std::string string(const Json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, std::string("expected a string, got ") + j.type_name());
    return j.template get<std::string>();
  }
  bool boolean(const Json& j, const std::string& field) const {
    if (!j.is_boolean()) fail(field, std::string("expected true or false, got ") + j.type_name());
    return j.template get<bool>();
  }
  std::vector<std::string> strings(const Json& j, const std::string& field) const {
    if (!j.is_array()) fail(field, std::string("expected an array of strings, got ") + j.type_name());
    std::vector<std::string> out;
    for (std::size_t i = 0; i < j.size(); ++i) out.push_back(string(j[i], index(field, i)));
    return out;
  }
  /// An array of exactly `n` finite numbers.
  std::vector<double> numbers(const Json& j, const std::string& field, std::size_t n) const {
    if (!j.is_array()) fail(field, std::string("expected an array of numbers, got ") + j.type_name());
    if (j.size() != n) fail(field, "expected " + std::to_string(n) + " values, got " + std::to_string(j.size()));
    std::vector<double> r(n);
    for (std::size_t i = 0; i < n; ++i) r[i] = number(j[i], index(field, i));
    return r;
  }
  /// An array of rows of `width` finite numbers each (any number of rows).
  std::vector<std::vector<double>> rows(const Json& j, const std::string& field, std::size_t width) const {
    if (!j.is_array()) fail(field, std::string("expected an array of rows, got ") + j.type_name());
    std::vector<std::vector<double>> r;
    r.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) r.push_back(numbers(j[i], index(field, i), width));
    return r;
  }
  Eigen::VectorXd vector(const Json& j, const std::string& field, Eigen::Index n) const {
    const auto v = numbers(j, field, static_cast<std::size_t>(n));
    return Eigen::Map<const Eigen::VectorXd>(v.data(), n);
  }
  /// An `r` × `c` matrix stored as an array of rows.
  Eigen::MatrixXd matrix(const Json& j, const std::string& field, Eigen::Index r, Eigen::Index c) const {
    if (!j.is_array() || static_cast<Eigen::Index>(j.size()) != r) fail(field, "must be an array of " + std::to_string(r) + " rows");
    Eigen::MatrixXd m(r, c);
    for (Eigen::Index i = 0; i < r; ++i) {
      const auto row = numbers(j[static_cast<std::size_t>(i)], index(field, static_cast<std::size_t>(i)), static_cast<std::size_t>(c));
      for (Eigen::Index k = 0; k < c; ++k) m(i, k) = row[static_cast<std::size_t>(k)];
    }
    return m;
  }
  /// A non-empty array of rows of `c` numbers (any number of rows).
  Eigen::MatrixXd rows_any(const Json& j, const std::string& field, Eigen::Index c) const {
    if (!j.is_array() || j.empty()) fail(field, "must be a non-empty array of rows");
    return matrix(j, field, static_cast<Eigen::Index>(j.size()), c);
  }
};

using json_reader = basic_json_reader<nlohmann::json>;

}  // namespace chempp::io
