// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// A dense multi-layer perceptron with runtime layer sizes and activations, its parameters in
/// one flat vector (what the optimisers update), and input/output standardisation stored with
/// it. The paper's emulator is `mlp<float>({6, 100, 40, 9}, {tanh, tanh, identity})`
/// (Buck et al. 2025 §2.3; `docs/sbi-pipeline.md` §3).
///
/// Layout: batches are `features x samples`, column-major (`chempp/nn/tensor.hpp`). Layer `l`
/// computes `a_{l+1} = f_l(W_l a_l + b_l)` on *standardised* data; `predict` applies the input
/// standardiser before and the inverse output standardiser after.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/nn/activation.hpp"
#include "chempp/nn/layer.hpp"
#include "chempp/nn/scaling.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// Weight initialisation schemes.
enum class init_scheme {
  pytorch_default,  ///< U(+-1/sqrt(fan_in)) for weights and biases (what the paper's code got)
  xavier_uniform    ///< Glorot: U(+-sqrt(6/(fan_in+fan_out))) weights, zero biases
};

/// Cached activations of one forward pass (reused between batches to avoid reallocation).
template <class T>
struct mlp_workspace {
  std::vector<matrix<T>> pre;   ///< `z_l = W_l a_l + b_l`, one per layer
  std::vector<matrix<T>> post;  ///< `a_0` (input) ... `a_L` (output)
  matrix<T> delta, delta_next;  ///< backward scratch
};

/// A dense MLP. `T` is float or double.
template <class T>
class mlp {
 public:
  using scalar_type = T;

  mlp() = default;

  /// `sizes` = (n_in, hidden..., n_out), `activations` one per layer (sizes.size() - 1).
  /// Parameters start at zero; call `initialize`. Throws `invalid_argument` on bad shapes.
  mlp(std::vector<std::size_t> sizes, std::vector<activation> activations)
      : sizes_(std::move(sizes)), acts_(std::move(activations)) {
    if (sizes_.size() < 2) throw invalid_argument("mlp: need at least input and output sizes");
    if (acts_.size() != sizes_.size() - 1)
      throw invalid_argument("mlp: need one activation per layer (got " +
                             std::to_string(acts_.size()) + " for " +
                             std::to_string(sizes_.size() - 1) + " layers)");
    std::size_t off = 0;
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
      if (sizes_[l] == 0 || sizes_[l + 1] == 0) throw invalid_argument("mlp: layer size 0");
      offsets_.push_back(off);
      off += sizes_[l] * sizes_[l + 1] + sizes_[l + 1];
    }
    params_ = vector<T>::Zero(static_cast<Eigen::Index>(off));
    in_scaling_ = standardizer<T>::identity(sizes_.front());
    out_scaling_ = standardizer<T>::identity(sizes_.back());
  }

  /// Number of affine layers.
  [[nodiscard]] std::size_t num_layers() const noexcept { return acts_.size(); }
  /// Layer sizes (n_in, hidden..., n_out).
  [[nodiscard]] const std::vector<std::size_t>& sizes() const noexcept { return sizes_; }
  /// Activation after layer `l`.
  [[nodiscard]] activation layer_activation(std::size_t l) const { return acts_[checked_layer(l, "layer_activation")]; }
  [[nodiscard]] const std::vector<activation>& activations() const noexcept { return acts_; }
  [[nodiscard]] std::size_t input_size() const noexcept { return sizes_.empty() ? 0 : sizes_.front(); }
  [[nodiscard]] std::size_t output_size() const noexcept { return sizes_.empty() ? 0 : sizes_.back(); }
  [[nodiscard]] std::size_t num_parameters() const noexcept { return static_cast<std::size_t>(params_.size()); }

  /// All parameters, layer by layer: W_0 (column-major), b_0, W_1, b_1, ...
  [[nodiscard]] vector<T>& parameters() noexcept { return params_; }
  [[nodiscard]] const vector<T>& parameters() const noexcept { return params_; }
  /// Offset of layer `l`'s parameters in `parameters()`.
  [[nodiscard]] std::size_t parameter_offset(std::size_t l) const { return offsets_[checked_layer(l, "parameter_offset")]; }

  /// A view of layer `l` (its weight is `sizes[l+1] x sizes[l]`).
  [[nodiscard]] linear_layer<T> layer(std::size_t l) {
    (void)checked_layer(l, "layer");  // before any index is read (argument order is unspecified)
    return linear_layer<T>(params_.data() + offsets_[l], sizes_[l], sizes_[l + 1]);
  }
  [[nodiscard]] linear_layer<T> layer(std::size_t l) const {
    (void)checked_layer(l, "layer");
    return linear_layer<T>(const_cast<T*>(params_.data()) + offsets_[l], sizes_[l], sizes_[l + 1]);
  }
  /// `l`, or `invalid_argument` (not std::out_of_range) when there is no layer `l`.
  [[nodiscard]] std::size_t checked_layer(std::size_t l, const char* fn) const {
    if (l >= acts_.size()) {
      throw invalid_argument(std::string("chempp::nn::mlp::") + fn + ": layer " + std::to_string(l) + " of " +
                             std::to_string(acts_.size()));
    }
    return l;
  }

  /// Input standardisation (applied before layer 0).
  [[nodiscard]] standardizer<T>& input_scaling() noexcept { return in_scaling_; }
  [[nodiscard]] const standardizer<T>& input_scaling() const noexcept { return in_scaling_; }
  /// Output standardisation (its inverse is applied after the last layer).
  [[nodiscard]] standardizer<T>& output_scaling() noexcept { return out_scaling_; }
  [[nodiscard]] const standardizer<T>& output_scaling() const noexcept { return out_scaling_; }

  /// Draws all parameters from `scheme` with a `std::mt19937_64` seeded by `seed`.
  void initialize(std::uint64_t seed, init_scheme scheme = init_scheme::xavier_uniform) {
    std::mt19937_64 rng(seed);
    for (std::size_t l = 0; l < num_layers(); ++l) {
      auto lay = layer(l);
      const double fan_in = static_cast<double>(sizes_[l]);
      const double fan_out = static_cast<double>(sizes_[l + 1]);
      const double wb = scheme == init_scheme::pytorch_default ? 1.0 / std::sqrt(fan_in)
                                                               : std::sqrt(6.0 / (fan_in + fan_out));
      std::uniform_real_distribution<double> uw(-wb, wb);
      for (Eigen::Index i = 0; i < lay.weight().size(); ++i)
        lay.weight().data()[i] = static_cast<T>(uw(rng));
      std::uniform_real_distribution<double> ub(-1.0 / std::sqrt(fan_in), 1.0 / std::sqrt(fan_in));
      for (Eigen::Index i = 0; i < lay.bias().size(); ++i)
        lay.bias()[i] = scheme == init_scheme::pytorch_default ? static_cast<T>(ub(rng)) : T(0);
    }
  }

  /// Forward pass on *standardised* inputs `z_in` (n_in x n), caching every layer in `ws`;
  /// the standardised output is `ws.post.back()`.
  template <class M>
  void forward(const M& z_in, mlp_workspace<T>& ws) const {
    check_input_rows(z_in.rows(), "mlp::forward");
    const std::size_t nl = num_layers();
    ws.pre.resize(nl);
    ws.post.resize(nl + 1);
    ws.post[0] = z_in;
    for (std::size_t l = 0; l < nl; ++l) {
      layer(l).forward(ws.post[l], ws.pre[l]);
      visit_activation(acts_[l], [&](auto fn) {
        activation_layer<T, decltype(fn)>(sizes_[l + 1]).forward(ws.pre[l], ws.post[l + 1]);
      });
    }
  }

  /// Backward pass after `forward(…, ws)`: given `d_out = dL/d(standardised output)`, writes
  /// `dL/dparameters` into `grad` (resized to `num_parameters()`); if `d_in` is non-null also
  /// `dL/d(standardised input)`.
  template <class M>
  void backward(mlp_workspace<T>& ws, const M& d_out, vector<T>& grad, matrix<T>* d_in = nullptr) const {
    grad.resize(params_.size());
    ws.delta = d_out;
    for (std::size_t l = num_layers(); l-- > 0;) {
      visit_activation(acts_[l], [&](auto fn) {
        activation_layer<T, decltype(fn)>(sizes_[l + 1])
            .backward(ws.pre[l], ws.post[l + 1], ws.delta, ws.delta_next);
      });
      const auto lay = layer(l);
      lay.gradient(ws.post[l], ws.delta_next,
                   Eigen::Map<vector<T>>(grad.data() + offsets_[l],
                                         static_cast<Eigen::Index>(lay.num_parameters())));
      if (l > 0 || d_in != nullptr) {
        lay.backward(ws.post[l], ws.pre[l], ws.delta_next, ws.delta);
      }
    }
    if (d_in != nullptr) *d_in = ws.delta;
  }

  /// Prediction in raw units (the Eigen path): standardise `x` (n_in x n), run the network,
  /// undo the output standardisation. Allocates its temporaries.
  template <class M>
  [[nodiscard]] matrix<T> predict(const M& x) const {
    check_input_rows(x.rows(), "mlp::predict");
    matrix<T> a = in_scaling_.transform(x.template cast<T>());
    matrix<T> z;
    for (std::size_t l = 0; l < num_layers(); ++l) {
      layer(l).forward(a, z);
      visit_activation(acts_[l], [&](auto fn) {
        activation_layer<T, decltype(fn)>(sizes_[l + 1]).forward(z, a);
      });
    }
    return out_scaling_.inverse(a);
  }

  /// The same network with parameters and scalings converted to `U`.
  template <class U>
  [[nodiscard]] mlp<U> cast() const {
    mlp<U> r(sizes_, acts_);
    r.parameters() = params_.template cast<U>();
    r.input_scaling().mean = in_scaling_.mean.template cast<U>();
    r.input_scaling().scale = in_scaling_.scale.template cast<U>();
    r.output_scaling().mean = out_scaling_.mean.template cast<U>();
    r.output_scaling().scale = out_scaling_.scale.template cast<U>();
    return r;
  }

 private:
  void check_input_rows(Eigen::Index rows, const char* fn) const {
    if (static_cast<std::size_t>(rows) != input_size())
      throw invalid_argument(std::string(fn) + ": input has " + std::to_string(rows) +
                             " rows (features), network expects " + std::to_string(input_size()));
  }

  std::vector<std::size_t> sizes_;
  std::vector<activation> acts_;
  std::vector<std::size_t> offsets_;
  vector<T> params_;
  standardizer<T> in_scaling_, out_scaling_;
};

}  // namespace chempp::nn
