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
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/core/compat_eigen.hpp"
#include "chempp/io/json.hpp"
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
  const io::json_reader rd{file};
  rd.check_keys(j, "", {"format", "version", "activation", "scale", "config", "standardization", "permutations", "transforms",
                        "self_test"});
  if (rd.string(rd.member(j, "format", ""), "format") != "chempp.flow.maf") rd.fail("format", "must be \"chempp.flow.maf\"");
  if (rd.integer(rd.member(j, "version", ""), "version") != 1) rd.fail("version", "unsupported version (expected 1)");
  if (rd.string(rd.member(j, "activation", ""), "activation") != Act::name)
    rd.fail("activation", std::string("does not match the flow type (expected \"") + Act::name + "\")");
  if (rd.string(rd.member(j, "scale", ""), "scale") != Scale::name)
    rd.fail("scale", std::string("does not match the flow type (expected \"") + Scale::name + "\")");
  const auto& jc = rd.member(j, "config", "");
  rd.check_keys(jc, "config",
                {"features", "context", "hidden", "blocks", "transforms", "n_global", "permutation", "seed", "condition_first"});
  const auto& jst = rd.member(j, "standardization", "");
  rd.check_keys(jst, "standardization", {"theta_mean", "theta_std", "x_mean", "x_std"});
  const auto& jp = rd.member(j, "permutations", "");
  const auto& jt = rd.member(j, "transforms", "");
  if (!jp.is_array()) rd.fail("permutations", "must be an array");
  if (!jt.is_array() || jt.empty()) rd.fail("transforms", "must be a non-empty array");
  // every count is checked against the array that holds its numbers before anything is
  // allocated from it (a declared 1e9 transforms or 2^62 features is an error, not a hang)
  const auto length = [&](const nlohmann::json& a, const std::string& field) -> Eigen::Index {
    if (!a.is_array()) rd.fail(field, "must be an array");
    return static_cast<Eigen::Index>(a.size());
  };
  const auto declared = [&](const char* key, Eigen::Index lo, Eigen::Index actual, const std::string& held_by) {
    const std::string f = std::string("config.") + key;
    const auto v = rd.integer(rd.member(jc, key, "config"), f, lo, std::numeric_limits<std::int32_t>::max());
    if (v != actual) rd.fail(f, "is " + std::to_string(v) + " but " + held_by + " holds " + std::to_string(actual));
    return static_cast<Eigen::Index>(v);
  };
  maf_config cfg;
  cfg.transforms = declared("transforms", 1, static_cast<Eigen::Index>(jt.size()), "transforms");
  cfg.features = declared("features", 1, length(rd.member(jst, "theta_mean", "standardization"), "standardization.theta_mean"),
                          "standardization.theta_mean");
  cfg.context = declared("context", 0, length(rd.member(jst, "x_mean", "standardization"), "standardization.x_mean"),
                         "standardization.x_mean");
  cfg.hidden = declared("hidden", 1, length(rd.member(jt[0], "b_in", "transforms[0]"), "transforms[0].b_in"), "transforms[0].b_in");
  cfg.blocks = declared("blocks", 0, length(rd.member(jt[0], "w_hidden", "transforms[0]"), "transforms[0].w_hidden"),
                        "transforms[0].w_hidden");
  cfg.n_global = rd.integer(rd.member(jc, "n_global", "config"), "config.n_global", 0, cfg.features);
  cfg.condition_first = rd.boolean(rd.member(jc, "condition_first", "config"), "config.condition_first");
  cfg.seed = rd.unsigned_integer(rd.member(jc, "seed", "config"), "config.seed");
  try {
    cfg.permutation = permutation_kind_from_string(rd.string(rd.member(jc, "permutation", "config"), "config.permutation"));
  } catch (const invalid_argument& e) {
    rd.fail("config.permutation", e.what());
  }
  if (static_cast<Eigen::Index>(jp.size()) != cfg.transforms) rd.fail("permutations", "must hold one permutation per transform");
  Flow flow;
  try {
    flow = Flow(cfg);
  } catch (const invalid_argument& e) {
    rd.fail("config", e.what());
  }
  const Eigen::Index d = cfg.features, c = cfg.context, h = cfg.hidden;
  try {
    flow.set_standardization(rd.vector(rd.member(jst, "theta_mean", "standardization"), "standardization.theta_mean", d),
                             rd.vector(rd.member(jst, "theta_std", "standardization"), "standardization.theta_std", d),
                             rd.vector(rd.member(jst, "x_mean", "standardization"), "standardization.x_mean", c),
                             rd.vector(rd.member(jst, "x_std", "standardization"), "standardization.x_std", c));
  } catch (const invalid_argument& e) {
    rd.fail("standardization", e.what());
  }
  std::vector<permutation> perms;
  for (std::size_t t = 0; t < jp.size(); ++t) {
    const std::string f = "permutations[" + std::to_string(t) + "]";
    permutation p;
    if (!jp[t].is_array() || static_cast<Eigen::Index>(jp[t].size()) != d) rd.fail(f, "must be an array of D indices");
    for (std::size_t i = 0; i < jp[t].size(); ++i) p.push_back(rd.integer(jp[t][i], f, 0, d - 1));
    if (!is_permutation_of(p, d)) rd.fail(f, "is not a permutation of 0..D-1");
    perms.push_back(std::move(p));
  }
  flow.set_permutations(std::move(perms));
  for (std::size_t t = 0; t < jt.size(); ++t) {
    const std::string f = "transforms[" + std::to_string(t) + "]";
    auto& m = flow.mades()[t];
    const auto& e = jt[t];
    rd.check_keys(e, f, {"w_in", "w_ctx", "b_in", "w_hidden", "b_hidden", "w_out", "b_out"});
    m.w_in = rd.matrix(rd.member(e, "w_in", f), f + ".w_in", h, d);
    m.w_ctx = rd.matrix(rd.member(e, "w_ctx", f), f + ".w_ctx", h, c);
    m.b_in = rd.vector(rd.member(e, "b_in", f), f + ".b_in", h);
    const auto& wh = rd.member(e, "w_hidden", f);
    const auto& bh = rd.member(e, "b_hidden", f);
    if (!wh.is_array() || static_cast<Eigen::Index>(wh.size()) != cfg.blocks) rd.fail(f + ".w_hidden", "must hold `blocks` matrices");
    if (!bh.is_array() || static_cast<Eigen::Index>(bh.size()) != cfg.blocks) rd.fail(f + ".b_hidden", "must hold `blocks` vectors");
    for (std::size_t k = 0; k < wh.size(); ++k) {
      m.w_hidden[k] = rd.matrix(wh[k], f + ".w_hidden[" + std::to_string(k) + "]", h, h);
      m.b_hidden[k] = rd.vector(bh[k], f + ".b_hidden[" + std::to_string(k) + "]", h);
      if ((m.w_hidden[k].array() * (1.0 - m.mask_hidden.array())).abs().maxCoeff() != 0.0)
        rd.fail(f + ".w_hidden[" + std::to_string(k) + "]", "has non-zero weights outside the autoregressive mask");
    }
    m.w_out = rd.matrix(rd.member(e, "w_out", f), f + ".w_out", 2 * d, h);
    m.b_out = rd.vector(rd.member(e, "b_out", f), f + ".b_out", 2 * d);
    if ((m.w_in.array() * (1.0 - m.mask_in.array())).abs().maxCoeff() != 0.0)
      rd.fail(f + ".w_in", "has non-zero weights outside the autoregressive mask");
    if ((m.w_out.array() * (1.0 - m.mask_out.array())).abs().maxCoeff() != 0.0)
      rd.fail(f + ".w_out", "has non-zero weights outside the autoregressive mask");
  }
  const auto& st = rd.member(j, "self_test", "");
  rd.check_keys(st, "self_test", {"theta", "x", "log_prob"});
  const Eigen::MatrixXd th = rd.rows_any(rd.member(st, "theta", "self_test"), "self_test.theta", d);
  const Eigen::MatrixXd x = rd.matrix(rd.member(st, "x", "self_test"), "self_test.x", th.rows(), c);
  const Eigen::VectorXd expected = rd.vector(rd.member(st, "log_prob", "self_test"), "self_test.log_prob", th.rows());
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
  const auto j = io::read_json_file(path);
  return io::rethrow_foreign(path.string(), [&] { return from_json<Flow>(j, path.string()); });
}

}  // namespace chempp::flow
