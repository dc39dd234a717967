ferrite_unit_test(config_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/config_test.cc LIBS ferrite_config)
# The shipped packaging/ferrite.toml must parse and equal the built-in defaults.
if(TARGET config_test)
  target_compile_definitions(config_test PRIVATE
    FERRITE_DEFAULT_TOML="${CMAKE_SOURCE_DIR}/packaging/ferrite.toml")
endif()
