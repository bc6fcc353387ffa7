// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/made.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "support/test_support.hpp"

using namespace chempp::flow;

namespace {

// L = Σ R ∘ out for a fixed random R: dL/dout = R.
template <class M>
double probe_loss(const M& net, const Eigen::MatrixXd& u, const Eigen::MatrixXd& c, const Eigen::MatrixXd& r) {
  made_cache cache;
  Eigen::MatrixXd out;
  net.forward(u, c, cache, out);
  return (out.array() * r.array()).sum();
}

// One forward + backward pass of a double MADE: output, input gradient and flat parameter
// gradient (for_each_tensor order). Column-major runs Eigen's products; row-major the masked
// products, on batches that are blocks of wider matrices (row strides differ from the batch
// width). `order`: the units of `net` were permuted by it; the gradient is put back.
struct made_passes {
  Eigen::MatrixXd out, gu;
  Eigen::VectorXd grad;
};

made_passes run_passes(const made<>& net, const Eigen::MatrixXd& u, const Eigen::MatrixXd& c, const Eigen::MatrixXd& r,
                       bool row_major, const permutation* order = nullptr) {
  made_passes res;
  made<> grad = net;
  grad.zero();
  if (row_major) {
    using rows = batch_matrix<double, Eigen::RowMajor>;
    const Eigen::Index b = u.cols();
    rows uw = rows::Constant(u.rows(), b + 5, 9.0), cw = rows::Constant(c.rows(), b + 3, -9.0),
         rw = rows::Constant(r.rows(), b + 7, 4.0);
    uw.leftCols(b) = u;
    cw.leftCols(b) = c;
    rw.leftCols(b) = r;
    const Eigen::Ref<const rows> ur = uw.leftCols(b), cr = cw.leftCols(b), rr = rw.leftCols(b);
    basic_made_cache<double, Eigen::RowMajor> cache;
    rows out, gu;
    std::vector<rows> work;
    net.forward<Eigen::RowMajor>(ur, cr, cache, out);
    net.backward<Eigen::RowMajor>(ur, cr, cache, rr, grad, &gu, work);
    res.out = out;
    res.gu = gu;
  } else {
    made_cache cache;
    std::vector<Eigen::MatrixXd> work;
    net.forward(u, c, cache, res.out);
    net.backward(u, c, cache, r, grad, &res.gu, work);
  }
  if (order != nullptr) grad = grad.permuted_hidden(inverse_of(*order));
  res.grad.resize(grad.parameter_count());
  Eigen::Index o = 0;
  grad.for_each_tensor([&](const auto& t) {
    res.grad.segment(o, t.size()) = Eigen::Map<const Eigen::VectorXd>(t.data(), t.size());
    o += t.size();
  });
  return res;
}

// max |a - b| / (1 + max |a|)
double rel_diff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / (1.0 + a.cwiseAbs().maxCoeff());
}

template <class Act>
void check_made_gradients(std::uint64_t seed) {
  auto rng = chempp::test::seeded_rng(seed);
  const made_shape shape{5, 3, 7, 2};
  made<Act> net(shape);
  net.initialize(rng);
  std::normal_distribution<double> nd;
  const Eigen::Index b = 4;
  Eigen::MatrixXd u(5, b), c(3, b), r(10, b);
  for (Eigen::Index i = 0; i < u.size(); ++i) u.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < c.size(); ++i) c.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < r.size(); ++i) r.data()[i] = nd(rng);
  made_cache cache;
  Eigen::MatrixXd out, gu;
  std::vector<Eigen::MatrixXd> work;
  net.forward(u, c, cache, out);
  made<Act> grad(shape);
  net.backward(u, c, cache, r, grad, &gu, work);

  const double h = 1e-6;
  chempp::test::worst_error worst;
  // parameter gradient: central differences over every (unmasked) parameter
  std::vector<double*> params, grads;
  net.for_each_tensor([&](auto& t) { for (Eigen::Index i = 0; i < t.size(); ++i) params.push_back(t.data() + i); });
  grad.for_each_tensor([&](auto& t) { for (Eigen::Index i = 0; i < t.size(); ++i) grads.push_back(t.data() + i); });
  REQUIRE(params.size() == grads.size());
  std::size_t n_checked = 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const double old = *params[k];
    if (old == 0.0 && *grads[k] == 0.0) continue;  // masked weight: gradient must be zero (below)
    *params[k] = old + h;
    const double lp = probe_loss(net, u, c, r);
    *params[k] = old - h;
    const double lm = probe_loss(net, u, c, r);
    *params[k] = old;
    const double fd = (lp - lm) / (2 * h);
    worst.update(std::abs(fd - *grads[k]) / std::max(1.0, std::abs(fd)), "param " + std::to_string(k));
    ++n_checked;
  }
  CHECK(n_checked > 50);
  // input Jacobian (vector-Jacobian product)
  for (Eigen::Index i = 0; i < u.size(); ++i) {
    Eigen::MatrixXd up = u, um = u;
    up.data()[i] += h;
    um.data()[i] -= h;
    const double fd = (probe_loss(net, up, c, r) - probe_loss(net, um, c, r)) / (2 * h);
    worst.update(std::abs(fd - gu.data()[i]) / std::max(1.0, std::abs(fd)), "input " + std::to_string(i));
  }
  INFO("worst relative error " << worst.value << " at " << worst.where);
  CHECK(worst.value < 1e-6);
  // masked weights have zero gradient
  CHECK((grad.w_in.array() * (1.0 - net.mask_in.array())).abs().maxCoeff() == 0.0);
  CHECK((grad.w_out.array() * (1.0 - net.mask_out.array())).abs().maxCoeff() == 0.0);
}

}  // namespace

TEST_CASE("made: masks follow nflows degrees") {
  made<> net(made_shape{6, 8, 8, 2});
  // hidden degrees k % 5 + 1 -> 1 2 3 4 5 1 2 3
  CHECK(net.hidden_degree(0) == 1);
  CHECK(net.hidden_degree(4) == 5);
  CHECK(net.hidden_degree(5) == 1);
  CHECK(net.mask_in(0, 0) == 1.0);
  CHECK(net.mask_in(0, 1) == 0.0);
  // output for dimension 0 (rows 0 and 6) sees nothing, dimension 5 sees all hidden units
  CHECK(net.mask_out.row(0).sum() == 0.0);
  CHECK(net.mask_out.row(6).sum() == 0.0);
  CHECK(net.mask_out.row(5).sum() == 8.0);
}

TEST_CASE("made: autoregressive property (output r independent of u_>=r)") {
  auto rng = chempp::test::seeded_rng(11);
  made<> net(made_shape{6, 2, 8, 2});
  net.initialize(rng);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd u(6, 1), c(2, 1);
  for (Eigen::Index i = 0; i < 6; ++i) u(i, 0) = nd(rng);
  c << 0.3, -0.2;
  made_cache cache;
  Eigen::MatrixXd out0, out1;
  net.forward(u, c, cache, out0);
  for (Eigen::Index j = 0; j < 6; ++j) {
    Eigen::MatrixXd u2 = u;
    u2(j, 0) += 1.7;
    net.forward(u2, c, cache, out1);
    for (Eigen::Index r = 0; r <= j; ++r) {
      CHECK(out1(r, 0) == out0(r, 0));
      CHECK(out1(6 + r, 0) == out0(6 + r, 0));
    }
  }
}

TEST_CASE("made: backward matches finite differences (tanh)") { check_made_gradients<tanh_activation>(21); }
TEST_CASE("made: backward matches finite differences (relu)") { check_made_gradients<relu_activation>(22); }

TEST_CASE("made: bad shapes throw") {
  CHECK_THROWS_AS(made<>(made_shape{0, 1, 8, 2}), chempp::invalid_argument);
  CHECK_THROWS_AS(made<>(made_shape{2, 1, 0, 2}), chempp::invalid_argument);
}

TEST_CASE("made: hidden units sorted by degree compute the same function and gradients; the inverse restores the MADE exactly") {
  auto rng = chempp::test::seeded_rng(31);
  for (const bool first : {false, true}) {
    made_shape shape{6, 8, 50, 2};
    shape.condition_first = first;
    made<> net(shape);
    net.initialize(rng);
    const auto order = net.degree_order();
    const auto sorted = net.permuted_hidden(order);
    for (Eigen::Index k = 1; k < shape.hidden; ++k) CHECK(sorted.hidden_degree(k - 1) <= sorted.hidden_degree(k));
    // the masks moved with the units (unit k sees unit l iff l's degree <= k's) and, sorted, each
    // hidden unit sees a prefix of the units: the block lower-triangular form the tiles exploit
    for (Eigen::Index k = 0; k < shape.hidden; ++k) {
      for (Eigen::Index l = 0; l < shape.hidden; ++l)
        CHECK(sorted.mask_hidden(k, l) == (sorted.hidden_degree(l) <= sorted.hidden_degree(k) ? 1.0 : 0.0));
      for (Eigen::Index l = 1; l < shape.hidden; ++l) CHECK(sorted.mask_hidden(k, l) <= sorted.mask_hidden(k, l - 1));
    }

    std::normal_distribution<double> nd;
    const Eigen::Index b = 37;
    const Eigen::MatrixXd u = Eigen::MatrixXd::NullaryExpr(6, b, [&] { return nd(rng); });
    const Eigen::MatrixXd c = Eigen::MatrixXd::NullaryExpr(8, b, [&] { return nd(rng); });
    const Eigen::MatrixXd r = Eigen::MatrixXd::NullaryExpr(12, b, [&] { return nd(rng); });
    // the original on the Eigen (column-major) path, the sorted one on the masked row-major path
    const auto eigen = run_passes(net, u, c, r, false);
    const auto masked = run_passes(sorted, u, c, r, true, &order);
    INFO("condition_first " << first);
    CHECK(rel_diff(eigen.out, masked.out) < 1e-12);
    CHECK(rel_diff(eigen.gu, masked.gu) < 1e-12);
    CHECK(rel_diff(eigen.grad, masked.grad) < 1e-12);

    // the inverse permutation restores every parameter, mask and degree bit for bit
    const auto back = sorted.permuted_hidden(inverse_of(order));
    CHECK(back.w_in == net.w_in);
    CHECK(back.w_ctx == net.w_ctx);
    CHECK(back.b_in == net.b_in);
    CHECK(back.w_hidden[0] == net.w_hidden[0]);
    CHECK(back.w_hidden[1] == net.w_hidden[1]);
    CHECK(back.b_hidden[1] == net.b_hidden[1]);
    CHECK(back.w_out == net.w_out);
    CHECK(back.mask_hidden == net.mask_hidden);
    CHECK(back.mask_in == net.mask_in);
    CHECK(back.mask_out == net.mask_out);
    for (Eigen::Index k = 0; k < shape.hidden; ++k) CHECK(back.hidden_degree(k) == net.hidden_degree(k));
    // a cast keeps the permutation (masks and degrees travel with the parameters)
    const auto sorted_f = sorted.cast<float>();
    CHECK(sorted_f.mask_hidden == sorted.mask_hidden.cast<float>());
    CHECK(sorted_f.hidden_degree(3) == sorted.hidden_degree(3));
  }
  made<> net(made_shape{3, 0, 5, 1});
  CHECK_THROWS_AS((void)net.permuted_hidden({0, 1, 2}), chempp::invalid_argument);
  CHECK_THROWS_AS((void)net.permuted_hidden({0, 1, 2, 3, 3}), chempp::invalid_argument);
  CHECK_THROWS_AS((void)net.permuted_hidden({0, 1, 2, 3, 5}), chempp::invalid_argument);
}

TEST_CASE("made: forward and backward name a batch or gradient of the wrong shape") {
  made<> net(made_shape{3, 2, 5, 1});
  made_cache cache;
  Eigen::MatrixXd out, gu;
  std::vector<Eigen::MatrixXd> work;
  CHECK_THROWS_WITH_AS(net.forward(Eigen::MatrixXd::Zero(4, 7), Eigen::MatrixXd::Zero(2, 7), cache, out),
                       doctest::Contains("made::forward: u"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(net.forward(Eigen::MatrixXd::Zero(3, 7), Eigen::MatrixXd::Zero(2, 6), cache, out),
                       doctest::Contains("made::forward: c"), chempp::invalid_argument);
  using rows = batch_matrix<double, Eigen::RowMajor>;
  basic_made_cache<double, Eigen::RowMajor> cache_r;
  rows out_r;
  CHECK_THROWS_AS(net.forward<Eigen::RowMajor>(rows::Zero(3, 7), rows::Zero(1, 7), cache_r, out_r), chempp::invalid_argument);
  const Eigen::MatrixXd u = Eigen::MatrixXd::Zero(3, 7), c = Eigen::MatrixXd::Zero(2, 7);
  net.forward(u, c, cache, out);
  made<> grad(net.shape()), wrong(made_shape{3, 2, 6, 1});
  CHECK_THROWS_WITH_AS(net.backward(u, c, cache, Eigen::MatrixXd::Zero(6, 8), grad, &gu, work),
                       doctest::Contains("made::backward: grad_out"), chempp::invalid_argument);
  CHECK_THROWS_WITH_AS(net.backward(u, c, cache, Eigen::MatrixXd::Zero(6, 7), wrong, &gu, work),
                       doctest::Contains("made::backward: grad"), chempp::invalid_argument);
  CHECK_NOTHROW(net.backward(u, c, cache, Eigen::MatrixXd::Zero(6, 7), grad, &gu, work));
}

TEST_CASE("made: the row-major (masked products) and column-major (Eigen) passes agree on edge shapes") {
  auto rng = chempp::test::seeded_rng(41);
  // (D, C, H, blocks): one feature (its outputs see no hidden unit), no context, no hidden
  // block, widths below one SIMD tile, and a batch of one column
  const std::vector<made_shape> shapes{{1, 0, 3, 0}, {1, 2, 4, 1}, {3, 0, 5, 1}, {3, 2, 1, 2}, {6, 8, 17, 3}};
  for (const auto& shape : shapes)
    for (const Eigen::Index b : {Eigen::Index(1), Eigen::Index(19)}) {
      made<> net(shape);
      net.initialize(rng);
      std::normal_distribution<double> nd;
      const Eigen::MatrixXd u = Eigen::MatrixXd::NullaryExpr(shape.features, b, [&] { return nd(rng); });
      const Eigen::MatrixXd c = Eigen::MatrixXd::NullaryExpr(shape.context, b, [&] { return nd(rng); });
      const Eigen::MatrixXd r = Eigen::MatrixXd::NullaryExpr(2 * shape.features, b, [&] { return nd(rng); });
      const auto eigen = run_passes(net, u, c, r, false), masked = run_passes(net, u, c, r, true);
      INFO("D " << shape.features << ", C " << shape.context << ", H " << shape.hidden << ", blocks " << shape.blocks << ", batch " << b);
      CHECK(rel_diff(eigen.out, masked.out) <= 1e-13);
      CHECK(rel_diff(eigen.gu, masked.gu) <= 1e-13);
      CHECK(rel_diff(eigen.grad, masked.grad) <= 1e-13);
    }
}
