// SPDX-License-Identifier: BSD-3-Clause
// SIMD kernel vs scalar reference, which SIMD path ran, and no allocation per call.
//
// This file replaces the global operator new/delete (for the whole test_nn executable) with
// counting versions; only the allocation test reads the counter.
#if defined(__GNUC__) && !defined(__clang__)
// GCC pairs the malloc inside our operator new with the free inside our operator delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "chempp/nn/simd_forward.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "support/test_support.hpp"

namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace nn = chempp::nn;

namespace {

/// The xsimd arch the compiler flags select, derived independently from the predefined macros.
const char* expected_default_arch() {
#if defined(__AVX512BW__)
  return "avx512bw";
#elif defined(__AVX512DQ__)
  return "avx512dq";
#elif defined(__AVX512CD__)
  return "avx512cd";
#elif defined(__AVX512F__)
  return "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
  return "fma3+avx2";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE4_2__)
  return "sse4.2";
#elif defined(__SSE2__) || defined(_M_X64)
  return "sse2";
#elif defined(__aarch64__)
  return "arm64+neon";
#else
  return "unknown";
#endif
}

/// The paper's architecture (6 -> 100 -> 40 -> 9, tanh) with random weights and a
/// non-trivial standardisation.
template <class T>
nn::mlp<T> paper_shaped_net(std::uint64_t seed) {
  nn::mlp<T> net({6, 100, 40, 9}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
  net.initialize(seed, nn::init_scheme::pytorch_default);
  net.input_scaling().mean << -2.3, -2.89, -0.3, 0.55, 0.5, 7.4;
  net.input_scaling().scale << 0.8, 0.9, 0.85, 0.3, 0.28, 3.7;
  for (Eigen::Index o = 0; o < 9; ++o) {
    net.output_scaling().mean[o] = static_cast<T>(0.1 * static_cast<double>(o) - 0.3);
    net.output_scaling().scale[o] = static_cast<T>(0.2 + 0.05 * static_cast<double>(o));
  }
  return net;
}

template <class T>
std::vector<T> random_inputs(std::mt19937_64& rng, std::size_t n) {
  std::normal_distribution<double> nd(0.0, 1.0);
  const double mean[6] = {-2.3, -2.89, -0.3, 0.55, 0.5, 7.4};
  const double sd[6] = {0.8, 0.9, 0.85, 0.3, 0.28, 3.7};
  std::vector<T> x(n * 6);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t f = 0; f < 6; ++f) x[j * 6 + f] = static_cast<T>(mean[f] + sd[f] * nd(rng));
  return x;
}

/// max |simd - reference| / max(1, |reference|) over sizes that exercise every code path.
template <class T, class Arch>
double worst_vs_reference(const nn::mlp<T>& net, std::mt19937_64& rng) {
  const nn::simd_mlp<T, Arch> kernel(net);
  constexpr std::size_t L = nn::simd_mlp<T, Arch>::lanes;
  double worst = 0.0;
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, L - 1 + 1, L + 1, 4 * L, 4 * L + L + 3, std::size_t{1000}}) {
    const auto x = random_inputs<T>(rng, n);
    std::vector<T> ys(n * 9), yr(n * 9);
    kernel(x.data(), ys.data(), n);
    nn::reference_forward(net, x.data(), yr.data(), n);
    for (std::size_t i = 0; i < ys.size(); ++i)
      worst = std::max(worst, std::abs(static_cast<double>(ys[i]) - static_cast<double>(yr[i])) /
                                  std::max(1.0, std::abs(static_cast<double>(yr[i]))));
  }
  return worst;
}

}  // namespace

TEST_CASE("Test_simd_mlp: the SIMD path that runs is the one the compiler flags select") {
  MESSAGE("simd_mlp default arch: " << std::string(nn::simd_mlp<double>::arch_name()) << ", lanes double "
                                    << nn::simd_mlp<double>::lanes << ", float " << nn::simd_mlp<float>::lanes);
  CHECK(std::string(nn::simd_mlp<double>::arch_name()) == expected_default_arch());
  CHECK(std::string(nn::simd_mlp<float>::arch_name()) == expected_default_arch());
  CHECK(nn::simd_mlp<double>::lanes == xsimd::batch<double>::size);
  CHECK(nn::simd_mlp<float>::lanes == 2 * nn::simd_mlp<double>::lanes);
#if defined(__x86_64__) || defined(_M_X64)
  CHECK(std::string(nn::simd_mlp<double, xsimd::sse2>::arch_name()) == "sse2");
  CHECK(nn::simd_mlp<double, xsimd::sse2>::lanes == 2);
#endif
}

TEST_CASE("Test_simd_mlp: matches the scalar reference (1e-12 double, 1e-5 float)") {
  auto rng = chempp::test::seeded_rng(41);
  const auto netd = paper_shaped_net<double>(7);
  const auto netf = netd.cast<float>();
  const double ed = worst_vs_reference<double, xsimd::default_arch>(netd, rng);
  const double ef = worst_vs_reference<float, xsimd::default_arch>(netf, rng);
  MESSAGE("worst relative difference: double " << ed << ", float " << ef);
  CHECK(ed <= 1e-12);
  CHECK(ef <= 1e-5);
#if defined(__x86_64__) || defined(_M_X64)
  CHECK(worst_vs_reference<double, xsimd::sse2>(netd, rng) <= 1e-12);
  CHECK(worst_vs_reference<float, xsimd::sse2>(netf, rng) <= 1e-5);
#endif
  // and the reference agrees with the Eigen path
  const auto x = random_inputs<double>(rng, 50);
  std::vector<double> yr(50 * 9);
  nn::reference_forward(netd, x.data(), yr.data(), 50);
  const nn::matrix<double> ye = netd.predict(Eigen::Map<const nn::matrix<double>>(x.data(), 6, 50));
  double worst = 0.0;
  for (std::size_t i = 0; i < yr.size(); ++i) worst = std::max(worst, std::abs(yr[i] - ye.data()[i]));
  CHECK(worst < 1e-12);
}

TEST_CASE("Test_simd_mlp: no allocation per call") {
  const auto net = paper_shaped_net<double>(9);
  const nn::simd_mlp<double> kd(net);
  const nn::simd_mlp<float> kf(net.cast<float>());
  auto rng = chempp::test::seeded_rng(42);
  const auto xd = random_inputs<double>(rng, 1000);
  const auto xf = random_inputs<float>(rng, 1000);
  std::vector<double> yd(1000 * 9);
  std::vector<float> yf(1000 * 9);
  const std::size_t before = g_allocations.load();
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
    kd(xd.data(), yd.data(), n);
    kf(xf.data(), yf.data(), n);
  }
  const std::size_t after = g_allocations.load();
  CHECK(after == before);
  // the counter works: constructing a kernel allocates
  { const nn::simd_mlp<double> k2(net); }
  CHECK(g_allocations.load() > after);
}

TEST_CASE("Test_simd_mlp: non-identity output activation and too-wide layers") {
  nn::mlp<double> net({3, 5, 2}, {nn::activation::softplus, nn::activation::sigmoid});
  net.initialize(4);
  net.output_scaling().mean << 1.0, -1.0;
  net.output_scaling().scale << 2.0, 3.0;
  const nn::simd_mlp<double> k(net);
  auto rng = chempp::test::seeded_rng(43);
  std::normal_distribution<double> nd;
  std::vector<double> x(3 * 37), ys(2 * 37), yr(2 * 37);
  for (auto& v : x) v = nd(rng);
  k(x.data(), ys.data(), 37);
  nn::reference_forward(net, x.data(), yr.data(), 37);
  for (std::size_t i = 0; i < ys.size(); ++i) CHECK(ys[i] == doctest::Approx(yr[i]).epsilon(1e-12));
  nn::mlp<double> wide({3, 300, 1}, {nn::activation::tanh, nn::activation::identity});
  CHECK_THROWS_WITH_AS(nn::simd_mlp<double>{wide}, doctest::Contains("max_width"), chempp::invalid_argument);
}

TEST_CASE("Test_simd_mlp: more inputs and outputs than one staging chunk of the block path") {
  // The block path stages inputs and outputs 16 features at a time (simd_mlp::block): 37 inputs
  // and 21 outputs take three and two chunks, the last ones partial.
  nn::mlp<double> net({37, 24, 21}, {nn::activation::tanh, nn::activation::identity});
  net.initialize(6, nn::init_scheme::pytorch_default);
  for (Eigen::Index f = 0; f < 37; ++f) net.input_scaling().mean[f] = 0.01 * static_cast<double>(f);
  for (Eigen::Index o = 0; o < 21; ++o) net.output_scaling().scale[o] = 1.0 + 0.1 * static_cast<double>(o);
  auto rng = chempp::test::seeded_rng(44);
  std::normal_distribution<double> nd;
  for (const std::size_t n : {std::size_t{5}, std::size_t{67}, std::size_t{300}}) {
    std::vector<double> x(37 * n), yr(21 * n);
    for (auto& v : x) v = nd(rng);
    nn::reference_forward(net, x.data(), yr.data(), n);
    std::vector<double> yd(21 * n);
    const nn::simd_mlp<double> kd(net);
    kd(x.data(), yd.data(), n);
    const nn::simd_mlp<float> kf(net.cast<float>());
    std::vector<float> xf(x.begin(), x.end()), yf(21 * n);
    kf(xf.data(), yf.data(), n);
    double worst_d = 0.0, worst_f = 0.0;
    for (std::size_t i = 0; i < yr.size(); ++i) {
      worst_d = std::max(worst_d, std::abs(yd[i] - yr[i]) / std::max(1.0, std::abs(yr[i])));
      worst_f = std::max(worst_f, std::abs(static_cast<double>(yf[i]) - yr[i]) / std::max(1.0, std::abs(yr[i])));
    }
    INFO("n = " << n << ": worst relative difference double " << worst_d << ", float " << worst_f);
    CHECK(worst_d <= 1e-12);
    CHECK(worst_f <= 1e-5);
  }
}

namespace {
/// `columns` against operator() on the same samples: identical bits, no allocation, and the
/// padding between columns (ld > n) left as it was.
template <class T>
void check_columns_equal_rows(const nn::simd_mlp<T>& k, std::mt19937_64& rng) {
  const std::size_t ni = k.input_size(), no = k.output_size(), L = nn::simd_mlp<T>::lanes;
  std::normal_distribution<double> nd;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, L - 1, L, L + 1, 4 * L, 4 * L + 1, 5 * L + 3, std::size_t{300}}) {
    const std::size_t ldx = n + 3, ldy = n + 5;
    std::vector<T> xr(n * ni), yr(n * no), xc(ni * ldx, T(7)), yc(no * ldy, T(-9));
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t f = 0; f < ni; ++f) xc[f * ldx + s] = xr[s * ni + f] = static_cast<T>(nd(rng));
    k(xr.data(), yr.data(), n);
    const std::size_t before = g_allocations.load();
    k.columns(xc.data(), ldx, yc.data(), ldy, n);
    CHECK(g_allocations.load() == before);
    std::size_t differ = 0, touched = 0;
    for (std::size_t o = 0; o < no; ++o) {
      for (std::size_t s = 0; s < n; ++s) differ += (yc[o * ldy + s] != yr[s * no + o]) ? 1 : 0;  // bits
      for (std::size_t s = n; s < ldy; ++s) touched += (yc[o * ldy + s] != T(-9)) ? 1 : 0;
    }
    INFO("n = " << n << " (" << (sizeof(T) == 4 ? "float" : "double") << ")");
    CHECK(differ == 0);
    CHECK(touched == 0);
  }
}
}  // namespace

TEST_CASE("Test_simd_mlp: the column-major layout gives the row layout's bits (every code path)") {
  auto rng = chempp::test::seeded_rng(45);
  const auto net = paper_shaped_net<double>(11);
  check_columns_equal_rows(nn::simd_mlp<double>(net), rng);
  check_columns_equal_rows(nn::simd_mlp<float>(net.cast<float>()), rng);
  nn::mlp<double> wide({37, 24, 21}, {nn::activation::tanh, nn::activation::identity});  // > 16 features
  wide.initialize(6, nn::init_scheme::pytorch_default);
  check_columns_equal_rows(nn::simd_mlp<float>(wide.cast<float>()), rng);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop  // (the test files of a unity batch follow)
#endif

TEST_CASE("Test_simd_mlp: work counts for the roofline (multiply-adds, activations)") {
  // 3 -> 5 (softplus) -> 4 (tanh) -> 2 (identity): 3·5 + 5·4 + 4·2 multiply-adds, 5 + 4 activations
  nn::mlp<double> net({3, 5, 4, 2}, {nn::activation::softplus, nn::activation::tanh, nn::activation::identity});
  net.initialize(5);
  const nn::simd_mlp<double> k(net);
  CHECK(k.multiply_adds() == 43.0);
  CHECK(k.activations_per_sample() == 9.0);
  // a non-identity output layer counts too
  nn::mlp<double> sig({3, 5, 2}, {nn::activation::tanh, nn::activation::sigmoid});
  sig.initialize(6);
  CHECK(nn::simd_mlp<double>(sig).activations_per_sample() == 7.0);
}
