// What plugins registered: commands (by lower-case name), value types, protocols and
// the plugins themselves. Registration happens on one thread at load time under the
// registry's lock; lookups on the hot path read an immutable command-table snapshot
// through a plain atomic pointer, so workers take no lock and copy nothing to find a
// command. A changed table is published as a new snapshot; old ones are retired, not
// freed, until the registry dies (a worker may still be reading one).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferrite/module.h"
#include "host/keyspace.h"
#include "host/latency_histogram.h"

namespace ferrite::host {

class Host;
namespace acl {
struct CommandFacts;
}

// What INFO commandstats / latencystats report for one command or subcommand.
struct CallStats {
  // `usec` accumulates TSC cycles; readers divide by CyclesPerUs().
  std::atomic<uint64_t> calls{0}, usec{0}, failed{0}, rejected{0};
  // INFO latencystats; allocated on the first call (most commands are never called).
  std::atomic<LatencyHistogram*> latency{nullptr};
  void RecordLatency(uint64_t cycles) {
    LatencyHistogram* h = latency.load(std::memory_order_acquire);
    if (!h) {
      auto* fresh = new LatencyHistogram;
      if (latency.compare_exchange_strong(h, fresh, std::memory_order_acq_rel)) h = fresh;
      else delete fresh;  // another thread won; h is its histogram
    }
    h->Record(cycles);
  }
  // One finished call. A blocked command's re-run is not a new call (`is_new` false):
  // it is one call however often it runs, as in Redis. `failed`: it replied an error
  // itself; `histogram`: latency-tracking is on.
  void Count(uint64_t cycles, bool is_new, bool failed, bool histogram) {
    if (is_new) calls.fetch_add(1, std::memory_order_relaxed);
    usec.fetch_add(cycles, std::memory_order_relaxed);
    if (histogram) RecordLatency(cycles);
    if (failed) this->failed.fetch_add(1, std::memory_order_relaxed);
  }
  void ResetStats() {
    calls = 0;
    usec = 0;
    failed = 0;
    rejected = 0;
    if (auto* l = latency.load()) l->Reset();
  }
  CallStats() = default;
  CallStats(const CallStats&) = delete;
  CallStats& operator=(const CallStats&) = delete;
  ~CallStats() { delete latency.load(); }
};

// One subcommand of a container command ("config|get"): its own arity and policy flags,
// and its own statistics, as Redis keeps them (`cmdstat_config|get`).
struct Subcommand {
  std::string name;      // lower case: "get"
  std::string fullname;  // "config|get", as Redis names it in errors and COMMAND INFO
  int arity;
  uint32_t flags;        // the container's non-policy bits plus this subcommand's own
  std::shared_ptr<CallStats> stats = std::make_shared<CallStats>();
  // ACL (set at registration, acl/permissions.cc): its rule bit, categories and Redis'
  // key facts for it (nullptr: Redis has no such subcommand).
  int acl_id = -1;
  uint32_t acl_categories = 0;
  const acl::CommandFacts* acl_facts = nullptr;
};

struct Command : CallStats {
  std::string name;        // lower case
  std::string upper;
  int arity;
  uint32_t flags;
  int first_key, last_key, key_step;
  ferrite_cmd_fn handler;
  ferrite_getkeys_fn getkeys;
  ferrite_call_flags_fn call_flags = nullptr;  // flags that depend on the arguments
  std::string summary, group;
  struct ferrite_plugin* owner;  // nullptr for host commands
  // How the host chooses the shards to lock (host/lock_plan.cc). kSpec: the key spec
  // (FERRITE_CMD_ALL_KEYS: every shard). kExec: the queued commands' and the WATCHed
  // keys'. kScript (EVAL*, FCALL*): the declared keys' shards, every shard for none.
  enum class LockRule : uint8_t { kSpec, kExec, kScript };
  LockRule lock_rule = LockRule::kSpec;
  Command() = default;

  std::vector<Subcommand> subcommands;  // empty unless a container

  // ACL (set at registration by acl::DescribeCommand): the rule bit, the categories, the
  // name ACL LOG and rules use (a memcached helper's is the Redis command it runs),
  // Redis' key facts (nullptr for a command Redis lacks), fixed key flags for commands
  // checked through their declared positions (0: from the facts or the flags), and
  // which arguments are pub/sub channels.
  uint32_t acl_declared = 0;  // categories a plugin declared (SDK 1.9)
  int acl_id = -1;
  uint32_t acl_categories = 0;
  std::string acl_name;
  const acl::CommandFacts* acl_facts = nullptr;
  uint16_t acl_key_flags = 0;
  uint8_t acl_channels = 0;

  // Fills `out` with argument indexes of keys. Returns false if malformed.
  bool Keys(int argc, const ferrite_slice* argv, std::vector<int>& out) const;
  // Calls f(index) for each key argument, in order; false if malformed (some may have
  // been called). Allocates nothing for up to 64 keys (the ACL check's path).
  template <class F>
  bool ForEachKey(int argc, const ferrite_slice* argv, F&& f) const {
    if (getkeys) {
      int buf[64];
      int n = getkeys(argc, argv, buf, 64);
      if (n < 0) return false;
      if (n <= 64) {
        for (int i = 0; i < n; i++) f(buf[i]);
        return true;
      }
      std::vector<int> big(n);
      n = getkeys(argc, argv, big.data(), n);
      if (n < 0) return false;
      for (int i = 0; i < n && i < static_cast<int>(big.size()); i++) f(big[i]);
      return true;
    }
    if (first_key <= 0) return true;
    int last = last_key < 0 ? argc + last_key : last_key;
    int step = key_step > 0 ? key_step : 1;
    for (int i = first_key; i <= last && i < argc; i += step) f(i);
    return true;
  }
  // The subcommand argv[1] names, or nullptr (not a container, no argv[1], or a name the
  // container did not declare: the handler answers that one).
  const Subcommand* FindSubcommand(int argc, const ferrite_slice* argv) const;
  // Sets `subcommands` from a plugin's table (flags merged with the container's).
  void SetSubcommands(const ferrite_subcommand_desc* subs, size_t n);
};

// The flags that govern one call: a declared subcommand's, else the command's.
inline uint32_t CallFlags(const Command* cmd, const Subcommand* sub) {
  return sub ? sub->flags : cmd->flags;
}

// Where one call is counted: a declared subcommand's statistics, else the command's.
inline CallStats& StatsOf(const Command* cmd, const Subcommand* sub) {
  return sub ? *sub->stats : const_cast<Command&>(*cmd);
}

struct Protocol {
  ferrite_protocol_desc desc;
  std::string name, listener;
  void* state;
  struct ferrite_plugin* owner;
};

}  // namespace ferrite::host

// A loaded plugin (the SDK's opaque ferrite_plugin).
struct ferrite_plugin {
  std::string name;
  std::string path;
  int version = 0;
  void* state = nullptr;
  std::shared_ptr<void> library;  // boost::dll::shared_library, type-erased
  ferrite_unload_fn unload = nullptr;
  std::vector<std::string> commands;
  std::vector<std::string> types;
  std::vector<std::string> protocols;
  ferrite::host::Host* host = nullptr;
  bool loading = false;
};

namespace ferrite::host {

class Registry {
 public:
  using CommandMap = std::unordered_map<std::string, std::shared_ptr<Command>>;

  // Holds back publishing while it lives: the command changes made meanwhile (a plugin's
  // whole load or unload, the host's own table) become visible as one new snapshot when
  // the outermost batch ends, so a load of N commands retires one table, not N.
  class Batch {
   public:
    explicit Batch(Registry& r);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    Registry& r_;
  };

  Registry();
  ~Registry();

  // Lock-free lookup by name (any case, no copy). nullptr if unknown. The command stays
  // valid for the registry's lifetime.
  const Command* Find(std::string_view name) const;
  // The published table; valid (unchanged) for the registry's lifetime.
  const CommandMap* Commands() const {
    return &snapshot_.load(std::memory_order_acquire)->map;
  }

  // Returns false if the name is taken.
  bool AddCommand(std::shared_ptr<Command> c);
  void RemoveCommands(const std::vector<std::string>& names);

  ferrite_type* AddType(const ferrite_type_desc& d, ferrite_plugin* owner);
  const ferrite_type* FindType(std::string_view name) const;
  const ferrite_type* FindTypeByRdb(int rdb_type) const;
  void RemoveTypes(const std::vector<std::string>& names);
  std::vector<const ferrite_type*> Types() const;

  bool AddProtocol(const ferrite_protocol_desc& d, void* state, ferrite_plugin* owner);
  std::vector<std::shared_ptr<Protocol>> Protocols() const;
  void RemoveProtocols(const std::vector<std::string>& names);

  ferrite_plugin* FindPlugin(std::string_view name) const;
  void AddPlugin(std::unique_ptr<ferrite_plugin> p);
  std::unique_ptr<ferrite_plugin> TakePlugin(std::string_view name);
  std::vector<ferrite_plugin*> Plugins() const;

 private:
  // A name's first 16 bytes lower-cased (see Fold in registry.cc) and its hash: Find
  // compares two words and a length instead of bytes, and copies nothing.
  struct Folded {
    uint64_t w0, w1, hash;
  };
  static Folded Fold(std::string_view name);

  // An immutable command table: the map for listing (COMMAND, INFO) and an
  // open-addressing index over it for Find (power-of-two slots, linear probing).
  struct Snapshot {
    struct Slot {
      uint64_t w0 = 0, w1 = 0;
      size_t len = 0;
      const Command* cmd = nullptr;
    };
    CommandMap map;
    std::vector<Slot> slots;
    uint64_t mask = 0;

    explicit Snapshot(CommandMap m);
    const Command* Find(std::string_view name) const;
  };

  void PublishLocked();  // caller holds mu_

  mutable std::mutex mu_;
  CommandMap commands_;                       // the working table, under mu_
  std::atomic<const Snapshot*> snapshot_;     // what Find reads
  std::vector<std::unique_ptr<const Snapshot>> snapshots_;  // current + retired, under mu_
  int batch_depth_ = 0;                       // under mu_
  bool unpublished_ = false;                  // under mu_
  std::map<std::string, std::unique_ptr<ferrite_type>, std::less<>> types_;
  std::vector<std::shared_ptr<Protocol>> protocols_;
  std::vector<std::unique_ptr<ferrite_plugin>> plugins_;
};

}  // namespace ferrite::host
