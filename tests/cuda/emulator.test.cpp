// SPDX-License-Identifier: BSD-3-Clause
// Tests of include/chempp/cuda/emulator.cuh (and the conversion in convert.hpp): the kernel's
// per-sample code run on the host, and the GPU kernel when a device is present, against the CPU
// emulator (`chempp::nn::simd_mlp`, `reference_forward`).
#include "chempp/cuda/convert.hpp"
#include "chempp/cuda/detail/per_sample.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "gpu_api.hpp"
#include "support/test_support.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace cu = chempp::cuda;
namespace nn = chempp::nn;

namespace {

// The paper's emulator shape with non-trivial standardisation (Buck et al. 2025 §2.3).
template <class T>
nn::mlp<T> make_net(std::uint64_t seed, nn::activation last = nn::activation::identity) {
  nn::mlp<T> net({6, 100, 40, 9}, {nn::activation::tanh, nn::activation::tanh, last});
  net.initialize(seed);
  std::mt19937_64 rng(seed + 1);
  std::uniform_real_distribution<double> u(0.5, 2.0), m(-1.0, 1.0);
  for (Eigen::Index i = 0; i < 6; ++i) {
    net.input_scaling().mean[i] = static_cast<T>(m(rng));
    net.input_scaling().scale[i] = static_cast<T>(u(rng));
  }
  for (Eigen::Index i = 0; i < 9; ++i) {
    net.output_scaling().mean[i] = static_cast<T>(m(rng));
    net.output_scaling().scale[i] = static_cast<T>(u(rng));
  }
  return net;
}

template <class T>
std::vector<T> random_inputs(std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> nd(0.0, 1.5);
  std::vector<T> x(n * 6);
  for (auto& v : x) v = static_cast<T>(nd(rng));
  return x;
}

// max_i |a_i - b_i| / max(1, |b_i|)
template <class A, class B>
double worst_relative(const std::vector<A>& a, const std::vector<B>& b, std::string& where) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double e = std::abs(double(a[i]) - double(b[i])) / std::max(1.0, std::abs(double(b[i])));
    if (!(e <= worst)) {
      worst = std::isnan(e) ? INFINITY : e;
      where = "element " + std::to_string(i) + ": " + std::to_string(double(a[i])) + " vs " + std::to_string(double(b[i]));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("to_dense_network_weights folds the standardisation as simd_mlp does") {
  const auto net = make_net<double>(11);
  const cu::dense_network_weights w = cu::to_dense_network_weights(net);
  CHECK(w.sizes == std::vector<std::size_t>{6, 100, 40, 9});
  CHECK(w.activations.back() == cu::activation_id::identity);
  CHECK(w.output_scale.empty());
  // The folded network on raw inputs equals the original on standardised ones (double, host code).
  auto rng = chempp::test::seeded_rng(21);
  const auto x = random_inputs<double>(257, rng);
  std::vector<double> y_ref(257 * 9), y(257 * 9);
  nn::reference_forward(net, x.data(), y_ref.data(), 257);
  cu::host_forward(cu::pack<double>(w), x.data(), y.data(), 257);
  std::string where;
  const double err = worst_relative(y, y_ref, where);
  INFO("worst at " << where);
  CHECK(err < 1e-12);  // double, only the summation order differs
}

TEST_CASE("kernel code on the host equals the CPU SIMD emulator (float 1e-5, double 1e-12)") {
  auto rng = chempp::test::seeded_rng(31);
  const std::size_t n = 1000;
  SUBCASE("float, identity output (standardisation folded)") {
    const auto net = make_net<float>(3);
    const auto x = random_inputs<float>(n, rng);
    std::vector<float> y_cpu(n * 9), y(n * 9);
    const nn::simd_mlp<float> cpu(net);
    cpu(x.data(), y_cpu.data(), n);
    cu::host_forward(cu::pack<float>(cu::to_dense_network_weights(net)), x.data(), y.data(), n);
    std::string where;
    const double err = worst_relative(y, y_cpu, where);
    INFO("worst at " << where);
    CHECK(err < 1e-5);
  }
  SUBCASE("double, sigmoid output (output scaling kept separate)") {
    const auto net = make_net<double>(4, nn::activation::sigmoid);
    const auto w = cu::to_dense_network_weights(net);
    CHECK(w.output_scale.size() == 9);
    const auto x = random_inputs<double>(n, rng);
    std::vector<double> y_cpu(n * 9), y(n * 9);
    nn::reference_forward(net, x.data(), y_cpu.data(), n);
    cu::host_forward(cu::pack<double>(w), x.data(), y.data(), n);
    std::string where;
    const double err = worst_relative(y, y_cpu, where);
    INFO("worst at " << where);
    CHECK(err < 1e-12);
  }
}

TEST_CASE("pack rejects inconsistent or oversized networks") {
  auto w = cu::to_dense_network_weights(make_net<float>(5));
  auto bad = w;
  bad.weights[1].pop_back();
  CHECK_THROWS_AS(cu::pack<float>(bad), chempp::invalid_argument);
  bad = w;
  bad.activations.pop_back();
  CHECK_THROWS_AS(cu::pack<float>(bad), chempp::invalid_argument);
  nn::mlp<float> wide({2, 300, 1}, {nn::activation::tanh, nn::activation::identity});
  CHECK_THROWS_WITH_AS(cu::pack<float>(cu::to_dense_network_weights(wide)), doctest::Contains("exceeds"),
                       chempp::invalid_argument);
}

TEST_CASE("GPU emulator equals the CPU SIMD emulator (float 1e-5 relative)") {
  std::string why;
  if (!cu::test::gpu_available(why)) {
    MESSAGE("SKIPPED: no CUDA device (" << why << "); GPU emulator check not run");
    return;
  }
  MESSAGE("device: " << cu::test::gpu_description());
  auto rng = chempp::test::seeded_rng(41);
  for (std::size_t n : {1ul, 127ul, 128ul, 4099ul, 100000ul}) {
    const auto net = make_net<float>(7);
    const auto x = random_inputs<float>(n, rng);
    std::vector<float> y_cpu(n * 9);
    const nn::simd_mlp<float> cpu(net);
    cpu(x.data(), y_cpu.data(), n);
    const auto y = cu::test::gpu_mlp_forward(cu::to_dense_network_weights(net), x);
    std::string where;
    const double err = worst_relative(y, y_cpu, where);
    INFO("n = " << n << ", worst at " << where);
    CHECK(err < 1e-5);
  }
  const auto netd = make_net<double>(8, nn::activation::softplus);
  const auto xd = random_inputs<double>(999, rng);
  std::vector<double> yd_cpu(999 * 9);
  nn::reference_forward(netd, xd.data(), yd_cpu.data(), 999);
  std::string where;
  const double err = worst_relative(cu::test::gpu_mlp_forward(cu::to_dense_network_weights(netd), xd), yd_cpu, where);
  INFO("double, worst at " << where);
  CHECK(err < 1e-12);
}
