# Packaging: the CMake package config (find_package(promex CONFIG) -> promex::promex and
# promex::promex_static, beside promex.pc) and `cpack -G DEB`, a Debian package of the library,
# headers, pkg-config file, CMake package, CLI, dashboards and alert rules. Included at the end of
# the top-level CMakeLists.txt, after the install rules.
include(CMakePackageConfigHelpers)
set(PMX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/promex)
install(EXPORT promexTargets NAMESPACE promex:: DESTINATION ${PMX_CMAKE_DIR})
configure_package_config_file(cmake/promexConfig.cmake.in
  ${PROJECT_BINARY_DIR}/promexConfig.cmake
  INSTALL_DESTINATION ${PMX_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_DATADIR)
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/promexConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/promexConfig.cmake ${PROJECT_BINARY_DIR}/promexConfigVersion.cmake
  DESTINATION ${PMX_CMAKE_DIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME promex)
set(CPACK_PACKAGE_VENDOR "promex")
set(CPACK_PACKAGE_CONTACT "promex maintainers <promex@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "PromEx for C: telemetry events to Prometheus metrics, Grafana dashboards and alert rules")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# Runtime dependencies of libpromex.so and the CLI come from dpkg-shlibdeps; the -dev packages
# are needed to build against promex (promex.pc's Requires.private, promexConfig.cmake).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libmicrohttpd-dev, libjansson-dev, libcurl4-openssl-dev | libcurl-dev, zlib1g-dev, libinih-dev, libgnutls28-dev, libsnappy-dev, pkg-config")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip) # fast enough for the package test
include(CPack)
