// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/sampler.hpp"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

#include "perturbed_flow.hpp"
#include "support/test_support.hpp"

// GCC flags malloc/free inside a replaced operator new/delete once they are inlined together;
// that pairing is exactly what a replacement does, so the warning is switched off in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Allocation counter: this file replaces the global operator new/delete for the whole test
// executable; counting is switched on only inside the checked region.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace chempp::flow;

namespace {
sbi_maf make_flow(std::uint64_t seed) { return chempp::test::perturbed_flow(seed); }
}  // namespace

TEST_CASE("sampler: xsimd kernel equals conditional_maf::sample draw for draw, whatever the lanes in flight") {
  const auto flow = make_flow(3);
  maf_sampler<sbi_maf> sampler(flow);
  MESSAGE("SIMD path: " << std::string(sampler.arch_name()) << ", " << sampler.lanes << " doubles per batch");
  CHECK(std::string(sampler.arch_name()) == xsimd::default_arch::name());
  Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(8, -0.5, 0.9);
  const Eigen::Index n = 8 * static_cast<Eigen::Index>(sampler.lanes) + 3;  // includes a partial block
  std::mt19937_64 r1(42), r2(42);
  Eigen::MatrixXd fast(n, 6);
  sampler.sample(x, r1, fast);
  const Eigen::MatrixXd ref = flow.sample(n, x.transpose(), r2);
  // both take draw s D + i of the same counter-based stream for sample s, dimension i
  const double err = (fast - ref).cwiseAbs().maxCoeff();
  INFO("max |fast - reference| = " << err);
  CHECK(err < 1e-10);
  // the draws do not depend on the number of samples in flight
  maf_sampler<sbi_maf, xsimd::default_arch, double, 1> narrow(flow);
  std::mt19937_64 r3(42);
  Eigen::MatrixXd one(n, 6);
  narrow.sample(x, r3, one);
  CHECK((one - fast).cwiseAbs().maxCoeff() == 0.0);
  CHECK(fast.allFinite());
}

TEST_CASE("sampler: narrow and wide MADEs, double and float: the samples do not depend on the registers in flight") {
  // K = 8 runs the block as 2 groups of 4 registers interleaved phase by phase in the inverse,
  // K = 16 as 4, K = 4 and K = 1 as one group: every lane must come out the same
  static_assert(maf_sampler<sbi_maf>::interleaved == 2 && maf_sampler<sbi_maf, xsimd::default_arch, double, 16>::interleaved == 4);
  static_assert(maf_sampler<sbi_maf, xsimd::default_arch, double, 4>::interleaved == 1);
  for (const Eigen::Index hidden : {Eigen::Index(8), Eigen::Index(50)}) {
    const auto flow = chempp::test::perturbed_flow<sbi_maf>(11, hidden, false, 0.4);
    CAPTURE(hidden);
    Eigen::VectorXd x = Eigen::VectorXd::LinSpaced(8, -0.4, 0.7);
    const Eigen::Index n = 3 * static_cast<Eigen::Index>(maf_sampler<sbi_maf>::lanes) + 5;
    const auto draw = [&](auto&& sampler) {
      std::mt19937_64 rng(9);
      Eigen::MatrixXd out(n, 6);
      sampler.sample(x, rng, out);
      return out;
    };
    const Eigen::MatrixXd d8 = draw(maf_sampler<sbi_maf>(flow));
    CHECK((draw(maf_sampler<sbi_maf, xsimd::default_arch, double, 1>(flow)) - d8).cwiseAbs().maxCoeff() == 0.0);
    CHECK((draw(maf_sampler<sbi_maf, xsimd::default_arch, double, 4>(flow)) - d8).cwiseAbs().maxCoeff() == 0.0);
    CHECK((draw(maf_sampler<sbi_maf, xsimd::default_arch, double, 16>(flow)) - d8).cwiseAbs().maxCoeff() == 0.0);
    const Eigen::MatrixXd f8 = draw(maf_sampler<sbi_maf, xsimd::default_arch, float>(flow));
    CHECK((draw(maf_sampler<sbi_maf, xsimd::default_arch, float, 1>(flow)) - f8).cwiseAbs().maxCoeff() == 0.0);
    CHECK((f8 - d8).cwiseAbs().maxCoeff() < 5e-4 * (1.0 + d8.cwiseAbs().maxCoeff()));  // float vs double (kernels.test.cpp: 2e-4 relative)
    CHECK(d8.allFinite());
  }
}

TEST_CASE("sampler: no allocation per call") {
  const auto flow = make_flow(5);
  maf_sampler<sbi_maf> sampler(flow);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(8);
  Eigen::MatrixXd out(1000, 6);
  std::mt19937_64 rng(1);
  sampler.sample(x, rng, out);  // warm-up
  g_allocations = 0;
  g_counting = true;
  for (int rep = 0; rep < 5; ++rep) sampler.sample(x, rng, out);
  g_counting = false;
  CHECK(g_allocations.load() == 0);
  // sanity: the counter does count
  g_counting = true;
  auto* probe = new double[4];
  g_counting = false;
  delete[] probe;
  CHECK(g_allocations.load() == 1);
}

TEST_CASE("sampler: prior-support box rejection") {
  const auto flow = make_flow(7);
  maf_sampler<sbi_maf> sampler(flow);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(8);
  std::mt19937_64 rng(9);
  Eigen::MatrixXd free_draws(4000, 6);
  sampler.sample(x, rng, free_draws);
  support_box box;
  box.lower = Eigen::VectorXd::Constant(6, -INFINITY);
  box.upper = Eigen::VectorXd::Constant(6, INFINITY);
  // cut dimension 2 at its median: about half the candidates are rejected
  Eigen::VectorXd col = free_draws.col(2);
  std::nth_element(col.data(), col.data() + 2000, col.data() + col.size());
  box.upper[2] = col[2000];
  Eigen::MatrixXd inside(2000, 6);
  sampler.sample(x, rng, inside, &box);
  CHECK(inside.col(2).maxCoeff() <= box.upper[2]);
  CHECK(inside.allFinite());
  // an (almost) empty box gives up with an error instead of looping forever
  box.lower[0] = 1e6;
  box.upper[0] = 1e6 + 1e-9;
  box.max_candidates_per_sample = 50;
  CHECK_THROWS_AS(sampler.sample(x, rng, inside, &box), chempp::error);
  // a NaN, infinite or sub-1 candidate cap is the caller's error (NaN used to loop forever, issue 15)
  for (const double cap : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(), 0.5}) {
    box.max_candidates_per_sample = cap;
    CHECK_THROWS_WITH_AS(sampler.sample(x, rng, inside, &box), doctest::Contains("max_candidates_per_sample"),
                         chempp::invalid_argument);
  }
}

TEST_CASE("sampler: sample_many does not depend on the thread count") {
  const auto flow = make_flow(11);
  Eigen::MatrixXd xs(5, 8);
  for (Eigen::Index i = 0; i < xs.size(); ++i) xs.data()[i] = 0.1 * double(i % 13) - 0.5;
  Eigen::MatrixXd a(5 * 64, 6), b(5 * 64, 6);
  sample_many(flow, xs, 64, 123, a, 1);
  sample_many(flow, xs, 64, 123, b, 2);
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
  // far more threads than observations (and than any machine has) are clamped, not started
  sample_many(flow, xs, 64, 123, b, 100000);
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
  // observation m uses its own stream: rows of different observations differ
  CHECK((a.topRows(64) - a.middleRows(64, 64)).cwiseAbs().maxCoeff() > 0.0);
}

TEST_CASE("sampler: vectorised log_prob equals conditional_maf::log_prob") {
  auto flow = make_flow(13);
  auto rng = chempp::test::seeded_rng(13);
  std::normal_distribution<double> nd;
  const Eigen::Index n = 37;  // not a multiple of the SIMD width
  Eigen::MatrixXd th(n, 6), x(n, 8);
  for (Eigen::Index i = 0; i < th.size(); ++i) th.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  maf_sampler<sbi_maf> k(flow);
  Eigen::VectorXd fast(n);
  k.log_prob(th, x, fast);
  const Eigen::VectorXd ref = flow.log_prob(th, x);
  CHECK((fast - ref).cwiseAbs().maxCoeff() < 1e-10);
  // shared x, and the threaded wrapper
  Eigen::MatrixXd x1 = x.topRows(1);
  k.log_prob(th, x1, fast);
  CHECK((fast - flow.log_prob(th, x1)).cwiseAbs().maxCoeff() < 1e-10);
  Eigen::VectorXd par(n);
  log_prob_parallel(flow, th, x, par, 2);
  CHECK((par - ref).cwiseAbs().maxCoeff() < 1e-10);
  // condition_first masks take the same kernel path
  maf_config cfg = flow.config();
  cfg.condition_first = true;
  sbi_maf cf(cfg);
  maf_sampler<sbi_maf> kc(cf);
  kc.log_prob(th, x, fast);
  CHECK((fast - cf.log_prob(th, x)).cwiseAbs().maxCoeff() < 1e-10);
  // NaN input is reported, not propagated
  th(3, 2) = std::nan("");
  CHECK_THROWS_AS(k.log_prob(th, x, fast), chempp::invalid_argument);
}

TEST_CASE("sampler: float kernel agrees with the double kernel to single precision") {
  const auto flow = make_flow(17);
  maf_sampler<sbi_maf, xsimd::default_arch, float> kf(flow);
  maf_sampler<sbi_maf> kd(flow);
  MESSAGE("float kernel: " << std::string(kf.arch_name()) << ", " << kf.lanes << " floats per batch");
  auto rng = chempp::test::seeded_rng(17);
  std::normal_distribution<double> nd;
  const Eigen::Index n = 50;
  Eigen::MatrixXd th(n, 6), x(n, 8);
  for (Eigen::Index i = 0; i < th.size(); ++i) th.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  Eigen::VectorXd lf(n), ld(n);
  kf.log_prob(th, x, lf);
  kd.log_prob(th, x, ld);
  const double err = ((lf - ld).array() / (1.0 + ld.array().abs())).abs().maxCoeff();
  INFO("max relative log_prob difference float vs double: " << err);
  CHECK(err < 1e-4);
  // same normal stream per sample -> same draws to float precision
  Eigen::VectorXd xv = Eigen::VectorXd::Constant(8, 0.3);
  const Eigen::Index ns = 4 * static_cast<Eigen::Index>(kf.lanes);  // whole blocks for both widths
  Eigen::MatrixXd sf(ns, 6), sd(ns, 6);
  std::mt19937_64 r1(5), r2(5);
  kf.sample(xv, r1, sf);
  kd.sample(xv, r2, sd);
  const double serr = (sf - sd).cwiseAbs().maxCoeff() / (1.0 + sd.cwiseAbs().maxCoeff());
  INFO("max sample difference float vs double: " << serr);
  CHECK(serr < 1e-3);
}

namespace {
// log_prob checks the contexts while it reads them (maf_sampler, float or double): the errors
// are those of conditional_maf::log_prob's up-front check, in its order (every θ, then every row
// of x), whether the bad value lies in a full SIMD block, the partial last one or a shared x.
template <class Sampler>
void check_log_prob_errors(const sbi_maf& flow) {
  Sampler s(flow);
  const auto lanes = static_cast<Eigen::Index>(Sampler::lanes);
  const Eigen::Index n = 3 * lanes + 5;  // three full blocks and a partial one
  auto rng = chempp::test::seeded_rng(23);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd th(n, 6), x(n, 8);
  for (Eigen::Index i = 0; i < th.size(); ++i) th.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  Eigen::VectorXd out(n);
  const auto same_error = [&](const Eigen::MatrixXd& t, const Eigen::MatrixXd& c, const char* what) {
    const std::string ours = chempp::test::thrown_message<chempp::invalid_argument>([&] { s.log_prob(t, c, out); });
    const std::string ref = chempp::test::thrown_message<chempp::invalid_argument>([&] { (void)flow.log_prob(t, c); });
    CAPTURE(ours);
    REQUIRE(!ours.empty());
    REQUIRE(!ref.empty());
    CHECK(ours.find(what) != std::string::npos);
    CHECK(ours.substr(ours.find(": ")) == ref.substr(ref.find(": ")));  // the same text after the caller's name
  };
  for (Eigen::Index row : {Eigen::Index(1), 2 * lanes + 3, n - 1}) {  // full blocks and the partial one
    CAPTURE(row);
    Eigen::MatrixXd bad = x;
    bad(row, 3) = 1e6;
    same_error(th, bad, "context x[3]");
    Eigen::MatrixXd th_nan = th;
    th_nan(n - 1, 2) = std::numeric_limits<double>::quiet_NaN();  // a θ error in a later block still comes first
    same_error(th_nan, bad, "theta");
    same_error(th_nan, x, "theta");
    bad(row, 3) = std::numeric_limits<double>::infinity();
    same_error(th, bad, "x[3]");
  }
  Eigen::MatrixXd one = x.topRows(1);
  one(0, 5) = -1e5;
  same_error(th, one, "context x[5]");
  const Eigen::MatrixXd no_rows(0, 6);  // a shared bad context is an error even without rows
  Eigen::VectorXd none(0);
  CHECK_THROWS_WITH_AS(s.log_prob(no_rows, one, none), doctest::Contains("context x[5]"), chempp::invalid_argument);
  CHECK_THROWS_AS((void)flow.log_prob(no_rows, one), chempp::invalid_argument);
  // valid input: no error, the flow's own densities
  s.log_prob(th, x, out);
  const Eigen::VectorXd ref = flow.log_prob(th, x);
  CHECK(((out - ref).array().abs() / (1.0 + ref.array().abs())).maxCoeff() < (std::is_same_v<typename Sampler::value_type, float> ? 1e-4 : 1e-12));
}
}  // namespace

TEST_CASE("sampler: log_prob raises the up-front check's errors while reading x, in its order, float and double") {
  const auto flow = make_flow(29);
  check_log_prob_errors<maf_sampler<sbi_maf>>(flow);
  check_log_prob_errors<maf_sampler<sbi_maf, xsimd::default_arch, float>>(flow);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop  // (the test files of a unity batch follow)
#endif
