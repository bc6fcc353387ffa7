// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// `process_split`: how independent work items (simulation runs, catalogue rows) are split over
/// processes — MPI ranks or any other host. The library never calls MPI itself: a host passes its
/// rank, the number of processes and a function that sums int64 arrays element-wise over all of
/// them in place (for MPI, `MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_INT64_T, MPI_SUM, comm)`;
/// `chempp::mpi::communicator::split()` in the optional chempp::mpi target). Integer sums are exact
/// and associative, so results exchanged or reduced through them do not depend on the number of
/// processes (docs/survey-scale.md).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "chempp/core/error.hpp"

namespace chempp {

struct process_split {
  std::size_t rank = 0;  ///< this process, 0 … size−1
  std::size_t size = 1;  ///< number of processes (1: no split; `sum` is then not needed)
  /// Element-wise sum over all processes, in place; called by every process in the same order.
  std::function<void(std::span<std::int64_t>)> sum;

  /// True when the work is split over more than one process.
  [[nodiscard]] bool distributed() const noexcept { return size > 1; }
  /// True when item `i` is this process's (items are dealt out round-robin).
  [[nodiscard]] bool mine(std::size_t i) const noexcept { return i % size == rank; }
  /// \throws invalid_argument (naming `fn`) for rank ≥ size, size 0, or a split without `sum`.
  void check(const char* fn) const {
    if (size == 0 || rank >= size)
      throw invalid_argument(std::string(fn) + ": process_split needs rank < size (got rank " + std::to_string(rank) + ", size " +
                             std::to_string(size) + ")");
    if (size > 1 && !sum) throw invalid_argument(std::string(fn) + ": process_split over " + std::to_string(size) + " processes needs sum");
  }
};

}  // namespace chempp
