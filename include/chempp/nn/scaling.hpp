// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Per-feature affine standardisation `z = (x - mean) / scale`, stored with a network so that
/// it sees standardised inputs and produces standardised outputs.

#include <cmath>
#include <cstddef>
#include <string>

#include "chempp/core/error.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// Per-feature standardisation `z = (x - mean) / scale` and its inverse. The default (empty
/// vectors resized by `identity(n)`) is the identity map.
template <class T>
struct standardizer {
  vector<T> mean;   ///< per-feature offset (units of the feature)
  vector<T> scale;  ///< per-feature scale, > 0 (units of the feature)

  /// The identity map on `n` features.
  static standardizer identity(std::size_t n) {
    standardizer s;
    s.mean = vector<T>::Zero(static_cast<Eigen::Index>(n));
    s.scale = vector<T>::Ones(static_cast<Eigen::Index>(n));
    return s;
  }

  /// Mean and standard deviation of each row of `x` (features x samples). A feature with zero
  /// spread gets scale 1 (it is then only centred); throws `invalid_argument` on non-finite
  /// data or fewer than two samples.
  template <class M>
  static standardizer fit(const M& x) {
    if (x.cols() < 2) throw invalid_argument("standardizer::fit: need at least two samples");
    if (!x.allFinite()) throw invalid_argument("standardizer::fit: data contain NaN or infinity");
    standardizer s;
    const auto n = static_cast<double>(x.cols());
    s.mean.resize(x.rows());
    s.scale.resize(x.rows());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      double m = 0.0;
      for (Eigen::Index c = 0; c < x.cols(); ++c) m += static_cast<double>(x(r, c));
      m /= n;
      double v = 0.0;
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        const double d = static_cast<double>(x(r, c)) - m;
        v += d * d;
      }
      const double sd = std::sqrt(v / n);
      s.mean[r] = static_cast<T>(m);
      s.scale[r] = static_cast<T>(sd > 0.0 ? sd : 1.0);
    }
    return s;
  }

  /// Number of features.
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(mean.size()); }

  /// `(x - mean) / scale` column by column.
  template <class M>
  [[nodiscard]] matrix<T> transform(const M& x) const {
    return ((x.colwise() - mean).array().colwise() / scale.array()).matrix();
  }
  /// `z * scale + mean` column by column.
  template <class M>
  [[nodiscard]] matrix<T> inverse(const M& z) const {
    return ((z.array().colwise() * scale.array()).colwise() + mean.array()).matrix();
  }

  /// Throws `invalid_argument` unless mean/scale have `n` finite entries and scale > 0.
  void validate(std::size_t n, const std::string& what) const {
    if (size() != n || static_cast<std::size_t>(scale.size()) != n)
      throw invalid_argument(what + ": standardizer has " + std::to_string(size()) +
                             " features, network needs " + std::to_string(n));
    for (Eigen::Index i = 0; i < mean.size(); ++i) {
      check_finite(what, "standardizer mean", static_cast<double>(mean[i]));
      check_positive(what, "standardizer scale", static_cast<double>(scale[i]));
    }
  }
};

}  // namespace chempp::nn
