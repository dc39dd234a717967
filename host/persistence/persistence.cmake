# Persistence: RDB snapshots, the AOF, and the service that runs them (host code).
target_sources(ferrite_host_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/aof.cc
  ${CMAKE_CURRENT_LIST_DIR}/crc64.cc
  ${CMAKE_CURRENT_LIST_DIR}/lzf.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/persistence_fork.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_compact.cc
  ${CMAKE_CURRENT_LIST_DIR}/rdb_format.cc
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
