// SPDX-License-Identifier: BSD-3-Clause
// Training on a smooth function: loss goes down, results are reproducible, early stopping works.
#include "chempp/nn/trainer.hpp"

#include <cmath>

#include "support/test_support.hpp"

namespace nn = chempp::nn;

namespace {
template <class T>
void smooth_data(std::mt19937_64& rng, std::size_t n, nn::matrix<T>& x, nn::matrix<T>& y) {
  std::uniform_real_distribution<double> u(-2.0, 2.0);
  x.resize(3, static_cast<Eigen::Index>(n));
  y.resize(2, static_cast<Eigen::Index>(n));
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double a = u(rng), b = u(rng), c = 5.0 + u(rng);  // third input offset: tests standardisation
    x(0, j) = static_cast<T>(a);
    x(1, j) = static_cast<T>(b);
    x(2, j) = static_cast<T>(c);
    y(0, j) = static_cast<T>(std::sin(a) + 0.5 * b * b);
    y(1, j) = static_cast<T>(100.0 + 10.0 * std::tanh(a * b) + c);
  }
}
}  // namespace

TEST_CASE("Test_train: fits a smooth function with both optimisers, reproducibly") {
  auto rng = chempp::test::seeded_rng(31);
  nn::matrix<float> x, y, xt, yt;
  smooth_data(rng, 3000, x, y);
  smooth_data(rng, 500, xt, yt);
  for (auto kind : {nn::optimizer_kind::adam, nn::optimizer_kind::schedule_free_adamw}) {
    nn::mlp<float> net({3, 32, 32, 2}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
    nn::training_options o;
    o.epochs = 40;
    o.batch_size = 32;
    o.optimizer = kind;
    o.adam.learning_rate = 3e-3;
    std::size_t calls = 0;
    const auto res = nn::train(net, x, y, o, [&](const nn::epoch_report&) { ++calls; });
    CHECK(calls == 40);
    CHECK(res.n_validation == 300);
    REQUIRE(res.history.size() == 40);
    const double first = res.history.front().validation_loss, best = res.best_validation_loss;
    INFO("optimizer " << static_cast<int>(kind) << ": validation loss " << first << " -> " << best);
    CHECK(best < 0.02 * first);
    CHECK(best < 5e-3);  // in standardised units (output variance 1)
    const nn::matrix<float> p = net.predict(xt);
    const double rms1 = std::sqrt((p.row(1) - yt.row(1)).squaredNorm() / static_cast<double>(yt.cols()));
    INFO("held-out RMS of output 1 (raw units, spread ~6): " << rms1);
    CHECK(rms1 < 0.6);
    // reproducible: same seed, same weights, bit for bit
    nn::mlp<float> net2({3, 32, 32, 2}, {nn::activation::tanh, nn::activation::tanh, nn::activation::identity});
    o.epochs = 3;
    nn::train(net2, x, y, o);
    nn::mlp<float> net3 = net2;
    nn::train(net3, x, y, o);
    CHECK(net3.parameters() == net2.parameters());
    o.seed += 1;
    nn::train(net3, x, y, o);
    CHECK(net3.parameters() != net2.parameters());
  }
}

TEST_CASE("Test_train: early stopping, observer stop, weighted loss and bad input") {
  auto rng = chempp::test::seeded_rng(32);
  nn::matrix<double> x, y;
  smooth_data(rng, 400, x, y);
  nn::mlp<double> net({3, 8, 2}, {nn::activation::tanh, nn::activation::identity});
  nn::training_options o;
  o.epochs = 500;
  o.patience = 3;
  o.adam.learning_rate = 0.05;  // noisy: validation stalls quickly
  const auto res = nn::train(net, x, y, o);
  CHECK(res.stopped_early);
  CHECK(res.history.size() < 500);
  CHECK(res.history.size() == res.best_epoch + 3);
  // the kept parameters are the best epoch's: their validation loss is the recorded best
  CHECK(res.best_validation_loss == doctest::Approx(res.history[res.best_epoch - 1].validation_loss));

  o.patience = 0;
  o.output_weights = {1.0, 0.0};
  const auto r2 = nn::train(net, x, y, o, [](const nn::epoch_report& e) { return e.epoch < 2; });
  CHECK(r2.history.size() == 2);
  CHECK(r2.stopped_early);
  CHECK_FALSE(r2.stopped_by_time);
  // a wall-clock budget stops after the first epoch that exceeds it
  o.output_weights.clear();
  o.max_seconds = 1e-9;
  const auto r3 = nn::train(net, x, y, o);
  CHECK(r3.history.size() == 1);
  CHECK(r3.stopped_by_time);
  CHECK(r3.stopped_early);
  o.max_seconds = -1.0;
  CHECK_THROWS_WITH_AS(nn::train(net, x, y, o), doctest::Contains("max_seconds"), chempp::invalid_argument);
  o.max_seconds = 0.0;
  o.output_weights = {1.0};
  CHECK_THROWS_WITH_AS(nn::train(net, x, y, o), doctest::Contains("output weights"), chempp::invalid_argument);
  o.output_weights.clear();
  nn::matrix<double> bad = x;
  bad(1, 1) = std::nan("");
  CHECK_THROWS_AS(nn::train(net, bad, y, o), chempp::invalid_argument);
  CHECK_THROWS_AS(nn::train(net, x.topRows(2).eval(), y, o), chempp::invalid_argument);
}
