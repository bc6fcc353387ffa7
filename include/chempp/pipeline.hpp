// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the pipeline module: the paper's pipeline and the population inference
/// as library components (docs/inference.md).
#include "chempp/pipeline/bundle.hpp"
#include "chempp/pipeline/components.hpp"
