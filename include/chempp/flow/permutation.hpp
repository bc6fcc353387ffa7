// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Permutations between the autoregressive transforms of a MAF.
///
/// A permutation `p` maps the output y of one transform to the input of the next as
/// `next[i] = y[p[i]]` (nflows `RandomPermutation`: `inputs[:, perm]`).
/// Kinds:
///  * `random`: a seeded uniformly random permutation per transform (sbi/nflows default);
///  * `reverse`: reverses the order (the classic MAF choice);
///  * `global_first`: keeps the first `n_global` dimensions in the first `n_global` positions of
///    every transform (shuffled randomly among themselves) and permutes the rest randomly among
///    the remaining positions. Since each MADE output r depends only on inputs < r, the map from θ
///    to the first `n_global` base coordinates then involves only θ_0..θ_{n_global-1}, and the
///    marginal density q(θ_0..θ_{n_global-1} | x) is exact and as cheap as the joint.

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::flow {

/// How the permutations between transforms are chosen (see the file comment).
enum class permutation_kind { random, reverse, global_first };

/// Name of a permutation kind (as stored in weight files).
[[nodiscard]] constexpr const char* to_string(permutation_kind k) noexcept {
  switch (k) {
    case permutation_kind::random: return "random";
    case permutation_kind::reverse: return "reverse";
    case permutation_kind::global_first: return "global_first";
  }
  return "unknown";
}

/// Parses a permutation kind name; throws `invalid_argument` naming the value otherwise.
[[nodiscard]] inline permutation_kind permutation_kind_from_string(std::string_view s) {
  if (s == "random") return permutation_kind::random;
  if (s == "reverse") return permutation_kind::reverse;
  if (s == "global_first") return permutation_kind::global_first;
  throw invalid_argument("permutation_kind_from_string: unknown kind '" + std::string(s) + "'");
}

/// A permutation of {0..n-1}, stored as `next[i] = y[perm[i]]`.
using permutation = std::vector<Eigen::Index>;

/// True if `p` is a permutation of {0, ..., n-1}.
[[nodiscard]] inline bool is_permutation_of(const permutation& p, Eigen::Index n) {
  if (static_cast<Eigen::Index>(p.size()) != n) return false;
  std::vector<char> seen(p.size(), 0);
  for (auto v : p) {
    if (v < 0 || v >= n || seen[static_cast<std::size_t>(v)]) return false;
    seen[static_cast<std::size_t>(v)] = 1;
  }
  return true;
}

/// The inverse of the permutation `p` of {0..n-1}: q[p[i]] = i.
[[nodiscard]] inline permutation inverse_of(const permutation& p) {
  permutation q(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) q[static_cast<std::size_t>(p[i])] = static_cast<Eigen::Index>(i);
  return q;
}

/// True if `p` maps the leading block {0..k-1} onto itself (the `global_first` invariant).
[[nodiscard]] inline bool keeps_leading_block(const permutation& p, Eigen::Index k) {
  for (Eigen::Index i = 0; i < k; ++i)
    if (p[static_cast<std::size_t>(i)] >= k) return false;
  return true;
}

/// Builds one permutation of `n` elements of the given kind. `n_global` is used by
/// `global_first` only (0 <= n_global <= n).
template <class Rng>
[[nodiscard]] permutation make_permutation(Eigen::Index n, permutation_kind kind, Eigen::Index n_global,
                                           Rng& rng) {
  if (n < 1) chempp::detail::throw_argument("make_permutation", "n", "must be >= 1", double(n));
  if (n_global < 0 || n_global > n)
    chempp::detail::throw_argument("make_permutation", "n_global", "must lie in [0, n]", double(n_global));
  permutation p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), Eigen::Index{0});
  // Fisher-Yates with std::uniform_int_distribution (std::shuffle's algorithm is unspecified, so
  // results would differ across standard libraries).
  auto shuffle = [&rng](auto first, auto last) {
    const auto len = last - first;
    for (auto i = len - 1; i > 0; --i) {
      std::uniform_int_distribution<long long> u(0, static_cast<long long>(i));
      std::iter_swap(first + i, first + u(rng));
    }
  };
  switch (kind) {
    case permutation_kind::random: shuffle(p.begin(), p.end()); break;
    case permutation_kind::reverse: std::reverse(p.begin(), p.end()); break;
    case permutation_kind::global_first:
      shuffle(p.begin(), p.begin() + n_global);
      shuffle(p.begin() + n_global, p.end());
      break;
  }
  return p;
}

}  // namespace chempp::flow
