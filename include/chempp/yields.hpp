// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the yields module: the table type, the raw-format loaders of CHEMPY's
/// yield files, the JSON reader/writer and the shipped yield sets.
#include "chempp/yields/json_io.hpp"
#include "chempp/yields/karakas16_loader.hpp"
#include "chempp/yields/nomoto2013_loader.hpp"
#include "chempp/yields/raw_yield_sets.hpp"
#include "chempp/yields/shipped.hpp"
#include "chempp/yields/thielemann2003_loader.hpp"
#include "chempp/yields/tng_loader.hpp"
#include "chempp/yields/yield_table.hpp"
