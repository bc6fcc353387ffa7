// SPDX-License-Identifier: BSD-3-Clause
// Tests of include/chempp/cuda/maf.cuh (and convert.hpp): MAF log density and sampling from given
// base draws, the kernels' per-sample code on the host and on the GPU when present, against
// `chempp::flow::conditional_maf` (double).
#include "chempp/cuda/convert.hpp"
#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/flow/maf.hpp"
#include "gpu_api.hpp"
#include "support/test_support.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace cu = chempp::cuda;
namespace fl = chempp::flow;

namespace {

// The paper's estimator shape (sbi MAF 8/4) with global-first ordering and a non-trivial
// standardisation; weights from the PyTorch-style initialisation.
template <class Flow = fl::sbi_maf>
Flow make_flow(std::uint64_t seed, fl::permutation_kind perm = fl::permutation_kind::global_first) {
  fl::maf_config cfg;
  cfg.features = 6;
  cfg.context = 8;
  cfg.permutation = perm;
  cfg.n_global = 2;
  cfg.seed = seed;
  Flow f(cfg);
  std::mt19937_64 rng(seed + 100);
  std::uniform_real_distribution<double> u(0.3, 2.0), m(-2.0, 2.0);
  Eigen::VectorXd tm(6), ts(6), xm(8), xs(8);
  for (int i = 0; i < 6; ++i) tm[i] = m(rng), ts[i] = u(rng);
  for (int i = 0; i < 8; ++i) xm[i] = m(rng), xs[i] = u(rng);
  f.set_standardization(tm, ts, xm, xs);
  return f;
}

Eigen::MatrixXd random_rows(Eigen::Index n, Eigen::Index d, std::mt19937_64& rng, double sd = 1.0) {
  std::normal_distribution<double> nd(0.0, sd);
  Eigen::MatrixXd m(n, d);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = nd(rng);
  return m;
}

template <class T>
std::vector<T> row_major(const Eigen::MatrixXd& m) {
  std::vector<T> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(r * m.cols() + c)] = static_cast<T>(m(r, c));
  return v;
}

// max |a - b| / max(1, |b|) over all entries; b row-major like a.
template <class T>
double worst_relative(const std::vector<T>& a, const std::vector<double>& b, std::string& where) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double e = std::abs(double(a[i]) - b[i]) / std::max(1.0, std::abs(b[i]));
    if (!(e <= worst)) {
      worst = std::isnan(e) ? INFINITY : e;
      where = "entry " + std::to_string(i) + ": " + std::to_string(double(a[i])) + " vs " + std::to_string(b[i]);
    }
  }
  return worst;
}

std::vector<double> to_vec(const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

}  // namespace

TEST_CASE("to_maf_weights copies weights, permutations and standardisation") {
  const auto f = make_flow(1);
  const cu::maf_weights w = cu::to_maf_weights(f);
  CHECK(w.features == 6);
  CHECK(w.context == 8);
  CHECK(w.hidden == 8);
  CHECK(w.num_transforms() == 4);
  CHECK(w.transforms[2].w_out[3 * 8 + 5] == f.mades()[2].w_out(3, 5));
  CHECK(w.transforms[1].w_ctx[7 * 8 + 2] == f.mades()[1].w_ctx(7, 2));
  CHECK(w.permutations[3][1] == static_cast<int>(f.permutations()[3][1]));
  CHECK(w.keeps_leading_block(2));
  CHECK(!cu::to_maf_weights(make_flow(1, fl::permutation_kind::random)).keeps_leading_block(2) ==
        !make_flow(1, fl::permutation_kind::random).marginal_is_exact(2));
  auto bad = w;
  bad.permutations[0][0] = bad.permutations[0][1];
  CHECK_THROWS_WITH_AS(cu::pack<float>(bad), doctest::Contains("permutations[0]"), chempp::invalid_argument);
  bad = w;
  bad.transforms[1].b_out.pop_back();
  CHECK_THROWS_WITH_AS(cu::pack<double>(bad), doctest::Contains("transforms[1].b_out"), chempp::invalid_argument);
}

TEST_CASE("sample_from_base (CPU) inverts the flow: forward of θ gives back z") {
  auto rng = chempp::test::seeded_rng(5);
  const auto f = make_flow(2);
  const Eigen::MatrixXd x = random_rows(3, 8, rng);
  const Eigen::MatrixXd z = random_rows(3 * 50, 6, rng);
  const Eigen::MatrixXd theta = cu::sample_from_base(f, z, x, 50);
  Eigen::MatrixXd x_rep(150, 8);
  for (Eigen::Index s = 0; s < 150; ++s) x_rep.row(s) = x.row(s / 50);
  Eigen::MatrixXd u0, c;
  f.standardize(theta, x_rep, u0, c);
  fl::maf_workspace ws;
  f.forward_standardized(u0, c, ws);
  const double err = (ws.u.back() - z.transpose()).cwiseAbs().maxCoeff();
  CHECK(err < 1e-10);
}

TEST_CASE("kernel code on the host equals conditional_maf (log_prob, marginal, inverse)") {
  auto rng = chempp::test::seeded_rng(7);
  const auto f = make_flow(3);
  const auto w = cu::to_maf_weights(f);
  const Eigen::Index n = 500;
  Eigen::MatrixXd theta = random_rows(n, 6, rng, 2.0);
  for (Eigen::Index j = 0; j < 6; ++j) theta.col(j).array() += f.theta_mean()[j];
  const Eigen::MatrixXd x = random_rows(n, 8, rng, 2.0);
  const auto ref = to_vec(f.log_prob(theta, x));
  const auto ref_marg = to_vec(f.log_prob_marginal(theta.leftCols(2), x));
  const Eigen::Index n_obs = 4, n_per = 100;
  const Eigen::MatrixXd xo = x.topRows(n_obs);
  const Eigen::MatrixXd z = random_rows(n_obs * n_per, 6, rng);
  const auto ref_theta = row_major<double>(cu::sample_from_base(f, z, xo, n_per));
  // Marginal on the GPU side: the rows still carry D values; dims >= 2 do not matter.
  Eigen::MatrixXd theta_marg = theta;
  for (Eigen::Index j = 2; j < 6; ++j) theta_marg.col(j).setConstant(123.0);

  SUBCASE("double: 1e-10") {
    const auto p = cu::pack<double>(w);
    std::vector<double> out(n), out_m(n), th(static_cast<std::size_t>(n_obs * n_per * 6));
    const auto tv = row_major<double>(theta), xv = row_major<double>(x), tm = row_major<double>(theta_marg);
    cu::host_log_prob(p, tv.data(), xv.data(), static_cast<std::size_t>(n), false, 6, out.data());
    cu::host_log_prob(p, tm.data(), xv.data(), static_cast<std::size_t>(n), false, 2, out_m.data());
    cu::host_sample_from_base(p, row_major<double>(xo).data(), n_obs, n_per, row_major<double>(z).data(), th.data());
    std::string where;
    double e = worst_relative(out, ref, where);
    INFO("log_prob worst at " << where);
    CHECK(e < 1e-10);
    e = worst_relative(out_m, ref_marg, where);
    INFO("marginal worst at " << where);
    CHECK(e < 1e-10);
    e = worst_relative(th, ref_theta, where);
    INFO("inverse worst at " << where);
    CHECK(e < 1e-10);
    // The compiled-in paper shape (unrolled, what the GPU runs for this flow) gives the same.
    std::vector<double> out_p(n), th_p(th.size());
    cu::host_log_prob<cu::paper_maf_shape>(p, tv.data(), xv.data(), static_cast<std::size_t>(n), false, 6, out_p.data());
    cu::host_sample_from_base<cu::paper_maf_shape>(p, row_major<double>(xo).data(), n_obs, n_per,
                                                   row_major<double>(z).data(), th_p.data());
    e = worst_relative(out_p, ref, where);
    INFO("paper-shape log_prob worst at " << where);
    CHECK(e < 1e-10);
    e = worst_relative(th_p, ref_theta, where);
    INFO("paper-shape inverse worst at " << where);
    CHECK(e < 1e-10);
  }
  SUBCASE("float: 1e-5 relative to max(1, |reference|)") {
    const auto p = cu::pack<float>(w);
    std::vector<float> out(n), th(static_cast<std::size_t>(n_obs * n_per * 6));
    const auto tv = row_major<float>(theta), xv = row_major<float>(x);
    cu::host_log_prob(p, tv.data(), xv.data(), static_cast<std::size_t>(n), false, 6, out.data());
    cu::host_sample_from_base(p, row_major<float>(xo).data(), n_obs, n_per, row_major<float>(z).data(), th.data());
    std::string where;
    double e = worst_relative(out, ref, where);
    INFO("log_prob worst at " << where);
    CHECK(e < 1e-5);
    e = worst_relative(th, ref_theta, where);
    INFO("inverse worst at " << where);
    CHECK(e < 1e-5);
    std::vector<float> th_p(th.size());
    cu::host_sample_from_base<cu::paper_maf_shape>(p, row_major<float>(xo).data(), n_obs, n_per,
                                                   row_major<float>(z).data(), th_p.data());
    e = worst_relative(th_p, ref_theta, where);
    INFO("paper-shape inverse worst at " << where);
    CHECK(e < 1e-5);
  }
  SUBCASE("sigmoid scale, relu MADEs, broadcast observation") {
    using flow_t = fl::conditional_maf<fl::relu_activation, fl::sigmoid_scale>;
    const auto g = make_flow<flow_t>(9, fl::permutation_kind::random);
    const Eigen::MatrixXd x1 = x.topRows(1);
    const auto r = to_vec(g.log_prob(theta, x1));
    const auto p = cu::pack<double>(cu::to_maf_weights(g));
    std::vector<double> out(n);
    cu::host_log_prob(p, row_major<double>(theta).data(), row_major<double>(x1).data(), static_cast<std::size_t>(n),
                      true, 6, out.data());
    std::string where;
    const double e = worst_relative(out, r, where);
    INFO("worst at " << where);
    CHECK(e < 1e-10);
  }
  SUBCASE("a fixed shape policy that does not match the flow is refused") {
    const auto p = cu::pack<double>(w);
    std::vector<double> out(1);
    using other = cu::fixed_maf_shape<6, 8, 16, 2>;
    CHECK_THROWS_AS(cu::host_log_prob<other>(p, row_major<double>(theta).data(), row_major<double>(x).data(), 1, false,
                                             6, out.data()),
                    chempp::invalid_argument);
  }
}

TEST_CASE("GPU MAF equals conditional_maf: log_prob and sampling from the same base draws") {
  std::string why;
  if (!cu::test::gpu_available(why)) {
    MESSAGE("SKIPPED: no CUDA device (" << why << "); GPU MAF checks not run");
    return;
  }
  MESSAGE("device: " << cu::test::gpu_description());
  auto rng = chempp::test::seeded_rng(11);
  const auto f = make_flow(4);
  const auto w = cu::to_maf_weights(f);
  const Eigen::Index n = 20000;
  Eigen::MatrixXd theta = random_rows(n, 6, rng, 2.0);
  for (Eigen::Index j = 0; j < 6; ++j) theta.col(j).array() += f.theta_mean()[j];
  const Eigen::MatrixXd x = random_rows(n, 8, rng, 2.0);
  const auto ref = to_vec(f.log_prob(theta, x));
  const auto ref_marg = to_vec(f.log_prob_marginal(theta.leftCols(2), x));
  const Eigen::Index n_obs = 50, n_per = 200;
  const Eigen::MatrixXd xo = x.topRows(n_obs);
  const Eigen::MatrixXd z = random_rows(n_obs * n_per, 6, rng);
  const auto ref_theta = row_major<double>(cu::sample_from_base(f, z, xo, n_per));
  std::string where;

  double e = worst_relative(cu::test::gpu_maf_log_prob(w, row_major<float>(theta), row_major<float>(x), 6), ref, where);
  INFO("float log_prob worst at " << where);
  CHECK(e < 1e-5);
  e = worst_relative(cu::test::gpu_maf_log_prob(w, row_major<double>(theta), row_major<double>(x), 6), ref, where);
  INFO("double log_prob worst at " << where);
  CHECK(e < 1e-10);
  e = worst_relative(cu::test::gpu_maf_log_prob(w, row_major<double>(theta), row_major<double>(x), 2), ref_marg, where);
  INFO("double marginal worst at " << where);
  CHECK(e < 1e-10);
  e = worst_relative(cu::test::gpu_maf_sample_from_base(w, row_major<float>(xo), n_per, row_major<float>(z)), ref_theta,
                     where);
  INFO("float sample_from_base worst at " << where);
  CHECK(e < 1e-5);
  e = worst_relative(cu::test::gpu_maf_sample_from_base(w, row_major<double>(xo), n_per, row_major<double>(z)),
                     ref_theta, where);
  INFO("double sample_from_base worst at " << where);
  CHECK(e < 1e-10);
}

TEST_CASE("GPU Philox sampling matches the CPU sampler's distribution and honours a support box") {
  std::string why;
  if (!cu::test::gpu_available(why)) {
    MESSAGE("SKIPPED: no CUDA device (" << why << "); GPU sampling checks not run");
    return;
  }
  auto rng = chempp::test::seeded_rng(13);
  const auto f = make_flow(5);
  const auto w = cu::to_maf_weights(f);
  const Eigen::MatrixXd x = random_rows(1, 8, rng);
  const Eigen::Index n = 40000;
  std::size_t outside = 99;
  const auto g = cu::test::gpu_maf_sample(w, row_major<double>(x), n, 2024, {}, {}, outside);
  CHECK(outside == 0);
  const Eigen::MatrixXd c = f.sample(n, x, rng);
  // Means agree within 5 standard errors of the difference, per dimension.
  for (Eigen::Index j = 0; j < 6; ++j) {
    double mg = 0.0;
    for (Eigen::Index s = 0; s < n; ++s) mg += g[static_cast<std::size_t>(s * 6 + j)];
    mg /= double(n);
    const double mc = c.col(j).mean();
    const double sd = std::sqrt((c.col(j).array() - mc).square().mean());
    INFO("dimension " << j << ": GPU mean " << mg << ", CPU mean " << mc << ", sd " << sd);
    CHECK(std::abs(mg - mc) < 5.0 * sd * std::sqrt(2.0 / double(n)));
  }
  // Same seed, same draws; a box on dimension 0 at its central 50 % is respected.
  std::size_t o2 = 0;
  CHECK(cu::test::gpu_maf_sample(w, row_major<double>(x), 1000, 2024, {}, {}, o2) ==
        std::vector<double>(g.begin(), g.begin() + 1000 * 6));
  std::vector<double> col0(c.col(0).data(), c.col(0).data() + n);
  std::sort(col0.begin(), col0.end());
  std::vector<double> lo(6, -INFINITY), hi(6, INFINITY);
  lo[0] = col0[static_cast<std::size_t>(n / 4)];
  hi[0] = col0[static_cast<std::size_t>(3 * n / 4)];
  const auto b = cu::test::gpu_maf_sample(w, row_major<double>(x), 5000, 7, lo, hi, outside);
  CHECK(outside == 0);
  for (std::size_t s = 0; s < 5000; ++s) {
    REQUIRE(b[s * 6] >= lo[0]);
    REQUIRE(b[s * 6] <= hi[0]);
  }
}
