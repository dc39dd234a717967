// Type callbacks of the "zset" value: snapshots in RDB plain form (type 5 ZSET_2:
// count, then member + binary double), AOF rewrite as ZADD batches, memory, copy.
#include <string>
#include <vector>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Api;

namespace {
constexpr size_t kAofBatch = 64;
// 3 (ZSET, string scores) and 5 (ZSET_2): the host decodes both into the plain form.
const int kLoadTypes[] = {5, 3, -1};

void FreeValue(void* v) { ZSetValue::Destroy(static_cast<ZSetValue*>(v)); }
size_t MemUsage(const void* v) { return static_cast<const ZSetValue*>(v)->MemUsage(); }
void* Copy(const void* v) { return static_cast<const ZSetValue*>(v)->Clone(); }
const char* Encoding(const void* v) { return static_cast<const ZSetValue*>(v)->EncodingName(); }
size_t Length(const void* v) { return static_cast<const ZSetValue*>(v)->Size(); }

void Save(ferrite_io* io, const void* v) {
  auto* z = static_cast<const ZSetValue*>(v);
  Api().io_write_len(io, z->Size());
  // Redis writes ZSET_2 from the highest score down, so loading inserts at the head.
  if (z->Size() == 0) return;
  z->Walk(z->Size() - 1, Dir::kReverse, [&](std::string_view m, double s) {
    Api().io_write_string(io, m.data(), m.size());
    Api().io_write_double(io, s);
    return true;
  });
}

// As Redis' rdbLoad: the live zset-max-listpack-* settings decide the encoding, so a
// zset saved as a skiplist comes back as a listpack when it now fits, and the reverse.
void* Load(ferrite_io* io, int) {
  uint64_t n = 0;
  if (Api().io_read_len(io, &n) != FERRITE_OK) return nullptr;
  ZLimits lim = LoadLimits();
  ZSetPtr z(ZSetValue::Create(lim, static_cast<size_t>(n), 0));
  for (uint64_t i = 0; i < n; i++) {
    char* p = nullptr;
    size_t len = 0;
    double score = 0;
    if (Api().io_read_string(io, &p, &len) != FERRITE_OK) return nullptr;
    std::string m(p, len);
    Api().io_free(p);
    if (Api().io_read_double(io, &score) != FERRITE_OK) return nullptr;
    z.Set(m, score, lim);
  }
  return z.release();
}

void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  auto* z = static_cast<const ZSetValue*>(v);
  sdk::AofBatch out(aof, "ZADD", key, 2 * kAofBatch);  // score member pairs
  z->ForEach([&](std::string_view m, double s) {
    out.Add(sdk::FormatDouble(s));
    out.Add(m);
    return true;
  });
  out.Finish();
}
}  // namespace

ferrite_type_desc ZSetTypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "zset";
  d.rdb_type = 5;
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

}  // namespace ferrite::mod::zsets
