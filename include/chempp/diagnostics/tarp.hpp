// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// TARP — Tests of Accuracy with Random Points (Lemos, Coogan et al. 2023, ICML,
/// arXiv:2302.03026), with the semantics of the public `tarp` package's
/// `get_tarp_coverage(samples, theta, references="random", metric="euclidean", norm=True,
/// bootstrap=True, num_bootstrap=100, num_alpha_bins=None)` as the paper's `plot_sbc.py` calls it
/// (docs/sbi-pipeline.md §7):
///
/// 1. (norm) θ* and the samples are min–max normalised per dimension with the range of the
///    test truths: (v − min θ*) / (max θ* − min θ* + 1e−10);
/// 2. one reference point per case, uniform in [0, 1]^d;
/// 3. f_n = fraction of case n's samples closer to the reference than θ*_n (strictly);
/// 4. ECP = cumulative density histogram of {f_n} with `num_alpha_bins` (default cases/10) bins
///    over [0, 1], a leading 0 prepended; α = the bin edges (so ECP and α have bins + 1 entries);
/// 5. bootstrap: `num_bootstrap` resamplings of the test cases with replacement, normalisation
///    and references redone for each (here seeded, so results are reproducible).
/// A calibrated posterior gives ECP(α) = α. Summaries: max |ECP − α|, and ATC = Σ_{k ≥ K/2}
/// (ECP_k − α_k) over the upper half of the curve (sbi's `check_tarp`: > 0 under-confident,
/// < 0 over-confident), and a KS test of {f_n} against U(0, 1) (ECP is the ECDF of f, so this
/// is the natural test; it replaces sbi's two-sample KS between the ECP and α arrays).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/diagnostics/statistics.hpp"
#include "chempp/core/compat_eigen.hpp"

namespace chempp::diagnostics {

/// Distance used to define the TARP balls.
enum class tarp_metric { euclidean, manhattan };

/// Options of `run_tarp`; defaults as the paper called `tarp`.
struct tarp_options {
  std::size_t num_alpha_bins = 0;  ///< 0: cases / 10 (at least 1)
  bool normalize = true;           ///< min–max normalisation with the truths' range
  tarp_metric metric = tarp_metric::euclidean;
  std::size_t num_bootstrap = 100;  ///< 0: no bootstrap
  std::uint64_t seed = 0;           ///< seed of the reference points and the bootstrap
  /// Fixed reference points (cases × d, in normalised units when `normalize`); default random.
  std::optional<Eigen::MatrixXd> references;
};

/// TARP result.
struct tarp_result {
  Eigen::VectorXd alpha;           ///< credibility levels (bin edges), bins + 1 values
  Eigen::VectorXd ecp;             ///< expected coverage probability at alpha (ECP(0) = 0)
  Eigen::VectorXd f;               ///< per case: fraction of samples closer than the truth
  Eigen::MatrixXd ecp_bootstrap;   ///< num_bootstrap × (bins + 1)
  Eigen::VectorXd ecp_mean;        ///< bootstrap mean (= ecp when no bootstrap)
  Eigen::VectorXd ecp_std;         ///< bootstrap standard deviation (0 when no bootstrap)
  double max_abs_deviation = 0.0;  ///< max_k |ECP_k − α_k|
  double atc = 0.0;                ///< Σ_{k ≥ K/2} (ECP_k − α_k), K = alpha.size()
  test_result ks;                  ///< KS test of f against U(0, 1)
};

namespace detail {

/// f_n for the cases `idx` (with repetition) using references `refs` (one row per entry of idx).
inline Eigen::VectorXd tarp_f(std::span<const Eigen::MatrixXd> samples,
                              const Eigen::Ref<const Eigen::MatrixXd>& truths,
                              const std::vector<std::size_t>& idx, const Eigen::MatrixXd& refs,
                              bool normalize, tarp_metric metric) {
  const Eigen::Index d = truths.cols();
  Eigen::VectorXd lo = Eigen::VectorXd::Zero(d), scale = Eigen::VectorXd::Ones(d);
  if (normalize) {
    lo.setConstant(INFINITY);
    Eigen::VectorXd hi = Eigen::VectorXd::Constant(d, -INFINITY);
    for (auto n : idx) {
      const auto t = truths.row(static_cast<Eigen::Index>(n)).transpose();
      lo = lo.cwiseMin(t);
      hi = hi.cwiseMax(t);
    }
    scale = (hi - lo).array() + 1e-10;
  }
  auto dist = [&](const auto& a, const Eigen::VectorXd& r) {
    double s = 0.0;
    for (Eigen::Index j = 0; j < d; ++j) {
      const double v = (a(j) - lo(j)) / scale(j) - r(j);
      s += metric == tarp_metric::euclidean ? v * v : std::abs(v);
    }
    return s;  // squared euclidean (monotone) or manhattan
  };
  Eigen::VectorXd f(static_cast<Eigen::Index>(idx.size()));
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const auto n = static_cast<Eigen::Index>(idx[k]);
    const Eigen::VectorXd r = refs.row(static_cast<Eigen::Index>(k)).transpose();
    const double dt = dist(truths.row(n), r);
    const auto& s = samples[idx[k]];
    std::size_t closer = 0;
    for (Eigen::Index l = 0; l < s.rows(); ++l) {
      if (dist(s.row(l), r) < dt) ++closer;
    }
    f(static_cast<Eigen::Index>(k)) = static_cast<double>(closer) / static_cast<double>(s.rows());
  }
  return f;
}

/// ECP curve of `f` with `bins` bins over [0, 1]: cumulative density histogram, leading 0.
inline Eigen::VectorXd tarp_ecp(const Eigen::VectorXd& f, std::size_t bins) {
  Eigen::VectorXd ecp = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(bins + 1));
  std::vector<double> counts(bins, 0.0);
  for (Eigen::Index i = 0; i < f.size(); ++i) {
    // numpy.histogram: bins are half-open [e_k, e_{k+1}) except the last, which includes 1.
    auto b = static_cast<std::size_t>(f(i) * static_cast<double>(bins));
    if (b >= bins) b = bins - 1;
    counts[b] += 1.0;
  }
  double c = 0.0;
  for (std::size_t k = 0; k < bins; ++k) {
    c += counts[k];
    ecp(static_cast<Eigen::Index>(k + 1)) = c / static_cast<double>(f.size());
  }
  return ecp;
}

inline Eigen::MatrixXd uniform_refs(std::size_t n, Eigen::Index d, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd r(static_cast<Eigen::Index>(n), d);
  for (Eigen::Index i = 0; i < r.rows(); ++i) {
    for (Eigen::Index j = 0; j < d; ++j) r(i, j) = u(rng);
  }
  return r;
}

}  // namespace detail

/// Runs TARP on `samples` (per case, L × d; L may differ between cases) and `truths`
/// (cases × d). \throws invalid_argument on inconsistent shapes or non-finite values (naming
/// the case), or a references matrix of the wrong shape.
[[nodiscard]] inline tarp_result run_tarp(std::span<const Eigen::MatrixXd> samples,
                                          const Eigen::Ref<const Eigen::MatrixXd>& truths,
                                          const tarp_options& opt = {}) {
  const std::size_t n = samples.size();
  if (n == 0 || static_cast<std::size_t>(truths.rows()) != n || truths.cols() == 0) {
    throw invalid_argument("run_tarp: need one non-empty truth row per case (" + std::to_string(n) +
                           " cases, " + std::to_string(truths.rows()) + " truths)");
  }
  const Eigen::Index d = truths.cols();
  for (std::size_t i = 0; i < n; ++i) {
    if (samples[i].cols() != d || samples[i].rows() == 0) {
      throw invalid_argument("run_tarp: case " + std::to_string(i) + " has samples with " +
                             std::to_string(samples[i].cols()) + " columns (expected " +
                             std::to_string(d) + ") or none");
    }
    if (!samples[i].allFinite() || !truths.row(static_cast<Eigen::Index>(i)).allFinite()) {
      throw invalid_argument("run_tarp: case " + std::to_string(i) +
                             " has non-finite samples or truth");
    }
  }
  if (opt.references &&
      (opt.references->rows() != static_cast<Eigen::Index>(n) || opt.references->cols() != d)) {
    throw invalid_argument("run_tarp: references must be cases x dims");
  }
  const std::size_t bins =
      opt.num_alpha_bins > 0 ? opt.num_alpha_bins : std::max<std::size_t>(1, n / 10);
  std::mt19937_64 rng(opt.seed);
  tarp_result r;
  r.alpha = Eigen::VectorXd::LinSpaced(static_cast<Eigen::Index>(bins + 1), 0.0, 1.0);
  std::vector<std::size_t> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = i;
  const Eigen::MatrixXd refs = opt.references ? *opt.references : detail::uniform_refs(n, d, rng);
  r.f = detail::tarp_f(samples, truths, all, refs, opt.normalize, opt.metric);
  r.ecp = detail::tarp_ecp(r.f, bins);
  r.ecp_mean = r.ecp;
  r.ecp_std = Eigen::VectorXd::Zero(r.ecp.size());
  if (opt.num_bootstrap > 0) {
    r.ecp_bootstrap.resize(static_cast<Eigen::Index>(opt.num_bootstrap), r.ecp.size());
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::vector<std::size_t> idx(n);
    for (std::size_t b = 0; b < opt.num_bootstrap; ++b) {
      for (auto& i : idx) i = pick(rng);
      Eigen::MatrixXd brefs;
      if (opt.references) {
        brefs.resize(static_cast<Eigen::Index>(n), d);
        for (std::size_t k = 0; k < n; ++k) {
          brefs.row(static_cast<Eigen::Index>(k)) =
              opt.references->row(static_cast<Eigen::Index>(idx[k]));
        }
      } else {
        brefs = detail::uniform_refs(n, d, rng);
      }
      const Eigen::VectorXd fb =
          detail::tarp_f(samples, truths, idx, brefs, opt.normalize, opt.metric);
      r.ecp_bootstrap.row(static_cast<Eigen::Index>(b)) = detail::tarp_ecp(fb, bins).transpose();
    }
    r.ecp_mean = r.ecp_bootstrap.colwise().mean().transpose();
    const Eigen::MatrixXd c = r.ecp_bootstrap.rowwise() - r.ecp_mean.transpose();
    r.ecp_std = (c.colwise().squaredNorm() / static_cast<double>(opt.num_bootstrap))
                    .cwiseSqrt()
                    .transpose();
  }
  r.max_abs_deviation = (r.ecp - r.alpha).cwiseAbs().maxCoeff();
  const Eigen::Index mid = r.alpha.size() / 2;
  r.atc = (r.ecp - r.alpha).tail(r.alpha.size() - mid).sum();
  r.ks = ks_uniform_test(std::span<const double>(r.f.data(), static_cast<std::size_t>(r.f.size())));
  return r;
}

}  // namespace chempp::diagnostics
