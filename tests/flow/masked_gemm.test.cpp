// SPDX-License-Identifier: BSD-3-Clause
// The masked products of row-major batches (kernels/masked_gemm.hpp) against plain loops in
// double: random masks (arbitrary patterns) and nested MADE-like masks (contiguous tiles, the
// vector epilogue of the weight gradient), batch widths around every SIMD tile boundary, float
// and double, every initialisation mode, the transposed product, and the weight gradient with and
// without a mask. Tolerance: 1e-5 (float) / 1e-13 (double) times Σ|terms| + 1.
#include "chempp/kernels/masked_gemm.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace k = chempp::kernels;

namespace {

struct case_data {
  int n_out = 0, n_in = 0;
  std::vector<double> mask, w;  // column-major n_out × n_in; w zero outside the mask
};

case_data make_case(int n_out, int n_in, bool nested, std::mt19937_64& rng) {
  case_data c{n_out, n_in, {}, {}};
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::bernoulli_distribution live(0.6);
  c.mask.resize(std::size_t(n_out) * std::size_t(n_in));
  c.w.resize(c.mask.size());
  for (int i = 0; i < n_in; ++i)
    for (int o = 0; o < n_out; ++o) {
      const std::size_t a = std::size_t(o) + std::size_t(i) * std::size_t(n_out);
      // nested: output o sees inputs i <= o·n_in/n_out (block-triangular, counts increase with o)
      c.mask[a] = (nested ? i * n_out <= o * n_in : live(rng)) ? 1.0 : 0.0;
      c.w[a] = c.mask[a] * u(rng);
    }
  return c;
}

template <class T>
void check_case(const case_data& cd, int tile, long n_cols, std::mt19937_64& rng) {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  const int no = cd.n_out, ni = cd.n_in;
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const long ld = n_cols + 3;  // row stride larger than the row: strides are honoured
  std::vector<T> w(cd.w.begin(), cd.w.end()), mask(cd.mask.begin(), cd.mask.end());
  std::vector<T> x(std::size_t(ni) * std::size_t(ld));
  std::vector<T> g(std::size_t(no) * std::size_t(ld));
  std::vector<T> bias(static_cast<std::size_t>(no));
  for (auto& v : x) v = T(u(rng));
  for (auto& v : g) v = T(u(rng));
  for (auto& v : bias) v = T(u(rng));
  const auto W = [&](int o, int i) { return double(w[std::size_t(o) + std::size_t(i) * std::size_t(no)]); };
  INFO("T " << (std::is_same_v<T, float> ? "float" : "double") << ", " << no << " x " << ni << ", tile " << tile << ", "
            << n_cols << " columns");

  // forward, every init mode
  const auto plan = k::make_masked_plan(no, ni, tile, [&](int o, int i) { return cd.mask[std::size_t(o) + std::size_t(i) * std::size_t(no)] != 0.0; });
  for (const auto init : {k::masked_init::zero, k::masked_init::bias, k::masked_init::accumulate}) {
    std::vector<T> y(std::size_t(no) * std::size_t(ld), T(0.5));
    k::masked_product(plan, w.data(), 1, no, x.data(), ld, y.data(), ld, n_cols, init, bias.data());
    double worst = 0.0;
    for (int o = 0; o < no; ++o)
      for (long b = 0; b < n_cols; ++b) {
        double s = init == k::masked_init::bias ? double(bias[std::size_t(o)]) : init == k::masked_init::accumulate ? 0.5 : 0.0;
        double scale = 1.0 + std::abs(s);
        for (int i = 0; i < ni; ++i) {
          s += W(o, i) * double(x[std::size_t(i) * std::size_t(ld) + std::size_t(b)]);
          scale += std::abs(W(o, i) * double(x[std::size_t(i) * std::size_t(ld) + std::size_t(b)]));
        }
        worst = std::max(worst, std::abs(double(y[std::size_t(o) * std::size_t(ld) + std::size_t(b)]) - s) / scale);
      }
    CHECK(worst < tol);
  }
  // transposed product (input gradient): Z(i, :) = Σ_o W(o, i) G(o, :)
  {
    const auto plan_t = k::make_masked_plan(ni, no, tile, [&](int i, int o) { return cd.mask[std::size_t(o) + std::size_t(i) * std::size_t(no)] != 0.0; });
    std::vector<T> z(std::size_t(ni) * std::size_t(ld), T(7));
    k::masked_product(plan_t, w.data(), no, 1, g.data(), ld, z.data(), ld, n_cols, k::masked_init::zero);
    double worst = 0.0;
    for (int i = 0; i < ni; ++i)
      for (long b = 0; b < n_cols; ++b) {
        double s = 0.0, scale = 1.0;
        for (int o = 0; o < no; ++o) {
          s += W(o, i) * double(g[std::size_t(o) * std::size_t(ld) + std::size_t(b)]);
          scale += std::abs(W(o, i) * double(g[std::size_t(o) * std::size_t(ld) + std::size_t(b)]));
        }
        worst = std::max(worst, std::abs(double(z[std::size_t(i) * std::size_t(ld) + std::size_t(b)]) - s) / scale);
      }
    CHECK(worst < tol);
  }
  // weight gradient, masked (masked entries stay exactly as they were) and dense
  for (const bool masked : {true, false}) {
    const auto plan4 = k::make_masked_plan(
        no, ni, 4, [&](int o, int i) { return !masked || cd.mask[std::size_t(o) + std::size_t(i) * std::size_t(no)] != 0.0; },
        masked ? k::masked_outer_inputs<T>() : 1);
    std::vector<T> dw(w.size());
    for (auto& v : dw) v = T(u(rng));
    const std::vector<T> before = dw;
    k::masked_outer(plan4, g.data(), ld, x.data(), ld, n_cols, dw.data(), 1, no, masked ? mask.data() : static_cast<const T*>(nullptr));
    double worst = 0.0;
    bool masked_untouched = true;
    for (int o = 0; o < no; ++o)
      for (int i = 0; i < ni; ++i) {
        const std::size_t a = std::size_t(o) + std::size_t(i) * std::size_t(no);
        if (masked && cd.mask[a] == 0.0) {
          masked_untouched = masked_untouched && dw[a] == before[a];
          continue;
        }
        double s = double(before[a]), scale = 1.0 + std::abs(s);
        for (long b = 0; b < n_cols; ++b) {
          const double t = double(g[std::size_t(o) * std::size_t(ld) + std::size_t(b)]) * double(x[std::size_t(i) * std::size_t(ld) + std::size_t(b)]);
          s += t;
          scale += std::abs(t);
        }
        worst = std::max(worst, std::abs(double(dw[a]) - s) / scale);
      }
    CHECK(worst < tol);
    CHECK(masked_untouched);
  }
}

}  // namespace

TEST_CASE("masked_gemm: products and weight gradients equal plain loops (random and nested masks, every tile edge)") {
  auto rng = chempp::test::seeded_rng(4242);
  for (const bool nested : {false, true})
    for (const auto& [no, ni] : std::vector<std::pair<int, int>>{{1, 1}, {5, 7}, {13, 6}, {12, 50}, {50, 50}, {50, 8}})
      for (const long cols : {1L, 15L, 16L, 17L, 100L, 128L, 300L}) {
        const auto cd = make_case(no, ni, nested, rng);
        for (const int tile : {1, 2, 3}) {
          check_case<float>(cd, tile, cols, rng);
          check_case<double>(cd, tile, cols, rng);
        }
      }
}

TEST_CASE("masked_gemm: a plan lists each output once and the union of its tile's live inputs") {
  auto rng = chempp::test::seeded_rng(17);
  const auto cd = make_case(23, 11, false, rng);
  const auto live = [&](int o, int i) { return cd.mask[std::size_t(o) + std::size_t(i) * 23] != 0.0; };
  const auto p = k::make_masked_plan(23, 11, 4, live);
  REQUIRE(p.tiles() == 6);
  std::vector<int> seen(23, 0);
  long live_count = 0;
  for (int t = 0; t < p.tiles(); ++t)
    for (int r = 0; r < p.tile_size(t); ++r) {
      const int o = p.out[std::size_t(p.out_begin[std::size_t(t)] + r)];
      ++seen[std::size_t(o)];
      for (int i = 0; i < 11; ++i) {
        const bool listed = std::find(p.in.begin() + p.in_begin[std::size_t(t)], p.in.begin() + p.in_begin[std::size_t(t) + 1], i) !=
                            p.in.begin() + p.in_begin[std::size_t(t) + 1];
        if (live(o, i)) {
          CHECK(listed);  // every live weight is visited
          ++live_count;
        }
      }
      // ... and, unpadded, a tile lists exactly the inputs one of its outputs sees
      for (int j = p.in_begin[std::size_t(t)]; j < p.in_begin[std::size_t(t) + 1]; ++j) {
        bool seen_by_tile = false;
        for (int q = 0; q < p.tile_size(t); ++q) seen_by_tile = seen_by_tile || live(p.out[std::size_t(p.out_begin[std::size_t(t)] + q)], p.in[std::size_t(j)]);
        CHECK(seen_by_tile);
      }
    }
  for (const int s : seen) CHECK(s == 1);
  CHECK(p.tile_size(0) == 3);  // the short tile first
  CHECK(p.multiply_adds() >= live_count);
  CHECK(p.multiply_adds() <= std::ptrdiff_t(23) * 11);  // unpadded: never more than the dense product
  // padded lists: multiples of 4 where enough unseen inputs exist, still every live input
  const auto q = k::make_masked_plan(23, 11, 4, live, 4);
  for (int t = 0; t < q.tiles(); ++t) {
    const auto b0 = q.in.begin() + q.in_begin[std::size_t(t)], b1 = q.in.begin() + q.in_begin[std::size_t(t) + 1];
    CHECK((q.tile_inputs(t) % 4 == 0 || q.tile_inputs(t) == 11));
    CHECK(std::is_sorted(b0, b1));
    CHECK(std::adjacent_find(b0, b1) == b1);  // no input twice
    for (int r = 0; r < q.tile_size(t); ++r)
      for (int i = 0; i < 11; ++i)
        if (live(q.out[std::size_t(q.out_begin[std::size_t(t)] + r)], i)) CHECK(std::find(b0, b1, i) != b1);
  }
}
