// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/nn/training_data.hpp"

#include <optional>

#include "support/test_support.hpp"

namespace nn = chempp::nn;

namespace {
/// A stand-in simulator result: fails when log10 SFR_peak < 0.3 (like CHEMPY's 5 % SFR test).
struct fake_result {
  bool good = true;
  std::array<double, 9> out{};
  bool ok() const { return good; }
  std::array<double, 9> raw9() const { return out; }
};
std::vector<fake_result> fake_simulator(std::span<const nn::theta_vector> th) {
  std::vector<fake_result> r(th.size());
  for (std::size_t i = 0; i < th.size(); ++i) {
    r[i].good = th[i][3] >= 0.3;
    for (std::size_t k = 0; k < 9; ++k) r[i].out[k] = std::sin(th[i][k % 6]) + static_cast<double>(k);
    if (i == 5) r[i].out[2] = std::nan("");  // a non-finite output is dropped too
  }
  return r;
}
}  // namespace

TEST_CASE("Test_training_data: uniform 5-sigma box and Gaussian prior draws") {
  const auto box = nn::sample_uniform_box(20000, 1);
  std::array<double, 6> lo, hi;
  lo.fill(1e9);
  hi.fill(-1e9);
  for (const auto& t : box)
    for (std::size_t k = 0; k < 6; ++k) {
      lo[k] = std::min(lo[k], t[k]);
      hi[k] = std::max(hi[k], t[k]);
    }
  for (std::size_t k = 0; k < 5; ++k) {
    const double a = nn::sbi_prior::mean[k] - 5 * nn::sbi_prior::sigma[k];
    const double b = nn::sbi_prior::mean[k] + 5 * nn::sbi_prior::sigma[k];
    INFO("parameter " << k);
    CHECK(lo[k] >= a);
    CHECK(hi[k] <= b);
    CHECK(lo[k] < a + 0.01 * (b - a));  // the box is filled
    CHECK(hi[k] > b - 0.01 * (b - a));
  }
  CHECK(lo[4] >= 0.0);
  CHECK(hi[4] <= 1.0);
  CHECK(lo[5] >= 1.0);
  CHECK(hi[5] <= 13.8);
  CHECK(nn::sample_uniform_box(3, 7) == nn::sample_uniform_box(3, 7));
  const auto g = nn::sample_gaussian_prior(40000, 2);
  for (std::size_t k = 0; k < 5; ++k) {
    double m = 0, v = 0;
    for (const auto& t : g) m += t[k];
    m /= static_cast<double>(g.size());
    for (const auto& t : g) v += (t[k] - m) * (t[k] - m);
    const double sd = std::sqrt(v / static_cast<double>(g.size()));
    INFO("parameter " << k << " mean " << m << " sd " << sd);
    // 40000 draws: standard error of the mean = sigma/200; 5 standard errors
    CHECK(std::abs(m - nn::sbi_prior::mean[k]) < 5 * nn::sbi_prior::sigma[k] / 200);
    CHECK(std::abs(sd / nn::sbi_prior::sigma[k] - 1.0) < 0.02);
  }
}

TEST_CASE("Test_training_data: failed and non-finite runs are dropped and counted") {
  const auto s = nn::generate_training_data(fake_simulator, 2000, 3);
  const auto thetas = nn::sample_uniform_box(2000, 3);
  std::size_t expect_failed = 0;
  for (std::size_t i = 0; i < thetas.size(); ++i) expect_failed += (thetas[i][3] < 0.3 || i == 5) ? 1 : 0;
  CHECK(s.n_requested == 2000);
  CHECK(s.n_failed == expect_failed);
  CHECK(s.n_failed > 300);  // log10 SFR_peak uniform on [0.05, 1.05]: about a quarter fail
  CHECK(static_cast<std::size_t>(s.x.cols()) + s.n_failed == 2000);
  CHECK(s.y.rows() == 9);
  CHECK(s.x.rows() == 6);
  CHECK(s.x.row(3).minCoeff() >= 0.3);
  CHECK(s.y.allFinite());
  // the pairs stay aligned
  CHECK(s.y(1, 0) == doctest::Approx(std::sin(s.x(1, 0)) + 1.0));
  auto short_sim = [](std::span<const nn::theta_vector> th) { return std::vector<fake_result>(th.size() / 2); };
  CHECK_THROWS_AS(nn::generate_training_data(short_sim, 10, 1), chempp::invalid_argument);
}
