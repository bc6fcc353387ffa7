// SPDX-License-Identifier: BSD-3-Clause
// Tests of include/chempp/cuda/gaussian_fit.cuh: per-star mean and covariance of the first k
// dimensions, host version of the kernel and the GPU kernel, against
// `chempp::inference::fit_gaussian`.
#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/inference/gaussian_fit.hpp"
#include "gpu_api.hpp"
#include "support/test_support.hpp"

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace cu = chempp::cuda;
namespace inf = chempp::inference;

namespace {

// n_stars blocks of n correlated rows (6 columns), row-major, plus the same as Eigen blocks.
std::vector<double> make_samples(std::size_t n_stars, std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> nd;
  std::vector<double> s(n_stars * n * 6);
  for (std::size_t star = 0; star < n_stars; ++star)
    for (std::size_t r = 0; r < n; ++r) {
      double* row = &s[(star * n + r) * 6];
      const double a = nd(rng), b = nd(rng);
      row[0] = -2.3 + 0.1 * double(star) + 0.3 * a;
      row[1] = -2.9 + 0.2 * a + 0.15 * b;  // correlated with row[0]
      for (int j = 2; j < 6; ++j) row[j] = nd(rng);
    }
  return s;
}

Eigen::MatrixXd star_block(const std::vector<double>& s, std::size_t star, std::size_t n, Eigen::Index k) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(n), k);
  for (std::size_t r = 0; r < n; ++r)
    for (Eigen::Index j = 0; j < k; ++j) m(static_cast<Eigen::Index>(r), j) = s[(star * n + r) * 6 + static_cast<std::size_t>(j)];
  return m;
}

double worst_vs_cpu(const std::vector<double>& s, std::size_t n_stars, std::size_t n, int k, int ddof,
                    const std::vector<double>& mean, const std::vector<double>& cov) {
  double worst = 0.0;
  for (std::size_t star = 0; star < n_stars; ++star) {
    const inf::gaussian g = inf::fit_gaussian(star_block(s, star, n, k), ddof);
    for (int a = 0; a < k; ++a) {
      worst = std::max(worst, std::abs(mean[star * std::size_t(k) + std::size_t(a)] - g.mean[a]) / std::max(1.0, std::abs(g.mean[a])));
      for (int b = 0; b < k; ++b)
        worst = std::max(worst, std::abs(cov[star * std::size_t(k * k) + std::size_t(a * k + b)] - g.cov(a, b)) /
                                    std::max(1e-3, std::abs(g.cov(a, b))));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("kernel's two-pass moments (host version) equal fit_gaussian, ddof 0 and 1") {
  auto rng = chempp::test::seeded_rng(17);
  const std::size_t n_stars = 7, n = 1000;
  const auto s = make_samples(n_stars, n, rng);
  for (int ddof : {0, 1})
    for (int k : {1, 2, 3}) {
      std::vector<double> mean(n_stars * std::size_t(k)), cov(n_stars * std::size_t(k * k));
      for (std::size_t star = 0; star < n_stars; ++star)
        cu::gaussian_moments_host(s.data() + star * n * 6, n, 6, k, ddof, mean.data() + star * std::size_t(k),
                                  cov.data() + star * std::size_t(k * k));
      INFO("ddof " << ddof << ", k " << k);
      CHECK(worst_vs_cpu(s, n_stars, n, k, ddof, mean, cov) < 1e-12);
    }
}

TEST_CASE("GPU Gaussian fits equal fit_gaussian (1e-10) and reject non-finite samples") {
  std::string why;
  if (!cu::test::gpu_available(why)) {
    MESSAGE("SKIPPED: no CUDA device (" << why << "); GPU Gaussian-fit checks not run");
    return;
  }
  auto rng = chempp::test::seeded_rng(19);
  const std::size_t n_stars = 300, n = 1000;
  auto s = make_samples(n_stars, n, rng);
  for (int ddof : {0, 1}) {
    std::vector<double> mean, cov;
    cu::test::gpu_fit_gaussians(s, n_stars, n, 6, 2, ddof, mean, cov);
    INFO("ddof " << ddof);
    CHECK(worst_vs_cpu(s, n_stars, n, 2, ddof, mean, cov) < 1e-10);
  }
  s[(123 * n + 17) * 6 + 1] = NAN;
  std::vector<double> mean, cov;
  CHECK_THROWS_WITH_AS(cu::test::gpu_fit_gaussians(s, n_stars, n, 6, 2, 1, mean, cov), doctest::Contains("star 123"),
                       chempp::invalid_argument);
  CHECK_THROWS_AS(cu::test::gpu_fit_gaussians(s, n_stars, n, 6, 9, 1, mean, cov), chempp::invalid_argument);
}
