// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Training and test data for the emulator from any simulator callable: the paper's prior
/// (Buck et al. 2025 Table 1; `docs/sbi-pipeline.md` §1–2), uniform draws over mean +- 5 sigma
/// (the emulator's training distribution), Gaussian draws (the held-out distribution), and a
/// generator that runs a batch simulator, drops failed or non-finite runs and reports them.
///
/// Parameter vector theta = (alpha_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T_Gyr).

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// One parameter vector theta (order above; T in Gyr).
using theta_vector = std::array<double, 6>;

/// The paper's prior on the five physics parameters and the birth-time range.
struct sbi_prior {
  /// Prior means of alpha_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out.
  static constexpr std::array<double, 5> mean{-2.3, -2.89, -0.3, 0.55, 0.5};
  /// Prior standard deviations of the same five parameters.
  static constexpr std::array<double, 5> sigma{0.3, 0.3, 0.3, 0.1, 0.1};
  static constexpr double t_min_gyr = 1.0;   ///< earliest birth time drawn (Gyr)
  static constexpr double t_max_gyr = 13.8;  ///< latest birth time drawn (Gyr)
};

/// `n` draws uniform on prior mean +- `n_sigma` sigma for the five physics parameters (the
/// x_out interval intersected with its physical range [0, 1]) and T ~ U[1, 13.8] Gyr, the
/// paper's emulator training distribution. Seeded `std::mt19937_64`.
inline std::vector<theta_vector> sample_uniform_box(std::size_t n, std::uint64_t seed, double n_sigma = 5.0) {
  check_positive("sample_uniform_box", "n_sigma", n_sigma);
  std::mt19937_64 rng(seed);
  std::array<std::uniform_real_distribution<double>, 6> u;
  for (std::size_t k = 0; k < 5; ++k) {
    double lo = sbi_prior::mean[k] - n_sigma * sbi_prior::sigma[k];
    double hi = sbi_prior::mean[k] + n_sigma * sbi_prior::sigma[k];
    if (k == 4) {
      lo = std::max(lo, 0.0);
      hi = std::min(hi, 1.0);
    }
    u[k] = std::uniform_real_distribution<double>(lo, hi);
  }
  u[5] = std::uniform_real_distribution<double>(sbi_prior::t_min_gyr, sbi_prior::t_max_gyr);
  std::vector<theta_vector> r(n);
  for (auto& t : r)
    for (std::size_t k = 0; k < 6; ++k) t[k] = u[k](rng);
  return r;
}

/// `n` draws from the Gaussian prior for the five physics parameters and T ~ U[1, 13.8] Gyr
/// (the distribution of the paper's validation set). Draws are not truncated: a simulator
/// that rejects one (e.g. x_out outside [0, 1]) reports a failure.
inline std::vector<theta_vector> sample_gaussian_prior(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> ut(sbi_prior::t_min_gyr, sbi_prior::t_max_gyr);
  std::vector<theta_vector> r(n);
  for (auto& t : r) {
    for (std::size_t k = 0; k < 5; ++k) t[k] = sbi_prior::mean[k] + sbi_prior::sigma[k] * nd(rng);
    t[5] = ut(rng);
  }
  return r;
}

/// Default projection from a simulation result to the emulator's outputs: `r.raw9()`
/// (CHEMPY's 9-vector C, Fe, H, He, Mg, N, Ne, O, Si).
struct raw9_projection {
  template <class R>
  decltype(auto) operator()(const R& r) const {
    return r.raw9();
  }
};

/// Simulated pairs ready for training: `x` (6 x n_ok) and `y` (n_out x n_ok) in the layout
/// of `chempp/nn/tensor.hpp`, plus what was dropped.
struct simulated_set {
  matrix<double> x;                          ///< parameters of the successful runs
  matrix<double> y;                          ///< their outputs
  std::size_t n_requested = 0;               ///< runs attempted
  std::size_t n_failed = 0;                  ///< runs dropped: not ok() or non-finite output
  std::vector<std::size_t> failed_indices;   ///< indices (into the requested thetas) dropped
};

/// Runs `simulate(std::span<const theta_vector>)` (returning one result per theta with
/// `ok()`) and collects `proj(result)` (a range of doubles of fixed length) for the
/// successful runs. Failed runs and runs with non-finite outputs are dropped and counted
/// in `n_failed` / `failed_indices` (the paper's `clean_data`). Throws `invalid_argument` if
/// the simulator returns the wrong number of results or outputs of varying length.
template <class Simulator, class Projection = raw9_projection>
simulated_set simulate_dataset(Simulator&& simulate, std::span<const theta_vector> thetas,
                               Projection proj = {}) {
  const auto results = simulate(thetas);
  if (results.size() != thetas.size())
    throw invalid_argument("simulate_dataset: simulator returned " + std::to_string(results.size()) +
                           " results for " + std::to_string(thetas.size()) + " inputs");
  simulated_set s;
  s.n_requested = thetas.size();
  std::vector<std::size_t> good;
  std::size_t n_out = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    bool ok = static_cast<bool>(results[i].ok());
    if (ok) {
      const auto& out = proj(results[i]);
      const auto len = static_cast<std::size_t>(std::size(out));
      if (n_out == 0) n_out = len;
      if (len != n_out)
        throw invalid_argument("simulate_dataset: result " + std::to_string(i) + " has " +
                               std::to_string(len) + " outputs, earlier ones " + std::to_string(n_out));
      for (auto v : out) ok = ok && std::isfinite(static_cast<double>(v));
    }
    if (ok) good.push_back(i);
    else s.failed_indices.push_back(i);
  }
  s.n_failed = s.failed_indices.size();
  s.x.resize(6, static_cast<Eigen::Index>(good.size()));
  s.y.resize(static_cast<Eigen::Index>(n_out), static_cast<Eigen::Index>(good.size()));
  for (std::size_t j = 0; j < good.size(); ++j) {
    const auto c = static_cast<Eigen::Index>(j);
    for (std::size_t k = 0; k < 6; ++k) s.x(static_cast<Eigen::Index>(k), c) = thetas[good[j]][k];
    Eigen::Index o = 0;
    for (auto v : proj(results[good[j]])) s.y(o++, c) = static_cast<double>(v);
  }
  return s;
}

/// `n` runs of `simulate` on the paper's training distribution (`sample_uniform_box`).
template <class Simulator, class Projection = raw9_projection>
simulated_set generate_training_data(Simulator&& simulate, std::size_t n, std::uint64_t seed,
                                     Projection proj = {}, double n_sigma = 5.0) {
  const auto thetas = sample_uniform_box(n, seed, n_sigma);
  return simulate_dataset(simulate, std::span<const theta_vector>(thetas), proj);
}

}  // namespace chempp::nn
