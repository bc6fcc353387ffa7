// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Conversion from chempp's CPU classes to the plain weight structures of the CUDA back end
/// (`chempp/cuda/weights.hpp`), and CPU counterparts of the GPU entry points that take
/// caller-provided base-normal draws (so GPU and CPU results can be compared draw for draw).
/// Host-only C++20: includes the CPU headers (Eigen), never a CUDA header.

#include "chempp/core/compat_eigen.hpp"

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/cuda/weights.hpp"
#include "chempp/flow/maf.hpp"
#include "chempp/nn/activation.hpp"
#include "chempp/nn/mlp.hpp"

namespace chempp::cuda {

/// The kernel id of an emulator activation.
[[nodiscard]] inline activation_id to_activation_id(nn::activation a) noexcept {
  switch (a) {
    case nn::activation::tanh: return activation_id::tanh;
    case nn::activation::sigmoid: return activation_id::sigmoid;
    case nn::activation::softplus: return activation_id::softplus;
    case nn::activation::identity: break;
  }
  return activation_id::identity;
}

/// Weights of a trained emulator network (any precision) with its standardisation folded into
/// the outer layers in double, exactly as `chempp::nn::simd_mlp` folds it: layer 0 gets
/// W/σ_in and b − (W/σ_in) μ_in; if the last activation is the identity the last layer gets
/// σ_out W and σ_out b + μ_out, otherwise σ_out, μ_out are kept in `output_scale/mean`.
template <class U>
[[nodiscard]] dense_network_weights to_dense_network_weights(const nn::mlp<U>& net) {
  dense_network_weights r;
  r.sizes = net.sizes();
  const std::size_t nl = net.num_layers();
  for (std::size_t l = 0; l < nl; ++l) {
    const std::size_t in = r.sizes[l], out = r.sizes[l + 1];
    const auto lay = net.layer(l);
    std::vector<double> w(out * in), b(out);
    for (std::size_t o = 0; o < out; ++o) {
      b[o] = static_cast<double>(lay.bias()[static_cast<Eigen::Index>(o)]);
      for (std::size_t i = 0; i < in; ++i)
        w[o * in + i] = static_cast<double>(lay.weight()(static_cast<Eigen::Index>(o), static_cast<Eigen::Index>(i)));
    }
    if (l == 0) {
      const auto& sc = net.input_scaling();
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t i = 0; i < in; ++i) {
          w[o * in + i] /= static_cast<double>(sc.scale[static_cast<Eigen::Index>(i)]);
          b[o] -= w[o * in + i] * static_cast<double>(sc.mean[static_cast<Eigen::Index>(i)]);
        }
    }
    if (l + 1 == nl) {
      const auto& sc = net.output_scaling();
      if (net.layer_activation(l) != nn::activation::identity) {
        for (std::size_t o = 0; o < out; ++o) {
          r.output_scale.push_back(static_cast<double>(sc.scale[static_cast<Eigen::Index>(o)]));
          r.output_mean.push_back(static_cast<double>(sc.mean[static_cast<Eigen::Index>(o)]));
        }
      } else {
        for (std::size_t o = 0; o < out; ++o) {
          const double s = static_cast<double>(sc.scale[static_cast<Eigen::Index>(o)]);
          for (std::size_t i = 0; i < in; ++i) w[o * in + i] *= s;
          b[o] = b[o] * s + static_cast<double>(sc.mean[static_cast<Eigen::Index>(o)]);
        }
      }
    }
    r.activations.push_back(to_activation_id(net.layer_activation(l)));
    r.weights.push_back(std::move(w));
    r.biases.push_back(std::move(b));
  }
  r.validate("chempp::cuda::to_dense_network_weights");
  return r;
}

namespace detail {
inline std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(r * m.cols() + c)] = m(r, c);
  return v;
}
inline std::vector<double> to_std(const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); }
}  // namespace detail

/// Weights of a conditional MAF (tanh or relu MADEs, softplus or sigmoid scale).
template <class Act, class Scale>
[[nodiscard]] maf_weights to_maf_weights(const flow::conditional_maf<Act, Scale>& f) {
  static_assert(std::is_same_v<Act, flow::tanh_activation> || std::is_same_v<Act, flow::relu_activation>,
                "to_maf_weights: the CUDA kernels support tanh and relu MADEs");
  static_assert(std::is_same_v<Scale, flow::softplus_scale> || std::is_same_v<Scale, flow::sigmoid_scale>,
                "to_maf_weights: the CUDA kernels support the softplus and sigmoid scales");
  maf_weights w;
  const auto& cfg = f.config();
  w.features = static_cast<std::size_t>(cfg.features);
  w.context = static_cast<std::size_t>(cfg.context);
  w.hidden = static_cast<std::size_t>(cfg.hidden);
  w.blocks = static_cast<std::size_t>(cfg.blocks);
  w.activation = std::is_same_v<Act, flow::tanh_activation> ? activation_id::tanh : activation_id::relu;
  w.scale = std::is_same_v<Scale, flow::softplus_scale> ? scale_id::softplus : scale_id::sigmoid;
  w.condition_first = cfg.condition_first;
  for (const auto& m : f.mades()) {
    made_weights mw;
    mw.w_in = detail::row_major(m.w_in);
    mw.w_ctx = detail::row_major(m.w_ctx);
    mw.b_in = detail::to_std(m.b_in);
    for (const auto& x : m.w_hidden) mw.w_hidden.push_back(detail::row_major(x));
    for (const auto& x : m.b_hidden) mw.b_hidden.push_back(detail::to_std(x));
    mw.w_out = detail::row_major(m.w_out);
    mw.b_out = detail::to_std(m.b_out);
    w.transforms.push_back(std::move(mw));
  }
  for (const auto& p : f.permutations()) {
    std::vector<int> q;
    for (auto v : p) q.push_back(static_cast<int>(v));
    w.permutations.push_back(std::move(q));
  }
  w.theta_mean = detail::to_std(f.theta_mean());
  w.theta_std = detail::to_std(f.theta_std());
  w.x_mean = detail::to_std(f.x_mean());
  w.x_std = detail::to_std(f.x_std());
  w.validate("chempp::cuda::to_maf_weights");
  return w;
}

/// CPU counterpart of `batched_maf::sample_from_base`: θ = flow⁻¹(z; x) for given base-normal
/// draws. `z` is (n_obs n_per_x) × D (row per draw), `x` is n_obs × C; row s of the result
/// belongs to observation s / n_per_x. Uses `conditional_maf::inverse_standardized`.
template <class Flow>
[[nodiscard]] Eigen::MatrixXd sample_from_base(const Flow& f, const Eigen::Ref<const Eigen::MatrixXd>& z,
                                               const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index n_per_x) {
  const char* fn = "chempp::cuda::sample_from_base";
  if (z.cols() != f.features()) chempp::detail::throw_argument(fn, "z.cols()", "must equal D", double(z.cols()));
  if (x.cols() != f.context_size()) chempp::detail::throw_argument(fn, "x.cols()", "must equal C", double(x.cols()));
  if (n_per_x < 1 || z.rows() != x.rows() * n_per_x)
    throw invalid_argument(std::string(fn) + ": z must have x.rows() * n_per_x rows");
  Eigen::MatrixXd c(f.context_size(), z.rows());
  for (Eigen::Index s = 0; s < z.rows(); ++s)
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      c(j, s) = flow::internal::context_z(fn, j, x(s / n_per_x, j), f.x_mean()[j], f.x_std()[j], f.context_z_limit());
  const Eigen::MatrixXd u0 = f.inverse_standardized(z.transpose(), c);
  return ((u0.array().colwise() * f.theta_std().array()).colwise() + f.theta_mean().array()).transpose();
}

}  // namespace chempp::cuda
