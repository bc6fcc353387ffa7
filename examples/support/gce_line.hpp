// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The input-line parser of chempp-gce, shared with its fuzz harness (tests/fuzz/fuzz_gce_line.cpp).
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace chempp_examples {

/// Parses the 6 numbers of one chempp-gce input line (comma or space separated); returns an
/// error message, or nullopt with `out` filled. Rejects NUL bytes, non-numbers, NaN/inf and
/// numbers a double cannot hold (1e-999 is not read as 0).
inline std::optional<std::string> parse_gce_line(const std::string& line, std::array<double, 6>& out) {
  std::size_t count = 0;
  if (const auto nul = line.find('\0'); nul != std::string::npos) {
    return "NUL byte at column " + std::to_string(nul + 1);  // would silently end the line
  }
  const char* p = line.c_str();
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') ++p;
    if (*p == '\0') break;
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(p, &end);
    if (end == p) {
      std::string tok;
      while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') tok += *p++;
      return "not a number: '" + tok + "'";
    }
    if (*end != '\0' && *end != ' ' && *end != '\t' && *end != ',' && *end != '\r') {
      const char* q = p;
      std::string tok;
      while (*q != '\0' && *q != ' ' && *q != '\t' && *q != ',') tok += *q++;
      return "not a number: '" + tok + "'";
    }
    if (errno == ERANGE || !std::isfinite(v)) {
      return "not a finite double: '" + std::string(p, static_cast<std::size_t>(end - p)) + "'";  // 1e-999 is not 0, 1e999 not inf
    }
    if (count == 6) return "more than 6 numbers";
    out[count++] = v;
    p = end;
  }
  if (count != 6) return "expected 6 numbers, got " + std::to_string(count);
  return std::nullopt;
}


}  // namespace chempp_examples
