#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Paired comparison of the emulator's batch kernel (`nn::simd_mlp`) at two git revisions.

Separate benchmark runs on a shared or virtual machine drift (docs/kernels.md: 1.4x on the
project's VM), so a change of a few per cent cannot be seen by running two builds one after the
other. This script copies the `simd_mlp` class of `include/chempp/nn/simd_forward.hpp` at each
revision under its own name into one program (against the other headers of the working tree),
calls the two alternately on the same batch of the paper-shaped emulator (6 -> 100 -> 40 -> 9,
tanh; the paper's weights when ../shared is beside the checkout, else random ones), and prints
per side the minimum and median time, then the median of the per-round ratios new / old with
its quartiles: a slow minute slows both halves of a round. It also says whether the two sides
gave the same output bits.

    python3 benchmarks/scripts/paired_emulator.py --old 5150ec1 --new HEAD --type float --batch 100000

Needs g++ (C++20), Eigen and xsimd; compiles with -O3 -march=native -ffp-contract=off, the
flags of the library's own targets. docs/kernels.md (eighth session) quotes its figures.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HARNESS = r"""
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include "emulator_weights.hpp"
#include "side_old.hpp"
#include "side_new.hpp"
namespace nn = chempp::nn;
using T = VALUE_T;
template <class K> double run(const K& k, const T* x, T* y, std::size_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  k(x, y, n);
  __asm__ volatile("" : : "r"(y) : "memory");
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
int main(int argc, char** argv) {
  const int rounds = std::atoi(argv[1]);
  const std::size_t n = std::strtoull(argv[2], nullptr, 10);
  const auto net = chempp::bench::paper_emulator().cast<T>();
  const nn::simd_mlp_old<T> k_old(net);
  const nn::simd_mlp_new<T> k_new(net);
  std::vector<T> x(n * 6), y_old(n * 9), y_new(n * 9);
  std::mt19937_64 rng(7);  // the inputs of bench_emulator
  std::normal_distribution<double> nd(0.0, 1.0);
  const double mean[6] = {-2.3, -2.89, -0.3, 0.55, 0.5, 7.4}, sd[6] = {0.3, 0.3, 0.3, 0.1, 0.1, 3.7};
  for (std::size_t j = 0; j < n; ++j)
    for (int f = 0; f < 6; ++f) x[j * 6 + f] = T(mean[f] + sd[f] * nd(rng));
  std::vector<double> t_old, t_new, ratio;
  for (int r = 0; r < rounds; ++r) {
    t_old.push_back(run(k_old, x.data(), y_old.data(), n));
    t_new.push_back(run(k_new, x.data(), y_new.data(), n));
    ratio.push_back(t_new.back() / t_old.back());
  }
  std::sort(t_old.begin(), t_old.end());
  std::sort(t_new.begin(), t_new.end());
  std::sort(ratio.begin(), ratio.end());
  const auto r = std::size_t(rounds);
  std::printf("%s, batch %zu, %d rounds (%s)\n", sizeof(T) == 4 ? "float" : "double", n, rounds,
              chempp::bench::paper_emulator_source());
  std::printf("old: min %.3f ms, median %.3f ms\n", t_old[0], t_old[r / 2]);
  std::printf("new: min %.3f ms, median %.3f ms\n", t_new[0], t_new[r / 2]);
  std::printf("new / old time, median of the round ratios %.3f [quartiles %.3f-%.3f]\n", ratio[r / 2], ratio[r / 4],
              ratio[3 * r / 4]);
  std::printf("output bits %s\n", y_old == y_new ? "identical" : "DIFFER");
}
"""


def side(repo, rev, name):
    src = subprocess.run(["git", "-C", repo, "show", f"{rev}:include/chempp/nn/simd_forward.hpp"],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"template <class T, class Arch = xsimd::default_arch>\nclass simd_mlp \{", src)
    if m is None:
        sys.exit(f"paired_emulator: no simd_mlp class in {rev}:include/chempp/nn/simd_forward.hpp")
    end = src.index("}  // namespace chempp::nn", m.start())
    body = re.sub(r"\bsimd_mlp\b", f"simd_mlp_{name}", src[m.start():end])
    return ('#pragma once\n#include "chempp/nn/simd_forward.hpp"\nnamespace chempp::nn {\n' + body + "}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="git revision of the baseline")
    ap.add_argument("--new", default="HEAD", help="git revision of the change (default HEAD)")
    ap.add_argument("--type", choices=["float", "double"], default="float")
    ap.add_argument("--batch", type=int, default=100000, help="samples per call (default 1e5)")
    ap.add_argument("--rounds", type=int, default=40, help="rounds of one call per side (default 40)")
    a = ap.parse_args()
    if a.batch < 1 or a.rounds < 1:
        sys.exit("paired_emulator: --batch and --rounds must be at least 1")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as d:
        for rev, name in ((a.old, "old"), (a.new, "new")):
            with open(os.path.join(d, f"side_{name}.hpp"), "w") as f:
                f.write(side(repo, rev, name))
        cpp = os.path.join(d, "paired.cpp")
        with open(cpp, "w") as f:
            f.write(HARNESS)
        exe = os.path.join(d, "paired")
        # emulator_weights.hpp finds ../shared from its own path: include it by absolute path
        subprocess.run(["g++", "-O3", "-DNDEBUG", "-ffp-contract=off", "-march=native", "-std=c++20",
                        f"-DVALUE_T={a.type}", "-I", d, "-I", os.path.join(repo, "include"),
                        "-I", os.path.join(repo, "benchmarks"), "-isystem", "/usr/include/eigen3", cpp, "-o", exe],
                       check=True)
        subprocess.run([exe, str(a.rounds), str(a.batch)], check=True)


if __name__ == "__main__":
    main()
