// SPDX-License-Identifier: BSD-3-Clause
// Placeholder, replaced by the yield-table tutorial.
#include <chempp/chempp.hpp>
int main() { return 0; }
