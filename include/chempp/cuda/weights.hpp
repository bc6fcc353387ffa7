// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Plain host-side weight structures for the CUDA back end (`chempp/cuda/*.cuh`): no Eigen,
/// xtensor, xsimd or CUDA here, C++17, so that CUDA translation units compiled with
/// `CUDA_STANDARD 17` can include them. Fill them from the CPU classes with
/// `chempp/cuda/convert.hpp` (host C++20 code), or by hand.
///
/// Layout: every matrix is row-major (`rows x cols`, element (r, c) at `r * cols + c`), as in
/// PyTorch's `nn.Linear.weight`. Values are double; the device classes convert them to their
/// scalar type (float or double) on upload.

#include <cstddef>
#include <string>
#include <vector>

#include "chempp/core/error.hpp"

namespace chempp::cuda {

/// Activation functions the kernels know (ids shared with the device code).
enum class activation_id : int {
  identity = 0,  ///< f(a) = a
  tanh = 1,      ///< hyperbolic tangent (the paper's emulator and MADE activation)
  sigmoid = 2,   ///< 1 / (1 + e^{-a})
  softplus = 3,  ///< log(1 + e^a)
  relu = 4       ///< max(a, 0)
};

/// Scale parametrisations of the MAF's affine transform y = scale(s) u + m (ids shared with the
/// device code); see `chempp/flow/maf.hpp`.
enum class scale_id : int {
  softplus = 0,  ///< softplus(s) + 1e-3 (nflows 0.14, sbi 0.23.1; the default)
  sigmoid = 1    ///< sigmoid(s + 2) + 1e-3 (older nflows)
};

/// A dense network `a_{l+1} = f_l(W_l a_l + b_l)` working on raw (unstandardised) inputs and
/// outputs: the input standardisation is folded into layer 0 and, when the last activation is
/// the identity, the output standardisation into the last layer (as `chempp::nn::simd_mlp` does);
/// otherwise `output_scale`/`output_mean` are applied after the last activation.
struct dense_network_weights {
  std::vector<std::size_t> sizes;           ///< n_in, hidden..., n_out
  std::vector<activation_id> activations;   ///< one per layer (sizes.size() - 1)
  std::vector<std::vector<double>> weights; ///< layer l: sizes[l+1] x sizes[l], row-major
  std::vector<std::vector<double>> biases;  ///< layer l: sizes[l+1]
  std::vector<double> output_scale;         ///< empty, or n_out: y = a * scale + mean
  std::vector<double> output_mean;          ///< empty, or n_out

  /// Number of affine layers.
  [[nodiscard]] std::size_t num_layers() const noexcept { return activations.size(); }
  /// n_in (0 when empty).
  [[nodiscard]] std::size_t input_size() const noexcept { return sizes.empty() ? 0 : sizes.front(); }
  /// n_out (0 when empty).
  [[nodiscard]] std::size_t output_size() const noexcept { return sizes.empty() ? 0 : sizes.back(); }

  /// Throws `chempp::invalid_argument` naming the field on inconsistent sizes.
  void validate(const char* fn = "dense_network_weights") const {
    const std::string f(fn);
    if (sizes.size() < 2) throw invalid_argument(f + ": need at least input and output sizes");
    if (activations.size() != sizes.size() - 1 || weights.size() != activations.size() ||
        biases.size() != activations.size())
      throw invalid_argument(f + ": need one activation, weight and bias per layer");
    for (std::size_t l = 0; l < activations.size(); ++l) {
      if (sizes[l] == 0 || sizes[l + 1] == 0) throw invalid_argument(f + ": layer size 0");
      if (weights[l].size() != sizes[l] * sizes[l + 1])
        throw invalid_argument(f + ": weights[" + std::to_string(l) + "] has " + std::to_string(weights[l].size()) +
                               " values, expected " + std::to_string(sizes[l] * sizes[l + 1]));
      if (biases[l].size() != sizes[l + 1])
        throw invalid_argument(f + ": biases[" + std::to_string(l) + "] has the wrong size");
    }
    if (output_scale.size() != output_mean.size() || (!output_scale.empty() && output_scale.size() != sizes.back()))
      throw invalid_argument(f + ": output_scale/output_mean must be empty or have n_out entries");
  }
};

/// One conditional MADE (see `chempp/flow/made.hpp`): masked weights with the masks already
/// applied (masked entries are exactly zero).
struct made_weights {
  std::vector<double> w_in;                   ///< H x D
  std::vector<double> w_ctx;                  ///< H x C
  std::vector<double> b_in;                   ///< H
  std::vector<std::vector<double>> w_hidden;  ///< blocks x (H x H)
  std::vector<std::vector<double>> b_hidden;  ///< blocks x H
  std::vector<double> w_out;                  ///< 2D x H (rows 0..D-1: unconstrained scales, D..2D-1: shifts)
  std::vector<double> b_out;                  ///< 2D
};

/// A conditional masked autoregressive flow q(θ | x) (see `chempp/flow/maf.hpp`): T MADEs, the
/// permutation after each (`next[i] = y[perm[i]]`), the θ and x z-scoring and the policies.
struct maf_weights {
  std::size_t features = 0;  ///< D = dim θ
  std::size_t context = 0;   ///< C = dim x
  std::size_t hidden = 0;    ///< H
  std::size_t blocks = 0;    ///< activated hidden layers per MADE
  activation_id activation = activation_id::tanh;  ///< MADE hidden activation (tanh or relu)
  scale_id scale = scale_id::softplus;             ///< scale parametrisation
  /// MADE degree rule (`made_shape::condition_first`): false = nflows, hidden degrees start at 1.
  bool condition_first = false;
  std::vector<made_weights> transforms;            ///< T MADEs
  std::vector<std::vector<int>> permutations;      ///< T permutations of {0..D-1}
  std::vector<double> theta_mean, theta_std;       ///< D each (θ units)
  std::vector<double> x_mean, x_std;               ///< C each (x units)

  /// Number of transforms T.
  [[nodiscard]] std::size_t num_transforms() const noexcept { return transforms.size(); }

  /// True if every permutation maps {0..k-1} onto itself (then the marginal density of the first
  /// k dimensions is exact; `permutation_kind::global_first`).
  [[nodiscard]] bool keeps_leading_block(std::size_t k) const noexcept {
    for (const auto& p : permutations)
      for (std::size_t i = 0; i < k && i < p.size(); ++i)
        if (p[i] < 0 || static_cast<std::size_t>(p[i]) >= k) return false;
    return true;
  }

  /// Throws `chempp::invalid_argument` naming the field on inconsistent sizes, a bad permutation
  /// or a non-positive standard deviation.
  void validate(const char* fn = "maf_weights") const {
    const std::string f(fn);
    const std::size_t d = features, c = context, h = hidden;
    if (d == 0 || h == 0) throw invalid_argument(f + ": features and hidden must be >= 1");
    if (transforms.empty()) throw invalid_argument(f + ": no transforms");
    if (permutations.size() != transforms.size()) throw invalid_argument(f + ": need one permutation per transform");
    if (activation != activation_id::tanh && activation != activation_id::relu)
      throw invalid_argument(f + ": MADE activation must be tanh or relu");
    auto need = [&](const std::vector<double>& v, std::size_t n, const std::string& what) {
      if (v.size() != n)
        throw invalid_argument(f + ": " + what + " has " + std::to_string(v.size()) + " values, expected " +
                               std::to_string(n));
    };
    for (std::size_t t = 0; t < transforms.size(); ++t) {
      const auto& m = transforms[t];
      const std::string p = "transforms[" + std::to_string(t) + "].";
      need(m.w_in, h * d, p + "w_in");
      need(m.w_ctx, h * c, p + "w_ctx");
      need(m.b_in, h, p + "b_in");
      if (m.w_hidden.size() != blocks || m.b_hidden.size() != blocks)
        throw invalid_argument(f + ": " + p + "w_hidden/b_hidden need `blocks` entries");
      for (std::size_t b = 0; b < blocks; ++b) {
        need(m.w_hidden[b], h * h, p + "w_hidden[" + std::to_string(b) + "]");
        need(m.b_hidden[b], h, p + "b_hidden[" + std::to_string(b) + "]");
      }
      need(m.w_out, 2 * d * h, p + "w_out");
      need(m.b_out, 2 * d, p + "b_out");
      const auto& perm = permutations[t];
      std::vector<char> seen(d, 0);
      bool ok = perm.size() == d;
      for (std::size_t i = 0; ok && i < d; ++i) {
        ok = perm[i] >= 0 && static_cast<std::size_t>(perm[i]) < d && !seen[static_cast<std::size_t>(perm[i])];
        if (ok) seen[static_cast<std::size_t>(perm[i])] = 1;
      }
      if (!ok) throw invalid_argument(f + ": permutations[" + std::to_string(t) + "] is not a permutation of {0..D-1}");
    }
    need(theta_mean, d, "theta_mean");
    need(theta_std, d, "theta_std");
    need(x_mean, c, "x_mean");
    need(x_std, c, "x_std");
    for (double s : theta_std) check_positive(fn, "theta_std", s);
    for (double s : x_std) check_positive(fn, "x_std", s);
  }
};

}  // namespace chempp::cuda
