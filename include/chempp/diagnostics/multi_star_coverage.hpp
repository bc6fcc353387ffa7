// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Frequentist check of multi-star combiners: for many mock galaxies with known global
/// parameters Λ*, how often the combined posterior's credible regions contain Λ* (issue 6).
///
/// The region at level p of a combined Gaussian N(μ, Σ) is the ellipsoid
/// (Λ − μ)ᵀ Σ⁻¹ (Λ − μ) ≤ χ²_d⁻¹(p); with Λ* drawn from the prior the contained fraction must
/// equal p for an exact posterior (Bayesian coverage), up to binomial noise
/// √(p(1 − p)/galaxies). A combiner that throws for a galaxy (e.g. a corrected precision that is
/// not positive definite) is counted in `failures` and that galaxy is left out of the fractions.

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/diagnostics/statistics.hpp"
#include "chempp/inference/gaussian_combiner.hpp"
#include "chempp/inference/gaussian_fit.hpp"

namespace chempp::diagnostics {

/// One mock galaxy: per-star Gaussian posteriors of Λ and the true Λ.
struct mock_galaxy {
  std::vector<inference::gaussian> stars;  ///< per-star posterior fits
  Eigen::VectorXd truth;                   ///< true Λ
};

/// Coverage of one combiner over many galaxies.
struct combiner_coverage_result {
  std::vector<double> levels;          ///< credibility levels p
  std::vector<double> fraction;        ///< fraction of galaxies whose region at p contains Λ*
  std::vector<double> binomial_sigma;  ///< √(p(1 − p)/used): the expected scatter
  std::size_t used = 0;                ///< galaxies combined successfully
  std::size_t failures = 0;            ///< galaxies where the combiner threw
  double mean_mahalanobis2 = 0.0;  ///< mean of (Λ* − μ)ᵀ Σ⁻¹ (Λ* − μ) (exact posterior: d)
};

/// Coverage at `levels` over `galaxies` of any combination `combine(galaxy) -> gaussian` of
/// dimension `dim` (e.g. the exact grid combiner's moments). \throws invalid_argument on an
/// empty input, a level outside (0, 1), or a truth whose size differs from `dim`.
template <class Combine>
requires std::is_invocable_r_v<inference::gaussian, const Combine&, const mock_galaxy&>
[[nodiscard]] combiner_coverage_result combination_coverage(std::span<const mock_galaxy> galaxies,
                                                            std::size_t dim,
                                                            std::span<const double> levels,
                                                            const Combine& combine) {
  if (galaxies.empty() || levels.empty() || dim == 0) {
    throw invalid_argument("combiner_coverage: need galaxies, levels and dim > 0");
  }
  const double d = static_cast<double>(dim);
  combiner_coverage_result r;
  std::vector<double> thresholds;
  for (double p : levels) {
    check_in_closed("combiner_coverage", "level", p, 0.0, 1.0);
    if (!(p > 0.0 && p < 1.0)) {
      chempp::detail::throw_argument("combiner_coverage", "level", "must lie in (0, 1)", p);
    }
    r.levels.push_back(p);
    thresholds.push_back(chi2_quantile(p, d));
  }
  std::vector<std::size_t> inside(levels.size(), 0);
  double m2sum = 0.0;
  for (std::size_t g = 0; g < galaxies.size(); ++g) {
    if (galaxies[g].truth.size() != static_cast<Eigen::Index>(dim)) {
      throw invalid_argument("combiner_coverage: galaxy " + std::to_string(g) +
                             " has a truth of the wrong size");
    }
    double m2 = 0.0;
    try {
      const inference::gaussian post = combine(galaxies[g]);
      m2 = post.mahalanobis2(galaxies[g].truth);
    } catch (const numerical_error&) {  // a combiner without an answer for this galaxy
      ++r.failures;
      continue;
    } catch (const convergence_error&) {
      ++r.failures;
      continue;
    }
    ++r.used;
    m2sum += m2;
    for (std::size_t k = 0; k < thresholds.size(); ++k) {
      if (m2 <= thresholds[k]) ++inside[k];
    }
  }
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const double u = static_cast<double>(r.used);
    r.fraction.push_back(r.used ? static_cast<double>(inside[k]) / u : NAN);
    r.binomial_sigma.push_back(r.used ? std::sqrt(levels[k] * (1.0 - levels[k]) / u) : NAN);
  }
  r.mean_mahalanobis2 = r.used ? m2sum / static_cast<double>(r.used) : NAN;
  return r;
}

/// Coverage of the Gaussian combiner policy `c` at `levels` over `galaxies`, with the prior
/// `prior` that the per-star posteriors contain.
template <inference::GaussianCombiner Combiner>
[[nodiscard]] combiner_coverage_result combiner_coverage(std::span<const mock_galaxy> galaxies,
                                                         const inference::gaussian& prior,
                                                         std::span<const double> levels,
                                                         const Combiner& c = {}) {
  return combination_coverage(galaxies, prior.dim(), levels,
                              [&](const mock_galaxy& g) { return c.combine(g.stars, prior); });
}

}  // namespace chempp::diagnostics
