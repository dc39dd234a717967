# Replication: the primary's stream and full syncs, the replica's link (host code).
target_sources(ferrite_host_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backlog.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover.cc
  ${CMAKE_CURRENT_LIST_DIR}/full_sync.cc
  ${CMAKE_CURRENT_LIST_DIR}/primary.cc
  ${CMAKE_CURRENT_LIST_DIR}/repl_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/repl_stream.cc
  ${CMAKE_CURRENT_LIST_DIR}/replica_link.cc
  ${CMAKE_CURRENT_LIST_DIR}/role.cc
  ${CMAKE_CURRENT_LIST_DIR}/shutdown_wait.cc
  ${CMAKE_CURRENT_LIST_DIR}/sync_load.cc
  ${CMAKE_CURRENT_LIST_DIR}/sync_payload.cc)

# Backlog ring and stream parser (no host).
ferrite_unit_test(replication_stream_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/repl_stream_test.cc
  LIBS ferrite_host_core)

# The stream parser's committed fuzz corpus, replayed through the target's entry point.
ferrite_fuzz_replay(repl_stream_fuzz_corpus_test
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz/repl_stream_fuzz.cc
  LIBS ferrite_host_core)

# libFuzzer target for the stream parser (clang, -DFERRITE_FUZZ=ON; see
# host/persistence/fuzz/README.md for the build line).
if(FERRITE_FUZZ)
  add_executable(repl_stream_fuzz ${CMAKE_CURRENT_LIST_DIR}/fuzz/repl_stream_fuzz.cc)
  target_link_libraries(repl_stream_fuzz PRIVATE ferrite_host_core)
  target_compile_options(repl_stream_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(repl_stream_fuzz PRIVATE -fsanitize=fuzzer)
endif()
