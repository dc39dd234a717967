# ferrite_config: settings registry (toml11), command line and logging (spdlog).
# Included from host/CMakeLists.txt; paths are relative to this folder.
add_library(ferrite_config STATIC
  ${CMAKE_CURRENT_LIST_DIR}/config.cc
  ${CMAKE_CURRENT_LIST_DIR}/config_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli.cc
  ${CMAKE_CURRENT_LIST_DIR}/logging.cc)
# `#include "host/config.h"` from anywhere in the tree.
target_include_directories(ferrite_config PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(ferrite_config PUBLIC spdlog::spdlog)
target_compile_definitions(ferrite_config PRIVATE FERRITE_VERSION="${PROJECT_VERSION}")
