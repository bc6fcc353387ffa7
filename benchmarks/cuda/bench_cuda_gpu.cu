// SPDX-License-Identifier: BSD-3-Clause
// GPU side of bench_cuda (see bench_cuda_gpu.hpp).
#include "bench_cuda_gpu.hpp"

#include "chempp/cuda/device.cuh"
#include "chempp/cuda/emulator.cuh"
#include "chempp/cuda/gaussian_fit.cuh"
#include "chempp/cuda/maf.cuh"

namespace chempp::cuda::bench {

namespace {
// A pair of CUDA events (RAII).
struct event_pair {
  cudaEvent_t start{}, stop{};
  event_pair() {
    CHEMPP_CUDA_CHECK(cudaEventCreate(&start));
    CHEMPP_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~event_pair() {
    (void)cudaEventDestroy(start);
    (void)cudaEventDestroy(stop);
  }
  event_pair(const event_pair&) = delete;
  event_pair& operator=(const event_pair&) = delete;
  double seconds() const {
    CHEMPP_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0.0f;
    CHEMPP_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return static_cast<double>(ms) * 1e-3;
  }
};
}  // namespace

bool gpu_available(std::string& why) { return device_count(&why) > 0; }

std::string gpu_description() {
  const device_info d = current_device();
  return d.name + " (compute capability " + std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor) +
         ", " + std::to_string(d.multiprocessors) + " SMs, " + std::to_string(static_cast<int>(d.global_memory_gib + 0.5)) +
         " GiB)";
}

struct emulator_runner::impl {
  batched_mlp<float> net;
  device_buffer<float> x, y;
  std::size_t n;
  event_pair ev;
  impl(const dense_network_weights& w, const std::vector<float>& xs)
      : net(w), x(xs), y(xs.size() / w.input_size() * w.output_size()), n(xs.size() / w.input_size()) {}
};

emulator_runner::emulator_runner(const dense_network_weights& w, const std::vector<float>& x)
    : p_(std::make_unique<impl>(w, x)) {}
emulator_runner::~emulator_runner() = default;

double emulator_runner::run() {
  CHEMPP_CUDA_CHECK(cudaEventRecord(p_->ev.start));
  p_->net.forward(p_->x.data(), p_->y.data(), p_->n);
  CHEMPP_CUDA_CHECK(cudaEventRecord(p_->ev.stop));
  return p_->ev.seconds();
}
std::vector<float> emulator_runner::output() const { return p_->y.to_host(); }

struct posterior_runner::impl {
  batched_maf<float> flow;
  gaussian_fitter fitter;
  device_buffer<float> x, theta;
  device_buffer<double> mean, cov;
  std::size_t n_stars, n_per, k;
  event_pair ev_sample, ev_fit;
  impl(const maf_weights& w, const std::vector<float>& xs, std::size_t n_per_star, std::size_t k_)
      : flow(w),
        x(xs),
        theta(xs.size() / w.context * n_per_star * w.features),
        mean(xs.size() / w.context * k_),
        cov(xs.size() / w.context * k_ * k_),
        n_stars(xs.size() / w.context),
        n_per(n_per_star),
        k(k_) {}
};

posterior_runner::posterior_runner(const maf_weights& w, const std::vector<float>& x_stars, std::size_t n_per_star,
                                   std::size_t k)
    : p_(std::make_unique<impl>(w, x_stars, n_per_star, k)) {}
posterior_runner::~posterior_runner() = default;

std::vector<double> posterior_runner::run(std::uint64_t seed) {
  auto& p = *p_;
  CHEMPP_CUDA_CHECK(cudaEventRecord(p.ev_sample.start));
  (void)p.flow.sample(p.x.data(), p.n_stars, p.n_per, seed, p.theta.data());  // synchronises
  CHEMPP_CUDA_CHECK(cudaEventRecord(p.ev_sample.stop));
  CHEMPP_CUDA_CHECK(cudaEventRecord(p.ev_fit.start));
  p.fitter.fit(p.theta.data(), p.n_stars, p.n_per, p.flow.features(), p.k, 1, p.mean.data(), p.cov.data());
  CHEMPP_CUDA_CHECK(cudaEventRecord(p.ev_fit.stop));
  return {p.ev_sample.seconds(), p.ev_fit.seconds()};
}
std::vector<double> posterior_runner::means() const { return p_->mean.to_host(); }

}  // namespace chempp::cuda::bench
