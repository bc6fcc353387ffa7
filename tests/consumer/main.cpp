// SPDX-License-Identifier: BSD-3-Clause
// A downstream program: an element constant at compile time, and the GCE model with the shipped
// TNG yield tables, found at run time (chempp::yields::shipped_data_dir) — also after the
// installed prefix was moved.
#include <chempp/chempp.hpp>

#include <array>
#include <cstdio>

int main() {
  constexpr chempp::element fe("Fe");
  static_assert(fe.atomic_number() == 26);
  std::printf("chempp consumer: %s mass %.3f amu, log eps %.2f\n", fe.symbol().data(),
              fe.atomic_mass(), fe.solar_logeps());
  const chempp::gce::chempy_model model(chempp::yields::shipped_yield_set("tng"));
  auto ws = model.make_workspace();
  const std::array<double, 6> theta{-2.3, -2.89, -0.3, 0.55, 0.5, 8.0};
  const auto r = model(theta, ws);
  if (!r.ok()) return 1;
  std::printf("chempp consumer: fiducial [Fe/H] = %.6f with the yields in %s\n", r.abundances[1],
              chempp::yields::shipped_data_dir().string().c_str());
  return 0;
}
