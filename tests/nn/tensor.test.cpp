// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/nn/tensor.hpp"

#include "support/test_support.hpp"

TEST_CASE("Test_tensor_layout: column-major, one column per sample, features contiguous") {
  chempp::nn::matrix<double> x(3, 4);
  for (Eigen::Index s = 0; s < 4; ++s)
    for (Eigen::Index f = 0; f < 3; ++f) x(f, s) = 10.0 * static_cast<double>(s) + static_cast<double>(f);
  static_assert(!chempp::nn::matrix<double>::IsRowMajor);
  for (std::size_t s = 0; s < 4; ++s)
    for (std::size_t f = 0; f < 3; ++f)
      CHECK(x.data()[chempp::nn::batch_index(3, s, f)] == 10.0 * static_cast<double>(s) + static_cast<double>(f));
  CHECK(x.data()[3] == 10.0);  // sample 1, feature 0 follows sample 0's three features
}
