#include "key_options.h"

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <climits>
#include <cstdlib>

#include "ferrite/module.hpp"

namespace ferrite::mod::keys {

using sdk::EqualsIgnoreCase;
using sdk::SV;

std::string Printable(std::string_view s, size_t max) {
  std::string out(s.substr(0, std::min(max, s.find('\0'))));
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

std::optional<ReplyError> ParseExpireFlags(int argc, const ferrite_slice* argv, int start,
                                           unsigned* flags) {
  unsigned f = 0;
  for (int i = start; i < argc; i++) {
    std::string_view opt = SV(argv[i]);
    if (EqualsIgnoreCase(opt, "nx")) {
      f |= kExpireNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      f |= kExpireXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      f |= kExpireGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      f |= kExpireLt;
    } else {
      return ReplyError{FERRITE_E_GENERIC, "ERR Unsupported option " + Printable(opt)};
    }
  }
  if ((f & kExpireNx) && (f & (kExpireXx | kExpireGt | kExpireLt))) {
    return ReplyError{FERRITE_E_GENERIC,
                      "ERR NX and XX, GT or LT options at the same time are not compatible"};
  }
  if ((f & kExpireGt) && (f & kExpireLt)) {
    return ReplyError{FERRITE_E_GENERIC,
                      "ERR GT and LT options at the same time are not compatible"};
  }
  *flags = f;
  return std::nullopt;
}

bool ToAbsoluteMs(int64_t when, TimeUnit unit, int64_t base_ms, int64_t* abs_ms) {
  if (unit == TimeUnit::kSeconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) return false;
    when *= 1000;
  }
  // Same single-sided check as Redis: base_ms is never negative.
  if (when > LLONG_MAX - base_ms) return false;
  *abs_ms = when + base_ms;
  return true;
}

std::string InvalidExpireTimeMessage(std::string_view command) {
  std::string name(command);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "ERR invalid expire time in '" + name + "' command";
}

bool ExpireAllowed(unsigned flags, int64_t current_ms, int64_t new_ms) {
  if ((flags & kExpireNx) && current_ms != -1) return false;
  if ((flags & kExpireXx) && current_ms == -1) return false;
  if ((flags & kExpireGt) && (current_ms == -1 || new_ms <= current_ms)) return false;
  if ((flags & kExpireLt) && current_ms != -1 && new_ms >= current_ms) return false;
  return true;
}

namespace {

// (ms + 500) / 1000 as Redis' replies round, without the overflow of ms + 500 for an
// expiry near INT64_MAX (GETEX k PXAT 9223372036854775807 is accepted).
int64_t RoundToSeconds(int64_t ms) { return ms / 1000 + (ms % 1000 >= 500 ? 1 : 0); }

}  // namespace

int64_t TtlReply(int64_t expire_ms, int64_t now_ms, TimeUnit unit) {
  if (expire_ms == -1) return -1;
  int64_t ttl = expire_ms - now_ms;
  if (ttl < 0) ttl = 0;
  return unit == TimeUnit::kMillis ? ttl : RoundToSeconds(ttl);
}

int64_t ExpireTimeReply(int64_t expire_ms, TimeUnit unit) {
  if (expire_ms == -1) return -1;
  return unit == TimeUnit::kMillis ? expire_ms : RoundToSeconds(expire_ms);
}

std::optional<ReplyError> ParseScanOptions(int argc, const ferrite_slice* argv, int start,
                                           ScanOptions* out) {
  if (auto e = sdk::ParseScanOptions(argc, argv, start, sdk::kScanType, out))
    return ReplyError{*e, {}};
  return std::nullopt;
}

bool ParseFlushArgs(int argc, const ferrite_slice* argv) {
  if (argc == 1) return true;
  if (argc != 2) return false;
  std::string_view w = SV(argv[1]);
  return EqualsIgnoreCase(w, "sync") || EqualsIgnoreCase(w, "async");
}

std::optional<ReplyError> ParseDbIndex(std::string_view s, int num_dbs, int* db) {
  int64_t v = 0;
  if (!sdk::ParseInt64(s, &v)) return ReplyError{FERRITE_E_NOT_INTEGER, {}};
  if (v < INT_MIN || v > INT_MAX) {
    return ReplyError{FERRITE_E_GENERIC,
                      "ERR value is out of range, value must between -2147483648 and "
                      "2147483647"};
  }
  if (v < 0 || v >= num_dbs) return ReplyError{FERRITE_E_GENERIC, "ERR DB index is out of range"};
  *db = static_cast<int>(v);
  return std::nullopt;
}

bool IsLfuPolicy(std::string_view policy) {
  return EqualsIgnoreCase(policy, "volatile-lfu") || EqualsIgnoreCase(policy, "allkeys-lfu");
}

bool IsLruOrLfuPolicy(std::string_view policy) {
  return IsLfuPolicy(policy) || EqualsIgnoreCase(policy, "volatile-lru") ||
         EqualsIgnoreCase(policy, "allkeys-lru");
}

}  // namespace ferrite::mod::keys
