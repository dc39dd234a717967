// The host: owns what every protocol and module shares — config, the keyspace, the
// command registry, loaded plugins, clients, blocking, keyspace events, propagation.
// Networking (net.h) and the test harness both drive it through Execute().
//
// Collaborators, each in its own file:
//   keyspace.*        shards, tables, entries
//   registry.*        commands and types registered by plugins
//   dispatch.cc       Execute(): lookup, arity, auth, MULTI queueing, locking, handler
//   api.cc            the ferrite_host_api table (the SDK's implementation)
//   loader.cc         Boost.DLL plugin loading
//   blocking.cc       parked clients, FIFO wake-ups, deadlines
//   expiry.cc         lazy + active expiry, eviction
//   server_commands*  PING, INFO, CONFIG, CLIENT, COMMAND, MODULE, ...
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferrite/module.h"
#include "host/client.h"
#include "host/client_eviction.h"
#include "host/client_pause.h"
#include "host/clock.h"
#include "host/config.h"
#include "host/acl/acl.h"
#include "host/error_stats.h"
#include "host/introspection.h"
#include "host/keyspace.h"
#include "host/loading.h"
#include "host/registry.h"
#include "host/script_gate.h"
#include "host/tracking.h"
#include "host/watch.h"

namespace ferrite::host {

// Receives every propagated write, in execution order (AOF, replicas).
class PropagationSink {
 public:
  virtual ~PropagationSink() = default;
  virtual void Feed(int db, int argc, const ferrite_slice* argv) = 0;
  // The FERRITE_PROPAGATE_* target this sink is: it gets the commands sent to it
  // (PUBLISH goes to the replicas only). The AOF and the memcached mirror are the AOF.
  virtual uint32_t Target() const { return FERRITE_PROPAGATE_AOF; }
};

inline constexpr uint32_t kPropagateAll = FERRITE_PROPAGATE_AOF | FERRITE_PROPAGATE_REPL;

// One command a call propagates in place of itself (ferrite_ctx::propagated).
struct PropagatedCmd {
  int db;
  uint32_t targets;  // FERRITE_PROPAGATE_*
  std::vector<std::string> argv;
};

struct Stats {
  std::atomic<uint64_t> total_commands{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<uint64_t> evicted_keys{0};
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  // memcached's item counters (stat_int): reads / writes that found their key expired,
  // keys the active cycle expired, and expired /
  // evicted keys nobody read since they were written (Entry::mc_bits).
  std::atomic<uint64_t> get_expired{0};
  std::atomic<uint64_t> reclaimed{0};
  std::atomic<uint64_t> crawler_reclaimed{0};
  std::atomic<uint64_t> expired_unfetched{0};
  std::atomic<uint64_t> evicted_unfetched{0};
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  std::atomic<uint64_t> dirty{0};
  std::atomic<uint64_t> total_errors{0};
  std::atomic<uint64_t> unexpected_error_replies{0};
  std::atomic<int64_t> blocked_clients{0};
  std::atomic<uint64_t> pubsub_clients_killed{0};
  std::atomic<uint64_t> output_limit_disconnections{0};  // every class
  std::atomic<uint64_t> sync_full{0};
  std::atomic<uint64_t> sync_partial_ok{0};
  std::atomic<uint64_t> sync_partial_err{0};
};

// What dispatch, expiry and INFO need from replication (host/replication/), which sets
// it: flags read per command, and the texts of INFO replication and ROLE.
struct ReplicationHooks {
  std::atomic<bool> is_replica{false};   // REPLICAOF host port in effect: no active expiry
  std::atomic<bool> read_only{false};    // ... and replica-read-only: client writes refused
  std::atomic<bool> stale_refused{false};  // ... link down and replica-serve-stale-data no
  std::atomic<bool> no_good_replicas{false};  // min-replicas-to-write not met: NOREPLICAS
  std::function<std::string()> info_section;  // "# Replication\r\n..." (unset: standalone)
  // Bytes the replication backlog holds (unset or 0: none), for MEMORY STATS.
  std::function<int64_t()> backlog_bytes;
  // master_repl_offset, mirrored after every append: dispatch records it as the client's
  // write offset (Client::woff) after each command, which WAIT waits for.
  std::atomic<int64_t> master_offset{0};
  // SHUTDOWN / SIGTERM / SIGINT without NOW: `finish` (the actual shutdown) runs once
  // every replica acknowledged the primary's offset or shutdown-timeout passed; returns
  // false when there is nothing to wait for (the caller then shuts down at once).
  // `blocked` is the SHUTDOWN client parked until then (none for a signal).
  std::function<bool(std::function<void()> finish, Client* blocked)> defer_shutdown;
  // SHUTDOWN ABORT: cancels a deferred shutdown; false if none was pending.
  std::function<bool()> abort_shutdown;
};

enum class EvictionPolicy {
  kNoEviction, kAllKeysLru, kVolatileLru, kAllKeysLfu, kVolatileLfu, kAllKeysRandom,
  kVolatileRandom, kVolatileTtl
};

class Host {
 public:
  explicit Host(std::unique_ptr<Config> config);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  Config& config() { return *config_; }
  Keyspace& keyspace() { return *keyspace_; }
  KeyWatches& key_watches() { return *key_watches_; }
  Registry& registry() { return registry_; }
  Clock& clock() { return clock_; }
  Stats& stats() { return stats_; }
  // latency-tracking: per-command histograms are kept (one relaxed load per command).
  bool LatencyTracking() const { return latency_tracking_->load(std::memory_order_relaxed) != 0; }
  // CLIENT TRACKING's table and deliveries (tracking.h).
  Tracking& tracking() { return tracking_; }
  // INFO errorstats: error replies by kind (error_stats.h).
  ErrorStats& error_stats() { return error_stats_; }
  ReplicationHooks& replication() { return replication_; }
  // CLIENT PAUSE and the write pauses of FAILOVER / SHUTDOWN (client_pause.h).
  ClientPause& client_pause() { return client_pause_; }
  // maxmemory-clients (client_eviction.h).
  ClientEviction& client_eviction() { return *client_eviction_; }
  Introspection& introspection() { return *introspection_; }
  acl::Acl& acl() { return *acl_; }
  int64_t start_ms() const { return start_ms_; }
  std::string run_id() const { return run_id_; }

  // --- plugins (loader.cc) ---
  // Loads every plugin named by [modules] load (or every bundled one). Throws
  // std::runtime_error naming the plugin on failure.
  void LoadConfiguredPlugins();
  // Loads the bundled protocol plugins a listener needs when none is loaded for it.
  void LoadMissingProtocols();
  // Returns an error message or "" on success; a failure is also logged (warning).
  std::string LoadPlugin(const std::string& name_or_path);
  std::string UnloadPlugin(const std::string& name);
  std::vector<std::string> PluginSearchPath() const;
  static std::string BundledPluginDir();

  // --- clients ---
  std::shared_ptr<Client> NewClient();
  void RemoveClient(Client* c);
  std::shared_ptr<Client> FindClient(uint64_t id);
  std::vector<std::shared_ptr<Client>> AllClients();
  size_t num_clients();

  // --- execution (dispatch.cc) ---
  ferrite_exec_result Execute(Client* c, int argc, const ferrite_slice* argv,
                              const ferrite_reply_sink* sink, void* st);

  // --- blocking (blocking.cc) ---
  void SignalKeyReady(int db, std::string_view key);
  // Signals every key of `db` (every db when db < 0) that has waiters: FLUSHDB/FLUSHALL,
  // and SWAPDB (what the waiters want may be there now).
  void SignalDbFlushed(int db);
  // Fires deadlines that passed; called by the cron and the harness.
  void ExpireBlockedClients();
  void UnblockClient(Client* c, bool timeout);
  // CLIENT UNBLOCK: a client blocked on keys is answered as on a timeout, or with
  // -UNBLOCKED (counted as its command's failure). False if it is not so blocked.
  bool UnblockById(uint64_t id, bool error);
  // --- output limits (output_limits.cc) ---
  // On c's own thread: closes it (close_mode NOW, output dropped; returns true) when its
  // pending output passes a limit; tracks the pub/sub soft limit's start.
  bool CheckOutputLimits(Client* c);
  // Cron: re-checks, on their threads, the clients over the pub/sub soft limit.
  void CheckSoftLimitedClients();
  // Takes c off every wait queue; returns the keys whose wake-up it had not used up
  // (signal them again so the next waiter gets its turn), and in *chains (dropped if
  // null) the wake chains it held, which those hand-offs carry on.
  std::vector<std::string> DetachBlocked(Client* c, std::vector<WakeChainRef>* chains = nullptr);
  // Runs a blocked client's command again on its own thread (as a key signal does), for
  // blocking that waits on something other than keys (WAIT).
  void RetryBlocked(const std::shared_ptr<Client>& c);
  // A client a pause parked (client_pause.h): RetryPostponed queues its command's re-run
  // in arrival order (one at a time); ReleasePostponed ends its wait as the command runs,
  // keeping the ordered turn, which its re-run ends when the command is done.
  void RetryPostponed(const std::shared_ptr<Client>& c);
  void ReleasePostponed(Client* c);
  // A write to a key whose ordered waiters (XREADGROUP) are being served one by one waits
  // its turn behind them, as Redis serves every waiter a write made ready before the
  // next command runs; true when `c`'s command was parked (it re-runs in its turn).
  bool ParkBehindServing(Client* c, const Command* cmd, int argc, const ferrite_slice* argv);
  // Re-runs a woken client's command on its own thread (posted by PostRetry). `turn`:
  // the ordered turn this re-run holds (0: none).
  void RerunBlocked(const std::weak_ptr<Client>& weak, uint64_t turn = 0);
  size_t blocked_count();

  // --- keyspace events and propagation ---
  void Notify(int db, uint32_t type_class, const char* event, std::string_view key);
  void AddEventSubscriber(ferrite_plugin* p, uint32_t mask, ferrite_event_fn fn, void* udata);
  void RemoveEventSubscribers(ferrite_plugin* p);
  // subscribe_evictions: called before `e` is erased, whatever notify-keyspace-events
  // says; event_key_info() describes `e` meanwhile (EvictingEntry).
  void AddEvictionSubscriber(ferrite_plugin* p, ferrite_event_fn fn, void* udata);
  void NotifyEviction(int db, Table& t, Entry* e);
  // register_subscription_lister: plugins that keep pub/sub subscriptions per
  // connection. ListSubscriptions calls `visit` with every subscription connection `id`
  // holds in any of them (until it returns non-zero) and returns false when no plugin
  // registered a lister (the subscriptions cannot be known). Call it on the
  // connection's own thread.
  void AddSubscriptionLister(ferrite_plugin* p, ferrite_sub_lister_fn fn, void* udata);
  void RemoveSubscriptionListers(ferrite_plugin* p);
  bool ListSubscriptions(uint64_t id, ferrite_sub_visit_fn visit, void* visit_udata);
  struct Evicting {
    const Entry* e;
    int64_t expire_ms;
  };
  static const Evicting* EvictingEntry();  // null outside NotifyEviction's callbacks
  uint32_t notify_mask() const { return notify_mask_.load(std::memory_order_relaxed); }
  // A sink is added with every shard locked (AOF start), so a command that still holds
  // a shard lock sees the change either entirely before or entirely after its writes.
  void AddPropagationSink(PropagationSink* s);
  void RemovePropagationSink(PropagationSink* s);
  // The next propagated command is preceded by SELECT whatever the last db was (a
  // replica that just attached starts from db 0). Takes the propagation lock.
  void ForceSelectOnNextPropagate();
  // False while nothing consumes propagated commands (no AOF): writes then skip building
  // and feeding them, and take no lock.
  bool PropagationActive() const { return prop_active_.load(std::memory_order_acquire); }
  // Feeds one command to every sink (caller holds the shards the command touched).
  void Propagate(int db, int argc, const ferrite_slice* argv,
                 uint32_t targets = kPropagateAll);

  // --- expiry and eviction (expiry.cc) ---
  // One active-expiry pass: samples keys with a TTL in every shard/db and deletes
  // expired ones, for at most `budget_us`.
  void ActiveExpireCycle(int64_t budget_us);
  // Deletes an expired entry: counts, notifies "expired", propagates DEL.
  void ExpireEntry(int si, int db, Entry* e);
  // Evicts keys until used memory is under max_memory. Returns false if it could not
  // (noeviction or nothing evictable). Takes shard locks itself: call with none held.
  bool EvictIfNeeded();
  bool OverMemoryLimit() const;
  int64_t used_memory() const;
  // used_memory when the host was built, before any key (MEMORY STATS startup.allocated).
  int64_t startup_memory() const { return baseline_memory_; }
  // The highest used_memory seen (the cron and every reader raise it); returns it.
  int64_t UpdatePeakMemory();
  // NOTE: indexes follow the choice order of maxmemory-policy in config.cc (Redis'
  // order, used in its error text).
  EvictionPolicy eviction_policy() const {
    static constexpr EvictionPolicy kByIndex[] = {
        EvictionPolicy::kVolatileLru,   EvictionPolicy::kVolatileLfu,
        EvictionPolicy::kVolatileRandom, EvictionPolicy::kVolatileTtl,
        EvictionPolicy::kAllKeysLru,    EvictionPolicy::kAllKeysLfu,
        EvictionPolicy::kAllKeysRandom, EvictionPolicy::kNoEviction};
    auto i = static_cast<size_t>(policy_->load(std::memory_order_relaxed));
    return i < 8 ? kByIndex[i] : EvictionPolicy::kNoEviction;
  }
  uint32_t LruClock() const;
  // Entry::lru under the active maxmemory-policy: InitAccess for a new key, TouchEntry on
  // an access; IdleMs (LRU: seconds resolution; LFU: minutes) and LfuDecayed read it.
  void InitAccess(Entry* e);
  void TouchEntry(Entry* e);
  int64_t IdleMs(const Entry* e) const;
  // RESTORE's IDLETIME / FREQ (Redis' objectSetLRUOrLFU): under an LFU policy a FREQ
  // >= 0 sets the counter, under an LRU policy an IDLETIME >= 0 (seconds) dates the
  // last access back; otherwise the entry keeps InitAccess's data.
  void RestoreAccess(Entry* e, int64_t lfu_freq, int64_t idle_s);
  uint8_t LfuDecayed(const Entry* e) const;

  // Periodic work: active expiry, blocked-client deadlines, stats. Called ~hz times/s.
  void Cron();
  // Closes clients idle longer than `timeout` (RESP) or memcached_idle_timeout (memcached
  // port) seconds; subscribers and blocked clients are exempt, as in Redis
  // (idle_clients.cc). At most one scan a second.
  void CloseIdleClients();

  // Set by the server: asks the process to stop (SHUTDOWN).
  std::function<void()> on_shutdown;
  std::atomic<bool> shutting_down{false};
  int shutdown_save = -1;  // SHUTDOWN: -1 default, 0 NOSAVE, 1 SAVE
  // SIGTERM / SIGINT (host/signals.cc, on its own thread): shutdown-on-sigterm decides
  // the final save; running scripts stop at their next hook, waiting clients wake.
  void RequestShutdown(int sig);
  // A script that had written was stopped by the shutdown: the data set holds part of
  // its effects, so the final save is skipped (with a log line).
  std::atomic<bool> shutdown_interrupted_writes{false};
  // DEBUG RELOAD's options (Redis' debug.c): NOSAVE loads the snapshot on disk as it is,
  // NOFLUSH loads it on top of the dataset, MERGE lets its keys replace those in memory.
  struct ReloadOptions {
    bool save = true, flush = true, merge = false;
  };
  // Set by persistence: DEBUG RELOAD (save + reload); returns an error text or "".
  std::function<std::string(const ReloadOptions&)> debug_reload;
  // Set by persistence: DEBUG LOADAOF (flush the AOF, replace the dataset by replaying
  // it); returns an error text or "".
  std::function<std::string()> debug_loadaof;
  // DEBUG SET-DISABLE-DENY-SCRIPTS 1: scripts may call no-script commands (a test hook).
  std::atomic<bool> script_disable_deny{false};
  // The startup load, while the ports are open: commands not flagged `loading` get
  // -LOADING (dispatch.cc), INFO persistence shows the progress.
  LoadingState loading;

  // --- scripting support: while a script runs, other clients may get BUSY ---
  // (script_gate.cc)
  std::atomic<int64_t> script_started_ms{0};
  std::atomic<int> script_busy_kind{0};  // script_set_busy's value: 1 EVAL, 2 FCALL
  // True while a script has run past busy-reply-threshold (or this thread serves other
  // clients from inside it); `text` is then Redis' BUSY reply for the script's kind.
  bool ScriptBusy(std::string_view* text);
  // Called off the script's thread before every command: returns when no script runs,
  // the running one passed busy-reply-threshold (with `until_end`: ended), or the server
  // stops.
  void WaitForYoungScript(bool until_end = false);
  // --- which shards a command locks (lock_plan.cc) ---
  enum class LockKind : uint8_t { kNone, kShards, kAll };
  // The shards `cmd` must hold (into `shards`, unsorted): its key spec's; every shard for
  // ALL_KEYS or when key extraction fails; EXEC: its queued commands' and WATCHed keys';
  // a script: its declared keys' (every shard when it declares none).
  LockKind PlanLocks(const Command* cmd, const Client* c, int argc, const ferrite_slice* argv,
                     std::vector<int>& shards);
  // The shards a command called from inside another (EXEC's body, a script) needs.
  LockKind PlanCall(const Command* cmd, uint32_t flags, int argc, const ferrite_slice* argv,
                    std::vector<int>& shards);
  // Takes a plan's shards; false if it gave up (only when `may_give_up`) because a
  // script holding them turned busy, or the server stops.
  bool LockPlanned(LockSet& locks, LockKind kind, std::vector<int>& shards, bool may_give_up);
  // Adds a plan's shards to this thread's current lock set (LockSet::Extend): only the
  // running script with declared keys, which holds the script slot, may do this.
  bool ExtendHeld(LockKind kind, std::vector<int>& shards);
  // A script with declared keys runs holding this (taken before its shards): one such
  // script at a time, so there is only ever one claimant (LockSet::Extend).
  bool TakeScriptSlot(std::unique_lock<std::timed_mutex>& slot, bool may_give_up);
  // The running script holds only some shards (it declared keys): commands with keys on
  // other shards are not held back by the script gate.
  std::atomic<bool> script_scoped{false};
  ScriptGate& script_gate() { return script_gate_; }
  // ScriptGate / LockSet stop condition: the server is shutting down.
  static bool StopRequested(void* host);
  std::atomic<bool> script_kill_requested{false};
  // Set by persistence when a background save or the AOF is failing: write commands
  // are refused with MISCONF (FERRITE_E_MISCONF) until it clears.
  std::atomic<bool> writes_refused{false};
  // requirepass is set (cached from config for the hot path).
  std::atomic<bool> auth_required{false};

  // Command table for INFO commandstats.
  struct CommandStat {
    std::atomic<uint64_t> calls{0}, usec{0}, failed{0}, rejected{0};
  };

 private:
  std::string TryLoadPlugin(const std::string& name_or_path);

  friend struct Dispatcher;
  friend struct Api;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Keyspace> keyspace_;
  std::shared_ptr<KeyWatches> key_watches_ = std::make_shared<KeyWatches>();
  Registry registry_;
  Clock clock_;
  int64_t last_idle_scan_ms_ = 0;  // the cron's thread only
  Stats stats_;
  ErrorStats error_stats_;
  Tracking tracking_{this};
  ReplicationHooks replication_;
  ClientPause client_pause_{this};
  std::unique_ptr<ClientEviction> client_eviction_;
  std::unique_ptr<Introspection> introspection_;
  std::unique_ptr<acl::Acl> acl_;
  int64_t start_ms_;
  std::string run_id_;

  std::mutex clients_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Client>> clients_;
  std::atomic<uint64_t> next_client_id_{1};

  // Blocking: (db, key) -> waiters in arrival order.
  std::mutex block_mu_;
  std::map<std::pair<int, std::string>, std::vector<std::weak_ptr<Client>>, std::less<>>
      waiters_;
  std::multimap<int64_t, std::weak_ptr<Client>> deadlines_;
  uint64_t block_seq_ = 0;
  std::atomic<int64_t> soft_clients_{0};  // clients with out_soft_since_ms set
  // Posts a re-run of the blocked command to `c`'s thread (block_mu_ held).
  void PostRetry(const std::shared_ptr<Client>& c);
  // FERRITE_BLOCK_WAKE_ORDERED waiters due a re-run, by arrival order (block seq), and
  // the one turn that may run: its token and holder (0 = none). block_mu_ guards them.
  std::map<uint64_t, std::weak_ptr<Client>> ordered_due_;
  uint64_t ordered_turn_ = 0, ordered_turn_seq_ = 0, ordered_holder_ = 0;
  // ordered_turn_ != 0 || !ordered_due_.empty(), readable without block_mu_.
  std::atomic<bool> ordered_active_{false};
  void QueueOrdered(const std::shared_ptr<Client>& c);  // block_mu_ held
  void NextOrderedTurn();                               // block_mu_ held
  void EndOrderedTurn(uint64_t turn);                   // block_mu_ held
  // Forgets `c` as an ordered waiter (unblocked, closed); block_mu_ held.
  void DropOrdered(Client* c);

  struct EventSub {
    ferrite_plugin* plugin;
    uint32_t mask;
    ferrite_event_fn fn;
    void* udata;
  };
  // Copy-on-write: MODULE LOAD/UNLOAD swap the list while workers deliver events.
  std::shared_ptr<const std::vector<EventSub>> event_subs_ =
      std::make_shared<const std::vector<EventSub>>();
  std::mutex event_subs_mu_;
  struct SubLister {
    ferrite_plugin* plugin;
    ferrite_sub_lister_fn fn;
    void* udata;
  };
  // Copy-on-write under event_subs_mu_, as event_subs_.
  std::shared_ptr<const std::vector<SubLister>> sub_listers_ =
      std::make_shared<const std::vector<SubLister>>();
  std::atomic<uint32_t> notify_mask_{0};

  ScriptGate script_gate_;
  std::timed_mutex script_slot_;
  std::mutex prop_mu_;
  struct SinkSlot {
    PropagationSink* sink;
    int last_db;  // the db its last SELECT named (-1: SELECT before the next command)
  };
  std::vector<SinkSlot> prop_sinks_;
  std::atomic<bool> prop_active_{false};  // !prop_sinks_.empty(), readable without prop_mu_

  const std::atomic<int64_t>* policy_ = nullptr;
  const std::atomic<int64_t>* max_memory_ = nullptr;
  const std::atomic<int64_t>* latency_tracking_ = nullptr;
  const std::atomic<int64_t>* tracking_max_keys_ = nullptr;
  const std::atomic<int64_t>* busy_threshold_ = nullptr;
  const std::atomic<int64_t>* lfu_decay_time_ = nullptr;  // read per key touch under LFU
  const std::atomic<int64_t>* lfu_log_factor_ = nullptr;
  const std::atomic<int64_t>* repl_backlog_size_ = nullptr;

 public:
  // client-output-buffer-limit, by class (read per reply batch: atomics, no lookup).
  enum class OutputClass { kNormal, kReplica, kPubsub };
  struct OutputLimit {
    const std::atomic<int64_t>* hard = nullptr;
    const std::atomic<int64_t>* soft = nullptr;
    const std::atomic<int64_t>* soft_seconds = nullptr;
  };
  OutputLimit output_limits[3];
  // Redis' getClientType for the limits: a replica link, a subscriber, or normal (the
  // primary's link and MONITOR clients too).
  static OutputClass OutputClassOf(const Client& c);
  // The hard limit of `cls` in bytes now (0 = none): a replica's is at least the
  // replication backlog, as Redis raises it.
  int64_t HardOutputLimit(OutputClass cls) const;
  const std::atomic<int64_t>* query_buffer_limit = nullptr;
  // The settings protocol plugins read per request (config_int), resolved once.
  const std::atomic<int64_t>* HotConfigRef(std::string_view redis_name) const;
  // Called by the network layer after a batch of commands ran and before their replies
  // are written (persistence: group fsync for appendfsync always). Runs on the
  // connection's thread with no shard lock held.
  std::function<void()> durability_barrier;
  // True when replies must wait for an fsync (AOF on with appendfsync always).
  bool GroupCommitActive() const {
    return durability_barrier && aof_enabled_->load(std::memory_order_relaxed) != 0 &&
           aof_fsync_->load(std::memory_order_relaxed) == kAofFsyncAlwaysIndex;
  }

 private:
  int64_t baseline_memory_ = 0;
  std::atomic<int64_t> peak_memory_{0};
  // NOTE: the index of "always" in appendfsync's choices ("everysec always no").
  static constexpr int64_t kAofFsyncAlwaysIndex = 1;
  const std::atomic<int64_t>* aof_enabled_ = nullptr;
  const std::atomic<int64_t>* aof_fsync_ = nullptr;
  std::vector<std::pair<std::string, const std::atomic<int64_t>*>> hot_config_;
  std::atomic<int> expire_cursor_{0};

 public:
  // Blocking internals used by api.cc.
  int BlockClient(Client* c, int db, const ferrite_slice* keys, int nkeys, int64_t timeout_ms,
                  ferrite_block_timeout_reply on_timeout, int argc, const ferrite_slice* argv,
                  uint32_t flags = 0);
  void ReparseNotifyMask();
};

// The thread's current host (set by worker threads and the harness) for SDK functions
// that take no context (find_type, config_int, conn_push).
Host* CurrentHost();
void SetCurrentHost(Host* h);

inline ferrite_conn* AsConn(Client* c) { return static_cast<ferrite_conn*>(c); }

}  // namespace ferrite::host
