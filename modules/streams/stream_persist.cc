// Type callbacks: RDB save/load in Redis' own stream encodings, AOF rewrite, memory, copy.
//
// RDB (rdb.c): nodes are written as they are kept (16-byte big-endian master ID, then
// the listpack), followed by the stream's counters and its consumer groups. Saved as
// RDB_TYPE_STREAM_LISTPACKS_2 (19, Redis 7.0); loaded from 15 (Redis 5.0-6.2: no first
// ID, tombstone ID, entries-added or group read counters, which are derived as Redis
// derives them), 19, and 21 (Redis 7.2: adds each consumer's active time, which 7.0 has
// no place for and is dropped). PEL IDs are 16 raw bytes and times 8 raw little-endian
// bytes; the host's io has no raw read, so they travel through io_read_double /
// io_write_double, which move exactly 8 raw bytes.
//
// Loading checks what the rest of the module relies on, beyond what Redis checks without
// sanitize-dump-payload: every listpack element and back-length, the node structure and
// counts, IDs increasing across nodes and not above the last ID, the stream length, and
// every PEL entry owned by exactly one consumer.
#include <cstring>
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::Api;
using sdk::SL;

namespace {

constexpr int kRdbStream = 15, kRdbStream2 = 19, kRdbStream3 = 21;
const int kLoadTypes[] = {kRdbStream, kRdbStream2, kRdbStream3, -1};

uint64_t Bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}
double FromBits(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}

void WriteRaw8(ferrite_io* io, const unsigned char* p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= uint64_t(p[i]) << (8 * i);
  Api().io_write_double(io, FromBits(u));
}
bool ReadRaw8(ferrite_io* io, unsigned char* p) {
  double d;
  if (Api().io_read_double(io, &d) != FERRITE_OK) return false;
  uint64_t u = Bits(d);
  for (int i = 0; i < 8; i++) p[i] = static_cast<unsigned char>(u >> (8 * i));
  return true;
}
void WriteRawID(ferrite_io* io, const StreamID& id) {
  unsigned char b[16];
  EncodeID(id, b);
  WriteRaw8(io, b);
  WriteRaw8(io, b + 8);
}
bool ReadRawID(ferrite_io* io, StreamID* id) {
  unsigned char b[16];
  if (!ReadRaw8(io, b) || !ReadRaw8(io, b + 8)) return false;
  *id = DecodeID(b);
  return true;
}
void WriteMs(ferrite_io* io, int64_t ms) { Api().io_write_double(io, FromBits(static_cast<uint64_t>(ms))); }
bool ReadMs(ferrite_io* io, int64_t* ms) {
  double d;
  if (Api().io_read_double(io, &d) != FERRITE_OK) return false;
  *ms = static_cast<int64_t>(Bits(d));
  return true;
}
void WriteLen(ferrite_io* io, uint64_t v) { Api().io_write_len(io, v); }
bool ReadLen(ferrite_io* io, uint64_t* v) { return Api().io_read_len(io, v) == FERRITE_OK; }
void WriteStr(ferrite_io* io, std::string_view s) { Api().io_write_string(io, s.data(), s.size()); }
bool ReadStr(ferrite_io* io, std::string* out) {
  char* p = nullptr;
  size_t n = 0;
  if (Api().io_read_string(io, &p, &n) != FERRITE_OK) return false;
  out->assign(p, n);
  Api().io_free(p);
  return true;
}

void Save(ferrite_io* io, const void* v) {
  const auto& s = *static_cast<const Stream*>(v);
  WriteLen(io, s.nodes.size());
  for (auto& [master, lp] : s.nodes) {
    unsigned char key[16];
    EncodeID(master, key);
    WriteStr(io, std::string_view(reinterpret_cast<const char*>(key), 16));
    WriteStr(io, lp.bytes());
  }
  WriteLen(io, s.length);
  WriteLen(io, s.last_id.ms);
  WriteLen(io, s.last_id.seq);
  WriteLen(io, s.first_id.ms);
  WriteLen(io, s.first_id.seq);
  WriteLen(io, s.max_deleted.ms);
  WriteLen(io, s.max_deleted.seq);
  WriteLen(io, s.entries_added);
  WriteLen(io, s.groups.size());
  for (auto& [name, g] : s.groups) {
    WriteStr(io, name);
    WriteLen(io, g->last_id.ms);
    WriteLen(io, g->last_id.seq);
    WriteLen(io, static_cast<uint64_t>(g->entries_read));
    WriteLen(io, g->pel.size());
    for (auto& [id, n] : g->pel) {
      WriteRawID(io, id);
      WriteMs(io, n.delivery_time);
      WriteLen(io, n.delivery_count);
    }
    WriteLen(io, g->consumers.size());
    for (auto& [cname, c] : g->consumers) {
      WriteStr(io, cname);
      WriteMs(io, c.seen_time);
      WriteLen(io, c.pel.size());
      for (const StreamID& id : c.pel) WriteRawID(io, id);
    }
  }
}

// Nodes: structure, order across nodes, counts. Returns the stream's largest entry ID
// (tombstones included) in *max_id.
bool CheckNodes(const Stream& s, StreamID* max_id, bool* any) {
  uint64_t live = 0;
  *any = false;
  NodeLayout l;
  for (auto it = s.nodes.begin(); it != s.nodes.end(); ++it) {
    if (!Stream::ParseNode(it->second, it->first, &l, true)) return false;
    if (l.entries.empty()) return false;  // Redis never keeps an empty node
    if (*any && l.entries.front().id <= *max_id) return false;
    auto next = std::next(it);
    if (next != s.nodes.end() && l.entries.back().id >= next->first) return false;
    *max_id = l.entries.back().id;
    *any = true;
    live += static_cast<uint64_t>(l.count);
  }
  return live == s.length;
}

void* LoadImpl(ferrite_io* io, int rdb_type) {
  auto s = std::make_unique<Stream>();
  uint64_t nnodes;
  if (!ReadLen(io, &nnodes)) return nullptr;
  std::string key, lpbytes;
  for (uint64_t i = 0; i < nnodes; i++) {
    if (!ReadStr(io, &key) || key.size() != 16) return nullptr;
    if (!ReadStr(io, &lpbytes) || Listpack::Validate(lpbytes) <= 0) return nullptr;
    StreamID master = DecodeID(reinterpret_cast<const unsigned char*>(key.data()));
    if (!s->nodes.emplace(master, Listpack(std::move(lpbytes))).second) return nullptr;
    lpbytes.clear();
  }
  uint64_t v[8] = {};
  int nmeta = rdb_type == kRdbStream ? 3 : 8;
  for (int i = 0; i < nmeta; i++)
    if (!ReadLen(io, &v[i])) return nullptr;
  s->length = v[0];
  s->last_id = {v[1], v[2]};
  StreamID max_id;
  bool any;
  if (!CheckNodes(*s, &max_id, &any)) return nullptr;
  if (any && max_id > s->last_id) return nullptr;
  if (rdb_type == kRdbStream) {
    s->entries_added = s->length;  // as Redis migrates a 6.2 stream
    s->first_id = s->EdgeID(true, true);
  } else {
    s->first_id = {v[3], v[4]};
    s->max_deleted = {v[5], v[6]};
    s->entries_added = v[7];
  }
  uint64_t ngroups;
  if (!ReadLen(io, &ngroups)) return nullptr;
  std::string name;
  for (uint64_t gi = 0; gi < ngroups; gi++) {
    StreamID last;
    if (!ReadStr(io, &name) || !ReadLen(io, &last.ms) || !ReadLen(io, &last.seq)) return nullptr;
    int64_t entries_read;
    if (rdb_type == kRdbStream) {
      entries_read = s->EstimateDistance(last);
    } else {
      uint64_t er;
      if (!ReadLen(io, &er)) return nullptr;
      entries_read = static_cast<int64_t>(er);
      if (entries_read < kInvalidEntriesRead) return nullptr;
    }
    Group* g = s->CreateGroup(name, last, entries_read);
    if (!g) return nullptr;  // duplicated group name
    uint64_t npel;
    if (!ReadLen(io, &npel)) return nullptr;
    for (uint64_t i = 0; i < npel; i++) {
      StreamID id;
      Nack n;
      uint64_t count;
      if (!ReadRawID(io, &id) || !ReadMs(io, &n.delivery_time) || !ReadLen(io, &count))
        return nullptr;
      n.delivery_count = count;
      if (!g->pel.emplace(id, n).second) return nullptr;
    }
    uint64_t nconsumers;
    if (!ReadLen(io, &nconsumers)) return nullptr;
    for (uint64_t ci = 0; ci < nconsumers; ci++) {
      int64_t seen, active;
      if (!ReadStr(io, &name) || !ReadMs(io, &seen)) return nullptr;
      if (rdb_type == kRdbStream3 && !ReadMs(io, &active)) return nullptr;
      Consumer* c = g->CreateConsumer(name, seen);
      if (!c) return nullptr;  // duplicated consumer
      uint64_t cpel;
      if (!ReadLen(io, &cpel)) return nullptr;
      for (uint64_t i = 0; i < cpel; i++) {
        StreamID id;
        if (!ReadRawID(io, &id)) return nullptr;
        auto it = g->pel.find(id);
        if (it == g->pel.end() || it->second.consumer) return nullptr;
        it->second.consumer = c;
        c->pel.insert(id);
      }
    }
    for (auto& [id, n] : g->pel)
      if (!n.consumer) return nullptr;  // a pending entry nobody owns
  }
  return s.release();
}

void* Load(ferrite_io* io, int rdb_type) {
  try {
    return LoadImpl(io, rdb_type);
  } catch (...) {  // bad_alloc on absurd sizes must not cross the ABI
    return nullptr;
  }
}

void AofEmit(ferrite_aof* aof, const std::vector<std::string>& argv) {
  std::vector<ferrite_slice> s;
  s.reserve(argv.size());
  for (auto& a : argv) s.push_back(SL(a));
  Api().aof_emit(aof, static_cast<int>(s.size()), s.data());
}

// Redis' rewriteStreamObject: XADDs (or an XADD MAXLEN 0 for an empty stream), XSETID,
// then per group XGROUP CREATE and XCLAIM ... FORCE per pending entry (XGROUP
// CREATECONSUMER for a consumer with none).
void AofRewrite(ferrite_aof* aof, ferrite_slice key, const void* v) {
  const auto& s = *static_cast<const Stream*>(v);
  std::string k(key.ptr, key.len);
  if (s.length) {
    s.Range(StreamID{}, StreamID::Max(), false, [&](const EntryRef& e) {
      std::vector<std::string> argv{"XADD", k, FormatID(e.id())};
      e.ForEachField([&](const LpElem& f, const LpElem& val) {
        argv.push_back(f.Str());
        argv.push_back(val.Str());
      });
      AofEmit(aof, argv);
      return true;
    });
  } else {
    AofEmit(aof, {"XADD", k, "MAXLEN", "0", "0-1", "x", "y"});
  }
  AofEmit(aof, {"XSETID", k, FormatID(s.last_id), "ENTRIESADDED", std::to_string(s.entries_added),
                "MAXDELETEDID", FormatID(s.max_deleted)});
  for (auto& [name, g] : s.groups) {
    AofEmit(aof, {"XGROUP", "CREATE", k, name, FormatID(g->last_id), "ENTRIESREAD",
                  std::to_string(g->entries_read)});
    for (auto& [cname, c] : g->consumers) {
      if (c.pel.empty()) {
        AofEmit(aof, {"XGROUP", "CREATECONSUMER", k, name, cname});
        continue;
      }
      for (const StreamID& id : c.pel) {
        const Nack& n = g->pel.at(id);
        AofEmit(aof, {"XCLAIM", k, name, cname, "0", FormatID(id), "TIME",
                      std::to_string(n.delivery_time), "RETRYCOUNT",
                      std::to_string(n.delivery_count), "JUSTID", "FORCE"});
      }
    }
  }
}

void FreeValue(void* v) { delete static_cast<Stream*>(v); }
size_t MemUsage(const void* v) { return static_cast<const Stream*>(v)->MemUsage(); }
void* Copy(const void* v) { return static_cast<const Stream*>(v)->Clone().release(); }
const char* Encoding(const void*) { return "stream"; }

}  // namespace

ferrite_type_desc TypeDesc() {
  ferrite_type_desc d{};
  d.struct_size = sizeof d;
  d.name = "stream";
  d.rdb_type = kRdbStream2;
  d.rdb_load_types = kLoadTypes;
  d.free_value = FreeValue;
  d.mem_usage = MemUsage;
  d.copy = Copy;
  d.encoding = Encoding;
  d.save = Save;
  d.load = Load;
  d.aof_rewrite = AofRewrite;
  d.length = nullptr;  // an empty stream is a value: it is never deleted for being empty
  return d;
}

}  // namespace ferrite::mod::streams
