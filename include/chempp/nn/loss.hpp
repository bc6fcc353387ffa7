// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Regression losses with their gradients: mean squared error (the paper's `torch.nn.MSELoss`,
/// mean over samples and outputs) and a per-output weighted MSE.

#include <cstddef>
#include <string>

#include "chempp/core/error.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// `L = 1/(n m) sum_ij (p_ij - y_ij)^2` over an `m x n` batch; `dL/dp = 2 (p - y) / (n m)`.
struct mse_loss {
  /// The loss value (accumulated in double).
  template <class P, class Y>
  [[nodiscard]] double value(const P& p, const Y& y) const {
    return (p - y).template cast<double>().squaredNorm() / static_cast<double>(p.size());
  }
  /// Writes `dL/dp` into `g`.
  template <class P, class Y, class G>
  void gradient(const P& p, const Y& y, G& g) const {
    using T = typename P::Scalar;
    g = (p - y) * static_cast<T>(2.0 / static_cast<double>(p.size()));
  }
};

/// `L = 1/(n m) sum_ij w_i (p_ij - y_ij)^2` with one non-negative weight per output row.
template <class T>
struct weighted_mse_loss {
  vector<T> weights;  ///< one weight per output (row), >= 0

  explicit weighted_mse_loss(vector<T> w) : weights(std::move(w)) {
    for (Eigen::Index i = 0; i < weights.size(); ++i)
      check_nonnegative("weighted_mse_loss", "weight " + std::to_string(i),
                        static_cast<double>(weights[i]));
  }
  template <class P, class Y>
  [[nodiscard]] double value(const P& p, const Y& y) const {
    check_rows(p.rows());
    const auto d = (p - y).template cast<double>();
    return (d.array().square().colwise() * weights.template cast<double>().array()).sum() /
           static_cast<double>(p.size());
  }
  template <class P, class Y, class G>
  void gradient(const P& p, const Y& y, G& g) const {
    check_rows(p.rows());
    g = ((p - y).array().colwise() * weights.array()).matrix() *
        static_cast<T>(2.0 / static_cast<double>(p.size()));
  }

 private:
  void check_rows(Eigen::Index r) const {
    if (r != weights.size())
      throw invalid_argument("weighted_mse_loss: " + std::to_string(weights.size()) +
                             " weights for " + std::to_string(r) + " outputs");
  }
};

}  // namespace chempp::nn
