// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the elements module.
#include "chempp/elements/abundances.hpp"
#include "chempp/elements/element.hpp"
