// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Internal helpers shared by the raw yield-table loaders: reading a text file line by line,
/// splitting whitespace-separated tokens and converting them to numbers with `file_error`s that
/// name the file, the 1-based line and the field. Not part of the public API.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/elements/element.hpp"

namespace chempp::yields::detail {

/// One line of a text file with its 1-based number.
struct text_line {
  std::size_t number = 0;
  std::string text;
};

/// All lines of `path`. \throws file_error if the file cannot be opened.
inline std::vector<text_line> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path.string(), 0, "", "cannot open file (missing or unreadable)");
  std::vector<text_line> lines;
  std::string s;
  std::size_t n = 0;
  while (std::getline(in, s)) {
    ++n;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    lines.push_back({n, s});
  }
  return lines;
}

/// Whitespace (blank or tab) separated tokens of `s`.
inline std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i >= s.size()) break;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

/// True for blank lines and lines whose first non-blank character is '#'.
inline bool is_comment_or_blank(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t') continue;
    return c == '#';
  }
  return true;
}

/// Where a number came from, for error messages.
struct field_ref {
  const std::filesystem::path* file;
  std::size_t line;
  std::string field;
};

/// Parses a finite number of type T (float or double) from the whole token.
/// \throws file_error naming file, line and field on malformed text, NaN or infinity.
template <class T>
T parse_number(std::string_view token, const field_ref& at) {
  T value{};
  std::string_view t = token;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  const char* first = t.data();
  const char* last = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range) {
    throw file_error(at.file->string(), at.line, at.field,
                     "number out of range: '" + std::string(token) + "'");
  }
  if (ec != std::errc() || ptr != last || t.empty()) {
    throw file_error(at.file->string(), at.line, at.field,
                     "malformed number: '" + std::string(token) + "'");
  }
  if (std::isnan(value)) throw file_error(at.file->string(), at.line, at.field, "value is NaN");
  if (!std::isfinite(value)) {
    throw file_error(at.file->string(), at.line, at.field, "value is infinite");
  }
  return value;
}

/// Throws file_error unless `value > 0`.
inline void require_positive(double value, const field_ref& at) {
  if (!(value > 0.0)) {
    throw file_error(at.file->string(), at.line, at.field,
                     "must be positive (got " + chempp::detail::format_value(value) + ")");
  }
}

/// Throws file_error unless `value >= 0`.
inline void require_nonnegative(double value, const field_ref& at) {
  if (!(value >= 0.0)) {
    throw file_error(at.file->string(), at.line, at.field,
                     "must be non-negative (got " + chempp::detail::format_value(value) + ")");
  }
}

/// Throws file_error unless `v` is strictly increasing.
template <class Vec>
void require_strictly_increasing(const Vec& v, const field_ref& at) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (!(v[i] > v[i - 1])) {
      throw file_error(at.file->string(), at.line, at.field,
                       "grid is not strictly increasing at entry " + std::to_string(i) + " (" +
                           chempp::detail::format_value(static_cast<double>(v[i - 1])) + " then " +
                           chempp::detail::format_value(static_cast<double>(v[i])) + ")");
    }
  }
}

/// The element with chemical symbol `symbol` (case as in the periodic table).
/// \throws file_error if the symbol is unknown.
inline element element_from_symbol(std::string_view symbol, const field_ref& at) {
  if (!element::is_symbol(symbol)) {
    throw file_error(at.file->string(), at.line, at.field,
                     "unknown element symbol '" + std::string(symbol) + "'");
  }
  return element(symbol);
}

/// `dir/file` (the last folder and the file name) for provenance records, machine independent.
inline std::string source_name(const std::filesystem::path& file) {
  const auto parent = file.parent_path().filename();
  return parent.empty() ? file.filename().generic_string()
                        : (parent / file.filename()).generic_string();
}

/// Shortest decimal text that reads back as `v`, written as Python's repr writes it (fixed
/// notation for 1e-4 <= |v| < 1e16, else scientific): 1.65 -> "1.65", 15 -> "15",
/// 0.0003 -> "0.0003", 1e-05 -> "1e-05". Used for file names and column labels.
inline std::string shortest_repr(double v) {
  char buf[64];
  const double a = std::abs(v);
  const bool sci = a != 0.0 && (a < 1e-4 || a >= 1e16);
  const auto res = std::to_chars(buf, buf + sizeof buf, v,
                                 sci ? std::chars_format::scientific : std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

/// "he" -> "He", "p" -> "P": the capitalisation CHEMPY's Karakas16 loader applies.
inline std::string capitalise_symbol(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') {
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  }
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
  }
  return out;
}

}  // namespace chempp::yields::detail
