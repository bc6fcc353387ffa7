// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the yields module.
#include "chempp/yields/yield_table.hpp"
