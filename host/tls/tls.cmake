# TLS (OpenSSL, Debian's libssl-dev): contexts from the [tls] settings and the
# non-blocking session the network layer and the replica link drive.
find_package(OpenSSL REQUIRED)
target_sources(ferrite_host_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/tls_context.cc
  ${CMAKE_CURRENT_LIST_DIR}/tls_stream.cc)
target_link_libraries(ferrite_host_core PUBLIC OpenSSL::SSL OpenSSL::Crypto)

# The accept path's committed fuzz corpus, replayed through the target's entry point.
ferrite_fuzz_replay(tls_accept_fuzz_corpus_test
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz/tls_accept_fuzz.cc
  LIBS ferrite_host_core)

# libFuzzer target: arbitrary bytes as a client's first flight to the server's accept
# path (clang, -DFERRITE_FUZZ=ON; host/tls/fuzz/README.md).
if(FERRITE_FUZZ)
  add_executable(tls_accept_fuzz ${CMAKE_CURRENT_LIST_DIR}/fuzz/tls_accept_fuzz.cc)
  target_link_libraries(tls_accept_fuzz PRIVATE ferrite_host_core)
  target_compile_options(tls_accept_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(tls_accept_fuzz PRIVATE -fsanitize=fuzzer)
endif()
