// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Conditional masked autoregressive flow (MAF; Papamakarios, Pavlakou & Murray 2017, NeurIPS)
/// q(θ | x), the neural posterior estimator of Buck et al. 2025 (sbi 0.23.1 `posterior_nn("maf",
/// hidden_features=8, num_transforms=4)`, docs/sbi-pipeline.md §4):
///
///     u_0 = (θ - μ_θ) / σ_θ                               z-scoring, statistics of the training θ
///     c   = (x - μ_x) / σ_x                               z-scored context
///     for t = 0..T-1:
///         (s, m)   = MADE_t(u_t, c)                       see made.hpp
///         scale    = softplus(s) + 1e-3                   nflows 0.14's numerically safe scale
///                                                         (policy `Scale`, see below): never 0
///         y        = scale ∘ u_t + m
///         u_{t+1}  = y[perm_t]                            permutation (permutation.hpp)
///     z = u_T ~ N(0, I)
///     log q(θ|x) = log N(z; 0, I) + Σ_t Σ_i log scale_{t,i} - Σ_i log σ_θ,i
///
/// Sampling inverts the transforms: each affine autoregressive inverse needs D sequential MADE
/// passes, u_i = (y_i - m_i(u_<i)) / scale_i(u_<i).
///
/// **Public array convention** (Eigen, row per item): θ is N × D (one row per sample), x is
/// N × C (one row per observation) or 1 × C (one observation shared by all rows). Internally
/// batches are column-major with one column per sample (features × batch).

#include "chempp/core/compat_eigen.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <concepts>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/flow/activation.hpp"
#include "chempp/flow/detail/simd_math.hpp"
#include "chempp/kernels/maf.hpp"
#include "chempp/kernels/simd.hpp"
#include "chempp/flow/made.hpp"
#include "chempp/flow/permutation.hpp"

namespace chempp::flow {

/// Architecture of a conditional MAF. The defaults are the paper's (sbi MAF 8/4, 2 blocks, tanh
/// via the activation policy, random permutations).
struct maf_config {
  Eigen::Index features = 1;     ///< D = dim θ
  Eigen::Index context = 0;      ///< C = dim x
  Eigen::Index hidden = 8;       ///< hidden units per MADE layer
  Eigen::Index blocks = 2;       ///< activated hidden layers per MADE
  Eigen::Index transforms = 4;   ///< number of (MADE affine transform, permutation) pairs
  permutation_kind permutation = permutation_kind::random;  ///< see permutation.hpp
  Eigen::Index n_global = 0;     ///< leading dims kept first (permutation_kind::global_first)
  std::uint64_t seed = 0;        ///< seeds permutations and weight initialisation
  bool condition_first = false;  ///< see made_shape::condition_first (false = nflows/sbi)
  friend bool operator==(const maf_config&, const maf_config&) = default;
};

/// Requirements on a scale parametrisation of the affine transform y = scale(s) u + m:
/// `apply(s)` > 0 and `derivative(s, apply(s))` = d scale / d s, for any value type, plus a `name`
/// for weight files. The policies are defined once in `chempp/kernels/functions.hpp`.
template <class S>
concept AffineScale = requires(double s) {
  { S::apply(s) } -> std::convertible_to<double>;
  { S::derivative(s, s) } -> std::convertible_to<double>;
  { S::name } -> std::convertible_to<std::string_view>;
};

/// nflows 0.14 (the version sbi 0.23.1 runs): scale = softplus(s) + 1e-3 ∈ (1e-3, ∞); never 0, and
/// it can expand as well as contract. The default.
using softplus_scale = kernels::softplus_scale;
/// Older nflows (commented out in 0.14): scale = sigmoid(s + 2) + 1e-3 ∈ (1e-3, 1.001); each
/// transform can only contract; kept for comparison (see docs/flow.md).
using sigmoid_scale = kernels::sigmoid_scale;

static_assert(AffineScale<softplus_scale>);
static_assert(AffineScale<sigmoid_scale>);

/// Scratch space of a forward/backward pass over one batch in scalar T, batches stored in order
/// `Order` (made.hpp; reused to avoid allocation).
template <class T, int Order = Eigen::ColMajor>
struct basic_maf_workspace {
  using matrix_type = batch_matrix<T, Order>;
  std::vector<matrix_type> u;         ///< inputs of transform t (t = 0..T; u[T] = z), D × B
  std::vector<matrix_type> out;       ///< MADE outputs, 2D × B
  std::vector<matrix_type> s;         ///< unconstrained scales (MADE rows 0..D-1), D × B
  std::vector<matrix_type> scale;     ///< scales, D × B
  matrix_type logsc, dsc;             ///< log scale / d scale / ds scratch
  std::vector<basic_made_cache<T, Order>> cache;  ///< MADE caches
  Eigen::Matrix<T, Eigen::Dynamic, 1> log_q;  ///< per-sample log density (standardised θ space)
  matrix_type g, gy, gout, gu;        ///< backward scratch
  std::vector<matrix_type> work;      ///< MADE backward scratch
};
/// The double-precision workspace of `conditional_maf::forward_standardized`.
using maf_workspace = basic_maf_workspace<double>;

namespace internal {
/// The batched forward pass of a MAF given its MADEs (any scalar T) and permutations: fills `ws`
/// (ws.log_q = per-sample log density of u0 in standardised space). The one implementation behind
/// `conditional_maf::forward_standardized` and single-precision training (train.hpp); the
/// per-sample kernels (kernels/maf.hpp) are checked against it.
template <class Scale, class Made, class T = typename Made::scalar_type, int Order>
void maf_batch_forward(const std::vector<Made>& mades, const std::vector<permutation>& perms,
                       const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& u0,
                       const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& c, basic_maf_workspace<T, Order>& ws) {
  const std::size_t nt = mades.size();
  const Eigen::Index d = u0.rows(), b = u0.cols();
  ws.u.resize(nt + 1);
  ws.out.resize(nt);
  ws.scale.resize(nt);
  ws.s.resize(nt);
  ws.cache.resize(nt);
  ws.u[0] = u0;
  ws.log_q.setZero(b);
  for (std::size_t t = 0; t < nt; ++t) {
    const auto& u = ws.u[t];
    mades[t].template forward<Order>(u, c, ws.cache[t], ws.out[t]);
    auto& sc = ws.scale[t];
    ws.s[t] = ws.out[t].topRows(d);
    sc.resize(d, b);
    kernels::map_n<Scale>(ws.s[t].data(), sc.data(), static_cast<std::size_t>(sc.size()));
    ws.logsc.resize(d, b);
    kernels::map_n<kernels::log_fn>(sc.data(), ws.logsc.data(), static_cast<std::size_t>(sc.size()));
    ws.log_q += ws.logsc.colwise().sum().transpose();
    auto& next = ws.u[t + 1];
    next.resize(d, b);
    const auto& p = perms[t];
    for (Eigen::Index i = 0; i < d; ++i) {
      const Eigen::Index r = p[static_cast<std::size_t>(i)];
      next.row(i) = sc.row(r).cwiseProduct(u.row(r)) + ws.out[t].row(d + r);
    }
  }
  const T c0 = static_cast<T>(-0.5 * double(d) * std::log(2.0 * std::numbers::pi));
  ws.log_q.array() += c0 - T(0.5) * ws.u[nt].colwise().squaredNorm().transpose().array();
}

/// Backward pass of L = Σ_b w (-log q_b) after `maf_batch_forward` on (u0, c): **adds**
/// dL/dparameters into `grad` (MADEs of the same shapes) and writes dL/du0 into `grad_u0` if
/// non-null.
template <class Scale, class Made, class T = typename Made::scalar_type, int Order>
void maf_batch_backward(const std::vector<Made>& mades, const std::vector<permutation>& perms,
                        const std::type_identity_t<Eigen::Ref<const batch_matrix<T, Order>>>& c, std::type_identity_t<T> weight,
                        basic_maf_workspace<T, Order>& ws, std::vector<Made>& grad,
                        std::type_identity_t<batch_matrix<T, Order>>* grad_u0) {
  const std::size_t nt = mades.size();
  const Eigen::Index d = ws.u[0].rows(), b = ws.u[0].cols();
  ws.g = weight * ws.u[nt];  // d(-log N(z))/dz = z
  ws.gy.resize(d, b);
  ws.gout.resize(2 * d, b);
  for (std::size_t tt = nt; tt > 0; --tt) {
    const std::size_t t = tt - 1;
    const auto& p = perms[t];
    for (Eigen::Index i = 0; i < d; ++i) ws.gy.row(p[static_cast<std::size_t>(i)]) = ws.g.row(i);
    const auto& u = ws.u[t];
    const auto& sc = ws.scale[t];
    // d/dscale of [y = scale u + m] and of [-w log scale]
    ws.dsc.resize(d, b);
    kernels::map2_n<Scale>(ws.s[t].data(), sc.data(), ws.dsc.data(), static_cast<std::size_t>(sc.size()));
    ws.gout.topRows(d) = (ws.gy.cwiseProduct(u) - weight * sc.cwiseInverse()).cwiseProduct(ws.dsc);
    ws.gout.bottomRows(d) = ws.gy;
    const bool need_u = (t > 0) || (grad_u0 != nullptr);
    mades[t].template backward<Order>(u, c, ws.cache[t], ws.gout, grad[t], need_u ? &ws.gu : nullptr, ws.work);
    if (need_u) ws.g = ws.gy.cwiseProduct(sc) + ws.gu;
  }
  if (grad_u0 != nullptr) *grad_u0 = ws.g;
}

/// Copies the parameters of the MADEs `net` into the flat vector `p` (transform by transform,
/// `made::for_each_tensor` order: the layout of `conditional_maf::parameters()`).
template <class Made, class V>
void flatten_parameters(const std::vector<Made>& net, V& p) {
  using Map = Eigen::Map<const Eigen::Matrix<typename Made::scalar_type, Eigen::Dynamic, 1>>;
  Eigen::Index o = 0;
  for (const auto& m : net)
    m.for_each_tensor([&](const auto& t) {
      p.segment(o, t.size()) = Map(t.data(), t.size());
      o += t.size();
    });
}

/// Sets the parameters of `net` from the flat vector `p` (same layout) and re-applies the masks.
template <class Made, class V>
void unflatten_parameters(const V& p, std::vector<Made>& net) {
  using Map = Eigen::Map<Eigen::Matrix<typename Made::scalar_type, Eigen::Dynamic, 1>>;
  Eigen::Index o = 0;
  for (auto& m : net) {
    m.for_each_tensor([&](auto& t) {
      Map(t.data(), t.size()) = p.segment(o, t.size());
      o += t.size();
    });
    m.apply_masks();
  }
}
}  // namespace internal

/// Largest |z| = |x − μ_x| / σ_x of a context value that the flows accept by default: a value
/// 1000 training standard deviations away has no answer the flow could know (a context of 1e6
/// or 1e300 gave identical, confident posteriors; 1.7e308 overflowed to NaN silently).
inline constexpr double default_context_z_limit = 1e3;

namespace internal {
/// The error path of `context_z`, out of line so that the check inlines into the callers' loops
/// (as a call, the check took 18 % of a float log_prob at hidden width 8).
#if defined(__GNUC__)
[[gnu::noinline, gnu::cold]]
#endif
[[noreturn]] inline void context_z_error(const char* fn, Eigen::Index j, double v, double z, double limit) {
  if (!std::isfinite(v)) check_finite(fn, "x[" + std::to_string(j) + "]", v);
  throw invalid_argument(std::string(fn) + ": context x[" + std::to_string(j) + "] = " + chempp::detail::format_value(v) +
                         " lies " + chempp::detail::format_value(std::abs(z)) +
                         " training standard deviations from the training mean (limit " +
                         chempp::detail::format_value(limit) + "): outside the data the flow was trained on");
}
/// The z-score of context value `v` (column `j`). \throws invalid_argument, naming the column,
/// for a NaN/infinite value, a z that is not finite, or one more than `limit` training standard
/// deviations away (a limit of +inf disables only the last test).
inline double context_z(const char* fn, Eigen::Index j, double v, double mean, double sd, double limit) {
  const double z = (v - mean) / sd;  // a NaN or infinite v gives a NaN or infinite z
  if (!(std::abs(z) <= limit && std::isfinite(z))) [[unlikely]]
    context_z_error(fn, j, v, z, limit);
  return z;
}

/// Accessors of a `conditional_maf`'s tensors for `kernels::pack_maf`.
template <class Flow>
struct maf_source {
  const Flow& f;
  [[nodiscard]] double w_in(int t, int k, int i) const { return f.mades()[std::size_t(t)].w_in(k, i); }
  [[nodiscard]] double w_ctx(int t, int k, int j) const { return f.mades()[std::size_t(t)].w_ctx(k, j); }
  [[nodiscard]] double b_in(int t, int k) const { return f.mades()[std::size_t(t)].b_in[k]; }
  [[nodiscard]] double w_hidden(int t, int l, int k, int j) const { return f.mades()[std::size_t(t)].w_hidden[std::size_t(l)](k, j); }
  [[nodiscard]] double b_hidden(int t, int l, int k) const { return f.mades()[std::size_t(t)].b_hidden[std::size_t(l)][k]; }
  [[nodiscard]] double w_out(int t, int r, int k) const { return f.mades()[std::size_t(t)].w_out(r, k); }
  [[nodiscard]] double b_out(int t, int r) const { return f.mades()[std::size_t(t)].b_out[r]; }
  [[nodiscard]] int perm(int t, int i) const { return int(f.permutations()[std::size_t(t)][std::size_t(i)]); }
  [[nodiscard]] double theta_mean(int i) const { return f.theta_mean()[i]; }
  [[nodiscard]] double theta_std(int i) const { return f.theta_std()[i]; }
  [[nodiscard]] double x_mean(int j) const { return f.x_mean()[j]; }
  [[nodiscard]] double x_std(int j) const { return f.x_std()[j]; }
};

/// Kernel value type of the CPU drivers: K registers of xsimd::batch<T, Arch> in flight.
template <class T, class Arch = xsimd::default_arch, int K = 2>
using lanes_of = kernels::multi<xsimd::batch<T, Arch>, K>;

/// Doubles per SIMD register of `Arch`; 0 where the architecture has no double registers
/// (32-bit NEON).
template <class Arch, class = void>
struct double_register_lanes {
  static constexpr std::size_t value = 0;
};
template <class Arch>
struct double_register_lanes<Arch, std::enable_if_t<xsimd::types::has_simd_register<double, Arch>::value>> {
  static constexpr std::size_t value = xsimd::batch<double, Arch>::size;
};

/// dst[l] = T((src[l] - mu) / sd) for l < n (n a multiple of the double register width, src
/// contiguous) with SIMD loads and divisions (the same IEEE operations as the scalar form);
/// false if any result is not finite or exceeds `limit` in magnitude.
/// `z` is scratch of n doubles (aligned to 64 bytes; the results in double, converted to T in
/// one contiguous loop the compiler vectorises).
template <class Arch, class T>
inline bool standardize_lanes(const double* src, std::size_t n, double mu, double sd, double limit, double* z, T* dst) {
  using D = xsimd::batch<double, Arch>;
  D nan_if_bad(0.0);  // v - v is 0 for a finite v, NaN otherwise
  auto inside = D(0.0) == D(0.0);
  for (std::size_t l = 0; l < n; l += D::size) {
    const D v = (D::load_unaligned(src + l) - D(mu)) / D(sd);
    nan_if_bad = nan_if_bad + (v - v);
    inside = inside & (xsimd::abs(v) <= D(limit));
    v.store_aligned(z + l);
  }
  for (std::size_t l = 0; l < n; ++l) dst[l] = static_cast<T>(z[l]);
  return xsimd::all(nan_if_bad == D(0.0)) && xsimd::all(inside);
}

/// The context standardisation and out-of-distribution limit of a flow (its own double
/// means and standard deviations, `context_z`), for `log_prob_rows` to check while it reads x.
struct context_limits {
  const double* mean = nullptr;  ///< C training means of x
  const double* sd = nullptr;    ///< C training standard deviations of x
  double limit = 0.0;            ///< largest accepted |z|
};

/// The input checks of the flows' log densities, in their order: every θ value finite (column
/// by column), then every context value finite and within the limit (row by row, `context_z`).
/// \throws invalid_argument naming the first bad value.
inline void check_log_prob_inputs(const char* fn, const Eigen::Ref<const Eigen::MatrixXd>& theta,
                                  const Eigen::Ref<const Eigen::MatrixXd>& x, const context_limits& ctx) {
  for (Eigen::Index j = 0; j < theta.cols(); ++j)
    for (Eigen::Index r = 0; r < theta.rows(); ++r)
      if (!std::isfinite(theta(r, j))) check_finite(fn, "theta", theta(r, j));
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    for (Eigen::Index j = 0; j < x.cols(); ++j) (void)context_z(fn, j, x(r, j), ctx.mean[j], ctx.sd[j], ctx.limit);
}

/// log q(θ_n | x_n) of the first k dimensions for every row (θ: N × D, x: N × C or 1 × C) with
/// the shared forward kernel on V = `lanes_of<T, …>` (`V::lanes` rows per call). `fn` names the
/// caller in the error raised for a NaN/infinite input, checked before the kernel runs (xsimd's
/// exp converts a NaN to an integer: undefined behaviour). With `ctx`, x is standardised with the
/// flow's double means and checked against its context limit in the same pass; when a block
/// fails, all the inputs are checked in the order of `check_log_prob_inputs`, so the error is
/// the one `conditional_maf::log_prob`'s up-front check raises; `out` is then unspecified.
template <class Act, class Scale, class V, class T>
void log_prob_rows(const char* fn, const kernels::packed_maf<T>& pk, const Eigen::Ref<const Eigen::MatrixXd>& theta,
                   const Eigen::Ref<const Eigen::MatrixXd>& x, int k, Eigen::Ref<Eigen::VectorXd> out,
                   const context_limits* ctx = nullptr) {
  const kernels::maf_layout& L = pk.layout;
  constexpr auto lanes = static_cast<Eigen::Index>(V::lanes);
  using arch = typename V::batch_type::arch_type;
  constexpr std::size_t dl = double_register_lanes<arch>::value;
  constexpr bool simd_standardize = dl != 0 && V::lanes % dl == 0;  // else the scalar loop below
  const auto d = static_cast<std::size_t>(L.d), c = static_cast<std::size_t>(L.c);
  const Eigen::Index n = theta.rows();
  const bool shared = x.rows() == 1 && n != 1;
  std::vector<V> u(d), cv(std::max<std::size_t>(c, 1)), work(static_cast<std::size_t>(kernels::maf_work_size(L.d, L.h, L.blocks)));
  // (64-byte aligned: a group load of a misaligned buffer splits every register across two cache lines)
  std::vector<T, xsimd::aligned_allocator<T, 64>> buf(std::max(d, c) * static_cast<std::size_t>(lanes)), lq(static_cast<std::size_t>(lanes));
  alignas(64) double zbuf[simd_standardize ? V::lanes : 1];  // standardize_lanes scratch
  const T* p = pk.params.data();
  double log_norm = -0.5 * double(k) * std::log(2.0 * std::numbers::pi);
  for (int i = 0; i < k; ++i) log_norm -= std::log(double(p[L.o_theta_std + i]));
  if (n == 0 && ctx != nullptr) check_log_prob_inputs(fn, theta, x, *ctx);  // a shared x is checked without rows too
  bool inputs_checked = false;  // check_log_prob_inputs ran (at most once)
  for (Eigen::Index s0 = 0; s0 < n; s0 += lanes) {
    const Eigen::Index m = std::min(lanes, n - s0);
    auto row = [&](Eigen::Index l) { return s0 + (l < m ? l : 0); };
    bool finite = true;
    // z = (v - mean) / sd of `lanes` values of column `col` from row s0 into the group value `dst`:
    // a full block reads the column with SIMD loads; the last, partial block repeats row s0
    // (`finite` also turns false for a |z| above `limit`: then the checks below find out which)
    const auto load_z = [&](const Eigen::Ref<const Eigen::MatrixXd>& src, Eigen::Index col, bool one_row, double mu, double sd,
                            double limit, V& dst) {
      const auto ok = [limit](double z) { return std::abs(z) <= limit && std::isfinite(z); };
      if (one_row) {
        const double z = (src(0, col) - mu) / sd;
        finite = finite && ok(z);
        dst = V(static_cast<T>(z));
        return;
      }
      if constexpr (simd_standardize) {
        if (m == lanes) {
          finite = standardize_lanes<arch>(src.col(col).data() + s0, std::size_t(lanes), mu, sd, limit, zbuf, buf.data()) && finite;
          dst = V::load(buf.data());
          return;
        }
      }
      for (Eigen::Index l = 0; l < lanes; ++l) {
        const double z = (src(row(l), col) - mu) / sd;
        finite = finite && ok(z);
        buf[std::size_t(l)] = static_cast<T>(z);
      }
      dst = V::load(buf.data());
    };
    const double no_limit = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < d; ++i)
      load_z(theta, Eigen::Index(i), false, double(p[L.o_theta_mean + int(i)]), double(p[L.o_theta_std + int(i)]), no_limit, u[i]);
    for (std::size_t j = 0; j < c; ++j) {
      if (ctx != nullptr) load_z(x, Eigen::Index(j), shared, ctx->mean[j], ctx->sd[j], ctx->limit, cv[j]);
      else load_z(x, Eigen::Index(j), shared, double(p[L.o_x_mean + int(j)]), double(p[L.o_x_std + int(j)]), no_limit, cv[j]);
    }
    if (!finite && ctx != nullptr && !inputs_checked) {  // the up-front check's error
      check_log_prob_inputs(fn, theta, x, *ctx);
      inputs_checked = true;
    }
    for (Eigen::Index l = 0; !finite && l < m; ++l) {  // throws, naming the first non-finite input
      for (Eigen::Index i = 0; i < theta.cols(); ++i) check_finite(fn, "theta", theta(s0 + l, i));
      for (Eigen::Index j = 0; j < x.cols(); ++j) check_finite(fn, "x", x(shared ? 0 : s0 + l, j));
    }
    kernels::maf_forward<Act, Scale, kernels::dynamic_shape>(L, p, pk.ints.data(), u.data(), cv.data(), k, work.data())
        .store(lq.data());
    for (Eigen::Index l = 0; l < m; ++l) out[s0 + l] = double(lq[std::size_t(l)]) + log_norm;
  }
}
}  // namespace internal
/// A conditional MAF with activation policy `Act`.
template <Activation Act = tanh_activation, AffineScale Scale = softplus_scale>
class conditional_maf {
 public:
  using activation_type = Act;
  using scale_type = Scale;
  using made_type = made<Act>;

  conditional_maf() = default;

  /// Builds the flow and initialises it from `config.seed` (PyTorch-style uniform init,
  /// permutations per `config.permutation`). Standardisation starts as the identity.
  explicit conditional_maf(const maf_config& config) : config_(config) {
    const char* fn = "conditional_maf";
    if (config.features < 1) chempp::detail::throw_argument(fn, "config.features", "must be >= 1", double(config.features));
    if (config.context < 0) chempp::detail::throw_argument(fn, "config.context", "must be >= 0", double(config.context));
    if (config.transforms < 1) chempp::detail::throw_argument(fn, "config.transforms", "must be >= 1", double(config.transforms));
    if (config.n_global < 0 || config.n_global > config.features)
      chempp::detail::throw_argument(fn, "config.n_global", "must lie in [0, features]", double(config.n_global));
    std::mt19937_64 rng(config.seed);
    const made_shape shape{config.features, config.context, config.hidden, config.blocks, config.condition_first};
    for (Eigen::Index t = 0; t < config.transforms; ++t) {
      mades_.emplace_back(shape);
      mades_.back().initialize(rng);
      perms_.push_back(make_permutation(config.features, config.permutation, config.n_global, rng));
    }
    theta_mean_ = Eigen::VectorXd::Zero(config.features);
    theta_std_ = Eigen::VectorXd::Ones(config.features);
    x_mean_ = Eigen::VectorXd::Zero(config.context);
    x_std_ = Eigen::VectorXd::Ones(config.context);
  }

  /// The architecture.
  [[nodiscard]] const maf_config& config() const noexcept { return config_; }
  /// D.
  [[nodiscard]] Eigen::Index features() const noexcept { return config_.features; }
  /// C.
  [[nodiscard]] Eigen::Index context_size() const noexcept { return config_.context; }
  /// The MADE of transform t (mutable access is for loading and tests).
  [[nodiscard]] const std::vector<made_type>& mades() const noexcept { return mades_; }
  [[nodiscard]] std::vector<made_type>& mades() noexcept { return mades_; }
  /// The permutation applied after transform t.
  [[nodiscard]] const std::vector<permutation>& permutations() const noexcept { return perms_; }
  /// Replaces the permutations (loading); each must be a permutation of {0..D-1}.
  void set_permutations(std::vector<permutation> perms) {
    if (static_cast<Eigen::Index>(perms.size()) != config_.transforms)
      throw invalid_argument("conditional_maf::set_permutations: need one permutation per transform");
    for (const auto& p : perms)
      if (!is_permutation_of(p, config_.features))
        throw invalid_argument("conditional_maf::set_permutations: not a permutation of {0..D-1}");
    perms_ = std::move(perms);
  }

  /// The weights packed for the shared kernels (`kernels::pack_maf`: hidden units sorted by degree,
  /// in precision T). \throws invalid_argument if a weight outside the MADE masks is not zero.
  template <class T = double>
  [[nodiscard]] kernels::packed_maf<T> packed() const {
    kernels::maf_layout L;
    L.d = int(features());
    L.c = int(context_size());
    L.h = int(config_.hidden);
    L.blocks = int(config_.blocks);
    L.transforms = int(config_.transforms);
    L.condition_first = config_.condition_first ? 1 : 0;
    return kernels::pack_maf<T>(L, internal::maf_source<conditional_maf>{*this}, "conditional_maf::packed");
  }

  // ---- standardisation ------------------------------------------------------------------------
  /// θ z-score mean μ_θ (D).
  [[nodiscard]] const Eigen::VectorXd& theta_mean() const noexcept { return theta_mean_; }
  /// θ z-score scale σ_θ (D).
  [[nodiscard]] const Eigen::VectorXd& theta_std() const noexcept { return theta_std_; }
  /// x z-score mean μ_x (C).
  [[nodiscard]] const Eigen::VectorXd& x_mean() const noexcept { return x_mean_; }
  /// x z-score scale σ_x (C).
  [[nodiscard]] const Eigen::VectorXd& x_std() const noexcept { return x_std_; }
  /// Largest accepted |z| of a context value (`default_context_z_limit` unless set); every
  /// entry point throws `invalid_argument` naming the column beyond it (an out-of-distribution
  /// signal instead of a confident answer).
  [[nodiscard]] double context_z_limit() const noexcept { return context_z_limit_; }
  /// Sets the limit (> 0; +inf disables the check, NaN/inf contexts are still rejected).
  void set_context_z_limit(double limit) {
    if (!(limit > 0.0)) chempp::detail::throw_argument("conditional_maf::set_context_z_limit", "limit", "must be positive", limit);
    context_z_limit_ = limit;
  }

  /// Sets the z-scoring statistics; every std must be positive and finite.
  void set_standardization(const Eigen::VectorXd& theta_mean, const Eigen::VectorXd& theta_std,
                           const Eigen::VectorXd& x_mean, const Eigen::VectorXd& x_std) {
    const char* fn = "conditional_maf::set_standardization";
    if (theta_mean.size() != features() || theta_std.size() != features() || x_mean.size() != context_size() ||
        x_std.size() != context_size())
      throw invalid_argument(std::string(fn) + ": sizes must be D, D, C, C");
    for (Eigen::Index i = 0; i < theta_std.size(); ++i) {
      check_finite(fn, "theta_mean", theta_mean[i]);
      check_positive(fn, "theta_std", theta_std[i]);
    }
    for (Eigen::Index i = 0; i < x_std.size(); ++i) {
      check_finite(fn, "x_mean", x_mean[i]);
      check_positive(fn, "x_std", x_std[i]);
    }
    theta_mean_ = theta_mean;
    theta_std_ = theta_std;
    x_mean_ = x_mean;
    x_std_ = x_std;
  }

  /// Learns the z-scoring from training data (rows = pairs): mean and unbiased std per column as
  /// torch.std does in sbi; a std below 1e-14 is replaced by 1e-14 (sbi's guard) to avoid /0.
  void fit_standardization(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x) {
    check_pairs("conditional_maf::fit_standardization", theta, x, false);
    if (theta.rows() < 2) throw invalid_argument("conditional_maf::fit_standardization: need >= 2 rows");
    auto stats = [](const Eigen::Ref<const Eigen::MatrixXd>& m, Eigen::VectorXd& mean, Eigen::VectorXd& sd) {
      mean = m.colwise().mean().transpose();
      sd.resize(m.cols());
      for (Eigen::Index j = 0; j < m.cols(); ++j) {
        const double v = (m.col(j).array() - mean[j]).square().sum() / double(m.rows() - 1);
        sd[j] = std::max(std::sqrt(v), 1e-14);
      }
    };
    Eigen::VectorXd tm, ts, xm, xs;
    stats(theta, tm, ts);
    stats(x, xm, xs);
    set_standardization(tm, ts, xm, xs);
  }

  // ---- parameters -----------------------------------------------------------------------------
  /// Total number of scalar parameters (masked zeros included).
  [[nodiscard]] Eigen::Index parameter_count() const {
    Eigen::Index n = 0;
    for (const auto& m : mades_) n += m.parameter_count();
    return n;
  }
  /// All parameters as one flat vector (transform by transform, `made::for_each_tensor` order).
  [[nodiscard]] Eigen::VectorXd parameters() const {
    Eigen::VectorXd p(parameter_count());
    internal::flatten_parameters(mades_, p);
    return p;
  }
  /// Sets all parameters from a flat vector (same layout as `parameters()`); masks re-applied.
  void set_parameters(const Eigen::Ref<const Eigen::VectorXd>& p) {
    if (p.size() != parameter_count())
      throw invalid_argument("conditional_maf::set_parameters: wrong parameter count");
    internal::unflatten_parameters(p, mades_);
  }
  /// Sets every parameter to zero (for gradient accumulators of the same shape).
  void zero_parameters() {
    for (auto& m : mades_) m.zero();
  }

  // ---- core passes (standardised space, column per sample) ------------------------------------
  /// Forward pass on standardised inputs `u0` (D × B) and context `c` (C × B). Fills `ws`
  /// (ws.log_q = per-sample log density of u0, i.e. without the -Σ log σ_θ term).
  void forward_standardized(const Eigen::Ref<const Eigen::MatrixXd>& u0, const Eigen::Ref<const Eigen::MatrixXd>& c,
                            maf_workspace& ws) const {
    internal::maf_batch_forward<Scale>(mades_, perms_, u0, c, ws);
  }

  /// Backward pass of L = Σ_b w_b (-log q_b) after `forward_standardized` on (u0, c): **adds**
  /// dL/dparameters into `grad` (a flow of the same shape) and writes dL/du0 into `grad_u0` if
  /// non-null. `weight` is the same w for every sample (1/B for a mean).
  void backward_standardized(const Eigen::Ref<const Eigen::MatrixXd>& c, double weight, maf_workspace& ws,
                             conditional_maf& grad, Eigen::MatrixXd* grad_u0) const {
    internal::maf_batch_backward<Scale>(mades_, perms_, c, weight, ws, grad.mades_, grad_u0);
  }

  // ---- public evaluation (rows = items) --------------------------------------------------------
  /// log q(θ_n | x_n) for each row n. θ: N × D; x: N × C, or 1 × C for one shared observation.
  [[nodiscard]] Eigen::VectorXd log_prob(const Eigen::Ref<const Eigen::MatrixXd>& theta,
                                         const Eigen::Ref<const Eigen::MatrixXd>& x) const {
    check_pairs("conditional_maf::log_prob", theta, x, true);
    return log_prob_impl(theta, x, features());
  }

  /// Exact marginal log q(Λ | x) of the first k = config.n_global dimensions (Λ: N × k, x as in
  /// `log_prob`). Requires every permutation to keep the leading block (permutation_kind::
  /// global_first); throws `invalid_argument` otherwise.
  [[nodiscard]] Eigen::VectorXd log_prob_marginal(const Eigen::Ref<const Eigen::MatrixXd>& lambda,
                                                  const Eigen::Ref<const Eigen::MatrixXd>& x) const {
    const char* fn = "conditional_maf::log_prob_marginal";
    const Eigen::Index k = config_.n_global;
    if (k < 1 || !marginal_is_exact(k)) throw invalid_argument(std::string(fn) + ": the flow was not built with a global_first ordering (n_global >= 1)");
    if (lambda.cols() != k) chempp::detail::throw_argument(fn, "lambda.cols()", "must equal n_global", double(lambda.cols()));
    Eigen::MatrixXd theta = Eigen::MatrixXd::Zero(lambda.rows(), features());
    theta.leftCols(k) = lambda;
    for (Eigen::Index j = k; j < features(); ++j) theta.col(j).setConstant(theta_mean_[j]);
    check_pairs(fn, theta, x, true);
    return log_prob_impl(theta, x, k);
  }

  /// True if the first k dimensions are mapped among themselves by every permutation, so that
  /// the marginal of θ_0..θ_{k-1} is exact.
  [[nodiscard]] bool marginal_is_exact(Eigen::Index k) const {
    for (const auto& p : perms_)
      if (!keeps_leading_block(p, k)) return false;
    return true;
  }

  /// Mean negative log-likelihood -1/N Σ log q(θ_n|x_n) and its gradient: **adds**
  /// dNLL/dparameters into `grad` (same shape; call `zero_parameters()` first) and writes
  /// dNLL/dθ (N × D) if `grad_theta` is non-null. Goes through the standardisation.
  double nll_and_gradient(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                          conditional_maf& grad, Eigen::MatrixXd* grad_theta = nullptr) const {
    check_pairs("conditional_maf::nll_and_gradient", theta, x, false);
    Eigen::MatrixXd u0, c;
    standardize(theta, x, u0, c);
    maf_workspace ws;
    forward_standardized(u0, c, ws);
    const double n = double(theta.rows());
    Eigen::MatrixXd gu0;
    backward_standardized(c, 1.0 / n, ws, grad, grad_theta ? &gu0 : nullptr);
    if (grad_theta != nullptr) *grad_theta = (gu0.array().colwise() / theta_std_.array()).transpose();
    return -ws.log_q.mean() + theta_std_.array().log().sum();
  }

  /// Draws n samples θ ~ q(θ | x) for one observation x (1 × C or C-vector), as an n × D matrix.
  /// Reference (Eigen) implementation of the sequential inverse; see sampler.hpp for the fast,
  /// allocation-free xsimd kernel.
  template <class Rng>
  [[nodiscard]] Eigen::MatrixXd sample(Eigen::Index n, const Eigen::Ref<const Eigen::MatrixXd>& x, Rng& rng) const {
    const char* fn = "conditional_maf::sample";
    if (n < 0) chempp::detail::throw_argument(fn, "n", "must be >= 0", double(n));
    if (x.size() != context_size()) chempp::detail::throw_argument(fn, "x.size()", "must equal the context dimension", double(x.size()));
    Eigen::VectorXd xv(x.size());
    for (Eigen::Index j = 0; j < xv.size(); ++j) {
      xv[j] = x(j % x.rows(), j / x.rows());
      (void)internal::context_z(fn, j, xv[j], x_mean_[j], x_std_[j], context_z_limit_);
    }
    Eigen::MatrixXd c = ((xv - x_mean_).array() / x_std_.array()).matrix().replicate(1, n);
    // N(0,1) base points: sample s, dimension i is draw s of dimension i's counter-based stream,
    // keyed by one engine call (kernels/random.hpp), the same draws as maf_sampler
    const std::uint64_t key = internal::stream_key(rng);
    Eigen::MatrixXd z(features(), n);
    std::vector<double> row(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < features(); ++i) {
      kernels::normal_fill(kernels::dimension_key(key, static_cast<std::uint64_t>(i)), 0, row.data(), row.size());
      for (Eigen::Index s = 0; s < n; ++s) z(i, s) = row[static_cast<std::size_t>(s)];
    }
    Eigen::MatrixXd u0 = inverse_standardized(z, c);
    return ((u0.array().colwise() * theta_std_.array()).colwise() + theta_mean_.array()).transpose();
  }

  /// Inverse of the flow in standardised space: base points z (D × B) → u0 (D × B), context c
  /// (C × B), with the shared kernel (`kernels::maf_inverse`).
  [[nodiscard]] Eigen::MatrixXd inverse_standardized(const Eigen::Ref<const Eigen::MatrixXd>& z,
                                                     const Eigen::Ref<const Eigen::MatrixXd>& c) const {
    using V = internal::lanes_of<double>;
    const auto pk = packed<double>();
    const auto& L = pk.layout;
    const auto d = static_cast<std::size_t>(L.d), h = static_cast<std::size_t>(L.h), nc = static_cast<std::size_t>(L.c);
    constexpr auto lanes = static_cast<Eigen::Index>(V::lanes);
    Eigen::MatrixXd out(z.rows(), z.cols());
    std::vector<V> cur(d), cv(std::max<std::size_t>(nc, 1)), ctxb(static_cast<std::size_t>(L.transforms) * h),
        work(static_cast<std::size_t>(kernels::maf_work_size(L.d, L.h, L.blocks)));
    std::vector<double> buf(std::max(d, nc) * static_cast<std::size_t>(lanes));
    for (Eigen::Index s0 = 0; s0 < z.cols(); s0 += lanes) {
      const Eigen::Index m = std::min(lanes, z.cols() - s0);
      auto col = [&](Eigen::Index l) { return s0 + (l < m ? l : 0); };
      for (std::size_t i = 0; i < d; ++i) {
        for (Eigen::Index l = 0; l < lanes; ++l) buf[std::size_t(l)] = z(Eigen::Index(i), col(l));
        cur[i] = V::load(buf.data());
      }
      for (std::size_t j = 0; j < nc; ++j) {
        for (Eigen::Index l = 0; l < lanes; ++l) buf[std::size_t(l)] = c(Eigen::Index(j), col(l));
        cv[j] = V::load(buf.data());
      }
      for (int t = 0; t < L.transforms; ++t)
        kernels::maf_context_bias<kernels::dynamic_shape>(L, pk.params.data(), t, cv.data(), ctxb.data() + std::size_t(t) * h);
      const auto bias = [&](int t, int k) { return ctxb[std::size_t(t) * h + std::size_t(k)]; };
      kernels::maf_inverse<Act, Scale, kernels::dynamic_shape>(L, pk.params.data(), pk.ints.data(), cur.data(), bias, work.data());
      for (std::size_t i = 0; i < d; ++i) {
        cur[i].store(buf.data());
        for (Eigen::Index l = 0; l < m; ++l) out(Eigen::Index(i), s0 + l) = buf[std::size_t(l)];
      }
    }
    return out;
  }

  /// Standardises θ (N × D rows) and x (N × C or 1 × C) into column-per-sample u0 and c.
  void standardize(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                   Eigen::MatrixXd& u0, Eigen::MatrixXd& c) const {
    u0 = ((theta.transpose().array().colwise() - theta_mean_.array()).colwise() / theta_std_.array()).matrix();
    Eigen::MatrixXd cx = ((x.transpose().array().colwise() - x_mean_.array()).colwise() / x_std_.array()).matrix();
    if (x.rows() == 1 && theta.rows() != 1) c = cx.replicate(1, theta.rows());
    else c = std::move(cx);
  }

 private:
  Eigen::VectorXd log_prob_impl(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                                Eigen::Index k) const {
    Eigen::VectorXd result(theta.rows());
    internal::log_prob_rows<Act, Scale, internal::lanes_of<double>>("conditional_maf::log_prob", packed<double>(), theta, x,
                                                                    int(k), result);
    return result;
  }

  void check_pairs(const char* fn, const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                   bool allow_broadcast) const {
    if (theta.cols() != features()) chempp::detail::throw_argument(fn, "theta.cols()", "must equal D", double(theta.cols()));
    if (x.cols() != context_size()) chempp::detail::throw_argument(fn, "x.cols()", "must equal C", double(x.cols()));
    if (!(x.rows() == theta.rows() || (allow_broadcast && x.rows() == 1)))
      chempp::detail::throw_argument(fn, "x.rows()", "must equal theta.rows() (or 1)", double(x.rows()));
    internal::check_log_prob_inputs(fn, theta, x, internal::context_limits{x_mean_.data(), x_std_.data(), context_z_limit_});
  }

  maf_config config_{};
  std::vector<made_type> mades_;
  std::vector<permutation> perms_;
  Eigen::VectorXd theta_mean_, theta_std_, x_mean_, x_std_;
  double context_z_limit_ = default_context_z_limit;
};

/// The paper's estimator: sbi 0.23.1 MAF (tanh MADEs, softplus scale; choose hidden 8,
/// transforms 4 in the config).
using sbi_maf = conditional_maf<tanh_activation, softplus_scale>;

}  // namespace chempp::flow
