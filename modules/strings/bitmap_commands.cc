// The bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
// BITFIELD_RO. A bitmap is a plain string; the arithmetic lives in bitmap_ops.cc. Order
// of argument checks, key lookups and errors is redis-server 7.0's (src/bitops.c).
#include <cstring>
#include <string>
#include <vector>

#include "bitmap_ops.h"
#include "string_commands.h"
#include "string_ops.h"

namespace ferrite::mod::strings {

using sdk::Key;
using sdk::SV;

namespace {

constexpr const char* kBadOffset = "ERR bit offset is not an integer or out of range";

bool ParseUnit(std::string_view w, RangeUnit* unit) {
  if (sdk::EqualsIgnoreCase(w, "BIT")) *unit = RangeUnit::kBit;
  else if (sdk::EqualsIgnoreCase(w, "BYTE")) *unit = RangeUnit::kByte;
  else return false;
  return true;
}

}  // namespace

// SETBIT key offset value: replies the old bit. A write that changes nothing (same bit,
// no growth) is no write at all: no event, no version bump, nothing propagated.
int CmdSetBit(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]);
  uint64_t offset = 0;
  if (!ParseBitOffset(SV(argv[2]), 0, MaxBulkLen(), &offset)) return ctx.Error(kBadOffset);
  int64_t on = 0;
  if (!sdk::ParseInt64(SV(argv[3]), &on) || (on & ~int64_t{1})) {
    return ctx.Error("ERR bit is not an integer or out of range");
  }
  Key k = ctx.OpenWrite(key);
  size_t old_len = 0;
  if (k.Exists()) {
    auto cur = k.String();
    if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
    old_len = cur->size();
  }
  const size_t byte = offset >> 3;
  const int shift = 7 - static_cast<int>(offset & 7);
  int old_bit = 0;
  if (byte < old_len) old_bit = (static_cast<uint8_t>((*k.String())[byte]) >> shift) & 1;
  const bool grows = !k.Exists() || byte >= old_len;
  if (grows || old_bit != on) {
    char* p = k.Resize(std::max(old_len, byte + 1));
    if (!p) return ctx.Error(FERRITE_E_TOO_LARGE);
    p[byte] = static_cast<char>((static_cast<uint8_t>(p[byte]) & ~(1 << shift)) | (on << shift));
    k.Modified(FERRITE_NOTIFY_STRING, "setbit");
  }
  return ctx.Int(old_bit);
}

int CmdGetBit(Ctx ctx, int argc, const ferrite_slice* argv) {
  uint64_t offset = 0;
  if (!ParseBitOffset(SV(argv[2]), 0, MaxBulkLen(), &offset)) return ctx.Error(kBadOffset);
  Key k = ctx.Open(SV(argv[1]));
  std::optional<std::string_view> s;
  if (!ReadStringOrReply(ctx, k, &s)) return FERRITE_OK;
  const size_t byte = offset >> 3;
  if (!s || byte >= s->size()) return ctx.Int(0);
  return ctx.Int((static_cast<uint8_t>((*s)[byte]) >> (7 - (offset & 7))) & 1);
}

// BITCOUNT key [start end [BYTE|BIT]]. Redis 7.0 looks the key up before it reads the
// range, so a missing key answers 0 whatever the arguments.
int CmdBitCount(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]));
  std::optional<std::string_view> s;
  if (!ReadStringOrReply(ctx, k, &s)) return FERRITE_OK;
  if (!s) return ctx.Int(0);
  if (argc == 2) {
    auto p = reinterpret_cast<const uint8_t*>(s->data());
    return ctx.Int(static_cast<int64_t>(Popcount(p, s->size())));
  }
  if (argc != 4 && argc != 5) return ctx.Error(FERRITE_E_SYNTAX);
  int64_t start = 0, end = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &start) || !sdk::ParseInt64(SV(argv[3]), &end)) {
    return ctx.Error(FERRITE_E_NOT_INTEGER);
  }
  // NOTE: Redis answers this empty range before it looks at the unit word.
  if (start < 0 && end < 0 && start > end) return ctx.Int(0);
  RangeUnit unit = RangeUnit::kByte;
  if (argc == 5 && !ParseUnit(SV(argv[4]), &unit)) return ctx.Error(FERRITE_E_SYNTAX);
  return ctx.Int(CountBits(*s, start, end, unit));
}

// BITPOS key bit [start [end [BYTE|BIT]]]
int CmdBitPos(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t bit = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &bit)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  if (bit != 0 && bit != 1) return ctx.Error("ERR The bit argument must be 1 or 0.");
  Key k = ctx.Open(SV(argv[1]));
  std::optional<std::string_view> s;
  if (!ReadStringOrReply(ctx, k, &s)) return FERRITE_OK;
  // A missing key is an endless run of zeros.
  if (!s) return ctx.Int(bit ? -1 : 0);
  if (argc > 6) return ctx.Error(FERRITE_E_SYNTAX);
  std::optional<int64_t> start, end;
  RangeUnit unit = RangeUnit::kByte;
  if (argc >= 4) {
    int64_t v = 0;
    if (!sdk::ParseInt64(SV(argv[3]), &v)) return ctx.Error(FERRITE_E_NOT_INTEGER);
    start = v;
    if (argc == 6 && !ParseUnit(SV(argv[5]), &unit)) return ctx.Error(FERRITE_E_SYNTAX);
    if (argc >= 5) {
      if (!sdk::ParseInt64(SV(argv[4]), &v)) return ctx.Error(FERRITE_E_NOT_INTEGER);
      end = v;
    }
  }
  return ctx.Int(FindBit(*s, static_cast<int>(bit), start, end, unit));
}

// BITOP op destkey key [key ...]. The result replaces destkey as a plain SET would (no
// expiry, flags 0) and fires "set"; an empty result deletes destkey ("del").
int CmdBitOp(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto op = ParseBitOp(SV(argv[1]));
  if (!op) return ctx.Error(FERRITE_E_SYNTAX);
  const int sources = argc - 3;
  if (*op == BitOpKind::kNot && sources != 1) {
    return ctx.Error("ERR BITOP NOT must be called with a single source key.");
  }
  if (sources < BitOpMinSources(*op)) {
    return ctx.Error(std::string("ERR BITOP ") + BitOpName(*op) +
                     " must be called with at least two source keys.");
  }
  std::string result;
  {
    std::vector<Key> keys;  // keep the source views alive while combining
    std::vector<std::string_view> srcs;
    keys.reserve(sources);
    srcs.reserve(sources);
    for (int j = 3; j < argc; j++) {
      keys.push_back(ctx.Open(SV(argv[j])));
      std::optional<std::string_view> s;
      if (!ReadStringOrReply(ctx, keys.back(), &s)) return FERRITE_OK;
      srcs.push_back(s.value_or(std::string_view{}));
    }
    result = BitOp(*op, srcs);
  }
  std::string_view dest = SV(argv[2]);
  Key d = ctx.OpenWrite(dest);
  if (!result.empty()) {
    d.SetString(result);
    d.SetFlags(0);
    d.SetExpire(-1);
    ctx.Notify(FERRITE_NOTIFY_STRING, "set", dest);
  } else if (d.Exists()) {
    d.Delete();
    ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", dest);
  }
  return ctx.Int(static_cast<int64_t>(result.size()));
}

// ---- BITFIELD --------------------------------------------------------------------------

namespace {

enum class FieldOp { kGet, kSet, kIncrBy };

struct FieldRequest {
  FieldOp op;
  FieldType type;
  uint64_t offset;
  int64_t arg;
  Overflow overflow;
};

// Parses every subcommand before anything is looked up, as Redis does; replies the
// error itself and returns false on failure. *highest: the last bit a write reaches.
bool ParseFieldOps(const Ctx& ctx, int argc, const ferrite_slice* argv,
                   std::vector<FieldRequest>* ops, bool* any_write, uint64_t* highest) {
  Overflow ow = Overflow::kWrap;
  const int64_t max_bytes = MaxBulkLen();
  for (int j = 2; j < argc; j++) {
    const int rem = argc - j - 1;
    std::string_view sub = SV(argv[j]);
    FieldOp op;
    if (sdk::EqualsIgnoreCase(sub, "GET") && rem >= 2) {
      op = FieldOp::kGet;
    } else if (sdk::EqualsIgnoreCase(sub, "SET") && rem >= 3) {
      op = FieldOp::kSet;
    } else if (sdk::EqualsIgnoreCase(sub, "INCRBY") && rem >= 3) {
      op = FieldOp::kIncrBy;
    } else if (sdk::EqualsIgnoreCase(sub, "OVERFLOW") && rem >= 1) {
      std::string_view w = SV(argv[++j]);
      if (sdk::EqualsIgnoreCase(w, "WRAP")) ow = Overflow::kWrap;
      else if (sdk::EqualsIgnoreCase(w, "SAT")) ow = Overflow::kSat;
      else if (sdk::EqualsIgnoreCase(w, "FAIL")) ow = Overflow::kFail;
      else return ctx.Error("ERR Invalid OVERFLOW type specified"), false;
      continue;
    } else {
      return ctx.Error(FERRITE_E_SYNTAX), false;
    }
    FieldRequest r{op, {}, 0, 0, ow};
    if (!ParseFieldType(SV(argv[j + 1]), &r.type)) {
      return ctx.Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                       "not supported but i64 is."),
             false;
    }
    if (!ParseBitOffset(SV(argv[j + 2]), r.type.bits, max_bytes, &r.offset)) {
      return ctx.Error(kBadOffset), false;
    }
    if (op != FieldOp::kGet) {
      *any_write = true;
      *highest = std::max(*highest, r.offset + r.type.bits - 1);
      if (!sdk::ParseInt64(SV(argv[j + 3]), &r.arg)) return ctx.Error(FERRITE_E_NOT_INTEGER), false;
    }
    ops->push_back(r);
    j += op == FieldOp::kGet ? 2 : 3;
  }
  return true;
}

enum class FieldMode { kReadWrite, kReadOnly };

// Redis' bitfieldGeneric. Every operation runs on an overlay of the stored string, so
// the key is only written (and "setbit" fired, the version bumped) when the bits change,
// when it is created, or when it must grow to reach the highest written bit.
int BitFieldGeneric(Ctx ctx, int argc, const ferrite_slice* argv, FieldMode mode) {
  std::vector<FieldRequest> ops;
  bool any_write = false;
  uint64_t highest = 0;
  if (!ParseFieldOps(ctx, argc, argv, &ops, &any_write, &highest)) return FERRITE_OK;
  if (any_write && mode == FieldMode::kReadOnly) {
    return ctx.Error("ERR BITFIELD_RO only supports the GET subcommand");
  }
  Key k = any_write ? ctx.OpenWrite(SV(argv[1])) : ctx.Open(SV(argv[1]));
  std::optional<std::string_view> cur;
  if (!ReadStringOrReply(ctx, k, &cur)) return FERRITE_OK;
  const size_t old_len = cur ? cur->size() : 0;
  const size_t need = any_write ? std::max<size_t>(old_len, (highest >> 3) + 1) : old_len;
  // Redis creates or grows the string before running the ops; every op then counts.
  const bool grows = any_write && (!cur || need > old_len);

  BitOverlay bits(cur.value_or(std::string_view{}));
  bool changed = false;
  ctx.Array(ops.size());
  for (const FieldRequest& r : ops) {
    if (r.op == FieldOp::kGet) {
      if (r.type.is_signed) ctx.Int(GetSignedField(bits, r.offset, r.type.bits));
      else ctx.Int(static_cast<int64_t>(GetUnsignedField(bits, r.offset, r.type.bits)));
      continue;
    }
    bool op_changed = false;
    auto v = WriteField(bits, r.op == FieldOp::kSet ? FieldWrite::kSet : FieldWrite::kIncrBy,
                        r.type, r.offset, r.arg, r.overflow, &op_changed);
    if (!v) {
      ctx.Null();
      continue;
    }
    ctx.Int(*v);
    changed = changed || op_changed || grows;
  }
  if (!grows && !changed) return FERRITE_OK;
  char* p = k.Resize(need);
  if (!p) return FERRITE_OK;  // cannot happen: `need` is within proto-max-bulk-len
  for (auto [byte, v] : bits.Written()) p[byte] = static_cast<char>(v);
  // NOTE: a new or grown key whose every write was refused by OVERFLOW FAIL is created
  // without an event, as in Redis.
  if (changed) k.Modified(FERRITE_NOTIFY_STRING, "setbit");
  return FERRITE_OK;
}

}  // namespace

int CmdBitField(Ctx ctx, int argc, const ferrite_slice* argv) {
  return BitFieldGeneric(ctx, argc, argv, FieldMode::kReadWrite);
}

int CmdBitFieldRo(Ctx ctx, int argc, const ferrite_slice* argv) {
  return BitFieldGeneric(ctx, argc, argv, FieldMode::kReadOnly);
}

}  // namespace ferrite::mod::strings
