// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Command-line parsing shared by the programs in examples/ (not part of the library): options
/// `--name VALUE` and switches `--name`, declared up front, so every program rejects an
/// unknown option, a missing value and a malformed number the same way, naming the option.
///
///   chempp_examples::cli cli(argc, argv, "usage: prog --model DIR [--seed N]",
///                            {"--model", "--seed"}, {"--quiet"});
///   if (cli.help()) return 0;   // --help / -h printed the usage
///   const auto seed = cli.count("--seed", 1);
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace chempp_examples {

class cli {
 public:
  /// Parses argv. \throws std::runtime_error naming an unknown option or a missing value.
  cli(int argc, char** argv, std::string usage, std::initializer_list<std::string> options,
      std::initializer_list<std::string> switches = {})
      : usage_(std::move(usage)), options_(options), switches_(switches) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        help_ = true;
        std::cout << usage_ << '\n';
        return;
      }
      if (switches_.count(a) != 0) {
        values_[a].push_back("");
      } else if (options_.count(a) != 0) {
        if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
        values_[a].push_back(argv[++i]);
      } else {
        throw std::runtime_error("unknown option " + a + " (see --help)");
      }
    }
  }

  /// True when --help or -h was given (the usage is then printed and nothing else parsed).
  [[nodiscard]] bool help() const { return help_; }
  /// The option (or switch) was given.
  [[nodiscard]] bool has(const std::string& name) const { return values_.count(name) != 0; }

  /// The option's text (its last occurrence), or `fallback`.
  [[nodiscard]] std::string text(const std::string& name, std::string fallback = "") const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
  }
  /// Every occurrence of a repeatable option, in order (empty when not given).
  [[nodiscard]] std::vector<std::string> all(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }
  /// The option's text. \throws std::runtime_error when it was not given.
  [[nodiscard]] std::string required(const std::string& name) const {
    if (!has(name)) throw std::runtime_error(name + " is required (see --help)");
    return text(name);
  }

  /// A non-negative integer (all of the text), or `fallback`.
  [[nodiscard]] std::uint64_t count(const std::string& name, std::uint64_t fallback) const {
    if (!has(name)) return fallback;
    const std::string s = text(name);
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || s[0] == '+' || end != s.c_str() + s.size() || errno == ERANGE)
      throw std::runtime_error(name + ": '" + s + "' is not a non-negative integer");
    return v;
  }
  /// A positive integer, or `fallback`.
  [[nodiscard]] std::uint64_t positive(const std::string& name, std::uint64_t fallback) const {
    const auto v = count(name, fallback);
    if (v == 0) throw std::runtime_error(name + " must be at least 1");
    return v;
  }
  /// A finite number (all of the text), or `fallback`.
  [[nodiscard]] double number(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    return parse_number(name, text(name));
  }
  /// Comma-separated finite numbers, exactly `n` of them.
  [[nodiscard]] std::vector<double> numbers(const std::string& name, std::size_t n) const {
    const std::string s = required(name);
    std::vector<double> v;
    std::size_t start = 0;
    for (;;) {
      const auto comma = s.find(',', start);
      v.push_back(parse_number(name, s.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (v.size() != n) throw std::runtime_error(name + ": needs " + std::to_string(n) + " comma-separated numbers, got '" + s + "'");
    return v;
  }
  /// --threads N (default: the hardware's), at least 1.
  [[nodiscard]] unsigned threads() const {
    return static_cast<unsigned>(positive("--threads", std::max(1u, std::thread::hardware_concurrency())));
  }
  /// The option's text, which must be one of `allowed`.
  [[nodiscard]] std::string choice(const std::string& name, const std::string& fallback,
                                   std::initializer_list<std::string> allowed) const {
    const std::string v = text(name, fallback);
    std::string list;
    for (const auto& a : allowed) {
      if (a == v) return v;
      list += (list.empty() ? "" : "|") + a;
    }
    throw std::runtime_error(name + " must be " + list + " (got '" + v + "')");
  }

 private:
  static double parse_number(const std::string& name, const std::string& s) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !(v - v == 0.0))
      throw std::runtime_error(name + ": '" + s + "' is not a finite number");
    return v;
  }

  std::string usage_;
  std::set<std::string> options_, switches_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

}  // namespace chempp_examples
