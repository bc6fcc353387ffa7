// SPDX-License-Identifier: BSD-3-Clause
// Tutorial 01: nucleosynthetic yield tables.
//
//   example_01_yield_tables [tng|alt] [Z] [output.csv]
//
// A one-zone chemical-evolution model needs three yield tables, one per enrichment channel:
// core-collapse supernovae (sn2), AGB stars (agb) and type Ia supernovae (sn1a). chempp ships
// the two sets used by Buck et al. 2025 as JSON ("tng": IllustrisTNG yields, the paper's
// training configuration; "alt": Nomoto 2013 / Karakas & Lugaro 2016 / Thielemann 2003, its
// misspecification test). This program loads one set, prints where each table comes from, and
// for the metallicity closest to Z prints, per initial mass, the IMF-free mass budget of a star:
//
//   sum of net yields  +  remnant fraction  +  unprocessed fraction   (= 1 for SN II and AGB)
//
// and writes the same numbers to a CSV file (default yield_totals_<set>.csv).
#include <chempp/yields.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  namespace y = chempp::yields;
  const std::string name = argc > 1 ? argv[1] : "tng";
  const double z_wanted = argc > 2 ? std::atof(argv[2]) : 0.02;
  const std::string csv_path = argc > 3 ? argv[3] : "yield_totals_" + name + ".csv";

  try {
    // 1. Load a shipped set. The JSON lives in include/chempp/data (installed with the headers);
    //    nothing is cached, so keep the returned object.
    const y::yield_set set = y::shipped_yield_set(name);

    std::ofstream csv(csv_path);
    csv << "set,channel,loader,metallicity,mass_msun,sum_net_yield,remnant_fraction,"
           "unprocessed_fraction,total\n";
    csv.precision(17);

    for (const y::yield_table* table : {&set.sn2, &set.agb, &set.sn1a}) {
      // 2. Provenance travels with every table: paper, DOI, kind of yields, remnant treatment.
      const y::provenance& p = table->source();
      std::cout << "== " << y::to_string(table->kind()) << " (CHEMPY loader " << p.loader << ")\n"
                << "   reference : " << p.reference << "\n"
                << "   doi       : " << (p.doi.empty() ? "-" : p.doi) << "\n"
                << "   yields    : " << p.yield_kind << "\n"
                << "   remnants  : " << p.remnant_treatment << "\n"
                << "   elements  : " << table->elements().size() << ", metallicities:";
      for (double z : table->metallicities()) std::cout << ' ' << z;
      std::cout << "\n";

      // 3. Pick the tabulated metallicity closest to the requested one (the GCE model
      //    interpolates between grids; here we only look at one).
      std::size_t best = 0;
      for (std::size_t i = 1; i < table->size(); ++i) {
        if (std::abs(table->grid(i).metallicity - z_wanted) <
            std::abs(table->grid(best).metallicity - z_wanted)) {
          best = i;
        }
      }
      const y::metallicity_grid& g = table->grid(best);
      std::printf("   tabulated Z = %.6g\n   %8s %14s %12s %12s %10s\n", g.metallicity, "M[Msun]",
                  "sum(net y)", "remnant", "unprocessed", "total");

      // 4. IMF-free totals per initial mass. All quantities are per unit initial stellar mass.
      //    SN II / AGB: the three parts add up to 1 (net yields sum to ~0 for TNG and Karakas,
      //    gross ejecta for Nomoto 2013 leave the rest to the unprocessed part).
      //    SN Ia: CHEMPY's convention stores -M_WD [Msun] as "mass_in_remnants" and yields
      //    normalised to the ejected mass (they sum to 1), so the total is not 1.
      for (std::size_t m = 0; m < g.mass.size(); ++m) {
        double sum_y = 0.0;
        for (std::size_t e = 0; e < table->elements().size(); ++e) sum_y += g.net_yield(m, e);
        const double rem = g.mass_in_remnants(m);
        const double unp = g.unprocessed_mass_in_winds(m);
        std::printf("   %8.4g %14.6g %12.6g %12.6g %10.6f\n", g.mass(m), sum_y, rem, unp,
                    sum_y + rem + unp);
        csv << set.name << ',' << y::to_string(table->kind()) << ',' << p.loader << ','
            << g.metallicity << ',' << g.mass(m) << ',' << sum_y << ',' << rem << ',' << unp << ','
            << sum_y + rem + unp << '\n';
      }
    }
    std::cout << "wrote " << csv_path << "\n";
  } catch (const std::exception& e) {
    std::cerr << "example_01_yield_tables: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
