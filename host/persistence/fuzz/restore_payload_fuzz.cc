// libFuzzer target for RESTORE payloads: the bytes after the type byte are untrusted
// client input that reaches the RDB value decoders (LoadObject) and the payload footer
// check (VerifyDumpPayload). Invariants on every input:
//  - VerifyDumpPayload answers, whatever the bytes;
//  - LoadObject returns, or throws RdbError; nothing else escapes (a bad_alloc means a
//    claimed length was allocated before the bytes behind it were seen);
//  - on success it consumed no more than the input, and the value is either a string or
//    a module value of a registered type, which is then freed.
// The checksum is not required of the fuzz input (RESTORE checks it before loading):
// nearly every mutation would stop there and the decoders would never be reached.
// Run with -malloc_limit_mb=64 so a large up-front allocation is reported as a crash.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string_view>

#include "host/host.h"
#include "host/persistence/dump.h"
#include "host/persistence/fuzz/fuzz_host.h"
#include "host/persistence/rdb_reader.h"

using namespace ferrite::host;
using namespace ferrite::host::persist;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)VerifyDumpPayload(in);
  Host& h = fuzz::FuzzHost(fuzz::Role::kPrimary);
  size_t consumed = 0;
  try {
    LoadedValue v = LoadObject(h, in, &consumed);
    if (consumed > size) fuzz::Violation("consumed more bytes than the input has");
    if (v.type && !v.value) fuzz::Violation("a module value without a value");
    v.Free();
  } catch (const RdbError&) {
    return 0;
  } catch (const std::bad_alloc&) {
    fuzz::Violation("bad_alloc while loading: a claimed length was allocated up front");
  } catch (const std::exception& e) {
    fprintf(stderr, "exception: %s\n", e.what());
    fuzz::Violation("LoadObject threw something other than RdbError");
  }
  return 0;
}
