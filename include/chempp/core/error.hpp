// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Exception types and argument checks shared by every chempp module.
///
/// Conventions (after Stan Math): every message names the function (or file) and the argument
/// (or line and field) that is wrong and shows the offending value. Library code never prints.
///
/// The taxonomy (docs/errors.md), all derived from `chempp::error`:
/// - `invalid_argument`: the caller's input is wrong (NaN, out of its documented domain, sizes);
/// - `file_error`: a file's content is wrong (with file, line and field);
/// - `numerical_error`: valid input produced a non-finite or non-positive-definite result;
/// - `convergence_error`: an iteration (grid refinement, rejection sampler, step-size search)
///   did not reach its goal within its budget.
/// The library catches `numerical_error` and `convergence_error` where a documented fallback
/// exists (and says so); it never catches its own `invalid_argument` to steer control flow, so
/// an argument bug always reaches the caller. No other exception type escapes a public entry
/// point on bad input (allocation failure of a valid request aside).

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

/// Valid input produced a result that is not finite or not positive definite.
class numerical_error : public error {
 public:
  using error::error;
};

/// An iterative procedure did not converge (or reach its acceptance goal) within its budget.
class convergence_error : public error {
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
