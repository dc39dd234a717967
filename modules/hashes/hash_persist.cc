// Type callbacks: snapshot save/load in the plain RDB hash form, AOF rewrite, memory.
//
// Field TTLs: the RDB hash type (4) that Redis 7.0 loads has no place for them, so a
// snapshot writes live fields as plain fields and the TTLs are lost on a restart from
// RDB (see README.md). The AOF rewrite keeps them: HSET batches, then HPEXPIREAT.
#include <sys/time.h>

#include <string>
#include <vector>

#include "hashes_internal.h"

namespace ferrite::mod::hashes {

using sdk::Api;
using sdk::SL;

namespace {

constexpr size_t kAofBatch = 64;  // field/value pairs per HSET in a rewritten AOF

// NOTE: save/rewrite get no context, hence no host clock; the wall clock decides which
// not-yet-reaped fields are already dead so they are not resurrected as plain fields.
int64_t WallMs() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

bool Live(const HashValue* h, std::string_view f, int64_t now) {
  int64_t at = h->GetExpire(f);
  return at == -1 || at > now;
}

void FreeValue(void* v) { delete static_cast<HashValue*>(v); }
size_t MemUsage(const void* v) { return static_cast<const HashValue*>(v)->MemUsage(); }
void* Copy(const void* v) { return static_cast<const HashValue*>(v)->Clone(); }
const char* Encoding(const void* v) { return static_cast<const HashValue*>(v)->Encoding(); }
size_t Length(const void* v) { return static_cast<const HashValue*>(v)->Size(); }

void Save(ferrite_io* io, const void* v) {
  const auto* h = static_cast<const HashValue*>(v);
  int64_t now = WallMs();
  size_t live = 0;
  h->ForEach([&](std::string_view f, std::string_view) { live += Live(h, f, now); });
  Api().io_write_len(io, live);
  h->ForEach([&](std::string_view f, std::string_view val) {
    if (!Live(h, f, now)) return;
    Api().io_write_string(io, f.data(), f.size());
    Api().io_write_string(io, val.data(), val.size());
  });
}

void* Load(ferrite_io* io, int) {
  uint64_t n;
  if (Api().io_read_len(io, &n) != FERRITE_OK) return nullptr;
  auto* h = new HashValue();
  Limits lim;  // no context here: Redis' defaults (see list_persist.cc for the same note)
  for (uint64_t i = 0; i < n; i++) {
    char *f, *val;
    size_t flen, vlen;
    if (Api().io_read_string(io, &f, &flen) != FERRITE_OK) {
      delete h;
      return nullptr;
    }
    if (Api().io_read_string(io, &val, &vlen) != FERRITE_OK) {
      Api().io_free(f);
      delete h;
      return nullptr;
    }
    h->Set(std::string_view(f, flen), std::string_view(val, vlen), lim);
    Api().io_free(f);
    Api().io_free(val);
  }
  return h;
}

void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  const auto* h = static_cast<const HashValue*>(v);
  int64_t now = WallMs();
  std::vector<ferrite_slice> argv;
  auto flush = [&] {
    if (argv.size() > 2) Api().aof_emit(aof, static_cast<int>(argv.size()), argv.data());
    argv.assign({SL("HSET"), key});
  };
  flush();
  std::vector<std::pair<std::string, int64_t>> ttls;
  h->ForEach([&](std::string_view f, std::string_view val) {
    if (!Live(h, f, now)) return;
    argv.push_back(SL(f));
    argv.push_back(SL(val));
    if (int64_t at = h->GetExpire(f); at != -1) ttls.emplace_back(f, at);
    if ((argv.size() - 2) / 2 == kAofBatch) flush();
  });
  flush();
  for (auto& [f, at] : ttls) {
    std::string at_s = std::to_string(at);
    ferrite_slice cmd[] = {SL("HPEXPIREAT"), key, SL(at_s), SL("FIELDS"), SL("1"), SL(f)};
    Api().aof_emit(aof, 6, cmd);
  }
}

const int kLoadTypes[] = {4, -1};

}  // namespace

ferrite_type_desc TypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "hash";
  d.rdb_type = 4;
  d.rdb_load_types = kLoadTypes;
  d.free_value = FreeValue;
  d.mem_usage = MemUsage;
  d.copy = Copy;
  d.encoding = Encoding;
  d.save = Save;
  d.load = Load;
  d.aof_rewrite = AofRewrite;
  d.length = Length;
  return d;
}

}  // namespace ferrite::mod::hashes
