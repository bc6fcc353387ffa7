// SPDX-License-Identifier: BSD-3-Clause
// The shared epoch loop (nn/training_loop.hpp): its stopping rules on scripted criteria.
#include "chempp/nn/training_loop.hpp"

#include <vector>

#include "support/test_support.hpp"

namespace nn = chempp::nn;

namespace {
struct scripted {
  std::vector<double> crit;
  std::size_t stores = 0, reports = 0;
  std::size_t stop_after = 1000;
  nn::epoch_outcome run(const nn::epoch_rules& r) {
    std::size_t e_now = 0;
    return nn::run_epochs(
        r, [&](std::size_t e) { e_now = e; return 1.0; }, [&] { return crit[e_now]; }, [&] { ++stores; },
        [&](std::size_t e, double, double, double) { ++reports; return e + 1 < stop_after; });
  }
};
}  // namespace

TEST_CASE("training loop: best epoch, patience, observer and epoch limit") {
  scripted a{{5, 4, 3, 3.5, 3.2, 3.1, 3.0, 2.0}};
  auto o = a.run({8, 3, 0.0});  // no improvement in epochs 3, 4, 5 -> stop after epoch 5
  CHECK(o.by_patience);
  CHECK(o.epochs == 6);
  CHECK(o.best_epoch == 2);
  CHECK(o.best == 3.0);
  CHECK(a.stores == 3);
  CHECK(a.reports == 6);

  scripted b{{5, 4, 3, 2, 1}};
  o = b.run({5, 0, 0.0});  // patience 0: never; runs to the limit
  CHECK_FALSE(o.by_patience);
  CHECK(o.epochs == 5);
  CHECK(o.best_epoch == 4);

  scripted c{{5, 4, 3, 2, 1}};
  c.stop_after = 2;
  o = c.run({5, 0, 0.0});
  CHECK(o.by_observer);
  CHECK(o.epochs == 2);

  scripted d{{1, 1, 1}};  // ties are not improvements
  o = d.run({3, 2, 0.0});
  CHECK(o.by_patience);
  CHECK(o.best_epoch == 0);
  CHECK(d.stores == 1);
}

TEST_CASE("training loop: batches cover the order once, in order") {
  std::vector<int> order(10);
  for (int i = 0; i < 10; ++i) order[std::size_t(i)] = 9 - i;
  std::vector<int> seen;
  std::vector<std::size_t> sizes;
  nn::for_each_batch(order, 4, [&](std::span<const int> b) {
    sizes.push_back(b.size());
    seen.insert(seen.end(), b.begin(), b.end());
  });
  CHECK(seen == order);
  CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
}
