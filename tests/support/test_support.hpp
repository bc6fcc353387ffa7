// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Shared helpers for chempp's tests: where the reference data live, seeded generators that
/// print their seed, and worst-error trackers (SpECTRE style: capture the worst case, then
/// assert once, so a failure reports the case that broke the tolerance).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>

namespace chempp::test {

/// `../shared` beside the checkout (configurable with -DCHEMPP_SHARED_DIR), if present.
inline std::optional<std::filesystem::path> shared_dir() {
  std::filesystem::path p(CHEMPP_SHARED_DIR);
  if (std::filesystem::exists(p / "data")) return p;
  return std::nullopt;
}

/// A file under `shared/`, or nullopt with a doctest MESSAGE saying the check is skipped.
inline std::optional<std::filesystem::path> shared_file(const std::string& relative) {
  auto d = shared_dir();
  if (!d || !std::filesystem::exists(*d / relative)) {
    MESSAGE("SKIPPED: " << relative << " not found under " << CHEMPP_SHARED_DIR
                        << " (reference data absent; check skipped)");
    return std::nullopt;
  }
  return *d / relative;
}

/// The message of the `E` that `f()` throws, or an empty string if it throws nothing (another
/// exception type propagates). For comparing error texts, e.g. `thrown_message<chempp::invalid_argument>(...)`.
template <class E, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return {};
}

/// The repository root (for data shipped in the repo).
inline std::filesystem::path source_dir() { return std::filesystem::path(CHEMPP_SOURCE_DIR); }

/// Reads a whole file into a string.
inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A seeded engine; the seed is printed (and can be overridden with CHEMPP_TEST_SEED).
inline std::mt19937_64 seeded_rng(std::uint64_t default_seed) {
  std::uint64_t seed = default_seed;
  if (const char* s = std::getenv("CHEMPP_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  MESSAGE("random seed: " << seed);
  return std::mt19937_64(seed);
}

/// Relative error |a - b| / max(|a|, |b|, 1e-8) (the mlpack convention for gradient checks).
inline double rel_err(double a, double b) { return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-8}); }

/// Tracks the worst absolute error and where it occurred.
struct worst_error {
  double value = 0.0;
  std::string where;
  void update(double err, const std::string& at) {
    if (std::isnan(err) || err > value) {
      value = std::isnan(err) ? INFINITY : err;
      where = at;
    }
  }
};

}  // namespace chempp::test
