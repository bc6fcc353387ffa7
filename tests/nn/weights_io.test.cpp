// SPDX-License-Identifier: BSD-3-Clause
// JSON save/load round trip, malformed files, and the paper's emulator weights.
#include "chempp/nn/weights_io.hpp"

#include <algorithm>
#include <filesystem>

#include "chempp/nn/simd_forward.hpp"
#include "support/test_support.hpp"

namespace nn = chempp::nn;

namespace {
nn::mlp<double> small_net() {
  nn::mlp<double> net({3, 4, 2}, {nn::activation::tanh, nn::activation::identity});
  net.initialize(17, nn::init_scheme::pytorch_default);
  net.input_scaling().mean << 1.0, 2.0, 3.0;
  net.input_scaling().scale << 0.5, 1.5, 2.5;
  net.output_scaling().mean << -1.0, 1.0;
  net.output_scaling().scale << 0.1, 10.0;
  return net;
}

/// The field named by the file_error that `f` throws ("" if it does not throw one).
template <class F>
std::string thrown_field(F&& f) {
  try {
    f();
  } catch (const chempp::file_error& e) {
    MESSAGE("error: " << std::string(e.what()));
    return e.field();
  }
  return "";
}
}  // namespace

TEST_CASE("Test_weights_io: save/load round trip is exact and the embedded test passes") {
  const auto net = small_net();
  const auto path = std::filesystem::temp_directory_path() / "chempp_nn_roundtrip_test.json";
  nn::mlp_metadata meta{"unit test", {"a", "b", "c"}, {"u", "v"}};
  nn::save_mlp(net, path, meta);
  nn::mlp_metadata back;
  const auto net2 = nn::load_mlp<double>(path, &back);
  CHECK(net2.parameters() == net.parameters());
  CHECK(net2.input_scaling().scale == net.input_scaling().scale);
  CHECK(net2.output_scaling().mean == net.output_scaling().mean);
  CHECK(net2.activations() == net.activations());
  CHECK(back.output_names == meta.output_names);
  CHECK(back.description == "unit test");
  const auto netf = nn::load_mlp<float>(path);  // loads into float, test checked at 1e-4
  CHECK(netf.num_parameters() == net.num_parameters());
  // float network saved and reloaded
  nn::save_mlp(net.cast<float>(), path);
  CHECK(nn::load_mlp<float>(path).parameters() == net.cast<float>().parameters());
  std::filesystem::remove(path);
}

TEST_CASE("Test_weights_io: malformed files give errors naming the field") {
  const auto good = nn::to_json(small_net());
  CHECK_NOTHROW(nn::mlp_from_json(good));
  auto j = good;
  j["test"]["expected_output"][1][0] = 123.0;
  CHECK(thrown_field([&] { nn::mlp_from_json(j, "x.json"); }) == "test.expected_output[1][0]");
  j = good;
  j["layers"][1].erase("bias");
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "layers[1].bias");
  j = good;
  j["layers"][0]["weight"][2][1] = "zero";
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "layers[0].weight[2][1]");
  j = good;
  j["layers"][1]["shape"] = {2, 5};
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "layers[1].shape");
  j = good;
  j["layers"][0]["activation"] = "swish";
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "layers[0].activation");
  j = good;
  j["input_standardization"]["scale"][0] = -1.0;
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "input_standardization.scale[0]");
  j = good;
  j["output_standardization"]["mean"] = {1.0};
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "output_standardization.mean");
  j = good;
  j.erase("layers");
  CHECK(thrown_field([&] { nn::mlp_from_json(j); }) == "layers");
  const auto bad = std::filesystem::temp_directory_path() / "chempp_nn_bad_test.json";
  { std::ofstream(bad) << "{ \"layers\": [ "; }
  CHECK_THROWS_WITH_AS(nn::load_mlp(bad), doctest::Contains("invalid JSON"), chempp::file_error);
  std::filesystem::remove(bad);
  CHECK_THROWS_AS(nn::load_mlp("/nonexistent/chempp.json"), chempp::file_error);
}

TEST_CASE("Test_weights_io: the paper's emulator reproduces the CHEMPY reference cases") {
  const auto wpath = chempp::test::shared_file("data/sbi-chempy/emulator_5sigma_uni_prior_weights.json");
  const auto rpath = chempp::test::shared_file("data/reference/chempy_ref_tng.json");
  if (!wpath || !rpath) return;
  const auto net = nn::load_mlp<double>(*wpath);
  REQUIRE(net.sizes() == std::vector<std::size_t>{6, 100, 40, 9});
  CHECK(net.layer_activation(0) == nn::activation::tanh);
  CHECK(net.layer_activation(2) == nn::activation::identity);
  const nn::simd_mlp<double> kernel(net);
  const auto ref = nlohmann::json::parse(chempp::test::read_text(*rpath));
  std::vector<double> dev_main, dev_all;
  double worst_simd = 0.0;
  std::size_t n_ok = 0;
  for (const auto& c : ref["cases"]) {
    if (c["status"] != "ok") continue;
    ++n_ok;
    const auto p = c["params"].get<std::vector<double>>();
    const auto y = c["raw9"].get<std::vector<double>>();
    const nn::matrix<double> pred = net.predict(Eigen::Map<const nn::matrix<double>>(p.data(), 6, 1));
    double ys[9];
    kernel(p.data(), ys, 1);
    for (Eigen::Index o = 0; o < 9; ++o) {
      const double d = std::abs(pred(o, 0) - y[static_cast<std::size_t>(o)]);
      dev_all.push_back(d);
      if (c["group"] != "edge") dev_main.push_back(d);
      worst_simd = std::max(worst_simd, std::abs(ys[o] - pred(o, 0)));
    }
  }
  const auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double m_main = median(dev_main), m_all = median(dev_all);
  MESSAGE("paper emulator vs CHEMPY: " << n_ok << " ok cases, median |delta| fiducial+prior "
                                       << m_main << " dex, all ok cases (incl. 5-sigma edges) " << m_all);
  // numpy on the same JSON gives 0.00592 (fiducial+prior) and 0.00708 (all); docs quote ~0.005
  CHECK(m_main == doctest::Approx(0.00592).epsilon(0.01));
  CHECK(m_all == doctest::Approx(0.00708).epsilon(0.01));
  CHECK(m_main < 0.01);
  CHECK(worst_simd < 1e-12);
  // one fiducial case against numpy's float64 evaluation of the same weights
  const std::vector<double> p0 = ref["cases"][0]["params"].get<std::vector<double>>();
  const nn::matrix<double> y0 = net.predict(Eigen::Map<const nn::matrix<double>>(p0.data(), 6, 1));
  const double numpy0[9] = {-0.06480996, -1.08706409, 1.09665324, 1.06957111, 0.59828924,
                            0.2437882, 0.82399306, 0.73775082, 0.51743709};
  for (Eigen::Index o = 0; o < 9; ++o) CHECK(y0(o, 0) == doctest::Approx(numpy0[o]).epsilon(1e-7));
}
