// SPDX-License-Identifier: BSD-3-Clause
// main of chempp-train (and, compiled with CHEMPP_WITH_MPI, chempp-train-mpi): the work is
// chempp_train.cpp, compiled once for both.
#include "support/program_main.hpp"

int main(int argc, char** argv) { return chempp_examples::program_main(argc, argv, "chempp-train", chempp_examples::train_program); }
