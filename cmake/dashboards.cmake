# Compiles the first-party dashboard templates (dashboards/*.json) into the library, so that the
# CLI and the library work without the source tree. Included by the top-level CMakeLists.txt
# before the area libraries are created; sets PMX_GENERATED_SOURCES_dashboard.
#
# The C table is generated at build time by cmake/embed_dashboards.cmake, with every template as
# a dependency: editing a template regenerates and recompiles only that file. Adding or removing
# a template re-runs the configure step (CONFIGURE_DEPENDS).
file(GLOB PMX_DASHBOARD_TEMPLATES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/dashboards/*.json)
list(SORT PMX_DASHBOARD_TEMPLATES)
set(PMX_DASHBOARDS_GEN ${PROJECT_BINARY_DIR}/generated/pmx_dashboards_gen.c)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${PMX_DASHBOARDS_GEN}
  COMMAND ${CMAKE_COMMAND} -DPMX_DASHBOARD_DIR=${PROJECT_SOURCE_DIR}/dashboards
          -DPMX_OUT=${PMX_DASHBOARDS_GEN} -P ${PROJECT_SOURCE_DIR}/cmake/embed_dashboards.cmake
  DEPENDS ${PMX_DASHBOARD_TEMPLATES} ${PROJECT_SOURCE_DIR}/cmake/embed_dashboards.cmake
  COMMENT "Embedding dashboard templates"
  VERBATIM)
set(PMX_GENERATED_SOURCES_dashboard ${PMX_DASHBOARDS_GEN})
# A target other directories can depend on (the fuzz build compiles the generated file itself).
add_custom_target(pmx_dashboards_gen DEPENDS ${PMX_DASHBOARDS_GEN})
