// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one thread-pool idiom chempp uses: run `work(id)` for id = 0 … workers−1, id 0 in the
/// calling thread and each other id on its own std::thread, join them all, then rethrow the
/// exception of the lowest-numbered worker that failed. No global pool, no state kept. Every id
/// runs exactly once: when the system refuses another thread (std::system_error), the remaining
/// ids run one after another in the calling thread, so callers that partition work by id lose
/// nothing and no std::system_error escapes. Callers clamp `workers` to their work items.

#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace chempp::detail {

/// Runs `work(id)` on `workers` threads (0 is treated as 1) and rethrows the first failure.
template <class Work>
void run_workers(std::size_t workers, Work&& work) {
  if (workers <= 1) {
    work(std::size_t{0});
    return;
  }
  std::vector<std::exception_ptr> errors(workers);
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers);
    auto run = [&work, &errors](std::size_t id) {
      try {
        work(id);
      } catch (...) {
        errors[id] = std::current_exception();
      }
    };
    std::size_t spawned = 1;
    for (; spawned < workers; ++spawned) {
      try {
        pool.emplace_back(run, spawned);
      } catch (const std::system_error&) {
        break;
      }
    }
    run(0);  // the calling thread is worker 0 (one thread start less per call)
    for (std::size_t rest = spawned; rest < workers; ++rest) run(rest);  // no more threads: run here
  }  // jthreads join here
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace chempp::detail
