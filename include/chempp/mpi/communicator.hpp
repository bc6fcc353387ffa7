// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The optional MPI layer (CMake target chempp::mpi; never included by the umbrella header): what
/// a host program needs to split a population's stars over MPI ranks. The library itself stays
/// MPI-free: the population engine only sees `population_options::sum_over_processes`, which
/// `communicator::summer()` fills with an `MPI_Allreduce` of int64 arrays (exact sums, so the
/// answer does not depend on the number of ranks; docs/survey-scale.md). Used by
/// chempp-infer-mpi and chempp-train-mpi.
///
/// Errors: every collective here is called by all ranks; `first_error` turns an error found on
/// some ranks (e.g. a malformed catalogue line) into the same message on every rank, so they stop
/// together with one message; for an exception in the middle of a computation, where the other
/// ranks wait in a collective, `abort` ends every rank (MPI_Abort) instead of hanging.

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/core/processes.hpp"

namespace chempp::mpi {

/// \throws chempp::error naming `what` when an MPI call fails (with MPI_ERRORS_RETURN).
inline void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw error(std::string("chempp::mpi: ") + what + " failed: " + std::string(text, static_cast<std::size_t>(len)));
}

/// MPI_Init / MPI_Finalize for a program's main (one per process). Threads: the library's worker
/// threads never call MPI, so MPI_THREAD_FUNNELED is enough.
class session {
 public:
  session(int& argc, char**& argv) {
    int provided = 0;
    check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  }
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
};

/// A communicator's rank, size and the collectives the population engine and the programs use.
class communicator {
 public:
  explicit communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  [[nodiscard]] MPI_Comm get() const noexcept { return comm_; }

  /// Element-wise sum over all ranks, in place (MPI_Allreduce, MPI_INT64_T, MPI_SUM).
  void sum(std::span<std::int64_t> v) const {
    // counts beyond INT_MAX go in pieces
    constexpr std::size_t chunk = 1u << 30;
    for (std::size_t at = 0; at < v.size(); at += chunk) {
      const int n = static_cast<int>(std::min(chunk, v.size() - at));
      check(MPI_Allreduce(MPI_IN_PLACE, v.data() + at, n, MPI_INT64_T, MPI_SUM, comm_), "MPI_Allreduce");
    }
  }
  /// `sum` as the population engine's hook (`population_options::sum_over_processes`); the
  /// communicator must outlive the engine's calls.
  [[nodiscard]] std::function<void(std::span<std::int64_t>)> summer() const {
    return [this](std::span<std::int64_t> v) { sum(v); };
  }
  /// This communicator as a `process_split` (rank, size, `sum`), e.g. for
  /// `pipeline::train_bundle` and `gce::simulate_batch`; the communicator must outlive it.
  [[nodiscard]] process_split split() const {
    return {static_cast<std::size_t>(rank_), static_cast<std::size_t>(size_), summer()};
  }
  /// Sum, minimum and maximum of one number over all ranks.
  [[nodiscard]] double sum(double x) const { return reduce(x, MPI_SUM); }
  [[nodiscard]] double min(double x) const { return reduce(x, MPI_MIN); }
  [[nodiscard]] double max(double x) const { return reduce(x, MPI_MAX); }
  [[nodiscard]] std::uint64_t sum(std::uint64_t x) const {
    check(MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_UINT64_T, MPI_SUM, comm_), "MPI_Allreduce");
    return x;
  }

  /// Every rank's strings, concatenated in rank order, on every rank.
  [[nodiscard]] std::vector<std::string> all_strings(const std::vector<std::string>& mine) const {
    std::string packed;
    for (const auto& s : mine) {
      packed += s;
      packed.push_back('\0');
    }
    const std::string all = all_bytes(packed);
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i] == '\0') {
        out.emplace_back(all, start, i - start);
        start = i + 1;
      }
    return out;
  }

  /// A collective error check: each rank passes the error it found (or nothing) with an order key
  /// (e.g. the catalogue line); every rank gets the message with the smallest key (nothing when no
  /// rank failed), so all stop together with the same message.
  [[nodiscard]] std::optional<std::string> first_error(const std::optional<std::pair<std::uint64_t, std::string>>& mine) const {
    std::uint64_t key = mine ? mine->first : UINT64_MAX;
    std::uint64_t best = key;
    check(MPI_Allreduce(&key, &best, 1, MPI_UINT64_T, MPI_MIN, comm_), "MPI_Allreduce");
    // the lowest rank holding that key sends its message
    int owner = mine && key == best && best != UINT64_MAX ? rank_ : size_;
    int first_owner = owner;
    check(MPI_Allreduce(&owner, &first_owner, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
    if (first_owner == size_) return std::nullopt;
    std::string msg = rank_ == first_owner ? mine->second : std::string();
    std::uint64_t len = msg.size();
    check(MPI_Bcast(&len, 1, MPI_UINT64_T, first_owner, comm_), "MPI_Bcast");
    msg.resize(static_cast<std::size_t>(len));
    check(MPI_Bcast(msg.data(), static_cast<int>(len), MPI_CHAR, first_owner, comm_), "MPI_Bcast");
    return msg;
  }

  /// Ends every rank of the communicator (MPI_Abort): for an error on one rank while the others
  /// may wait in a collective.
  [[noreturn]] void abort(int code = 1) const {
    MPI_Abort(comm_, code);
    std::abort();  // not reached
  }

 private:
  double reduce(double x, MPI_Op op) const {
    check(MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, op, comm_), "MPI_Allreduce");
    return x;
  }
  std::string all_bytes(const std::string& mine) const {
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[static_cast<std::size_t>(r)] = total;
      total += counts[static_cast<std::size_t>(r)];
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    check(MPI_Allgatherv(mine.data(), n, MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR, comm_), "MPI_Allgatherv");
    return all;
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace chempp::mpi
