// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Save/load a conditional MAF as JSON with an embedded self-test (frugally-deep style): the
/// file carries a test input (θ, x) and the log q(θ|x) the saved model gave; `load`/`from_json`
/// recompute it and throw `chempp::file_error` (field "self_test") if it differs by more than
/// 1e-9 relative. Malformed files throw `file_error` naming the offending field.
///
/// Layout (version 1):
///
///     { "format": "chempp.flow.maf", "version": 1,
///       "activation": "tanh", "scale": "softplus",
///       "config": { "features", "context", "hidden", "blocks", "transforms", "permutation",
///                   "n_global", "seed", "condition_first" },
///       "standardization": { "theta_mean", "theta_std", "x_mean", "x_std" },
///       "permutations": [[...], ...],
///       "transforms": [ { "w_in": [[row], ...], "w_ctx", "b_in", "w_hidden": [..], "b_hidden": [..],
///                         "w_out", "b_out" }, ... ],
///       "self_test": { "theta": [[row]...], "x": [[row]...], "log_prob": [...] } }
///
/// Matrices are stored as arrays of rows. Weights outside a mask must be zero (else an error).

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/core/compat_eigen.hpp"
#include "chempp/flow/maf.hpp"

namespace chempp::flow {

namespace internal {

inline nlohmann::json matrix_to_json(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) r.push_back(m(i, j));
    rows.push_back(std::move(r));
  }
  return rows;
}
inline nlohmann::json vector_to_json(const Eigen::VectorXd& v) {
  nlohmann::json a = nlohmann::json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) a.push_back(v[i]);
  return a;
}

/// Reads JSON fields with errors that name the file and the field path.
struct json_reader {
  std::string file;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw file_error(file, 0, field, what);
  }
  const nlohmann::json& at(const nlohmann::json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "missing");
    return j.at(key);
  }
  double number(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_number()) fail(field, "must be a number");
    const double v = j.get<double>();
    if (!std::isfinite(v)) fail(field, "must be finite");
    return v;
  }
  Eigen::Index integer(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_number_integer()) fail(field, "must be an integer");
    return j.get<Eigen::Index>();
  }
  std::string string(const nlohmann::json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, "must be a string");
    return j.get<std::string>();
  }
  Eigen::VectorXd vector(const nlohmann::json& j, const std::string& field, Eigen::Index n) const {
    if (!j.is_array() || static_cast<Eigen::Index>(j.size()) != n)
      fail(field, "must be an array of " + std::to_string(n) + " numbers");
    Eigen::VectorXd v(n);
    for (Eigen::Index i = 0; i < n; ++i)
      v[i] = number(j[static_cast<std::size_t>(i)], field + "[" + std::to_string(i) + "]");
    return v;
  }
  Eigen::MatrixXd matrix(const nlohmann::json& j, const std::string& field, Eigen::Index r, Eigen::Index c) const {
    if (!j.is_array() || static_cast<Eigen::Index>(j.size()) != r)
      fail(field, "must be an array of " + std::to_string(r) + " rows");
    Eigen::MatrixXd m(r, c);
    for (Eigen::Index i = 0; i < r; ++i) {
      const auto& row = j[static_cast<std::size_t>(i)];
      const std::string f = field + "[" + std::to_string(i) + "]";
      if (!row.is_array() || static_cast<Eigen::Index>(row.size()) != c)
        fail(f, "must be a row of " + std::to_string(c) + " numbers");
      for (Eigen::Index k = 0; k < c; ++k) m(i, k) = number(row[static_cast<std::size_t>(k)], f + "[" + std::to_string(k) + "]");
    }
    return m;
  }
  Eigen::MatrixXd rows_any(const nlohmann::json& j, const std::string& field, Eigen::Index c) const {
    if (!j.is_array() || j.empty()) fail(field, "must be a non-empty array of rows");
    return matrix(j, field, static_cast<Eigen::Index>(j.size()), c);
  }
};

}  // namespace internal

/// Serialises `flow` (weights, standardisation, permutations) with a self-test on `n_test`
/// deterministic test pairs (θ drawn around the stored θ mean, x around the x mean).
template <class Act, class Scale>
[[nodiscard]] nlohmann::json to_json(const conditional_maf<Act, Scale>& flow, Eigen::Index n_test = 4) {
  using internal::matrix_to_json;
  using internal::vector_to_json;
  const auto& cfg = flow.config();
  nlohmann::json j;
  j["format"] = "chempp.flow.maf";
  j["version"] = 1;
  j["activation"] = Act::name;
  j["scale"] = Scale::name;
  j["config"] = {{"features", cfg.features}, {"context", cfg.context}, {"hidden", cfg.hidden},
                 {"blocks", cfg.blocks},     {"transforms", cfg.transforms},
                 {"permutation", to_string(cfg.permutation)}, {"n_global", cfg.n_global},
                 {"seed", cfg.seed}, {"condition_first", cfg.condition_first}};
  j["standardization"] = {{"theta_mean", vector_to_json(flow.theta_mean())}, {"theta_std", vector_to_json(flow.theta_std())},
                          {"x_mean", vector_to_json(flow.x_mean())}, {"x_std", vector_to_json(flow.x_std())}};
  j["permutations"] = flow.permutations();
  nlohmann::json ts = nlohmann::json::array();
  for (const auto& m : flow.mades()) {
    nlohmann::json t;
    t["w_in"] = matrix_to_json(m.w_in);
    t["w_ctx"] = matrix_to_json(m.w_ctx);
    t["b_in"] = vector_to_json(m.b_in);
    t["w_hidden"] = nlohmann::json::array();
    t["b_hidden"] = nlohmann::json::array();
    for (std::size_t k = 0; k < m.w_hidden.size(); ++k) {
      t["w_hidden"].push_back(matrix_to_json(m.w_hidden[k]));
      t["b_hidden"].push_back(vector_to_json(m.b_hidden[k]));
    }
    t["w_out"] = matrix_to_json(m.w_out);
    t["b_out"] = vector_to_json(m.b_out);
    ts.push_back(std::move(t));
  }
  j["transforms"] = std::move(ts);
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd th(n_test, flow.features()), x(n_test, flow.context_size());
  for (Eigen::Index i = 0; i < n_test; ++i) {
    for (Eigen::Index k = 0; k < th.cols(); ++k) th(i, k) = flow.theta_mean()[k] + flow.theta_std()[k] * nd(rng);
    for (Eigen::Index k = 0; k < x.cols(); ++k) x(i, k) = flow.x_mean()[k] + flow.x_std()[k] * nd(rng);
  }
  j["self_test"] = {{"theta", matrix_to_json(th)}, {"x", matrix_to_json(x)}, {"log_prob", vector_to_json(flow.log_prob(th, x))}};
  return j;
}

/// Rebuilds a flow from `to_json` output and runs its self-test. `file` names the source in
/// error messages. Throws `file_error` naming the field on any problem.
template <class Flow = sbi_maf>
[[nodiscard]] Flow from_json(const nlohmann::json& j, const std::string& file = "<json>") {
  using Act = typename Flow::activation_type;
  using Scale = typename Flow::scale_type;
  const internal::json_reader rd{file};
  if (rd.string(rd.at(j, "format", ""), "format") != "chempp.flow.maf") rd.fail("format", "must be \"chempp.flow.maf\"");
  if (rd.integer(rd.at(j, "version", ""), "version") != 1) rd.fail("version", "unsupported version (expected 1)");
  if (rd.string(rd.at(j, "activation", ""), "activation") != Act::name)
    rd.fail("activation", std::string("does not match the flow type (expected \"") + Act::name + "\")");
  if (rd.string(rd.at(j, "scale", ""), "scale") != Scale::name)
    rd.fail("scale", std::string("does not match the flow type (expected \"") + Scale::name + "\")");
  const auto& jc = rd.at(j, "config", "");
  maf_config cfg;
  cfg.features = rd.integer(rd.at(jc, "features", "config."), "config.features");
  cfg.context = rd.integer(rd.at(jc, "context", "config."), "config.context");
  cfg.hidden = rd.integer(rd.at(jc, "hidden", "config."), "config.hidden");
  cfg.blocks = rd.integer(rd.at(jc, "blocks", "config."), "config.blocks");
  cfg.transforms = rd.integer(rd.at(jc, "transforms", "config."), "config.transforms");
  cfg.n_global = rd.integer(rd.at(jc, "n_global", "config."), "config.n_global");
  const auto& jcf = rd.at(jc, "condition_first", "config.");
  if (!jcf.is_boolean()) rd.fail("config.condition_first", "must be true or false");
  cfg.condition_first = jcf.get<bool>();
  const auto& js = rd.at(jc, "seed", "config.");
  if (!js.is_number_unsigned() && !js.is_number_integer()) rd.fail("config.seed", "must be an integer");
  cfg.seed = js.get<std::uint64_t>();
  try {
    cfg.permutation = permutation_kind_from_string(rd.string(rd.at(jc, "permutation", "config."), "config.permutation"));
  } catch (const invalid_argument& e) {
    rd.fail("config.permutation", e.what());
  }
  Flow flow;
  try {
    flow = Flow(cfg);
  } catch (const invalid_argument& e) {
    rd.fail("config", e.what());
  }
  const Eigen::Index d = cfg.features, c = cfg.context, h = cfg.hidden;
  const auto& jst = rd.at(j, "standardization", "");
  try {
    flow.set_standardization(rd.vector(rd.at(jst, "theta_mean", "standardization."), "standardization.theta_mean", d),
                             rd.vector(rd.at(jst, "theta_std", "standardization."), "standardization.theta_std", d),
                             rd.vector(rd.at(jst, "x_mean", "standardization."), "standardization.x_mean", c),
                             rd.vector(rd.at(jst, "x_std", "standardization."), "standardization.x_std", c));
  } catch (const invalid_argument& e) {
    rd.fail("standardization", e.what());
  }
  const auto& jp = rd.at(j, "permutations", "");
  if (!jp.is_array() || static_cast<Eigen::Index>(jp.size()) != cfg.transforms)
    rd.fail("permutations", "must hold one permutation per transform");
  std::vector<permutation> perms;
  for (std::size_t t = 0; t < jp.size(); ++t) {
    const std::string f = "permutations[" + std::to_string(t) + "]";
    permutation p;
    if (!jp[t].is_array()) rd.fail(f, "must be an array");
    for (std::size_t i = 0; i < jp[t].size(); ++i) p.push_back(rd.integer(jp[t][i], f));
    if (!is_permutation_of(p, d)) rd.fail(f, "is not a permutation of 0..D-1");
    perms.push_back(std::move(p));
  }
  flow.set_permutations(std::move(perms));
  const auto& jt = rd.at(j, "transforms", "");
  if (!jt.is_array() || static_cast<Eigen::Index>(jt.size()) != cfg.transforms)
    rd.fail("transforms", "must hold one entry per transform");
  for (std::size_t t = 0; t < jt.size(); ++t) {
    const std::string f = "transforms[" + std::to_string(t) + "].";
    auto& m = flow.mades()[t];
    const auto& e = jt[t];
    m.w_in = rd.matrix(rd.at(e, "w_in", f), f + "w_in", h, d);
    m.w_ctx = rd.matrix(rd.at(e, "w_ctx", f), f + "w_ctx", h, c);
    m.b_in = rd.vector(rd.at(e, "b_in", f), f + "b_in", h);
    const auto& wh = rd.at(e, "w_hidden", f);
    const auto& bh = rd.at(e, "b_hidden", f);
    if (!wh.is_array() || static_cast<Eigen::Index>(wh.size()) != cfg.blocks) rd.fail(f + "w_hidden", "must hold `blocks` matrices");
    if (!bh.is_array() || static_cast<Eigen::Index>(bh.size()) != cfg.blocks) rd.fail(f + "b_hidden", "must hold `blocks` vectors");
    for (std::size_t k = 0; k < wh.size(); ++k) {
      m.w_hidden[k] = rd.matrix(wh[k], f + "w_hidden[" + std::to_string(k) + "]", h, h);
      m.b_hidden[k] = rd.vector(bh[k], f + "b_hidden[" + std::to_string(k) + "]", h);
      if ((m.w_hidden[k].array() * (1.0 - m.mask_hidden.array())).abs().maxCoeff() != 0.0)
        rd.fail(f + "w_hidden[" + std::to_string(k) + "]", "has non-zero weights outside the autoregressive mask");
    }
    m.w_out = rd.matrix(rd.at(e, "w_out", f), f + "w_out", 2 * d, h);
    m.b_out = rd.vector(rd.at(e, "b_out", f), f + "b_out", 2 * d);
    if ((m.w_in.array() * (1.0 - m.mask_in.array())).abs().maxCoeff() != 0.0)
      rd.fail(f + "w_in", "has non-zero weights outside the autoregressive mask");
    if ((m.w_out.array() * (1.0 - m.mask_out.array())).abs().maxCoeff() != 0.0)
      rd.fail(f + "w_out", "has non-zero weights outside the autoregressive mask");
  }
  const auto& st = rd.at(j, "self_test", "");
  const Eigen::MatrixXd th = rd.rows_any(rd.at(st, "theta", "self_test."), "self_test.theta", d);
  const Eigen::MatrixXd x = rd.matrix(rd.at(st, "x", "self_test."), "self_test.x", th.rows(), c);
  const Eigen::VectorXd expected = rd.vector(rd.at(st, "log_prob", "self_test."), "self_test.log_prob", th.rows());
  const Eigen::VectorXd got = flow.log_prob(th, x);
  for (Eigen::Index i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - expected[i]) <= 1e-9 * std::max(1.0, std::abs(expected[i])))) {
      std::ostringstream os;
      os.precision(17);
      os << "self-test failed: log_prob of test pair " << i << " is " << got[i] << ", file says " << expected[i];
      rd.fail("self_test", os.str());
    }
  }
  return flow;
}

/// Writes `to_json(flow)` to `path`; throws `file_error` if the file cannot be written.
template <class Act, class Scale>
void save(const conditional_maf<Act, Scale>& flow, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw file_error(path.string(), 0, "", "cannot open for writing");
  out << std::setprecision(17) << to_json(flow).dump(1);
  if (!out) throw file_error(path.string(), 0, "", "write failed");
}

/// Reads a flow saved by `save`; throws `file_error` (missing file, bad JSON with its byte
/// position, a malformed field by name, or a failed self-test).
template <class Flow = sbi_maf>
[[nodiscard]] Flow load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw file_error(path.string(), 0, "", "cannot open for reading");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw file_error(path.string(), 0, "", std::string("invalid JSON: ") + e.what());
  }
  return from_json<Flow>(j, path.string());
}

}  // namespace chempp::flow
