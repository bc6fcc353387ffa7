# SPDX-License-Identifier: BSD-3-Clause
# Optional FITS catalogue reader (include/chempp/io/fits_catalog.hpp): the INTERFACE target
# chempp::fits, which adds cfitsio (found with pkg-config) to chempp::chempp. Enabled only when
# cfitsio is found; everything else builds and tests without it. Its tests (tests/fits) are
# added by tests/CMakeLists.txt when the target exists, and chempp-infer reads .fits catalogs
# with it (examples/CMakeLists.txt).

option(CHEMPP_ENABLE_FITS "Build the optional FITS catalogue reader (chempp::fits) when cfitsio is found" ON)
set(CHEMPP_FITS_FOUND OFF)

if(CHEMPP_ENABLE_FITS)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(CFITSIO QUIET IMPORTED_TARGET cfitsio)
  endif()
  if(CFITSIO_FOUND)
    set(CHEMPP_FITS_FOUND ON)
    message(STATUS "chempp: FITS catalogue reader enabled (cfitsio ${CFITSIO_VERSION})")
  else()
    message(STATUS "chempp: cfitsio not found (pkg-config module 'cfitsio', Debian libcfitsio-dev); the FITS reader (chempp::fits) is disabled")
  endif()
endif()

if(NOT CHEMPP_FITS_FOUND)
  return()
endif()

# ---- the target ---------------------------------------------------------------------------------
add_library(chempp_fits INTERFACE)
add_library(chempp::fits ALIAS chempp_fits)
set_target_properties(chempp_fits PROPERTIES EXPORT_NAME fits)
target_link_libraries(chempp_fits INTERFACE chempp::chempp PkgConfig::CFITSIO)

# ---- install / export: find_package(chemppFits) or find_package(chempp COMPONENTS fits) ---------
include(${CMAKE_CURRENT_LIST_DIR}/chemppComponent.cmake)
chempp_install_component(Fits chempp_fits
  "chempp's optional FITS catalogue reader: defines chempp::fits (needs chempp and cfitsio, found with pkg-config). Also included by chemppConfig.cmake for find_package(chempp COMPONENTS fits)."
  "if(NOT TARGET PkgConfig::CFITSIO)
  find_dependency(PkgConfig)
  pkg_check_modules(CFITSIO REQUIRED IMPORTED_TARGET cfitsio)
endif()")
