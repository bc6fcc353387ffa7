// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the inference module: priors, noise models, Gaussian fits of posterior
/// samples, multi-star combiners (Gaussian policies and the exact grid combination), the NUTS
/// sampler with its diagnostics and the hierarchical whole-galaxy posterior it samples.

#include "chempp/inference/gaussian_combiner.hpp"
#include "chempp/inference/gaussian_fit.hpp"
#include "chempp/inference/grid_combiner.hpp"
#include "chempp/inference/model_average.hpp"
#include "chempp/inference/hierarchical_model.hpp"
#include "chempp/inference/noise_model.hpp"
#include "chempp/inference/nuts.hpp"
#include "chempp/inference/population.hpp"
#include "chempp/inference/simulator.hpp"
#include "chempp/inference/star_likelihood.hpp"
#include "chempp/inference/prior.hpp"
