// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Emulator accuracy metrics as the paper reports them (`docs/sbi-pipeline.md` §3):
/// absolute percentage error APE = 100 |y - y_hat| / |y| pooled over all outputs (median and
/// quartiles), and absolute errors in dex.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// Pooled and per-output error statistics of predictions against truth.
struct accuracy_report {
  std::size_t n_samples = 0;
  double median_ape_percent = 0.0;            ///< median APE over all outputs and samples (%)
  double ape_q25_percent = 0.0, ape_q75_percent = 0.0;
  double median_abs_dex = 0.0;                ///< median |y - y_hat| over all outputs (dex)
  double p95_abs_dex = 0.0;                   ///< 95th percentile of |y - y_hat| (dex)
  std::vector<double> median_ape_per_output;  ///< per output (%)
  std::vector<double> median_abs_per_output;  ///< per output (dex)
};

namespace detail {
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1.0 - f) + v[i + 1] * f : v[i];
}
}  // namespace detail

/// Compares `pred` and `truth` (outputs x samples, same shape). Throws `invalid_argument` on
/// mismatched shapes. Outputs with y = 0 give infinite APE (kept: they count as large errors).
template <class A, class B>
accuracy_report evaluate_accuracy(const A& pred, const B& truth) {
  if (pred.rows() != truth.rows() || pred.cols() != truth.cols())
    throw invalid_argument("evaluate_accuracy: prediction and truth have different shapes");
  accuracy_report r;
  r.n_samples = static_cast<std::size_t>(truth.cols());
  std::vector<double> ape, ad;
  for (Eigen::Index o = 0; o < truth.rows(); ++o) {
    std::vector<double> ape_o, ad_o;
    for (Eigen::Index c = 0; c < truth.cols(); ++c) {
      const double y = static_cast<double>(truth(o, c)), p = static_cast<double>(pred(o, c));
      const double d = std::abs(p - y);
      ad_o.push_back(d);
      ape_o.push_back(100.0 * d / std::abs(y));
    }
    r.median_ape_per_output.push_back(detail::quantile(ape_o, 0.5));
    r.median_abs_per_output.push_back(detail::quantile(ad_o, 0.5));
    ape.insert(ape.end(), ape_o.begin(), ape_o.end());
    ad.insert(ad.end(), ad_o.begin(), ad_o.end());
  }
  r.median_ape_percent = detail::quantile(ape, 0.5);
  r.ape_q25_percent = detail::quantile(ape, 0.25);
  r.ape_q75_percent = detail::quantile(ape, 0.75);
  r.median_abs_dex = detail::quantile(ad, 0.5);
  r.p95_abs_dex = detail::quantile(ad, 0.95);
  return r;
}

}  // namespace chempp::nn
