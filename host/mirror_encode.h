// Turns one propagated write (the deterministic form a handler propagates to the AOF
// and replicas) into the memcached meta commands that make an old memcached follow it.
// Pure: tested in tests/unit/mirror_encode_test.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ferrite/module.h"

namespace ferrite::host {

struct MirrorEncodeOptions {
  bool resp_strings = false;  // forward RESP SET too (and key states: EncodeMirrorState)
  int64_t now_ms = 0;         // turns PXAT deadlines back into memcached exptimes
};

// Appends the commands to *out (quiet forms: the old server answers errors only) and
// returns true, or returns false for a write with no memcached equivalent (other types,
// MULTI/EXEC framing, RESP string writes unless resp_strings).
//   MC.SET k v SET|ADD|REPLACE|CAS f [EX e|PXAT ms] [CAS n] -> ms k <len> F<f> T<exptime> q
//   MC.SET k data APPEND|PREPEND f              -> ms k <len> MA|MP q
//   SET k v [PXAT ms]                           -> ms k <len> T<exptime> q  (resp_strings)
//   DEL / UNLINK k...                            -> md k q  (each key)
//   MC.DELETE k STALE                            -> md k I q  (the stale mark)
//   PEXPIREAT k ms / PERSIST k                   -> mg k T<exptime> q
//   FLUSHDB / FLUSHALL                           -> flush_all noreply
// A key a text command cannot carry travels base64-encoded with the `b` flag.
// resp_strings: the state a key is left in by a RESP write the table above has no form
// for (INCR, APPEND, SETRANGE, MSET, SET KEEPTTL, RENAME...), read after the write:
// `ms k <len> F<flags> T<exptime> q` with its value, or `md k q` when it is gone (value
// nullptr). expire_at_ms: -1 = none.
void EncodeMirrorState(std::string_view key, const std::string_view* value, uint32_t flags,
                       int64_t expire_at_ms, int64_t now_ms, std::string* out);

// A key the memcached text and meta protocols can carry as is (1..250 bytes, no space
// or control byte); any other travels base64-encoded with the meta `b` flag.
bool MemcachedTextSafeKey(std::string_view key);
std::string Base64Encode(std::string_view bytes);

bool EncodeMirrorCommand(int argc, const ferrite_slice* argv, const MirrorEncodeOptions& o,
                         std::string* out);

}  // namespace ferrite::host
