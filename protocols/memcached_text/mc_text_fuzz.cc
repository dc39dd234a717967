// libFuzzer target for the text codec; the invariants are in mc_fuzz_common.h.
#include "mc_fuzz_common.h"
#include "mc_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ferrite::proto::mc::FuzzOne<ferrite::proto::mc::TextSession>(data, size);
}
