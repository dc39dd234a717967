// Type callbacks: snapshot save/load in the plain RDB list form, AOF rewrite, memory.
#include <string>
#include <vector>

#include "lists_internal.h"

namespace ferrite::mod::lists {

using sdk::Api;
using sdk::SL;

namespace {

constexpr size_t kAofBatch = 64;  // elements per RPUSH in a rewritten AOF

// Load has no context: it reads list-max-listpack-size through config_int (which works
// without one), as Redis' rdbLoad uses the live setting. Copy keeps the source's nodes
// and encoding, as Redis' COPY (listTypeDup) does.
// (config_int's "unknown" answer, -1, is itself a valid fill: a 4 KB node limit.)
int64_t LoadFill() { return Api().config_int("list-max-listpack-size"); }

void FreeValue(void* v) { delete static_cast<ListValue*>(v); }

size_t MemUsage(const void* v) { return static_cast<const ListValue*>(v)->MemUsage(); }

void* Copy(const void* v) { return new ListValue(static_cast<const ListValue*>(v)->Clone()); }

const char* Encoding(const void* v) { return static_cast<const ListValue*>(v)->Encoding(); }

size_t Length(const void* v) { return static_cast<const ListValue*>(v)->Size(); }

void Save(ferrite_io* io, const void* v) {
  const auto* l = static_cast<const ListValue*>(v);
  Api().io_write_len(io, l->Size());
  l->ForEach([&](std::string_view e) {
    Api().io_write_string(io, e.data(), e.size());
    return true;
  });
}

void* Load(ferrite_io* io, int) {
  uint64_t n;
  if (Api().io_read_len(io, &n) != FERRITE_OK) return nullptr;
  auto* l = new ListValue();
  int64_t fill = LoadFill();
  for (uint64_t i = 0; i < n; i++) {
    char* s;
    size_t len;
    if (Api().io_read_string(io, &s, &len) != FERRITE_OK) {
      delete l;
      return nullptr;
    }
    l->Push(End::kTail, std::string_view(s, len), fill);
    Api().io_free(s);
  }
  return l;
}

void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  const auto* l = static_cast<const ListValue*>(v);
  sdk::AofBatch out(aof, "RPUSH", key, kAofBatch);
  l->ForEach([&](std::string_view e) {
    out.Add(e);
    return true;
  });
  out.Finish();
}

const int kLoadTypes[] = {1, -1};

}  // namespace

ferrite_type_desc TypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "list";
  d.rdb_type = 1;
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

}  // namespace ferrite::mod::lists
