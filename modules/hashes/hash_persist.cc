// Type callbacks: snapshot save/load, AOF rewrite, memory, and field-TTL expiry hooks.
//
// Field TTLs in RDB: a hash without any is saved as RDB type 4 (plain hash), which every
// Redis version loads; one with TTLs as Redis 7.4's RDB_TYPE_HASH_METADATA (24):
//   <min expire: 8-byte LE ms> <count> then per field <ttl> <field> <value>
// where ttl is a length: 0 = no TTL, else expire - min + 1. Redis 7.4 writes small hashes
// with TTLs as RDB_TYPE_HASH_LISTPACK_EX (25), a listpack of (field, value, absolute ttl)
// triplets: the host decodes it and replays it to Load as this same type-24 stream, so
// Load reads only the plain forms (4 and 24). Loading drops fields whose TTL has passed
// meanwhile, and refuses a field that appears twice (as Redis does). The AOF rewrite
// keeps TTLs too: HSET batches, then HPEXPIREAT.
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "hashes_internal.h"

namespace ferrite::mod::hashes {

using sdk::Api;
using sdk::SL;

namespace {

constexpr size_t kAofBatch = 64;  // field/value pairs per HSET in a rewritten AOF

// NOTE: an AOF rewrite gets no context, hence no host clock; the wall clock decides which
// not-yet-reaped fields are already dead, so the rewritten file does not carry them.
// (The RDB save writes every field with its TTL, as Redis 7.4 does: the loader drops
// the dead ones against its own clock, so a save and a load never disagree.)
int64_t WallMs() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

bool Live(const HashValue* h, std::string_view f, int64_t now) {
  int64_t at = h->GetExpire(f);
  return at == -1 || at > now;
}

// The host holds a rep (hash_value.h): a packed block or a HashValue*. `View` keeps the
// storage a packed block's view needs.
struct RepView {
  explicit RepView(const void* rep) : h(HashValue::View(rep, &storage)) {}
  HashValue storage;
  const HashValue* h;
};

void FreeValue(void* v) { HashValue::FreeRep(v); }
size_t MemUsage(const void* v) { return HashValue::RepMemUsage(v); }
const char* Encoding(const void* v) { return RepView(v).h->Encoding(); }
size_t Length(const void* v) { return RepView(v).h->Size(); }

constexpr int kRdbHash = 4;
constexpr int kRdbHashMetadata = 24;  // Redis 7.4 GA: hash with field TTLs
// Redis' EB_EXPIRE_TIME_MAX: a larger min expire or field expiry in a file is corruption.
constexpr int64_t kMaxExpireMs = (int64_t{1} << 48) - 1;

// NOTE: the SDK stream has no raw 8-byte integer; an RDB binary double is exactly 8
// little-endian bytes, so the millisecond time travels as a double with the same bits.
// (A ms time < 2^62 is never a NaN pattern, so nothing on the way canonicalises it.)
void WriteMs(ferrite_io* io, int64_t ms) {
  double d;
  memcpy(&d, &ms, sizeof d);
  Api().io_write_double(io, d);
}
bool ReadMs(ferrite_io* io, int64_t* ms) {
  double d;
  if (Api().io_read_double(io, &d) != FERRITE_OK) return false;
  memcpy(ms, &d, sizeof d);
  return true;
}

// The configured listpack limits: loads and copies run without a context, so the
// options are read through config_int (which needs none); defaults if unset.
Limits ConfiguredLimits() {
  Limits lim;
  int64_t e = Api().config_int("hash-max-listpack-entries");
  int64_t v = Api().config_int("hash-max-listpack-value");
  if (e >= 0) lim.max_entries = e;
  if (v >= 0) lim.max_value = v;
  return lim;
}

int RdbTypeOf(const void* v) {
  return RepView(v).h->HasVolatile() ? kRdbHashMetadata : kRdbHash;
}

void Save(ferrite_io* io, const void* v) {
  RepView view(v);
  const HashValue* h = view.h;
  // Must agree with RdbTypeOf, which already wrote the type byte.
  bool with_ttl = h->HasVolatile();
  int64_t min = with_ttl ? h->MinExpire() : -1;
  if (with_ttl) WriteMs(io, min);
  Api().io_write_len(io, h->Size());
  h->ForEach([&](std::string_view f, std::string_view val) {
    if (with_ttl) {
      int64_t at = h->GetExpire(f);
      Api().io_write_len(io, at == -1 ? 0 : static_cast<uint64_t>(at - min + 1));
    }
    Api().io_write_string(io, f.data(), f.size());
    Api().io_write_string(io, val.data(), val.size());
  });
}

// One string read from the stream, used where the host put it (no copy) and freed
// with io_free.
class IoString {
 public:
  IoString() = default;
  IoString(const IoString&) = delete;
  IoString& operator=(const IoString&) = delete;
  ~IoString() { Free(); }
  // False on a stream error.
  bool Read(ferrite_io* io) {
    Free();
    return Api().io_read_string(io, &p_, &n_) == FERRITE_OK;
  }
  std::string_view View() const { return {p_, n_}; }

 private:
  void Free() {
    if (p_) Api().io_free(p_);
    p_ = nullptr;
  }
  char* p_ = nullptr;
  size_t n_ = 0;
};

// A hash longer than hash-max-listpack-entries loads straight into a table sized for it
// (Redis expands its dict the same way), not one grown by doubling from a packed block.
// The count comes from the input, so what is reserved up front is capped: a corrupt
// count costs no more than this before the stream runs out.
constexpr uint64_t kMaxReserve = 1 << 16;

void* Load(ferrite_io* io, int rdb_type) {
  int64_t min = 0;
  if (rdb_type == kRdbHashMetadata && (!ReadMs(io, &min) || min < 0 || min > kMaxExpireMs))
    return nullptr;
  uint64_t n;
  if (Api().io_read_len(io, &n) != FERRITE_OK) return nullptr;
  auto h = std::make_unique<HashValue>();
  Limits lim = ConfiguredLimits();
  if (static_cast<int64_t>(n) > lim.max_entries) h->ReserveTable(std::min(n, kMaxReserve));
  int64_t now = Api().now_ms(nullptr);  // the host's clock (tests move it)
  std::unordered_set<std::string> dropped;  // expired on load, still seen for duplicates
  IoString fs, vs;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t ttl = 0;
    if (rdb_type == kRdbHashMetadata && Api().io_read_len(io, &ttl) != FERRITE_OK)
      return nullptr;
    if (ttl > static_cast<uint64_t>(kMaxExpireMs) || !fs.Read(io) || !vs.Read(io))
      return nullptr;
    const std::string_view f = fs.View(), val = vs.View();
    int64_t at = ttl == 0 ? -1 : static_cast<int64_t>(ttl) + min - 1;
    if (at > kMaxExpireMs) return nullptr;
    // A field twice is a corrupt file, not a silent overwrite (Set returns "was new").
    if (!dropped.empty() && dropped.count(std::string(f))) return nullptr;
    if (at != -1 && at <= now) {  // expired while the file sat on disk
      if (h->Exists(f)) return nullptr;
      dropped.emplace(f);
      continue;
    }
    if (!h->Set(f, val, lim)) return nullptr;
    if (at != -1) h->SetExpire(f, at);
  }
  return HashValue::ToRep(h.release());
}

int64_t NextSubkeyExpire(const void* v) { return RepView(v).h->NextExpire(); }

int64_t ExpireSubkeys(void* v, int64_t now_ms, void (*emit)(void*, ferrite_slice),
                      void* udata) {
  if (HashValue::IsPacked(v)) return -1;  // a packed block never has field TTLs
  auto* h = static_cast<HashValue*>(v);
  std::vector<std::string> expired;
  h->ExpireDue(now_ms, &expired);
  for (auto& f : expired) emit(udata, SL(f));
  return h->NextExpire();
}

void* CopyValue(const void* v) {
  HashValue* c = RepView(v).h->Clone();
  c->Conform(ConfiguredLimits());
  return HashValue::ToRep(c);
}

void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  RepView view(v);
  const HashValue* h = view.h;
  int64_t now = WallMs();
  sdk::AofBatch out(aof, "HSET", key, 2 * kAofBatch);  // field value pairs
  std::vector<std::pair<std::string, int64_t>> ttls;
  h->ForEach([&](std::string_view f, std::string_view val) {
    if (!Live(h, f, now)) return;
    out.Add(f);
    out.Add(val);
    if (int64_t at = h->GetExpire(f); at != -1) ttls.emplace_back(f, at);
  });
  out.Finish();
  for (auto& [f, at] : ttls) {
    std::string at_s = std::to_string(at);
    ferrite_slice cmd[] = {SL("HPEXPIREAT"), key, SL(at_s), SL("FIELDS"), SL("1"), SL(f)};
    Api().aof_emit(aof, 6, cmd);
  }
}

const int kLoadTypes[] = {kRdbHash, kRdbHashMetadata, -1};

}  // namespace

ferrite_type_desc TypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "hash";
  d.rdb_type = kRdbHash;
  d.rdb_load_types = kLoadTypes;
  d.free_value = FreeValue;
  d.mem_usage = MemUsage;
  d.copy = CopyValue;
  d.encoding = Encoding;
  d.save = Save;
  d.load = Load;
  d.aof_rewrite = AofRewrite;
  d.length = Length;
  d.rdb_type_of = RdbTypeOf;
  d.next_subkey_expire = NextSubkeyExpire;
  d.expire_subkeys = ExpireSubkeys;
  d.subkey_delete_command = "HDEL";
  d.subkey_expired_event = "hexpired";
  d.subkey_event_class = FERRITE_NOTIFY_HASH;
  return d;
}

}  // namespace ferrite::mod::hashes
