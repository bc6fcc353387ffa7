// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// `main` of chempp-train / chempp-infer and their MPI builds (compiled with CHEMPP_WITH_MPI and
/// linked to chempp::mpi): the processes, then the program's work, and an escaping exception
/// printed once with its rank; under MPI the other ranks are ended (MPI_Abort), since they may
/// wait in a collective.
#include <exception>
#include <iostream>
#include <string>

#include "support/processes.hpp"
#ifdef CHEMPP_WITH_MPI
#include "chempp/mpi/communicator.hpp"
#endif

namespace chempp_examples {

template <class Work>
int program_main(int argc, char** argv, const char* name, Work work) {
#ifdef CHEMPP_WITH_MPI
  chempp::mpi::session mpi_session(argc, argv);
  const chempp::mpi::communicator comm;
  program_processes::collectives c;
  c.sum = [&comm](std::uint64_t x) { return comm.sum(x); };
  c.min = [&comm](double x) { return comm.min(x); };
  c.all_strings = [&comm](const std::vector<std::string>& v) { return comm.all_strings(v); };
  c.first_error = [&comm](const process_error& e) { return comm.first_error(e); };
  const program_processes procs(comm.split(), std::move(c));
#else
  const program_processes procs;
#endif
  try {
    return work(argc, argv, procs);
  } catch (const std::exception& e) {
    std::cerr << name << ": error" << (procs.size() > 1 ? " (rank " + std::to_string(procs.rank()) + ")" : std::string()) << ": " << e.what()
              << '\n';
#ifdef CHEMPP_WITH_MPI
    if (procs.size() > 1) comm.abort(1);
#endif
    return 1;
  }
}

}  // namespace chempp_examples
