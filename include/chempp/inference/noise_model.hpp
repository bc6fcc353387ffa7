// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Observational noise models for simulated abundances: x ← x + ε with independent Gaussian ε.
///
/// The paper adds N(0, 0.05²) independently to each of the 8 abundances [dex] ("5 %" in the
/// code, applied as an absolute 0.05 dex; Buck et al. 2025 §2.3, docs/sbi-pipeline.md §4).
/// `gaussian_noise` has one σ per element; `per_star_gaussian_noise` one σ per star and element
/// (e.g. survey uncertainties from a catalogue).

#include "chempp/core/compat_eigen.hpp"

#include <concepts>
#include <cstddef>
#include <random>
#include <string>

#include "chempp/core/error.hpp"

namespace chempp::inference {

/// A noise model adds noise in place to the observable vector of star `star`.
template <class N>
concept NoiseModel = requires(const N& n, std::size_t star, Eigen::VectorXd& x,
                              std::mt19937_64& rng) {
  { n.dim() } -> std::convertible_to<std::size_t>;
  n.apply(star, x, rng);
};

/// Independent Gaussian noise with a fixed σ per element [dex], the same for every star.
class gaussian_noise {
 public:
  /// σ = `sigma_dex` for each of `n_elements` observables (paper: 8 × 0.05 dex).
  /// \throws invalid_argument unless sigma_dex ≥ 0 and n_elements > 0.
  explicit gaussian_noise(std::size_t n_elements = 8, double sigma_dex = 0.05)
      : sigma_(Eigen::VectorXd::Constant(static_cast<Eigen::Index>(n_elements), sigma_dex)) {
    if (n_elements == 0) throw invalid_argument("gaussian_noise: n_elements must be positive");
    check_nonnegative("gaussian_noise", "sigma_dex", sigma_dex);
  }
  /// One σ per element [dex]. \throws invalid_argument on an empty vector or a σ < 0 / NaN.
  explicit gaussian_noise(Eigen::VectorXd sigma_dex) : sigma_(std::move(sigma_dex)) {
    if (sigma_.size() == 0) throw invalid_argument("gaussian_noise: sigma_dex must not be empty");
    for (Eigen::Index i = 0; i < sigma_.size(); ++i) {
      check_nonnegative("gaussian_noise", "sigma_dex[" + std::to_string(i) + "]", sigma_(i));
    }
  }
  /// Number of observables.
  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(sigma_.size()); }
  /// σ per element [dex].
  [[nodiscard]] const Eigen::VectorXd& sigma() const noexcept { return sigma_; }
  /// σ of star `star` (the same for all stars).
  [[nodiscard]] const Eigen::VectorXd& sigma(std::size_t /*star*/) const noexcept { return sigma_; }

  /// Adds N(0, σ_j²) to x_j in place; `star` is ignored. \throws invalid_argument on size mismatch.
  template <class Rng>
  void apply(std::size_t /*star*/, Eigen::Ref<Eigen::VectorXd> x, Rng& rng) const {
    if (x.size() != sigma_.size()) {
      chempp::detail::throw_argument("gaussian_noise::apply", "x", "has the wrong size",
                                     static_cast<double>(x.size()));
    }
    std::normal_distribution<double> n01(0.0, 1.0);
    for (Eigen::Index j = 0; j < x.size(); ++j) x(j) += sigma_(j) * n01(rng);
  }

  /// Adds noise to every row of `x` (stars × elements) in place.
  template <class Rng>
  void apply_rows(Eigen::Ref<Eigen::MatrixXd> x, Rng& rng) const {
    if (x.cols() != sigma_.size()) {
      chempp::detail::throw_argument("gaussian_noise::apply_rows", "x",
                                     "has the wrong number of columns",
                                     static_cast<double>(x.cols()));
    }
    std::normal_distribution<double> n01(0.0, 1.0);
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      for (Eigen::Index j = 0; j < x.cols(); ++j) x(r, j) += sigma_(j) * n01(rng);
    }
  }

 private:
  Eigen::VectorXd sigma_;
};

/// Independent Gaussian noise with σ per star and element [dex] (rows = stars).
class per_star_gaussian_noise {
 public:
  /// \throws invalid_argument on an empty matrix or a σ < 0 / NaN (naming row and column).
  explicit per_star_gaussian_noise(Eigen::MatrixXd sigma_dex) : sigma_(std::move(sigma_dex)) {
    if (sigma_.size() == 0) {
      throw invalid_argument("per_star_gaussian_noise: sigma_dex must not be empty");
    }
    for (Eigen::Index r = 0; r < sigma_.rows(); ++r) {
      for (Eigen::Index c = 0; c < sigma_.cols(); ++c) {
        check_nonnegative("per_star_gaussian_noise",
                          "sigma_dex(" + std::to_string(r) + ", " + std::to_string(c) + ")",
                          sigma_(r, c));
      }
    }
  }
  /// Number of observables.
  [[nodiscard]] std::size_t dim() const noexcept { return static_cast<std::size_t>(sigma_.cols()); }
  /// Number of stars.
  [[nodiscard]] std::size_t stars() const noexcept {
    return static_cast<std::size_t>(sigma_.rows());
  }
  /// σ of star `star` [dex]. \throws invalid_argument if star ≥ stars().
  [[nodiscard]] Eigen::VectorXd sigma(std::size_t star) const {
    check_star(star);
    return sigma_.row(static_cast<Eigen::Index>(star)).transpose();
  }
  /// Adds N(0, σ_{star,j}²) to x_j in place.
  /// \throws invalid_argument if star ≥ stars() or x has the wrong size.
  template <class Rng>
  void apply(std::size_t star, Eigen::Ref<Eigen::VectorXd> x, Rng& rng) const {
    check_star(star);
    if (x.size() != sigma_.cols()) {
      chempp::detail::throw_argument("per_star_gaussian_noise::apply", "x", "has the wrong size",
                                     static_cast<double>(x.size()));
    }
    std::normal_distribution<double> n01(0.0, 1.0);
    const auto r = static_cast<Eigen::Index>(star);
    for (Eigen::Index j = 0; j < x.size(); ++j) x(j) += sigma_(r, j) * n01(rng);
  }

 private:
  void check_star(std::size_t star) const {
    if (star >= stars()) {
      chempp::detail::throw_argument("per_star_gaussian_noise", "star", "is out of range",
                                     static_cast<double>(star));
    }
  }
  Eigen::MatrixXd sigma_;
};

static_assert(NoiseModel<gaussian_noise>);
static_assert(NoiseModel<per_star_gaussian_noise>);

}  // namespace chempp::inference
