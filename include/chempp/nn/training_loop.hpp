// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one mini-batch training loop of chempp: the emulator (`nn::train`) and the flow
/// (`flow::train`) both run their epochs through `run_epochs` and their optimiser steps through
/// an `Optimizer` (nn/optimizer.hpp), and differ only in the model-specific parts they pass in
/// (forward/backward on a batch, the validation loss, the parameter snapshot).
///
/// Rules (the same for both): after each epoch the validation criterion is computed; a strictly
/// lower value (or the first epoch) stores the parameters and resets the patience counter, else
/// the counter grows; training stops after `patience` epochs without improvement (0: never), when
/// the observer returns false, after `max_epochs`, or when the wall-clock budget `max_seconds` (0:
/// none) is spent with epochs left.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace chempp::nn {

/// Stopping rules of `run_epochs`.
struct epoch_rules {
  std::size_t max_epochs = 1;  ///< hard limit on epochs
  std::size_t patience = 0;    ///< epochs without improvement before stopping (0: never)
  double max_seconds = 0.0;    ///< wall-clock budget, checked after each epoch (0: none)
};

/// What `run_epochs` did.
struct epoch_outcome {
  std::size_t epochs = 0;       ///< epochs run
  std::size_t best_epoch = 0;   ///< 0-based epoch whose parameters were stored
  double best = std::numeric_limits<double>::infinity();  ///< its criterion
  bool by_patience = false;     ///< stopped because patience ran out
  bool by_observer = false;     ///< stopped because the observer returned false
  bool by_time = false;         ///< stopped because the budget was spent
  double seconds = 0.0;         ///< wall-clock time of the loop
};

/// Calls `step(batch)` for consecutive slices of `order` of at most `batch_size` indices.
template <class Index, class Step>
void for_each_batch(const std::vector<Index>& order, std::size_t batch_size, Step&& step) {
  for (std::size_t s = 0; s < order.size(); s += batch_size)
    step(std::span<const Index>(order.data() + s, std::min(batch_size, order.size() - s)));
}

/// Runs epochs under `rules`. Per epoch (0-based e): `train_epoch(e)` returns the mean training
/// loss; `criterion()` the validation loss the best-parameter rule uses; `store_best()` is
/// called when it improves; `report(e, train_loss, criterion, seconds)` returns false to stop.
template <class TrainEpoch, class Criterion, class StoreBest, class Report>
epoch_outcome run_epochs(const epoch_rules& rules, TrainEpoch&& train_epoch, Criterion&& criterion, StoreBest&& store_best,
                         Report&& report) {
  epoch_outcome out;
  std::size_t since = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  for (std::size_t e = 0; e < rules.max_epochs; ++e) {
    const auto te = std::chrono::steady_clock::now();
    const double train_loss = train_epoch(e);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
    const double crit = criterion();
    out.epochs = e + 1;
    if (e == 0 || crit < out.best) {
      out.best = crit;
      out.best_epoch = e;
      store_best();
      since = 0;
    } else {
      ++since;
    }
    const bool go_on = report(e, train_loss, crit, seconds);
    if (rules.patience > 0 && since >= rules.patience) {
      out.by_patience = true;
      break;
    }
    if (!go_on) {
      out.by_observer = true;
      break;
    }
    if (rules.max_seconds > 0.0 && elapsed() > rules.max_seconds && e + 1 < rules.max_epochs) {
      out.by_time = true;
      break;
    }
  }
  out.seconds = elapsed();
  return out;
}

}  // namespace chempp::nn
