// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The `Simulator` concept — the forward model f(θ) of a star's observables — and its three
/// policies: the neural emulator (fast), the CHEMPY GCE model itself (exact), and a linear
/// model (for problems with a closed-form answer).
///
/// θ = (α_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T [Gyr]) for the paper's model
/// (Buck et al. 2025 §2.2); observables are abundances [dex] in the order the caller chose
/// (the paper's: [C/Fe], [Fe/H], [He/Fe], [Mg/Fe], [N/Fe], [Ne/Fe], [O/Fe], [Si/Fe]).
/// A simulator writes NaN for a parameter vector where the model has no solution (a CHEMPY
/// run that fails); the likelihood then treats the star as impossible there.

#include "chempp/core/compat_eigen.hpp"

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::inference {

/// A batch forward model: `simulate(theta, n, out)` maps n row-major parameter vectors
/// (n × n_parameters) to n row-major observable vectors (n × n_observables). Must be callable
/// concurrently from several threads on the same object.
/// A simulator may also offer `simulate_columns(theta, ld_theta, n, out, ld_out)`, the same map
/// on column-major arrays (`ColumnSimulator`); the population engine then uses it.
template <class S>
concept Simulator = requires(const S& s, const double* theta, std::size_t n, double* out) {
  { s.n_parameters() } -> std::convertible_to<std::size_t>;
  { s.n_observables() } -> std::convertible_to<std::size_t>;
  s.simulate(theta, n, out);
};

/// A `Simulator` that also maps column-major arrays: parameter j of row r at theta[j · ld_theta
/// + r], observable i at out[i · ld_out + r], with the same values as `simulate`.
template <class S>
concept ColumnSimulator = Simulator<S> && requires(const S& s, const double* theta, std::size_t n, double* out) {
  s.simulate_columns(theta, n, n, out, n);
};

/// A compiled network that also evaluates column-major (feature-major) arrays in place,
/// `net.columns(x, ldx, y, ldy, n)` (nn::simd_mlp).
template <class Net>
concept ColumnNetwork = requires(const Net& net, const typename Net::batch_type::value_type* x,
                                 typename Net::batch_type::value_type* y, std::size_t l) {
  net.columns(x, l, y, l, l);
};

/// Emulator policy: a compiled network `Net` (e.g. `nn::simd_mlp<float>`, called as
/// `net(const T* x, T* y, n)` with row-major layouts) whose raw outputs are reduced to the
/// observables by an index list (e.g. the 8 observables = the 9 CHEMPY outputs without H).
template <class Net>
class emulator_simulator {
 public:
  using value_type = typename Net::batch_type::value_type;

  /// \param net     the compiled network (input size = number of parameters)
  /// \param outputs indices of the network outputs that form the observables, in order
  /// \throws invalid_argument on an empty list or an index beyond the network's outputs.
  emulator_simulator(Net net, std::vector<std::size_t> outputs)
      : net_(std::move(net)), outputs_(std::move(outputs)) {
    if (outputs_.empty()) throw invalid_argument("emulator_simulator: outputs must not be empty");
    for (auto o : outputs_)
      if (o >= net_.output_size())
        chempp::detail::throw_argument("emulator_simulator", "outputs", "names an output beyond the network's",
                                       static_cast<double>(o));
    for (std::size_t j = 0; j < outputs_.size(); ++j)  // runs of consecutive outputs
      if (j == 0 || outputs_[j] != outputs_[j - 1] + 1) runs_.push_back(output_run{outputs_[j], j, 1});
      else ++runs_.back().length;
  }
  [[nodiscard]] std::size_t n_parameters() const noexcept { return net_.input_size(); }
  [[nodiscard]] std::size_t n_observables() const noexcept { return outputs_.size(); }
  [[nodiscard]] const Net& network() const noexcept { return net_; }
  [[nodiscard]] const std::vector<std::size_t>& outputs() const noexcept { return outputs_; }

  /// Evaluates n parameter vectors (allocates two small buffers per call).
  void simulate(const double* theta, std::size_t n, double* out) const {
    const std::size_t p = net_.input_size(), r = net_.output_size(), k = outputs_.size();
    std::vector<value_type> x(n * p), y(n * r);
    for (std::size_t i = 0; i < n * p; ++i) x[i] = static_cast<value_type>(theta[i]);
    net_(x.data(), y.data(), n);
    // the observables as runs of consecutive outputs (plain copies: an index list per sample
    // compiled to gathers, ~4 % of bench_population's hot loop in perf, 2026-12-02)
    for (std::size_t s = 0; s < n; ++s)
      for (const auto& o : runs_) {
        const value_type* src = y.data() + s * r + o.first_output;
        double* dst = out + s * k + o.first_observable;
        for (std::size_t t = 0; t < o.length; ++t) dst[t] = static_cast<double>(src[t]);
      }
  }
  /// The same map with parameter-major (column-major) layouts: parameter j of row r at
  /// theta[j · ld_theta + r], observable i at out[i · ld_out + r] (ld_theta, ld_out ≥ n). For
  /// networks that evaluate such layouts in place (`net.columns`, as nn::simd_mlp), these are
  /// the kernel's SIMD lanes: no transposes (the population engine takes this path when a
  /// simulator has it). Each row's observables are the same bits as `simulate`'s (tested).
  void simulate_columns(const double* theta, std::size_t ld_theta, std::size_t n, double* out, std::size_t ld_out) const
    requires ColumnNetwork<Net>
  {
    const std::size_t p = net_.input_size(), r = net_.output_size();
    std::vector<value_type> x(n * p), y(n * r);
    for (std::size_t j = 0; j < p; ++j)
      for (std::size_t i = 0; i < n; ++i) x[j * n + i] = static_cast<value_type>(theta[j * ld_theta + i]);
    net_.columns(x.data(), n, y.data(), n, n);
    for (std::size_t j = 0; j < outputs_.size(); ++j)
      for (std::size_t i = 0; i < n; ++i) out[j * ld_out + i] = static_cast<double>(y[outputs_[j] * n + i]);
  }

 private:
  struct output_run {  // outputs first_output … + length − 1 → observables first_observable …
    std::size_t first_output, first_observable, length;
  };
  Net net_;
  std::vector<std::size_t> outputs_;
  std::vector<output_run> runs_;
};

/// GCE policy: runs a CHEMPY-like model (`model.make_workspace()`, `model.run(params, ws)`
/// returning a result with `ok()` and `abundances`, e.g. `gce::chempy_model`) for every θ; a
/// failed run (CHEMPY's `inf`) or a parameter outside the model's domain gives NaN observables.
/// `Params` converts a 6-vector θ (e.g. `gce::chempy_parameters::from_theta`).
template <class Model, class Params>
class gce_simulator {
 public:
  /// \param model     the GCE model (kept by reference: it must outlive the simulator)
  /// \param to_params θ → model parameters. θ outside the model's domain (`Model::in_domain`,
  ///                  when the model has one) gives NaN observables.
  gce_simulator(const Model& model, Params to_params, std::size_t n_observables = 8)
      : model_(&model), to_params_(std::move(to_params)), k_(n_observables) {}
  [[nodiscard]] std::size_t n_parameters() const noexcept { return 6; }
  [[nodiscard]] std::size_t n_observables() const noexcept { return k_; }

  void simulate(const double* theta, std::size_t n, double* out) const {
    auto ws = model_->make_workspace();
    for (std::size_t s = 0; s < n; ++s) {
      std::array<double, 6> t{};
      for (std::size_t j = 0; j < 6; ++j) t[j] = theta[s * 6 + j];
      bool ok = false;
      const auto params = to_params_(t);
      // outside the model's domain no star can be made: NaN observables, no exception
      bool inside = true;
      if constexpr (requires { { Model::in_domain(params) } -> std::convertible_to<bool>; }) inside = Model::in_domain(params);
      if (inside) {
        const auto res = model_->run(params, ws);
        if (res.ok()) {
          for (std::size_t j = 0; j < k_; ++j) out[s * k_ + j] = res.abundances[j];
          ok = true;
        }
      }
      if (!ok)
        for (std::size_t j = 0; j < k_; ++j) out[s * k_ + j] = std::numeric_limits<double>::quiet_NaN();
    }
  }

 private:
  const Model* model_;
  Params to_params_;
  std::size_t k_;
};

/// Linear policy f(θ) = A θ + b (K × P matrix A): with Gaussian priors the population posterior
/// and the evidence are closed-form, which the tests use to check the population engine.
class linear_simulator {
 public:
  /// \throws invalid_argument if b's size differs from A's rows or A is empty / not finite.
  linear_simulator(Eigen::MatrixXd a, Eigen::VectorXd b) : a_(std::move(a)), b_(std::move(b)) {
    if (a_.size() == 0 || b_.size() != a_.rows())
      throw invalid_argument("linear_simulator: A must be K x P and b of size K");
    if (!a_.allFinite() || !b_.allFinite()) throw invalid_argument("linear_simulator: A and b must be finite");
  }
  [[nodiscard]] std::size_t n_parameters() const noexcept { return static_cast<std::size_t>(a_.cols()); }
  [[nodiscard]] std::size_t n_observables() const noexcept { return static_cast<std::size_t>(a_.rows()); }
  [[nodiscard]] const Eigen::MatrixXd& matrix() const noexcept { return a_; }
  [[nodiscard]] const Eigen::VectorXd& offset() const noexcept { return b_; }
  void simulate(const double* theta, std::size_t n, double* out) const {
    const auto p = a_.cols(), k = a_.rows();
    for (std::size_t s = 0; s < n; ++s) {
      Eigen::Map<const Eigen::VectorXd> t(theta + static_cast<Eigen::Index>(s) * p, p);
      Eigen::Map<Eigen::VectorXd> y(out + static_cast<Eigen::Index>(s) * k, k);
      y = a_ * t + b_;
    }
  }

 private:
  Eigen::MatrixXd a_;
  Eigen::VectorXd b_;
};

static_assert(Simulator<linear_simulator>);

/// Evaluates a simulator on the rows of an n × P matrix, returning n × K.
template <Simulator S>
[[nodiscard]] Eigen::MatrixXd simulate_rows(const S& sim, const Eigen::Ref<const Eigen::MatrixXd>& theta) {
  if (static_cast<std::size_t>(theta.cols()) != sim.n_parameters())
    chempp::detail::throw_argument("simulate_rows", "theta.cols()", "must equal the simulator's parameter count",
                                   static_cast<double>(theta.cols()));
  using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const row_matrix t = theta;
  row_matrix out(theta.rows(), static_cast<Eigen::Index>(sim.n_observables()));
  sim.simulate(t.data(), static_cast<std::size_t>(t.rows()), out.data());
  return out;
}

}  // namespace chempp::inference
