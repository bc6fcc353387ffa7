// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the flow module: the conditional masked autoregressive flow (MAF) posterior
/// estimator of Buck et al. 2025 (sbi 0.23.1 MAF), its training, fast sampling and JSON IO.
/// See docs/flow.md.

#include "chempp/flow/activation.hpp"
#include "chempp/flow/benchmark_task.hpp"
#include "chempp/flow/io.hpp"
#include "chempp/flow/made.hpp"
#include "chempp/flow/maf.hpp"
#include "chempp/flow/permutation.hpp"
#include "chempp/flow/sampler.hpp"
#include "chempp/flow/train.hpp"
