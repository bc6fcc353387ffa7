// SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Shared by the fuzz harnesses (tests/fuzz/fuzz_*.cpp). Each harness defines
// LLVMFuzzerTestOneInput and feeds the input to one reader through `guarded`, which lets only
// chempp's own exceptions pass: any other exception (nlohmann's, std::bad_alloc, …) escapes
// LLVMFuzzerTestOneInput, which libFuzzer (and the replay driver) report as a failure. Crashes,
// hangs, leaks and undefined behaviour are caught by libFuzzer with ASan + UBSan.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "chempp/core/error.hpp"

namespace chempp_fuzz {

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

/// Runs f; swallows chempp::error (the documented outcome of bad input), lets anything else out.
template <class F>
int guarded(F&& f) {
  try {
    f();
  } catch (const chempp::error&) {
  }
  return 0;
}

/// A private scratch directory for harnesses whose readers take files (made once per process,
/// removed with everything in it when the process exits normally).
inline const std::filesystem::path& scratch_dir() {
  struct owned_dir {
    std::filesystem::path path;
    owned_dir() : path(std::filesystem::temp_directory_path() / ("chempp-fuzz-" + std::to_string(::getpid()))) {
      std::filesystem::create_directories(path);
    }
    ~owned_dir() {
      std::error_code ec;  // (best effort: a destructor must not throw)
      std::filesystem::remove_all(path, ec);
    }
    owned_dir(const owned_dir&) = delete;
    owned_dir& operator=(const owned_dir&) = delete;
  };
  static const owned_dir dir;
  return dir.path;
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace chempp_fuzz
