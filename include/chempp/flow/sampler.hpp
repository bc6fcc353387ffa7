// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Fast sampling from a conditional MAF: the driver of the shared inverse and forward kernels
/// (chempp/kernels/maf.hpp, docs/kernels.md) on K xsimd registers of samples in flight (K / 4
/// interleaved groups of `kernels::multi<batch<T, Arch>, 4>`, T = double or float), free of
/// allocation per call (all scratch lives in the sampler, sized at construction). Base draws come from the counter-based
/// stream of kernels/random.hpp (one engine output per call), so the samples equal
/// `conditional_maf::sample`'s for any SIMD width and any K (the float sampler's to float
/// precision: it finishes the same draws in float, `kernels::normal_fill` for float).
///
/// Algorithmic savings over a plain inverse (nflows evaluates the full MADE D times per
/// transform): (1) the context enters the first layer as a bias computed once per x, and the
/// first layer is updated incrementally, a0 += W_in[:, i] u_i, after each inverted dimension;
/// (2) hidden units are sorted by degree (`kernels::pack_maf`): a unit of degree g depends on
/// u_0..u_{g-1} only, so it is computed exactly once per transform (at step g); the output of
/// dimension i reads the prefix of units of degree <= i. About one MADE pass per transform.
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
#include "chempp/kernels/maf.hpp"
#include "chempp/kernels/simd.hpp"

namespace chempp::flow {

/// A box prior support for rejection: lower_i <= θ_i <= upper_i (use ±infinity to leave a
/// dimension free). `max_candidates_per_sample` bounds the work: if more than that many
/// candidates per requested sample would be needed, sampling throws `chempp::error`.
struct support_box {
  Eigen::VectorXd lower;                 ///< D lower bounds (θ units)
  Eigen::VectorXd upper;                 ///< D upper bounds (θ units)
  double max_candidates_per_sample = 1000.0;  ///< give up below 0.1 % acceptance
};

/// Vectorised, allocation-free sampler for a `conditional_maf<Act, Scale>`. Holds the weights
/// packed for the shared kernels (`kernels::maf_inverse` / `maf_forward`, hidden units sorted by
/// degree): rebuild it after the flow changes. `T` is the arithmetic type of the kernel: double
/// (default; matches `conditional_maf` to ~1e-12) or float (twice the SIMD width; ~1e-6 relative,
/// for throughput); inputs/outputs are double. Sampling transforms `lanes` = K × the SIMD width
/// candidates per block, as K / 4 groups of 4 registers (`interleaved`; K ≤ 4: one group of K)
/// that `kernels::maf_inverse` takes through each dimension step together, phase by phase. The
/// inverse is a chain of short dependent steps (at H 8 a few units, two tanh, a softplus and a
/// division per dimension): one group's phase waits for the one before, and the other group's
/// work fills that wait. On a Zen 5 (float, 1000 × 1000 samples) two interleaved groups of 4
/// registers took 0.85× the time of one value of 8 registers at H 8 and 0.95× at H 32, and the
/// same time as groups of 4 one after the other at H 50 (docs/kernels.md, tenth session; one
/// value of 8 registers had been 1.02–1.14× faster than one of 4). `log_prob` runs groups of 4
/// registers one after the other: its forward pass has no dependent steps (8 registers were
/// 1.45× slower at H 8). The samples do not depend on K (lanes never mix; tested bit for bit).
template <class Flow, class Arch = xsimd::default_arch, class T = double, int K = 8>
class maf_sampler {
  static_assert(K >= 1 && (K <= 4 || K % 4 == 0), "maf_sampler: K must be 1..4 or a multiple of 4");

 public:
  using value_type = T;
  using act_type = typename Flow::activation_type;
  using scale_type = typename Flow::scale_type;
  /// The value type of the kernels: min(K, 4) registers of xsimd::batch<T, Arch>.
  using group = kernels::multi<xsimd::batch<T, Arch>, (K < 4 ? K : 4)>;
  /// Groups the inverse takes through each step together (K / 4; 1 for K ≤ 4).
  static constexpr int interleaved = K < 4 ? 1 : K / 4;
  /// Samples processed together (one block).
  static constexpr std::size_t lanes = group::lanes * static_cast<std::size_t>(interleaved);

  /// Packs the weights of `flow`.
  explicit maf_sampler(const Flow& flow)
      : d_(flow.features()), c_(flow.context_size()), h_(flow.config().hidden), nt_(flow.config().transforms),
        theta_mean_(flow.theta_mean()), theta_std_(flow.theta_std()), x_mean_(flow.x_mean()), x_std_(flow.x_std()),
        z_limit_(flow.context_z_limit()), packed_(flow.template packed<T>()), packed_d_(flow.template packed<double>()) {
    const auto d = static_cast<std::size_t>(d_), h = static_cast<std::size_t>(h_);
    ctx_bias_.resize(static_cast<std::size_t>(nt_) * h);
    ctx_d_.resize(h);
    c_std_.resize(std::max<std::size_t>(1, static_cast<std::size_t>(c_)));
    const auto ws = static_cast<std::size_t>(kernels::maf_work_size(packed_.layout.d, packed_.layout.h, packed_.layout.blocks));
    cur_.resize(static_cast<std::size_t>(interleaved) * d);
    work_.resize(static_cast<std::size_t>(interleaved) * ws);
    block_.resize(d * lanes);
    dim_keys_.resize(d);
  }

  /// D.
  [[nodiscard]] Eigen::Index features() const noexcept { return d_; }
  /// C.
  [[nodiscard]] Eigen::Index context_size() const noexcept { return c_; }
  /// The instruction set the kernel was compiled for.
  [[nodiscard]] static constexpr const char* arch_name() noexcept { return simd::arch_name<Arch>(); }
  /// The packed weights the kernels read (precision T).
  [[nodiscard]] const kernels::packed_maf<T>& packed() const noexcept { return packed_; }

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
    // context bias b_in + W_ctx c of every transform, once per x, in double
    const auto h = static_cast<std::size_t>(h_);
    for (int t = 0; t < int(nt_); ++t) {
      kernels::maf_context_bias<kernels::dynamic_shape>(packed_d_.layout, packed_d_.params.data(), t, c_std_.data(), ctx_d_.data());
      for (std::size_t k = 0; k < h; ++k) ctx_bias_[std::size_t(t) * h + k] = static_cast<T>(ctx_d_[k]);
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
    // candidate m, dimension i takes draw m of dimension i's counter-based stream (one engine
    // call per sampling call gives the key; kernels/random.hpp)
    const std::uint64_t key = internal::stream_key(rng);
    for (std::size_t i = 0; i < d; ++i) dim_keys_[i] = kernels::dimension_key(key, i);
    std::uint64_t next = 0;
    while (filled < n) {
      for (std::size_t i = 0; i < d; ++i) kernels::normal_fill<Arch>(dim_keys_[i], next, &block_[i * lanes], lanes);
      next += lanes;
      run_block();
      if (support == nullptr) {  // every candidate is kept: one contiguous run per column of `out`
        const auto m = static_cast<std::size_t>(std::min<Eigen::Index>(static_cast<Eigen::Index>(lanes), n - filled));
        for (std::size_t i = 0; i < d; ++i) {
          const T* src = &block_[i * lanes];
          double* dst = o + static_cast<Eigen::Index>(i) * stride + filled;
          for (std::size_t l = 0; l < m; ++l) dst[l] = static_cast<double>(src[l]);
        }
        filled += static_cast<Eigen::Index>(m);
        continue;
      }
      for (std::size_t l = 0; l < lanes && filled < n; ++l) {  // rejection inside the support box
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
  /// entries, with the shared forward kernel (`lanes` pairs per call). Agrees with
  /// `conditional_maf::log_prob` to rounding (~1e-12 in double). The inputs are checked as they
  /// are read (the same errors, in the same order, as `conditional_maf::log_prob`); after an
  /// exception `out` is unspecified.
  void log_prob(const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                Eigen::Ref<Eigen::VectorXd> out) {
    const char* fn = "maf_sampler::log_prob";
    if (theta.cols() != d_) chempp::detail::throw_argument(fn, "theta.cols()", "must equal D", double(theta.cols()));
    if (x.cols() != c_) chempp::detail::throw_argument(fn, "x.cols()", "must equal C", double(x.cols()));
    if (x.rows() != theta.rows() && x.rows() != 1)
      chempp::detail::throw_argument(fn, "x.rows()", "must equal theta.rows() (or 1)", double(x.rows()));
    if (out.size() != theta.rows()) chempp::detail::throw_argument(fn, "out.size()", "must equal theta.rows()", double(out.size()));
    // out-of-distribution contexts are an error, not an answer: checked while x is read
    const internal::context_limits ctx{x_mean_.data(), x_std_.data(), z_limit_};
    internal::log_prob_rows<act_type, scale_type, group>(fn, packed_, theta, x, int(d_), out, &ctx);
  }

  /// Multiply-adds per sample of the inverse (sampling) and forward (log_prob) kernels, for
  /// FLOP-rate reports (kernels::maf_multiply_adds).
  [[nodiscard]] double multiply_adds(bool inverse) const {
    return kernels::maf_multiply_adds(packed_.layout, packed_.ints.data(), inverse);
  }

 private:
  // Transforms the lanes x D standard-normal block in `block_` (layout [dim][lane]) into θ.
  void run_block() {
    using V = group;
    constexpr auto G = static_cast<std::size_t>(interleaved);
    const auto d = static_cast<std::size_t>(d_), h = static_cast<std::size_t>(h_);
    V* cur = cur_.data();  // group g: lanes g V::lanes ... (g + 1) V::lanes - 1 of the block
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t i = 0; i < d; ++i) cur[g * d + i] = V::load(&block_[i * lanes + g * V::lanes]);
    const T* bias = ctx_bias_.data();
    const auto ctxb = [bias, h](int t, int k) { return bias[std::size_t(t) * h + std::size_t(k)]; };
    kernels::maf_inverse<act_type, scale_type, kernels::dynamic_shape, interleaved>(
        packed_.layout, packed_.params.data(), packed_.ints.data(), cur, ctxb, work_.data());
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t i = 0; i < d; ++i) {
        const auto ii = static_cast<Eigen::Index>(i);
        fma(cur[g * d + i], V(theta_std_[ii]), V(theta_mean_[ii])).store(&block_[i * lanes + g * V::lanes]);
      }
  }

  Eigen::Index d_, c_, h_, nt_;
  Eigen::VectorXd theta_mean_, theta_std_, x_mean_, x_std_;
  double z_limit_ = default_context_z_limit;
  kernels::packed_maf<T> packed_;
  kernels::packed_maf<double> packed_d_;  // the context bias is computed in double
  std::vector<T> ctx_bias_;
  std::vector<double> c_std_, ctx_d_;
  std::vector<group> cur_, work_;  // the inverse's `interleaved` groups and their scratch
  std::vector<T, xsimd::aligned_allocator<T, 64>> block_;  // (aligned: the group loads and stores never split a cache line)
  std::vector<std::uint64_t> dim_keys_;
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
