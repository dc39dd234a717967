// Redis 8.4's compare-and-set vocabulary, kept free of the host: the DIGEST of a string
// value (XXH3, 64 bits, seed 0, as Redis computes it) in its 16-digit hex form, and the
// evaluation of the IFEQ / IFNE / IFDEQ / IFDNE conditions that SET and DELEX take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "string_ops.h"

namespace ferrite::mod::strings {

// XXH3_64bits of the value's bytes.
uint64_t ValueDigest(std::string_view value);

// The reply of DIGEST: 16 lower-case hex digits, leading zeros kept.
std::string DigestHex(uint64_t digest);

// A digest as IFDEQ/IFDNE take it: exactly 16 hex digits, either case.
bool ParseDigest(std::string_view text, uint64_t* out);

// Redis 8.4's reply to a malformed IFDEQ/IFDNE argument.
inline constexpr std::string_view kBadDigestError =
    "ERR The digest must be exactly 16 hexadecimal characters";

bool IsValueCond(Cond c);

enum class CondOutcome { kPass, kFail, kBadDigest };

// Evaluates an IF* condition against the key's current string (nullopt: no key). A
// missing key fails IFEQ/IFDEQ and passes IFNE/IFDNE; the digest argument is only
// looked at when there is a value to compare it with, as in Redis.
CondOutcome CheckValueCond(Cond c, std::string_view arg, std::optional<std::string_view> cur);

}  // namespace ferrite::mod::strings
