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
  /// The collectives over all processes beyond the library's int64 sums (`process_split::sum`);
  /// each is called by every process in the same order.
  struct collectives {
    std::function<std::uint64_t(std::uint64_t)> sum;
    std::function<double(double)> min;
    std::function<std::vector<std::string>(const std::vector<std::string>&)> all_strings;  ///< every process's strings
    std::function<std::optional<std::string>(const process_error&)> first_error;
  };

  /// One process: every collective is the identity.
  program_processes() = default;
  /// The MPI ranks: `split` from chempp::mpi::communicator::split(), with the other collectives;
  /// it also enables the fault injection of tests/programs/mpi_survey.sh (CHEMPP_TEST_KILL_RANK).
  program_processes(chempp::process_split split, collectives c) : split_(std::move(split)), c_(std::move(c)), mpi_(true) {}

  [[nodiscard]] int rank() const noexcept { return static_cast<int>(split_.rank); }
  [[nodiscard]] int size() const noexcept { return static_cast<int>(split_.size); }
  [[nodiscard]] bool root() const noexcept { return split_.rank == 0; }
  [[nodiscard]] bool mpi() const noexcept { return mpi_; }
  /// The library's view (gce::simulate_batch, pipeline::train_bundle).
  [[nodiscard]] const chempp::process_split& split() const noexcept { return split_; }
  /// The population engine's hook (empty on one process).
  [[nodiscard]] std::function<void(std::span<std::int64_t>)> summer() const { return split_.sum; }
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
  chempp::process_split split_;
  collectives c_;
  bool mpi_ = false;
};

/// The programs' work (examples/chempp_train.cpp, chempp_infer.cpp): exit status 0 or 1; an
/// exception escapes to the caller (program_main), which reports it and ends the other ranks.
int train_program(int argc, char** argv, const program_processes& procs);
int infer_program(int argc, char** argv, const program_processes& procs);

}  // namespace chempp_examples
