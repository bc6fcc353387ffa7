// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Distribution functions used by the calibration diagnostics: the regularised incomplete gamma
/// function (χ² tail probabilities and quantiles), the Kolmogorov distribution, and the
/// one-sample Kolmogorov–Smirnov and Pearson χ² goodness-of-fit tests against uniformity.
///
/// Algorithms: incomplete gamma by its power series (x < a + 1) or Lentz's continued fraction
/// (Press et al., Numerical Recipes, 3rd ed., §6.2); the Kolmogorov tail by its alternating
/// series (or the Jacobi-transformed series for small λ); KS p-values with Stephens' (1970)
/// finite-n correction λ = (√n + 0.12 + 0.11/√n) D (Numerical Recipes §14.3).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::diagnostics {

/// Result of a goodness-of-fit test.
struct test_result {
  double statistic = 0.0;  ///< test statistic (χ² or KS distance D)
  double dof = 0.0;        ///< degrees of freedom (χ²) or sample size (KS)
  double p_value = 1.0;    ///< probability of a statistic at least this large under H0
};

namespace detail {
/// Q(a, x) from its continued fraction (modified Lentz), for x ≥ a + 1 (Numerical Recipes §6.2).
[[nodiscard]] inline double gamma_q_continued_fraction(double a, double x) {
  const double log_pref = -x + a * std::log(x) - std::lgamma(a);
  constexpr double eps = 1e-16;
  constexpr double tiny = std::numeric_limits<double>::min() / eps;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < eps) break;
  }
  return std::exp(log_pref) * h;
}
}  // namespace detail

/// Regularised lower incomplete gamma P(a, x) = γ(a, x)/Γ(a), a > 0, x ≥ 0.
/// \throws invalid_argument on a ≤ 0 or x < 0 / NaN.
[[nodiscard]] inline double gamma_p(double a, double x) {
  check_positive("gamma_p", "a", a);
  check_nonnegative("gamma_p", "x", x);
  if (x == 0.0) return 0.0;
  const double log_pref = -x + a * std::log(x) - std::lgamma(a);
  constexpr double eps = 1e-16;
  if (x < a + 1.0) {
    double ap = a, term = 1.0 / a, sum = term;
    for (int n = 0; n < 100000; ++n) {
      ap += 1.0;
      term *= x / ap;
      sum += term;
      if (std::abs(term) < std::abs(sum) * eps) break;
    }
    return std::min(1.0, sum * std::exp(log_pref));
  }
  return std::max(0.0, 1.0 - detail::gamma_q_continued_fraction(a, x));
}

/// Regularised upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in the far tail.
[[nodiscard]] inline double gamma_q(double a, double x) {
  check_positive("gamma_q", "a", a);
  check_nonnegative("gamma_q", "x", x);
  if (x < a + 1.0) return 1.0 - gamma_p(a, x);
  return detail::gamma_q_continued_fraction(a, x);  // directly for Q: no cancellation
}

/// χ² survival function P(X ≥ x) for k degrees of freedom.
[[nodiscard]] inline double chi2_sf(double x, double k) {
  return gamma_q(0.5 * k, 0.5 * std::max(x, 0.0));
}

/// χ² quantile: the x with P(X ≤ x) = p for k degrees of freedom (bisection to 1e-14 relative).
/// \throws invalid_argument unless 0 ≤ p < 1 and k > 0.
[[nodiscard]] inline double chi2_quantile(double p, double k) {
  check_in_closed("chi2_quantile", "p", p, 0.0, 1.0);
  check_positive("chi2_quantile", "k", k);
  if (p >= 1.0) chempp::detail::throw_argument("chi2_quantile", "p", "must be below 1", p);
  if (p == 0.0) return 0.0;
  if (k == 2.0) return -2.0 * std::log1p(-p);  // closed form
  double lo = 0.0, hi = std::max(1.0, k);
  while (gamma_p(0.5 * k, 0.5 * hi) < p) hi *= 2.0;
  for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (gamma_p(0.5 * k, 0.5 * mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

/// Kolmogorov distribution tail Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2 j² λ²).
[[nodiscard]] inline double kolmogorov_sf(double lambda) {
  check_nonnegative("kolmogorov_sf", "lambda", lambda);
  if (lambda < 1e-3) return 1.0;
  if (lambda < 1.18) {  // Jacobi form of the CDF converges fast for small λ
    const double y = std::exp(-std::numbers::pi * std::numbers::pi / (8.0 * lambda * lambda));
    double s = 0.0;
    for (int j = 1; j < 50; j += 2) s += std::pow(y, j * j);
    return std::clamp(1.0 - std::sqrt(2.0 * std::numbers::pi) / lambda * s, 0.0, 1.0);
  }
  double s = 0.0, sign = 1.0;
  for (int j = 1; j < 100; ++j) {
    s += sign * std::exp(-2.0 * j * j * lambda * lambda);
    sign = -sign;
  }
  return std::clamp(2.0 * s, 0.0, 1.0);
}

/// One-sample Kolmogorov–Smirnov test of `u` against U(0, 1); p-value with Stephens'
/// finite-n correction. \throws invalid_argument on an empty sample or a value outside [0, 1].
[[nodiscard]] inline test_result ks_uniform_test(std::span<const double> u) {
  if (u.empty()) throw invalid_argument("ks_uniform_test: empty sample");
  std::vector<double> v(u.begin(), u.end());
  for (double x : v) check_in_closed("ks_uniform_test", "u", x, 0.0, 1.0);
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double d = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double fi = static_cast<double>(i);
    d = std::max({d, (fi + 1.0) / n - v[i], v[i] - fi / n});
  }
  const double sn = std::sqrt(n);
  return {d, n, kolmogorov_sf((sn + 0.12 + 0.11 / sn) * d)};
}

/// Pearson χ² test of observed counts against expected counts (dof = bins − 1).
/// \throws invalid_argument on mismatched sizes, fewer than 2 bins or a non-positive expectation.
[[nodiscard]] inline test_result chi2_test(std::span<const double> observed,
                                           std::span<const double> expected) {
  if (observed.size() != expected.size() || observed.size() < 2) {
    throw invalid_argument("chi2_test: observed and expected need the same size, at least 2");
  }
  double x2 = 0.0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    check_positive("chi2_test", "expected", expected[i]);
    const double d = observed[i] - expected[i];
    x2 += d * d / expected[i];
  }
  const double dof = static_cast<double>(observed.size() - 1);
  return {x2, dof, chi2_sf(x2, dof)};
}

}  // namespace chempp::diagnostics
