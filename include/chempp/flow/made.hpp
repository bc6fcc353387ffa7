// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// MADE: a masked autoencoder for distribution estimation (Germain et al. 2015, ICML) conditioned
/// on a context vector, exactly as nflows 0.14 builds it for `MaskedAffineAutoregressiveTransform`
/// (used by sbi 0.23.1's MAF, docs/sbi-pipeline.md §4):
///
///     a0      = (M_in ∘ W_in) u + W_ctx c + b_in              (no activation, as in nflows)
///     h_k     = f((M_k ∘ W_k) h_{k-1} + b_k),   k = 1..blocks  (h_0 = a0)
///     out     = (M_out ∘ W_out) h_blocks + b_out
///
/// Degrees (nflows, sequential, non-random masks): input j has degree j+1; hidden unit k has
/// degree k mod max(1, D-1) + min(1, D-1); output rows r and D+r (scale and shift of dimension r)
/// have degree r+1. A hidden unit sees an input/hidden unit of degree <= its own; an output sees
/// hidden units of strictly smaller degree. Hence output r depends only on u_0..u_{r-1}.
/// Note (nflows quirk): no hidden unit has degree 0, so dimension 0 of every transform gets a
/// constant scale and shift, independent of the context. `made_shape::condition_first` = true
/// uses hidden degrees k mod D instead (degree-0 units see only the context), which conditions
/// every dimension on x; recommended with permutation_kind::global_first.
///
/// Layout: every batch is an Eigen matrix with one **column per sample** (features × batch), so a
/// layer is one matrix product W · U. Output rows 0..D-1 are the unconstrained scales, rows
/// D..2D-1 the shifts. The batch matrices are column-major by default (each sample contiguous):
/// the layers are Eigen's dense products (the double path the gradient checks use). With
/// `Order = Eigen::RowMajor` each feature's row is contiguous over the batch (what float training
/// uses, train.hpp) and the layers are the masked products of kernels/masked_gemm.hpp, which skip
/// the multiply-adds the masks zero (~40 % of them at H = 50): the same formulas in another order
/// of summation. Both rely on the weights outside the masks being zero (`apply_masks`). `permuted_hidden` and
/// `degree_order` reorder the hidden units (the same function), which makes the masks
/// block-triangular and the masked products' tiles contiguous; float training does so.

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/flow/activation.hpp"
#include "chempp/flow/permutation.hpp"
#include "chempp/kernels/maf.hpp"
#include "chempp/kernels/masked_gemm.hpp"
#include "chempp/kernels/simd.hpp"
#include "chempp/nn/tensor.hpp"

namespace chempp::flow {

/// Shape of one MADE: D autoregressive features, C context features, H hidden units per layer,
/// `blocks` activated hidden layers.
struct made_shape {
  Eigen::Index features = 1;  ///< D, dimension of θ
  Eigen::Index context = 0;   ///< C, dimension of the conditioning vector x
  Eigen::Index hidden = 8;    ///< H, hidden width
  Eigen::Index blocks = 2;    ///< number of activated hidden layers (nflows `num_blocks`)
  /// false (nflows): hidden degrees start at 1, so the output of the first dimension sees no
  /// hidden unit and ignores the context. true: hidden degrees k mod D start at 0; degree-0
  /// units see only the context and feed the first dimension's scale and shift.
  bool condition_first = false;
  friend bool operator==(const made_shape&, const made_shape&) = default;
};

/// A batch of T: features × batch, storage order `Order` (see the file comment).
template <class T, int Order = Eigen::ColMajor>
using batch_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>;

namespace internal {
/// m.col(j) += b for every sample j, contiguous in either storage order.
template <class M, class V>
void add_bias(M& m, const V& b) {
  if constexpr (M::IsRowMajor) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) m.row(i).array() += b(i);
  } else {
    m.colwise() += b;
  }
}
}  // namespace internal

/// Intermediate values of one MADE forward pass kept for the backward pass (scalar T, batch
/// storage order `Order`).
template <class T, int Order = Eigen::ColMajor>
struct basic_made_cache {
  std::vector<batch_matrix<T, Order>> pre;   ///< pre-activations a_k (k = 0..blocks), H × B each
  std::vector<batch_matrix<T, Order>> post;  ///< post-activations h_k (h_0 = a_0), H × B each
};
/// The double-precision cache.
using made_cache = basic_made_cache<double>;

/// A conditional MADE with policy `Act` (activation) and parameters of scalar type `T` (double
/// for evaluation and the gradient checks; float for single-precision training, see train.hpp).
/// Holds its parameters; a second instance of the same shape is used to accumulate gradients
/// (`zero()` + `backward`).
template <Activation Act = tanh_activation, class T = double>
class made {
 public:
  using activation_type = Act;
  using scalar_type = T;
  using matrix_type = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using vector_type = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  made() = default;

  /// Builds the masks for `shape`; all parameters are zero.
  explicit made(const made_shape& shape) {
    build_masks(shape);
    build_plans();
  }

  /// This MADE with every parameter converted to scalar type U (rounded to nearest for float).
  template <class U>
  [[nodiscard]] made<Act, U> cast() const {
    made<Act, U> r;
    r.build_masks(shape_);  // sizes; the masks and degrees are then copied, so plans are built once
    std::vector<const T*> src;
    for_each_tensor([&src](const auto& m) { src.push_back(m.data()); });
    std::size_t i = 0;
    r.for_each_tensor([&](auto& m) {
      for (Eigen::Index k = 0; k < m.size(); ++k) m.data()[k] = static_cast<U>(src[i][k]);
      ++i;
    });
    r.hidden_degree_ = hidden_degree_;  // a MADE with permuted hidden units stays permuted
    r.mask_in = mask_in.template cast<U>();
    r.mask_hidden = mask_hidden.template cast<U>();
    r.mask_out = mask_out.template cast<U>();
    r.build_plans();
    return r;
  }

 private:
  /// Shape, degrees, masks and zero parameters for `shape` (no masked-product plans).
  void build_masks(const made_shape& shape) {
    shape_ = shape;
    const char* fn = "made";
    if (shape.features < 1) chempp::detail::throw_argument(fn, "features", "must be >= 1", double(shape.features));
    if (shape.context < 0) chempp::detail::throw_argument(fn, "context", "must be >= 0", double(shape.context));
    if (shape.hidden < 1) chempp::detail::throw_argument(fn, "hidden", "must be >= 1", double(shape.hidden));
    if (shape.blocks < 0) chempp::detail::throw_argument(fn, "blocks", "must be >= 0", double(shape.blocks));
    const Eigen::Index d = shape.features, h = shape.hidden;
    in_degree_.resize(d);
    for (Eigen::Index j = 0; j < d; ++j) in_degree_[j] = j + 1;
    hidden_degree_.resize(h);
    for (Eigen::Index k = 0; k < h; ++k)
      hidden_degree_[k] = kernels::made_hidden_degree(static_cast<int>(k), static_cast<int>(d), shape.condition_first);
    mask_in = matrix_type::Zero(h, d);
    for (Eigen::Index k = 0; k < h; ++k)
      for (Eigen::Index j = 0; j < d; ++j) mask_in(k, j) = hidden_degree_[k] >= in_degree_[j] ? T(1) : T(0);
    mask_hidden = matrix_type::Zero(h, h);
    for (Eigen::Index k = 0; k < h; ++k)
      for (Eigen::Index l = 0; l < h; ++l)
        mask_hidden(k, l) = hidden_degree_[k] >= hidden_degree_[l] ? T(1) : T(0);
    mask_out = matrix_type::Zero(2 * d, h);
    for (Eigen::Index r = 0; r < 2 * d; ++r)
      for (Eigen::Index k = 0; k < h; ++k)
        mask_out(r, k) = (r % d) + 1 > hidden_degree_[k] ? T(1) : T(0);
    w_in = matrix_type::Zero(h, d);
    w_ctx = matrix_type::Zero(h, shape.context);
    b_in = vector_type::Zero(h);
    w_hidden.assign(static_cast<std::size_t>(shape.blocks), matrix_type::Zero(h, h));
    b_hidden.assign(static_cast<std::size_t>(shape.blocks), vector_type::Zero(h));
    w_out = matrix_type::Zero(2 * d, h);
    b_out = vector_type::Zero(2 * d);
  }

 public:
  /// The shape this MADE was built for.
  [[nodiscard]] const made_shape& shape() const noexcept { return shape_; }
  /// Degree of hidden unit k (1-based autoregressive degree).
  [[nodiscard]] Eigen::Index hidden_degree(Eigen::Index k) const { return hidden_degree_[k]; }

  /// The hidden units ordered by degree (stable): `permuted_hidden(degree_order())` has
  /// block-triangular masks.
  [[nodiscard]] permutation degree_order() const {
    permutation order(hidden_degree_.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = Eigen::Index(k);
    std::stable_sort(order.begin(), order.end(),
                     [this](Eigen::Index a, Eigen::Index b) { return hidden_degree_[std::size_t(a)] < hidden_degree_[std::size_t(b)]; });
    return order;
  }

  /// This MADE with its hidden units reordered: unit k of every hidden layer of the result is unit
  /// `order[k]` of *this, with its weights, bias, mask entries and degree. It computes the same
  /// function (up to the order of summation) and the parameters of the two differ only by the
  /// permutation, so training either is the same training; `permuted_hidden(inverse)` restores
  /// *this exactly (`inverse_of(order)`, permutation.hpp). Throws if `order` is not a permutation
  /// of 0..H-1. A permuted MADE is a
  /// training device (flow/train.hpp): `conditional_maf`, its samplers and its files expect the
  /// units in nflows order.
  [[nodiscard]] made permuted_hidden(const permutation& order) const {
    const Eigen::Index h = shape_.hidden;
    if (!is_permutation_of(order, h))
      chempp::detail::throw_argument("made::permuted_hidden", "order", "must be a permutation of 0..H-1; its size",
                                     double(order.size()));
    made r = *this;
    for (Eigen::Index k = 0; k < h; ++k) {
      const Eigen::Index o = order[std::size_t(k)];
      r.hidden_degree_[std::size_t(k)] = hidden_degree_[std::size_t(o)];
      r.w_in.row(k) = w_in.row(o);
      r.mask_in.row(k) = mask_in.row(o);
      r.w_ctx.row(k) = w_ctx.row(o);
      r.b_in[k] = b_in[o];
      for (std::size_t l = 0; l < w_hidden.size(); ++l) {
        r.b_hidden[l][k] = b_hidden[l][o];
        for (Eigen::Index j = 0; j < h; ++j) r.w_hidden[l](k, j) = w_hidden[l](o, order[std::size_t(j)]);
      }
      for (Eigen::Index j = 0; j < h; ++j) r.mask_hidden(k, j) = mask_hidden(o, order[std::size_t(j)]);
      r.w_out.col(k) = w_out.col(o);
      r.mask_out.col(k) = mask_out.col(o);
    }
    r.build_plans();
    return r;
  }

  /// PyTorch `nn.Linear` default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights
  /// and biases, then masked. `fan_in` of the first layer counts θ inputs and the context layer
  /// separately (two nn.Linear in nflows).
  template <class Rng>
  void initialize(Rng& rng) {
    auto fill = [&rng](auto& m, double fan_in) {
      const double b = 1.0 / std::sqrt(std::max(1.0, fan_in));
      std::uniform_real_distribution<double> u(-b, b);
      for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(u(rng));
    };
    const auto d = double(shape_.features), h = double(shape_.hidden);
    fill(w_in, d);
    fill(b_in, d);
    fill(w_ctx, double(shape_.context));
    for (auto& w : w_hidden) fill(w, h);
    for (auto& b : b_hidden) fill(b, h);
    fill(w_out, h);
    fill(b_out, h);
    apply_masks();
  }

  /// Zeroes weights outside the masks (after initialisation or loading).
  void apply_masks() {
    w_in.array() *= mask_in.array();
    for (auto& w : w_hidden) w.array() *= mask_hidden.array();
    w_out.array() *= mask_out.array();
  }

  /// Sets every parameter to zero (used for gradient accumulators).
  void zero() {
    for_each_tensor([](auto& m) { m.setZero(); });
  }

  /// Calls `f(tensor)` for each parameter tensor in a fixed order
  /// (w_in, w_ctx, b_in, [w_k, b_k]..., w_out, b_out). The order defines the flat layout.
  template <class F>
  void for_each_tensor(F&& f) {
    f(w_in);
    f(w_ctx);
    f(b_in);
    for (std::size_t k = 0; k < w_hidden.size(); ++k) {
      f(w_hidden[k]);
      f(b_hidden[k]);
    }
    f(w_out);
    f(b_out);
  }
  /// Const overload of `for_each_tensor`.
  template <class F>
  void for_each_tensor(F&& f) const {
    const_cast<made*>(this)->for_each_tensor([&f](const auto& m) { f(m); });
  }

  /// Number of scalar parameters (including masked-out zeros).
  [[nodiscard]] Eigen::Index parameter_count() const {
    Eigen::Index n = 0;
    for_each_tensor([&n](const auto& m) { n += m.size(); });
    return n;
  }

  /// Forward pass. `u`: D × B inputs, `c`: C × B context (ignored when C = 0),
  /// `out`: 2D × B (resized). Fills `cache` for `backward`. The batches' storage order `Order`
  /// is that of `cache` and `out`.
  template <int Order>
  void forward(const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& u,
               const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& c, basic_made_cache<T, Order>& cache,
               batch_matrix<T, Order>& out) const {
    check_batch("made::forward", u, c);
    const std::size_t nb = w_hidden.size();
    cache.pre.resize(nb + 1);
    cache.post.resize(nb + 1);
    if constexpr (Order == Eigen::RowMajor) {
      forward_rows(u, c, cache, out);
      return;
    }
    auto& a0 = cache.pre[0];
    a0.noalias() = w_in * u;
    if (shape_.context > 0) a0.noalias() += w_ctx * c;
    internal::add_bias(a0, b_in);
    cache.post[0] = a0;
    for (std::size_t k = 0; k < nb; ++k) {
      auto& a = cache.pre[k + 1];
      a.noalias() = w_hidden[k] * cache.post[k];
      internal::add_bias(a, b_hidden[k]);
      cache.post[k + 1].resize(a.rows(), a.cols());
      kernels::map_n<Act>(a.data(), cache.post[k + 1].data(), static_cast<std::size_t>(a.size()));
    }
    out.noalias() = w_out * cache.post[nb];
    internal::add_bias(out, b_out);
  }

  /// Backward pass: given dL/d(out) (`grad_out`, 2D × B) and the cache of the forward pass on
  /// (u, c), **adds** the parameter gradients into `grad` (same shape as *this; gradients of
  /// masked weights stay zero) and, if `grad_u` is non-null, writes dL/du (D × B).
  /// `work` is scratch space (resized).
  template <int Order>
  void backward(const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& u,
                const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& c,
                const basic_made_cache<T, Order>& cache,
                const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& grad_out, made& grad,
                batch_matrix<T, Order>* grad_u, std::vector<batch_matrix<T, Order>>& work) const {
    const char* fn = "made::backward";
    check_batch(fn, u, c);
    const std::size_t nb = w_hidden.size();
    if (grad_out.rows() != 2 * shape_.features || grad_out.cols() != u.cols())
      chempp::detail::throw_argument(fn, "grad_out", "must be 2D x batch like the forward output; rows",
                                     double(grad_out.rows()));
    if (!(grad.shape() == shape_))
      chempp::detail::throw_argument(fn, "grad", "must have the MADE's shape; hidden", double(grad.shape().hidden));
    if (cache.post.size() != nb + 1 || cache.pre.size() != nb + 1 || cache.post[nb].cols() != u.cols())
      chempp::detail::throw_argument(fn, "cache", "must come from forward() on the same batch; layers",
                                     double(cache.post.size()));
    work.resize(2);
    if constexpr (Order == Eigen::RowMajor) {
      backward_rows(u, c, cache, grad_out, grad, grad_u, work);
      return;
    }
    auto& g = work[0];
    auto& g2 = work[1];
    grad.w_out.noalias() += (grad_out * cache.post[nb].transpose()).cwiseProduct(mask_out);
    nn::add_sample_sums(grad_out, grad.b_out);
    g.noalias() = w_out.transpose() * grad_out;  // dL/dh_nb
    for (std::size_t kk = nb; kk > 0; --kk) {
      const std::size_t k = kk - 1;  // hidden layer k maps post[k] -> post[k+1]
      const auto& a = cache.pre[k + 1];
      const auto& y = cache.post[k + 1];
      for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] *= Act::derivative(a.data()[i], y.data()[i]);
      grad.w_hidden[k].noalias() += (g * cache.post[k].transpose()).cwiseProduct(mask_hidden);
      nn::add_sample_sums(g, grad.b_hidden[k]);
      g2.noalias() = w_hidden[k].transpose() * g;
      g.swap(g2);
    }
    // g = dL/da0
    grad.w_in.noalias() += (g * u.transpose()).cwiseProduct(mask_in);
    if (shape_.context > 0) grad.w_ctx.noalias() += g * c.transpose();
    nn::add_sample_sums(g, grad.b_in);
    if (grad_u != nullptr) grad_u->noalias() = w_in.transpose() * g;
  }

  // Parameters (public, like a plain aggregate; masks are enforced by apply_masks/backward).
  matrix_type w_in;                   ///< H × D masked input weights
  matrix_type w_ctx;                  ///< H × C context weights (unmasked)
  vector_type b_in;                   ///< H first-layer bias
  std::vector<matrix_type> w_hidden;  ///< blocks × (H × H) masked hidden weights
  std::vector<vector_type> b_hidden;  ///< blocks × H hidden biases
  matrix_type w_out;                  ///< 2D × H masked output weights (scales, then shifts)
  vector_type b_out;                  ///< 2D output bias
  // Masks (0/1), derived from the shape (and permuted with the units by permuted_hidden); the
  // row-major products' tilings are built from them once, so they are not to be edited.
  matrix_type mask_in;      ///< H × D
  matrix_type mask_hidden;  ///< H × H
  matrix_type mask_out;     ///< 2D × H

 private:
  template <Activation, class>
  friend class made;

  // Sizes of a batch (u: D × B, c: C × B) against the shape, with the argument named.
  template <class U, class C>
  void check_batch(const char* fn, const U& u, const C& c) const {
    if (u.rows() != shape_.features)
      chempp::detail::throw_argument(fn, "u", "must have one row per feature; rows", double(u.rows()));
    if (shape_.context > 0 && (c.rows() != shape_.context || c.cols() != u.cols()))
      chempp::detail::throw_argument(fn, "c", "must be C x batch like u; rows", double(c.rows()));
  }

  using row_batch = batch_matrix<T, Eigen::RowMajor>;
  using row_ref = Eigen::Ref<const row_batch>;

  /// Tilings of the masked products of row-major batches (kernels/masked_gemm.hpp), derived from
  /// the masks: forward products (tiles of 3 outputs), the transposed products of the input
  /// gradients, and the weight gradients (tiles of 4).
  struct row_plans {
    kernels::masked_plan in, in_t, ctx, hidden, hidden_t, out, out_t;
    kernels::masked_plan in_grad, ctx_grad, hidden_grad, out_grad;
  };

  void build_plans() {
    using kernels::make_masked_plan;
    const auto plan = [](const matrix_type& m, int tile, bool transpose, int pad = 1) {
      return transpose ? make_masked_plan(int(m.cols()), int(m.rows()), tile, [&m](int o, int i) { return m(i, o) != T(0); }, pad)
                       : make_masked_plan(int(m.rows()), int(m.cols()), tile, [&m](int o, int i) { return m(o, i) != T(0); }, pad);
    };
    constexpr int pad = kernels::masked_outer_inputs<T>();
    const auto dense = [this](int tile) {  // the context layer: every weight live
      return make_masked_plan(int(shape_.hidden), int(shape_.context), tile, [](int, int) { return true; });
    };
    plans_.in = plan(mask_in, 3, false);
    plans_.in_t = plan(mask_in, 3, true);
    plans_.ctx = dense(3);
    plans_.hidden = plan(mask_hidden, 3, false);
    plans_.hidden_t = plan(mask_hidden, 3, true);
    plans_.out = plan(mask_out, 3, false);
    plans_.out_t = plan(mask_out, 3, true);
    plans_.in_grad = plan(mask_in, 4, false, pad);
    plans_.ctx_grad = dense(4);  // nothing to pad with
    plans_.hidden_grad = plan(mask_hidden, 4, false, pad);
    plans_.out_grad = plan(mask_out, 4, false, pad);
  }

  // forward() on row-major batches: the masked products (same formulas as the Eigen path).
  void forward_rows(const row_ref& u, const row_ref& c, basic_made_cache<T, Eigen::RowMajor>& cache, row_batch& out) const {
    using kernels::masked_init;
    using kernels::masked_product;
    const std::size_t nb = w_hidden.size();
    const Eigen::Index b = u.cols(), h = shape_.hidden, d = shape_.features;
    auto& a0 = cache.pre[0];
    a0.resize(h, b);
    masked_product(plans_.in, w_in.data(), 1, h, u.data(), u.outerStride(), a0.data(), b, b, masked_init::bias, b_in.data());
    if (shape_.context > 0)
      masked_product(plans_.ctx, w_ctx.data(), 1, h, c.data(), c.outerStride(), a0.data(), b, b, masked_init::accumulate);
    cache.post[0] = a0;
    for (std::size_t k = 0; k < nb; ++k) {
      auto& a = cache.pre[k + 1];
      a.resize(h, b);
      masked_product(plans_.hidden, w_hidden[k].data(), 1, h, cache.post[k].data(), b, a.data(), b, b, masked_init::bias,
                     b_hidden[k].data());
      cache.post[k + 1].resize(h, b);
      kernels::map_n<Act>(a.data(), cache.post[k + 1].data(), static_cast<std::size_t>(a.size()));
    }
    out.resize(2 * d, b);
    masked_product(plans_.out, w_out.data(), 1, 2 * d, cache.post[nb].data(), b, out.data(), b, b, masked_init::bias, b_out.data());
  }

  // backward() on row-major batches.
  void backward_rows(const row_ref& u, const row_ref& c, const basic_made_cache<T, Eigen::RowMajor>& cache, const row_ref& grad_out,
                     made& grad, row_batch* grad_u, std::vector<row_batch>& work) const {
    using kernels::masked_init;
    using kernels::masked_outer;
    using kernels::masked_product;
    const std::size_t nb = w_hidden.size();
    const Eigen::Index b = u.cols(), h = shape_.hidden, d = shape_.features;
    auto& g = work[0];
    auto& g2 = work[1];
    g.resize(h, b);
    g2.resize(h, b);
    masked_outer(plans_.out_grad, grad_out.data(), grad_out.outerStride(), cache.post[nb].data(), b, b, grad.w_out.data(), 1, 2 * d,
                 mask_out.data());
    nn::add_sample_sums(grad_out, grad.b_out);
    masked_product(plans_.out_t, w_out.data(), 2 * d, 1, grad_out.data(), grad_out.outerStride(), g.data(), b, b, masked_init::zero);
    for (std::size_t kk = nb; kk > 0; --kk) {
      const std::size_t k = kk - 1;  // hidden layer k maps post[k] -> post[k+1]
      const auto& a = cache.pre[k + 1];
      const auto& y = cache.post[k + 1];
      for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] *= Act::derivative(a.data()[i], y.data()[i]);
      masked_outer(plans_.hidden_grad, g.data(), b, cache.post[k].data(), b, b, grad.w_hidden[k].data(), 1, h, mask_hidden.data());
      nn::add_sample_sums(g, grad.b_hidden[k]);
      masked_product(plans_.hidden_t, w_hidden[k].data(), h, 1, g.data(), b, g2.data(), b, b, masked_init::zero);
      g.swap(g2);
    }
    // g = dL/da0
    masked_outer(plans_.in_grad, g.data(), b, u.data(), u.outerStride(), b, grad.w_in.data(), 1, h, mask_in.data());
    if (shape_.context > 0)
      masked_outer(plans_.ctx_grad, g.data(), b, c.data(), c.outerStride(), b, grad.w_ctx.data(), 1, h, static_cast<const T*>(nullptr));
    nn::add_sample_sums(g, grad.b_in);
    if (grad_u != nullptr) {
      grad_u->resize(d, b);
      masked_product(plans_.in_t, w_in.data(), h, 1, g.data(), b, grad_u->data(), b, b, masked_init::zero);
    }
  }

  made_shape shape_{};
  std::vector<Eigen::Index> in_degree_;
  std::vector<Eigen::Index> hidden_degree_;
  row_plans plans_;
};

}  // namespace chempp::flow
