// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// JSON weight files for `mlp` (frugally-deep style: the file carries a test input and its
/// expected output, checked on load).
///
/// Format (all matrices row-major nested arrays, PyTorch layout):
/// ```
/// { "format": "chempp.mlp", "version": 1, "scalar": "float",            (optional)
///   "description": "...", "source": "...",                             (optional, text)
///   "input_names": [...], "output_names": [...],                       (optional)
///   "layers": [ {"name": "l1", "shape": [out, in], "weight": [[...] x out],
///                "bias": [... out], "activation": "tanh"}, ... ],
///   "input_standardization":  {"mean": [...], "scale": [...]},          (optional: identity)
///   "output_standardization": {"mean": [...], "scale": [...]},          (optional: identity)
///   "test": {"input": [[n_in] ...], "expected_output": [[n_out] ...],
///            "tolerance": 1e-10} }                                      (optional)
/// ```
/// The paper's converted emulator (`sbi-chempy/emulator_5sigma_uni_prior_weights.json`: only
/// `layers`, raw inputs/outputs) is a valid file of this format. Every problem raises
/// `chempp::file_error` naming the file and the JSON field (e.g. `layers[1].weight[3]`),
/// including an unknown key (a misspelt `input_standardisation` is not silently ignored), a
/// duplicate key, and declared shapes that the weight arrays do not hold (read through
/// `chempp/io/json.hpp`).

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/io/json.hpp"
#include "chempp/nn/mlp.hpp"

namespace chempp::nn {

/// Descriptive data stored beside the weights.
struct mlp_metadata {
  std::string description;               ///< free text (training data, date, ...)
  std::vector<std::string> input_names;  ///< optional, one per input
  std::vector<std::string> output_names; ///< optional, one per output
};

namespace detail {

template <class T>
nlohmann::json vector_to_json(const vector<T>& v) {
  auto a = nlohmann::json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(static_cast<double>(v[i]));
  return a;
}

}  // namespace detail

/// Serialises `net` to JSON. `test_input` (n_in x k, raw units; default: the input
/// standardiser's mean and mean +- scale) is stored with the network's output on it.
template <class T>
nlohmann::json to_json(const mlp<T>& net, const mlp_metadata& meta = {},
                       std::optional<matrix<double>> test_input = std::nullopt) {
  nlohmann::json j;
  j["format"] = "chempp.mlp";
  j["version"] = 1;
  j["scalar"] = std::is_same_v<T, float> ? "float" : "double";
  j["description"] = meta.description;
  if (!meta.input_names.empty()) j["input_names"] = meta.input_names;
  if (!meta.output_names.empty()) j["output_names"] = meta.output_names;
  auto layers = nlohmann::json::array();
  for (std::size_t l = 0; l < net.num_layers(); ++l) {
    const auto lay = net.layer(l);
    nlohmann::json jl;
    jl["name"] = "l" + std::to_string(l + 1);
    jl["shape"] = {lay.output_size(), lay.input_size()};
    auto w = nlohmann::json::array();
    for (Eigen::Index o = 0; o < lay.weight().rows(); ++o) {
      auto row = nlohmann::json::array();
      for (Eigen::Index i = 0; i < lay.weight().cols(); ++i) row.push_back(static_cast<double>(lay.weight()(o, i)));
      w.push_back(row);
    }
    jl["weight"] = w;
    jl["bias"] = detail::vector_to_json<T>(lay.bias());
    jl["activation"] = std::string(to_string(net.layer_activation(l)));
    layers.push_back(jl);
  }
  j["layers"] = layers;
  j["input_standardization"] = {{"mean", detail::vector_to_json(net.input_scaling().mean)},
                                {"scale", detail::vector_to_json(net.input_scaling().scale)}};
  j["output_standardization"] = {{"mean", detail::vector_to_json(net.output_scaling().mean)},
                                 {"scale", detail::vector_to_json(net.output_scaling().scale)}};
  matrix<double> tin;
  if (test_input) {
    tin = *test_input;
  } else {
    const auto m = net.input_scaling().mean.template cast<double>();
    const auto s = net.input_scaling().scale.template cast<double>();
    tin.resize(m.size(), 3);
    tin.col(0) = m;
    tin.col(1) = m + s;
    tin.col(2) = m - s;
  }
  const matrix<T> tout = net.predict(tin.cast<T>());
  auto ji = nlohmann::json::array(), jo = nlohmann::json::array();
  for (Eigen::Index c = 0; c < tin.cols(); ++c) {
    ji.push_back(detail::vector_to_json<double>(tin.col(c)));
    jo.push_back(detail::vector_to_json<double>(tout.col(c).template cast<double>()));
  }
  j["test"] = {{"input", ji}, {"expected_output", jo},
               {"tolerance", std::is_same_v<T, float> ? 1e-5 : 1e-10}};
  return j;
}

/// Builds an `mlp<T>` from JSON (format above), checking every field and, if present, the
/// stored test case (max |y - expected| / max(1, |expected|) <= tolerance; at least 1e-4 when
/// loading into float). `source` names the file in error messages.
template <class T = double>
mlp<T> mlp_from_json(const nlohmann::json& j, const std::string& source = "<json>",
                     mlp_metadata* meta = nullptr) {
  const io::json_reader rd{source};
  rd.check_keys(j, "", {"format", "version", "scalar", "description", "source", "input_names", "output_names", "layers",
                        "input_standardization", "output_standardization", "test"});
  if (const auto* f = rd.optional(j, "format", ""); f != nullptr && rd.string(*f, "format") != "chempp.mlp")
    rd.fail("format", "unknown format " + f->dump() + " (expected \"chempp.mlp\")");
  if (const auto* v = rd.optional(j, "version", ""); v != nullptr && rd.integer(*v, "version") != 1)
    rd.fail("version", "unsupported version " + v->dump() + " (this reader reads version 1)");
  if (const auto* sc = rd.optional(j, "scalar", "")) {
    const auto s = rd.string(*sc, "scalar");
    if (s != "float" && s != "double") rd.fail("scalar", "expected \"float\" or \"double\", got \"" + s + "\"");
  }
  const auto& jl = rd.member(j, "layers", "");
  if (!jl.is_array() || jl.empty()) rd.fail("layers", "expected a non-empty array");
  // every declared size is checked against the arrays that hold the numbers before the network
  // is allocated
  std::vector<std::size_t> sizes;
  std::vector<activation> acts;
  std::vector<std::vector<std::vector<double>>> weights;
  std::vector<std::vector<double>> biases;
  for (std::size_t l = 0; l < jl.size(); ++l) {
    const std::string p = "layers[" + std::to_string(l) + "]";
    rd.check_keys(jl[l], p, {"name", "shape", "weight", "bias", "activation"});
    const auto& sh = rd.member(jl[l], "shape", p);
    if (!sh.is_array() || sh.size() != 2) rd.fail(p + ".shape", "expected [out, in] with positive integers");
    const auto out = static_cast<std::size_t>(rd.integer(sh[0], p + ".shape[0]", 1, std::numeric_limits<std::int32_t>::max()));
    const auto in = static_cast<std::size_t>(rd.integer(sh[1], p + ".shape[1]", 1, std::numeric_limits<std::int32_t>::max()));
    if (l == 0) sizes.push_back(in);
    else if (sizes.back() != in)
      rd.fail(p + ".shape", "input size " + std::to_string(in) + " does not match previous output size " +
                                std::to_string(sizes.back()));
    sizes.push_back(out);
    const auto act_name = rd.string(rd.member(jl[l], "activation", p), p + ".activation");
    try {
      acts.push_back(activation_from_string(act_name));
    } catch (const invalid_argument& e) {
      rd.fail(p + ".activation", e.what());
    }
    weights.push_back(rd.rows(rd.member(jl[l], "weight", p), p + ".weight", in));
    if (weights.back().size() != out)
      rd.fail(p + ".weight", "expected " + std::to_string(out) + " rows, got " + std::to_string(weights.back().size()));
    biases.push_back(rd.numbers(rd.member(jl[l], "bias", p), p + ".bias", out));
  }
  mlp<T> net(sizes, acts);
  for (std::size_t l = 0; l < jl.size(); ++l) {
    auto lay = net.layer(l);
    const auto& w = weights[l];
    for (std::size_t o = 0; o < w.size(); ++o)
      for (std::size_t i = 0; i < sizes[l]; ++i)
        lay.weight()(static_cast<Eigen::Index>(o), static_cast<Eigen::Index>(i)) = static_cast<T>(w[o][i]);
    for (std::size_t o = 0; o < biases[l].size(); ++o) lay.bias()[static_cast<Eigen::Index>(o)] = static_cast<T>(biases[l][o]);
  }
  const auto read_scaling = [&](const char* key, standardizer<T>& s, std::size_t n) {
    const auto* js = rd.optional(j, key, "");
    if (js == nullptr) return;
    const std::string p = key;
    rd.check_keys(*js, p, {"mean", "scale"});
    const auto m = rd.numbers(rd.member(*js, "mean", p), p + ".mean", n);
    const auto sc = rd.numbers(rd.member(*js, "scale", p), p + ".scale", n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!(sc[i] > 0.0)) rd.fail(p + ".scale[" + std::to_string(i) + "]", "must be positive");
      s.mean[static_cast<Eigen::Index>(i)] = static_cast<T>(m[i]);
      s.scale[static_cast<Eigen::Index>(i)] = static_cast<T>(sc[i]);
    }
  };
  read_scaling("input_standardization", net.input_scaling(), sizes.front());
  read_scaling("output_standardization", net.output_scaling(), sizes.back());
  mlp_metadata md;
  if (const auto* d = rd.optional(j, "description", "")) md.description = rd.string(*d, "description");
  if (const auto* d = rd.optional(j, "source", "")) (void)rd.string(*d, "source");  // provenance text
  if (const auto* n = rd.optional(j, "input_names", "")) {
    md.input_names = rd.strings(*n, "input_names");
    if (md.input_names.size() != sizes.front())
      rd.fail("input_names", "expected one name per input (" + std::to_string(sizes.front()) + ")");
  }
  if (const auto* n = rd.optional(j, "output_names", "")) {
    md.output_names = rd.strings(*n, "output_names");
    if (md.output_names.size() != sizes.back())
      rd.fail("output_names", "expected one name per output (" + std::to_string(sizes.back()) + ")");
  }
  if (meta != nullptr) *meta = std::move(md);
  if (const auto* jt = rd.optional(j, "test", "")) {
    rd.check_keys(*jt, "test", {"input", "expected_output", "tolerance"});
    const auto tin = rd.rows(rd.member(*jt, "input", "test"), "test.input", sizes.front());
    const auto tout = rd.rows(rd.member(*jt, "expected_output", "test"), "test.expected_output", sizes.back());
    if (tin.size() != tout.size() || tin.empty())
      rd.fail("test.expected_output", "needs one row per test input (" + std::to_string(tin.size()) + ")");
    double tol = 1e-10;
    if (const auto* t = rd.optional(*jt, "tolerance", "test")) {
      tol = rd.number(*t, "test.tolerance");
      if (!(tol >= 0.0)) rd.fail("test.tolerance", "must be non-negative");
    }
    if constexpr (std::is_same_v<T, float>) tol = std::max(tol, 1e-4);
    matrix<T> x(static_cast<Eigen::Index>(sizes.front()), static_cast<Eigen::Index>(tin.size()));
    for (std::size_t c = 0; c < tin.size(); ++c)
      for (std::size_t f = 0; f < sizes.front(); ++f)
        x(static_cast<Eigen::Index>(f), static_cast<Eigen::Index>(c)) = static_cast<T>(tin[c][f]);
    const matrix<T> y = net.predict(x);
    for (std::size_t c = 0; c < tout.size(); ++c)
      for (std::size_t o = 0; o < sizes.back(); ++o) {
        const double got = static_cast<double>(y(static_cast<Eigen::Index>(o), static_cast<Eigen::Index>(c)));
        const double want = tout[c][o];
        if (!(std::abs(got - want) <= tol * std::max(1.0, std::abs(want))))
          rd.fail("test.expected_output[" + std::to_string(c) + "][" + std::to_string(o) + "]",
                  "network gives " + chempp::detail::format_value(got) + ", file expects " + chempp::detail::format_value(want) +
                      " (tolerance " + chempp::detail::format_value(tol) + ")");
      }
  }
  return net;
}

/// Writes `net` as JSON (format above, test case included) to `path`; throws `file_error`.
template <class T>
void save_mlp(const mlp<T>& net, const std::filesystem::path& path, const mlp_metadata& meta = {},
              std::optional<matrix<double>> test_input = std::nullopt) {
  std::ofstream out(path);
  if (!out) throw file_error(path.string(), 0, "", "cannot open for writing");
  out << to_json(net, meta, std::move(test_input)).dump(1) << '\n';
  if (!out) throw file_error(path.string(), 0, "", "write failed");
}

/// Reads a JSON weight file (format above) into an `mlp<T>`; throws `file_error` naming the
/// file and field on any problem, including a failed embedded test case.
template <class T = double>
mlp<T> load_mlp(const std::filesystem::path& path, mlp_metadata* meta = nullptr) {
  const auto j = io::read_json_file(path);
  return io::rethrow_foreign(path.string(), [&] { return mlp_from_json<T>(j, path.string(), meta); });
}

}  // namespace chempp::nn
