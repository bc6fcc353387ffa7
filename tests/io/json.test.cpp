// SPDX-License-Identifier: BSD-3-Clause
// The JSON reading layer (io/json.hpp) and the readers built on it: emulator weights, flows,
// model bundles. Issue 15's findings, each a regression test; the inputs are also corpus files
// of the JSON fuzz harnesses (tests/fuzz/corpus).
#include "chempp/io/json.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include "chempp/flow/io.hpp"
#include "chempp/nn/weights_io.hpp"
#include "chempp/pipeline/bundle.hpp"
#include "support/test_support.hpp"

namespace {
using chempp::file_error;
nlohmann::json parse_t(const std::string& text) { return chempp::io::parse_json(text, "t.json"); }

// a valid 2 → 1 network file
nlohmann::json small_mlp() {
  return nlohmann::json::parse(R"({"format": "chempp.mlp", "version": 1,
    "layers": [{"name": "l1", "shape": [1, 2], "weight": [[0.5, -1.0]], "bias": [0.25], "activation": "identity"}],
    "test": {"input": [[1.0, 2.0]], "expected_output": [[-1.25]]}})");
}
}  // namespace

TEST_CASE("parse_json: depth, overflowing numbers and duplicate keys are file errors") {
  CHECK(parse_t(R"({"a": [1, 2, {"b": 1e300}]})")["a"][2]["b"] == 1e300);
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');  // crashed nlohmann-based readers
  CHECK_THROWS_WITH_AS(parse_t(deep), doctest::Contains("nested deeper than 64"), file_error);
  CHECK_THROWS_WITH_AS(parse_t(R"({"a": 1e400})"), doctest::Contains("1e400"), file_error);
  CHECK_THROWS_WITH_AS(parse_t(R"({"a": -1e400})"), doctest::Contains("1e400"), file_error);
  CHECK_THROWS_WITH_AS(parse_t(R"({"a": 1, "b": {"c": 2, "c": 3}})"), doctest::Contains("\"c\" appears twice"), file_error);
  CHECK_NOTHROW(parse_t(R"({"a": {"c": 2}, "b": {"c": 3}})"));  // the same key in two objects is fine
  CHECK_THROWS_WITH_AS(parse_t("{\n\"a\": [1,\n 2,,]}"), doctest::Contains("t.json:3"), file_error);
  CHECK_THROWS_AS(parse_t(""), file_error);
  CHECK_THROWS_AS(chempp::io::read_json_file("/nonexistent/x.json"), file_error);
}

TEST_CASE("json_reader: wrong types, ranges and unknown keys name the field") {
  const chempp::io::json_reader rd{"r.json"};
  const auto j = parse_t(R"({"n": 4294967297, "x": "1", "big": 18446744073709551615, "neg": -3, "arr": [1, 2]})");
  CHECK_THROWS_WITH_AS((void)rd.integer(j["n"], "n", 0, 10), doctest::Contains("field 'n'"), file_error);
  CHECK(rd.integer(j["n"], "n") == 4294967297);  // never truncated to 1
  CHECK_THROWS_WITH_AS((void)rd.integer(j["big"], "big"), doctest::Contains("out of range"), file_error);
  CHECK(rd.unsigned_integer(j["big"], "big") == 18446744073709551615ULL);
  CHECK_THROWS_AS((void)rd.unsigned_integer(j["neg"], "neg"), file_error);
  CHECK_THROWS_WITH_AS((void)rd.number(j["x"], "x"), doctest::Contains("expected a number, got string"), file_error);
  CHECK_THROWS_WITH_AS((void)rd.numbers(j["arr"], "arr", 3), doctest::Contains("expected 3 values"), file_error);
  CHECK_THROWS_WITH_AS((void)rd.member(j, "missing", ""), doctest::Contains("field 'missing'"), file_error);
  CHECK_THROWS_WITH_AS(rd.check_keys(j, "", {"n", "x"}), doctest::Contains("unknown key"), file_error);
  CHECK_THROWS_AS((void)rd.member(j["arr"], "k", "arr"), file_error);
}

TEST_CASE("emulator weights: hostile files are file errors naming the field") {
  CHECK(chempp::nn::mlp_from_json<double>(small_mlp(), "w.json").num_layers() == 1);
  auto bad = [](auto edit, const char* field) {
    auto j = small_mlp();
    edit(j);
    CAPTURE(j.dump());
    const std::string want = std::string("field '") + field + "'";
    CHECK_THROWS_WITH_AS((void)chempp::nn::mlp_from_json<double>(j, "w.json"), doctest::Contains(want.c_str()), file_error);
  };
  bad([](auto& j) { j["version"] = 4294967297ULL; }, "version");  // was read as 1
  bad([](auto& j) { j["version"] = "1"; }, "version");
  bad([](auto& j) { j["input_standardisation"] = {{"mean", {0, 0}}, {"scale", {1, 1}}}; }, "input_standardisation");
  bad([](auto& j) { j["layers"][0]["shape"] = {std::uint64_t{1} << 62, 2}; }, "layers[0].shape[0]");
  bad([](auto& j) { j["layers"][0]["shape"] = {1000000, 2}; }, "layers[0].weight");  // declared, not held
  bad([](auto& j) { j["layers"][0]["shape"] = {1.5, 2}; }, "layers[0].shape[0]");
  bad([](auto& j) { j["layers"][0]["weight"][0][1] = "x"; }, "layers[0].weight[0][1]");
  bad([](auto& j) { j["layers"][0]["activation"] = 3; }, "layers[0].activation");
  bad([](auto& j) { j["layers"][0]["bias"] = nullptr; }, "layers[0].bias");
  bad([](auto& j) { j["input_names"] = {"a", 1}; }, "input_names[1]");
  bad([](auto& j) { j["input_names"] = {"a"}; }, "input_names");
  bad([](auto& j) { j["test"]["tolerance"] = -1; }, "test.tolerance");
  bad([](auto& j) { j["test"]["expected_output"][0][0] = 5.0; }, "test.expected_output[0][0]");
  bad([](auto& j) { j["layers"] = nlohmann::json::object(); }, "layers");
}

TEST_CASE("flow files: declared counts are checked against the arrays before allocation") {
  const chempp::flow::sbi_maf f(chempp::flow::maf_config{.features = 2, .context = 1, .hidden = 4, .transforms = 2});
  const nlohmann::json good = chempp::flow::to_json(f);
  CHECK(chempp::flow::from_json<chempp::flow::sbi_maf>(good, "f.json").features() == 2);
  auto bad = [&](auto edit, const char* field) {
    auto j = good;
    edit(j);
    const std::string want = std::string("field '") + field + "'";
    CHECK_THROWS_WITH_AS((void)chempp::flow::from_json<chempp::flow::sbi_maf>(j, "f.json"), doctest::Contains(want.c_str()),
                         file_error);
  };
  bad([](auto& j) { j["config"]["transforms"] = 1000000000; }, "config.transforms");  // hung before
  bad([](auto& j) { j["config"]["features"] = std::uint64_t{1} << 62; }, "config.features");
  bad([](auto& j) { j["config"]["hidden"] = 5; }, "config.hidden");
  bad([](auto& j) { j["config"]["seed"] = -1; }, "config.seed");
  bad([](auto& j) { j["config"]["n_global"] = 7; }, "config.n_global");
  bad([](auto& j) { j["permutations"][0][0] = 9; }, "permutations[0]");
  bad([](auto& j) { j["transforms"][1]["w_out"][0][0] = "NaN"; }, "transforms[1].w_out[0][0]");
  bad([](auto& j) { j["transforms"][0]["extra"] = 1; }, "transforms[0].extra");
  bad([](auto& j) { j["version"] = 4294967297ULL; }, "version");
  bad([](auto& j) { j["self_test"]["log_prob"][0] = 123.0; }, "self_test");
}

TEST_CASE("model bundle: a misspelt or mistyped field is a file error") {
  const auto dir = std::filesystem::temp_directory_path() / "chempp_json_bundle_test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& text) { std::ofstream(dir / "bundle.json") << text; };
  write(R"({"format": "chempp-model-bundle", "format_version": 1, "nmae": "x"})");
  CHECK_THROWS_WITH_AS((void)chempp::pipeline::load_bundle(dir), doctest::Contains("field 'nmae'"), file_error);
  write(R"({"format": "chempp-model-bundle", "format_version": 4294967297})");
  CHECK_THROWS_WITH_AS((void)chempp::pipeline::load_bundle(dir), doctest::Contains("field 'format_version'"), file_error);
  write(R"({"format": "chempp-model-bundle", "name": 3})");
  CHECK_THROWS_WITH_AS((void)chempp::pipeline::load_bundle(dir), doctest::Contains("field 'name'"), file_error);
  write(std::string(200, '{'));
  CHECK_THROWS_AS((void)chempp::pipeline::load_bundle(dir), file_error);
  std::filesystem::remove_all(dir);
}
