// SPDX-License-Identifier: BSD-3-Clause
// chempp-gce: the paper's one-zone chemical evolution model (CHEMPY reimplementation) as a
// filter for scripts.
//
//   chempp-gce [--yields tng|alt|sn2=NAME,agb=NAME,sn1a=NAME|PATH] [--yields-dir DIR] [--tau-ia GYR]
//              [--threads N] < params.txt > out.txt
// A combination names CHEMPY's loaders (e.g. sn2=CL18_net,agb=Nugrid,sn1a=Seitenzahl) and reads
// CHEMPY's raw yield files from --yields-dir (CHEMPY's input/yields layout).
//
// Input: one parameter set per line, 6 numbers separated by commas and/or spaces:
//   alpha_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T_birth [Gyr]
// Empty lines and lines starting with '#' are copied through unchanged.
// Output: one line per input line: the 8 abundances [C/Fe] [Fe/H] [He/Fe] [Mg/Fe] [N/Fe]
// [Ne/Fe] [O/Fe] [Si/Fe] (dex, full double precision, space separated), or `fail <reason>`
// when CHEMPY would fail (sfr_below_5pct_of_mean, negative_mass), or
// `error line N: <message>` for a malformed or out-of-range line (other lines still run; the
// exit status is then 1). Options: --yields picks a shipped yield set ("tng", default; "alt") or
// a JSON yield-set file; --tau-ia sets the SN Ia minimum delay (default 0.04 Gyr, as the paper's
// code ran); --threads runs lines in parallel (default 1).
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chempp/gce.hpp"
#include "chempp/yields/combination.hpp"
#include "support/gce_line.hpp"
#include "chempp/yields/json_io.hpp"
#include "chempp/yields/shipped.hpp"
#include "support/cli.hpp"

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: chempp-gce [--yields tng|alt|sn2=NAME,agb=NAME,sn1a=NAME|FILE.json] [--yields-dir DIR]\n"
               "                  [--tau-ia GYR] [--threads N]\n"
               "reads lines 'alpha_IMF log10_N_Ia log10_SFE log10_SFR_peak x_out T' from stdin\n"
               "(comma or space separated) and writes '[C/Fe] [Fe/H] [He/Fe] [Mg/Fe] [N/Fe] "
               "[Ne/Fe] [O/Fe] [Si/Fe]'\nor 'fail <reason>' per line to stdout.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string yields = "tng", yields_dir;
  double tau = 0.04;
  unsigned threads = 1;
  try {
    const chempp_examples::cli cli(argc, argv,
                                   "usage: chempp-gce [--yields tng|alt|sn2=NAME,agb=NAME,sn1a=NAME|FILE.json] [--yields-dir DIR]\n"
               "                  [--tau-ia GYR] [--threads N]\n"
                                   "reads lines 'alpha_IMF log10_N_Ia log10_SFE log10_SFR_peak x_out T' from stdin\n"
                                   "(comma or space separated) and writes '[C/Fe] [Fe/H] [He/Fe] [Mg/Fe] [N/Fe] "
                                   "[Ne/Fe] [O/Fe] [Si/Fe]'\nor 'fail <reason>' per line to stdout.",
                                   {"--yields", "--yields-dir", "--tau-ia", "--threads"});
    if (cli.help()) return 0;
    yields = cli.text("--yields", yields);
    yields_dir = cli.text("--yields-dir");
    tau = cli.number("--tau-ia", tau);
    // more threads than lines are never started (simulate_batch clamps); 4096 bounds a typo
    threads = static_cast<unsigned>(cli.positive("--threads", 1));
    if (threads > 4096) throw std::runtime_error("--threads: at most 4096");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chempp-gce: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  std::optional<chempp::gce::chempy_model> model;
  try {
    auto set = chempp::yields::resolve_yield_set(yields, yields_dir);
    model.emplace(std::move(set), tau);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chempp-gce: %s\n", e.what());
    return 2;
  }

  // Read everything, run the valid lines as one batch, print in input order.
  std::vector<std::string> lines;
  for (std::string line; std::getline(std::cin, line);) lines.push_back(line);
  std::vector<std::string> out(lines.size());
  std::vector<std::array<double, 6>> theta;
  std::vector<std::size_t> where;
  bool any_error = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    const auto first = l.find_first_not_of(" \t\r");
    if (first == std::string::npos || l[first] == '#') {
      out[i] = l;
      continue;
    }
    std::array<double, 6> th{};
    if (auto err = chempp_examples::parse_gce_line(l, th)) {
      out[i] = "error line " + std::to_string(i + 1) + ": " + *err;
      any_error = true;
      continue;
    }
    try {
      chempp::gce::chempy_model::check(chempp::gce::chempy_parameters::from_theta(th));
    } catch (const chempp::invalid_argument& e) {
      out[i] = "error line " + std::to_string(i + 1) + ": " + e.what();
      any_error = true;
      continue;
    }
    theta.push_back(th);
    where.push_back(i);
  }
  const auto res = chempp::gce::simulate_batch(*model, theta, threads);
  char buf[32];
  for (std::size_t k = 0; k < res.size(); ++k) {
    std::string s;
    if (res[k].ok()) {
      for (std::size_t e = 0; e < 8; ++e) {
        std::snprintf(buf, sizeof buf, "%.17g", res[k].abundances[e]);
        if (e > 0) s += ' ';
        s += buf;
      }
    } else {
      s = std::string("fail ") + chempp::gce::to_string(res[k].status);
    }
    out[where[k]] = std::move(s);
  }
  for (const auto& s : out) std::cout << s << '\n';
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (out[i].rfind("error line ", 0) == 0) std::cerr << "chempp-gce: " << out[i] << '\n';
  }
  return any_error ? 1 : 0;
}
