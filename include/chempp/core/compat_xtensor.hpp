// SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// \file
/// The one place chempp includes xtensor. xtensor 0.26+ moved its headers under
/// `xtensor/containers`, `xtensor/io`, ...; Debian 12 ships 0.24 with the flat layout.
/// `XTENSOR_USE_XSIMD` must stay off (Debian pairs xtensor 0.24 with xsimd 8 by a patch).

#if defined(XTENSOR_USE_XSIMD)
#error "chempp: build with XTENSOR_USE_XSIMD off (see docs/style.md)"
#endif

#if __has_include(<xtensor/containers/xtensor.hpp>)
#include <xtensor/containers/xadapt.hpp>
#include <xtensor/containers/xarray.hpp>
#include <xtensor/containers/xtensor.hpp>
#include <xtensor/core/xmath.hpp>
#include <xtensor/io/xnpy.hpp>
#include <xtensor/views/xview.hpp>
#else
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnpy.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#endif
