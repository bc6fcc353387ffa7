// SPDX-License-Identifier: BSD-3-Clause
// nvcc side of the CUDA tests: thin wrappers over the .cuh classes (see gpu_api.hpp).
#include "gpu_api.hpp"

#include "chempp/cuda/device.cuh"
#include "chempp/cuda/emulator.cuh"
#include "chempp/cuda/gaussian_fit.cuh"
#include "chempp/cuda/maf.cuh"

namespace chempp::cuda::test {

bool gpu_available(std::string& why) { return device_count(&why) > 0; }

std::string gpu_description() {
  const device_info d = current_device();
  return d.name + " (cc " + std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor) + ", " +
         std::to_string(d.multiprocessors) + " SMs)";
}

std::string cuda_error_message_for(int code, const std::string& call) {
  try {
    detail::check(static_cast<cudaError_t>(code), call.c_str(), "gpu_api.cu", 1);
  } catch (const cuda_error& e) {
    return e.what();
  }
  return "";
}

void allocate_device_floats(std::size_t n) { device_buffer<float> b(n); }

std::vector<float> gpu_mlp_forward(const dense_network_weights& w, const std::vector<float>& x) {
  return batched_mlp<float>(w).forward(x);
}
std::vector<double> gpu_mlp_forward(const dense_network_weights& w, const std::vector<double>& x) {
  return batched_mlp<double>(w).forward(x);
}

namespace {
template <class T>
std::vector<T> log_prob_impl(const maf_weights& w, const std::vector<T>& theta, const std::vector<T>& x, std::size_t k) {
  batched_maf<T> f(w);
  if (k == f.features()) return f.log_prob(theta, x);
  const std::size_t n = theta.size() / f.features();
  device_buffer<T> dt(theta), dx(x), out(n);
  f.log_prob_marginal(dt.data(), dx.data(), n, x.size() / f.context_size(), k, out.data());
  synchronize();
  return out.to_host();
}
}  // namespace

std::vector<float> gpu_maf_log_prob(const maf_weights& w, const std::vector<float>& theta, const std::vector<float>& x,
                                    std::size_t k) {
  return log_prob_impl(w, theta, x, k);
}
std::vector<double> gpu_maf_log_prob(const maf_weights& w, const std::vector<double>& theta,
                                     const std::vector<double>& x, std::size_t k) {
  return log_prob_impl(w, theta, x, k);
}

std::vector<float> gpu_maf_sample_from_base(const maf_weights& w, const std::vector<float>& x, std::size_t n_per_x,
                                            const std::vector<float>& z) {
  return batched_maf<float>(w).sample_from_base(x, n_per_x, z);
}
std::vector<double> gpu_maf_sample_from_base(const maf_weights& w, const std::vector<double>& x,
                                             std::size_t n_per_x, const std::vector<double>& z) {
  return batched_maf<double>(w).sample_from_base(x, n_per_x, z);
}

std::vector<double> gpu_maf_sample(const maf_weights& w, const std::vector<double>& x, std::size_t n_per_x,
                                   std::uint64_t seed, const std::vector<double>& lower,
                                   const std::vector<double>& upper, std::size_t& n_outside) {
  batched_maf<double> f(w);
  const std::size_t n_obs = x.size() / f.context_size();
  device_buffer<double> dx(x), out(n_obs * n_per_x * f.features());
  support_box box{lower, upper, 1000};
  n_outside = f.sample(dx.data(), n_obs, n_per_x, seed, out.data(), lower.empty() ? nullptr : &box);
  return out.to_host();
}

void gpu_fit_gaussians(const std::vector<double>& samples, std::size_t n_stars, std::size_t n_per_star,
                       std::size_t ld, std::size_t k, int ddof, std::vector<double>& mean, std::vector<double>& cov) {
  gaussian_fitter f;
  f.fit(samples, n_stars, n_per_star, ld, k, ddof, mean, cov);
}

}  // namespace chempp::cuda::test
