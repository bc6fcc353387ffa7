// SPDX-License-Identifier: BSD-3-Clause
// main of chempp-infer (and, compiled with CHEMPP_WITH_MPI, chempp-infer-mpi): the work is
// chempp_infer.cpp, compiled once for both.
#include "support/program_main.hpp"

int main(int argc, char** argv) { return chempp_examples::program_main(argc, argv, "chempp-infer", chempp_examples::infer_program); }
