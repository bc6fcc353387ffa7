// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header: all of chempp's core modules. Optional back ends (`chempp/cuda/`) are
/// never included from here.
#include "chempp/elements.hpp"
#include "chempp/io.hpp"
#include "chempp/yields.hpp"
