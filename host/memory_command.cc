// MEMORY USAGE / STATS / DOCTOR / PURGE / MALLOC-STATS / HELP.
//
// USAGE answers a key's share of used_memory, figured fresh: the entry's own block (the
// entry, the key bytes and an inline string value, as the allocator sized it), a string
// value's separate block, or what the module type's mem_usage says its value takes (each
// type counts its own nodes and buffers with malloc_usable_size), plus the key's bucket
// slot. The figure is exact, so SAMPLES is parsed as Redis does and changes nothing.
// STATS and DOCTOR read memory_overhead.h's breakdown.
#include <malloc.h>

#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "ferrite/module.hpp"
#include "host/allocator.h"
#include "host/context.h"
#include "host/memory_overhead.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

}  // namespace

size_t KeyMemoryUsage(const Entry* e) {
  size_t n = malloc_usable_size(const_cast<Entry*>(e)) + sizeof(Entry*);  // + bucket slot
  if (e->kind == ValueKind::kString) {
    if (e->str.ptr && !e->value_inline()) n += malloc_usable_size(e->str.ptr);
  } else if (const ferrite_type* t = e->mod_type(); t && t->desc.mem_usage && e->mod.ptr) {
    n += t->desc.mem_usage(e->mod.ptr);
  }
  return n;
}

namespace {

int MemoryUsage(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  for (int j = 3; j < argc; j++) {
    if (EqualsIgnoreCase(SV(argv[j]), "samples") && j + 1 < argc) {
      int64_t samples = 0;
      if (!ParseInt64(SV(argv[j + 1]), &samples))
        return Error(c, "", FERRITE_E_NOT_INTEGER);
      if (samples < 0) return Error(c, "", FERRITE_E_SYNTAX);
      j++;
    } else {
      return Error(c, "", FERRITE_E_SYNTAX);
    }
  }
  std::string_view key = SV(argv[2]);
  uint64_t hash = HashKey(key);
  Keyspace& ks = c->host->keyspace();
  // NOTE: as Redis' dictFind, a key whose time has passed but that expiry has not yet
  // removed is still measured (the dispatcher holds its shard's lock).
  const Entry* e = ks.shard(ks.ShardIndex(hash)).dbs[c->client->db].Find(key, hash);
  if (!e) {
    c->sink->null(c->st);
    return FERRITE_OK;
  }
  c->sink->integer(c->st, static_cast<int64_t>(KeyMemoryUsage(e)));
  return FERRITE_OK;
}

// Redis stores these ratios as floats: the same rounding gives the same digits.
void Float(ferrite_ctx* c, double v) { c->sink->dbl(c->st, static_cast<float>(v)); }

void Field(ferrite_ctx* c, std::string_view name) { c->sink->bulk(c->st, name.data(), name.size()); }

int MemoryStats(ferrite_ctx* c) {
  MemoryOverhead m = ReadMemoryOverhead(c->host);
  auto integer = [c](std::string_view name, int64_t v) {
    Field(c, name);
    c->sink->integer(c->st, v);
  };
  auto ratio = [c](std::string_view name, double v) {
    Field(c, name);
    Float(c, v);
  };
  c->sink->map(c->st, 27 + m.dbs.size());
  integer("peak.allocated", m.peak);
  integer("total.allocated", m.total);
  integer("startup.allocated", m.startup);
  integer("replication.backlog", m.backlog);
  integer("clients.slaves", m.clients_replicas);
  integer("clients.normal", m.clients_normal);
  integer("cluster.links", 0);
  // NOTE: the AOF is written as each command runs (its bytes held after a failed write
  // or during a rewrite are not reported), and the scripting plugin does not report its
  // caches: these three are 0.
  integer("aof.buffer", 0);
  integer("lua.caches", 0);
  integer("functions.caches", 0);
  for (const auto& d : m.dbs) {
    Field(c, "db." + std::to_string(d.id));
    c->sink->map(c->st, 3);
    integer("overhead.hashtable.main", d.main);
    integer("overhead.hashtable.expires", d.expires);
    integer("overhead.hashtable.slot-to-keys", 0);  // no cluster mode
  }
  integer("overhead.total", m.overhead_total);
  integer("keys.count", m.keys);
  integer("keys.bytes-per-key", m.bytes_per_key);
  integer("dataset.bytes", m.dataset);
  ratio("dataset.percentage", m.dataset_perc);
  ratio("peak.percentage", m.peak_perc);
  integer("allocator.allocated", m.alloc.allocated);
  integer("allocator.active", m.alloc.active);
  integer("allocator.resident", m.alloc.resident);
  ratio("allocator-fragmentation.ratio", m.alloc_frag);
  integer("allocator-fragmentation.bytes", m.alloc_frag_bytes);
  ratio("allocator-rss.ratio", m.alloc_rss);
  integer("allocator-rss.bytes", m.alloc_rss_bytes);
  ratio("rss-overhead.ratio", m.rss_extra);
  integer("rss-overhead.bytes", m.rss_extra_bytes);
  ratio("fragmentation", m.total_frag);
  integer("fragmentation.bytes", m.total_frag_bytes);
  return FERRITE_OK;
}

// Redis' memory doctor: the same checks and thresholds (an instance under 5 MB is too
// small to judge; a ratio counts only past 10 MB of difference), each finding explained.
std::string MemoryDoctorReport(Host* h) {
  MemoryOverhead m = ReadMemoryOverhead(h);
  constexpr int64_t kTenMb = 10 << 20;
  if (m.total < (5 << 20))
    return "Hi Sam, this instance is empty or is using very little memory, my issues "
           "detector can't be used in these conditions. Please, leave for your mission on "
           "Earth and fill it with some data. The new Sam and I will be back to our "
           "programming as soon as I finished rebooting.\n";
  std::vector<std::string> found;
  if (static_cast<double>(m.peak) / static_cast<double>(m.total) > 1.5)
    found.push_back(
        "Peak memory: used memory was once more than 150% of what it is now. The allocator "
        "keeps some of the pages it took for the peak, so RSS and the fragmentation ratio "
        "stay high; the room is reused as data grows again. MEMORY PURGE returns the "
        "allocator's free pages to the system now.");
  if (m.total_frag > 1.4 && m.total_frag_bytes > kTenMb)
    found.push_back(
        "High total RSS: the process' resident memory is more than 1.4 times used_memory. "
        "A past peak (see above) or a workload that changes value sizes a lot leaves the "
        "allocator with partly used pages. The allocator in use is \"" + AllocatorName() +
        "\".");
  if (m.alloc_frag > 1.1 && m.alloc_frag_bytes > kTenMb)
    found.push_back(
        "High allocator fragmentation: the allocator's active pages hold more than 1.1 "
        "times what is allocated in them, usually after a peak or many deletions.");
  if (m.alloc_rss > 1.1 && m.alloc_rss_bytes > kTenMb)
    found.push_back(
        "High allocator RSS overhead: the allocator keeps more than 1.1 times its active "
        "pages resident (freed pages not yet returned). MEMORY PURGE returns them.");
  if (m.rss_extra > 1.1 && m.rss_extra_bytes > kTenMb)
    found.push_back(
        "High process RSS overhead: the process is more than 1.1 times larger than the "
        "allocator's resident pages: memory outside the allocator (thread stacks, the "
        "scripting engine's heap, plugins' mappings).");
  if (m.clients > 0 && m.clients_normal / m.clients > 200 * 1024)
    found.push_back(
        "Big client buffers: clients hold more than 200 KB of buffers each on average "
        "(slow pub/sub readers, large replies, long pipelines). CLIENT LIST shows each "
        "client's qbuf, omem and tot-mem.");
  if (m.replicas > 0 && m.clients_replicas > kTenMb)
    found.push_back(
        "Big replica buffers: replicas' output buffers hold more than 10 MB: a replica "
        "is not reading the stream fast enough. INFO replication and CLIENT LIST show "
        "which.");
  if (found.empty())
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for "
           "what occurs on this base.\n";
  std::string out = "Sam, I detected a few issues in this Redis instance memory implants:\n\n";
  for (const auto& f : found) out += " * " + f + "\n\n";
  out += "I'm here to keep you safe, Sam. I want to help you.\n";
  return out;
}

constexpr const char* kHelp[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
};

int CmdMemory(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  std::string_view sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "usage") && argc >= 3) return MemoryUsage(c, argc, argv);
  if (argc == 2 && EqualsIgnoreCase(sub, "help")) {
    c->sink->array(c->st, std::size(kHelp));
    for (const char* line : kHelp) c->sink->simple(c->st, line, strlen(line));
    return FERRITE_OK;
  }
  if (argc == 2 && EqualsIgnoreCase(sub, "stats")) return MemoryStats(c);
  if (argc == 2 && EqualsIgnoreCase(sub, "doctor")) {
    std::string report = MemoryDoctorReport(c->host);
    c->sink->verbatim(c->st, "txt", report.data(), report.size());
    return FERRITE_OK;
  }
  if (argc == 2 && EqualsIgnoreCase(sub, "purge")) {
    if (!PurgeAllocator()) return Error(c, "ERR Error purging dirty pages");
    c->sink->simple(c->st, "OK", 2);
    return FERRITE_OK;
  }
  if (argc == 2 && EqualsIgnoreCase(sub, "malloc-stats")) {
    std::string report = AllocatorReport();
    if (report.empty()) {
      constexpr std::string_view kNone = "Stats not supported for the current allocator";
      c->sink->bulk(c->st, kNone.data(), kNone.size());
    } else {
      c->sink->verbatim(c->st, "txt", report.data(), report.size());
    }
    return FERRITE_OK;
  }
  return UnknownSubcommand(c, "MEMORY", sub,
                           {"USAGE", "STATS", "DOCTOR", "PURGE", "MALLOC-STATS", "HELP"});
}

// MEMORY USAGE's key is its third argument; the other subcommands take none.
int MemoryGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  if (argc < 3 || !EqualsIgnoreCase(SV(argv[1]), "usage")) return 0;
  if (cap >= 1) out[0] = 2;
  return 1;
}

}  // namespace

void RegisterMemoryCommand(Host* h) {
  using namespace sdk::flags;
  using sdk::SubcommandSpec;
  // Redis 7.0's table (src/commands/memory-*.json): only USAGE reads a key.
  // clang-format off
  static constexpr SubcommandSpec kMemorySubs[] = {
    {"DOCTOR",       2, 0},
    {"HELP",         2, LOADING | STALE},
    {"MALLOC-STATS", 2, 0},
    {"PURGE",        2, 0},
    {"STATS",        2, 0},
    {"USAGE",       -3, READONLY},
  };
  // clang-format on
  AddHostCommand(h, "MEMORY", -2, 0, 2, 2, 1, CmdMemory, "server", "Memory diagnostics",
                 sdk::Subcommands(kMemorySubs), MemoryGetKeys);
}

}  // namespace ferrite::host
