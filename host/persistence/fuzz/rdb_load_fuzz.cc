// libFuzzer target for the RDB loader (LoadRdb), loading into a real Host with the type
// plugins. Invariants checked on every input:
//  - LoadRdb returns, or throws RdbError; nothing else escapes (a bad_alloc means a
//    length read from the file was allocated before the bytes behind it were seen);
//  - on success it consumed no more than the input and counted at least the keys now
//    present (a repeated key replaces the earlier one);
//  - what loaded saves again (WriteRdb) into a file that a second host loads, checksum
//    verified, with the same number of keys;
//  - the input parsed as it arrives (an RdbSource handing it out in pieces, as a
//    replica's diskless load reads its socket) loads or fails as the whole buffer does,
//    with the same keys and the same bytes consumed, and never takes more than that.
// The checksum is not verified on the fuzz input itself: nearly every mutation would
// stop at the trailer and the decoders behind it would never be reached.
// Run with -malloc_limit_mb=64 so a large up-front allocation is reported as a crash.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "host/host.h"
#include "host/persistence/fuzz/fuzz_host.h"
#include "host/persistence/rdb_reader.h"
#include "host/persistence/rdb_writer.h"

using namespace ferrite::host;
using namespace ferrite::host::persist;

namespace {

// Keys whose expiry is at or before this are skipped on load (exercises that path with
// the seed files, which hold expiries in 2020..2100).
constexpr int64_t kNowMs = 1'700'000'000'000;

// Returns false when the load failed with RdbError.
bool Load(Host& h, std::string_view data, bool verify, RdbLoadStats* st) {
  RdbLoadOptions o;
  o.verify_checksum = verify;
  o.now_ms = kNowMs;
  try {
    *st = LoadRdb(h, data, o);
    return true;
  } catch (const RdbError&) {
    return false;
  } catch (const std::bad_alloc&) {
    fuzz::Violation("bad_alloc while loading: a claimed length was allocated up front");
  } catch (const std::exception& e) {
    fprintf(stderr, "exception: %s\n", e.what());
    fuzz::Violation("LoadRdb threw something other than RdbError");
  }
}

// The same input through a BufferSource (pieces of 1 + size % 61 bytes beyond what the
// loader asks) into host `h`: the outcome must be the buffer load's.
void CheckStreamed(Host& h, std::string_view in, bool loaded, const RdbLoadStats& want,
                   uint64_t want_present) {
  fuzz::Reset(h);
  BufferSource src(in, 1 + in.size() % 61);
  RdbLoadOptions o;
  o.verify_checksum = false;
  o.now_ms = kNowMs;
  bool ok = false;
  RdbLoadStats st;
  try {
    st = LoadRdb(h, src, o);
    ok = true;
  } catch (const RdbError&) {
  } catch (const std::bad_alloc&) {
    fuzz::Violation("bad_alloc while loading from a source");
  } catch (const std::exception& e) {
    fprintf(stderr, "exception: %s\n", e.what());
    fuzz::Violation("LoadRdb from a source threw something other than RdbError");
  }
  if (ok != loaded) fuzz::Violation("a source load and a buffer load disagree on success");
  if (!ok) return;
  if (st.keys != want.keys || st.consumed != want.consumed || src.consumed() != st.consumed)
    fuzz::Violation("a source load counted other keys or bytes than the buffer load");
  if (fuzz::CountKeys(h) != want_present)
    fuzz::Violation("a source load left another key count than the buffer load");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Host& a = fuzz::FuzzHost(fuzz::Role::kPrimary);
  fuzz::Reset(a);
  RdbLoadStats st;
  bool loaded = Load(a, in, /*verify=*/false, &st);
  CheckStreamed(fuzz::FuzzHost(fuzz::Role::kReplay), in, loaded, st,
                loaded ? fuzz::CountKeys(a) : 0);
  fuzz::FuzzHost(fuzz::Role::kPrimary);
  if (!loaded) return 0;
  if (st.consumed > size) fuzz::Violation("consumed more bytes than the input has");
  uint64_t present = fuzz::CountKeys(a);
  if (st.keys < present) fuzz::Violation("more keys present than the loader counted");

  RdbOutput out(-1);
  RdbSaveOptions so;
  so.now_ms = kNowMs;
  if (!WriteRdb(a, out, so)) fuzz::Violation("WriteRdb to memory failed");
  if (!out.Finish(true)) fuzz::Violation("RdbOutput::Finish to memory failed");
  Host& b = fuzz::FuzzHost(fuzz::Role::kReplay);
  fuzz::Reset(b);
  RdbLoadStats st2;
  if (!Load(b, out.memory(), /*verify=*/true, &st2)) {
    try {
      RdbLoadOptions o;
      o.now_ms = kNowMs;
      LoadRdb(b, out.memory(), o);
    } catch (const std::exception& e) {
      fprintf(stderr, "reload: %s\n", e.what());
    }
    fuzz::Violation("the file Ferrite saved from a loaded dataset does not load");
  }
  if (fuzz::CountKeys(b) != present) fuzz::Violation("reloaded key count differs");
  fuzz::FuzzHost(fuzz::Role::kPrimary);
  return 0;
}
