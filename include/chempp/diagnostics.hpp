// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the calibration diagnostics: SBC rank statistics and uniformity tests,
/// TARP coverage, and the multi-star combiner coverage check.

#include "chempp/diagnostics/multi_star_coverage.hpp"
#include "chempp/diagnostics/sbc.hpp"
#include "chempp/diagnostics/statistics.hpp"
#include "chempp/diagnostics/tarp.hpp"
