// Type callbacks of the "set" value: snapshots in RDB plain form (type 2: count, then
// members), AOF rewrite as SADD batches, memory usage, copy, encoding.
#include <string>
#include <vector>

#include "sets_internal.h"

namespace ferrite::mod::sets {

using sdk::Api;

namespace {
constexpr size_t kAofBatch = 64;
const int kLoadTypes[] = {2, -1};

void FreeValue(void* v) { SetValue::Destroy(static_cast<SetValue*>(v)); }
size_t MemUsage(const void* v) { return static_cast<const SetValue*>(v)->MemUsage(); }
void* Copy(const void* v) { return static_cast<const SetValue*>(v)->Clone(); }
const char* Encoding(const void* v) { return static_cast<const SetValue*>(v)->EncodingName(); }
size_t Length(const void* v) { return static_cast<const SetValue*>(v)->Size(); }

void Save(ferrite_io* io, const void* v) {
  auto* s = static_cast<const SetValue*>(v);
  Api().io_write_len(io, s->Size());
  s->ForEach([&](std::string_view m) { Api().io_write_string(io, m.data(), m.size()); });
}

// As Redis' rdbLoad: the live set-max-intset-entries decides the encoding, so a set
// saved as a hash table comes back as an intset when it now fits, and the reverse.
void* Load(ferrite_io* io, int rdb_type) {
  uint64_t n = 0;
  if (rdb_type != 2 || Api().io_read_len(io, &n) != FERRITE_OK) return nullptr;
  size_t max_intset = MaxIntSetEntries();
  SetPtr s(SetValue::CreateIntSet());
  // A set too big for an intset starts as a hash table (no per-element conversion).
  if (n > max_intset) s.ConvertToHashTable();
  for (uint64_t i = 0; i < n; i++) {
    char* p = nullptr;
    size_t len = 0;
    if (Api().io_read_string(io, &p, &len) != FERRITE_OK) return nullptr;
    s.Add(std::string_view(p, len), max_intset);
    Api().io_free(p);
  }
  return s.release();
}

void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  auto* s = static_cast<const SetValue*>(v);
  sdk::AofBatch out(aof, "SADD", key, kAofBatch);
  s->ForEach([&](std::string_view m) { out.Add(m); });
  out.Finish();
}
}  // namespace

ferrite_type_desc SetTypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "set";
  d.rdb_type = 2;
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

}  // namespace ferrite::mod::sets
