// Type callbacks for HelloValue. The host calls them without a command context:
//   free_value   when the key is deleted, overwritten, expired or evicted
//   mem_usage    after every write, for used_memory / maxmemory accounting
//   copy         COPY, and consistent snapshots
//   encoding     OBJECT ENCODING
//   save / load  snapshots (SAVE, BGSAVE, DEBUG RELOAD) through the ferrite_io stream
//   aof_rewrite  BGREWRITEAOF: the commands that rebuild the value
//   length       0 would tell the host to delete the key; a HelloValue is never empty
#include <string_view>

#include "ferrite/module.hpp"
#include "hello_value.h"

namespace hello {
namespace {

using ferrite::sdk::Api;

const HelloValue* V(const void* v) { return static_cast<const HelloValue*>(v); }

void FreeValue(void* v) { delete static_cast<HelloValue*>(v); }

size_t MemUsage(const void* v) { return sizeof(HelloValue) + V(v)->text.capacity(); }

void* Copy(const void* v) { return new HelloValue(*V(v)); }

// Short values are the common case; the split only shows that encoding is per value.
const char* Encoding(const void* v) { return V(v)->text.size() <= 32 ? "short" : "long"; }

size_t Length(const void*) { return 1; }

// On disk: the text, then the write counter as a length-encoded integer.
void Save(ferrite_io* io, const void* v) {
  Api().io_write_string(io, V(v)->text.data(), V(v)->text.size());
  Api().io_write_len(io, V(v)->writes);
}

// Returns NULL on a short or corrupt stream: the host then fails the load with the key.
void* Load(ferrite_io* io, int rdb_type) {
  if (rdb_type != kRdbType) return nullptr;
  char* s = nullptr;
  size_t len = 0;
  if (Api().io_read_string(io, &s, &len) != FERRITE_OK) return nullptr;
  auto* v = new HelloValue{std::string(s, len), 0};
  Api().io_free(s);  // the host malloc()ed it; only io_free may release it
  uint64_t writes = 0;
  if (Api().io_read_len(io, &writes) != FERRITE_OK) {
    delete v;
    return nullptr;
  }
  v->writes = writes;
  return v;
}

// NOTE: the write counter is not rebuilt by replay (it restarts at 1); only snapshots
// keep it. A rewrite must use commands this module registers, so AOF replay needs the
// module loaded at startup ([modules] load).
void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  const ferrite_slice argv[] = {ferrite::sdk::SL("HELLO.SET"), key,
                                {V(v)->text.data(), V(v)->text.size()}};
  Api().aof_emit(aof, 3, argv);
}

const int kLoadTypes[] = {kRdbType, -1};

}  // namespace

ferrite_type_desc TypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "hellotype";
  d.rdb_type = kRdbType;
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

}  // namespace hello
