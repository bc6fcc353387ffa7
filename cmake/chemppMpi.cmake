# SPDX-License-Identifier: BSD-3-Clause
# Optional MPI layer (include/chempp/mpi/communicator.hpp): the INTERFACE target chempp::mpi,
# which adds MPI (FindMPI's CXX component, MPI's C API only) to chempp::chempp. The library
# itself never calls MPI (population_options::sum_over_processes is a plain std::function); this
# target is what a host program links to split stars over ranks. Enabled when MPI is found
# (Debian libopenmpi-dev); CHEMPP_ENABLE_MPI=OFF skips it. With it, examples/CMakeLists.txt
# builds chempp-infer-mpi and chempp-train-mpi and tests/programs adds the mpirun tests.

option(CHEMPP_ENABLE_MPI "Build the optional MPI layer (chempp::mpi) and the MPI programs when MPI is found" ON)
set(CHEMPP_MPI_FOUND OFF)

if(CHEMPP_ENABLE_MPI)
  # the CXX component for a C++-only project; only MPI's C API is used (no C++ bindings)
  set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "chempp uses MPI's C API only")
  find_package(MPI QUIET COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(CHEMPP_MPI_FOUND ON)
    message(STATUS "chempp: MPI layer enabled (MPI ${MPI_CXX_VERSION}, ${MPIEXEC_EXECUTABLE})")
  else()
    message(STATUS "chempp: MPI not found (Debian libopenmpi-dev); chempp::mpi and the MPI programs are disabled")
  endif()
endif()

if(NOT CHEMPP_MPI_FOUND)
  return()
endif()

add_library(chempp_mpi INTERFACE)
add_library(chempp::mpi ALIAS chempp_mpi)
set_target_properties(chempp_mpi PROPERTIES EXPORT_NAME mpi)
target_link_libraries(chempp_mpi INTERFACE chempp::chempp MPI::MPI_CXX)

# ---- install / export: find_package(chemppMpi) or find_package(chempp COMPONENTS mpi) -----------
include(${CMAKE_CURRENT_LIST_DIR}/chemppComponent.cmake)
chempp_install_component(Mpi chempp_mpi
  "chempp's optional MPI layer: defines chempp::mpi (needs chempp and MPI). Also included by chemppConfig.cmake for find_package(chempp COMPONENTS mpi)."
  "if(NOT TARGET MPI::MPI_CXX)
  set(MPI_CXX_SKIP_MPICXX ON)
  find_dependency(MPI COMPONENTS CXX)
endif()")
