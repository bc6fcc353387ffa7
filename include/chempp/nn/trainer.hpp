// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Mini-batch training of an `mlp` with hand-written backprop: standardisation fitted on the
/// training split, MSE or weighted MSE, Adam or schedule-free AdamW, per-epoch shuffling, a
/// validation split, early stopping with restoration of the best evaluation parameters.
/// Seeded and reproducible: the same data, options and seed give bit-identical weights.
///
/// Deviations from the paper's script (`docs/sbi-pipeline.md` §3) are options: the paper used
/// raw (unstandardised) data, shuffled once, batch 64, lr 1e-3, 20 epochs, no early stopping.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/nn/loss.hpp"
#include "chempp/nn/mlp.hpp"
#include "chempp/nn/optimizer.hpp"
#include "chempp/nn/tensor.hpp"
#include "chempp/nn/training_loop.hpp"

namespace chempp::nn {

/// Which optimiser `train` uses.
enum class optimizer_kind { adam, schedule_free_adamw };

/// Options of `train`.
struct training_options {
  std::size_t epochs = 20;              ///< maximum number of passes over the training split
  std::size_t batch_size = 64;          ///< samples per step (the last batch may be smaller)
  optimizer_kind optimizer = optimizer_kind::schedule_free_adamw;
  adam_options adam{};                  ///< learning rate, betas, eps, weight decay, warm-up
  double validation_fraction = 0.1;     ///< share of samples held out (the last ones after a seeded shuffle)
  std::size_t patience = 0;             ///< stop after this many epochs without improvement (0: never)
  bool shuffle_each_epoch = true;       ///< reshuffle the training split every epoch
  bool fit_standardization = true;      ///< fit input/output standardisers on the training split
  bool initialize = true;               ///< initialise the weights (else start from the given ones)
  init_scheme init = init_scheme::xavier_uniform;
  std::vector<double> output_weights;   ///< per-output loss weights (empty: plain MSE)
  std::uint64_t seed = 20250302;        ///< seeds initialisation, split and shuffling
  /// Wall-clock budget in seconds, checked after every epoch (0: none). Hitting it ends
  /// training early (`training_result::stopped_by_time`); the result then depends on machine
  /// speed, so leave it 0 where bit-reproducibility matters.
  double max_seconds = 0.0;
};

/// What one epoch achieved (losses in standardised output units squared).
struct epoch_report {
  std::size_t epoch = 0;                ///< 1-based
  double train_loss = 0.0;              ///< mean training loss over the epoch's batches
  double validation_loss = 0.0;         ///< loss of the evaluation parameters on the validation split
  std::size_t steps = 0;                ///< optimiser steps so far
};

/// The outcome of `train`.
struct training_result {
  std::vector<epoch_report> history;
  std::size_t best_epoch = 0;           ///< epoch whose parameters were kept
  double best_validation_loss = std::numeric_limits<double>::infinity();
  bool stopped_early = false;           ///< patience ran out, the observer asked to stop, or time ran out
  bool stopped_by_time = false;         ///< `max_seconds` was reached
  double seconds = 0.0;                 ///< wall-clock time spent in the training loop
  std::size_t n_train = 0, n_validation = 0;
};

/// The default observer: does nothing.
struct no_training_observer {
  void operator()(const epoch_report&) const noexcept {}
};

namespace detail {
template <class T, class Loss, class Opt, class Observer>
training_result train_loop(mlp<T>& net, const matrix<T>& xs, const matrix<T>& ys,
                           const std::vector<std::size_t>& train_idx,
                           const std::vector<std::size_t>& val_idx, const training_options& o,
                           const Loss& loss, Opt& opt, std::mt19937_64& rng, Observer& obs) {
  training_result res;
  res.n_train = train_idx.size();
  res.n_validation = val_idx.size();
  const Eigen::Index n_in = xs.rows(), n_out = ys.rows();
  matrix<T> xv(n_in, static_cast<Eigen::Index>(val_idx.size())),
      yv(n_out, static_cast<Eigen::Index>(val_idx.size()));
  for (std::size_t j = 0; j < val_idx.size(); ++j) {
    xv.col(static_cast<Eigen::Index>(j)) = xs.col(static_cast<Eigen::Index>(val_idx[j]));
    yv.col(static_cast<Eigen::Index>(j)) = ys.col(static_cast<Eigen::Index>(val_idx[j]));
  }
  std::vector<std::size_t> order = train_idx;
  std::shuffle(order.begin(), order.end(), rng);
  mlp_workspace<T> ws;
  matrix<T> xb, yb, g_out;
  vector<T> grad, eval_params, best_params;
  const auto evaluate = [&](const vector<T>& p) {
    if (val_idx.empty()) return std::numeric_limits<double>::quiet_NaN();
    vector<T> keep = net.parameters();
    net.parameters() = p;
    double acc = 0.0;
    const std::size_t chunk = 8192;
    for (std::size_t s = 0; s < val_idx.size(); s += chunk) {
      const auto len = static_cast<Eigen::Index>(std::min(chunk, val_idx.size() - s));
      net.forward(xv.middleCols(static_cast<Eigen::Index>(s), len), ws);
      acc += loss.value(ws.post.back(), yv.middleCols(static_cast<Eigen::Index>(s), len)) *
             static_cast<double>(len);
    }
    net.parameters() = keep;
    return acc / static_cast<double>(val_idx.size());
  };
  double last_train = 0.0;
  const auto train_epoch = [&](std::size_t e) {
    if (o.shuffle_each_epoch && e > 0) std::shuffle(order.begin(), order.end(), rng);
    double sum = 0.0;
    std::size_t nb = 0;
    for_each_batch(order, o.batch_size, [&](std::span<const std::size_t> batch) {
      const auto len = static_cast<Eigen::Index>(batch.size());
      xb.resize(n_in, len);
      yb.resize(n_out, len);
      for (Eigen::Index j = 0; j < len; ++j) {
        const auto src = static_cast<Eigen::Index>(batch[static_cast<std::size_t>(j)]);
        xb.col(j) = xs.col(src);
        yb.col(j) = ys.col(src);
      }
      net.forward(xb, ws);
      sum += loss.value(ws.post.back(), yb);
      ++nb;
      loss.gradient(ws.post.back(), yb, g_out);
      net.backward(ws, g_out, grad);
      opt.step(net.parameters(), grad);
    });
    opt.evaluation_parameters(net.parameters(), eval_params);
    last_train = nb ? sum / static_cast<double>(nb) : 0.0;
    return last_train;
  };
  double last_val = 0.0;
  const auto criterion = [&] {
    last_val = evaluate(eval_params);
    return val_idx.empty() ? last_train : last_val;
  };
  const auto report = [&](std::size_t e, double train_loss, double, double) {
    const epoch_report rep{e + 1, train_loss, last_val, static_cast<std::size_t>(opt.steps())};
    res.history.push_back(rep);
    if constexpr (std::is_same_v<decltype(obs(rep)), bool>) {
      return obs(rep);
    } else {
      obs(rep);
      return true;
    }
  };
  const epoch_rules rules{o.epochs, o.patience, o.max_seconds};
  const epoch_outcome out = run_epochs(rules, train_epoch, criterion, [&] { best_params = eval_params; }, report);
  res.best_epoch = out.best_epoch + 1;
  res.best_validation_loss = out.best;
  res.stopped_by_time = out.by_time;
  res.stopped_early = out.by_patience || out.by_observer || out.by_time;
  res.seconds = out.seconds;
  if (best_params.size() > 0) net.parameters() = best_params;
  return res;
}
}  // namespace detail

/// Trains `net` on `x` (n_in x n) -> `y` (n_out x n), raw units, layout of
/// `chempp/nn/tensor.hpp`. Fits the standardisers (unless disabled), splits off a seeded
/// validation set, runs mini-batch epochs and leaves the best evaluation parameters (lowest
/// validation loss; for schedule-free AdamW the averaged iterate) in `net`. `obs(epoch_report)`
/// is called after every epoch; if it returns `bool`, `false` stops training.
/// Throws `invalid_argument` on shape mismatch, non-finite data or bad options.
template <class T, class Observer = no_training_observer>
training_result train(mlp<T>& net, const matrix<T>& x, const matrix<T>& y,
                      const training_options& o = {}, Observer&& obs = {}) {
  const char* fn = "nn::train";
  if (static_cast<std::size_t>(x.rows()) != net.input_size() ||
      static_cast<std::size_t>(y.rows()) != net.output_size() || x.cols() != y.cols())
    throw invalid_argument(std::string(fn) + ": x is " + std::to_string(x.rows()) + "x" +
                           std::to_string(x.cols()) + ", y is " + std::to_string(y.rows()) + "x" +
                           std::to_string(y.cols()) + " for a " + std::to_string(net.input_size()) +
                           "->" + std::to_string(net.output_size()) + " network");
  if (!x.allFinite() || !y.allFinite()) throw invalid_argument(std::string(fn) + ": data contain NaN or infinity");
  if (o.batch_size == 0) throw invalid_argument(std::string(fn) + ": batch_size is 0");
  check_in_closed(fn, "validation_fraction", o.validation_fraction, 0.0, 0.9);
  check_nonnegative(fn, "max_seconds", o.max_seconds);
  const auto n = static_cast<std::size_t>(x.cols());
  std::mt19937_64 rng(o.seed);
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::shuffle(idx.begin(), idx.end(), rng);
  const auto n_val = static_cast<std::size_t>(std::floor(o.validation_fraction * static_cast<double>(n)));
  if (n - n_val < 2) throw invalid_argument(std::string(fn) + ": fewer than two training samples");
  std::vector<std::size_t> train_idx(idx.begin(), idx.end() - static_cast<std::ptrdiff_t>(n_val));
  std::vector<std::size_t> val_idx(idx.end() - static_cast<std::ptrdiff_t>(n_val), idx.end());
  std::sort(train_idx.begin(), train_idx.end());

  if (o.fit_standardization) {
    matrix<T> xt(x.rows(), static_cast<Eigen::Index>(train_idx.size())),
        yt(y.rows(), static_cast<Eigen::Index>(train_idx.size()));
    for (std::size_t j = 0; j < train_idx.size(); ++j) {
      xt.col(static_cast<Eigen::Index>(j)) = x.col(static_cast<Eigen::Index>(train_idx[j]));
      yt.col(static_cast<Eigen::Index>(j)) = y.col(static_cast<Eigen::Index>(train_idx[j]));
    }
    net.input_scaling() = standardizer<T>::fit(xt);
    net.output_scaling() = standardizer<T>::fit(yt);
  }
  if (o.initialize) net.initialize(o.seed ^ 0x9E3779B97F4A7C15ULL, o.init);
  const matrix<T> xs = net.input_scaling().transform(x);
  const matrix<T> ys = net.output_scaling().transform(y);

  const auto run = [&](const auto& loss) {
    if (o.optimizer == optimizer_kind::adam) {
      adam<T> opt(net.num_parameters(), o.adam);
      return detail::train_loop(net, xs, ys, train_idx, val_idx, o, loss, opt, rng, obs);
    }
    schedule_free_adamw<T> opt(net.parameters(), o.adam);
    return detail::train_loop(net, xs, ys, train_idx, val_idx, o, loss, opt, rng, obs);
  };
  if (o.output_weights.empty()) return run(mse_loss{});
  if (o.output_weights.size() != net.output_size())
    throw invalid_argument(std::string(fn) + ": " + std::to_string(o.output_weights.size()) +
                           " output weights for " + std::to_string(net.output_size()) + " outputs");
  vector<T> w(static_cast<Eigen::Index>(o.output_weights.size()));
  for (std::size_t i = 0; i < o.output_weights.size(); ++i)
    w[static_cast<Eigen::Index>(i)] = static_cast<T>(o.output_weights[i]);
  return run(weighted_mse_loss<T>(w));
}

}  // namespace chempp::nn
