# script_nesting_fuzz: nested coroutine / pcall / metamethod / error chains generated
# from the input, run through a real in-process host with the strings, keys and scripting
# plugins. It drives Host::Execute, so it lives with the host, not in the plugin's tree
# (plugins see only sdk/). Its committed corpus is replayed by every normal test build.
ferrite_fuzz_replay(script_nesting_corpus_test
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/nesting-corpus
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/script_nesting_fuzz.cc
  LIBS ferrite_host_core)
if(TARGET script_nesting_corpus_test)
  add_dependencies(script_nesting_corpus_test
    ferrite_mod_strings ferrite_mod_keys ferrite_mod_scripting)
endif()
if(FERRITE_FUZZ)
  add_executable(script_nesting_fuzz ${CMAKE_CURRENT_LIST_DIR}/script_nesting_fuzz.cc)
  target_link_libraries(script_nesting_fuzz PRIVATE ferrite_host_core)
  target_compile_options(script_nesting_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(script_nesting_fuzz PRIVATE -fsanitize=fuzzer)
  add_dependencies(script_nesting_fuzz ferrite_mod_strings ferrite_mod_keys ferrite_mod_scripting)
endif()
