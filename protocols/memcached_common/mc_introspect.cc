#include "mc_introspect.h"

#include <cstdio>

#include "ferrite/uri.hpp"

namespace ferrite::proto::mc {

namespace {

std::string Num(uint64_t v) { return std::to_string(v); }

// key=value fields of one CLIENT LIST line.
std::map<std::string_view, std::string_view> Fields(std::string_view line) {
  std::map<std::string_view, std::string_view> out;
  while (!line.empty()) {
    size_t sp = line.find(' ');
    std::string_view f = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    size_t eq = f.find('=');
    if (eq != std::string_view::npos) out.emplace(f.substr(0, eq), f.substr(eq + 1));
  }
  return out;
}

std::string_view PortOf(std::string_view addr) {
  size_t colon = addr.rfind(':');
  return colon == std::string_view::npos ? std::string_view() : addr.substr(colon + 1);
}

// memcached prints "tcp:ip:port" or "unix:path".
std::string Transport(std::string_view addr) {
  if (!addr.empty() && addr[0] == '/') {
    return "unix:" + std::string(addr.substr(0, addr.rfind(':')));
  }
  return "tcp:" + std::string(addr);
}

}  // namespace

int64_t DumpBatch(McBackend& b, uint64_t cursor, std::vector<DumpItem>* items) {
  items->clear();
  McArgv argv;
  argv.Add("MC.DUMP").UNum(cursor).UNum(kDumpBatch);
  const McReply& r = b.Exec(argv);
  if (r.status != McStatus::kOk || r.size() < 1) return -1;
  for (size_t i = 1; i + 10 <= r.size(); i += 10) {
    DumpItem it;
    it.key = r.Str(i);
    it.cls = static_cast<uint32_t>(r.Int(i + 1));
    it.class_size = static_cast<uint64_t>(r.Int(i + 2));
    it.mem = static_cast<uint64_t>(r.Int(i + 3));
    it.value_len = static_cast<uint64_t>(r.Int(i + 4));
    it.exp_ms = r.Int(i + 5);
    it.idle_ms = r.Int(i + 6);
    it.cas = static_cast<uint64_t>(r.Int(i + 7));
    it.flags = static_cast<uint32_t>(r.Int(i + 8));
    it.fetched = r.Int(i + 9) != 0;
    if (it.cls > kMaxClass) it.cls = kMaxClass;
    items->push_back(it);
  }
  return r.Int(0);
}

void ItemCensus::Add(const DumpItem& it) {
  Class& c = cls[it.cls];
  c.number++;
  c.mem_requested += it.mem;
  c.class_size = it.class_size;
  if (it.idle_ms > c.max_idle_ms) c.max_idle_ms = it.idle_ms;
  sizes[(it.mem + 31) / 32 * 32]++;  // memcached's 32-byte buckets of the item size
}

ItemCensus TakeCensus(McBackend& b) {
  ItemCensus census;
  std::vector<DumpItem> items;
  int64_t cursor = 0;
  do {
    cursor = DumpBatch(b, static_cast<uint64_t>(cursor), &items);
    for (auto& it : items) census.Add(it);
  } while (cursor > 0);
  return census;
}

// The non-segmented form of memcached's item stats (no LRU maintainer: one LRU per
// class, as Ferrite has one access clock per key and no hot/warm/cold segments).
StatRows ItemsRows(const ItemCensus& c, McBackend& b) {
  struct Ev {
    int64_t evicted = 0, nonzero = 0, time = 0, unfetched = 0;
  };
  std::array<Ev, kMaxClass + 1> ev{};
  McArgv argv;
  argv.Add("MC.EVICTIONS");
  const McReply& r = b.Exec(argv);
  if (r.status == McStatus::kOk) {
    for (size_t i = 0; i + 5 <= r.size(); i += 5) {
      int64_t cls = r.Int(i);
      if (cls < 0 || cls > static_cast<int64_t>(kMaxClass)) continue;
      ev[cls] = {r.Int(i + 1), r.Int(i + 2), r.Int(i + 3), r.Int(i + 4)};
    }
  }
  StatRows rows;
  for (uint32_t n = 1; n <= kMaxClass; n++) {
    const ItemCensus::Class& k = c.cls[n];
    if (k.number == 0) continue;
    std::string p = "items:" + std::to_string(n) + ":";
    rows.emplace_back(p + "number", Num(k.number));
    rows.emplace_back(p + "age", Num(static_cast<uint64_t>(k.max_idle_ms / 1000)));
    rows.emplace_back(p + "mem_requested", Num(k.mem_requested));
    rows.emplace_back(p + "evicted", std::to_string(ev[n].evicted));
    rows.emplace_back(p + "evicted_nonzero", std::to_string(ev[n].nonzero));
    rows.emplace_back(p + "evicted_time", std::to_string(ev[n].time));
    rows.emplace_back(p + "evicted_unfetched", std::to_string(ev[n].unfetched));
  }
  return rows;
}

// A class holds exactly its items' blocks (no preallocated free chunks); pages are
// memcached's 1 MiB units of that memory, rounded up.
StatRows SlabsRows(const ItemCensus& c) {
  StatRows rows;
  uint64_t active = 0, malloced = 0;
  for (uint32_t n = 1; n <= kMaxClass; n++) {
    const ItemCensus::Class& k = c.cls[n];
    if (k.number == 0) continue;
    active++;
    uint64_t bytes = k.number * k.class_size;
    malloced += bytes;
    std::string p = std::to_string(n) + ":";
    rows.emplace_back(p + "chunk_size", Num(k.class_size));
    rows.emplace_back(p + "chunks_per_page", Num(std::max<uint64_t>(1, kPageBytes / k.class_size)));
    rows.emplace_back(p + "total_pages", Num((bytes + kPageBytes - 1) / kPageBytes));
    rows.emplace_back(p + "total_chunks", Num(k.number));
    rows.emplace_back(p + "used_chunks", Num(k.number));
    rows.emplace_back(p + "free_chunks", "0");
    rows.emplace_back(p + "free_chunks_end", "0");
  }
  rows.emplace_back("active_slabs", Num(active));
  rows.emplace_back("total_malloced", Num(malloced));
  return rows;
}

StatRows SizesRows(const ItemCensus& c) {
  StatRows rows;
  for (auto& [size, count] : c.sizes) rows.emplace_back(Num(size), Num(count));
  return rows;
}

StatRows ConnsRows(McBackend& b) {
  McArgv argv;
  argv.Add("CLIENT").Add("LIST");
  const McReply& r = b.Exec(argv);
  StatRows rows;
  if (r.status == McStatus::kError) return rows;
  std::string port = std::to_string(b.ConfigInt("memcached-port"));
  std::string self = std::to_string(b.ConnId());
  std::string_view text = r.Str(0);
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto f = Fields(line);
    if (PortOf(f["laddr"]) != port && f["laddr"].find('/') == std::string_view::npos) continue;
    // Keyed by the client id (CLIENT LIST id, watch's cfd=) where memcached puts the
    // descriptor: unique per connection, and the one handle the other tools show.
    std::string p = std::string(f["id"]) + ":";
    rows.emplace_back(p + "addr", Transport(f["addr"]));
    rows.emplace_back(p + "listen_addr", Transport(f["laddr"]));
    rows.emplace_back(p + "state", f["id"] == self ? "conn_parse_cmd" : "conn_waiting");
    rows.emplace_back(p + "secs_since_last_cmd", std::string(f["idle"]));
  }
  return rows;
}

bool ParseClassList(std::string_view spec, std::array<bool, kMaxClass + 1>* want) {
  want->fill(false);
  if (spec == "all" || spec == "hash") {
    want->fill(true);
    return true;
  }
  while (true) {
    size_t comma = spec.find(',');
    uint32_t id = 0;
    if (!ParseU32(spec.substr(0, comma), &id) || id < 1 || id > kMaxClass) return false;
    (*want)[id] = true;
    if (comma == std::string_view::npos) return true;
    spec.remove_prefix(comma + 1);
  }
}


void AppendCacheDumpLine(const DumpItem& it, std::string* out) {
  char tail[64];
  int n = snprintf(tail, sizeof tail, " [%llu b; %lld s]\r\n",
                   static_cast<unsigned long long>(it.value_len),
                   static_cast<long long>(it.exp_ms < 0 ? 0 : it.exp_ms / 1000));
  out->append("ITEM ").append(it.key).append(tail, static_cast<size_t>(n));
}

void AppendMetaDumpLine(const DumpItem& it, int64_t now_s, std::string* out) {
  out->append("key=");
  sdk::UriEncode(it.key, out);
  char tail[160];
  int n = snprintf(tail, sizeof tail, " exp=%lld la=%lld cas=%llu fetch=%s cls=%u size=%llu\n",
                   static_cast<long long>(it.exp_ms < 0 ? -1 : it.exp_ms / 1000),
                   static_cast<long long>(now_s - it.idle_ms / 1000),
                   static_cast<unsigned long long>(it.cas), it.fetched ? "yes" : "no", it.cls,
                   static_cast<unsigned long long>(it.mem));
  out->append(tail, static_cast<size_t>(n));
}

int WatchMask(const std::vector<std::string_view>& words) {
  int mask = 0;
  for (auto w : words) {
    if (w == "fetchers") mask |= 1;
    else if (w == "mutations") mask |= 2;
    else if (w == "evictions") mask |= 4;
    else if (w != "rawcmds" && w != "sysevents" && w != "connevents" && w != "proxyreqs" &&
             w != "proxyevents" && w != "proxyuser")
      return -1;
  }
  return mask;
}

}  // namespace ferrite::proto::mc
