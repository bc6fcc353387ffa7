// SPDX-License-Identifier: BSD-3-Clause
// The compiled part of the `chempp` Python package (pybind11): thin bindings of the library's
// GCE model, model bundles (emulator + flow), the population engine and the SBC/TARP
// diagnostics. The Python layer (python/chempp/__init__.py) gives them the shapes users know
// from sbi and VICE. Conventions:
//  * numpy arrays in and out; inputs are read in place when C-contiguous float64 (else converted
//    once), outputs are new arrays owned by Python;
//  * the GIL is released in every long call; long loops run in chunks, and between chunks a
//    pending KeyboardInterrupt (or an exception from a progress callable) stops them;
//  * chempp::invalid_argument and chempp::file_error become ValueError, numerical and
//    convergence errors RuntimeError, with the library's message.
#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "chempp/diagnostics/sbc.hpp"
#include "chempp/diagnostics/tarp.hpp"
#include "chempp/gce.hpp"
#include "chempp/io/catalog.hpp"
#include "chempp/pipeline.hpp"
#if defined(CHEMPP_HAVE_FITS)
#include "chempp/io/fits_catalog.hpp"
#endif

namespace py = pybind11;
using namespace pybind11::literals;
namespace pl = chempp::pipeline;
namespace inf = chempp::inference;

namespace {

using carray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// Rows of a 2-D (or 1-D: one row) float64 array with `cols` columns.
std::size_t rows_of(const carray& a, std::size_t cols, const char* what) {
  if (a.ndim() == 1 && static_cast<std::size_t>(a.shape(0)) == cols) return 1;
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(1)) != cols)
    throw chempp::invalid_argument(std::string(what) + ": expected shape (n, " + std::to_string(cols) + ") or (" + std::to_string(cols) +
                                   ",), got ndim " + std::to_string(a.ndim()));
  return static_cast<std::size_t>(a.shape(0));
}

// Raises KeyboardInterrupt (or whatever signal handler raised) in the calling thread.
void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// ---- GCE model -------------------------------------------------------------------------------
struct chempy {
  chempy(const std::string& yields, double tau_ia, const std::filesystem::path& yields_dir)
      : spec(yields), model(chempp::yields::resolve_yield_set(yields, yields_dir), tau_ia) {}
  std::string spec;
  chempp::gce::chempy_model model;
};

py::tuple chempy_simulate(const chempy& c, const carray& theta, unsigned threads, std::size_t chunk) {
  const std::size_t n = rows_of(theta, 6, "Chempy.simulate: theta");
  std::vector<std::array<double, 6>> th(n);
  const double* p = theta.data();
  for (std::size_t i = 0; i < n; ++i) {
    std::copy(p + 6 * i, p + 6 * i + 6, th[i].begin());
    try {  // every row checked before any runs (the chunks below would number rows from their start)
      chempp::gce::chempy_model::check(chempp::gce::chempy_parameters::from_theta(th[i]));
    } catch (const chempp::invalid_argument& e) {
      throw chempp::invalid_argument("Chempy.simulate: theta row " + std::to_string(i) + ": " + e.what());
    }
  }
  py::array_t<double> ab({static_cast<py::ssize_t>(n), py::ssize_t{8}});
  py::array_t<bool> ok(static_cast<py::ssize_t>(n));
  std::vector<std::string> status(n);
  auto a = ab.mutable_unchecked<2>();
  auto o = ok.mutable_unchecked<1>();
  chunk = std::max<std::size_t>(chunk, 1);
  for (std::size_t b = 0; b < n; b += chunk) {
    const std::size_t e = std::min(n, b + chunk);
    std::vector<chempp::gce::chempy_result> res;
    {
      py::gil_scoped_release release;
      res = chempp::gce::simulate_batch(c.model, std::span<const std::array<double, 6>>(th.data() + b, e - b), threads);
    }
    for (std::size_t i = b; i < e; ++i) {
      const auto& r = res[i - b];
      o(static_cast<py::ssize_t>(i)) = r.ok();
      status[i] = chempp::gce::to_string(r.status);
      for (py::ssize_t j = 0; j < 8; ++j) a(static_cast<py::ssize_t>(i), j) = r.ok() ? r.abundances[static_cast<std::size_t>(j)] : NAN;
    }
    check_signals();
  }
  return py::make_tuple(ab, ok, status);
}

py::dict chempy_track(const chempy& c, const std::array<double, 6>& theta) {
  std::vector<chempp::gce::track_point> track;
  auto ws = c.model.make_workspace();
  chempp::gce::chempy_result r;
  {
    py::gil_scoped_release release;
    chempp::gce::chempy_model::check(chempp::gce::chempy_parameters::from_theta(theta));
    r = c.model.run(chempp::gce::chempy_parameters::from_theta(theta), ws, chempp::gce::track_observer{&track});
  }
  const auto n = static_cast<py::ssize_t>(track.size());
  py::array_t<double> t(n), sfr(n), gas(n), corona(n), z(n), ab({n, py::ssize_t{8}});
  auto a = ab.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i) {
    const auto& q = track[static_cast<std::size_t>(i)];
    t.mutable_at(i) = q.time_gyr;
    sfr.mutable_at(i) = q.sfr;
    gas.mutable_at(i) = q.ism_gas;
    corona.mutable_at(i) = q.corona_gas;
    z.mutable_at(i) = q.metallicity;
    const auto x = chempp::gce::abundances_from_masses(q.ism);
    for (py::ssize_t j = 0; j < 8; ++j) a(i, j) = x[static_cast<std::size_t>(j)];
  }
  return py::dict("time_gyr"_a = t, "abundances"_a = ab, "sfr"_a = sfr, "ism_gas"_a = gas, "corona_gas"_a = corona,
                  "metallicity"_a = z, "status"_a = std::string(chempp::gce::to_string(r.status)));
}

// ---- stars from arrays ------------------------------------------------------------------------
// x, σ: (n, K); NaN in x (or σ) = not measured.
std::vector<inf::star_data> stars_from_arrays(const carray& x, const carray& sigma, std::size_t k) {
  const std::size_t n = rows_of(x, k, "x");
  if (rows_of(sigma, k, "sigma") != n) throw chempp::invalid_argument("sigma: must have as many rows as x");
  std::vector<inf::star_data> stars(n);
  const double* px = x.data();
  const double* ps = sigma.data();
  for (std::size_t i = 0; i < n; ++i) {
    auto& s = stars[i];
    s.x.resize(static_cast<Eigen::Index>(k));
    s.sigma.resize(static_cast<Eigen::Index>(k));
    s.measured.resize(static_cast<Eigen::Index>(k));
    for (std::size_t j = 0; j < k; ++j) {
      const double v = px[i * k + j], e = ps[i * k + j];
      const bool m = !std::isnan(v) && !std::isnan(e);
      s.measured(static_cast<Eigen::Index>(j)) = m;
      s.x(static_cast<Eigen::Index>(j)) = m ? v : NAN;
      s.sigma(static_cast<Eigen::Index>(j)) = m ? e : 0.0;
      if (m && (!std::isfinite(v) || !std::isfinite(e) || e <= 0.0))
        throw chempp::invalid_argument("star " + std::to_string(i) + ", observable " + std::to_string(j) +
                                       ": a measured value must be finite with sigma > 0 (got " + std::to_string(v) + " ± " +
                                       std::to_string(e) + ")");
    }
    if (!s.measured.any()) throw chempp::invalid_argument("star " + std::to_string(i) + ": nothing measured");
  }
  return stars;
}

py::tuple catalog_to_arrays(const chempp::io::abundance_catalog& cat) {
  const auto n = static_cast<py::ssize_t>(cat.stars()), k = static_cast<py::ssize_t>(cat.n_observables());
  py::array_t<double> x({n, k}), s({n, k});
  auto xa = x.mutable_unchecked<2>();
  auto sa = s.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t j = 0; j < k; ++j) {
      const bool m = cat.measured(i, j);
      xa(i, j) = m ? cat.x(i, j) : NAN;
      sa(i, j) = m ? cat.sigma(i, j) : NAN;
    }
  return py::make_tuple(x, s, cat.id);
}

// ---- flow ------------------------------------------------------------------------------------
// θ ~ q(θ | x) for every star (n draws each): (stars, n, 6).
py::array_t<double> flow_sample(const pl::model_bundle& b, const carray& x, const carray& sigma, std::size_t n, std::uint64_t seed) {
  const auto stars = stars_from_arrays(x, sigma, b.observables.size());
  const auto ctx = pl::flow_contexts(stars);
  const auto ns = static_cast<py::ssize_t>(stars.size());
  py::array_t<double> out({ns, static_cast<py::ssize_t>(n), py::ssize_t{6}});
  double* o = out.mutable_data();
  {
    py::gil_scoped_release release;
    for (std::size_t i = 0; i < stars.size(); ++i) {
      std::mt19937_64 rng(seed + 0x9E3779B97F4A7C15ULL * i);
      const Eigen::MatrixXd d = b.flow.sample(static_cast<Eigen::Index>(n), ctx.row(static_cast<Eigen::Index>(i)), rng);
      for (std::size_t r = 0; r < n; ++r)
        for (std::size_t j = 0; j < 6; ++j) o[(i * n + r) * 6 + j] = d(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(j));
    }
  }
  return out;
}

py::array_t<double> flow_log_prob(const pl::model_bundle& b, const carray& theta, const carray& x, const carray& sigma) {
  const std::size_t n = rows_of(theta, 6, "theta");
  const auto stars = stars_from_arrays(x, sigma, b.observables.size());
  if (stars.size() != n && stars.size() != 1) throw chempp::invalid_argument("x: needs one row, or one per theta row");
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> th(theta.data(), static_cast<Eigen::Index>(n), 6);
  const Eigen::MatrixXd ctx = pl::flow_contexts(stars);
  Eigen::VectorXd lp;
  {
    py::gil_scoped_release release;
    lp = b.flow.log_prob(Eigen::MatrixXd(th), ctx);
  }
  py::array_t<double> out(static_cast<py::ssize_t>(n));
  std::copy(lp.data(), lp.data() + lp.size(), out.mutable_data());
  return out;
}

py::array_t<double> emulate(const pl::model_bundle& b, const carray& theta) {
  const std::size_t n = rows_of(theta, 6, "theta");
  const auto sim = b.simulator();
  py::array_t<double> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(sim.n_observables())});
  {
    py::gil_scoped_release release;
    sim.simulate(theta.data(), n, out.mutable_data());
  }
  return out;
}

// ---- population inference --------------------------------------------------------------------
py::dict posterior_dict(const inf::population_posterior& p) {
  return py::dict("mean"_a = Eigen::Vector2d(p.mean), "cov"_a = Eigen::Matrix2d(p.cov), "log_evidence"_a = p.log_evidence,
                  "log_evidence_se"_a = p.log_evidence_se, "converged"_a = p.converged, "grids"_a = p.grids,
                  "simulations"_a = p.simulations, "n_stars"_a = p.n_stars);
}

py::dict infer(const std::vector<const pl::model_bundle*>& models, const carray& x, const carray& sigma, std::uint64_t seed,
               unsigned threads, std::size_t draws, double screen_margin, const std::vector<double>& prior,
               const std::function<void(py::dict)>& progress) {
  if (models.empty()) throw chempp::invalid_argument("infer: no model given");
  for (const auto* m : models)
    if (m == nullptr) throw chempp::invalid_argument("infer: a model is None");
  const auto stars = stars_from_arrays(x, sigma, models[0]->observables.size());
  std::vector<pl::model_bundle> bundles;
  for (const auto* m : models) bundles.push_back(*m);
  pl::inference_settings set;
  set.engine.seed = seed;
  set.engine.threads = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
  set.screen_log_margin = screen_margin;
  // called from the engine in this (GIL-released) thread after every grid: reacquire the GIL,
  // report, and let a KeyboardInterrupt or the callable's own exception stop the run
  set.engine.on_grid = [&progress](const inf::grid_report& g) {
    py::gil_scoped_acquire acquire;
    if (progress)
      progress(py::dict("grid"_a = g.index, "nodes"_a = g.nodes, "samples_per_star"_a = g.samples_per_star,
                        "mean"_a = Eigen::Vector2d(g.mean), "cov"_a = Eigen::Matrix2d(g.cov), "log_evidence"_a = g.log_evidence));
    check_signals();
  };
  std::optional<pl::model_comparison> result;
  Eigen::MatrixXd avg_draws;
  {
    py::gil_scoped_release release;
    result.emplace(pl::compare_models(bundles, stars, set, prior));
    std::mt19937_64 rng(seed + 99);
    avg_draws = result->average.sample(draws, rng);
  }
  const pl::model_comparison& cmp = *result;
  py::list ms;
  std::mt19937_64 rng(seed + 100);
  for (std::size_t k = 0; k < bundles.size(); ++k) {
    const auto& r = cmp.results[k];
    py::dict d = posterior_dict(r.posterior);
    d["name"] = bundles[k].name;
    d["yields"] = bundles[k].yields;
    d["probability"] = cmp.average.probability[k];
    d["probability_se"] = cmp.average.probability_se[k];
    d["screened"] = r.screened;
    d["seconds"] = r.seconds;
    d["samples"] = r.posterior.sample(draws, rng);
    d["hpd_grid"] = py::dict("origin"_a = Eigen::Vector2d(r.posterior.origin), "axes"_a = Eigen::Matrix2d(r.posterior.axes),
                             "half_width"_a = r.posterior.half_width, "log_density"_a = r.posterior.log_density_grid);
    ms.append(d);
  }
  return py::dict("mean"_a = Eigen::Vector2d(cmp.average.mean), "cov"_a = Eigen::Matrix2d(cmp.average.cov), "samples"_a = avg_draws,
                  "log_evidence"_a = cmp.average.log_evidence, "models"_a = ms, "best"_a = cmp.average.best());
}

}  // namespace

PYBIND11_MODULE(_chempp, m) {
  m.doc() = "chempp: CHEMPY galactic chemical evolution and simulation-based population inference (compiled core)";
  m.attr("__version__") = std::string(pl::library_version);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const chempp::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const chempp::file_error& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const chempp::error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def("observable_names", [] { return pl::observable_names(); }, "The 8 observables, in the order of every array.");
  m.def("parameter_names", [] { return pl::parameter_names(); }, "The 6 parameters θ, in order.");
  m.def("catalog_columns", [] { return pl::catalog_columns(); }, "Catalog column names of the observables (GALAH spelling).");
  m.def("shipped_data_dir", [] { return chempp::yields::shipped_data_dir(); }, "Where the shipped yield tables are found.");
  m.def("has_fits", [] {
#if defined(CHEMPP_HAVE_FITS)
    return true;
#else
    return false;
#endif
  });

  py::class_<chempy>(m, "Chempy", "CHEMPY's one-zone GCE model (Rybizki et al. 2017) with a yield set.")
      .def(py::init<const std::string&, double, const std::filesystem::path&>(), "yields"_a = "tng", "tau_ia"_a = 0.04,
           "yields_dir"_a = std::filesystem::path{})
      .def_readonly("yields", &chempy::spec)
      .def("simulate", &chempy_simulate, "theta"_a, "threads"_a = 1, "chunk"_a = 4096,
           "Abundances (n, 8) [dex] (NaN where CHEMPY fails), the success mask (n,) and each run's status.")
      .def("track", &chempy_track, "theta"_a, "The time track of one run up to T = theta[5] [Gyr].");

  py::class_<pl::model_bundle>(m, "Model", "A trained bundle: emulator, its error model, flow and priors.")
      .def_readonly("name", &pl::model_bundle::name)
      .def_readonly("yields", &pl::model_bundle::yields)
      .def_readonly("version", &pl::model_bundle::version)
      .def_readonly("observables", &pl::model_bundle::observables)
      .def_readonly("catalog_columns", &pl::model_bundle::catalog_columns)
      .def_readonly("model_cov", &pl::model_bundle::model_cov)
      .def_readonly("emulator_median_abs_dex", &pl::model_bundle::emulator_median_abs_dex)
      .def_property_readonly("report", [](const pl::model_bundle& b) { return b.report.dump(); })
      .def("save", [](const pl::model_bundle& b, const std::filesystem::path& dir) { pl::save_bundle(b, dir); }, "directory"_a)
      .def("emulate", &emulate, "theta"_a, "The emulator's 8 observables for θ (n, 6).")
      .def("_flow_sample", &flow_sample)
      .def("_flow_log_prob", &flow_log_prob);

  m.def("load_model", [](const std::filesystem::path& dir) { return pl::load_bundle(dir); }, "directory"_a,
        "Reads a bundle written by chempp-train or Model.save.");
  m.def(
      "train_model",
      [](const std::string& config, const std::string& yields, std::uint64_t seed, unsigned threads,
         const std::function<void(const std::string&)>& progress) {
        auto cfg = pl::make_bundle_config(config);
        cfg.yields = yields;
        py::gil_scoped_release release;
        return pl::train_bundle(cfg, seed, threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads,
                                [&progress](const std::string& s) {
                                  py::gil_scoped_acquire acquire;
                                  if (progress) progress(s);
                                  check_signals();
                                });
      },
      "config"_a = "small", "yields"_a = "tng", "seed"_a = 1, "threads"_a = 0, "progress"_a = nullptr);

  m.def("_infer", &infer);
  m.def("_read_catalog", [](const std::filesystem::path& file, const std::vector<std::string>& columns) {
    const auto ext = file.extension().string();
    if (ext == ".fits" || ext == ".fit" || ext == ".gz") {
#if defined(CHEMPP_HAVE_FITS)
      return catalog_to_arrays(chempp::io::read_fits_catalog(file, columns));
#else
      throw chempp::invalid_argument("read_catalog: " + file.string() + ": this chempp module was built without FITS support (cfitsio)");
#endif
    }
    return catalog_to_arrays(chempp::io::read_abundance_catalog(file, columns));
  });

  m.def("_catalog_from_columns", [](const std::vector<std::string>& names, const std::vector<std::vector<double>>& data,
                                    const std::vector<std::string>& columns) {
    return catalog_to_arrays(chempp::io::catalog_from_columns(names, data, columns, "catalog dict"));
  });
  m.def(
      "sbc",
      [](const std::vector<Eigen::MatrixXd>& samples, const Eigen::MatrixXd& truths, int bins) {
        chempp::diagnostics::sbc_options o;
        o.bins = bins;
        const auto r = chempp::diagnostics::run_sbc(samples, truths, o);
        py::list chi2, ks;
        for (const auto& t : r.chi2) chi2.append(t.p_value);
        for (const auto& t : r.ks) ks.append(t.p_value);
        return py::dict("ranks"_a = Eigen::MatrixXi(r.ranks), "num_samples"_a = r.num_samples, "histograms"_a = r.histograms,
                        "chi2_p"_a = chi2, "ks_p"_a = ks, "levels"_a = r.levels, "coverage"_a = r.coverage);
      },
      "samples"_a, "truths"_a, "bins"_a = 10, "Simulation-based calibration (Talts et al. 2018): one (L, D) array per case.");
  m.def(
      "tarp",
      [](const std::vector<Eigen::MatrixXd>& samples, const Eigen::MatrixXd& truths, std::size_t bins, std::size_t bootstrap,
         std::uint64_t seed) {
        chempp::diagnostics::tarp_options o;
        o.num_alpha_bins = bins;
        o.num_bootstrap = bootstrap;
        o.seed = seed;
        const auto r = chempp::diagnostics::run_tarp(samples, truths, o);
        return py::dict("alpha"_a = r.alpha, "ecp"_a = r.ecp, "f"_a = r.f, "ecp_std"_a = r.ecp_std, "atc"_a = r.atc,
                        "max_abs_deviation"_a = r.max_abs_deviation);
      },
      "samples"_a, "truths"_a, "bins"_a = 0, "bootstrap"_a = 100, "seed"_a = 0,
      "TARP expected coverage (Lemos et al. 2023): one (L, D) array per case.");
}
