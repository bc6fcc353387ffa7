// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header: all of chempp's core modules. Optional back ends (`chempp/cuda/`) are
/// never included from here.
#include "chempp/diagnostics.hpp"
#include "chempp/elements.hpp"
#include "chempp/flow.hpp"
#include "chempp/gce.hpp"
#include "chempp/inference.hpp"
#include "chempp/io.hpp"
#include "chempp/nn.hpp"
#include "chempp/pipeline.hpp"
#include "chempp/yields.hpp"
