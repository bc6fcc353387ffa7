// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the neural-emulator module: dense MLP with hand-written backprop,
/// training, SIMD inference, JSON weights, training-data generation and accuracy metrics.
#include "chempp/nn/accuracy.hpp"
#include "chempp/nn/activation.hpp"
#include "chempp/nn/emulator.hpp"
#include "chempp/nn/layer.hpp"
#include "chempp/nn/loss.hpp"
#include "chempp/nn/mlp.hpp"
#include "chempp/nn/optimizer.hpp"
#include "chempp/nn/scaling.hpp"
#include "chempp/nn/simd_forward.hpp"
#include "chempp/nn/tensor.hpp"
#include "chempp/nn/trainer.hpp"
#include "chempp/nn/training_data.hpp"
#include "chempp/nn/weights_io.hpp"
