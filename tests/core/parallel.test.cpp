// SPDX-License-Identifier: BSD-3-Clause
// chempp::detail::run_workers: every id runs exactly once, the lowest-numbered failure is
// rethrown after all workers joined.
#include "chempp/core/parallel.hpp"

#include <atomic>
#include <stdexcept>
#include <vector>

#include "support/test_support.hpp"

TEST_CASE("run_workers: every id once; the lowest-numbered failure is rethrown") {
  for (const std::size_t workers : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
    CAPTURE(workers);
    std::vector<std::atomic<int>> seen(std::max<std::size_t>(1, workers));
    chempp::detail::run_workers(workers, [&](std::size_t id) { seen[id].fetch_add(1); });
    for (const auto& s : seen) CHECK(s.load() == 1);
  }
  std::atomic<int> done{0};
  CHECK_THROWS_WITH_AS(chempp::detail::run_workers(8,
                                                   [&](std::size_t id) {
                                                     done.fetch_add(1);
                                                     if (id == 5) throw std::runtime_error("five");
                                                     if (id == 3) throw std::runtime_error("three");
                                                   }),
                       "three", std::runtime_error);
  CHECK(done.load() == 8);  // the others still ran (and were joined) before the rethrow
}
