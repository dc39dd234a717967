#include "string_ops.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <algorithm>

#include "ferrite/module.hpp"

namespace ferrite::mod::strings {

using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

bool HasExpiry(const SetOptions& o) { return o.expire != ExpireOpt::kNone; }

// An expiry option is accepted only if no other expiry kind, KEEPTTL or PERSIST was
// given; the same kind twice is allowed (Redis does not check the option's own flag).
bool ExpiryAllowed(const SetOptions& o, ExpireOpt kind) {
  if (o.keepttl || o.persist) return false;
  return o.expire == ExpireOpt::kNone || o.expire == kind;
}

std::optional<Cond> ValueCondWord(std::string_view w) {
  if (EqualsIgnoreCase(w, "IFEQ")) return Cond::kIfEq;
  if (EqualsIgnoreCase(w, "IFNE")) return Cond::kIfNe;
  if (EqualsIgnoreCase(w, "IFDEQ")) return Cond::kIfDeq;
  if (EqualsIgnoreCase(w, "IFDNE")) return Cond::kIfDne;
  return std::nullopt;
}

std::optional<ExpireOpt> ExpiryWord(std::string_view w) {
  if (EqualsIgnoreCase(w, "EX")) return ExpireOpt::kEx;
  if (EqualsIgnoreCase(w, "PX")) return ExpireOpt::kPx;
  if (EqualsIgnoreCase(w, "EXAT")) return ExpireOpt::kExAt;
  if (EqualsIgnoreCase(w, "PXAT")) return ExpireOpt::kPxAt;
  return std::nullopt;
}

}  // namespace

bool ParseSetOptions(int argc, const ferrite_slice* argv, int start, OptsFor cmd,
                     SetOptions* out) {
  SetOptions& o = *out;
  const bool is_set = cmd == OptsFor::kSet;
  const bool sets = cmd != OptsFor::kGetEx;  // SET and MSETEX
  // A condition may repeat itself but not follow another one.
  auto cond_free = [&o](Cond c) { return o.cond == Cond::kNone || o.cond == c; };
  for (int j = start; j < argc; j++) {
    std::string_view opt = SV(argv[j]);
    const bool has_next = j + 1 < argc;
    if (sets && EqualsIgnoreCase(opt, "NX") && cond_free(Cond::kNx)) {
      o.cond = Cond::kNx;
    } else if (sets && EqualsIgnoreCase(opt, "XX") && cond_free(Cond::kXx)) {
      o.cond = Cond::kXx;
    } else if (auto vc = ValueCondWord(opt); is_set && vc && has_next && cond_free(*vc)) {
      o.cond = *vc;
      o.compare_arg = SV(argv[++j]);
    } else if (is_set && EqualsIgnoreCase(opt, "GET")) {
      o.get = true;
    } else if (sets && EqualsIgnoreCase(opt, "KEEPTTL") && !o.persist && !HasExpiry(o)) {
      o.keepttl = true;
    } else if (!sets && EqualsIgnoreCase(opt, "PERSIST") && !o.keepttl && !HasExpiry(o)) {
      o.persist = true;
    } else if (auto kind = ExpiryWord(opt); kind && has_next && ExpiryAllowed(o, *kind)) {
      o.expire = *kind;
      o.expire_arg = SV(argv[++j]);
    } else {
      return false;
    }
  }
  return true;
}

ExpireStatus ResolveExpire(std::string_view arg, ExpireOpt opt, int64_t now_ms,
                           int64_t* abs_ms) {
  int64_t v = 0;
  if (!sdk::ParseInt64(arg, &v)) return ExpireStatus::kNotInteger;
  const bool seconds = opt == ExpireOpt::kEx || opt == ExpireOpt::kExAt;
  const bool relative = opt == ExpireOpt::kEx || opt == ExpireOpt::kPx;
  if (v <= 0 || (seconds && v > INT64_MAX / 1000)) return ExpireStatus::kInvalid;
  if (seconds) v *= 1000;
  // Redis adds the clock with a wrapping add and then rejects a non-positive result;
  // checking before the add gives the same answer without undefined behaviour.
  if (relative) {
    if (v > INT64_MAX - now_ms) return ExpireStatus::kInvalid;
    v += now_ms;
  }
  if (v <= 0) return ExpireStatus::kInvalid;
  *abs_ms = v;
  return ExpireStatus::kOk;
}

std::string InvalidExpireText(std::string_view cmd_lower) {
  return "ERR invalid expire time in '" + std::string(cmd_lower) + "' command";
}

IncrStatus AddInt64(std::optional<std::string_view> current, int64_t incr, int64_t* out) {
  int64_t value = 0;
  if (current && !sdk::ParseInt64(*current, &value)) return IncrStatus::kNotInteger;
  if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
      (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
    return IncrStatus::kOverflow;
  }
  *out = value + incr;
  return IncrStatus::kOk;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  constexpr size_t kMaxLongDoubleChars = 5 * 1024;
  if (s.empty() || s.size() >= kMaxLongDoubleChars) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = strtold(buf.c_str(), &end);
  if (isspace(static_cast<unsigned char>(buf[0])) || end != buf.c_str() + buf.size()) {
    return false;
  }
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) return false;
  if (errno == EINVAL || std::isnan(v)) return false;
  *out = v;
  return true;
}

FloatStatus AddLongDouble(std::optional<std::string_view> current, std::string_view incr,
                          std::string* out) {
  long double value = 0, by = 0;
  // Redis checks the stored value before the increment; both give the same error.
  if (current && !ParseLongDouble(*current, &value)) return FloatStatus::kNotFloat;
  if (!ParseLongDouble(incr, &by)) return FloatStatus::kNotFloat;
  value += by;
  if (std::isnan(value) || std::isinf(value)) return FloatStatus::kNanOrInfinity;
  *out = sdk::FormatLongDouble(value);
  return FloatStatus::kOk;
}

std::string_view Substring(std::string_view s, int64_t start, int64_t end) {
  const int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return {};
  return s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1));
}

bool FitsLimit(uint64_t offset, uint64_t len, int64_t limit) {
  if (limit < 0) return true;
  const uint64_t max = static_cast<uint64_t>(limit);
  return len <= max && offset <= max - len;
}

int64_t MaxBulkLen() {
  int64_t v = sdk::Api().config_int("proto-max-bulk-len");
  if (v <= 0) v = 512LL * 1024 * 1024;
  // NOTE: the host stores string lengths in 32 bits (see docs/host-bugs.md); growing a
  // string past that would silently truncate it, so never allow it whatever the setting.
  return std::min<int64_t>(v, UINT32_MAX);
}

uint64_t LcsTableBytes(std::string_view a, std::string_view b) {
  return (static_cast<uint64_t>(a.size()) + 1) * (static_cast<uint64_t>(b.size()) + 1) *
         sizeof(uint32_t);
}

namespace {

// Walks the DP table back from (alen, blen) exactly as Redis' lcsCommand does, so the
// subsequence and the ranges it reports are the same ones.
void WalkBack(std::string_view a, std::string_view b, const std::vector<uint32_t>& t,
              int64_t min_match_len, LcsResult* r) {
  const uint32_t alen = a.size(), blen = b.size();
  auto at = [&](uint32_t i, uint32_t j) { return t[j + i * (blen + 1)]; };
  uint32_t idx = r->len;
  r->lcs.assign(idx, '\0');
  uint32_t as = alen, ae = 0, bs = 0, be = 0;  // as == alen: no range open
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      r->lcs[idx - 1] = a[i - 1];
      if (as == alen) {
        as = ae = i - 1;
        bs = be = j - 1;
      } else if (as == i && bs == j) {
        as--;
        bs--;
      } else {
        emit = true;
      }
      if (as == 0 || bs == 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (as != alen) emit = true;
    }
    if (emit) {
      LcsRange range{as, ae, bs, be};
      if (min_match_len == 0 || range.Len() >= min_match_len) r->ranges.push_back(range);
      as = alen;
    }
  }
}

}  // namespace

LcsResult ComputeLcs(std::string_view a, std::string_view b, LcsWant want,
                     int64_t min_match_len) {
  const uint32_t alen = a.size(), blen = b.size();
  std::vector<uint32_t> t((static_cast<size_t>(alen) + 1) * (blen + 1), 0);
  auto cell = [&](uint32_t i, uint32_t j) -> uint32_t& { return t[j + i * (blen + 1)]; };
  for (uint32_t i = 1; i <= alen; i++) {
    for (uint32_t j = 1; j <= blen; j++) {
      if (a[i - 1] == b[j - 1]) {
        cell(i, j) = cell(i - 1, j - 1) + 1;
      } else {
        cell(i, j) = std::max(cell(i - 1, j), cell(i, j - 1));
      }
    }
  }
  LcsResult r;
  r.len = cell(alen, blen);
  if (want == LcsWant::kString) WalkBack(a, b, t, min_match_len < 0 ? 0 : min_match_len, &r);
  return r;
}

}  // namespace ferrite::mod::strings
