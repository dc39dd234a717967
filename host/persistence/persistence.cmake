# Persistence: RDB snapshots, the AOF, and the service that runs them (host code).
target_sources(ferrite_host_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/aof.cc
  ${CMAKE_CURRENT_LIST_DIR}/crc64.cc
  ${CMAKE_CURRENT_LIST_DIR}/dump_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/migrate.cc
  ${CMAKE_CURRENT_LIST_DIR}/lzf.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence_fork.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_compact.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_functions.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_reader.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_writer.cc)

# Codec tests (no host): CRC-64, LZF, compact encodings.
ferrite_unit_test(persistence_codec_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/codec_test.cc
  LIBS ferrite_host_core)
# Snapshot/AOF round trips through the in-process harness with the real type plugins.
ferrite_family_test(persistence_family_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/persistence_family_test.cc
  PLUGINS ferrite_mod_strings ferrite_mod_keys ferrite_mod_lists ferrite_mod_hashes
          ferrite_mod_sets ferrite_mod_zsets
  LIBS ferrite_host_core)

# DUMP / RESTORE (and Redis 7.0's payloads) through the harness.
ferrite_family_test(dump_family_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dump_family_test.cc
  PLUGINS ferrite_mod_strings ferrite_mod_keys ferrite_mod_lists ferrite_mod_hashes
          ferrite_mod_sets ferrite_mod_zsets
  LIBS ferrite_host_core)

# libFuzzer targets for the loaders (clang only):
#   cmake -DFERRITE_FUZZ=ON -DFERRITE_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ ...
# The whole host library is instrumented (coverage + ASan/UBSan) in that build, so a
# memory error anywhere a corrupt file reaches is a crash, not silent damage.
if(FERRITE_FUZZ)
  set(_fuzz_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
  target_compile_options(ferrite_host_core PUBLIC ${_fuzz_flags} -fsanitize=fuzzer-no-link)
  target_link_options(ferrite_host_core PUBLIC ${_fuzz_flags})
  foreach(_t rdb_load_fuzz aof_parse_fuzz restore_payload_fuzz)
    add_executable(${_t} ${CMAKE_CURRENT_LIST_DIR}/fuzz/${_t}.cc
                         ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_host.cc)
    target_link_libraries(${_t} PRIVATE ferrite_host_core)
    target_compile_options(${_t} PRIVATE -fsanitize=fuzzer)
    target_link_options(${_t} PRIVATE -fsanitize=fuzzer)
    # The type plugins are loaded from the build's plugins/ folder.
    add_dependencies(${_t} ferrite_mod_strings ferrite_mod_keys ferrite_mod_lists
                     ferrite_mod_hashes ferrite_mod_sets ferrite_mod_zsets ferrite_mod_streams)
  endforeach()
endif()

# The committed fuzz corpus replayed through the fuzz targets' entry points (no libFuzzer).
ferrite_family_test(persistence_fuzz_corpus_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_corpus_test.cc ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_host.cc
  PLUGINS ferrite_mod_strings ferrite_mod_keys ferrite_mod_lists ferrite_mod_hashes
          ferrite_mod_sets ferrite_mod_zsets ferrite_mod_streams
  LIBS ferrite_host_core)
if(TARGET persistence_fuzz_corpus_test)
  target_compile_definitions(persistence_fuzz_corpus_test PRIVATE
    FERRITE_FUZZ_CORPUS="${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus")
endif()
