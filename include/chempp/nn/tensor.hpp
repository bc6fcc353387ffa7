// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one tensor layout of chempp's neural networks.
///
/// **Layout (tested in tests/nn/tensor.test.cpp):** a batch of samples is an Eigen
/// *column-major* matrix with one **column per sample** and one row per feature
/// (`features x samples`). The features of one sample are therefore contiguous in memory:
/// sample `j` of an `n_in x n` batch starts at `data() + j * n_in`. Raw pointers handed to the
/// SIMD kernels (`chempp/nn/simd_forward.hpp`) use exactly this layout. A dense layer's weight
/// matrix has PyTorch's shape `out x in` (stored column-major in memory, like every Eigen
/// matrix here), so a layer computes `Y = W X + b 1^T`.

#include "chempp/core/compat_eigen.hpp"

#include <cstddef>
#include <type_traits>

namespace chempp::nn {

/// A batch: `features x samples`, column-major (one column per sample).
template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

/// A column vector (a bias, one sample, or a flat parameter vector).
template <class T>
using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Address of feature `feature` of sample `sample` in a `features x samples` batch stored at
/// `data` (the documented layout written out as index arithmetic).
constexpr std::size_t batch_index(std::size_t n_features, std::size_t sample,
                                  std::size_t feature) noexcept {
  return sample * n_features + feature;
}

/// `sums += Σ_j m.col(j)`: the per-feature sum over the samples of a `features x samples` batch
/// (a bias gradient). Eigen's `m.rowwise().sum()` walks each row across the column stride one
/// element at a time; adding whole columns runs down contiguous memory, vectorised. A row-major
/// batch (each feature contiguous) is summed row by row instead.
template <class M, class S>
void add_sample_sums(const M& m, S&& sums) {
  if constexpr (std::remove_cvref_t<M>::IsRowMajor) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) sums(i) += m.row(i).sum();
  } else {
    for (Eigen::Index j = 0; j < m.cols(); ++j) sums += m.col(j);
  }
}

}  // namespace chempp::nn
