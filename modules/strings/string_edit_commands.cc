// In-place edits and reads of parts of a string: APPEND, SETRANGE, GETRANGE/SUBSTR,
// STRLEN, the INCR family, INCRBYFLOAT and LCS.
#include <cstring>
#include <new>
#include <string>

#include "string_commands.h"
#include "string_ops.h"

namespace ferrite::mod::strings {

using sdk::Key;
using sdk::SV;

namespace {

int ReplyTooLarge(const Ctx& ctx) { return ctx.Error(FERRITE_E_TOO_LARGE); }

// Writes `data` at `offset` of the key's string, growing it (zero-filled) as needed.
// The caller has checked the type and the size limit. Returns the new length.
size_t OpWriteAt(Key& k, size_t old_len, size_t offset, std::string_view data,
                 const char* event) {
  size_t new_len = std::max(old_len, offset + data.size());
  char* p = k.Resize(new_len);
  if (!data.empty()) memcpy(p + offset, data.data(), data.size());  // p is null at length 0
  k.Modified(FERRITE_NOTIFY_STRING, event);
  return new_len;
}

}  // namespace

int CmdAppend(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]), data = SV(argv[2]);
  Key k = ctx.OpenWrite(key);
  if (!k.Exists()) {
    // NOTE: an empty APPEND still creates the key (as Redis does), so it goes through
    // SetString rather than a zero-length resize.
    k.SetString(data);
    ctx.Notify(FERRITE_NOTIFY_STRING, "append", key);
    return ctx.Int(static_cast<int64_t>(data.size()));
  }
  auto cur = k.String();
  if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
  size_t old_len = cur->size();
  if (!FitsLimit(old_len, data.size(), MaxBulkLen())) return ReplyTooLarge(ctx);
  return ctx.Int(static_cast<int64_t>(OpWriteAt(k, old_len, old_len, data, "append")));
}

int CmdSetRange(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]), data = SV(argv[3]);
  int64_t offset = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &offset)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  if (offset < 0) return ctx.Error("ERR offset is out of range");
  Key k = ctx.OpenWrite(key);
  size_t old_len = 0;
  if (k.Exists()) {
    auto cur = k.String();
    if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
    old_len = cur->size();
  }
  // Setting nothing changes nothing, and does not create a missing key.
  if (data.empty()) return ctx.Int(static_cast<int64_t>(old_len));
  if (!FitsLimit(static_cast<uint64_t>(offset), data.size(), MaxBulkLen())) {
    return ReplyTooLarge(ctx);
  }
  size_t n = OpWriteAt(k, old_len, static_cast<size_t>(offset), data, "setrange");
  return ctx.Int(static_cast<int64_t>(n));
}

int CmdGetRange(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t start = 0, end = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &start) || !sdk::ParseInt64(SV(argv[3]), &end)) {
    return ctx.Error(FERRITE_E_NOT_INTEGER);
  }
  Key k = ctx.Open(SV(argv[1]));
  if (!k.Exists()) return ctx.Bulk("");
  auto cur = k.String();
  if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Bulk(Substring(*cur, start, end));
}

int CmdStrLen(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]));
  if (!k.Exists()) return ctx.Int(0);
  auto cur = k.String();
  if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Int(static_cast<int64_t>(cur->size()));
}

// ---- counters --------------------------------------------------------------------------

bool ReadStringOrReply(const Ctx& ctx, const Key& k, std::optional<std::string_view>* cur) {
  if (!k.Exists()) return true;
  *cur = k.String();
  if (!*cur) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return false;
  }
  return true;
}

namespace {

// Redis' incrDecrCommand. The new value keeps the key's expiry and flags.
int IncrGeneric(Ctx ctx, std::string_view key, int64_t incr) {
  Key k = ctx.OpenWrite(key);
  std::optional<std::string_view> cur;
  if (!ReadStringOrReply(ctx, k, &cur)) return FERRITE_OK;
  int64_t value = 0;
  switch (AddInt64(cur, incr, &value)) {
    case IncrStatus::kNotInteger: return ctx.Error(FERRITE_E_NOT_INTEGER);
    case IncrStatus::kOverflow: return ctx.Error(FERRITE_E_OVERFLOW);
    case IncrStatus::kOk: break;
  }
  k.SetString(std::to_string(value));
  ctx.Notify(FERRITE_NOTIFY_STRING, "incrby", key);
  return ctx.Int(value);
}

}  // namespace

int CmdIncr(Ctx ctx, int argc, const ferrite_slice* argv) {
  return IncrGeneric(ctx, SV(argv[1]), 1);
}

int CmdDecr(Ctx ctx, int argc, const ferrite_slice* argv) {
  return IncrGeneric(ctx, SV(argv[1]), -1);
}

int CmdIncrBy(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t incr = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &incr)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  return IncrGeneric(ctx, SV(argv[1]), incr);
}

int CmdDecrBy(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t decr = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &decr)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  // -INT64_MIN does not exist; Redis has a dedicated message for it.
  if (decr == INT64_MIN) return ctx.Error("ERR decrement would overflow");
  return IncrGeneric(ctx, SV(argv[1]), -decr);
}

// Replicated as SET key <result> KEEPTTL so replicas and AOF replay never redo the
// floating-point arithmetic.
int CmdIncrByFloat(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]);
  Key k = ctx.OpenWrite(key);
  std::optional<std::string_view> cur;
  if (!ReadStringOrReply(ctx, k, &cur)) return FERRITE_OK;
  std::string result;
  switch (AddLongDouble(cur, SV(argv[2]), &result)) {
    case FloatStatus::kNotFloat: return ctx.Error(FERRITE_E_NOT_FLOAT);
    case FloatStatus::kNanOrInfinity:
      return ctx.Error("ERR increment would produce NaN or Infinity");
    case FloatStatus::kOk: break;
  }
  k.SetString(result);
  ctx.Notify(FERRITE_NOTIFY_STRING, "incrbyfloat", key);
  ctx.Propagate({"SET", key, result, "KEEPTTL"});
  return ctx.Bulk(result);
}

// ---- LCS -------------------------------------------------------------------------------

namespace {

struct LcsOptions {
  bool idx = false, len = false, with_match_len = false;
  int64_t min_match_len = 0;
};

// Copies a key's string for LCS ("" when missing); false if it holds another type.
bool LcsInput(const Ctx& ctx, std::string_view key, std::string* out) {
  Key k = ctx.Open(key);
  if (!k.Exists()) return true;
  auto v = k.String();
  if (!v) return false;
  out->assign(*v);
  return true;
}

// Parses LCS options; replies the error itself and returns false on failure.
bool ParseLcsOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, LcsOptions* o) {
  for (int j = 3; j < argc; j++) {
    std::string_view opt = SV(argv[j]);
    if (sdk::EqualsIgnoreCase(opt, "IDX")) {
      o->idx = true;
    } else if (sdk::EqualsIgnoreCase(opt, "LEN")) {
      o->len = true;
    } else if (sdk::EqualsIgnoreCase(opt, "WITHMATCHLEN")) {
      o->with_match_len = true;
    } else if (sdk::EqualsIgnoreCase(opt, "MINMATCHLEN") && j + 1 < argc) {
      if (!sdk::ParseInt64(SV(argv[++j]), &o->min_match_len)) {
        ctx.Error(FERRITE_E_NOT_INTEGER);
        return false;
      }
      if (o->min_match_len < 0) o->min_match_len = 0;
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
  }
  if (o->idx && o->len) {
    ctx.Error("ERR If you want both the length and indexes, please just use IDX.");
    return false;
  }
  return true;
}

void ReplyLcsIdx(const Ctx& ctx, const LcsResult& r, bool with_match_len) {
  ctx.Map(2);
  ctx.Bulk("matches");
  ctx.Array(r.ranges.size());
  for (const LcsRange& m : r.ranges) {
    ctx.Array(with_match_len ? 3 : 2);
    ctx.Array(2);
    ctx.Int(m.a_start);
    ctx.Int(m.a_end);
    ctx.Array(2);
    ctx.Int(m.b_start);
    ctx.Int(m.b_end);
    if (with_match_len) ctx.Int(m.Len());
  }
  ctx.Bulk("len");
  ctx.Int(r.len);
}

}  // namespace

int CmdLcs(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string a, b;
  if (!LcsInput(ctx, SV(argv[1]), &a) || !LcsInput(ctx, SV(argv[2]), &b)) {
    return ctx.Error("ERR The specified keys must contain string values");
  }
  LcsOptions o;
  if (!ParseLcsOptions(ctx, argc, argv, &o)) return FERRITE_OK;
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    return ctx.Error("ERR String too long for LCS");
  }
  if (LcsTableBytes(a, b) > static_cast<uint64_t>(MaxBulkLen())) {
    return ctx.Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  LcsResult r;
  try {
    r = ComputeLcs(a, b, o.len ? LcsWant::kLength : LcsWant::kString, o.min_match_len);
  } catch (const std::bad_alloc&) {
    return ctx.Error("ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  if (o.idx) {
    ReplyLcsIdx(ctx, r, o.with_match_len);
    return FERRITE_OK;
  }
  return o.len ? ctx.Int(r.len) : ctx.Bulk(r.lcs);
}

}  // namespace ferrite::mod::strings
