// SPDX-License-Identifier: BSD-3-Clause
// The shared MAF kernels (chempp/kernels/maf.hpp) against test oracles written the plain way:
// the density through the Eigen training forward pass (dense masked products), the inverse by D
// full MADE passes per transform (nflows' algorithm), for every policy pair, the condition_first
// degree rule and hidden widths 8 and 50, and for every value type the library instantiates
// (double, float, xsimd batches, 1/2/4 registers in flight): the result must not depend on the
// value type beyond rounding.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "chempp/flow/sampler.hpp"
#include "chempp/kernels/maf.hpp"
#include "chempp/kernels/simd.hpp"
#include "perturbed_flow.hpp"
#include "support/test_support.hpp"

using namespace chempp::flow;
using chempp::test::perturbed_flow;
namespace kn = chempp::kernels;

namespace {

// Oracle: nflows' inverse, D full (masked, dense) MADE passes per transform.
template <class Flow>
Eigen::MatrixXd oracle_inverse(const Flow& flow, const Eigen::MatrixXd& z, const Eigen::MatrixXd& c) {
  using Scale = typename Flow::scale_type;
  const Eigen::Index d = flow.features(), b = z.cols();
  Eigen::MatrixXd cur = z, y(d, b), u(d, b), out;
  made_cache cache;
  for (std::size_t tt = flow.mades().size(); tt > 0; --tt) {
    const std::size_t t = tt - 1;
    const auto& p = flow.permutations()[t];
    for (Eigen::Index i = 0; i < d; ++i) y.row(p[static_cast<std::size_t>(i)]) = cur.row(i);
    u.setZero();
    for (Eigen::Index i = 0; i < d; ++i) {
      flow.mades()[t].forward(u, c, cache, out);
      for (Eigen::Index j = 0; j < b; ++j) u(i, j) = (y(i, j) - out(d + i, j)) / Scale::apply(out(i, j));
    }
    cur = u;
  }
  return cur;
}

// The kernel on value type V (V::lanes columns per call, or one column for a scalar V).
template <class V, class T, class Flow>
Eigen::MatrixXd kernel_inverse(const Flow& flow, const Eigen::MatrixXd& z, const Eigen::MatrixXd& c) {
  using Act = typename Flow::activation_type;
  using Scale = typename Flow::scale_type;
  const auto pk = flow.template packed<T>();
  const auto& L = pk.layout;
  constexpr Eigen::Index lanes = [] {
    if constexpr (std::is_arithmetic_v<V>) return Eigen::Index{1};
    else return static_cast<Eigen::Index>(V::lanes);
  }();
  std::vector<V> cur(6), cv(8), ctxb(std::size_t(L.transforms * L.h)), work(std::size_t(kn::maf_work_size(L.d, L.h, L.blocks)));
  std::vector<T> buf(static_cast<std::size_t>(lanes));
  Eigen::MatrixXd out(z.rows(), z.cols());
  auto load = [&](auto get) {
    for (Eigen::Index l = 0; l < lanes; ++l) buf[std::size_t(l)] = static_cast<T>(get(l));
    if constexpr (std::is_arithmetic_v<V>) return buf[0];
    else return V::load(buf.data());
  };
  for (Eigen::Index s0 = 0; s0 < z.cols(); s0 += lanes) {
    for (int i = 0; i < 6; ++i) cur[std::size_t(i)] = load([&](Eigen::Index l) { return z(i, std::min(s0 + l, z.cols() - 1)); });
    for (int j = 0; j < 8; ++j) cv[std::size_t(j)] = load([&](Eigen::Index l) { return c(j, std::min(s0 + l, z.cols() - 1)); });
    for (int t = 0; t < L.transforms; ++t)
      kn::maf_context_bias<kn::dynamic_shape>(L, pk.params.data(), t, cv.data(), ctxb.data() + std::size_t(t * L.h));
    const auto bias = [&](int t, int k) { return ctxb[std::size_t(t * L.h + k)]; };
    kn::maf_inverse<Act, Scale, kn::dynamic_shape>(L, pk.params.data(), pk.ints.data(), cur.data(), bias, work.data());
    for (int i = 0; i < 6; ++i) {
      if constexpr (std::is_arithmetic_v<V>) buf[0] = cur[std::size_t(i)];
      else cur[std::size_t(i)].store(buf.data());
      for (Eigen::Index l = 0; l < lanes && s0 + l < z.cols(); ++l) out(i, s0 + l) = double(buf[std::size_t(l)]);
    }
  }
  return out;
}

template <class Flow>
void check_flow(const Flow& flow, const char* what) {
  INFO(what);
  auto rng = chempp::test::seeded_rng(2112);
  std::normal_distribution<double> nd;
  const Eigen::Index n = 37;  // not a multiple of any lane count
  Eigen::MatrixXd z(6, n), c(8, n);
  for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < c.size(); ++i) c.data()[i] = nd(rng);
  const Eigen::MatrixXd ref = oracle_inverse(flow, z, c);
  using B = xsimd::batch<double>;
  using BF = xsimd::batch<float>;
  const auto err = [&](const Eigen::MatrixXd& m) { return (m - ref).cwiseAbs().maxCoeff() / (1.0 + ref.cwiseAbs().maxCoeff()); };
  CHECK(err(kernel_inverse<double, double>(flow, z, c)) < 1e-12);
  CHECK(err(kernel_inverse<kn::multi<B, 1>, double>(flow, z, c)) < 1e-12);
  CHECK(err(kernel_inverse<kn::multi<B, 2>, double>(flow, z, c)) < 1e-12);
  CHECK(err(kernel_inverse<kn::multi<B, 4>, double>(flow, z, c)) < 1e-12);
  // the same arithmetic whatever the number of registers in flight: bit-identical
  CHECK((kernel_inverse<kn::multi<B, 1>, double>(flow, z, c) - kernel_inverse<kn::multi<B, 4>, double>(flow, z, c)).cwiseAbs().maxCoeff() == 0.0);
  // 8 registers: the function policies run 4 registers at a time (kernels::apply_fn), same bits
  CHECK((kernel_inverse<kn::multi<B, 1>, double>(flow, z, c) - kernel_inverse<kn::multi<B, 8>, double>(flow, z, c)).cwiseAbs().maxCoeff() == 0.0);
  CHECK((kernel_inverse<kn::multi<BF, 1>, float>(flow, z, c) - kernel_inverse<kn::multi<BF, 8>, float>(flow, z, c)).cwiseAbs().maxCoeff() == 0.0);
  const double ef = err(kernel_inverse<kn::multi<BF, 2>, float>(flow, z, c));
  INFO("float relative error " << ef);
  CHECK(ef < 2e-4);
  CHECK(err(kernel_inverse<float, float>(flow, z, c)) < 2e-4);

  // density: the kernel (conditional_maf::log_prob, the SIMD sampler) against the training forward pass
  Eigen::MatrixXd theta = ((ref.array().colwise() * flow.theta_std().array()).colwise() + flow.theta_mean().array()).transpose();
  Eigen::MatrixXd x = ((c.array().colwise() * flow.x_std().array()).colwise() + flow.x_mean().array()).transpose();
  maf_workspace ws;
  Eigen::MatrixXd u0, cs;
  flow.standardize(theta, x, u0, cs);
  flow.forward_standardized(u0, cs, ws);
  const Eigen::VectorXd oracle_lq = ws.log_q.array() - flow.theta_std().array().log().sum();
  CHECK((flow.log_prob(theta, x) - oracle_lq).cwiseAbs().maxCoeff() < 1e-10);
  maf_sampler<Flow, xsimd::default_arch, double, 1> s1(flow);
  maf_sampler<Flow, xsimd::default_arch, double, 4> s4(flow);
  maf_sampler<Flow> s8(flow);  // the default K = 8 (log_prob on 4 registers)
  Eigen::VectorXd a(n), b(n), b8(n);
  s1.log_prob(theta, x, a);
  s4.log_prob(theta, x, b);
  s8.log_prob(theta, x, b8);
  CHECK((a - oracle_lq).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
  CHECK((a - b8).cwiseAbs().maxCoeff() == 0.0);
}

}  // namespace

TEST_CASE("kernels: MAF inverse and density equal the plain oracles for every policy, degree rule, width and value type") {
  check_flow(perturbed_flow<sbi_maf>(3, 8, false, 0.4), "tanh + softplus, H 8");
  check_flow(perturbed_flow<sbi_maf>(4, 50, false, 0.4), "tanh + softplus, H 50");
  check_flow(perturbed_flow<sbi_maf>(5, 8, true, 0.4), "tanh + softplus, condition_first");
  check_flow(perturbed_flow<conditional_maf<relu_activation, sigmoid_scale>>(6, 8, false, 0.4), "relu + sigmoid");
}

TEST_CASE("kernels: maf_inverse on G groups at once gives each group its G = 1 result, bit for bit") {
  // the groups share one observation's context bias, as the sampler's do; run-time and
  // compile-time shapes, double and float SIMD values (seed 77)
  const auto flow = perturbed_flow<sbi_maf>(8, 8, false, 0.4);
  using Act = sbi_maf::activation_type;
  using Scale = sbi_maf::scale_type;
  using fixed = kn::fixed_shape<6, 8, 8, 2>;
  const auto run = [&](auto tag) {
    using V = typename decltype(tag)::type;
    using T = kn::scalar_of_t<V>;
    const auto pk = flow.template packed<T>();
    const auto& L = pk.layout;
    REQUIRE(fixed::matches(L));
    auto rng = chempp::test::seeded_rng(77);
    std::normal_distribution<double> nd;
    std::vector<T> c(8), ctxb(std::size_t(L.transforms * L.h));
    for (auto& v : c) v = static_cast<T>(nd(rng));
    for (int t = 0; t < L.transforms; ++t)
      kn::maf_context_bias<kn::dynamic_shape>(L, pk.params.data(), t, c.data(), ctxb.data() + std::size_t(t * L.h));
    const auto bias = [&](int t, int k) { return ctxb[std::size_t(t * L.h + k)]; };
    constexpr int G = 3;
    const auto ws = static_cast<std::size_t>(kn::maf_work_size(L.d, L.h, L.blocks));
    std::vector<V> z(G * 6), one, many, fx, work(G * ws);
    for (auto& v : z) v = V(static_cast<T>(nd(rng)));
    one = many = fx = z;
    for (int g = 0; g < G; ++g)
      kn::maf_inverse<Act, Scale, kn::dynamic_shape>(L, pk.params.data(), pk.ints.data(), one.data() + 6 * g, bias, work.data());
    kn::maf_inverse<Act, Scale, kn::dynamic_shape, G>(L, pk.params.data(), pk.ints.data(), many.data(), bias, work.data());
    kn::maf_inverse<Act, Scale, fixed, G>(L, pk.params.data(), pk.ints.data(), fx.data(), bias, work.data());
    const auto same = [](const V& a, const V& b) {
      if constexpr (std::is_arithmetic_v<V>) {
        return std::memcmp(&a, &b, sizeof a) == 0;
      } else {
        std::vector<T> x(V::lanes), y(V::lanes);
        a.store(x.data());
        b.store(y.data());
        return x == y;
      }
    };
    for (std::size_t i = 0; i < z.size(); ++i) {
      CAPTURE(i);
      CHECK(same(many[i], one[i]));
      CHECK(same(fx[i], one[i]));
    }
  };
  run(std::type_identity<double>{});
  run(std::type_identity<kn::multi<xsimd::batch<double>, 2>>{});
  run(std::type_identity<kn::multi<xsimd::batch<float>, 4>>{});
}

TEST_CASE("kernels: packing rejects a weight outside the MADE masks, naming it") {
  auto flow = perturbed_flow<sbi_maf>(7, 8, false, 0.4);
  flow.mades()[2].w_in(0, 5) = 0.25;  // unit 0 has degree 1: it must not see input 5
  CHECK_THROWS_WITH_AS((void)flow.packed<double>(), doctest::Contains("transforms[2].w_in(0, 5)"), chempp::invalid_argument);
  CHECK_THROWS_AS(maf_sampler<sbi_maf>{flow}, chempp::invalid_argument);
}

TEST_CASE("kernels: functions are the same formula for every value type") {
  // the SIMD value type of the kernels (multi: fused multiply-add on every architecture; a bare
  // xsimd 8.1 batch on AVX-512 rounds x y + z twice, which the library never uses for policies)
  using B = kn::multi<xsimd::batch<double>, 1>;
  auto rng = chempp::test::seeded_rng(2113);
  std::uniform_real_distribution<double> ud(-30.0, 30.0);
  alignas(64) double xs[B::lanes], ys[B::lanes];
  for (int rep = 0; rep < 50; ++rep) {
    for (auto& v : xs) v = ud(rng);
    kn::tanh_fn::apply(B::load(xs)).store(ys);
    for (std::size_t l = 0; l < B::lanes; ++l) {
      CHECK(std::abs(ys[l] - kn::tanh_fn::apply(xs[l])) < 4e-16);
      CHECK(std::abs(ys[l] - std::tanh(xs[l])) < 4e-16);
    }
    kn::softplus_scale::apply(B::load(xs)).store(ys);
    for (std::size_t l = 0; l < B::lanes; ++l)
      CHECK(std::abs(ys[l] - kn::softplus_scale::apply(xs[l])) < 1e-15 * (1.0 + std::abs(ys[l])));
  }
  // float: the rational approximation (degree 4/4 on [-8.17, 8.17]), ≤ 4e-7 absolute, odd, |y| ≤ 1,
  // SIMD and scalar forms within 2 ulp
  using BF = xsimd::batch<float>;
  alignas(64) float xf[BF::size], yf[BF::size];
  double worst = 0.0;
  int not_odd = 0, beyond_one = 0;
  for (int i = -200000; i <= 200000; ++i) {
    const float x = static_cast<float>(i) * 6e-5f;  // [-12, 12]
    const float y = kn::tanh_fn::apply(x);
    worst = std::max(worst, std::abs(double(y) - std::tanh(double(x))));
    not_odd += y != -kn::tanh_fn::apply(-x) ? 1 : 0;
    beyond_one += std::abs(y) > 1.0f ? 1 : 0;
  }
  CHECK(not_odd == 0);
  CHECK(beyond_one == 0);
  for (float x : {1e-30f, 1e-8f, 1e-3f}) CHECK(std::abs(kn::tanh_fn::apply(x) / x - 1.0f) < 1e-6f);  // relative, near 0
  INFO("float tanh: worst absolute error " << worst);
  CHECK(worst < 4e-7);
  {  // |y| ≤ 1 for every float, with no clamp on the result: every x in [4, 8.25] (below 4 the error
     // bound above keeps y < tanh 4 + 4e-7 < 1; odd symmetry covers the negatives; beyond 8.17 the
     // argument is clamped), a SIMD group at a time, fused (`multi`: the kernels', scalar and CUDA
     // arithmetic) and, on AVX-512, unfused (xsimd 8.1's raw batch multiplies and adds separately,
     // as `multi` does on x86 targets without FMA; kernels/simd.hpp)
    using BI = xsimd::batch<std::uint32_t>;
    alignas(64) std::uint32_t lane[BI::size];
    for (std::size_t l = 0; l < BI::size; ++l) lane[l] = static_cast<std::uint32_t>(l);
    const BI step(static_cast<std::uint32_t>(BI::size));
    BI bits = BI::load_aligned(lane);
    std::uint32_t bottom = 0, top = 0;
    const float from = 4.0f, limit = 8.25f;
    std::memcpy(&bottom, &from, sizeof bottom);
    std::memcpy(&top, &limit, sizeof top);
    bits += BI(bottom);
    using MF = kn::multi<BF, 1>;
    MF largest(0.0f), x;
    BF largest_unfused(0.0f);
    for (std::uint32_t b = bottom; b <= top; b += static_cast<std::uint32_t>(BI::size), bits += step) {
      x.v[0] = xsimd::bitwise_cast<BF>(bits);
      largest = kn::max(largest, kn::tanh_fn::apply(x));
      largest_unfused = xsimd::max(largest_unfused, kn::tanh_fn::apply(x.v[0]));
    }
    alignas(64) float top_values[BF::size], top_unfused[BF::size];
    largest.store(top_values);
    largest_unfused.store_aligned(top_unfused);
    const float most = *std::max_element(top_values, top_values + BF::size);
    const float most_unfused = *std::max_element(top_unfused, top_unfused + BF::size);
    INFO("float tanh: 1 - largest value over [4, 8.25] = " << 1.0 - double(most) << " (raw batch: "
                                                           << 1.0 - double(most_unfused) << ")");
    CHECK(most <= 1.0f);
    CHECK(most_unfused <= 1.0f);
    CHECK(kn::tanh_fn::apply(8.17f) > 1.0f - 3e-7f);  // the value beyond the clamp
    CHECK(kn::tanh_fn::apply(1e30f) == kn::tanh_fn::apply(8.17f));
    CHECK(kn::tanh_fn::apply(-std::numeric_limits<float>::infinity()) == -kn::tanh_fn::apply(8.17f));
  }
  for (int rep = 0; rep < 50; ++rep) {
    for (auto& v : xf) v = static_cast<float>(ud(rng));
    kn::tanh_fn::apply(BF::load_aligned(xf)).store_aligned(yf);
    for (std::size_t l = 0; l < BF::size; ++l) CHECK(std::abs(yf[l] - kn::tanh_fn::apply(xf[l])) <= 2.5e-7f);  // 2 ulp near 1
  }
}

TEST_CASE("kernels: double tanh within 3e-16 absolute and 6e-16 relative of the long-double tanh, NaN passes through") {
  // Padé exp with the exact 2^k of the range reduction (functions.hpp); reference: std::tanh in
  // long double. Arguments span 2^-9 .. 2^3 in magnitude plus the special points.
  auto rng = chempp::test::seeded_rng(2117);
  std::uniform_real_distribution<double> ud(-1.0, 1.0);
  using B = xsimd::batch<double>;
  using M = kn::multi<B, 3>;
  alignas(64) double xs[M::lanes], ys[M::lanes];
  double worst_abs = 0.0, worst_rel = 0.0;
  const auto check_one = [&](double x, double y) {
    const long double ref = std::tanh(static_cast<long double>(x));
    const double e = std::abs(double(static_cast<long double>(y) - ref));
    worst_abs = std::max(worst_abs, e);
    if (ref != 0.0L) worst_rel = std::max(worst_rel, e / std::abs(double(ref)));
  };
  for (int rep = 0; rep < 20000; ++rep) {
    for (std::size_t l = 0; l < M::lanes; ++l) xs[l] = std::ldexp(ud(rng), int((rep + l) % 13) - 9);
    kn::tanh_fn::apply(M::load(xs)).store(ys);
    for (std::size_t l = 0; l < M::lanes; ++l) {
      CHECK(ys[l] == kn::tanh_fn::apply(xs[l]));  // the same arithmetic on every value type
      CHECK(kn::tanh_fn::apply(-xs[l]) == -ys[l]);  // exactly odd (negative arguments: the same formula)
      check_one(xs[l], ys[l]);
    }
  }
  for (double x : {0.0, 1e-300, 5e-324, 1e-20, 1e-8, 0.17328679513998632, 0.1732867951399863, 0.17508047717363318, 19.0, 19.1, 20.0, 700.0, 1e300})
    for (double sx : {x, -x}) {
      check_one(sx, kn::tanh_fn::apply(sx));
      CHECK(std::abs(kn::tanh_fn::apply(sx)) <= 1.0);
    }
  INFO("double tanh: worst absolute " << worst_abs << ", relative " << worst_rel);
  CHECK(worst_abs <= 3e-16);
  CHECK(worst_rel <= 6e-16);
  CHECK(kn::tanh_fn::apply(std::numeric_limits<double>::infinity()) == 1.0);
  CHECK(kn::tanh_fn::apply(-std::numeric_limits<double>::infinity()) == -1.0);
  // a NaN is not clamped to ±1: scalar, SIMD, double and float
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(kn::tanh_fn::apply(nan)));
  CHECK(std::isnan(kn::tanh_fn::apply(static_cast<float>(nan))));
  CHECK(std::isnan(kn::tanh_fn::apply(B(nan)).get(0)));
  CHECK(std::isnan(kn::tanh_fn::apply(xsimd::batch<float>(static_cast<float>(nan))).get(0)));
}

namespace {
// A function policy F in precision T against its long-double reference `ref` (log1p(e^x) for
// softplus), on groups of M::lanes values (SIMD), each of which the scalar path must give to the
// same bits; below `tail_x` the result is e^tail_x (an absolute error, kept apart from the
// relative one).
template <class T>
long double softplus_ref(T x) {
  const long double v = x;
  return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}
template <class F, class T>
struct function_sweep {
  using M = kn::multi<xsimd::batch<T>, 2>;
  long double (*ref)(T);
  T tail_x;
  alignas(64) T xs[M::lanes] = {};
  alignas(64) T ys[M::lanes] = {};
  double worst = 0.0, worst_x = 0.0, worst_tail = 0.0;
  int mismatch = 0;
  void check_group() {  // the values in xs
    F::apply(M::load(xs)).store(ys);
    for (std::size_t l = 0; l < M::lanes; ++l) {
      mismatch += ys[l] != F::apply(xs[l]) ? 1 : 0;  // the same arithmetic on every value type
      const long double r = ref(xs[l]);
      const double e = double(std::abs(static_cast<long double>(ys[l]) - r));
      if (xs[l] < tail_x) {
        worst_tail = std::max(worst_tail, e);
      } else if (e / double(r) > worst) {
        worst = e / double(r);
        worst_x = double(xs[l]);
      }
    }
  }
  // the sweep's verdict: SIMD = scalar everywhere, relative error ≤ rel, absolute ≤ tail below tail_x
  void check_bounds(const char* what, double rel, double tail) const {
    INFO(what << ": worst relative " << worst << " at x = " << worst_x << ", worst absolute below " << double(tail_x) << " " << worst_tail);
    CHECK(mismatch == 0);
    CHECK(worst <= rel);
    CHECK(worst_tail < tail);
  }
  void check_point(T x) {  // scalar only
    const double e = double(std::abs(static_cast<long double>(F::apply(x)) - ref(x)));
    worst = std::max(worst, e / double(ref(x)));
  }
};
template <class T>
using softplus_sweep = function_sweep<kn::softplus_fn, T>;
// The double sweeps' arguments: a grid of [-750, 750] (step 1e-3), 2^18 log-uniform magnitudes
// of 1e-12..700 of either sign (seeded), and the special points of the range reduction.
template <class F>
void sweep_double_range(function_sweep<F, double>& sw, std::uint64_t seed) {
  constexpr auto lanes = function_sweep<F, double>::M::lanes;
  for (long i = -750000; i <= 750000; i += long(lanes)) {
    for (std::size_t l = 0; l < lanes; ++l) sw.xs[l] = double(i + long(l)) * 1e-3;
    sw.check_group();
  }
  auto rng = chempp::test::seeded_rng(seed);
  std::uniform_real_distribution<double> lu(std::log(1e-12), std::log(700.0));
  for (int rep = 0; rep < (1 << 18) / int(lanes); ++rep) {
    for (std::size_t l = 0; l < lanes; ++l) sw.xs[l] = (l % 2 ? -1.0 : 1.0) * std::exp(lu(rng));
    sw.check_group();
  }
  for (double x : {0.0, -0.0, 1e-300, -1e-300, 0.34657, -0.34658, 36.7, -36.7, 707.9, -707.9, 708.0, -708.0}) sw.check_point(x);
}
// ±infinity, a huge argument and NaN (scalar and SIMD): the limits every softplus keeps.
template <class T>
void check_softplus_limits(T huge, T tail) {
  const T inf = std::numeric_limits<T>::infinity();
  CHECK(kn::softplus_fn::apply(inf) == inf);
  CHECK(kn::softplus_fn::apply(huge) == huge);
  CHECK(kn::softplus_fn::apply(-inf) >= T(0));
  CHECK(kn::softplus_fn::apply(-inf) < tail);
  CHECK(std::isnan(kn::softplus_fn::apply(std::numeric_limits<T>::quiet_NaN())));
  CHECK(std::isnan(kn::softplus_fn::apply(xsimd::batch<T>(std::numeric_limits<T>::quiet_NaN())).get(0)));
}
}  // namespace

TEST_CASE("kernels: float softplus within 3e-7 relative of the long-double softplus, SIMD = scalar, NaN passes through") {
  // Padé exp, exact 2^k, atanh series (functions.hpp); reference log1p(e^x) in long double.
  // Arguments: a grid of [-90, 90] (step 1e-4, every exponent range the MAF scale meets) plus the
  // special points; below -86 the result is e^-86 (an absolute error below 5e-38).
  softplus_sweep<float> sw{softplus_ref<float>, -86.0f};
  constexpr auto lanes = softplus_sweep<float>::M::lanes;
  for (long i = -900000; i <= 900000; i += long(lanes)) {
    for (std::size_t l = 0; l < lanes; ++l) sw.xs[l] = static_cast<float>(double(i + long(l)) * 1e-4);
    sw.check_group();
  }
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, 0.3465f, -0.3467f, 85.9f, -85.9f, 86.0f, -86.0f}) sw.check_point(x);
  sw.check_bounds("float softplus", 3e-7, 5e-38);
  check_softplus_limits<float>(1e30f, 5e-38f);
}

TEST_CASE("kernels: double softplus within 8e-16 relative of the long-double softplus, SIMD = scalar, NaN passes through") {
  // Padé exp, exact 2^k, atanh series to s^33 (functions.hpp); reference log1p(e^x) in long
  // double. Arguments: a grid of [-750, 750] (step 1e-3) and 2^18 log-uniform magnitudes of
  // 1e-12..700 of either sign; below -708 the result is e^-708 (an absolute error < 3.4e-308).
  softplus_sweep<double> sw{softplus_ref<double>, -708.0};
  sweep_double_range(sw, 2137);
  sw.check_bounds("double softplus", 8e-16, 3.4e-308);
  check_softplus_limits<double>(1e300, 3.4e-308);
}

TEST_CASE("kernels: double sigmoid within 5e-16 relative of the long-double sigmoid, SIMD = scalar, NaN passes through") {
  // Padé exp with an exact 2^k, one division (functions.hpp); reference 1 / (1 + e^{-x}) in long
  // double. Arguments: a grid of [-750, 750] (step 1e-3) and 2^18 log-uniform magnitudes of
  // 1e-12..700 of either sign; below -708 the result is e^-708 (an absolute error < 3.4e-308).
  function_sweep<kn::sigmoid_fn, double> sw{[](double x) { return 1.0L / (1.0L + std::exp(-static_cast<long double>(x))); }, -708.0};
  sweep_double_range(sw, 2141);
  sw.check_bounds("double sigmoid", 5e-16, 3.4e-308);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(kn::sigmoid_fn::apply(inf) == 1.0);
  CHECK(kn::sigmoid_fn::apply(-inf) >= 0.0);
  CHECK(kn::sigmoid_fn::apply(-inf) < 3.4e-308);
  CHECK(kn::sigmoid_fn::apply(1e300) == 1.0);
  CHECK(std::isnan(kn::sigmoid_fn::apply(std::numeric_limits<double>::quiet_NaN())));
  CHECK(std::isnan(kn::apply_fn<kn::sigmoid_fn>(xsimd::batch<double>(std::numeric_limits<double>::quiet_NaN())).get(0)));
}

TEST_CASE("kernels: float log within 1.5e-7 of the long-double log, SIMD = scalar, special values through the library log") {
  // exponent and mantissa from the bits, atanh series (functions.hpp `log_fn`); error absolute
  // where |ln x| < 1, relative beyond; arguments: 2^-126 .. 2^128 log-uniformly and [0.5, 2]
  // finely; relative within 3e-7 on [√½, √2) (the exponent-0 range, where m - 1 is exact)
  using M = kn::multi<xsimd::batch<float>, 2>;
  alignas(64) float xs[M::lanes], ys[M::lanes];
  auto rng = chempp::test::seeded_rng(2131);
  std::uniform_real_distribution<double> wide(-125.9, 127.9), near_one(0.5, 2.0);
  double worst = 0.0, worst_x = 0.0;
  int mismatch = 0;
  for (int rep = 0; rep < 40000; ++rep) {
    for (std::size_t l = 0; l < M::lanes; ++l)
      xs[l] = static_cast<float>(rep % 2 == 0 ? std::exp2(wide(rng)) : near_one(rng));
    kn::log_fn::apply(M::load(xs)).store(ys);
    for (std::size_t l = 0; l < M::lanes; ++l) {
      mismatch += ys[l] != kn::log_fn::apply(xs[l]) ? 1 : 0;
      const long double ref = std::log(static_cast<long double>(xs[l]));
      const double e = std::abs(double(static_cast<long double>(ys[l]) - ref)) / std::max(1.0, std::abs(double(ref)));
      if (e > worst) {
        worst = e;
        worst_x = xs[l];
      }
    }
  }
  for (float x : {1.0f, std::nextafter(1.0f, 2.0f), std::nextafter(1.0f, 0.0f), 0.70710677f, 1.4142135f, 1e-3f, 1.17549435e-38f,
                  3.40282347e+38f}) {
    const long double ref = std::log(static_cast<long double>(x));
    worst = std::max(worst, std::abs(double(static_cast<long double>(kn::log_fn::apply(x)) - ref)) / std::max(1.0, std::abs(double(ref))));
  }
  double worst_rel = 0.0;
  for (int i = 0; i <= 200000; ++i) {  // [√½, √2) finely, and the floats next to 1
    const float x = i < 200000 ? static_cast<float>(0.70710678 + 0.70710678 * i / 200000.0)
                               : std::nextafter(1.0f, 2.0f);
    for (float v : {x, i == 200000 ? std::nextafter(1.0f, 0.0f) : x}) {
      if (v == 1.0f) continue;
      const long double ref = std::log(static_cast<long double>(v));
      worst_rel = std::max(worst_rel, std::abs(double((static_cast<long double>(kn::log_fn::apply(v)) - ref) / ref)));
    }
  }
  INFO("float log: worst error " << worst << " at x = " << worst_x << ", worst relative on [√½, √2) " << worst_rel);
  CHECK(mismatch == 0);
  CHECK(worst <= 1.5e-7);
  CHECK(worst_rel <= 3e-7);
  CHECK(kn::log_fn::apply(1.0f) == 0.0f);
  // zero, negative, subnormal, infinite and NaN lanes: the library log for the whole group
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t l = 0; l < M::lanes; ++l) xs[l] = 2.0f;
  xs[0] = 0.0f;
  xs[1] = -1.0f;
  xs[2] = 1e-40f;
  xs[3] = inf;
  xs[4] = std::numeric_limits<float>::quiet_NaN();
  kn::log_fn::apply(M::load(xs)).store(ys);
  CHECK(ys[0] == -inf);
  CHECK(std::isnan(ys[1]));
  CHECK(std::abs(ys[2] - std::log(1e-40f)) < 1e-4f);
  CHECK(ys[3] == inf);
  CHECK(std::isnan(ys[4]));
  CHECK(std::abs(ys[5] - std::log(2.0f)) < 1e-7f);
  CHECK(kn::log_fn::apply(0.0f) == -inf);
  CHECK(std::isnan(kn::log_fn::apply(-1.0f)));
  CHECK(std::isnan(kn::log_fn::apply(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("kernels: the SIMD multiply-add is fused (one rounding) on every architecture, as the scalar one") {
  // a b = 1 - 2^-46 (float) / 1 - 2^-104 (double) exactly: a separate multiply rounds it to 1 and
  // a b + (-1) = 0; a fused multiply-add keeps -2^-46 / -2^-104. (xsimd 8.1's AVX-512 fma is
  // x * y + z, two roundings, under -ffp-contract=off: kernels::fused_multiply_add replaces it.)
  const float af = 1.0f + std::ldexp(1.0f, -23), bf = 1.0f - std::ldexp(1.0f, -23);
  const double ad = 1.0 + std::ldexp(1.0, -52), bd = 1.0 - std::ldexp(1.0, -52);
  CHECK(kn::fma(af, bf, -1.0f) == -std::ldexp(1.0f, -46));
  CHECK(kn::fma(ad, bd, -1.0) == -std::ldexp(1.0, -104));
  using MF = kn::multi<xsimd::batch<float>, 2>;
  using MD = kn::multi<xsimd::batch<double>, 3>;
  alignas(64) float rf[MF::lanes];
  alignas(64) double rd[MD::lanes];
  kn::fma(MF(af), MF(bf), MF(-1.0f)).store(rf);
  kn::fma(MD(ad), MD(bd), MD(-1.0)).store(rd);
  for (float v : rf) CHECK(v == -std::ldexp(1.0f, -46));
  for (double v : rd) CHECK(v == -std::ldexp(1.0, -104));
  const auto one = kn::fused_multiply_add(xsimd::batch<double>(ad), xsimd::batch<double>(bd), xsimd::batch<double>(-1.0));
  CHECK(one.get(0) == -std::ldexp(1.0, -104));
  // the element-wise maps of the training passes run the same fused arithmetic in body and tail:
  // the float tanh (a rational built from fma) gives identical values at every position
  std::vector<float> x(37), y(37);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.37f * static_cast<float>(i) - 6.0f;
  kn::map_n<kn::tanh_fn>(x.data(), y.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == kn::tanh_fn::apply(x[i]));
}

TEST_CASE("kernels: counter-based normals depend on (key, index) only and are standard normal") {
  const std::uint64_t key = 0x5eed;
  MESSAGE("stream key: " << key);
  std::vector<double> all(4096), part(1000);
  kn::normal_fill(key, 0, all.data(), all.size());
  for (std::uint64_t first : {0ULL, 1ULL, 31ULL, 33ULL, 1000ULL}) {  // any start, any length
    kn::normal_fill(key, first, part.data(), part.size());
    for (std::size_t i = 0; i < part.size(); ++i) REQUIRE(part[i] == all[first + i]);
  }
  for (std::size_t j = 0; j < all.size(); j += 7)  // the scalar definition, to an ulp of log/sincos
    CHECK(std::abs(all[j] - kn::normal_at(key, j)) < 1e-14 * (1.0 + std::abs(all[j])));
  // the float draws (float samplers): the same stream finished in float, any start, any length,
  // within 4e-7 (1 + |z|) of the double draws over 2^18 draws (u₁ near 0 and 1, every quadrant)
  std::vector<float> allf(std::size_t(1) << 18), partf(1000);
  kn::normal_fill(key, 0, allf.data(), allf.size());
  for (std::uint64_t first : {0ULL, 1ULL, 31ULL, 33ULL, 1000ULL}) {
    kn::normal_fill(key, first, partf.data(), partf.size());
    for (std::size_t i = 0; i < partf.size(); ++i) REQUIRE(partf[i] == allf[first + i]);
  }
  double worst_f = 0.0, largest = 0.0;
  for (std::size_t j = 0; j < allf.size(); ++j) {
    const double z = kn::normal_at(key, j);
    worst_f = std::max(worst_f, std::abs(double(allf[j]) - z) / (1.0 + std::abs(z)));
    largest = std::max(largest, std::abs(z));
  }
  INFO("float draws: worst |z_float - z| / (1 + |z|) = " << worst_f << " (largest |z| " << largest << ")");
  CHECK(worst_f < 4e-7);
  // moments of 1e6 draws over 8 dimension streams: mean 0 ± 0.005 (5σ), variance 1 ± 0.007 (5σ),
  // E z⁴ = 3 ± 0.05 (5σ, Var z⁴ = 96); neighbouring dimension streams uncorrelated, |ρ| < 0.0055 (5σ)
  const std::size_t n = 125000;
  std::vector<std::vector<double>> z(8, std::vector<double>(n));
  for (std::uint64_t i = 0; i < 8; ++i) kn::normal_fill(kn::dimension_key(key, i), 0, z[i].data(), n);
  double s1 = 0, s2 = 0, s4 = 0, cross = 0;
  for (std::size_t i = 0; i < 8; ++i)
    for (std::size_t m = 0; m < n; ++m) {
      const double v = z[i][m];
      s1 += v;
      s2 += v * v;
      s4 += v * v * v * v;
      if (i > 0) cross += v * z[i - 1][m];
    }
  const double N = 8.0 * double(n);
  CHECK(std::abs(s1 / N) < 0.005);
  CHECK(std::abs(s2 / N - 1.0) < 0.007);
  CHECK(std::abs(s4 / N - 3.0) < 0.05);
  CHECK(std::abs(cross / (7.0 * double(n))) < 0.0055);
}

TEST_CASE("kernels: the float log density's product of scales falls back to the sum of logs outside the normal range") {
  // One transform, D = 20, every weight zero: output i's scale is softplus(b_i) + 1e-3 and its
  // shift 0, so at θ = the standardisation mean (u = z = 0) log q = Σ_i log scale_i - 10 log 2π
  // exactly. Scales of 1e-3 (b = -100) and 1e7 (b = 1e7) put the product of the first 14 near
  // 1e-42 (subnormal: a running product the final check alone would miss) or the product of all
  // 20 at 1e140 (overflow); the float density must still agree with the double one.
  using chempp::flow::maf_config;
  maf_config cfg;
  cfg.features = 20;
  cfg.context = 1;
  cfg.hidden = 24;
  cfg.transforms = 1;
  cfg.seed = 3;
  const auto run = [&](const std::vector<double>& biases, const char* what) {
    chempp::flow::sbi_maf f(cfg);
    auto& md = f.mades()[0];
    md.w_in.setZero();
    md.w_ctx.setZero();
    for (auto& w : md.w_hidden) w.setZero();
    md.w_out.setZero();
    md.b_out.setZero();
    for (Eigen::Index i = 0; i < 20; ++i) md.b_out[i] = biases[std::size_t(i)];
    Eigen::MatrixXd theta = Eigen::MatrixXd::Zero(3, 20), x = Eigen::MatrixXd::Zero(3, 1);
    const Eigen::VectorXd ref = f.log_prob(theta, x);
    double expected = -10.0 * std::log(2.0 * std::numbers::pi);
    for (double b : biases) expected += std::log(chempp::kernels::softplus_scale::apply(b));
    chempp::flow::maf_sampler<chempp::flow::sbi_maf, xsimd::default_arch, float> fs(f);
    Eigen::VectorXd got(3);
    fs.log_prob(theta, x, got);
    INFO(std::string(what) << ": expected " << expected << ", double " << ref[0] << ", float " << got[0]);
    CHECK(std::abs(ref[0] - expected) < 1e-10 * std::abs(expected));
    for (Eigen::Index r = 0; r < 3; ++r) CHECK(std::abs(got[r] - expected) < 2e-6 * std::abs(expected));
    // the same kernel on one float scalar (the CUDA device arithmetic), all D and the first 2 dims
    const auto pk = f.packed<float>();
    const auto& L = pk.layout;
    for (int k : {20, 2}) {
      std::vector<float> u(20, 0.0f), c(1, 0.0f), work(std::size_t(kn::maf_work_size(L.d, L.h, L.blocks)));
      const float lp = kn::maf_forward<kn::tanh_fn, kn::softplus_scale, kn::dynamic_shape>(L, pk.params.data(), pk.ints.data(),
                                                                                             u.data(), c.data(), k, work.data());
      double want = 0.0;
      for (int i = 0; i < k; ++i) want += std::log(chempp::kernels::softplus_scale::apply(biases[std::size_t(i)]));
      CHECK(std::abs(double(lp) - want) < 2e-6 * (1.0 + std::abs(want)));
    }
  };
  std::vector<double> under(20, 1e7);
  for (int i = 0; i < 14; ++i) under[std::size_t(i)] = -100.0;  // running product 1e-42, final 1e-42 × 1e42
  run(under, "subnormal running product");
  run(std::vector<double>(20, 1e7), "overflowing product");
  std::vector<double> plain(20, 0.3);
  run(plain, "normal product");
}
