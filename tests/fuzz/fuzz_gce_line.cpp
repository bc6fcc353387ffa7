// SPDX-License-Identifier: BSD-3-Clause
// Fuzz harness: one chempp-gce input line, parsed and (when it parses) checked against the GCE
// model's domain, as the program does.
#include "chempp/gce/chempy_model.hpp"
#include "fuzz_support.hpp"
#include "support/gce_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return chempp_fuzz::guarded([&] {
    std::array<double, 6> th{};
    if (!chempp_examples::parse_gce_line(chempp_fuzz::as_string(data, size), th)) {
      const auto p = chempp::gce::chempy_parameters::from_theta(th);
      // the domain predicate and the throwing check must agree
      bool threw = false;
      try {
        chempp::gce::chempy_model::check(p);
      } catch (const chempp::invalid_argument&) {
        threw = true;
      }
      if (threw == chempp::gce::chempy_model::in_domain(p)) std::abort();
    }
  });
}
