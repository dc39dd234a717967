// Argument rules of the generic keyspace commands, kept free of any host call so they
// can be tested without one (key_options_test.cc). Every rule and message here is
// redis-server 7.0's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferrite/module.h"
#include "ferrite/module.hpp"

namespace ferrite::mod::keys {

// An error reply as it crosses the ABI: a code plus, for GENERIC, the full message.
struct ReplyError {
  ferrite_error_code code = FERRITE_E_GENERIC;
  std::string detail;
};

// Redis builds these error texts with %s, which stops at a NUL, and blanks CR/LF so
// the reply stays one line; `max` is the %.Ns precision.
std::string Printable(std::string_view s, size_t max = std::string_view::npos);

// ---- EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT ---------------------------------------

enum ExpireFlag : unsigned { kExpireNx = 1, kExpireXx = 2, kExpireGt = 4, kExpireLt = 8 };
enum class TimeUnit { kSeconds, kMillis };

// Parses the NX/XX/GT/LT words at argv[start..argc) into a mask of ExpireFlag.
// Redis checks these before the time argument, so "EXPIRE k abc foo" reports the
// option, not the number.
std::optional<ReplyError> ParseExpireFlags(int argc, const ferrite_slice* argv, int start,
                                           unsigned* flags);

// Turns the time argument into absolute milliseconds (base_ms is "now" for the
// relative forms, 0 for the *AT forms). False when the conversion or the addition
// overflows int64: Redis then replies "invalid expire time".
bool ToAbsoluteMs(int64_t when, TimeUnit unit, int64_t base_ms, int64_t* abs_ms);

// "ERR invalid expire time in '<cmd>' command" with the lower-case command name.
std::string InvalidExpireTimeMessage(std::string_view command);

// Whether NX/XX/GT/LT let `new_ms` replace `current_ms` (-1 = no expiry, which GT and
// LT treat as an infinite TTL).
bool ExpireAllowed(unsigned flags, int64_t current_ms, int64_t new_ms);

// ---- TTL / PTTL / EXPIRETIME / PEXPIRETIME ------------------------------------------

// TTL reply for a key whose absolute expiry is `expire_ms` (-1 = none): -1, or the time
// left (never negative), seconds rounded to nearest as Redis does.
int64_t TtlReply(int64_t expire_ms, int64_t now_ms, TimeUnit unit);
// EXPIRETIME reply: -1, or the absolute time in the unit (seconds rounded).
int64_t ExpireTimeReply(int64_t expire_ms, TimeUnit unit);

// ---- SCAN ---------------------------------------------------------------------------

// The SCAN arguments (shared with SSCAN/HSCAN/ZSCAN through the SDK).
using sdk::ParseScanCursor;
using sdk::ScanOptions;

// Parses [MATCH p] [COUNT n] [TYPE t] from argv[start..argc), repeated words allowed
// (the last one wins), as Redis does.
std::optional<ReplyError> ParseScanOptions(int argc, const ferrite_slice* argv, int start,
                                           ScanOptions* out);

// ---- FLUSHDB / FLUSHALL -------------------------------------------------------------

// Accepts no argument or exactly one of ASYNC / SYNC (any case). Ferrite frees
// synchronously in both cases; the word only has to be valid.
bool ParseFlushArgs(int argc, const ferrite_slice* argv);

// ---- databases and policies ---------------------------------------------------------

// Redis' getIntFromObjectOrReply followed by the db range check, as MOVE and COPY ... DB
// do it. num_dbs is the configured number of databases.
std::optional<ReplyError> ParseDbIndex(std::string_view s, int num_dbs, int* db);

// True for volatile-lfu / allkeys-lfu (OBJECT FREQ works, OBJECT IDLETIME does not).
bool IsLfuPolicy(std::string_view policy);
// True for the policies under which Redis stops sharing small integers (LRU and LFU).
bool IsLruOrLfuPolicy(std::string_view policy);

}  // namespace ferrite::mod::keys
