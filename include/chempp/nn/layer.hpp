// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Layers with hand-written forward, backward and parameter gradient (mlpack style), and the
/// `Layer` concept they satisfy.
///
/// Batches use the layout of `chempp/nn/tensor.hpp`: `features x samples`, column-major.
/// For a layer `y = f(x; p)` with upstream gradient `dy = dL/dy`:
/// * `forward(x, y)` computes the output;
/// * `backward(x, y, dy, dx)` computes `dx = dL/dx` (given the forward input and output);
/// * `gradient(x, dy, g)` writes `dL/dp` into `g` (length `num_parameters()`, same order as the
///   layer's parameters); gradients are summed over the samples of the batch.

#include <concepts>
#include <cstddef>

#include "chempp/kernels/simd.hpp"
#include "chempp/nn/activation.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::nn {

/// A differentiable layer: forward, backward (input gradient) and parameter gradient.
template <class L>
concept Layer = requires(const L& l, const matrix<typename L::scalar_type>& x,
                         matrix<typename L::scalar_type>& y,
                         Eigen::Ref<vector<typename L::scalar_type>> g) {
  typename L::scalar_type;
  { l.num_parameters() } -> std::convertible_to<std::size_t>;
  { l.input_size() } -> std::convertible_to<std::size_t>;
  { l.output_size() } -> std::convertible_to<std::size_t>;
  l.forward(x, y);
  l.backward(x, x, x, y);
  l.gradient(x, x, g);
};

/// A fully connected affine layer `y = W x + b` that *views* parameters owned elsewhere (a
/// network's flat parameter vector). Parameters are ordered `W` (out x in, column-major) then
/// `b` (out). The viewed storage must outlive the layer.
template <class T>
class linear_layer {
 public:
  using scalar_type = T;

  /// Views `in * out + out` parameters starting at `params`.
  linear_layer(T* params, std::size_t in, std::size_t out) noexcept
      : w_(params, static_cast<Eigen::Index>(out), static_cast<Eigen::Index>(in)),
        b_(params + in * out, static_cast<Eigen::Index>(out)) {}

  [[nodiscard]] std::size_t input_size() const noexcept { return static_cast<std::size_t>(w_.cols()); }
  [[nodiscard]] std::size_t output_size() const noexcept { return static_cast<std::size_t>(w_.rows()); }
  [[nodiscard]] std::size_t num_parameters() const noexcept {
    return static_cast<std::size_t>(w_.size() + b_.size());
  }
  /// The weight matrix (out x in).
  [[nodiscard]] Eigen::Map<matrix<T>>& weight() noexcept { return w_; }
  [[nodiscard]] const Eigen::Map<matrix<T>>& weight() const noexcept { return w_; }
  /// The bias (out).
  [[nodiscard]] Eigen::Map<vector<T>>& bias() noexcept { return b_; }
  [[nodiscard]] const Eigen::Map<vector<T>>& bias() const noexcept { return b_; }

  /// `y = W x + b` for every column of `x`.
  template <class X, class Y>
  void forward(const X& x, Y& y) const {
    y.resize(w_.rows(), x.cols());
    y.noalias() = w_ * x;
    y.colwise() += b_;
  }
  /// `dx = W^T dy` (the forward input/output are not needed for an affine map).
  template <class X, class Y, class DY, class DX>
  void backward(const X& /*x*/, const Y& /*y*/, const DY& dy, DX& dx) const {
    dx.resize(w_.cols(), dy.cols());
    dx.noalias() = w_.transpose() * dy;
  }
  /// `dW = dy x^T`, `db = sum over samples of dy`, written into `g` (W first, then b).
  template <class X, class DY, class G>
  void gradient(const X& x, const DY& dy, G&& g) const {
    const auto n_w = w_.size();
    Eigen::Map<matrix<T>> gw(g.data(), w_.rows(), w_.cols());
    gw.noalias() = dy * x.transpose();
    Eigen::Map<vector<T>> gb(g.data() + n_w, w_.rows());
    gb.setZero();
    add_sample_sums(dy, gb);
  }

 private:
  Eigen::Map<matrix<T>> w_;
  Eigen::Map<vector<T>> b_;
};

/// An element-wise activation layer `y = Act::apply(x)` with no parameters; `Act` is one of the
/// policies of `chempp/nn/activation.hpp`.
template <class T, class Act>
class activation_layer {
 public:
  using scalar_type = T;
  using policy = Act;

  explicit activation_layer(std::size_t size = 0) noexcept : size_(size) {}
  [[nodiscard]] std::size_t input_size() const noexcept { return size_; }
  [[nodiscard]] std::size_t output_size() const noexcept { return size_; }
  [[nodiscard]] std::size_t num_parameters() const noexcept { return 0; }

  /// `y = f(x)` element-wise (xsimd map of the policy, kernels::map_n).
  template <class X, class Y>
  void forward(const X& x, Y& y) const {
    const matrix<T>& xe = x;  // an expression is evaluated once
    y.resize(xe.rows(), xe.cols());
    kernels::map_n<Act>(xe.data(), y.data(), static_cast<std::size_t>(xe.size()));
  }
  /// `dx = dy * f'(x)` with the derivative expressed through `x` and `y = f(x)`.
  template <class X, class Y, class DY, class DX>
  void backward(const X& x, const Y& y, const DY& dy, DX& dx) const {
    const matrix<T>& xe = x;
    const matrix<T>& ye = y;
    dx.resize(xe.rows(), xe.cols());
    kernels::map2_n<Act>(xe.data(), ye.data(), dx.data(), static_cast<std::size_t>(xe.size()));
    dx.array() *= dy.array();
  }
  /// No parameters: nothing to write.
  template <class X, class DY, class G>
  void gradient(const X& /*x*/, const DY& /*dy*/, G&& /*g*/) const noexcept {}

 private:
  std::size_t size_;
};

static_assert(Layer<linear_layer<double>>);
static_assert(Layer<activation_layer<double, tanh_fn>>);
static_assert(Layer<activation_layer<float, identity_fn>>);

}  // namespace chempp::nn
