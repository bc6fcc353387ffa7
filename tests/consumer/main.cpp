// SPDX-License-Identifier: BSD-3-Clause
#include <chempp/chempp.hpp>

#include <cstdio>

int main() {
  constexpr chempp::element fe("Fe");
  static_assert(fe.atomic_number() == 26);
  std::printf("chempp consumer: %s mass %.3f amu, log eps %.2f\n", fe.symbol().data(),
              fe.atomic_mass(), fe.solar_logeps());
  return 0;
}
