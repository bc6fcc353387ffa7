// SPDX-License-Identifier: BSD-3-Clause
// chempp::exact_sum against sums known exactly: cancellation that naive summation loses, integer
// multiples of powers of two (exact in __int128), order and split independence, special values,
// the extremes of the double range.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>
#include <cstdlib>

#include "chempp/core/exact_sum.hpp"
#include "support/test_support.hpp"

namespace {
double sum_of(const std::vector<double>& v) {
  chempp::exact_sum s;
  for (const double x : v) s.add(x);
  return s.value();
}
}  // namespace

TEST_CASE("exact_sum: cancellation that naive summation loses") {
  CHECK(sum_of({1e16, 1.0, -1e16}) == 1.0);
  CHECK(sum_of({1e300, 1e-300, -1e300}) == 1e-300);
  // the doubles 0.1 + 0.2 − 0.3 sum to exactly 2^−55; naive left-to-right summation gives 2^−54
  CHECK(sum_of({0.1, 0.2, -0.3}) == std::ldexp(1.0, -55));
  CHECK((0.1 + 0.2) - 0.3 == std::ldexp(1.0, -54));
  CHECK(sum_of({}) == 0.0);
  CHECK(sum_of({-2.5}) == -2.5);
  CHECK(sum_of({3.0, -5.0}) == -2.0);
}

TEST_CASE("exact_sum: wide-range terms that cancel, and multiples of 2^-20 summed exactly (reference in int64)") {
  auto rng = chempp::test::seeded_rng(31);
  // ±x pairs over 600 decades plus 1 … 100: the exact sum is 5050
  std::uniform_real_distribution<double> mant(1.0, 2.0);
  std::uniform_int_distribution<int> wide(-1000, 1000);
  std::vector<double> w;
  for (int i = 0; i < 5000; ++i) {
    const double x = std::ldexp(mant(rng), wide(rng));
    w.push_back(x);
    w.push_back(-x);
  }
  for (int i = 1; i <= 100; ++i) w.push_back(i);
  std::shuffle(w.begin(), w.end(), rng);
  CHECK(sum_of(w) == 5050.0);
  // m · 2^p with |m| < 2^16, p in [−20, 10]: exact in int64 units of 2^−20 (< 2^61 for 20000 terms)
  std::uniform_int_distribution<std::int64_t> k(-(std::int64_t{1} << 16) + 1, (std::int64_t{1} << 16) - 1);
  std::uniform_int_distribution<int> e(-20, 10);
  std::vector<double> v;
  std::int64_t exact = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t m = k(rng);
    const int p = e(rng);
    v.push_back(std::ldexp(static_cast<double>(m), p));
    exact += m * (std::int64_t{1} << (p + 20));
  }
  const double ref = std::ldexp(static_cast<double>(exact), -20);  // correctly rounded
  const double s = sum_of(v);
  INFO("exact sum " << ref << ", exact_sum " << s);
  CHECK(std::abs(s - ref) <= std::abs(ref) * std::numeric_limits<double>::epsilon());
  // any order gives the same double
  for (int t = 0; t < 3; ++t) {
    std::shuffle(v.begin(), v.end(), rng);
    CHECK(sum_of(v) == s);
  }
  // partial sums merged, and integer forms added element-wise (what MPI_SUM does), give it too
  chempp::exact_sum a, b, c;
  std::vector<std::int64_t> ints(chempp::exact_sum::integers, 0);
  for (std::size_t i = 0; i < v.size(); ++i) (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(v[i]);
  for (const auto* part : {&a, &b, &c}) {
    const auto p = part->to_integers();
    for (std::size_t j = 0; j < ints.size(); ++j) ints[j] += p[j];
  }
  CHECK(chempp::exact_sum::from_integers(ints).value() == s);
  a.merge(b);
  a.merge(c);
  CHECK(a.value() == s);
  // naive summation differs with order (shows the test can see order dependence)
  double naive1 = 0.0, naive2 = 0.0;
  for (const double x : v) naive1 += x;
  for (auto it = v.rbegin(); it != v.rend(); ++it) naive2 += *it;
  MESSAGE("naive sums in two orders: " << naive1 << " vs " << naive2 << " (exact " << s << ")");
}

TEST_CASE("exact_sum: special values, the double range's ends, bad integer forms") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double big = std::numeric_limits<double>::max();
  constexpr double tiny = std::numeric_limits<double>::denorm_min();
  CHECK(std::isnan(sum_of({1.0, std::nan("")})));
  CHECK(sum_of({1.0, inf}) == inf);
  CHECK(sum_of({1.0, -inf, -inf}) == -inf);
  CHECK(std::isnan(sum_of({inf, -inf})));
  CHECK(sum_of({big, big}) == inf);               // beyond the range: overflow as IEEE
  CHECK(sum_of({big, big, -big}) == big);         // … but exact in between
  CHECK(sum_of({-big, -big}) == -inf);
  CHECK(sum_of({tiny, tiny, tiny}) == 3 * tiny);  // subnormals exactly
  CHECK(sum_of({big, tiny, -big}) == tiny);
  CHECK(sum_of({std::numeric_limits<double>::min(), -tiny}) == std::numeric_limits<double>::min() - tiny);
  std::vector<std::int64_t> bad(3, 0);
  CHECK_THROWS_AS(static_cast<void>(chempp::exact_sum::from_integers(bad)), chempp::invalid_argument);
  // many terms in one limb range: no carry is lost
  chempp::exact_sum s;
  for (int i = 0; i < 3'000'000; ++i) s.add(std::ldexp(1.0, 1000));
  CHECK(s.value() == std::ldexp(3e6, 1000));
}
