// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Fast sampling from a conditional MAF: the sequential inverse of every MADE, vectorised with
/// xsimd across samples (`batch<T, Arch>::size` samples per lane group, T = double or float) and free of
/// allocation per call (all scratch lives in the sampler, sized at construction).
///
/// Algorithmic savings over a plain inverse (nflows evaluates the full MADE D times per
/// transform): (1) the context enters the first layer as a bias computed once per x, and the
/// first layer is updated incrementally, a0 += W_in[:, i] u_i, after each inverted dimension;
/// (2) hidden units are reordered by degree: a unit of degree g depends on u_0..u_{g-1} only, so
/// it is final from step g on and is computed exactly once per transform (at step g); the output
/// of dimension i reads the prefix of units of degree <= i. The inverse then costs about one
/// MADE forward pass per transform instead of D.
///
/// Optional prior support: a box [lower, upper]; samples outside are rejected and redrawn (sbi's
/// DirectPosterior does this), with a cap on the number of candidates.

#include <algorithm>
#include <cmath>
#include <numbers>
#include <cstdint>
#include <exception>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "chempp/core/compat_xsimd.hpp"
#include "chempp/core/error.hpp"
#include "chempp/core/compat_eigen.hpp"
#include "chempp/core/parallel.hpp"
#include "chempp/flow/detail/simd_math.hpp"
#include "chempp/flow/maf.hpp"

namespace chempp::flow {

/// A box prior support for rejection: lower_i <= θ_i <= upper_i (use ±infinity to leave a
/// dimension free). `max_candidates_per_sample` bounds the work: if more than that many
/// candidates per requested sample would be needed, sampling throws `chempp::error`.
struct support_box {
  Eigen::VectorXd lower;                 ///< D lower bounds (θ units)
  Eigen::VectorXd upper;                 ///< D upper bounds (θ units)
  double max_candidates_per_sample = 1000.0;  ///< give up below 0.1 % acceptance
};

/// Vectorised, allocation-free sampler for a `conditional_maf<Act, Scale>` (tanh/relu,
/// softplus/sigmoid). Holds a packed copy of the weights: rebuild it after the flow changes.
/// `T` is the arithmetic type of the kernel: double (default; matches the Eigen path to ~1e-12)
/// or float (twice the SIMD width; ~1e-6 relative, for throughput). Inputs/outputs are double.
template <class Flow, class Arch = xsimd::default_arch, class T = double>
class maf_sampler {
 public:
  using value_type = T;
  using batch = xsimd::batch<T, Arch>;
  using act_type = typename Flow::activation_type;
  using scale_type = typename Flow::scale_type;
  /// Samples processed together (SIMD width in T).
  static constexpr std::size_t lanes = batch::size;

  /// Packs the weights of `flow` (hidden units reordered by degree).
  explicit maf_sampler(const Flow& flow)
      : d_(flow.features()), c_(flow.context_size()), h_(flow.config().hidden), nb_(flow.config().blocks),
        nt_(flow.config().transforms), theta_mean_(flow.theta_mean()), theta_std_(flow.theta_std()),
        x_mean_(flow.x_mean()), x_std_(flow.x_std()), z_limit_(flow.context_z_limit()) {
    static_assert(std::is_same_v<act_type, tanh_activation> || std::is_same_v<act_type, relu_activation>,
                  "maf_sampler: unsupported activation policy");
    static_assert(std::is_same_v<scale_type, softplus_scale> || std::is_same_v<scale_type, sigmoid_scale>,
                  "maf_sampler: unsupported scale policy");
    const auto& m0 = flow.mades().front();
    std::vector<Eigen::Index> order(static_cast<std::size_t>(h_));
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    std::stable_sort(order.begin(), order.end(),
                     [&m0](Eigen::Index a, Eigen::Index b) { return m0.hidden_degree(a) < m0.hidden_degree(b); });
    deg_.resize(static_cast<std::size_t>(h_));
    row_len_.resize(static_cast<std::size_t>(h_));
    for (Eigen::Index k = 0; k < h_; ++k) deg_[static_cast<std::size_t>(k)] = static_cast<std::size_t>(m0.hidden_degree(order[k]));
    for (std::size_t k = 0; k < static_cast<std::size_t>(h_); ++k)  // units of degree <= deg_[k] form a prefix
      row_len_[k] = static_cast<std::size_t>(std::count_if(deg_.begin(), deg_.end(), [&](std::size_t g) { return g <= deg_[k]; }));
    n_active_.resize(static_cast<std::size_t>(d_));
    for (Eigen::Index i = 0; i < d_; ++i) {
      std::size_t na = 0;
      for (Eigen::Index k = 0; k < h_; ++k) na += m0.hidden_degree(k) <= i ? 1u : 0u;
      n_active_[static_cast<std::size_t>(i)] = na;
    }
    for (std::size_t t = 0; t < static_cast<std::size_t>(nt_); ++t) {
      const auto& m = flow.mades()[t];
      for (Eigen::Index i = 0; i < d_; ++i)  // w_in column-major: column i contiguous
        for (Eigen::Index k = 0; k < h_; ++k) w_in_.push_back(static_cast<T>(m.w_in(order[k], i)));
      for (Eigen::Index k = 0; k < h_; ++k) {
        b_in_.push_back(m.b_in[order[k]]);
        for (Eigen::Index j = 0; j < c_; ++j) w_ctx_.push_back(m.w_ctx(order[k], j));
        b_in_t_.push_back(static_cast<T>(m.b_in[order[k]]));
        for (Eigen::Index j = 0; j < c_; ++j) w_ctx_t_.push_back(static_cast<T>(m.w_ctx(order[k], j)));
      }
      for (std::size_t l = 0; l < static_cast<std::size_t>(nb_); ++l)
        for (Eigen::Index k = 0; k < h_; ++k) {
          b_hid_.push_back(static_cast<T>(m.b_hidden[l][order[k]]));
          for (Eigen::Index j = 0; j < h_; ++j) w_hid_.push_back(static_cast<T>(m.w_hidden[l](order[k], order[j])));
        }
      for (Eigen::Index r = 0; r < 2 * d_; ++r) {
        b_out_.push_back(static_cast<T>(m.b_out[r]));
        for (Eigen::Index k = 0; k < h_; ++k) w_out_.push_back(static_cast<T>(m.w_out(r, order[k])));
      }
      perms_.push_back(flow.permutations()[t]);
    }
    const auto d = static_cast<std::size_t>(d_), h = static_cast<std::size_t>(h_);
    ctx_bias_.resize(static_cast<std::size_t>(nt_) * h);
    c_std_.resize(static_cast<std::size_t>(c_));
    cur_.resize(d);
    y_.resize(d);
    u_.resize(d);
    a0_.resize(h);
    hid_.resize(std::max<std::size_t>(1, static_cast<std::size_t>(nb_)) * h);
    block_.resize(d * lanes);
    z_.resize(d * lanes + 1);
    xblk_.resize(std::max<std::size_t>(1, static_cast<std::size_t>(c_)) * lanes);
    cstd_.resize(std::max<std::size_t>(1, static_cast<std::size_t>(c_)));
    lq_.resize(lanes);
  }

  /// D.
  [[nodiscard]] Eigen::Index features() const noexcept { return d_; }
  /// C.
  [[nodiscard]] Eigen::Index context_size() const noexcept { return c_; }
  /// The instruction set the kernel was compiled for.
  [[nodiscard]] static constexpr const char* arch_name() noexcept { return simd::arch_name<Arch>(); }

  /// Fills every row of `out` (n × D, θ units) with a draw from q(θ | x); `x` points to C
  /// doubles. Rejects draws outside `support` if given. Does not allocate.
  template <class Rng>
  void sample(const double* x, Rng& rng, Eigen::Ref<Eigen::MatrixXd> out, const support_box* support = nullptr) {
    const char* fn = "maf_sampler::sample";
    if (out.cols() != d_) chempp::detail::throw_argument(fn, "out.cols()", "must equal D", double(out.cols()));
    for (Eigen::Index j = 0; j < c_; ++j)
      c_std_[static_cast<std::size_t>(j)] = internal::context_z(fn, j, x[j], x_mean_[j], x_std_[j], z_limit_);
    if (support != nullptr && (support->lower.size() != d_ || support->upper.size() != d_))
      throw invalid_argument(std::string(fn) + ": support box must have D bounds");
    // context bias per transform: b_in + W_ctx c
    const auto h = static_cast<std::size_t>(h_), c = static_cast<std::size_t>(c_);
    for (std::size_t t = 0; t < static_cast<std::size_t>(nt_); ++t)
      for (std::size_t k = 0; k < h; ++k) {
        double acc = b_in_[t * h + k];
        for (std::size_t j = 0; j < c; ++j) acc += w_ctx_[(t * h + k) * c + j] * c_std_[j];
        ctx_bias_[t * h + k] = static_cast<T>(acc);
      }
    const Eigen::Index n = out.rows();
    const Eigen::Index stride = out.outerStride();
    double* o = out.data();
    const auto d = static_cast<std::size_t>(d_);
    Eigen::Index filled = 0;
    double candidates = 0.0;
    if (support != nullptr && !(std::isfinite(support->max_candidates_per_sample) && support->max_candidates_per_sample >= 1.0))
      chempp::detail::throw_argument(fn, "support_box::max_candidates_per_sample", "must be finite and at least 1",
                                     support->max_candidates_per_sample);
    const double cap = support ? support->max_candidates_per_sample * double(std::max<Eigen::Index>(n, 1)) : 0.0;
    while (filled < n) {
      // the normal stream is consumed sample by sample (lane by lane), dimension by dimension
      internal::normal_fill(rng, z_.data(), 2 * ((d * lanes + 1) / 2));
      for (std::size_t l = 0; l < lanes; ++l)
        for (std::size_t i = 0; i < d; ++i) block_[i * lanes + l] = static_cast<T>(z_[l * d + i]);
      run_block();
      for (std::size_t l = 0; l < lanes && filled < n; ++l) {
        if (support != nullptr) {
          candidates += 1.0;
          bool inside = true;
          for (std::size_t i = 0; i < d; ++i) {
            const double v = double(block_[i * lanes + l]);
            const auto ii = static_cast<Eigen::Index>(i);
            inside = inside && v >= support->lower[ii] && v <= support->upper[ii];
          }
          if (!inside) {
            if (candidates > cap)
              throw convergence_error(std::string(fn) + ": acceptance inside the support box too low (more than " +
                          chempp::detail::format_value(support->max_candidates_per_sample) + " candidates per sample)");
            continue;
          }
        }
        for (std::size_t i = 0; i < d; ++i) o[static_cast<Eigen::Index>(i) * stride + filled] = block_[i * lanes + l];
        ++filled;
      }
    }
  }

  /// Convenience overload taking x as an Eigen vector (C).
  template <class Rng>
  void sample(const Eigen::VectorXd& x, Rng& rng, Eigen::Ref<Eigen::MatrixXd> out, const support_box* support = nullptr) {
    if (x.size() != c_) chempp::detail::throw_argument("maf_sampler::sample", "x.size()", "must equal C", double(x.size()));
    sample(x.data(), rng, out, support);
  }

  /// log q(θ_n | x_n) for each row n: θ is N × D, x is N × C or 1 × C (shared), `out` has N
  /// entries. Vectorised across pairs; does not allocate. Agrees with
  /// `conditional_maf::log_prob` to rounding (~1e-12).
  void log_prob(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                Eigen::Ref<Eigen::VectorXd> out) {
    const char* fn = "maf_sampler::log_prob";
    if (theta.cols() != d_) chempp::detail::throw_argument(fn, "theta.cols()", "must equal D", double(theta.cols()));
    if (x.cols() != c_) chempp::detail::throw_argument(fn, "x.cols()", "must equal C", double(x.cols()));
    if (x.rows() != theta.rows() && x.rows() != 1)
      chempp::detail::throw_argument(fn, "x.rows()", "must equal theta.rows() (or 1)", double(x.rows()));
    if (out.size() != theta.rows()) chempp::detail::throw_argument(fn, "out.size()", "must equal theta.rows()", double(out.size()));
    const auto d = static_cast<std::size_t>(d_), c = static_cast<std::size_t>(c_);
    const Eigen::Index n = theta.rows();
    const bool shared = x.rows() == 1 && n != 1;
    for (Eigen::Index r = 0; r < x.rows(); ++r)  // out-of-distribution contexts: an error, not an answer
      for (Eigen::Index j = 0; j < x.cols(); ++j) (void)internal::context_z(fn, j, x(r, j), x_mean_[j], x_std_[j], z_limit_);
    double log_norm = -0.5 * double(d_) * std::log(2.0 * std::numbers::pi);
    for (Eigen::Index i = 0; i < d_; ++i) log_norm -= std::log(theta_std_[i]);
    for (Eigen::Index s0 = 0; s0 < n; s0 += static_cast<Eigen::Index>(lanes)) {
      const auto m = static_cast<std::size_t>(std::min<Eigen::Index>(static_cast<Eigen::Index>(lanes), n - s0));
      for (std::size_t l = 0; l < lanes; ++l) {
        const Eigen::Index r = s0 + static_cast<Eigen::Index>(l < m ? l : 0);
        for (std::size_t i = 0; i < d; ++i) {
          const auto ii = static_cast<Eigen::Index>(i);
          block_[i * lanes + l] = static_cast<T>((theta(r, ii) - theta_mean_[ii]) / theta_std_[ii]);
        }
        for (std::size_t j = 0; j < c; ++j) {
          const auto jj = static_cast<Eigen::Index>(j);
          xblk_[j * lanes + l] = static_cast<T>((x(shared ? 0 : r, jj) - x_mean_[jj]) / x_std_[jj]);
        }
      }
      forward_block();
      for (std::size_t l = 0; l < m; ++l) {
        const double v = double(lq_[l]) + log_norm;
        if (!std::isfinite(v)) {  // only NaN/inf input can do this: report it like log_prob does
          for (std::size_t i = 0; i < d; ++i) check_finite(fn, "theta", theta(s0 + static_cast<Eigen::Index>(l), static_cast<Eigen::Index>(i)));
          for (std::size_t j = 0; j < c; ++j) check_finite(fn, "x", x(shared ? 0 : s0 + static_cast<Eigen::Index>(l), static_cast<Eigen::Index>(j)));
        }
        out[s0 + static_cast<Eigen::Index>(l)] = v;
      }
    }
  }

 private:
  // Forward pass (θ → z) of the standardised pairs in block_ ([dim][lane]) with standardised
  // contexts in xblk_ ([ctx][lane]); writes Σ log scale - |z|²/2 per lane into lq_.
  void forward_block() {
    const auto d = static_cast<std::size_t>(d_), h = static_cast<std::size_t>(h_), c = static_cast<std::size_t>(c_);
    const auto nb = static_cast<std::size_t>(nb_);
    for (std::size_t i = 0; i < d; ++i) cur_[i] = batch::load_unaligned(&block_[i * lanes]);
    batch logdet(T(0));
    for (std::size_t t = 0; t < static_cast<std::size_t>(nt_); ++t) {
      // first layer: bias + context + masked inputs (unit k sees u_j, j < degree(k))
      for (std::size_t k = 0; k < h; ++k) {
        batch acc(b_in_t_[t * h + k]);
        const T* wc = &w_ctx_t_[(t * h + k) * c];
        for (std::size_t j = 0; j < c; ++j) acc = xsimd::fma(batch(wc[j]), batch::load_unaligned(&xblk_[j * lanes]), acc);
        for (std::size_t j = 0; j < deg_[k] && j < d; ++j) acc = xsimd::fma(batch(w_in_[(t * d + j) * h + k]), cur_[j], acc);
        a0_[k] = acc;
      }
      const batch* prev = a0_.data();
      for (std::size_t l = 0; l < nb; ++l) {
        batch* hcur = &hid_[l * h];
        const T* w = &w_hid_[(t * nb + l) * h * h];
        const T* b = &b_hid_[(t * nb + l) * h];
        for (std::size_t k = 0; k < h; ++k) {
          batch acc(b[k]);
          const T* wr = w + k * h;
          for (std::size_t j = 0; j < row_len_[k]; ++j) acc = xsimd::fma(batch(wr[j]), prev[j], acc);
          hcur[k] = activate(acc);
        }
        prev = hcur;
      }
      const T* wout = &w_out_[t * 2 * d * h];
      const T* bout = &b_out_[t * 2 * d];
      const auto& p = perms_[t];
      for (std::size_t i = 0; i < d; ++i) {
        const std::size_t hi = n_active_[i];
        batch s(bout[i]), m(bout[d + i]);
        const T* ws = wout + i * h;
        const T* wm = wout + (d + i) * h;
        for (std::size_t k = 0; k < hi; ++k) {
          s = xsimd::fma(batch(ws[k]), prev[k], s);
          m = xsimd::fma(batch(wm[k]), prev[k], m);
        }
        const batch sc = scale(s);
        logdet += xsimd::log(sc);
        y_[i] = xsimd::fma(sc, cur_[i], m);
      }
      for (std::size_t i = 0; i < d; ++i) u_[i] = y_[static_cast<std::size_t>(p[i])];
      std::swap(cur_, u_);
    }
    batch sq(T(0));
    for (std::size_t i = 0; i < d; ++i) sq = xsimd::fma(cur_[i], cur_[i], sq);
    (logdet - batch(T(0.5)) * sq).store_unaligned(lq_.data());
  }

  // Transforms the lanes x D standard-normal block in `block_` (layout [dim][lane]) into θ.
  void run_block() {
    const auto d = static_cast<std::size_t>(d_), h = static_cast<std::size_t>(h_);
    const auto nb = static_cast<std::size_t>(nb_);
    for (std::size_t i = 0; i < d; ++i) cur_[i] = batch::load_unaligned(&block_[i * lanes]);
    for (std::size_t tt = static_cast<std::size_t>(nt_); tt > 0; --tt) {
      const std::size_t t = tt - 1;
      const auto& p = perms_[t];
      for (std::size_t i = 0; i < d; ++i) y_[static_cast<std::size_t>(p[i])] = cur_[i];
      for (std::size_t k = 0; k < h; ++k) a0_[k] = batch(ctx_bias_[t * h + k]);
      const T* wout = &w_out_[t * 2 * d * h];
      const T* bout = &b_out_[t * 2 * d];
      for (std::size_t i = 0; i < d; ++i) {
        // Units are sorted by degree; those of degree <= i are final once u_0..u_{i-1} are
        // known, so step i computes only the new units [lo, hi) of every layer.
        const std::size_t lo = i == 0 ? 0 : n_active_[i - 1], hi = n_active_[i];
        const batch* prev = a0_.data();
        for (std::size_t l = 0; l < nb; ++l) {
          batch* cur = &hid_[l * h];
          const T* w = &w_hid_[(t * nb + l) * h * h];
          const T* b = &b_hid_[(t * nb + l) * h];
          for (std::size_t k = lo; k < hi; ++k) {
            batch acc(b[k]);
            const T* wr = w + k * h;
            for (std::size_t j = 0; j < hi; ++j) acc = xsimd::fma(batch(wr[j]), prev[j], acc);
            cur[k] = activate(acc);
          }
          prev = cur;
        }
        batch s(bout[i]), m(bout[d + i]);
        const T* ws = wout + i * h;
        const T* wm = wout + (d + i) * h;
        for (std::size_t k = 0; k < hi; ++k) {
          s = xsimd::fma(batch(ws[k]), prev[k], s);
          m = xsimd::fma(batch(wm[k]), prev[k], m);
        }
        const batch ui = (y_[i] - m) / scale(s);
        u_[i] = ui;
        // first layer: units of degree > i still take u_i
        const T* wi = &w_in_[(t * d + i) * h];
        for (std::size_t k = hi; k < h; ++k) a0_[k] = xsimd::fma(batch(wi[k]), ui, a0_[k]);
      }
      std::swap(cur_, u_);
    }
    for (std::size_t i = 0; i < d; ++i) {
      const auto ii = static_cast<Eigen::Index>(i);
      const batch th = xsimd::fma(cur_[i], batch(static_cast<T>(theta_std_[ii])), batch(static_cast<T>(theta_mean_[ii])));
      th.store_unaligned(&block_[i * lanes]);
    }
  }

  static batch activate(const batch& a) {
    if constexpr (std::is_same_v<act_type, tanh_activation>) return internal::fast_tanh(a);
    else return xsimd::max(a, batch(T(0)));
  }
  static batch scale(const batch& s) {
    if constexpr (std::is_same_v<scale_type, softplus_scale>) {
      // log1p(e^s) = max(s, 0) + log1p(e^{-|s|}), as softplus_scale::value
      return xsimd::max(s, batch(T(0))) + xsimd::log1p(xsimd::exp(-xsimd::abs(s))) + batch(T(softplus_scale::minimum));
    } else {
      return batch(T(1)) / (batch(T(1)) + xsimd::exp(-(s + batch(T(sigmoid_scale::shift))))) + batch(T(sigmoid_scale::minimum));
    }
  }

  template <class E>
  using avec = std::vector<E, xsimd::aligned_allocator<E, Arch::alignment()>>;

  Eigen::Index d_, c_, h_, nb_, nt_;
  Eigen::VectorXd theta_mean_, theta_std_, x_mean_, x_std_;
  double z_limit_ = default_context_z_limit;
  std::vector<std::size_t> n_active_;
  std::vector<double> b_in_, w_ctx_;  // double copies for the per-x context bias
  std::vector<T> w_in_, b_in_t_, w_ctx_t_, w_hid_, b_hid_, w_out_, b_out_;
  std::vector<permutation> perms_;
  std::vector<T> ctx_bias_;
  std::vector<double> c_std_;
  avec<batch> cur_, y_, u_, a0_, hid_;
  std::vector<T> block_, xblk_, lq_;
  std::vector<double> z_, cstd_;
  std::vector<std::size_t> deg_, row_len_;
};

/// Draws `n_per_x` samples for each row of `xs` (M × C) into `out` ((M n_per_x) × D; rows
/// m n_per_x .. (m+1) n_per_x - 1 belong to observation m), on `threads` threads. Observation m
/// uses its own engine seeded from (seed, key m), so results do not depend on the thread count;
/// `keys` (one per row of `xs`, e.g. catalog indices) replaces the key m, so that an observation's
/// draws do not depend on which observations share the call either.
template <class Arch = xsimd::default_arch, class T = double, class Flow>
void sample_many(const Flow& flow, const Eigen::Ref<const Eigen::MatrixXd>& xs, Eigen::Index n_per_x, std::uint64_t seed,
                 Eigen::Ref<Eigen::MatrixXd> out, unsigned threads = 1, const support_box* support = nullptr,
                 std::span<const std::uint64_t> keys = {}) {
  const char* fn = "chempp::flow::sample_many";
  if (!keys.empty() && static_cast<Eigen::Index>(keys.size()) != xs.rows())
    chempp::detail::throw_argument(fn, "keys.size()", "must be 0 or xs.rows()", double(keys.size()));
  if (xs.cols() != flow.context_size()) chempp::detail::throw_argument(fn, "xs.cols()", "must equal C", double(xs.cols()));
  if (n_per_x < 0) chempp::detail::throw_argument(fn, "n_per_x", "must be >= 0", double(n_per_x));
  if (out.rows() != xs.rows() * n_per_x || out.cols() != flow.features())
    throw invalid_argument(std::string(fn) + ": out must be (xs.rows() * n_per_x) × D");
  threads = static_cast<unsigned>(std::clamp<Eigen::Index>(static_cast<Eigen::Index>(threads), 1, std::max<Eigen::Index>(1, xs.rows())));
  auto work = [&](std::size_t id) {
    maf_sampler<Flow, Arch, T> sampler(flow);
    Eigen::VectorXd x(flow.context_size());
    for (auto m = static_cast<Eigen::Index>(id); m < xs.rows(); m += threads) {
      x = xs.row(m).transpose();
      const std::uint64_t key = keys.empty() ? static_cast<std::uint64_t>(m) : keys[static_cast<std::size_t>(m)];
      std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ULL * (key + 1)));
      sampler.sample(x, rng, out.middleRows(m * n_per_x, n_per_x), support);
    }
  };
  chempp::detail::run_workers(threads, work);
}

/// log q(θ_n | x_n) for all rows (θ: N × D; x: N × C or 1 × C) into `out` (N) with the
/// vectorised kernel on `threads` threads (contiguous row ranges).
template <class Arch = xsimd::default_arch, class T = double, class Flow>
void log_prob_parallel(const Flow& flow, const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                       Eigen::Ref<Eigen::VectorXd> out, unsigned threads = 1) {
  const Eigen::Index n = theta.rows();
  threads = static_cast<unsigned>(std::clamp<Eigen::Index>(static_cast<Eigen::Index>(threads), 1, std::max<Eigen::Index>(1, n)));
  const bool shared = x.rows() == 1 && n != 1;
  if (!shared && x.rows() != n)
    chempp::detail::throw_argument("chempp::flow::log_prob_parallel", "x.rows()", "must equal theta.rows() (or 1)", double(x.rows()));
  if (out.size() != n)
    chempp::detail::throw_argument("chempp::flow::log_prob_parallel", "out.size()", "must equal theta.rows()", double(out.size()));
  auto work = [&](std::size_t id) {
    maf_sampler<Flow, Arch, T> k(flow);
    const auto i = static_cast<Eigen::Index>(id);
    const Eigen::Index lo = n * i / threads, hi = n * (i + 1) / threads;
    if (hi <= lo) return;
    k.log_prob(theta.middleRows(lo, hi - lo), shared ? x : x.middleRows(lo, hi - lo), out.segment(lo, hi - lo));
  };
  chempp::detail::run_workers(threads, work);
}

}  // namespace chempp::flow
