ferrite_unit_test(keyspace_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/keyspace_test.cc LIBS ferrite_host_core)
ferrite_unit_test(expiry_index_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/expiry_index_test.cc LIBS ferrite_host_core)
ferrite_family_test(host_family_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/host_family_test.cc
  PLUGINS ferrite_mod_strings ferrite_mod_keys)
ferrite_family_test(lock_contract_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/lock_contract_test.cc
  PLUGINS ferrite_mod_strings ferrite_mod_keys ferrite_mod_scripting)
ferrite_unit_test(net_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/net_test.cc LIBS ferrite_host_core)
ferrite_unit_test(registry_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry_test.cc LIBS ferrite_host_core)
ferrite_unit_test(readiness_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/readiness_test.cc LIBS ferrite_host_core)
ferrite_unit_test(latency_histogram_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/latency_histogram_test.cc LIBS ferrite_host_core)
ferrite_unit_test(introspection_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/introspection_test.cc LIBS ferrite_host_core)
ferrite_unit_test(mirror_encode_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/mirror_encode_test.cc LIBS ferrite_host_core)
ferrite_unit_test(error_stats_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/error_stats_test.cc LIBS ferrite_host_core)
ferrite_unit_test(client_reply_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/client_reply_test.cc LIBS ferrite_host_core)
