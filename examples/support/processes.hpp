// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The processes a program in examples/ runs on: the MPI ranks (the *-mpi programs) or this one
/// process. chempp-train and chempp-infer are compiled once (CMake object libraries) and linked
/// into two programs each, whose `main`s (support/program_main.hpp) differ only in how they fill
/// this: the collectives are functions here, so the work never names MPI.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/processes.hpp"

namespace chempp_examples {

/// An error found on some process: (key, message); the smallest key over all processes wins.
using process_error = std::optional<std::pair<std::uint64_t, std::string>>;

class program_processes {
 public:
  /// The collectives over all processes; each is called by every process in the same order.
  struct collectives {
    std::function<void(std::span<std::int64_t>)> sum_in_place;  ///< element-wise int64 sums
    std::function<std::uint64_t(std::uint64_t)> sum;
    std::function<double(double)> min;
    std::function<std::vector<std::string>(const std::vector<std::string>&)> all_strings;  ///< every process's strings
    std::function<std::optional<std::string>(const process_error&)> first_error;
  };

  /// One process: every collective is the identity.
  program_processes() = default;
  /// Process `rank` of `size` (MPI ranks), with its collectives; `mpi` enables the fault injection
  /// of tests/programs/mpi_survey.sh (CHEMPP_TEST_KILL_RANK).
  program_processes(int rank, int size, collectives c, bool mpi) : c_(std::move(c)), rank_(rank), size_(size), mpi_(mpi) {}

  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  [[nodiscard]] bool root() const noexcept { return rank_ == 0; }
  [[nodiscard]] bool mpi() const noexcept { return mpi_; }
  /// The library's view (gce::simulate_batch, the population engine's sums over processes).
  [[nodiscard]] chempp::process_split split() const {
    return {static_cast<std::size_t>(rank_), static_cast<std::size_t>(size_), c_.sum_in_place};
  }
  /// The engine's hook (empty on one process).
  [[nodiscard]] std::function<void(std::span<std::int64_t>)> summer() const { return c_.sum_in_place; }
  [[nodiscard]] std::size_t sum(std::size_t x) const { return c_.sum ? static_cast<std::size_t>(c_.sum(x)) : x; }
  [[nodiscard]] double min(double x) const { return c_.min ? c_.min(x) : x; }
  [[nodiscard]] std::vector<std::string> all_strings(const std::vector<std::string>& v) const {
    return c_.all_strings ? c_.all_strings(v) : v;
  }
  /// The error with the smallest key over all processes (the same on every one), if any.
  [[nodiscard]] std::optional<std::string> first_error(const process_error& e) const {
    if (c_.first_error) return c_.first_error(e);
    return e ? std::optional<std::string>(e->second) : std::nullopt;
  }

 private:
  collectives c_;
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;
};

/// The programs' work (examples/chempp_train.cpp, chempp_infer.cpp): exit status 0 or 1; an
/// exception escapes to the caller (program_main), which reports it and ends the other ranks.
int train_program(int argc, char** argv, const program_processes& procs);
int infer_program(int argc, char** argv, const program_processes& procs);

}  // namespace chempp_examples
