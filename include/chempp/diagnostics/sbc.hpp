// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Simulation-based calibration (Talts et al. 2018, arXiv:1804.06788), per dimension, as used
/// for the paper's calibration figures (Buck et al. 2025 App. B; ltu-ili `PosteriorCoverage`,
/// docs/sbi-pipeline.md §7).
///
/// For validation cases (θ*_n, x_n) with θ*_n drawn from the prior and L posterior samples
/// θ_{n,l} ~ q(θ|x_n): the rank r_{n,d} = #{l : θ_{n,l,d} < θ*_{n,d}} ∈ {0, …, L} is uniform on
/// {0, …, L} for every d iff the posterior is calibrated. Uniformity is tested with
/// * Pearson's χ² on a rank histogram (default 10 bins; expected counts computed exactly for the
///   L + 1 discrete rank values, dof = bins − 1), and
/// * a one-sample KS test of u = (r + ½)/(L + 1) against U(0, 1) (discreteness makes it slightly
///   conservative, ≤ 1/(2(L+1)) in D).
/// The coverage curve gives, for each credibility level α, the fraction of cases whose truth
/// lies in the central α interval of the marginal samples (calibrated: = α; over-confident:
/// below; under-confident: above), and the ECDF of the normalised ranks (ltu-ili's plot).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/diagnostics/statistics.hpp"
#include "chempp/core/compat_eigen.hpp"

namespace chempp::diagnostics {

/// Ranks of the truths among posterior samples: `samples[n]` is L × d (rows = samples) for
/// case n, `truths` is cases × d; returns cases × d ranks (number of samples strictly below).
/// \throws invalid_argument on inconsistent sizes, a different L per case, or non-finite values
/// (naming the case).
[[nodiscard]] inline Eigen::MatrixXi sbc_ranks(std::span<const Eigen::MatrixXd> samples,
                                               const Eigen::Ref<const Eigen::MatrixXd>& truths) {
  const char* fn = "sbc_ranks";
  if (samples.empty() || static_cast<std::size_t>(truths.rows()) != samples.size()) {
    throw invalid_argument(std::string(fn) + ": need one truth row per case (" +
                           std::to_string(samples.size()) + " cases, " +
                           std::to_string(truths.rows()) + " truths)");
  }
  const Eigen::Index d = truths.cols(), L = samples[0].rows();
  if (L == 0 || d == 0) throw invalid_argument(std::string(fn) + ": empty samples");
  Eigen::MatrixXi ranks(truths.rows(), d);
  for (std::size_t n = 0; n < samples.size(); ++n) {
    const auto& s = samples[n];
    if (s.rows() != L || s.cols() != d) {
      throw invalid_argument(std::string(fn) + ": case " + std::to_string(n) +
                             " has samples of shape " + std::to_string(s.rows()) + " x " +
                             std::to_string(s.cols()) + ", expected " + std::to_string(L) + " x " +
                             std::to_string(d));
    }
    if (!s.allFinite() || !truths.row(static_cast<Eigen::Index>(n)).allFinite()) {
      throw invalid_argument(std::string(fn) + ": case " + std::to_string(n) +
                             " has non-finite samples or truth");
    }
    for (Eigen::Index j = 0; j < d; ++j) {
      const double t = truths(static_cast<Eigen::Index>(n), j);
      ranks(static_cast<Eigen::Index>(n), j) = static_cast<int>((s.col(j).array() < t).count());
    }
  }
  return ranks;
}

/// Rank histogram of one dimension with `bins` equal-width bins over the L + 1 rank values:
/// rank r goes to bin ⌊r · bins / (L + 1)⌋. \throws invalid_argument on a rank outside [0, L].
[[nodiscard]] inline std::vector<double> rank_histogram(
    const Eigen::Ref<const Eigen::VectorXi>& ranks, int num_samples, int bins = 10) {
  if (bins < 1 || num_samples < 1) {
    throw invalid_argument("rank_histogram: bins and num_samples must be positive");
  }
  std::vector<double> h(static_cast<std::size_t>(bins), 0.0);
  for (Eigen::Index i = 0; i < ranks.size(); ++i) {
    const int r = ranks(i);
    if (r < 0 || r > num_samples) {
      chempp::detail::throw_argument("rank_histogram", "rank", "is outside [0, num_samples]", r);
    }
    const auto b = static_cast<std::size_t>(static_cast<long long>(r) * bins / (num_samples + 1));
    h[b] += 1.0;
  }
  return h;
}

/// Expected rank-histogram counts for `cases` uniform ranks on {0, …, L} (see rank_histogram).
[[nodiscard]] inline std::vector<double> expected_rank_histogram(std::size_t cases, int num_samples,
                                                                 int bins = 10) {
  if (bins < 1 || num_samples < 1) throw invalid_argument("expected_rank_histogram: bins and num_samples must be positive");
  std::vector<double> e(static_cast<std::size_t>(bins), 0.0);
  for (int r = 0; r <= num_samples; ++r) {
    e[static_cast<std::size_t>(static_cast<long long>(r) * bins / (num_samples + 1))] += 1.0;
  }
  for (double& v : e) v *= static_cast<double>(cases) / (num_samples + 1.0);
  return e;
}

/// Fraction of cases whose truth lies in the central `level` interval of the L marginal
/// samples, i.e. (1 − level)/2 ≤ r/L ≤ (1 + level)/2, for each `level` in `levels`.
[[nodiscard]] inline std::vector<double> central_coverage(
    const Eigen::Ref<const Eigen::VectorXi>& ranks, int num_samples,
    std::span<const double> levels) {
  std::vector<double> out;
  for (double a : levels) {
    check_in_closed("central_coverage", "level", a, 0.0, 1.0);
    const double lo = 0.5 * (1.0 - a) * num_samples, hi = 0.5 * (1.0 + a) * num_samples;
    std::size_t in = 0;
    for (Eigen::Index i = 0; i < ranks.size(); ++i) {
      if (ranks(i) >= lo && ranks(i) <= hi) ++in;
    }
    out.push_back(static_cast<double>(in) / static_cast<double>(ranks.size()));
  }
  return out;
}

/// SBC summary for all dimensions.
struct sbc_result {
  Eigen::MatrixXi ranks;                        ///< cases × dims
  int num_samples = 0;                          ///< L
  std::vector<std::vector<double>> histograms;  ///< per dimension, `bins` counts
  std::vector<test_result> chi2;                ///< per dimension: χ² on the histogram
  std::vector<test_result> ks;                  ///< per dimension: KS of (r + ½)/(L + 1)
  std::vector<double> levels;                   ///< credibility levels of `coverage`
  std::vector<std::vector<double>> coverage;    ///< per dimension: central-interval coverage

  /// Smallest p-value over dimensions and both tests.
  [[nodiscard]] double min_p_value() const {
    double p = 1.0;
    for (const auto& t : chi2) p = std::min(p, t.p_value);
    for (const auto& t : ks) p = std::min(p, t.p_value);
    return p;
  }
};

/// Options of `run_sbc`.
struct sbc_options {
  int bins = 10;  ///< rank histogram bins (paper figures: 10)
  std::vector<double> levels{0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.7, 0.8, 0.9, 0.95, 0.99};
};

/// Runs SBC on `samples` (per case, L × d) and `truths` (cases × d).
[[nodiscard]] inline sbc_result run_sbc(std::span<const Eigen::MatrixXd> samples,
                                        const Eigen::Ref<const Eigen::MatrixXd>& truths,
                                        const sbc_options& opt = {}) {
  sbc_result r;
  r.ranks = sbc_ranks(samples, truths);
  r.num_samples = static_cast<int>(samples[0].rows());
  r.levels = opt.levels;
  const auto expected =
      expected_rank_histogram(static_cast<std::size_t>(r.ranks.rows()), r.num_samples, opt.bins);
  for (Eigen::Index j = 0; j < r.ranks.cols(); ++j) {
    const Eigen::VectorXi col = r.ranks.col(j);
    r.histograms.push_back(rank_histogram(col, r.num_samples, opt.bins));
    r.chi2.push_back(chi2_test(r.histograms.back(), expected));
    std::vector<double> u(static_cast<std::size_t>(col.size()));
    for (Eigen::Index i = 0; i < col.size(); ++i) {
      u[static_cast<std::size_t>(i)] = (col(i) + 0.5) / (r.num_samples + 1.0);
    }
    r.ks.push_back(ks_uniform_test(u));
    r.coverage.push_back(central_coverage(col, r.num_samples, opt.levels));
  }
  return r;
}

}  // namespace chempp::diagnostics
