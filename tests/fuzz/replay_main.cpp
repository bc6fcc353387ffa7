// SPDX-License-Identifier: BSD-3-Clause
// Replay driver: in every ordinary build (GCC or clang, sanitizers or not) all harnesses are
// linked into one executable, `fuzz_replay <harness> <file|dir>...`, which runs the harness on
// each file (or every file of each directory). ctest replays the committed corpus
// (tests/fuzz/corpus/<harness>), so each crashing input found so far stays a regression test.
// Each harness's LLVMFuzzerTestOneInput is renamed chempp_fuzz_<harness> here (CMake).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define CHEMPP_FUZZ_HARNESS(h) extern "C" int chempp_fuzz_##h(const std::uint8_t* data, std::size_t size);
#include "harnesses.inc"
#undef CHEMPP_FUZZ_HARNESS

namespace {
using entry = int (*)(const std::uint8_t*, std::size_t);
struct harness {
  const char* name;
  entry run;
};
#define CHEMPP_FUZZ_HARNESS(h) {#h, &chempp_fuzz_##h},
constexpr harness harnesses[] = {
#include "harnesses.inc"
};
#undef CHEMPP_FUZZ_HARNESS
}  // namespace

int main(int argc, char** argv) {
  entry run = nullptr;
  if (argc >= 2) {
    for (const auto& h : harnesses)
      if (std::string(argv[1]) == h.name) run = h.run;
  }
  if (run == nullptr) {
    std::fprintf(stderr, "usage: fuzz_replay <harness> <file|dir>...; harnesses:");
    for (const auto& h : harnesses) std::fprintf(stderr, " %s", h.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files\n");
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replay: %zu inputs, no crash and no foreign exception\n", files.size());
  return 0;
}
