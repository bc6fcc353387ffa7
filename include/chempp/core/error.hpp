// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Exception types and argument checks shared by every chempp module.
///
/// Conventions (after Stan Math): every message names the function (or file) and the argument
/// (or line and field) that is wrong and shows the offending value. Library code never prints.

#include <cmath>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chempp {

/// Base class of every exception thrown by chempp.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A function argument is invalid (NaN, infinite, out of its documented range, wrong size).
class invalid_argument : public error {
 public:
  using error::error;
};

/// A data file (yield table, weight file, catalogue) is missing or malformed.
/// `file()`, `line()` (1-based, 0 when not applicable) and `field()` say where.
class file_error : public error {
 public:
  file_error(std::string file, std::size_t line, std::string field, const std::string& what)
      : error(compose(file, line, field, what)),
        file_(std::move(file)),
        line_(line),
        field_(std::move(field)) {}

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

 private:
  static std::string compose(const std::string& file, std::size_t line, const std::string& field,
                             const std::string& what) {
    std::ostringstream os;
    os << file;
    if (line > 0) os << ':' << line;
    if (!field.empty()) os << ": field '" << field << '\'';
    os << ": " << what;
    return os.str();
  }
  std::string file_;
  std::size_t line_;
  std::string field_;
};

namespace detail {

/// Formats a double with full round-trip precision for error messages.
inline std::string format_value(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

[[noreturn]] inline void throw_argument(std::string_view function, std::string_view argument,
                                        std::string_view problem, double value) {
  std::string msg;
  msg.append(function).append(": ").append(argument).append(" ").append(problem);
  msg.append(" (got ").append(format_value(value)).append(")");
  throw invalid_argument(msg);
}

}  // namespace detail

/// Throws `invalid_argument` unless `value` is finite.
inline void check_finite(std::string_view function, std::string_view argument, double value) {
  if (std::isnan(value)) detail::throw_argument(function, argument, "is NaN", value);
  if (!std::isfinite(value)) detail::throw_argument(function, argument, "is infinite", value);
}

/// Throws `invalid_argument` unless `lo <= value <= hi` (and finite).
inline void check_in_closed(std::string_view function, std::string_view argument, double value,
                            double lo, double hi) {
  check_finite(function, argument, value);
  if (value < lo || value > hi) {
    detail::throw_argument(function, argument,
                           "must lie in [" + detail::format_value(lo) + ", " +
                               detail::format_value(hi) + "]",
                           value);
  }
}

/// Throws `invalid_argument` unless `value > 0` (and finite).
inline void check_positive(std::string_view function, std::string_view argument, double value) {
  check_finite(function, argument, value);
  if (!(value > 0.0)) detail::throw_argument(function, argument, "must be positive", value);
}

/// Throws `invalid_argument` unless `value >= 0` (and finite).
inline void check_nonnegative(std::string_view function, std::string_view argument,
                              double value) {
  check_finite(function, argument, value);
  if (!(value >= 0.0)) detail::throw_argument(function, argument, "must be non-negative", value);
}

}  // namespace chempp
