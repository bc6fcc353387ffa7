// SPDX-License-Identifier: BSD-3-Clause
// Each rank adds 1e16 · (−1)^rank + rank + 1 to an exact sum, the integer forms are summed over
// the ranks (communicator::sum), and rank 0 prints the total: for 2 ranks exactly 3 (a naive
// double sum in another order would lose the small terms next to 1e16).
#include <cstdio>

#include <chempp/core/exact_sum.hpp>
#include <chempp/mpi/communicator.hpp>

int main(int argc, char** argv) {
  const chempp::mpi::session session(argc, argv);
  const chempp::mpi::communicator comm;
  chempp::exact_sum s;
  s.add(comm.rank() % 2 == 0 ? 1e16 : -1e16);
  s.add(comm.rank() + 1.0);
  auto ints = s.to_integers();
  comm.sum(ints);
  const double total = chempp::exact_sum::from_integers(ints).value();
  if (comm.rank() == 0) std::printf("chempp consumer_mpi: %d ranks, exact sum %.17g\n", comm.size(), total);
  return 0;
}
