// A client session, independent of its wire protocol: db, auth, MULTI queue, WATCHes,
// blocking state, subscriptions and its output buffer. The network connection (or the
// test harness) owns one and gives it an executor to run work on its own thread.
//
// `ferrite_conn` in the SDK is this struct: protocol plugins hold a ferrite_conn* that
// the host turns back into a Client*.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferrite/module.h"
#include "host/acl/plan.h"
#include "host/wake_chain.h"
#include "host/watch.h"

namespace ferrite::host::acl {
class UserHandle;
struct User;
// The user of internal clients (a primary's stream, the AOF loader, the test harness):
// every permission, as Redis' clients without a user. Never null.
UserHandle* SuperUser();
}  // namespace ferrite::host::acl

namespace ferrite::host {

class Host;
struct Command;

struct WatchedKey {
  int db;
  std::string key;
  uint64_t version;  // 0 = did not exist when watched
  // The key's expiry then (-1 = none): a TTL change does not change the version (it is
  // the memcached CAS, which touch keeps), so EXEC compares this too.
  int64_t expire_at = -1;
  // Its registration in Host::key_watches() and the change count seen then (creations
  // of a key missing at WATCH, explicit memcached CAS writes: host/watch.h).
  KeyWatches::Ref reg;
  uint64_t changes = 0;
};

struct BlockState {
  bool active = false;
  int db = 0;
  std::vector<std::string> keys;
  std::vector<std::string> argv;     // the command to run again when woken
  int64_t deadline_ms = 0;           // 0 = none
  ferrite_block_timeout_reply on_timeout = FERRITE_BLOCK_TIMEOUT_NULL_ARRAY;
  bool retry_pending = false;        // a wake-up was posted and has not run yet
  bool rerunning = false;            // the woken command is running right now
  bool busy_deferred = false;        // the re-run met a busy script: it runs again after
  bool wake_all = false;             // FERRITE_BLOCK_WAKE_ALL: every signal wakes it
  bool ordered = false;              // FERRITE_BLOCK_WAKE_ORDERED: re-runs one at a time
  bool signalled_while_running = false;  // a signal came during its own re-run
  std::string woken_key;             // the first key signalled since the last re-run
  bool woken_by_key = false;         // woken_key is set
  std::string serving_key;           // woken_key of the re-run that runs now
  bool serving_by_key = false;
  // Keys signalled while a consuming waiter's wake-up was pending (beside woken_key):
  // if that wake-up does not serve it, they are handed on to the next waiter.
  std::vector<std::string> deferred;
  uint64_t seq = 0;                  // arrival order, for FIFO wake-ups
  bool postponed = false;            // parked by a client pause (client_pause.h)
  // The wake chains (wake_chain.h) of the writes whose signal woke it or was deferred
  // on it: its next re-run serves them, and their clients wait for it.
  std::vector<WakeChainRef> chains;
};

struct Client {
  Client(Host* h, uint64_t id_) : host(h), id(id_) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Host* host;
  const uint64_t id;
  std::string name;
  // CLIENT SETINFO LIB-NAME / LIB-VER (Redis 7.2), shown by CLIENT LIST.
  std::string lib_name, lib_ver;
  int fd = -1;  // the socket, for CLIENT LIST (-1: no socket, as Redis' fake clients)
  std::string addr = "127.0.0.1:0";
  std::string laddr;
  int db = 0;
  int resp = 2;
  bool authenticated = false;
  // Authenticated at least once, or connected while no password was set (RESET logs
  // out, this stays): a client that never was is held to 17 KB of pending output
  // (output_limits.cc), as Redis bounds it.
  bool ever_authenticated = false;
  void SetAuthenticated() { authenticated = ever_authenticated = true; }
  // The ACL user the client runs as (host/acl/acl.h); the host's default user for a
  // network client. Written on the client's thread (AUTH, HELLO, RESET); read from others
  // for CLIENT LIST and CLIENT KILL USER.
  std::atomic<acl::UserHandle*> acl_user{acl::SuperUser()};
  // The rules of acl_user as of its version acl_rules_version, borrowed on this client's
  // thread by the permission check (AclRules, acl/gate.h) and renewed when either moves.
  std::shared_ptr<const acl::User> acl_rules;
  const acl::UserHandle* acl_rules_of = nullptr;
  uint64_t acl_rules_version = 0;
  // Plans (acl/plan.h) for the commands this client ran under acl_rules, by ACL id
  // modulo the slot count; emptied whenever acl_rules is renewed.
  std::array<acl::Plan, acl::kPlanSlots> acl_plans{};
  bool aof_replay = false;  // the AOF loader's own client: not refused while loading
  bool is_memcached = false;    // served by a memcached plugin (stats only)
  // A replication link: the replica's connection on a primary (CLIENT LIST flag S), or
  // the primary's stream applied on a replica (flag M: obeyed, never refused READONLY).
  enum class ReplKind : uint8_t { kNone, kReplica, kMaster };
  ReplKind repl_kind = ReplKind::kNone;
  bool no_evict = false, no_touch = false;
  bool unix_socket = false;  // MONITOR shows "unix:<path>" for it, as Redis
  bool monitor = false;      // MONITOR turned on: CLIENT LIST flag O
  // A request bracketed by conn_request (memcached): the words SLOWLOG and MONITOR show
  // (slices into the plugin's input, valid until the request ends), its start in TSC
  // cycles, and whether a command it ran is not FAST (latency event "command").
  std::vector<ferrite_slice> request_words;
  uint64_t request_t0 = 0;
  bool request_slow_kind = false;
  // Over maxmemory (after eviction) when the current top-level command started: a
  // script may then run, but not start writing with a DENYOOM command (Redis'
  // pre_command_oom_state).
  bool pre_command_oom = false;
  int64_t created_ms = 0;
  int64_t last_cmd_ms = 0;
  // The primary's replication offset after this client's last command (Redis' woff):
  // WAIT waits for replicas to acknowledge it.
  int64_t woff = 0;
  // Last read or write on the socket (Redis' lastinteraction); written on the client's
  // thread, read by the cron's idle scan on another.
  std::atomic<int64_t> last_interaction_ms{0};
  // The last command's name, "client|list" for a subcommand (stable storage).
  const char* last_cmd = "NULL";
  // The bytes of the running command's arguments (Redis' argv_len_sum, CLIENT LIST
  // argv-mem): set as it starts, 0 once it is done; a blocked command keeps its own.
  std::atomic<uint64_t> argv_mem{0};
  // CLIENT REPLY OFF / SKIP: replies are dropped (pushes still go out, as Redis'
  // CLIENT_PUSHING); skip_next turns into skip once the current command is done.
  struct ReplyMode {
    bool off = false, skip = false, skip_next = false;
  };
  ReplyMode reply;

  // MULTI/EXEC
  bool in_multi = false;
  bool multi_error = false;
  std::vector<std::vector<std::string>> queued;
  std::atomic<uint64_t> multi_mem{0};  // bytes held by `queued` (CLIENT LIST multi-mem)
  // WATCHed keys. Changed only on the client's own thread, under watch_mu, which
  // CLIENT LIST takes on another thread to copy them (the `d` flag).
  std::vector<WatchedKey> watched;
  std::mutex watch_mu;

  // Blocking
  BlockState block;
  // The owner can hold this client's replies and input while the clients its command
  // woke are served (wake_chain.h): set by the network connection.
  bool holds_for_wakeups = false;
  // Non-zero while held: the chain whose end resumes it. Its own thread only.
  uint64_t wake_hold = 0;

  // Pub/sub: number of channel + pattern + shard subscriptions, and each kind's count
  // (CLIENT LIST sub=, psub=, ssub=; set by the pub/sub plugin).
  size_t subscriptions = 0;
  size_t sub_channels = 0, sub_patterns = 0, sub_shard = 0;

  // CLIENT TRACKING (tracking.h). Set by the client's own commands and read by the
  // invalidations posted to it, all on its own thread (CLIENT LIST reads it racily, as
  // it reads the other fields).
  struct TrackingState {
    bool on = false, bcast = false, optin = false, optout = false, noloop = false;
    bool caching = false;       // CLIENT CACHING yes|no given for the next command
    bool broken_redir = false;  // the client it redirects to is gone (flag R)
    uint64_t redirect = 0;      // 0: none
    std::vector<std::string> prefixes;  // BCAST prefixes, sorted
  };
  TrackingState tracking;

  // The protocol that owns the connection (sink for out-of-band replies).
  const ferrite_protocol_desc* proto = nullptr;
  void* proto_state = nullptr;

  // Output buffer (reply bytes). Guarded by the client's own thread: only code running
  // on its executor touches it.
  std::string out;
  // Output the socket has not taken yet (set by the network layer): a full sync paces
  // the RDB it streams to a replica by it.
  std::atomic<size_t> unsent{0};
  size_t reserve_base = 0;  // conn_reserve / conn_commit
  int close_mode = 0;  // FERRITE_CONN_CLOSE_*
  // When the pending output first passed the pub/sub soft limit (0 = it is below).
  std::atomic<int64_t> out_soft_since_ms{0};
  // What the connection holds, published by its thread after each read and write for
  // CLIENT LIST, the output limits and the cron (read from any thread).
  struct Buffers {
    std::atomic<uint64_t> qbuf{0};       // input received and not yet parsed
    std::atomic<uint64_t> qbuf_free{0};  // room left in the input buffer
    std::atomic<uint64_t> obl{0};        // reply bytes built and not yet handed to send
    std::atomic<uint64_t> oll{0};        // reply buffers waiting on the socket (0..2)
    std::atomic<uint64_t> omem{0};       // bytes in those: what a slow reader holds up
    std::atomic<uint64_t> rbs{0};        // the reply buffer's allocation
    std::atomic<uint64_t> rbp{0};        // the most reply bytes built in one turn
    std::atomic<uint64_t> alloc{0};      // input + output buffers' allocations
    // WATCHed keys, subscriptions and tracking prefixes (ClientStateBytes).
    std::atomic<uint64_t> state{0};
  } buffers;
  // Client eviction (client_eviction.h): the bytes this client last added to the total
  // of normal and pub/sub clients, and whether it was chosen for eviction (it is then
  // closed on its own thread; CLIENT LIST no longer shows it).
  std::atomic<int64_t> eviction_counted{0};
  std::atomic<bool> evicted{false};

  // Runs fn on the client's own thread (an io_context strand for sockets, the test
  // thread in the harness). Set by the owner; safe to call from any thread.
  std::function<void(std::function<void()>)> post;
  // Called (on the client's thread) after out-of-band output was queued, or after a
  // blocked command was served, so the owner flushes and resumes reading input.
  std::function<void()> on_output;
  std::function<void()> on_unblocked;
  // conn_resume: feed the unconsumed input to the protocol again once the output queued
  // so far is written (a protocol streaming a long answer batch by batch). Null in
  // owners that have no socket (the test harness): the protocol then finishes at once.
  std::function<void()> resume_input;

  std::vector<std::pair<void (*)(void*, ferrite_conn_id), void*>> close_hooks;
  std::vector<std::pair<void (*)(void*, ferrite_conn_id), void*>> reset_hooks;
  std::atomic<bool> closed{false};
};

}  // namespace ferrite::host

// The SDK's opaque connection handle is the client itself.
struct ferrite_conn : ferrite::host::Client {
  using ferrite::host::Client::Client;
};
