#include "value_digest.h"

#include <cstdio>

// Header-only use of Debian's libxxhash-dev: the plugin carries the code it needs and
// links against nothing more.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ferrite::mod::strings {

uint64_t ValueDigest(std::string_view value) {
  return XXH3_64bits(value.data(), value.size());
}

std::string DigestHex(uint64_t digest) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest));
  return std::string(buf, 16);
}

bool ParseDigest(std::string_view text, uint64_t* out) {
  if (text.size() != 16) return false;
  uint64_t v = 0;
  for (char ch : text) {
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    else return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool IsValueCond(Cond c) {
  return c == Cond::kIfEq || c == Cond::kIfNe || c == Cond::kIfDeq || c == Cond::kIfDne;
}

CondOutcome CheckValueCond(Cond c, std::string_view arg, std::optional<std::string_view> cur) {
  const bool wants_equal = c == Cond::kIfEq || c == Cond::kIfDeq;
  if (!cur) return wants_equal ? CondOutcome::kFail : CondOutcome::kPass;
  bool equal;
  if (c == Cond::kIfEq || c == Cond::kIfNe) {
    equal = *cur == arg;
  } else {
    uint64_t want;
    if (!ParseDigest(arg, &want)) return CondOutcome::kBadDigest;
    equal = ValueDigest(*cur) == want;
  }
  return equal == wants_equal ? CondOutcome::kPass : CondOutcome::kFail;
}

}  // namespace ferrite::mod::strings
