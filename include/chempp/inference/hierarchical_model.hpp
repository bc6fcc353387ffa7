// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The log posterior of a whole galaxy for gradient-based samplers (NUTS,
/// `chempp/inference/nuts.hpp`): the hierarchical model of Buck et al. 2025 §2.4 with shared
/// global parameters Λ and per-star local parameters, written in an unconstrained space.
///
/// Parameters q = (u_Λ, u_1, …, u_N): G global coordinates, then L local coordinates per star.
/// Every coordinate maps to its physical value by its prior factor: a Normal factor is the
/// identity, a Uniform[a, b] factor the logistic map θ = a + (b − a) σ(u) with log Jacobian
/// log(b − a) + log σ(u) + log σ(−u) (Stan Reference Manual, "Constraint transforms:
/// lower and upper bounded scalar"). The simulator sees θ_i = (Λ, θ_i,local) (G + L inputs; for
/// the paper, θ_i = (α_IMF, log10 N_Ia, log10 SFE, log10 SFR_peak, x_out, T)), and
///
///   log p(q | X) = log p_Λ(Λ) + log|J_Λ| + Σ_i [ log p_local(θ_i,local) + log|J_i|
///                                               + log p(x_i | f(θ_i)) ],
///
/// with the per-star likelihood `star_likelihood` (masks and model covariance). The priors are
/// `product_prior`s: by default `global_prior()` for Λ and `paper_prior().marginal({2,3,4,5})`
/// for the local parameters (T ~ U[2, 12.8] Gyr goes through the logit).
///
/// Simulators are policies with `value_and_jacobian(θ, f, J)`: `differentiable_linear_simulator`
/// (f = A θ + b, for tests and conjugate checks) and `differentiable_mlp_simulator` (a trained
/// `nn::mlp`, e.g. the CHEMPY emulator, with the Jacobian of its input/output standardisation
/// included). Both also satisfy `Simulator` (chempp/inference/simulator.hpp).

#include "chempp/core/compat_eigen.hpp"

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "chempp/core/error.hpp"
#include "chempp/inference/prior.hpp"
#include "chempp/inference/simulator.hpp"
#include "chempp/inference/star_likelihood.hpp"
#include "chempp/nn/mlp.hpp"

namespace chempp::inference {

/// A differentiable simulator θ ↦ f(θ): `value_and_jacobian(θ, f, J)` writes the K outputs f
/// and the K × dim(θ) Jacobian J = ∂f/∂θ.
template <class S>
concept DifferentiableSimulator = requires(const S& s, const Eigen::VectorXd& theta,
                                           Eigen::VectorXd& f, Eigen::MatrixXd& j) {
  s.value_and_jacobian(theta, f, j);
};

/// The affine simulator f = A θ + b with J = A: `linear_simulator` made differentiable (the
/// linear-Gaussian test model, whose hierarchical posterior is known in closed form; Bishop
/// 2006, PRML §2.3.3). Also a `Simulator` (batch `simulate`) for the population engine.
class differentiable_linear_simulator {
 public:
  /// \throws invalid_argument if `a` is empty, `b` has not a.rows() entries, or an entry is
  ///         not finite.
  differentiable_linear_simulator(Eigen::MatrixXd a, Eigen::VectorXd b)
      : a_(std::move(a)), b_(std::move(b)) {
    const char* fn = "differentiable_linear_simulator";
    if (a_.size() == 0) chempp::detail::throw_argument(fn, "a", "must not be empty", 0.0);
    if (b_.size() != a_.rows()) {
      chempp::detail::throw_argument(
          fn, "b", "must have a.rows() = " + std::to_string(a_.rows()) + " entries",
          static_cast<double>(b_.size()));
    }
    if (!a_.allFinite()) throw invalid_argument(std::string(fn) + ": a has non-finite entries");
    if (!b_.allFinite()) throw invalid_argument(std::string(fn) + ": b has non-finite entries");
  }
  /// The same map as `s`.
  explicit differentiable_linear_simulator(const linear_simulator& s)
      : differentiable_linear_simulator(s.matrix(), s.offset()) {}

  /// Number of parameters P (columns of A).
  [[nodiscard]] std::size_t n_parameters() const noexcept {
    return static_cast<std::size_t>(a_.cols());
  }
  /// Number of observables K (rows of A).
  [[nodiscard]] std::size_t n_observables() const noexcept {
    return static_cast<std::size_t>(a_.rows());
  }
  /// A.
  [[nodiscard]] const Eigen::MatrixXd& matrix() const noexcept { return a_; }
  /// b.
  [[nodiscard]] const Eigen::VectorXd& offset() const noexcept { return b_; }
  /// f = A θ + b. \throws invalid_argument on a size mismatch.
  [[nodiscard]] Eigen::VectorXd value(const Eigen::VectorXd& theta) const {
    check(theta);
    return a_ * theta + b_;
  }
  /// f = A θ + b and J = A. \throws invalid_argument on a size mismatch.
  void value_and_jacobian(const Eigen::VectorXd& theta, Eigen::VectorXd& f,
                          Eigen::MatrixXd& j) const {
    check(theta);
    f.noalias() = a_ * theta;
    f += b_;
    j = a_;
  }
  /// Batch evaluation (the `Simulator` concept): n row-major θ (n × P) to n × K row-major.
  void simulate(const double* theta, std::size_t n, double* out) const {
    const Eigen::Index p = a_.cols(), k = a_.rows();
    for (std::size_t s = 0; s < n; ++s) {
      Eigen::Map<const Eigen::VectorXd> t(theta + static_cast<Eigen::Index>(s) * p, p);
      Eigen::Map<Eigen::VectorXd> y(out + static_cast<Eigen::Index>(s) * k, k);
      y.noalias() = a_ * t;
      y += b_;
    }
  }

 private:
  void check(const Eigen::VectorXd& theta) const {
    if (theta.size() != a_.cols()) {
      chempp::detail::throw_argument(
          "differentiable_linear_simulator", "theta",
          "has the wrong size (expected " + std::to_string(a_.cols()) + ")",
          static_cast<double>(theta.size()));
    }
  }
  Eigen::MatrixXd a_;
  Eigen::VectorXd b_;
};

/// The CHEMPY emulator's 9 raw outputs are (C/Fe, Fe/H, H, He/Fe, Mg/Fe, N/Fe, Ne/Fe, O/Fe,
/// Si/Fe); the 8 observables of Buck et al. 2025 §2.3 drop index 2 (H).
inline constexpr std::array<Eigen::Index, 8> chempy_observable_outputs{0, 1, 3, 4, 5, 6, 7, 8};

/// A trained dense network as a differentiable simulator of a chosen subset of its outputs,
/// in raw (unstandardised) units. With x̃ = (θ − m_in)/s_in and y = s_out ⊙ N(x̃) + m_out,
/// ∂y_k/∂θ_j = s_out,k · ∂N_k/∂x̃_j / s_in,j, with ∂N/∂x̃ by forward mode (6 inputs: cheaper
/// than one reverse pass per output). The network is held in double precision (a float
/// emulator is cast).
class differentiable_mlp_simulator {
 public:
  /// Selects `outputs` (indices into the network's outputs, in the order wanted).
  /// \throws invalid_argument if `outputs` is empty or an index is out of range, or the
  ///         network's scalings are invalid (wrong size, non-finite, scale ≤ 0).
  template <class T>
  differentiable_mlp_simulator(const nn::mlp<T>& net, std::vector<Eigen::Index> outputs)
      : net_(net.template cast<double>()), outputs_(std::move(outputs)) {
    const char* fn = "differentiable_mlp_simulator";
    if (net_.num_layers() == 0) throw invalid_argument(std::string(fn) + ": net has no layers");
    net_.input_scaling().validate(net_.input_size(), std::string(fn) + " (input scaling)");
    net_.output_scaling().validate(net_.output_size(), std::string(fn) + " (output scaling)");
    if (outputs_.empty()) chempp::detail::throw_argument(fn, "outputs", "must not be empty", 0.0);
    for (std::size_t k = 0; k < outputs_.size(); ++k) {
      if (outputs_[k] < 0 || static_cast<std::size_t>(outputs_[k]) >= net_.output_size()) {
        chempp::detail::throw_argument(
            fn, "outputs[" + std::to_string(k) + "]",
            "is out of range (net has " + std::to_string(net_.output_size()) + " outputs)",
            static_cast<double>(outputs_[k]));
      }
    }
  }
  /// All outputs of `net`, in order.
  template <class T>
  explicit differentiable_mlp_simulator(const nn::mlp<T>& net)
      : differentiable_mlp_simulator(net, all_outputs(net)) {}

  /// The paper's 8 observables from a 9-output CHEMPY emulator (`chempy_observable_outputs`).
  /// \throws invalid_argument unless the net has 6 inputs and 9 outputs.
  template <class T>
  [[nodiscard]] static differentiable_mlp_simulator chempy_observables(const nn::mlp<T>& net) {
    if (net.input_size() != 6 || net.output_size() != 9) {
      chempp::detail::throw_argument("differentiable_mlp_simulator::chempy_observables", "net",
                                     "must have 6 inputs and 9 outputs (output count given)",
                                     static_cast<double>(net.output_size()));
    }
    return differentiable_mlp_simulator(net,
                                        std::vector<Eigen::Index>(chempy_observable_outputs.begin(),
                                                                  chempy_observable_outputs.end()));
  }

  /// Number of parameters (network inputs).
  [[nodiscard]] std::size_t n_parameters() const noexcept { return net_.input_size(); }
  /// Number of selected outputs K.
  [[nodiscard]] std::size_t n_observables() const noexcept { return outputs_.size(); }
  /// The selected output indices.
  [[nodiscard]] const std::vector<Eigen::Index>& outputs() const noexcept { return outputs_; }
  /// The network (double precision).
  [[nodiscard]] const nn::mlp<double>& net() const noexcept { return net_; }

  /// The selected outputs in raw units (the network's `predict`).
  /// \throws invalid_argument on a size mismatch.
  [[nodiscard]] Eigen::VectorXd value(const Eigen::VectorXd& theta) const {
    check(theta);
    const nn::matrix<double> y = net_.predict(theta);
    Eigen::VectorXd f(static_cast<Eigen::Index>(outputs_.size()));
    for (Eigen::Index k = 0; k < f.size(); ++k) f(k) = y(outputs_[static_cast<std::size_t>(k)], 0);
    return f;
  }

  /// Batch evaluation (the `Simulator` concept): n row-major θ (n × P) to n × K row-major,
  /// through the network's Eigen `predict` (the SIMD path of `emulator_simulator` is faster).
  void simulate(const double* theta, std::size_t n, double* out) const {
    const auto p = static_cast<Eigen::Index>(net_.input_size());
    const Eigen::Map<const Eigen::MatrixXd> x(theta, p, static_cast<Eigen::Index>(n));
    const nn::matrix<double> y = net_.predict(x);
    const std::size_t k = outputs_.size();
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t j = 0; j < k; ++j)
        out[s * k + j] = y(outputs_[j], static_cast<Eigen::Index>(s));
  }

  /// Selected outputs f (raw units) and J = ∂f/∂θ (K × n_in) by forward-mode
  /// differentiation: the tangent matrix T_l = ∂a_l/∂θ (n_l × n_in) is carried through each
  /// layer as T_{l+1} = diag(φ'(z_l)) W_l T_l from T_0 = diag(1/s_in) (Griewank & Walther
  /// 2008, "Evaluating Derivatives", 2nd ed., §3.1). \throws invalid_argument on a size
  /// mismatch.
  void value_and_jacobian(const Eigen::VectorXd& theta, Eigen::VectorXd& f,
                          Eigen::MatrixXd& j) const {
    check(theta);
    const auto& sin = net_.input_scaling();
    const auto& sout = net_.output_scaling();
    Eigen::VectorXd a = (theta - sin.mean).cwiseQuotient(sin.scale);
    Eigen::MatrixXd t = sin.scale.cwiseInverse().asDiagonal();
    Eigen::VectorXd z;
    Eigen::MatrixXd tz;
    for (std::size_t l = 0; l < net_.num_layers(); ++l) {
      const auto lay = net_.layer(l);
      z.noalias() = lay.weight() * a;
      z += lay.bias();
      tz.noalias() = lay.weight() * t;
      a.resize(z.size());
      nn::visit_activation(net_.layer_activation(l), [&](auto fn) {
        using act = decltype(fn);
        for (Eigen::Index i = 0; i < z.size(); ++i) {
          a(i) = act::apply(z(i));
          tz.row(i) *= act::derivative(z(i), a(i));
        }
      });
      t.swap(tz);
    }
    const auto k_out = static_cast<Eigen::Index>(outputs_.size());
    f.resize(k_out);
    j.resize(k_out, theta.size());
    for (Eigen::Index k = 0; k < k_out; ++k) {
      const Eigen::Index o = outputs_[static_cast<std::size_t>(k)];
      f(k) = a(o) * sout.scale(o) + sout.mean(o);
      j.row(k) = sout.scale(o) * t.row(o);
    }
  }

 private:
  template <class T>
  static std::vector<Eigen::Index> all_outputs(const nn::mlp<T>& net) {
    std::vector<Eigen::Index> o(net.output_size());
    for (std::size_t k = 0; k < o.size(); ++k) o[k] = static_cast<Eigen::Index>(k);
    return o;
  }
  void check(const Eigen::VectorXd& theta) const {
    if (static_cast<std::size_t>(theta.size()) != net_.input_size()) {
      chempp::detail::throw_argument(
          "differentiable_mlp_simulator", "theta",
          "has the wrong size (expected " + std::to_string(net_.input_size()) + ")",
          static_cast<double>(theta.size()));
    }
  }
  nn::mlp<double> net_;
  std::vector<Eigen::Index> outputs_;
};

static_assert(DifferentiableSimulator<differentiable_linear_simulator>);
static_assert(Simulator<differentiable_linear_simulator>);
static_assert(DifferentiableSimulator<differentiable_mlp_simulator>);
static_assert(Simulator<differentiable_mlp_simulator>);

/// Maps between a prior factor's physical coordinate and the unconstrained one NUTS samples.
namespace detail::unconstrained {

/// log σ(u) = −log(1 + e^(−u)), stable for either sign.
inline double log_sigmoid(double u) noexcept {
  return u >= 0.0 ? -std::log1p(std::exp(-u)) : u - std::log1p(std::exp(u));
}
/// σ(u) = 1/(1 + e^(−u)), stable for either sign.
inline double sigmoid(double u) noexcept {
  if (u >= 0.0) return 1.0 / (1.0 + std::exp(-u));
  const double e = std::exp(u);
  return e / (1.0 + e);
}

/// One coordinate mapped from unconstrained u to its physical θ by its prior factor, with
/// dθ/du, log p(θ) + log|dθ/du| and its derivative in u.
struct mapped_coordinate {
  double theta = 0.0;
  double dtheta_du = 1.0;
  double log_density = 0.0;  ///< log p(θ(u)) + log|dθ/du|
  double dlog_density_du = 0.0;
};

/// Normal: θ = u, log N(θ; a, b²). Uniform[a, b]: θ = a + (b−a) σ(u), and
/// −log(b−a) + log(b−a) + log σ(u) + log σ(−u), derivative 1 − 2σ(u) (Stan Reference Manual,
/// "Lower and upper bounded scalar").
inline mapped_coordinate map(const prior_factor& f, double u) noexcept {
  mapped_coordinate m;
  if (f.family == prior_factor::kind::normal) {
    const double z = (u - f.a) / f.b;
    m.theta = u;
    m.dtheta_du = 1.0;
    m.log_density = -0.5 * z * z - std::log(f.b) - 0.5 * std::log(2.0 * std::numbers::pi);
    m.dlog_density_du = -z / f.b;
  } else {
    const double s = sigmoid(u);
    const double sc = sigmoid(-u);
    m.theta = f.a + (f.b - f.a) * s;
    m.dtheta_du = (f.b - f.a) * s * sc;
    m.log_density = log_sigmoid(u) + log_sigmoid(-u);
    m.dlog_density_du = sc - s;
  }
  return m;
}

/// Inverse of `map`: u from physical θ. \throws invalid_argument naming `what`
/// unless θ is finite and, for a uniform factor, strictly inside (a, b).
inline double unmap(const prior_factor& f, double theta, const std::string& what) {
  check_finite("hierarchical_model::unconstrain", what, theta);
  if (f.family == prior_factor::kind::normal) return theta;
  if (!(theta > f.a && theta < f.b)) {
    chempp::detail::throw_argument("hierarchical_model::unconstrain", what,
                                   "must lie strictly inside (" +
                                       chempp::detail::format_value(f.a) + ", " +
                                       chempp::detail::format_value(f.b) + ")",
                                   theta);
  }
  const double p = (theta - f.a) / (f.b - f.a);
  return std::log(p) - std::log1p(-p);
}

}  // namespace detail::unconstrained

/// The whole-galaxy log posterior over q = (u_Λ, u_1, …, u_N) (see the file comment); a
/// `DifferentiableLogDensity` for `run_nuts`. The simulator's input is (Λ, θ_local).
template <DifferentiableSimulator S>
class hierarchical_model {
 public:
  /// \param simulator  f(θ) with G + L inputs and K outputs
  /// \param stars      one likelihood per star, each over the simulator's K outputs
  /// \param global     prior of the G global parameters Λ
  /// \param local      prior of the L local parameters of every star
  /// \throws invalid_argument if `stars` is empty, or (when the simulator reports its sizes
  ///         with `n_parameters()` / `n_observables()`) its input size is not G + L or its
  ///         output size differs from a star's K (naming the star).
  hierarchical_model(S simulator, std::vector<star_likelihood> stars,
                     product_prior global = global_prior(),
                     product_prior local = paper_prior().marginal({2, 3, 4, 5}))
      : sim_(std::move(simulator)),
        stars_(std::move(stars)),
        global_(std::move(global)),
        local_(std::move(local)) {
    const char* fn = "hierarchical_model";
    if (stars_.empty()) chempp::detail::throw_argument(fn, "stars", "must not be empty", 0.0);
    g_ = static_cast<Eigen::Index>(global_.dim());
    l_ = static_cast<Eigen::Index>(local_.dim());
    if constexpr (requires { sim_.n_parameters(); }) {
      if (static_cast<Eigen::Index>(sim_.n_parameters()) != g_ + l_) {
        chempp::detail::throw_argument(
            fn, "simulator",
            "input size must be global + local dimension (" + std::to_string(g_ + l_) + ")",
            static_cast<double>(sim_.n_parameters()));
      }
    }
    if constexpr (requires { sim_.n_observables(); }) {
      for (std::size_t i = 0; i < stars_.size(); ++i) {
        if (stars_[i].dim() != static_cast<Eigen::Index>(sim_.n_observables())) {
          chempp::detail::throw_argument(fn, "stars[" + std::to_string(i) + "]",
                                         "has a different number of observables from the "
                                         "simulator's outputs (" +
                                             std::to_string(sim_.n_observables()) + ")",
                                         static_cast<double>(stars_[i].dim()));
        }
      }
    }
  }

  /// Total dimension G + N L of q.
  [[nodiscard]] Eigen::Index dim() const noexcept {
    return g_ + static_cast<Eigen::Index>(stars_.size()) * l_;
  }
  /// Number of global parameters G.
  [[nodiscard]] Eigen::Index global_dim() const noexcept { return g_; }
  /// Number of local parameters L per star.
  [[nodiscard]] Eigen::Index local_dim() const noexcept { return l_; }
  /// Number of stars N.
  [[nodiscard]] std::size_t num_stars() const noexcept { return stars_.size(); }
  /// The simulator.
  [[nodiscard]] const S& simulator() const noexcept { return sim_; }
  /// The stars' likelihoods.
  [[nodiscard]] const std::vector<star_likelihood>& stars() const noexcept { return stars_; }
  /// The prior of the global parameters.
  [[nodiscard]] const product_prior& global_parameter_prior() const noexcept { return global_; }
  /// The prior of each star's local parameters.
  [[nodiscard]] const product_prior& local_parameter_prior() const noexcept { return local_; }

  /// log p(q | X) (normalised priors and likelihoods, Jacobians included) and its gradient in
  /// q (Buck et al. 2025 §2.4 eq. 4 in unconstrained coordinates); −inf (gradient unspecified)
  /// where a simulated observable is not finite.
  /// \throws invalid_argument if q has the wrong size or the simulator returns outputs or a
  ///         Jacobian of the wrong shape.
  double operator()(const Eigen::VectorXd& q, Eigen::VectorXd& grad) const {
    check_q(q, "q");
    grad.setZero(dim());
    double lp = 0.0;
    Eigen::VectorXd theta(g_ + l_), dtheta(g_ + l_), f, grad_f, grad_theta;
    Eigen::MatrixXd jac;
    for (Eigen::Index a = 0; a < g_; ++a) {
      const auto m =
          detail::unconstrained::map(global_.factors()[static_cast<std::size_t>(a)], q(a));
      theta(a) = m.theta;
      dtheta(a) = m.dtheta_du;
      lp += m.log_density;
      grad(a) += m.dlog_density_du;
    }
    Eigen::VectorXd grad_lambda = Eigen::VectorXd::Zero(g_);
    for (std::size_t i = 0; i < stars_.size(); ++i) {
      const Eigen::Index off = g_ + static_cast<Eigen::Index>(i) * l_;
      for (Eigen::Index b = 0; b < l_; ++b) {
        const auto m =
            detail::unconstrained::map(local_.factors()[static_cast<std::size_t>(b)], q(off + b));
        theta(g_ + b) = m.theta;
        dtheta(g_ + b) = m.dtheta_du;
        lp += m.log_density;
        grad(off + b) += m.dlog_density_du;
      }
      sim_.value_and_jacobian(theta, f, jac);
      const Eigen::Index k = stars_[i].dim();
      if (f.size() != k || jac.rows() != k || jac.cols() != g_ + l_) {
        chempp::detail::throw_argument("hierarchical_model", "simulator",
                                       "returned outputs or a Jacobian of the wrong shape for "
                                       "star " +
                                           std::to_string(i) + " (output size given)",
                                       static_cast<double>(f.size()));
      }
      grad_f.resize(k);
      const double ll = stars_[i].value_and_gradient(f, grad_f);
      if (!std::isfinite(ll)) return -INFINITY;
      lp += ll;
      grad_theta.noalias() = jac.transpose() * grad_f;
      grad_lambda += grad_theta.head(g_);
      grad.segment(off, l_) += grad_theta.tail(l_).cwiseProduct(dtheta.tail(l_));
    }
    grad.head(g_) += grad_lambda.cwiseProduct(dtheta.head(g_));
    return lp;
  }

  /// log p(q | X) without the gradient (same value as operator()).
  [[nodiscard]] double log_density(const Eigen::VectorXd& q) const {
    Eigen::VectorXd g;
    return (*this)(q, g);
  }

  /// The physical global parameters Λ at q. \throws invalid_argument on a size mismatch.
  [[nodiscard]] Eigen::VectorXd global_parameters(const Eigen::VectorXd& q) const {
    check_q(q, "q");
    Eigen::VectorXd lambda(g_);
    for (Eigen::Index a = 0; a < g_; ++a)
      lambda(a) =
          detail::unconstrained::map(global_.factors()[static_cast<std::size_t>(a)], q(a)).theta;
    return lambda;
  }

  /// The simulator input θ_i = (Λ, θ_i,local) of star `star` at q (physical units).
  /// \throws invalid_argument on a size mismatch or a star index out of range.
  [[nodiscard]] Eigen::VectorXd star_parameters(const Eigen::VectorXd& q, std::size_t star) const {
    check_star(star);
    Eigen::VectorXd theta(g_ + l_);
    theta.head(g_) = global_parameters(q);
    const Eigen::Index off = g_ + static_cast<Eigen::Index>(star) * l_;
    for (Eigen::Index b = 0; b < l_; ++b) {
      theta(g_ + b) =
          detail::unconstrained::map(local_.factors()[static_cast<std::size_t>(b)], q(off + b))
              .theta;
    }
    return theta;
  }

  /// Λ for every row of a draws × dim matrix (e.g. `nuts_result::draws`): draws × G. With
  /// Normal global priors these are the first G columns.
  /// \throws invalid_argument if `draws` does not have dim() columns.
  [[nodiscard]] Eigen::MatrixXd global_draws(const Eigen::MatrixXd& draws) const {
    check_draws(draws);
    Eigen::MatrixXd out(draws.rows(), g_);
    for (Eigen::Index r = 0; r < draws.rows(); ++r)
      out.row(r) = global_parameters(draws.row(r).transpose()).transpose();
    return out;
  }

  /// The physical local parameters of star `star` for every row of `draws`: draws × L (e.g.
  /// T in Gyr, mapped back through the logistic function).
  /// \throws invalid_argument on a column-count mismatch or a star index out of range.
  [[nodiscard]] Eigen::MatrixXd local_draws(const Eigen::MatrixXd& draws, std::size_t star) const {
    check_draws(draws);
    check_star(star);
    const Eigen::Index off = g_ + static_cast<Eigen::Index>(star) * l_;
    Eigen::MatrixXd out(draws.rows(), l_);
    for (Eigen::Index r = 0; r < draws.rows(); ++r) {
      for (Eigen::Index b = 0; b < l_; ++b) {
        out(r, b) = detail::unconstrained::map(local_.factors()[static_cast<std::size_t>(b)],
                                               draws(r, off + b))
                        .theta;
      }
    }
    return out;
  }

  /// q from physical values: Λ (G) and the local parameters as an N × L matrix (row i =
  /// star i). \throws invalid_argument on size mismatches, non-finite values or a uniform
  /// coordinate not strictly inside its interval (naming it).
  [[nodiscard]] Eigen::VectorXd unconstrain(const Eigen::VectorXd& lambda,
                                            const Eigen::MatrixXd& locals) const {
    if (lambda.size() != g_) {
      chempp::detail::throw_argument("hierarchical_model::unconstrain", "lambda",
                                     "has the wrong size (expected " + std::to_string(g_) + ")",
                                     static_cast<double>(lambda.size()));
    }
    if (locals.rows() != static_cast<Eigen::Index>(stars_.size()) || locals.cols() != l_) {
      chempp::detail::throw_argument("hierarchical_model::unconstrain", "locals",
                                     "must be N x L = " + std::to_string(stars_.size()) + " x " +
                                         std::to_string(l_) + " (rows given)",
                                     static_cast<double>(locals.rows()));
    }
    Eigen::VectorXd q(dim());
    for (Eigen::Index a = 0; a < g_; ++a) {
      q(a) = detail::unconstrained::unmap(global_.factors()[static_cast<std::size_t>(a)], lambda(a),
                                          "lambda[" + std::to_string(a) + "]");
    }
    for (Eigen::Index i = 0; i < locals.rows(); ++i) {
      for (Eigen::Index b = 0; b < l_; ++b) {
        q(g_ + i * l_ + b) = detail::unconstrained::unmap(
            local_.factors()[static_cast<std::size_t>(b)], locals(i, b),
            "locals(" + std::to_string(i) + ", " + std::to_string(b) + ")");
      }
    }
    return q;
  }

  /// The point q at the prior means: Normal coordinates at their means, uniform ones at the
  /// interval's midpoint (u = 0): a reasonable NUTS starting point.
  [[nodiscard]] Eigen::VectorXd prior_mean_point() const {
    Eigen::VectorXd q(dim());
    for (Eigen::Index a = 0; a < g_; ++a)
      q(a) = start_value(global_.factors()[static_cast<std::size_t>(a)]);
    for (std::size_t i = 0; i < stars_.size(); ++i)
      for (Eigen::Index b = 0; b < l_; ++b)
        q(g_ + static_cast<Eigen::Index>(i) * l_ + b) =
            start_value(local_.factors()[static_cast<std::size_t>(b)]);
    return q;
  }

 private:
  static double start_value(const prior_factor& f) noexcept {
    return f.family == prior_factor::kind::normal ? f.a : 0.0;
  }
  void check_q(const Eigen::VectorXd& q, const char* what) const {
    if (q.size() != dim()) {
      chempp::detail::throw_argument("hierarchical_model", what,
                                     "has the wrong size (expected " + std::to_string(dim()) + ")",
                                     static_cast<double>(q.size()));
    }
  }
  void check_draws(const Eigen::MatrixXd& draws) const {
    if (draws.cols() != dim()) {
      chempp::detail::throw_argument(
          "hierarchical_model", "draws",
          "must have dim() = " + std::to_string(dim()) + " columns (columns given)",
          static_cast<double>(draws.cols()));
    }
  }
  void check_star(std::size_t star) const {
    if (star >= stars_.size()) {
      chempp::detail::throw_argument("hierarchical_model", "star", "is out of range",
                                     static_cast<double>(star));
    }
  }

  S sim_;
  std::vector<star_likelihood> stars_;
  product_prior global_;
  product_prior local_;
  Eigen::Index g_ = 0, l_ = 0;
};

}  // namespace chempp::inference
