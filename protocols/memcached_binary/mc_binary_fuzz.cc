// libFuzzer target for the binary codec; the invariants are in mc_fuzz_common.h.
#include "mc_binary.h"
#include "mc_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ferrite::proto::mc::FuzzOne<ferrite::proto::mc::BinarySession>(data, size);
}
