// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The Gaussian likelihood of one star's measured abundances, the one place where chempp
/// evaluates p(x_i | f) for the population engine, the NUTS reference sampler and the tests:
///
///   log p(x_i | f) = log N(x_{i,m}; f_m, diag(σ_{i,m}²) + C_model[m, m]),
///
/// over the measured subset m of the observables only (a survey that does not measure He or Ne
/// leaves them out of m; docs/inference.md "Population inference"). x and f in dex, σ in dex,
/// C_model [dex²] is the simulator's own error covariance (e.g. the emulator's residual
/// covariance on held-out GCE runs), added to the observational covariance as independent
/// Gaussian error (Buck et al. 2025 §2.3 use C_model = 0 and σ = 0.05 dex for every element).

#include "chempp/core/compat_eigen.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/core/error.hpp"
#include "chempp/kernels/simd.hpp"

namespace chempp::inference {

/// Observational data of one star: values, uncertainties and which observables were measured.
struct star_data {
  Eigen::VectorXd x;                         ///< observables [dex]; ignored where not measured
  Eigen::VectorXd sigma;                     ///< 1σ uncertainties [dex]; > 0 where measured
  Eigen::Array<bool, Eigen::Dynamic, 1> measured;  ///< true where x_j was measured
  /// Catalog-wide index of the star (e.g. its catalog line): keys its random numbers in the
  /// population engine and the flow proposals, so that they do not depend on which stars share a
  /// call, a thread or a process. `unkeyed`: its position in the span passed (`key_of`).
  std::uint64_t key = unkeyed;
  static constexpr std::uint64_t unkeyed = ~std::uint64_t{0};
};

/// The key of star `s` at position `i` of its span: `s.key`, or `i` when unkeyed.
[[nodiscard]] inline std::uint64_t key_of(const star_data& s, std::size_t i) noexcept {
  return s.key == star_data::unkeyed ? static_cast<std::uint64_t>(i) : s.key;
}

/// Gaussian likelihood of one star over its measured observables, with the covariance
/// diag(σ²) + C_model factorised once (Cholesky) at construction.
class star_likelihood {
 public:
  star_likelihood() = default;

  /// \param star       the star's data (all three vectors of the simulator's output size K)
  /// \param model_cov  K × K simulator error covariance [dex²], or an empty matrix for none
  /// \throws invalid_argument on size mismatches, a measured value that is not finite, a
  ///         measured σ ≤ 0 or not finite, nothing measured, or a covariance that is not
  ///         positive definite (each message names the observable index).
  star_likelihood(const star_data& star, const Eigen::MatrixXd& model_cov = {}) {
    const char* fn = "star_likelihood";
    const Eigen::Index k = star.x.size();
    if (star.sigma.size() != k || star.measured.size() != k)
      throw invalid_argument(std::string(fn) + ": x, sigma and measured must have equal sizes");
    if (model_cov.size() != 0 && (model_cov.rows() != k || model_cov.cols() != k))
      throw invalid_argument(std::string(fn) + ": model_cov must be K x K (K = " +
                             std::to_string(k) + ")");
    k_ = k;
    for (Eigen::Index j = 0; j < k; ++j) {
      if (!star.measured(j)) continue;
      check_finite(fn, "x[" + std::to_string(j) + "]", star.x(j));
      check_positive(fn, "sigma[" + std::to_string(j) + "]", star.sigma(j));
      index_.push_back(j);
    }
    if (index_.empty()) throw invalid_argument(std::string(fn) + ": the star has nothing measured");
    if (static_cast<Eigen::Index>(index_.size()) > kMax)
      throw invalid_argument(std::string(fn) + ": more than 64 measured observables are not supported");
    const auto m = static_cast<Eigen::Index>(index_.size());
    x_.resize(m);
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(m, m);
    for (Eigen::Index a = 0; a < m; ++a) {
      x_(a) = star.x(index_[static_cast<std::size_t>(a)]);
      const double s = star.sigma(index_[static_cast<std::size_t>(a)]);
      cov(a, a) = s * s;
      if (model_cov.size() != 0)
        for (Eigen::Index b = 0; b < m; ++b)
          cov(a, b) += model_cov(index_[static_cast<std::size_t>(a)], index_[static_cast<std::size_t>(b)]);
    }
    Eigen::LLT<Eigen::MatrixXd> llt(cov);
    if (llt.info() != Eigen::Success)
      throw invalid_argument(std::string(fn) + ": diag(sigma^2) + model_cov is not positive definite");
    l_ = llt.matrixL();
    inv_diag_ = l_.diagonal().cwiseInverse();  // the solve multiplies: no division chain per call
    diagonal_ = true;  // (no model covariance: the substitution skips L's zero off-diagonal entries)
    for (Eigen::Index a = 0; a < m; ++a)
      for (Eigen::Index b = 0; b < a; ++b) diagonal_ = diagonal_ && l_(a, b) == 0.0;
    log_norm_ = -0.5 * static_cast<double>(m) * std::log(2.0 * std::numbers::pi) -
                l_.diagonal().array().log().sum();
  }

  /// Size K of the full observable vector.
  [[nodiscard]] Eigen::Index dim() const noexcept { return k_; }
  /// Number of measured observables.
  [[nodiscard]] std::size_t n_measured() const noexcept { return index_.size(); }
  /// Indices of the measured observables.
  [[nodiscard]] const std::vector<Eigen::Index>& measured_index() const noexcept { return index_; }
  /// Log normalisation −½ m log 2π − ½ log det Σ.
  [[nodiscard]] double log_normalisation() const noexcept { return log_norm_; }

  /// log p(x | f) for a full K-vector f read with stride `stride` (f[j * stride]); a non-finite
  /// measured f_j (a failed simulation) gives −inf.
  [[nodiscard]] double operator()(const double* f, std::ptrdiff_t stride = 1) const noexcept {
    const double q = whitened_norm2<double>([&](std::size_t a) { return f[index_[a] * stride]; });
    return std::isfinite(q) ? log_norm_ - 0.5 * q : -INFINITY;
  }

  /// lw[r] += log p(x | f_r) for the n rows f_r = f + r k of a row-major n × K array (k ≥ K), as
  /// `operator()` computes each, with the rows in SIMD lanes (the population engine's hot loop): the
  /// same operations in the same order per lane, so each row's value equals operator()(f_r) (tested).
  void add_rows(const double* f, std::size_t n, std::size_t k, double* lw) const noexcept {
    using B = xsimd::batch<double>;
    const auto rows = kernels::lane_offsets<B>(k);  // f_m of B rows in one gather
    std::size_t r0 = 0;
    for (; r0 + B::size <= n; r0 += B::size) {
      const double* fr = f + r0 * k;
      add_lanes(whitened_norm2<B>([&](std::size_t a) { return B::gather(fr + index_[a], rows); }), lw + r0);
    }
    for (; r0 < n; ++r0) lw[r0] += (*this)(f + r0 * k);
  }
  /// The same for a column-major array: f_m of row r at f[m · ld + r] (ld ≥ n), loaded into the
  /// lanes without gathers (the engine's path for a `ColumnSimulator`); each row's value equals
  /// operator()(f + r, ld) (tested).
  void add_columns(const double* f, std::size_t ld, std::size_t n, double* lw) const noexcept {
    using B = xsimd::batch<double>;
    const auto ldi = static_cast<Eigen::Index>(ld);
    std::size_t r0 = 0;
    for (; r0 + B::size <= n; r0 += B::size)
      add_lanes(whitened_norm2<B>([&](std::size_t a) { return B::load_unaligned(f + index_[a] * ldi + r0); }), lw + r0);
    for (; r0 < n; ++r0) lw[r0] += (*this)(f + r0, ldi);
  }

  /// log p(x | f) and its gradient with respect to the full K-vector f (zero where not
  /// measured): ∂/∂f_m = Σ⁻¹ (x_m − f_m).
  double value_and_gradient(const Eigen::Ref<const Eigen::VectorXd>& f, Eigen::Ref<Eigen::VectorXd> grad) const {
    const auto m = static_cast<Eigen::Index>(index_.size());
    Eigen::VectorXd r(m);
    for (Eigen::Index a = 0; a < m; ++a) r(a) = x_(a) - f(index_[static_cast<std::size_t>(a)]);
    const Eigen::VectorXd y = l_.triangularView<Eigen::Lower>().solve(r);
    const Eigen::VectorXd g = l_.transpose().triangularView<Eigen::Upper>().solve(y);
    grad.setZero();
    for (Eigen::Index a = 0; a < m; ++a) grad(index_[static_cast<std::size_t>(a)]) = g(a);
    return log_norm_ - 0.5 * y.squaredNorm();
  }

 private:
  static constexpr Eigen::Index kMax = 64;  // stack buffer; more observables are rejected below

  // |L⁻¹ (x − f)|² over the measured observables by forward substitution, for V = double (one
  // row) or an xsimd batch (rows in lanes; the same operations per lane); f_at(a) gives f of
  // measured observable a.
  template <class V, class F>
  V whitened_norm2(F&& f_at) const noexcept {
    V y[kMax];
    V q(0.0);
    const std::size_t m = index_.size();
    for (std::size_t a = 0; a < m; ++a) {
      const auto ai = static_cast<Eigen::Index>(a);
      V r = V(x_(ai)) - f_at(a);
      if (!diagonal_)
        for (std::size_t b = 0; b < a; ++b) r = r - V(l_(ai, static_cast<Eigen::Index>(b))) * y[b];
      y[a] = r * V(inv_diag_(ai));
      q = q + y[a] * y[a];
    }
    return q;
  }
  // lw[l] += the log density of lane l's squared whitened norm q (−inf where q is not finite)
  template <class B>
  void add_lanes(const B& q, double* lw) const noexcept {
    alignas(64) double buf[B::size];
    q.store_aligned(buf);
    for (std::size_t l = 0; l < B::size; ++l) lw[l] += std::isfinite(buf[l]) ? log_norm_ - 0.5 * buf[l] : -INFINITY;
  }
  Eigen::Index k_ = 0;
  std::vector<Eigen::Index> index_;
  Eigen::VectorXd x_;
  Eigen::MatrixXd l_;
  Eigen::VectorXd inv_diag_;  // 1 / diag(L)
  bool diagonal_ = false;     // L diagonal (uncorrelated errors): no off-diagonal terms
  double log_norm_ = 0.0;

 public:
  /// Largest number of measured observables supported by the allocation-free evaluation.
  static constexpr Eigen::Index max_observables() noexcept { return kMax; }
};

}  // namespace chempp::inference
