// SPDX-License-Identifier: BSD-3-Clause
#include "chempp/flow/io.hpp"

#include <filesystem>
#include <fstream>

#include "support/test_support.hpp"

using namespace chempp::flow;

namespace {
sbi_maf make_flow() {
  maf_config cfg;
  cfg.features = 3;
  cfg.context = 2;
  cfg.hidden = 5;
  cfg.transforms = 2;
  cfg.permutation = permutation_kind::global_first;
  cfg.n_global = 2;
  cfg.seed = 77;
  cfg.condition_first = true;
  sbi_maf f(cfg);
  Eigen::VectorXd tm(3), ts(3), xm(2), xs(2);
  tm << 0.1, -2.0, 5.0;
  ts << 0.3, 1.5, 2.0;
  xm << 1.0, 0.0;
  xs << 0.2, 3.0;
  f.set_standardization(tm, ts, xm, xs);
  return f;
}
}  // namespace

TEST_CASE("io: JSON round trip reproduces log_prob bit for bit") {
  const auto f = make_flow();
  const auto path = std::filesystem::temp_directory_path() / "chempp_flow_io_test.json";
  save(f, path);
  const auto g = load(path);
  std::filesystem::remove(path);
  CHECK(g.config() == f.config());
  CHECK(g.permutations() == f.permutations());
  auto rng = chempp::test::seeded_rng(4);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd th(20, 3), x(20, 2);
  for (Eigen::Index i = 0; i < th.size(); ++i) th.data()[i] = nd(rng);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = nd(rng);
  CHECK((f.log_prob(th, x) - g.log_prob(th, x)).cwiseAbs().maxCoeff() == 0.0);
  CHECK((f.parameters() - g.parameters()).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("io: malformed files throw file_error naming the field") {
  const auto good = to_json(make_flow());
  auto expect_field = [](const nlohmann::json& j, const std::string& field) {
    try {
      (void)from_json(j, "test.json");
      FAIL("no exception for field " << field);
    } catch (const chempp::file_error& e) {
      CHECK(e.field() == field);
      CHECK(e.file() == "test.json");
    }
  };
  {
    auto j = good;
    j.erase("transforms");
    expect_field(j, "transforms");
  }
  {
    auto j = good;
    j["config"].erase("hidden");
    expect_field(j, "config.hidden");
  }
  {
    auto j = good;
    j["transforms"][1]["w_ctx"][0].erase(0);
    expect_field(j, "transforms[1].w_ctx[0]");
  }
  {
    auto j = good;
    j["transforms"][0]["b_out"][2] = "x";
    expect_field(j, "transforms[0].b_out[2]");
  }
  {
    auto j = good;
    j["permutations"][0] = {0, 0, 1};
    expect_field(j, "permutations[0]");
  }
  {
    auto j = good;
    j["standardization"]["theta_std"][1] = -1.0;
    expect_field(j, "standardization");
  }
  {
    auto j = good;
    j["activation"] = "relu";
    expect_field(j, "activation");
  }
  {
    auto j = good;
    j["transforms"][0]["w_in"][0][2] = 0.5;  // outside the autoregressive mask
    expect_field(j, "transforms[0].w_in");
  }
  {
    auto j = good;  // a weight changed: the embedded self-test must catch it
    j["transforms"][1]["b_in"][0] = j["transforms"][1]["b_in"][0].get<double>() + 1e-3;
    expect_field(j, "self_test");
  }
  CHECK_THROWS_AS((void)load("/nonexistent/flow.json"), chempp::file_error);
  const auto bad = std::filesystem::temp_directory_path() / "chempp_flow_bad.json";
  {
    std::ofstream(bad) << "{ not json";
  }
  CHECK_THROWS_WITH_AS((void)load(bad), doctest::Contains("invalid JSON"), chempp::file_error);
  std::filesystem::remove(bad);
}
