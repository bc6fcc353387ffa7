# SPDX-License-Identifier: BSD-3-Clause
# chempp_install_component(<Name> <target> <dependency code>): installs the optional INTERFACE
# target <target> (exported as chempp::<export name>) as the package chemppName, found with
# find_package(chemppName) or find_package(chempp COMPONENTS <name>) (cmake/chemppConfig.cmake.in).
# <dependency code> is CMake code the package config runs to find the component's own
# dependency (e.g. cfitsio or MPI) before loading the targets. Shared by cmake/chemppFits.cmake and
# cmake/chemppMpi.cmake.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

function(chempp_install_component name target description dependency_code)
  install(TARGETS ${target} EXPORT chempp${name}Targets)
  install(EXPORT chempp${name}Targets NAMESPACE chempp:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/chempp${name})
  file(WRITE ${PROJECT_BINARY_DIR}/chempp${name}Config.cmake
"# SPDX-License-Identifier: BSD-3-Clause
# ${description}
include(CMakeFindDependencyMacro)
if(NOT TARGET chempp::chempp)
  find_dependency(chempp ${PROJECT_VERSION} CONFIG)
endif()
${dependency_code}
include(\"\${CMAKE_CURRENT_LIST_DIR}/chempp${name}Targets.cmake\")
")
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/chempp${name}ConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
  install(FILES ${PROJECT_BINARY_DIR}/chempp${name}Config.cmake ${PROJECT_BINARY_DIR}/chempp${name}ConfigVersion.cmake
    DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/chempp${name})
endfunction()
