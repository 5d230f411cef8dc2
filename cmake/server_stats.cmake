# The server statistics plugins (issue 13: redis_stats, postgres_stats, mysql_stats). Each links a
# database client library that libpromex does not depend on, so each is its own small shared
# library (libpromex_<plugin>, with a pkg-config file) exporting only its pmx_plugin_t; it is
# built when its client library is found (scripts/install-deps installs them all). Their sources
# live under plugins/<plugin>/ and plugins/server_stats/ (shared helpers compiled into each),
# which the plugins area of libpromex leaves out. Included by the top-level CMakeLists.txt after
# the promex target exists.
pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
pkg_check_modules(LIBPQ IMPORTED_TARGET libpq)
pkg_check_modules(LIBMARIADB IMPORTED_TARGET libmariadb)

# The helpers the three share (plugins/server_stats/), once, for every library and the CLI.
add_library(pmx_server_stats_common_obj OBJECT
  ${PROJECT_SOURCE_DIR}/plugins/server_stats/stats_common.c)
target_include_directories(pmx_server_stats_common_obj PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_options(pmx_server_stats_common_obj PRIVATE ${PMX_WARNINGS})
target_compile_definitions(pmx_server_stats_common_obj PRIVATE _GNU_SOURCE)

# pmx_server_stats_library(<plugin> <imported client target> <pkg-config module of the client>)
function(pmx_server_stats_library plugin client client_pc)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/plugins/${plugin}/*.c)
  set(t promex_${plugin})
  # The objects serve the shared library and the promex CLI (which links libpromex statically
  # and needs the plugins' metric definitions to lint their dashboards and alert rules).
  add_library(pmx_${plugin}_obj OBJECT ${srcs})
  target_include_directories(pmx_${plugin}_obj
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/plugins/${plugin} ${PROJECT_SOURCE_DIR}/plugins/server_stats)
  target_compile_options(pmx_${plugin}_obj PRIVATE ${PMX_WARNINGS})
  target_compile_definitions(pmx_${plugin}_obj PRIVATE _GNU_SOURCE)
  target_link_libraries(pmx_${plugin}_obj PRIVATE ${client})
  add_library(${t} SHARED $<TARGET_OBJECTS:pmx_${plugin}_obj>
    $<TARGET_OBJECTS:pmx_server_stats_common_obj>)
  target_include_directories(${t}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # The client library is private: the exported target needs only promex.
  target_link_libraries(${t} PUBLIC promex PRIVATE ${client})
  set_target_properties(${t} PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})
  install(TARGETS ${t} EXPORT promexTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  file(RELATIVE_PATH PMX_PC_PREFIX_FROM_PCDIR "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  set(PMX_SS_PLUGIN ${plugin})
  set(PMX_SS_CLIENT_PC ${client_pc})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/promex_server_stats.pc.in
    ${PROJECT_BINARY_DIR}/${t}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${t}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()

if(HIREDIS_FOUND)
  pmx_server_stats_library(redis_stats PkgConfig::HIREDIS hiredis)
else()
  message(STATUS "hiredis not found: promex_redis_stats is not built (scripts/install-deps)")
endif()
if(LIBPQ_FOUND)
  pmx_server_stats_library(postgres_stats PkgConfig::LIBPQ libpq)
else()
  message(STATUS "libpq not found: promex_postgres_stats is not built (scripts/install-deps)")
endif()
if(LIBMARIADB_FOUND)
  pmx_server_stats_library(mysql_stats PkgConfig::LIBMARIADB libmariadb)
else()
  message(STATUS "libmariadb not found: promex_mysql_stats is not built (scripts/install-deps)")
endif()

# pmx_server_stats_link_static(<target>): compiles every server statistics plugin of this build
# into <target> (which links promex_static) and defines PMX_HAVE_<PLUGIN> for each.
function(pmx_server_stats_link_static target)
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:pmx_server_stats_common_obj>)
  foreach(pl redis_stats postgres_stats mysql_stats)
    if(TARGET pmx_${pl}_obj)
      get_target_property(client pmx_${pl}_obj LINK_LIBRARIES)
      string(TOUPPER ${pl} up)
      target_sources(${target} PRIVATE $<TARGET_OBJECTS:pmx_${pl}_obj>)
      target_link_libraries(${target} PRIVATE ${client})
      target_compile_definitions(${target} PRIVATE PMX_HAVE_${up})
    endif()
  endforeach()
endfunction()
