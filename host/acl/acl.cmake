# The ACL rule parser's fuzz target and its corpus replay. The parser (user.cc,
# command_facts.cc, sha256.cc) needs nothing of the host but the SDK headers.
set(_acl_rule_sources ${CMAKE_CURRENT_LIST_DIR}/user.cc ${CMAKE_CURRENT_LIST_DIR}/command_facts.cc
    ${CMAKE_CURRENT_LIST_DIR}/sha256.cc ${CMAKE_CURRENT_LIST_DIR}/fuzz/acl_rules_fuzz.cc)
if(FERRITE_FUZZ)
  add_executable(acl_rules_fuzz ${_acl_rule_sources})
  target_include_directories(acl_rules_fuzz PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(acl_rules_fuzz PRIVATE ferrite_sdk OpenSSL::Crypto)
  target_compile_options(acl_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(acl_rules_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
ferrite_fuzz_replay(acl_rules_corpus_test CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus
  SOURCES ${_acl_rule_sources} LIBS ferrite_sdk OpenSSL::Crypto INCLUDES ${CMAKE_SOURCE_DIR})
ferrite_unit_test(acl_rules_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/acl_rules_test.cc
  LIBS ferrite_host_core)
