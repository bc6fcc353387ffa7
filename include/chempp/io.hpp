// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the io module.
#include "chempp/io/catalog.hpp"
#include "chempp/io/json.hpp"
#include "chempp/io/npz.hpp"
