// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/inference/gaussian_combiner.hpp"

#include <Eigen/LU>

#include <array>
#include <cmath>
#include <vector>

#include "chempp/core/compat_xtensor.hpp"
#include "inference/gaussian_2d.hpp"
#include "support/test_support.hpp"

using namespace chempp::inference;
using chempp::test::gaussian_2d;

namespace {

gaussian paper_lambda_prior() { return gaussian_2d(-2.3, -2.89, 0.3, 0.3, 0.0); }

}  // namespace

TEST_CASE("gaussian_combiner: N = 1 returns the star unchanged for the 2-D products") {
  const std::array<gaussian, 1> s{gaussian_2d(-2.2, -2.8, 0.07, 0.1, 0.8)};
  for (const auto& g : {corrected_gaussian_product{}.combine(s, paper_lambda_prior()),
                        paper_gaussian_product{}.combine(s, paper_lambda_prior())}) {
    CHECK((g.mean - s[0].mean).norm() < 1e-14);
    CHECK((g.cov - s[0].cov).norm() < 1e-15);
  }
}

TEST_CASE("gaussian_combiner: closed-form conjugate case, prior divided out exactly") {
  // Likelihoods N(y_i | Λ, S_i) with Gaussian prior: the per-star posteriors are
  // P_i = P_p + S_i^-1, and the exact joint posterior has P = P_p + Σ S_i^-1.
  const gaussian prior = gaussian_2d(0.5, -1.0, 1.0, 2.0, 0.3);
  const Eigen::Matrix2d pp = prior.cov.inverse();
  std::vector<gaussian> stars;
  Eigen::Matrix2d p_exact = pp;
  Eigen::Vector2d h_exact = pp * prior.mean;
  for (int i = 0; i < 5; ++i) {
    const gaussian lik = gaussian_2d(0.1 * i, 0.2 - 0.05 * i, 0.5 + 0.1 * i, 0.7, -0.4 + 0.1 * i);
    const Eigen::Matrix2d li = lik.cov.inverse();
    gaussian post;
    post.cov = (pp + li).inverse();
    post.mean = post.cov * (pp * prior.mean + li * lik.mean);
    stars.push_back(post);
    p_exact += li;
    h_exact += li * lik.mean;
  }
  const Eigen::Matrix2d c_exact = p_exact.inverse();
  const Eigen::Vector2d m_exact = c_exact * h_exact;
  const auto g = combine_stars(std::span<const gaussian>(stars), prior);
  CHECK((g.mean - m_exact).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((g.cov - c_exact).cwiseAbs().maxCoeff() < 1e-12);
  // The paper's formula counts the prior 2N - 1 times instead of once: strictly narrower.
  const auto gp = paper_gaussian_product{}.combine(stars, prior);
  const Eigen::Matrix2d pp_paper = p_exact + 2.0 * 4.0 * pp;
  CHECK((gp.cov - pp_paper.inverse()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(gp.cov(0, 0) < g.cov(0, 0));
}

TEST_CASE("gaussian_combiner: 1-D inverse variance is the weighted mean per parameter") {
  const std::array<gaussian, 2> s{gaussian_2d(1.0, 0.0, 1.0, 2.0, 0.9), gaussian_2d(2.0, 3.0, 2.0, 1.0, -0.5)};
  const auto g = inverse_variance_1d{}.combine(s, paper_lambda_prior());
  CHECK(g.mean(0) == doctest::Approx((1.0 + 2.0 / 4.0) / (1.0 + 0.25)).epsilon(1e-15));
  CHECK(g.mean(1) == doctest::Approx((0.0 + 3.0) / (0.25 + 1.0)).epsilon(1e-15));
  CHECK(g.cov(0, 0) == doctest::Approx(1.0 / 1.25).epsilon(1e-15));
  CHECK(g.cov(0, 1) == 0.0);
}

TEST_CASE("gaussian_combiner: errors on non-positive-definite results and bad input") {
  // Per-star posteriors as wide as the prior: P = 2 P_p - P_p ... with 3 stars wider than the
  // prior the corrected precision is negative definite.
  const auto prior = paper_lambda_prior();
  const std::vector<gaussian> wide(3, gaussian_2d(-2.3, -2.89, 0.5, 0.5, 0.0));
  CHECK_THROWS_WITH_AS((void)corrected_gaussian_product{}.combine(wide, prior),
                       doctest::Contains("not positive definite"), chempp::numerical_error);
  CHECK_NOTHROW((void)paper_gaussian_product{}.combine(wide, prior));
  CHECK_THROWS_AS((void)corrected_gaussian_product{}.combine(std::span<const gaussian>{}, prior),
                  chempp::invalid_argument);
  std::vector<gaussian> bad{gaussian_2d(0, 0, 1, 1, 0)};
  bad[0].cov(0, 1) = bad[0].cov(1, 0) = 2.0;  // not SPD
  CHECK_THROWS_WITH_AS((void)corrected_gaussian_product{}.combine(bad, prior),
                       doctest::Contains("star 0"), chempp::invalid_argument);
  bad[0] = gaussian_2d(0, 0, 1, 1, 0);
  bad[0].mean(1) = NAN;
  CHECK_THROWS_AS((void)inverse_variance_1d{}.combine(bad, prior), chempp::invalid_argument);
}

TEST_CASE("gaussian_combiner: reproduces the sbi-pipeline.md §6 reference table to 1e-4") {
  const auto fa = chempp::test::shared_file("data/sbi-chempy/alpha_IMF_obs_NPE_C_maf_8_4.npy");
  const auto fb = chempp::test::shared_file("data/sbi-chempy/log10_N_Ia_obs_NPE_C_maf_8_4.npy");
  if (!fa || !fb) return;
  // float32 samples, promoted to float64 below (as the reference computation did).
  const xt::xarray<float> a = xt::load_npy<float>(fa->string());
  const xt::xarray<float> b = xt::load_npy<float>(fb->string());
  REQUIRE(a.dimension() == 2);
  REQUIRE(a.shape()[0] == 200);
  REQUIRE(a.shape()[1] == 1000);
  std::vector<gaussian> fit1, fit0;
  for (std::size_t i = 0; i < 200; ++i) {
    Eigen::MatrixXd s(1000, 2);
    for (std::size_t k = 0; k < 1000; ++k) {
      s(static_cast<Eigen::Index>(k), 0) = static_cast<double>(a(i, k));
      s(static_cast<Eigen::Index>(k), 1) = static_cast<double>(b(i, k));
    }
    fit1.push_back(fit_gaussian(s, 1));
    fit0.push_back(fit_gaussian(s, 0));
  }
  struct row {
    std::size_t n;
    double code[5], corr[5], iv[4];  // μα, μN, σα, σN, ρ
  };
  const row table[] = {
      {1,
       {-2.28328, -2.89255, 0.07907, 0.11957, 0.828},
       {-2.28328, -2.89255, 0.07907, 0.11957, 0.828},
       {-2.28328, -2.89255, 0.07903, 0.11951}},
      {2,
       {-2.27948, -2.86814, 0.05445, 0.08189, 0.805},
       {-2.27564, -2.86203, 0.05969, 0.09115, 0.837},
       {-2.27801, -2.86500, 0.05682, 0.08611}},
      {10,
       {-2.30827, -2.88114, 0.02313, 0.03277, 0.797},
       {-2.30790, -2.87994, 0.02679, 0.03877, 0.847},
       {-2.31364, -2.88715, 0.02493, 0.03590}},
      {100,
       {-2.30712, -2.89333, 0.00719, 0.01027, 0.780},
       {-2.30887, -2.89581, 0.00841, 0.01232, 0.837},
       {-2.30932, -2.89330, 0.00780, 0.01136}},
      {200,
       {-2.29464, -2.88261, 0.00512, 0.00718, 0.784},
       {-2.29238, -2.87917, 0.00598, 0.00859, 0.840},
       {-2.29562, -2.88094, 0.00557, 0.00796}},
  };
  const auto prior = paper_lambda_prior();
  chempp::test::worst_error w_mu, w_rho;
  auto check_row = [&](const gaussian& g, const double* ref, bool has_rho, const std::string& at) {
    const Eigen::VectorXd sd = g.stddev();
    w_mu.update(std::abs(g.mean(0) - ref[0]), at + " mu_alpha");
    w_mu.update(std::abs(g.mean(1) - ref[1]), at + " mu_NIa");
    w_mu.update(std::abs(sd(0) - ref[2]), at + " sigma_alpha");
    w_mu.update(std::abs(sd(1) - ref[3]), at + " sigma_NIa");
    if (has_rho) w_rho.update(std::abs(g.correlation(0, 1) - ref[4]), at + " rho");
  };
  for (const auto& r : table) {
    const std::span<const gaussian> s1(fit1.data(), r.n), s0(fit0.data(), r.n);
    const std::string n = "N=" + std::to_string(r.n);
    check_row(paper_gaussian_product{}.combine(s1, prior), r.code, true, n + " code(+)");
    check_row(corrected_gaussian_product{}.combine(s1, prior), r.corr, true, n + " corrected");
    check_row(inverse_variance_1d{}.combine(s0, prior), r.iv, false, n + " 1-D");
  }
  MESSAGE("worst |Δ| of μ, σ: " << w_mu.value << " at " << w_mu.where);
  MESSAGE("worst |Δ| of ρ: " << w_rho.value << " at " << w_rho.where);
  CHECK(w_mu.value < 1e-4);
  CHECK(w_rho.value < 1e-3);  // ρ is tabulated to 3 decimals
}

// Issue 15: silent NaN/inf results of the combiners and Gaussian helpers are now typed errors.
TEST_CASE("gaussian helpers: NaN priors, overflowing fits, denormal variances and NaN points") {
  auto prior = paper_lambda_prior();
  const std::vector<gaussian> one{gaussian_2d(-2.3, -2.9, 0.1, 0.1, 0.0)};
  prior.mean(0) = NAN;  // gave a NaN posterior silently
  CHECK_THROWS_WITH_AS((void)corrected_gaussian_product{}.combine(one, prior), doctest::Contains("prior mean"),
                       chempp::invalid_argument);
  CHECK_THROWS_AS((void)paper_gaussian_product{}.combine(one, prior), chempp::invalid_argument);
  prior = paper_lambda_prior();
  std::vector<gaussian> tiny{gaussian_2d(-2.3, -2.9, 0.1, 0.1, 0.0)};
  tiny[0].cov(0, 0) = 1e-320;  // denormal: 1/v overflows (gave NaN silently)
  CHECK_THROWS_AS((void)inverse_variance_1d{}.combine(tiny, prior), chempp::numerical_error);
  Eigen::MatrixXd huge(3, 1);
  huge << 1.7e308, -1.7e308, 1.7e308;  // finite samples whose variance overflows (gave inf silently)
  CHECK_THROWS_AS((void)chempp::inference::fit_gaussian(huge), chempp::numerical_error);
  const gaussian g = gaussian_2d(0, 0, 1, 1, 0);
  CHECK_THROWS_AS((void)g.mahalanobis2(Eigen::Vector2d(NAN, 0.0)), chempp::invalid_argument);  // gave NaN
  CHECK(g.mahalanobis2(Eigen::Vector2d(1.0, 2.0)) == doctest::Approx(5.0));
}
