// MEMORY USAGE / PURGE / MALLOC-STATS / HELP.
//
// USAGE answers a key's share of used_memory, figured fresh: the entry's own block (the
// entry, the key bytes and an inline string value, as the allocator sized it), a string
// value's separate block, or what the module type's mem_usage says its value takes (each
// type counts its own nodes and buffers with malloc_usable_size), plus the key's bucket
// slot. The figure is exact, so SAMPLES is parsed as Redis does and changes nothing.
#include <malloc.h>

#include <cstring>
#include <iterator>

#include "ferrite/module.hpp"
#include "host/allocator.h"
#include "host/context.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  c->host->stats().total_errors.fetch_add(1, std::memory_order_relaxed);
  c->sink->error(c->st, code, msg.data(), msg.size());
  return FERRITE_OK;
}

size_t KeyMemoryUsage(const Entry* e) {
  size_t n = malloc_usable_size(const_cast<Entry*>(e)) + sizeof(Entry*);  // + bucket slot
  if (e->kind == ValueKind::kString) {
    if (e->str.ptr && !e->value_inline()) n += malloc_usable_size(e->str.ptr);
  } else if (const ferrite_type* t = e->mod_type(); t && t->desc.mem_usage && e->mod.ptr) {
    n += t->desc.mem_usage(e->mod.ptr);
  }
  return n;
}

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

constexpr const char* kHelp[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
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
  return UnknownSubcommand(c, "MEMORY", sub, {"USAGE", "PURGE", "MALLOC-STATS", "HELP"});
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
  AddHostCommand(h, "MEMORY", -2, READONLY, 2, 2, 1, CmdMemory, "server",
                 "Memory diagnostics", {}, MemoryGetKeys);
}

}  // namespace ferrite::host
