// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The paper's pipeline as composable library components (Buck et al. 2025 §2.3–2.4, with the
/// population inference of docs/inference.md): the observables and their catalog columns, the
/// region where CHEMPY has a solution, noisy training pairs with per-star σ and missing
/// elements, mock galaxies, the flow's context encoding and the flow-based per-star proposals
/// of the population engine.

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/flow/maf.hpp"
#include "chempp/flow/sampler.hpp"
#include "chempp/gce/star_formation.hpp"
#include "chempp/inference/population.hpp"
#include "chempp/inference/prior.hpp"
#include "chempp/inference/simulator.hpp"
#include "chempp/inference/star_likelihood.hpp"
#include "chempp/io/catalog.hpp"

namespace chempp::pipeline {

/// The paper's 8 observables [dex], in order.
inline const std::vector<std::string>& observable_names() {
  static const std::vector<std::string> n{"[C/Fe]", "[Fe/H]", "[He/Fe]", "[Mg/Fe]", "[N/Fe]", "[Ne/Fe]", "[O/Fe]", "[Si/Fe]"};
  return n;
}
/// Their catalog column names (GALAH/APOGEE style, lower case), same order.
inline const std::vector<std::string>& catalog_columns() {
  static const std::vector<std::string> n{"c_fe", "fe_h", "he_fe", "mg_fe", "n_fe", "ne_fe", "o_fe", "si_fe"};
  return n;
}
/// Indices of the observables among CHEMPY's 9 raw outputs (index 2 is [H/Fe]-like H, dropped).
inline const std::vector<std::size_t>& raw9_observables() {
  static const std::vector<std::size_t> n{0, 1, 3, 4, 5, 6, 7, 8};
  return n;
}
/// The 6 parameter names.
inline const std::vector<std::string>& parameter_names() {
  static const std::vector<std::string> n{"alpha_IMF", "log10_N_Ia", "log10_SFE", "log10_SFR_peak", "x_out", "T_Gyr"};
  return n;
}

// ---- where CHEMPY has a solution ---------------------------------------------------------------

/// CHEMPY's 5 % test (docs/chempy-model.md §4): a star born at T [Gyr] exists only if the SFR at
/// T is at least 5 % of the mean SFR; it depends on (log10 SFR_peak, T) alone (not on Λ).
[[nodiscard]] inline bool sfr_test_passes(double log10_sfr_peak, double t_gyr) {
  if (!(t_gyr > 0.0 && t_gyr <= 13.8) || !std::isfinite(log10_sfr_peak)) return false;
  std::array<double, 32> t{};
  const gce::chempy_time_grid grid;
  return grid.build(t_gyr, gce::gamma_sfh{}, std::pow(10.0, log10_sfr_peak), std::span<double>(t.data(), grid.max_points(t_gyr)))
      .sfr_test_passed;
}

/// The validity policy of the population engine for CHEMPY: θ valid iff the 5 % test passes and
/// x_out ∈ [0, 1] (CHEMPY's domain); the log of the valid prior mass is estimated once from
/// `draws` seeded prior draws (it does not depend on Λ: a constant of the evidence).
/// CHEMPY's other failure, a negative ISM mass, hits 0.26 % of the paper's prior (measured with
/// chempp-gce on 20,000 draws) and is not modelled (docs/inference.md).
[[nodiscard]] inline inference::validity_policy chempy_validity(const inference::product_prior& prior6,
                                                                std::size_t draws = 200000, std::uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::size_t ok = 0;  // draws = 0: the predicate only (fraction 1)
  for (std::size_t i = 0; i < draws; ++i) {
    const Eigen::VectorXd th = prior6.sample(rng);
    ok += (th(4) >= 0.0 && th(4) <= 1.0 && sfr_test_passes(th(3), th(5))) ? 1 : 0;
  }
  const double log_frac =
      draws == 0 ? 0.0 : std::log(std::max<double>(1.0, static_cast<double>(ok)) / static_cast<double>(draws));
  inference::validity_policy v;
  v.valid = [](const double* th) { return th[4] >= 0.0 && th[4] <= 1.0 && sfr_test_passes(th[3], th[5]); };
  v.log_fraction = [log_frac](const Eigen::Vector2d&) { return log_frac; };
  return v;
}

// ---- observational noise and masks -------------------------------------------------------------

/// How training pairs and mock catalogs get their uncertainties and missing elements.
/// Training mixes the paper's setting (every element, σ = 0.05 dex) with survey-like stars
/// (σ per star and element from U[σ_lo, σ_hi]; He and Ne or random elements missing), so one
/// flow serves as the proposal for any catalog.
struct noise_settings {
  double sigma_dex = 0.05;        ///< the paper's fixed σ [dex]
  double sigma_lo = 0.02;         ///< survey-like σ range [dex]
  double sigma_hi = 0.10;
  double p_fixed_sigma = 0.5;     ///< share of training stars with σ = sigma_dex everywhere
  double p_all_measured = 0.5;    ///< share of training stars with every element
  double p_no_he_ne = 0.3;        ///< share without He and Ne (APOGEE/GALAH); the rest drop at random
  double p_drop = 0.2;            ///< per-element drop probability of the random-mask stars
};

/// One star's σ and mask for flow training, drawn from `noise_settings`.
template <class Rng>
void draw_noise_pattern(const noise_settings& ns, Rng& rng, Eigen::Ref<Eigen::VectorXd> sigma,
                        Eigen::Ref<Eigen::Array<bool, Eigen::Dynamic, 1>> measured) {
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  const Eigen::Index k = sigma.size();
  if (u01(rng) < ns.p_fixed_sigma) sigma.setConstant(ns.sigma_dex);
  else
    for (Eigen::Index j = 0; j < k; ++j) sigma(j) = ns.sigma_lo + (ns.sigma_hi - ns.sigma_lo) * u01(rng);
  measured.setConstant(true);
  const double r = u01(rng);
  if (r < ns.p_all_measured) return;
  if (r < ns.p_all_measured + ns.p_no_he_ne && k == 8) {
    measured(2) = false;  // He
    measured(5) = false;  // Ne
    return;
  }
  for (Eigen::Index j = 0; j < k; ++j) measured(j) = u01(rng) >= ns.p_drop;
  if (!measured.any()) measured(static_cast<Eigen::Index>(u01(rng) * static_cast<double>(k)) % k) = true;
}

/// The flow's context for one star: (x_j or 0, measured_j, σ_j or 0) for every observable j —
/// 3K numbers, so one flow conditions on values, masks and uncertainties.
[[nodiscard]] inline Eigen::VectorXd flow_context(const inference::star_data& s) {
  const Eigen::Index k = s.x.size();
  Eigen::VectorXd c(3 * k);
  for (Eigen::Index j = 0; j < k; ++j) {
    const bool m = s.measured(j);
    c(j) = m ? s.x(j) : 0.0;
    c(k + j) = m ? 1.0 : 0.0;
    c(2 * k + j) = m ? s.sigma(j) : 0.0;
  }
  return c;
}

/// Contexts of many stars as rows.
[[nodiscard]] inline Eigen::MatrixXd flow_contexts(std::span<const inference::star_data> stars) {
  if (stars.empty()) return {};
  Eigen::MatrixXd c(static_cast<Eigen::Index>(stars.size()), 3 * stars[0].x.size());
  for (std::size_t i = 0; i < stars.size(); ++i) c.row(static_cast<Eigen::Index>(i)) = flow_context(stars[i]).transpose();
  return c;
}

// ---- simulated stars ---------------------------------------------------------------------------

/// Draws `n` parameter vectors from `prior6` restricted to `validity` (rejection), with the two
/// global parameters fixed to `lambda` when given.
template <class Rng>
[[nodiscard]] Eigen::MatrixXd draw_valid_theta(const inference::product_prior& prior6, const inference::validity_policy& validity,
                                               std::size_t n, Rng& rng, const Eigen::Vector2d* lambda = nullptr) {
  Eigen::MatrixXd th(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(prior6.dim()));
  for (Eigen::Index i = 0; i < th.rows(); ++i) {
    for (int attempt = 0;; ++attempt) {
      Eigen::VectorXd t = prior6.sample(rng);
      if (lambda != nullptr) t.head(2) = *lambda;
      if (!validity.valid || validity.valid(t.data())) {
        th.row(i) = t.transpose();
        break;
      }
      if (attempt > 100000) throw convergence_error("draw_valid_theta: no valid parameters after 1e5 draws");
    }
  }
  return th;
}

/// Simulated stars: f(θ_i) from `sim`, then σ and mask from `pattern(i, sigma, measured)` and
/// Gaussian noise; a failed simulation (NaN) is redrawn from the valid prior (counted in
/// `*redraws`). With `lambda` the stars share those global parameters (a mock galaxy).
template <inference::Simulator Sim, class Pattern, class Rng>
[[nodiscard]] std::vector<inference::star_data> simulate_stars(const Sim& sim, const inference::product_prior& prior6,
                                                               const inference::validity_policy& validity, std::size_t n,
                                                               Pattern&& pattern, Rng& rng, const Eigen::Vector2d* lambda = nullptr,
                                                               std::size_t* redraws = nullptr, Eigen::MatrixXd* theta_out = nullptr) {
  const auto k = static_cast<Eigen::Index>(sim.n_observables());
  std::vector<inference::star_data> stars;
  stars.reserve(n);
  Eigen::MatrixXd thetas(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(prior6.dim()));
  std::normal_distribution<double> n01(0.0, 1.0);
  std::size_t redrawn = 0;
  while (stars.size() < n) {
    const std::size_t want = n - stars.size();
    const Eigen::MatrixXd th = draw_valid_theta(prior6, validity, want, rng, lambda);
    const Eigen::MatrixXd f = inference::simulate_rows(sim, th);
    for (Eigen::Index i = 0; i < th.rows(); ++i) {
      if (!f.row(i).allFinite()) {
        ++redrawn;
        continue;
      }
      inference::star_data s;
      s.sigma.resize(k);
      s.measured.resize(k);
      pattern(stars.size(), s.sigma, s.measured);
      s.x.resize(k);
      for (Eigen::Index j = 0; j < k; ++j)
        s.x(j) = s.measured(j) ? f(i, j) + s.sigma(j) * n01(rng) : std::numeric_limits<double>::quiet_NaN();
      thetas.row(static_cast<Eigen::Index>(stars.size())) = th.row(i);
      stars.push_back(std::move(s));
    }
    if (redrawn > 100 * n + 1000) throw convergence_error("simulate_stars: the simulator fails almost everywhere");
  }
  if (redraws != nullptr) *redraws = redrawn;
  if (theta_out != nullptr) *theta_out = std::move(thetas);
  return stars;
}

/// A fixed noise pattern: σ [dex] for every element, the given elements never measured.
struct fixed_pattern {
  double sigma = 0.05;
  std::vector<Eigen::Index> missing;
  void operator()(std::size_t, Eigen::Ref<Eigen::VectorXd> s, Eigen::Ref<Eigen::Array<bool, Eigen::Dynamic, 1>> m) const {
    s.setConstant(sigma);
    m.setConstant(true);
    for (auto j : missing) m(j) = false;
  }
};

/// Survey-like pattern: σ per star and element from U[lo, hi], the given elements never measured.
template <class Rng>
struct survey_pattern {
  double lo = 0.02, hi = 0.10;
  std::vector<Eigen::Index> missing;
  Rng* rng = nullptr;
  void operator()(std::size_t, Eigen::Ref<Eigen::VectorXd> s, Eigen::Ref<Eigen::Array<bool, Eigen::Dynamic, 1>> m) const {
    std::uniform_real_distribution<double> u(lo, hi);
    for (Eigen::Index j = 0; j < s.size(); ++j) s(j) = u(*rng);
    m.setConstant(true);
    for (auto j : missing) m(j) = false;
  }
};

/// The stars of a survey catalog (read with `io::read_abundance_catalog`, one column per
/// observable) as the engine's `star_data`: x, σ and the measured mask, unmeasured x = NaN; each
/// star keyed by its data row (`abundance_catalog::row`), so that its random numbers are the same
/// whether the catalogue was read whole, by population or split over processes.
[[nodiscard]] inline std::vector<inference::star_data> catalog_stars(const io::abundance_catalog& cat) {
  std::vector<inference::star_data> stars(cat.stars());
  for (std::size_t i = 0; i < cat.stars(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    stars[i].x = cat.x.row(r).transpose();
    stars[i].sigma = cat.sigma.row(r).transpose();
    stars[i].measured = cat.measured.row(r).transpose();
    if (cat.row.size() == cat.stars()) stars[i].key = cat.row[i];
  }
  return stars;
}

// ---- per-star proposals from the flow ------------------------------------------------------------

/// Per-star proposals of the population engine from a flow q(θ | context): `n_samples` draws per
/// star (T restricted to the prior's support by rejection when possible; stars whose posterior
/// lies outside are sampled unrestricted and clamped to the support by the map), then a Gaussian
/// fit in (Λ, u). Observation i uses its own stream keyed on `key_of(stars[i], i)` (independent of
/// the thread count and of the other stars passed).
template <class Flow>
[[nodiscard]] std::vector<inference::star_proposal> flow_proposals(const Flow& flow, std::span<const inference::star_data> stars,
                                                                   const inference::unbounded_map& local, std::size_t n_samples,
                                                                   std::uint64_t seed, unsigned threads,
                                                                   std::size_t* unrestricted = nullptr) {
  const Eigen::MatrixXd ctx = flow_contexts(stars);
  if (ctx.cols() != flow.context_size())
    throw invalid_argument("flow_proposals: the flow's context size (" + std::to_string(flow.context_size()) +
                           ") does not match the stars' (" + std::to_string(ctx.cols()) + ")");
  const auto ns = static_cast<Eigen::Index>(n_samples);
  const auto d = flow.features();
  flow::support_box box;
  box.lower = Eigen::VectorXd::Constant(d, -INFINITY);
  box.upper = Eigen::VectorXd::Constant(d, INFINITY);
  for (std::size_t j = 0; j < local.dim(); ++j) {
    const auto& f = local.prior().factors()[j];
    if (f.family == inference::prior_factor::kind::uniform) {
      box.lower(d - static_cast<Eigen::Index>(local.dim()) + static_cast<Eigen::Index>(j)) = f.a;
      box.upper(d - static_cast<Eigen::Index>(local.dim()) + static_cast<Eigen::Index>(j)) = f.b;
    }
  }
  box.max_candidates_per_sample = 50.0;
  Eigen::MatrixXd samples(ctx.rows() * ns, d);
  std::size_t unres = 0;
  std::vector<std::uint64_t> keys(stars.size());  // catalog-wide keys (`star_data::key`)
  for (std::size_t i = 0; i < stars.size(); ++i) keys[i] = inference::key_of(stars[i], i);
  try {
    flow::sample_many<xsimd::default_arch, float>(flow, ctx, ns, seed, samples, threads, &box, keys);
  } catch (const convergence_error&) {  // low acceptance in the box for some star: per star
    for (Eigen::Index i = 0; i < ctx.rows(); ++i) {
      auto rows = samples.middleRows(i * ns, ns);
      const std::uint64_t k = keys[static_cast<std::size_t>(i)];
      try {
        flow::sample_many<xsimd::default_arch, float>(flow, ctx.row(i), ns, seed + k, rows, 1, &box);
      } catch (const convergence_error&) {  // this star: unrestricted draws (counted)
        flow::sample_many<xsimd::default_arch, float>(flow, ctx.row(i), ns, seed + k, rows, 1);
        ++unres;
      }
    }
  }
  if (unrestricted != nullptr) *unrestricted = unres;
  std::vector<inference::star_proposal> props;
  props.reserve(stars.size());
  for (Eigen::Index i = 0; i < ctx.rows(); ++i)
    props.push_back(inference::fit_star_proposal(samples.middleRows(i * ns, ns), 2, local));
  return props;
}

}  // namespace chempp::pipeline
