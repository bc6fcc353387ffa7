// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// Umbrella header of the one-zone GCE module (CHEMPY reimplementation; Buck et al. 2025).

#include "chempp/gce/chempy_model.hpp"
#include "chempp/gce/imf.hpp"
#include "chempp/gce/lifetimes.hpp"
#include "chempp/gce/one_zone.hpp"
#include "chempp/gce/sn1a_dtd.hpp"
#include "chempp/gce/ssp.hpp"
#include "chempp/gce/star_formation.hpp"
#include "chempp/gce/yield_policy.hpp"
