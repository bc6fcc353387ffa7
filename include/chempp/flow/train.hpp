// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Maximum-likelihood training of a conditional MAF on simulated pairs (θ_n, x_n), as sbi 0.23.1
/// does for NPE-C with proposal = prior (docs/sbi-pipeline.md §4): loss = mean -log q(θ|x), Adam,
/// mini-batches drawn without replacement each epoch, a held-out validation split, early stopping
/// after `patience` epochs without a validation improvement (the best weights are restored),
/// gradient-norm clipping. The epoch loop and Adam are the library's one implementation
/// (nn/training_loop.hpp, nn/optimizer.hpp), shared with the emulator's trainer. The z-scoring of θ and x is learned from the training split and stored
/// in the flow. Everything is seeded by `train_options::seed`: the same inputs give bit-identical
/// weights.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/core/compat_eigen.hpp"
#include "chempp/flow/maf.hpp"
#include "chempp/nn/optimizer.hpp"
#include "chempp/nn/training_loop.hpp"

namespace chempp::flow {

/// Arithmetic of the training steps.
enum class training_precision {
  float64,  ///< double throughout (the default; bit-reproducible against earlier releases)
  float32,  ///< forward, backward and Adam in float, as PyTorch/sbi train: twice the SIMD lanes
            ///< per instruction, batches stored row-major (made.hpp; docs/kernels.md). The
            ///< z-scoring, the loss sums and the returned flow stay double; the gradient checks
            ///< (tests/flow) are done on the double path, and the float passes are tested
            ///< against it in both storage orders.
};

/// Training hyper-parameters; defaults are sbi 0.23.1's.
struct train_options {
  Eigen::Index batch_size = 200;      ///< mini-batch size (sbi: 200; nflows benchmark: 128)
  double learning_rate = 5e-4;        ///< Adam step size
  double beta1 = 0.9;                 ///< Adam first-moment decay (PyTorch default)
  double beta2 = 0.999;               ///< Adam second-moment decay
  double epsilon = 1e-8;              ///< Adam denominator guard
  double validation_fraction = 0.1;   ///< held-out share (int(frac * N) pairs, as sbi)
  int patience = 20;                  ///< stop after this many epochs without improvement
  double clip_norm = 5.0;             ///< gradient L2-norm clip (<= 0: no clipping)
  int max_epochs = 1 << 30;           ///< hard limit on epochs
  std::uint64_t seed = 0;             ///< seeds the split and the batch order
  bool fit_standardization = true;    ///< learn the z-scoring from the training split
  training_precision precision = training_precision::float64;  ///< arithmetic of the steps
};

/// What an observer sees after each epoch.
struct epoch_report {
  int epoch = 0;                  ///< 0-based epoch index
  double train_loss = 0.0;        ///< mean training NLL over the epoch's batches (nats)
  double validation_loss = 0.0;   ///< mean validation NLL (nats; the training loss if validation_fraction = 0)
  double seconds = 0.0;           ///< wall time of the epoch's training steps
};

/// Result of `train`.
struct train_result {
  int epochs = 0;                     ///< epochs run
  int best_epoch = 0;                 ///< epoch whose weights were kept
  double best_validation_loss = 0.0;  ///< its validation NLL
  bool early_stopped = false;         ///< true if stopped by patience (else max_epochs/observer)
  std::vector<epoch_report> history;  ///< one entry per epoch
};

/// Observer that does nothing (the default).
struct no_training_observer {
  void operator()(const epoch_report&) const noexcept {}
};

/// An observer is called with each `epoch_report`; if it returns bool, `false` stops training.
template <class O>
concept TrainingObserver = std::invocable<O&, const epoch_report&>;


namespace internal {
template <class T>
using train_matrix = batch_matrix<T>;  ///< the whole standardised data set, one sample per column

/// ub, cb = the columns idx[0..m) of the standardised data u, c (one sample per column).
template <class T, class UB>
void gather_columns(const train_matrix<T>& u, const train_matrix<T>& c, const Eigen::Index* idx, Eigen::Index m, UB& ub,
                    UB& cb) {
  ub.resize(u.rows(), m);
  cb.resize(c.rows(), m);
  constexpr Eigen::Index ahead = 16;  // the shuffled columns are cache misses: ask for them early
  for (Eigen::Index j = 0; j < m; ++j) {
#if defined(__GNUC__) || defined(__clang__)
    if (j + ahead < m) {
      __builtin_prefetch(u.col(idx[j + ahead]).data());
      __builtin_prefetch(c.col(idx[j + ahead]).data());
    }
#endif
    ub.col(j) = u.col(idx[j]);
    cb.col(j) = c.col(idx[j]);
  }
}

/// Σ over the pairs in columns `idx` of the standardised data of log q (standardised θ space),
/// in chunks of 1024, with the MADEs `net` in their own precision; the sum is kept in double.
template <class Scale, class Made, class T = typename Made::scalar_type, int Order>
double sum_log_q(const std::vector<Made>& net, const std::vector<permutation>& perms, const train_matrix<T>& u,
                 const train_matrix<T>& c, const std::vector<Eigen::Index>& idx, basic_maf_workspace<T, Order>& ws) {
  const Eigen::Index chunk = 1024, n = static_cast<Eigen::Index>(idx.size());
  batch_matrix<T, Order> ub, cb;
  double sum = 0.0;
  for (Eigen::Index s = 0; s < n; s += chunk) {
    const Eigen::Index m = std::min(chunk, n - s);
    gather_columns(u, c, idx.data() + s, m, ub, cb);
    maf_batch_forward<Scale>(net, perms, ub, cb, ws);
    sum += ws.log_q.template cast<double>().sum();
  }
  return sum;
}

/// Portable Fisher–Yates shuffle (std::shuffle's algorithm is implementation-defined).
inline void shuffle_indices(std::vector<Eigen::Index>& v, std::mt19937_64& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::uniform_int_distribution<std::size_t> u(0, i - 1);
    std::swap(v[i - 1], v[u(rng)]);
  }
}
}  // namespace internal

/// Mean NLL of the pairs in columns `idx` of the standardised data (no gradient), in nats.
template <class Flow>
double mean_nll_standardized(const Flow& flow, const Eigen::MatrixXd& u, const Eigen::MatrixXd& c,
                             const std::vector<Eigen::Index>& idx, maf_workspace& ws) {
  if (idx.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double sum = internal::sum_log_q<typename Flow::scale_type>(flow.mades(), flow.permutations(), u, c, idx, ws);
  return -sum / double(idx.size()) + flow.theta_std().array().log().sum();
}

namespace internal {
/// A run of consecutive parameters inside the MADE masks: `n` entries of one tensor of the
/// network (`p`) and of its gradient (`g`), at flat offset `at` of the parameter layout.
template <class T>
struct parameter_run {
  T* p;
  const T* g;
  std::size_t at, n;
};

/// The runs of `net`'s parameters inside the masks (weights the masks zero are left out; gaps of
/// up to two SIMD groups are bridged and runs end on whole groups where the tensor allows, since
/// visiting a masked zero is harmless: it stays zero), paired with
/// the same entries of `grad` (same shapes). Pointers stay valid while no tensor is resized.
template <class Made>
std::vector<parameter_run<typename Made::scalar_type>> parameter_runs(std::vector<Made>& net, const std::vector<Made>& grad) {
  using T = typename Made::scalar_type;
  constexpr std::size_t lanes = xsimd::batch<T>::size, bridge = 2 * lanes;
  std::vector<parameter_run<T>> runs;
  std::size_t at = 0;
  for (std::size_t t = 0; t < net.size(); ++t) {
    Made mask = net[t];  // 1 inside the masks, 0 outside
    mask.for_each_tensor([](auto& m) { m.setOnes(); });
    mask.apply_masks();
    std::vector<const T*> m_data, g_data;
    std::vector<T*> p_data;
    std::vector<std::size_t> sizes;
    mask.for_each_tensor([&](const auto& m) { m_data.push_back(m.data()); sizes.push_back(static_cast<std::size_t>(m.size())); });
    grad[t].for_each_tensor([&](const auto& m) { g_data.push_back(m.data()); });
    net[t].for_each_tensor([&](auto& m) { p_data.push_back(m.data()); });
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      const std::size_t n = sizes[k];
      std::size_t i = 0;
      while (i < n) {
        while (i < n && m_data[k][i] == T(0)) ++i;
        if (i == n) break;
        std::size_t end = i, last = i;  // [i, last] holds every entry inside the mask seen so far
        while (end < n && end <= last + bridge) {
          if (m_data[k][end] != T(0)) last = end;
          ++end;
        }
        // round the length up to whole SIMD groups where the masked zeros after the run allow
        // (the next entry inside the mask is more than `bridge` entries away)
        const std::size_t len = last + 1 - i, whole = (len + lanes - 1) / lanes * lanes;
        const std::size_t take = i + whole <= n ? whole : len;
        runs.push_back({p_data[k] + i, g_data[k] + i, at + i, take});
        i += take;
      }
      at += n;
    }
  }
  return runs;
}

/// Σ g² over the runs (the gradient norm of the clipping rule): each run summed in T, the run
/// sums added in double.
template <class T>
double squared_norm(const std::vector<parameter_run<T>>& runs) {
  double s = 0.0;
  for (const auto& r : runs)
    s += static_cast<double>(Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(r.g, static_cast<Eigen::Index>(r.n)).squaredNorm());
  return s;
}

/// The epochs of `train` with the steps in scalar T: the flow's MADEs are copied into precision T,
/// trained there, and the best-validation parameters are written back into `flow` (double).
/// `Order`: storage order of the batch matrices (made.hpp).
template <class T, int Order, class Flow, class Observer>
train_result train_steps(Flow& flow, const train_matrix<T>& u, const train_matrix<T>& c, std::vector<Eigen::Index>& tr,
                         const std::vector<Eigen::Index>& val, const train_options& opt, Observer& observer,
                         std::mt19937_64& rng) {
  using Made = made<typename Flow::activation_type, T>;
  using Scale = typename Flow::scale_type;
  using V = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  std::vector<Made> net;
  // Row-major steps train each MADE with its hidden units sorted by degree (made::degree_order):
  // the same network, whose block-triangular masks let the masked products skip whole blocks;
  // the units are put back in nflows order before the parameters return to `flow`.
  std::vector<permutation> unit_order;
  for (const auto& m : flow.mades()) {
    if constexpr (Order == Eigen::RowMajor) {
      unit_order.push_back(m.degree_order());
      net.push_back(m.template cast<T>().permuted_hidden(unit_order.back()));
    } else {
      net.push_back(m.template cast<T>());
    }
  }
  // The runs below skip the weights outside the masks, so they must start (and then stay) at
  // zero: mask once here, as every step's re-masking used to (`mades()` is mutable).
  for (auto& m : net) m.apply_masks();
  std::vector<Made> grad = net;
  const auto& perms = flow.permutations();
  V best(flow.parameter_count());
  flatten_parameters(net, best);
  nn::adam_options ao;
  ao.learning_rate = opt.learning_rate;
  ao.beta1 = opt.beta1;
  ao.beta2 = opt.beta2;
  ao.epsilon = opt.epsilon;
  nn::adam<T> adam(static_cast<std::size_t>(best.size()), ao);  // the library's one Adam (PyTorch's rule)
  // Adam updates the MADEs' tensors in place (no flat copies of parameters and gradients), on
  // the runs of entries inside the masks only: a masked weight has a zero gradient, so a full
  // step would leave it, and its zero moments, unchanged.
  const std::vector<parameter_run<T>> runs = parameter_runs(net, grad);
  basic_maf_workspace<T, Order> ws;
  batch_matrix<T, Order> ub, cb;
  const double log_sigma = flow.theta_std().array().log().sum();

  train_result result;
  double last_train = 0.0;
  const auto train_epoch = [&](std::size_t) {
    shuffle_indices(tr, rng);
    double loss_sum = 0.0;
    nn::for_each_batch(tr, static_cast<std::size_t>(opt.batch_size), [&](std::span<const Eigen::Index> batch) {
      const auto m = static_cast<Eigen::Index>(batch.size());
      gather_columns(u, c, batch.data(), m, ub, cb);
      for (auto& gm : grad) gm.zero();
      maf_batch_forward<Scale>(net, perms, ub, cb, ws);
      loss_sum += -ws.log_q.template cast<double>().sum() + double(m) * log_sigma;
      maf_batch_backward<Scale>(net, perms, cb, static_cast<T>(1.0 / double(m)), ws, grad, nullptr);
      T scale = T(1);
      if (opt.clip_norm > 0.0) {
        const double coef = opt.clip_norm / (std::sqrt(squared_norm(runs)) + 1e-6);  // torch.nn.utils.clip_grad_norm_ (one read pass)
        if (coef < 1.0) scale = static_cast<T>(coef);
      }
      adam.begin_step();
      for (const auto& r : runs) adam.update(r.at, r.p, r.g, r.n, scale);
    });
    return last_train = loss_sum / double(tr.size());
  };
  const auto criterion = [&] {
    return val.empty() ? last_train : -sum_log_q<Scale>(net, perms, u, c, val, ws) / double(val.size()) + log_sigma;
  };
  const auto report = [&](std::size_t e, double train_loss, double crit, double seconds) {
    epoch_report rep;
    rep.epoch = static_cast<int>(e);
    rep.train_loss = train_loss;
    rep.validation_loss = crit;
    rep.seconds = seconds;
    result.history.push_back(rep);
    if constexpr (std::is_same_v<std::invoke_result_t<Observer&, const epoch_report&>, bool>) {
      return static_cast<bool>(observer(rep));
    } else {
      observer(rep);
      return true;
    }
  };
  const nn::epoch_rules rules{static_cast<std::size_t>(std::max(opt.max_epochs, 0)), static_cast<std::size_t>(opt.patience), 0.0};
  const nn::epoch_outcome out = nn::run_epochs(
      rules, train_epoch, criterion, [&] { flatten_parameters(net, best); }, report);
  result.epochs = static_cast<int>(out.epochs);
  result.best_epoch = static_cast<int>(out.best_epoch);
  result.early_stopped = out.by_patience;
  if constexpr (Order == Eigen::RowMajor) {
    unflatten_parameters(best, net);
    for (std::size_t t = 0; t < net.size(); ++t) net[t] = net[t].permuted_hidden(inverse_of(unit_order[t]));
    flatten_parameters(net, best);
  }
  flow.set_parameters(best.template cast<double>());
  result.best_validation_loss = out.best;
  return result;
}
}  // namespace internal

/// Trains `flow` on pairs θ (N × D rows) and x (N × C rows). Calls `observer(report)` after
/// every epoch. Returns the history; `flow` holds the best-validation weights on return.
/// With `opt.precision = float32` the steps run in single precision (see `training_precision`).
template <class Flow, TrainingObserver Observer = no_training_observer>
train_result train(Flow& flow, const Eigen::Ref<const Eigen::MatrixXd>& theta, const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const train_options& opt = {}, Observer&& observer = {}) {
  const char* fn = "chempp::flow::train";
  if (theta.cols() != flow.features()) chempp::detail::throw_argument(fn, "theta.cols()", "must equal D", double(theta.cols()));
  if (x.cols() != flow.context_size()) chempp::detail::throw_argument(fn, "x.cols()", "must equal C", double(x.cols()));
  if (x.rows() != theta.rows()) chempp::detail::throw_argument(fn, "x.rows()", "must equal theta.rows()", double(x.rows()));
  if (opt.batch_size < 1) chempp::detail::throw_argument(fn, "batch_size", "must be >= 1", double(opt.batch_size));
  check_positive(fn, "learning_rate", opt.learning_rate);
  check_in_closed(fn, "validation_fraction", opt.validation_fraction, 0.0, 0.9);
  if (opt.patience < 1) chempp::detail::throw_argument(fn, "patience", "must be >= 1", double(opt.patience));
  if (opt.precision != training_precision::float64 && opt.precision != training_precision::float32)
    chempp::detail::throw_argument(fn, "precision", "must be float64 or float32", double(static_cast<int>(opt.precision)));
  for (Eigen::Index i = 0; i < theta.rows(); ++i) {
    for (Eigen::Index j = 0; j < theta.cols(); ++j) check_finite(fn, "theta", theta(i, j));
    for (Eigen::Index j = 0; j < x.cols(); ++j) check_finite(fn, "x", x(i, j));
  }
  const Eigen::Index n = theta.rows();
  std::mt19937_64 rng(opt.seed);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  internal::shuffle_indices(order, rng);
  const auto n_val = static_cast<Eigen::Index>(opt.validation_fraction * double(n));
  std::vector<Eigen::Index> val(order.begin(), order.begin() + n_val);
  std::vector<Eigen::Index> tr(order.begin() + n_val, order.end());
  if (tr.size() < 2) throw invalid_argument(std::string(fn) + ": need at least 2 training pairs");

  if (opt.fit_standardization) {
    Eigen::MatrixXd tt(static_cast<Eigen::Index>(tr.size()), theta.cols()), xt(static_cast<Eigen::Index>(tr.size()), x.cols());
    for (std::size_t i = 0; i < tr.size(); ++i) {
      tt.row(static_cast<Eigen::Index>(i)) = theta.row(tr[i]);
      xt.row(static_cast<Eigen::Index>(i)) = x.row(tr[i]);
    }
    flow.fit_standardization(tt, xt);
  }
  Eigen::MatrixXd u, c;
  flow.standardize(theta, x, u, c);
  if (opt.precision == training_precision::float32)  // the standardised data once in float
    return internal::train_steps<float, Eigen::RowMajor>(flow, u.cast<float>().eval(), c.cast<float>().eval(), tr, val, opt, observer, rng);
  return internal::train_steps<double, Eigen::ColMajor>(flow, u, c, tr, val, opt, observer, rng);
}

}  // namespace chempp::flow
