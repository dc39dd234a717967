/*
 * Ferrite module SDK — C ABI, major version 1.
 *
 * This header is the only thing a command module or protocol plugin compiles against.
 * Nothing C++ crosses it: plain structs, function pointers, opaque handles and
 * {ptr,len} byte slices.
 *
 * Rules of the ABI
 *  - The host passes `const ferrite_host_api*` to the plugin's entry points. The table
 *    begins with `struct_size` and `abi_major`/`abi_minor`; members are only ever
 *    appended. A plugin that wants a member added after v1.0 checks for it with
 *    FERRITE_HAS_API(api, member) before calling it.
 *  - Every struct a plugin hands to the host starts with `struct_size` so the host can
 *    accept a plugin built against an older, shorter struct.
 *  - A plugin exports at most three symbols: ferrite_plugin_describe, ferrite_plugin_load,
 *    ferrite_plugin_unload. The host refuses a plugin whose abi_major differs from its own.
 *  - Ownership: a slice returned by the host is borrowed; it is valid until the handle it
 *    came from is closed or the handler returns, whichever comes first, unless the
 *    function's comment says otherwise.
 *  - Threads: command handlers run on a worker thread with the shards of the command's
 *    declared keys locked by the host. A handler never sees a lock and must not block.
 */
#ifndef FERRITE_MODULE_H
#define FERRITE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRITE_ABI_MAJOR 1
#define FERRITE_ABI_MINOR 16 /* 1: members after conn_authenticate; 2: after
                               call_reply_verbatim_format and after length;
                               3: after script_yield; 4: ferrite_command_desc.subcommands;
                               5: after ctx_via_call; 6: conn_request;
                               7: reply_double_text, ferrite_reply_sink.double_text;
                               8: reply_error_counted;
                               9: ferrite_command_desc.acl_categories,
                                  ctx_acl_can_read_any_key;
                               10: key_get_mc_bits, key_set_mc_bits, key_set_version;
                               11: ctx_acl_check_cmd, FERRITE_SCRIPT_DECLARED /
                                   NO_WRITES / ALLOW_STALE;
                               12: key_info, event_key_info, subscribe_evictions,
                                  stat_int, conn_resume;
                               13: ferrite_command_desc.call_flags;
                               14: ctx_set_subscription_counts,
                                   info_register_fields, info_field;
                               15: propagate_to, FERRITE_PROPAGATE_*;
                               16: register_subscription_lister,
                                   ferrite_sub_kind */

#if defined(__GNUC__)
#define FERRITE_EXPORT __attribute__((visibility("default")))
#else
#define FERRITE_EXPORT
#endif

/* True when the host's API table is long enough to contain `member`. */
#define FERRITE_HAS_API(api, member) \
  ((api)->struct_size >= offsetof(ferrite_host_api, member) + sizeof((api)->member))

/* ------------------------------------------------------------------------------------ */
/* Basic types                                                                           */
/* ------------------------------------------------------------------------------------ */

typedef struct ferrite_slice {
  const char* ptr;
  size_t len;
} ferrite_slice;

typedef uint64_t ferrite_conn_id;

typedef struct ferrite_plugin ferrite_plugin;   /* a loaded .so, during load/unload  */
typedef struct ferrite_ctx ferrite_ctx;         /* one command execution             */
typedef struct ferrite_key ferrite_key;         /* an opened key entry               */
typedef struct ferrite_type ferrite_type;       /* a registered value type           */
typedef struct ferrite_io ferrite_io;           /* snapshot save/load stream         */
typedef struct ferrite_aof ferrite_aof;         /* AOF rewrite emitter               */
typedef struct ferrite_call_reply ferrite_call_reply; /* captured reply tree         */
typedef struct ferrite_conn ferrite_conn;       /* a connection, for protocol plugins */
typedef struct ferrite_info ferrite_info;       /* INFO fields being written (1.14)  */

/* Status returned by handlers and many API calls. */
typedef enum ferrite_status {
  FERRITE_OK = 0,
  FERRITE_ERR = 1,
  FERRITE_BLOCKED = 2, /* handler parked the client (see block_on_keys)               */
} ferrite_status;

/* Errors cross the ABI as a code plus optional detail; protocol plugins own the text.
 * For FERRITE_E_GENERIC the detail is the complete message including its prefix
 * word, e.g. "ERR value is out of range" or "BUSYKEY Target key name already exists.". */
typedef enum ferrite_error_code {
  FERRITE_E_GENERIC = 0,
  FERRITE_E_WRONGTYPE = 1,     /* Operation against a key holding the wrong kind of value */
  FERRITE_E_NOT_INTEGER = 2,   /* value is not an integer or out of range                 */
  FERRITE_E_NOT_FLOAT = 3,     /* value is not a valid float                              */
  FERRITE_E_SYNTAX = 4,        /* syntax error                                            */
  FERRITE_E_ARITY = 5,         /* detail = command name                                   */
  FERRITE_E_UNKNOWN_CMD = 6,   /* detail = command name (args appended by the host)       */
  FERRITE_E_OOM = 7,           /* command not allowed when used memory > 'maxmemory'      */
  FERRITE_E_NO_SUCH_KEY = 8,   /* no such key                                             */
  FERRITE_E_OVERFLOW = 9,      /* increment or decrement would overflow                   */
  FERRITE_E_NOAUTH = 10,       /* Authentication required                                 */
  FERRITE_E_WRONGPASS = 11,    /* invalid username-password pair                          */
  FERRITE_E_EXECABORT = 12,    /* Transaction discarded because of previous errors        */
  FERRITE_E_NOSCRIPT = 13,     /* No matching script                                      */
  FERRITE_E_BUSY = 14,         /* a script is running                                     */
  FERRITE_E_OUT_OF_RANGE = 15, /* index out of range                                      */
  FERRITE_E_TOO_LARGE = 16,    /* object too large (memcached: item size limit)           */
  FERRITE_E_MISCONF = 17,      /* persistence failing; writes refused                     */
  FERRITE_E_READONLY = 18,     /* replica: You can't write against a read only replica    */
  FERRITE_E_BAD_DATA = 19,     /* client sent malformed data                              */
} ferrite_error_code;

/* ------------------------------------------------------------------------------------ */
/* Reply sink: a protocol-neutral stream of reply tokens.                                */
/* A protocol plugin implements one encoder; the host also has a capturing one for call. */
/* Aggregates announce their element count first; a map of n entries is followed by 2n   */
/* tokens. Counts are never deferred.                                                     */
/* ------------------------------------------------------------------------------------ */

typedef struct ferrite_reply_sink {
  size_t struct_size;
  void (*simple)(void* st, const char* s, size_t len);
  void (*error)(void* st, ferrite_error_code code, const char* detail, size_t len);
  void (*integer)(void* st, int64_t v);
  void (*dbl)(void* st, double v);
  void (*bulk)(void* st, const char* s, size_t len);
  void (*null)(void* st);            /* absent scalar: RESP2 $-1, RESP3 _            */
  void (*null_array)(void* st);      /* absent aggregate: RESP2 *-1, RESP3 _         */
  void (*array)(void* st, size_t n);
  void (*map)(void* st, size_t n);   /* RESP2 renders as an array of 2n              */
  void (*set)(void* st, size_t n);   /* RESP2 renders as an array                    */
  void (*push)(void* st, size_t n);  /* out-of-band message (pub/sub); RESP2: array  */
  void (*boolean)(void* st, int v);  /* RESP2: integer 0/1                           */
  void (*verbatim)(void* st, const char* fmt3, const char* s, size_t len); /* RESP2: bulk */
  void (*bignum)(void* st, const char* s, size_t len);                    /* RESP2: bulk */
  void (*attribute)(void* st, size_t n);
  /* since ABI 1.7 (check struct_size; may be NULL): a double whose digits the command
   * chose, as Redis' addReplyHumanLongDouble sends them (RESP3 `,<text>`, RESP2 bulk).
   * The host gives a sink without it dbl(strtod(text)). */
  void (*double_text)(void* st, const char* s, size_t len);
} ferrite_reply_sink;

/* ------------------------------------------------------------------------------------ */
/* Commands                                                                              */
/* ------------------------------------------------------------------------------------ */

enum {
  FERRITE_CMD_WRITE = 1u << 0,
  FERRITE_CMD_READONLY = 1u << 1,
  FERRITE_CMD_DENYOOM = 1u << 2,
  FERRITE_CMD_FAST = 1u << 3,
  FERRITE_CMD_ADMIN = 1u << 4,
  FERRITE_CMD_PUBSUB = 1u << 5,
  FERRITE_CMD_NOSCRIPT = 1u << 6,   /* refused from scripts (redis.call)                   */
  FERRITE_CMD_LOADING = 1u << 7,    /* Redis' "loading": allowed while the dataset loads   */
  FERRITE_CMD_STALE = 1u << 8,      /* Redis' "stale": allowed on a replica out of sync    */
  FERRITE_CMD_BLOCKING = 1u << 9,
  FERRITE_CMD_NOAUTH = 1u << 10,     /* allowed before AUTH (AUTH, HELLO, QUIT)             */
  FERRITE_CMD_ALL_KEYS = 1u << 11,   /* touches the whole keyspace: host locks every shard  */
  FERRITE_CMD_HIDDEN = 1u << 12,     /* not listed by COMMAND (MC.* helpers)                */
  FERRITE_CMD_NO_MULTI = 1u << 13,   /* refused inside MULTI (and the EXEC then aborts)     */
  FERRITE_CMD_SKIP_PROPAGATE = 1u << 14, /* never propagate verbatim                        */
  FERRITE_CMD_ALLOW_BUSY = 1u << 15, /* runs while a script is busy                         */
  FERRITE_CMD_SUBSCRIBED_OK = 1u << 16, /* allowed in RESP2 subscribed mode                 */
  /* Redis' skip_monitor: MONITOR shows the command before it runs, not after, so the
   * commands a script calls follow it (EVAL, FCALL...). */
  FERRITE_CMD_SKIP_MONITOR = 1u << 17,
  FERRITE_CMD_SKIP_SLOWLOG = 1u << 18, /* never in SLOWLOG (EXEC: its commands are)        */
  /* Redis' may_replicate: no write, but it may add to the replication stream (PUBLISH,
   * PFCOUNT, EVAL/FCALL of a script that did not declare its flags). CLIENT PAUSE WRITE
   * holds it, and read-only scripts may not call it. Not shown by COMMAND INFO. */
  FERRITE_CMD_MAY_REPLICATE = 1u << 19,
};

/* Since ABI 1.15: where propagate_to sends a command (Redis' PROPAGATE_AOF / _REPL). */
enum {
  FERRITE_PROPAGATE_AOF = 1u << 0,  /* the append-only file                               */
  FERRITE_PROPAGATE_REPL = 1u << 1, /* the replicas' stream                               */
};

/* Flags of a script run (script_set_busy), from the flags a script declares (Redis'
 * shebang flags and function flags). */
enum {
  /* allow-oom: the commands it calls may grow memory over maxmemory. */
  FERRITE_SCRIPT_ALLOW_OOM = 1 << 8,
  /* Declared flags without allow-oom or no-writes: the whole run is refused when used
   * memory was over maxmemory as the command started (Redis makes EVAL/FCALL DENYOOM). */
  FERRITE_SCRIPT_DENY_OOM = 1 << 9,
  /* Since ABI 1.11. The script declared its flags (a shebang, or a function): Redis'
   * scriptPrepareForRun checks apply before it starts (MASTERDOWN without allow-stale;
   * without no-writes: READONLY replica, MISCONF, NOREPLICAS). A refusal is answered by
   * the host itself and script_set_busy returns -1. */
  FERRITE_SCRIPT_DECLARED = 1 << 10,
  /* Since ABI 1.11. no-writes, EVAL_RO or FCALL_RO: call() refuses write and
   * may-replicate commands (counted as the command's rejected call). */
  FERRITE_SCRIPT_NO_WRITES = 1 << 11,
  /* Since ABI 1.11. allow-stale. */
  FERRITE_SCRIPT_ALLOW_STALE = 1 << 12,
};

/* The flags a subcommand states for itself (Redis' per-subcommand command_flags); the
 * others are taken from its container. */
#define FERRITE_CMD_SUBCOMMAND_FLAGS                                                     \
  (FERRITE_CMD_WRITE | FERRITE_CMD_READONLY | FERRITE_CMD_DENYOOM | FERRITE_CMD_FAST |   \
   FERRITE_CMD_ADMIN | FERRITE_CMD_PUBSUB | FERRITE_CMD_NOSCRIPT | FERRITE_CMD_LOADING |  \
   FERRITE_CMD_STALE | FERRITE_CMD_BLOCKING | FERRITE_CMD_NO_MULTI | FERRITE_CMD_ALLOW_BUSY)

typedef int (*ferrite_cmd_fn)(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);

/* Key spec for commands whose keys are not first/last/step (e.g. EVAL, ZUNIONSTORE).
 * Writes up to `cap` argument indexes into `out` and returns how many keys there are
 * (which may exceed cap: the host then calls again with a larger buffer). Returns -1
 * when the arguments are malformed (the handler will report the error). */
typedef int (*ferrite_getkeys_fn)(int argc, const ferrite_slice* argv, int* out, int cap);

/* The flags one call of a command runs under, when they depend on its arguments (Redis'
 * getCommandFlags): EVAL of a script that declares `flags=no-writes` is neither a write
 * nor may-replicate, so CLIENT PAUSE WRITE lets it run. Receives the flags the table
 * declares and returns them, changed or not. The host asks only where it matters (today:
 * while clients are paused, for the command and for each command an EXEC runs), on the
 * client's thread with no shard lock held. It must not reply, open keys or call(); `ctx`
 * serves ctx_plugin_state() and the connection getters only. */
typedef uint32_t (*ferrite_call_flags_fn)(ferrite_ctx* ctx, int argc, const ferrite_slice* argv,
                                          uint32_t declared);

/* One subcommand of a container command (ABI 1.4). Only the policy flags below count
 * for a subcommand; the others (keys, locking, HIDDEN, NOAUTH...) are the container's. */
typedef struct ferrite_subcommand_desc {
  size_t struct_size;
  const char* name;          /* "GET" for CONFIG GET; any case                           */
  int arity;                 /* counts the command name too: CONFIG GET <pattern> is -3  */
  uint32_t flags;            /* FERRITE_CMD_SUBCOMMAND_FLAGS bits                        */
} ferrite_subcommand_desc;

typedef struct ferrite_command_desc {
  size_t struct_size;
  const char* name;          /* upper or lower case; "CONFIG|GET" style is not used     */
  int arity;                 /* Redis convention: -N means at least N (name included)   */
  uint32_t flags;            /* FERRITE_CMD_*                                            */
  int first_key;             /* 0 = no keys                                              */
  int last_key;              /* negative counts from the end: -1 = last argument         */
  int key_step;
  ferrite_cmd_fn handler;
  ferrite_getkeys_fn getkeys; /* optional; overrides first/last/step                     */
  const char* summary;       /* one line for COMMAND DOCS                                */
  const char* group;         /* "string", "generic", "list", ...                         */
  /* --- since ABI 1.4; the host checks struct_size ----------------------------------- */
  /* A container command (CONFIG, CLIENT, SCRIPT, ...) lists its subcommands so the host
   * applies each one's own arity and policy flags, as Redis does for "config|get":
   * inside MULTI, from scripts, while a script is busy, and in COMMAND INFO. A
   * subcommand the list does not name is left to the handler, under `flags`.
   * NULL/0: not a container. The host copies the list during register_command. */
  const struct ferrite_subcommand_desc* subcommands;
  size_t subcommand_count;
  /* --- since ABI 1.9 ------------------------------------------------------------------ */
  /* The command's ACL categories beyond those its flags imply, space separated, Redis'
   * names with or without '@': "hash", "@keyspace @dangerous". The host adds what the
   * flags imply as Redis does (write, read, admin+dangerous, pubsub, fast, blocking,
   * slow when not fast), so ACL rules such as +@hash and ACL CAT cover the command.
   * NULL: only the implied ones (what a plugin built before 1.9 gets). An unknown name
   * fails the registration. A command Redis 7.0 defines keeps Redis' categories, plus
   * these. Subcommands take the container's declared categories. */
  const char* acl_categories;
  /* --- since ABI 1.13; the host checks struct_size ---------------------------------- */
  ferrite_call_flags_fn call_flags;  /* optional: flags that depend on the arguments     */
} ferrite_command_desc;

/* ------------------------------------------------------------------------------------ */
/* Value types                                                                           */
/* ------------------------------------------------------------------------------------ */

/* Snapshot values are written in Redis RDB form. A type names the RDB type byte it
 * writes (`rdb_type`) and the RDB type bytes it can load (`rdb_load_types`, ended by -1).
 * For the native Redis types the host decodes Redis' compact encodings (ziplist,
 * listpack, intset, quicklist) into the plain element stream before calling `load`:
 *   list  (RDB 1): count, then count strings
 *   set   (RDB 2): count, then count strings
 *   zset  (RDB 5): count, then count (string, binary double) pairs
 *   hash  (RDB 4): count, then count (field, value) pairs
 *   hash with field TTLs (RDB 24, Redis 7.4's RDB_TYPE_HASH_METADATA): an 8-byte
 *         little-endian min expire (ms, read with io_read_double's 8 raw bytes), count,
 *         then count (ttl, field, value) where ttl is a length: 0 = none, else
 *         expire - min + 1. Redis 7.4's compact RDB_TYPE_HASH_LISTPACK_EX (25) reaches
 *         `load` in this form too.
 * so a module only ever reads the plain form. */
typedef struct ferrite_type_desc {
  size_t struct_size;
  const char* name;                 /* TYPE reply: "list", "hash", ...                    */
  int rdb_type;                     /* RDB type byte written by save                      */
  const int* rdb_load_types;        /* RDB type bytes accepted by load, ended by -1       */
  void (*free_value)(void* value);
  size_t (*mem_usage)(const void* value);        /* bytes, approximate                   */
  void* (*copy)(const void* value);              /* deep copy (COPY, snapshots)          */
  const char* (*encoding)(const void* value);    /* OBJECT ENCODING                      */
  void (*save)(ferrite_io* io, const void* value);
  void* (*load)(ferrite_io* io, int rdb_type);   /* NULL on error                        */
  void (*aof_rewrite)(ferrite_aof* aof, ferrite_slice key, const void* value);
  size_t (*length)(const void* value);           /* elements; 0 means "delete the key"   */

  /* --- since ABI 1.2; the host checks struct_size, and each member may be NULL ------- */
  /* The RDB type byte for this particular value, when it depends on the value (a hash
   * with field TTLs is saved as Redis 7.4's RDB_TYPE_HASH_METADATA, one without as
   * RDB_TYPE_HASH). NULL: always `rdb_type`. The byte must be in rdb_load_types. */
  int (*rdb_type_of)(const void* value);
  /* Sub-key expiry (hash field TTLs). next_subkey_expire returns the earliest expiry
   * among the value's elements in absolute ms, or -1 when none has one. The host asks
   * after every write to a key of this type (when the key is closed) and keeps keys
   * with an answer >= 0 in its active-expiry index. Once that time has passed, its
   * expiry cycle calls expire_subkeys with the key's shard locked: it removes every
   * element whose expiry is <= now_ms, calls emit(udata, member) for each (the host
   * propagates the deletion and fires the type's event), and returns the new
   * next_subkey_expire. When length() is then 0 the host deletes the key. */
  int64_t (*next_subkey_expire)(const void* value);
  int64_t (*expire_subkeys)(void* value, int64_t now_ms,
                            void (*emit)(void* udata, ferrite_slice member), void* udata);
  /* How an expired element is replicated and announced; required with expire_subkeys:
   * the command deleting one element (the host propagates `<cmd> key member`, e.g.
   * "HDEL"), the keyspace event ("hexpired") and its class (FERRITE_NOTIFY_HASH). */
  const char* subkey_delete_command;
  const char* subkey_expired_event;
  uint32_t subkey_event_class;
} ferrite_type_desc;

/* ------------------------------------------------------------------------------------ */
/* Keyspace events (notify-keyspace-events classes)                                     */
/* ------------------------------------------------------------------------------------ */

enum {
  FERRITE_NOTIFY_GENERIC = 1u << 2, /* g */
  FERRITE_NOTIFY_STRING = 1u << 3,  /* $ */
  FERRITE_NOTIFY_LIST = 1u << 4,    /* l */
  FERRITE_NOTIFY_SET = 1u << 5,     /* s */
  FERRITE_NOTIFY_HASH = 1u << 6,    /* h */
  FERRITE_NOTIFY_ZSET = 1u << 7,    /* z */
  FERRITE_NOTIFY_EXPIRED = 1u << 8, /* x */
  FERRITE_NOTIFY_EVICTED = 1u << 9, /* e */
  FERRITE_NOTIFY_STREAM = 1u << 10, /* t */
  FERRITE_NOTIFY_KEY_MISS = 1u << 11, /* m */
  FERRITE_NOTIFY_NEW = 1u << 12,    /* n */
  FERRITE_NOTIFY_MODULE = 1u << 13, /* d */
};

/* Keyspace event callback. Events reach subscribers only for classes enabled by the
 * notify-keyspace-events setting; bits 0 (K: keyspace channel) and 1 (E: keyevent
 * channel) of `type_class` carry that setting's K/E selection. */
typedef void (*ferrite_event_fn)(void* udata, int db, uint32_t type_class,
                                 const char* event, ferrite_slice key);

/* What the host knows about one key beyond its value (key_info, event_key_info): the
 * facts memcached's introspection shows for an item. Set struct_size before the call;
 * the host fills the members that fit in it. */
typedef struct ferrite_key_info {
  size_t struct_size;
  uint64_t mem_bytes;   /* MEMORY USAGE's figure: the entry's block (header, key, inline
                         * value), a separate value block or the type's mem_usage, and
                         * the bucket slot */
  uint64_t value_len;   /* a string's length; 0 for a module value                      */
  int64_t expire_ms;    /* absolute unix ms, -1 = none                                  */
  int64_t idle_ms;      /* since the last access (OBJECT IDLETIME's clock)              */
  uint64_t version;     /* the memcached cas                                            */
  uint32_t flags;       /* memcached client flags                                       */
  int fetched;          /* FERRITE_MC_FETCHED: a memcached read since its value was
                         * last written (memcached's ITEM_FETCHED)                      */
  int is_string;
} ferrite_key_info;

/* ------------------------------------------------------------------------------------ */
/* Protocol plugins                                                                      */
/* ------------------------------------------------------------------------------------ */

typedef struct ferrite_protocol_desc {
  size_t struct_size;
  const char* name;        /* "resp", "memcached_text", "memcached_binary"                */
  const char* listener;    /* which listener serves it: "main" or "memcached"            */
  /* Does this first byte belong to me? 1 yes, 0 no. */
  int (*sniff)(uint8_t first_byte);
  /* Creates per-connection state. */
  void* (*conn_open)(void* plugin_state, ferrite_conn* conn);
  void (*conn_close)(void* conn_state);
  /* Consumes as many whole requests as it can from data[0..len) and returns how many
   * bytes it consumed. It stops early (returning what it consumed so far) when a
   * command it executed blocked the client or asked to close the connection. */
  size_t (*on_bytes)(void* conn_state, const uint8_t* data, size_t len);
  /* The encoder used for replies that arrive later than their request (unblocked
   * clients, pub/sub messages): called with the conn_state as `st`. */
  const ferrite_reply_sink* sink;
} ferrite_protocol_desc;

/* Output-side controls a protocol plugin may use on its connection. */
enum {
  FERRITE_CONN_CLOSE_AFTER_REPLY = 1, /* flush what is queued, then close */
  FERRITE_CONN_CLOSE_NOW = 2,
};

/* Outcome of execute(). */
typedef enum ferrite_exec_result {
  FERRITE_EXEC_DONE = 0,    /* reply written                                    */
  FERRITE_EXEC_BLOCKED = 1, /* client parked; stop consuming input until resumed */
  FERRITE_EXEC_CLOSE = 2,   /* command asked to close the connection (QUIT)      */
} ferrite_exec_result;

/* ------------------------------------------------------------------------------------ */
/* Call replies (captured by call())                                                     */
/* ------------------------------------------------------------------------------------ */

typedef enum ferrite_reply_type {
  FERRITE_REPLY_SIMPLE = 0,
  FERRITE_REPLY_ERROR = 1,
  FERRITE_REPLY_INTEGER = 2,
  FERRITE_REPLY_DOUBLE = 3,
  FERRITE_REPLY_BULK = 4,
  FERRITE_REPLY_NULL = 5,
  FERRITE_REPLY_ARRAY = 6,
  FERRITE_REPLY_MAP = 7,    /* elements: k1 v1 k2 v2 ... (length() counts entries)       */
  FERRITE_REPLY_SET = 8,
  FERRITE_REPLY_BOOL = 9,
  FERRITE_REPLY_VERBATIM = 10,
  FERRITE_REPLY_BIGNUM = 11,
  FERRITE_REPLY_PUSH = 12,
  FERRITE_REPLY_NULL_ARRAY = 13,
} ferrite_reply_type;

/* Log levels */
typedef enum ferrite_log_level {
  FERRITE_LOG_DEBUG = 0,
  FERRITE_LOG_INFO = 1,
  FERRITE_LOG_WARN = 2,
  FERRITE_LOG_ERROR = 3,
} ferrite_log_level;

/* open_key modes. NOTOUCH (combinable) does not update the access time / LFU counter
 * (OBJECT IDLETIME, TTL, TYPE, EXISTS), as Redis' LOOKUP_NOTOUCH. */
enum { FERRITE_KEY_READ = 1, FERRITE_KEY_WRITE = 2, FERRITE_KEY_NOTOUCH = 4 };

/* key_get_mc_bits (ABI 1.10): memcached's item state for the meta protocol. FETCHED: the
 * item was read since it was stored (mg `h`); STALE: invalidated by `md I` or stored
 * stale by `ms I` (mg `X`); WON: a client was handed the recache token (mg `W`; later
 * readers see `Z`). */
enum { FERRITE_MC_FETCHED = 1, FERRITE_MC_STALE = 2, FERRITE_MC_WON = 4 };

/* Time-out reply of a blocked client */
typedef enum ferrite_block_timeout_reply {
  FERRITE_BLOCK_TIMEOUT_NULL_ARRAY = 0,
  FERRITE_BLOCK_TIMEOUT_NULL = 1,
} ferrite_block_timeout_reply;

/* block_on_keys_ex flags (ABI 1.3) */
enum {
  /* A signal on a key wakes every waiter that blocked with this flag (in arrival order),
   * not only the first: for readers that do not consume what they read (XREAD). */
  FERRITE_BLOCK_WAKE_ALL = 1u << 0,
  /* (ABI 1.5) Like WAKE_ALL, but the re-runs of such waiters are serialized across the
   * whole server, in the order the waiters blocked (oldest first), each seeing what the
   * ones before it left: for readers that consume what they read in shared state
   * (XREADGROUP moves its group's last ID), whose wake-up order must not depend on
   * which worker thread each client is on. */
  FERRITE_BLOCK_WAKE_ORDERED = 1u << 1,
};

/* Module config options (CONFIG GET/SET, [modules.<name>] in ferrite.toml). The host
 * stores the value in *storage; reading it from a handler is safe (relaxed atomic). */
typedef struct ferrite_option_desc {
  size_t struct_size;
  const char* name;       /* Redis' name where one exists: "list-max-listpack-size" */
  int64_t default_value;
  int64_t min_value;
  int64_t max_value;
  int64_t* storage;       /* module-owned; lives until unload                        */
} ferrite_option_desc;

/* Cursor scan callback: return 0 to continue, non-zero to stop. */
typedef int (*ferrite_scan_fn)(void* udata, ferrite_slice key, const ferrite_type* type);

/* (ABI 1.16) The kinds of pub/sub subscription a connection holds. */
typedef enum ferrite_sub_kind {
  FERRITE_SUB_CHANNEL = 0, /* SUBSCRIBE: a channel name                            */
  FERRITE_SUB_PATTERN = 1, /* PSUBSCRIBE: a glob pattern                           */
  FERRITE_SUB_SHARD = 2,   /* SSUBSCRIBE: a shard channel name                     */
} ferrite_sub_kind;

/* Receives one subscription from a lister; `name` is borrowed for the call only.
 * Returns 0 to be given the next one, non-zero to end the listing. */
typedef int (*ferrite_sub_visit_fn)(void* visit_udata, ferrite_sub_kind kind,
                                    ferrite_slice name);
/* A plugin's subscription lister (register_subscription_lister): calls `visit` for each
 * subscription connection `id` holds in the plugin, until `visit` returns non-zero. */
typedef void (*ferrite_sub_lister_fn)(void* udata, ferrite_conn_id id,
                                      ferrite_sub_visit_fn visit, void* visit_udata);

/* ------------------------------------------------------------------------------------ */
/* The host API table                                                                    */
/* ------------------------------------------------------------------------------------ */

typedef struct ferrite_host_api {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;

  /* --- registration (only inside ferrite_plugin_load) ------------------------------- */
  /* Returns FERRITE_ERR (and logs) when the name is taken; the registry is unchanged. */
  int (*register_command)(ferrite_plugin* p, const ferrite_command_desc* d);
  /* Returns NULL when a type of that name exists. The pointer lives until unload. */
  ferrite_type* (*register_type)(ferrite_plugin* p, const ferrite_type_desc* d);
  int (*register_protocol)(ferrite_plugin* p, const ferrite_protocol_desc* d,
                           void* plugin_state);
  int (*register_option)(ferrite_plugin* p, const ferrite_option_desc* d);
  /* Sets the state object handed back through ctx_plugin_state(). */
  void (*set_plugin_state)(ferrite_plugin* p, void* state);
  /* Subscribes to keyspace events of the classes in `mask` (FERRITE_NOTIFY_*). The
   * callback runs on the thread that made the change, with its shards locked. */
  int (*subscribe_events)(ferrite_plugin* p, uint32_t mask, ferrite_event_fn fn, void* udata);
  void (*log)(ferrite_plugin* p, ferrite_log_level level, const char* msg, size_t len);
  /* The built-in string type (TYPE "string"). */
  const ferrite_type* (*string_type)(void);
  /* Finds a type by name ("list"); NULL when no loaded module registered it. */
  const ferrite_type* (*find_type)(const char* name);

  /* --- context ------------------------------------------------------------------- */
  void* (*ctx_plugin_state)(ferrite_ctx* ctx);
  ferrite_conn_id (*ctx_conn_id)(ferrite_ctx* ctx);
  int (*ctx_db)(ferrite_ctx* ctx);
  int (*ctx_select)(ferrite_ctx* ctx, int db);  /* FERRITE_ERR when out of range      */
  int (*ctx_resp)(ferrite_ctx* ctx);            /* 2 or 3                             */
  int (*ctx_in_script)(ferrite_ctx* ctx);       /* inside EVAL/FCALL or MULTI/EXEC    */
  int64_t (*now_ms)(ferrite_ctx* ctx);          /* the host clock (tests can move it) */
  int (*num_databases)(void);
  void (*ctx_log)(ferrite_ctx* ctx, ferrite_log_level level, const char* msg, size_t len);

  /* --- replies: one per handler, aggregates announce their count ------------------- */
  void (*reply_simple)(ferrite_ctx* ctx, const char* s, size_t len);
  void (*reply_error)(ferrite_ctx* ctx, ferrite_error_code code, const char* detail,
                      size_t len);
  void (*reply_int)(ferrite_ctx* ctx, int64_t v);
  void (*reply_double)(ferrite_ctx* ctx, double v);
  void (*reply_bulk)(ferrite_ctx* ctx, const char* s, size_t len);
  void (*reply_null)(ferrite_ctx* ctx);
  void (*reply_null_array)(ferrite_ctx* ctx);
  void (*reply_array)(ferrite_ctx* ctx, size_t n);
  void (*reply_map)(ferrite_ctx* ctx, size_t n);
  void (*reply_set)(ferrite_ctx* ctx, size_t n);
  void (*reply_bool)(ferrite_ctx* ctx, int v);
  void (*reply_verbatim)(ferrite_ctx* ctx, const char* fmt3, const char* s, size_t len);
  void (*reply_bignum)(ferrite_ctx* ctx, const char* s, size_t len);
  /* Replays a captured reply (from call) into this context's reply. */
  void (*reply_call_reply)(ferrite_ctx* ctx, const ferrite_call_reply* r);

  /* --- keys ------------------------------------------------------------------------ */
  /* Opens `key` in the current db. Expired keys are removed first (lazy expiry). A
   * WRITE open of a missing key yields an empty handle that a set_* call fills. The
   * handle is valid until close_key or the end of the handler. */
  ferrite_key* (*open_key)(ferrite_ctx* ctx, ferrite_slice key, int mode);
  /* Same, in another db (MOVE, COPY ... DB). */
  ferrite_key* (*open_key_db)(ferrite_ctx* ctx, int db, ferrite_slice key, int mode);
  void (*close_key)(ferrite_key* k);
  int (*key_exists)(ferrite_key* k);
  /* NULL for a missing key; string_type() for strings. */
  const ferrite_type* (*key_type)(ferrite_key* k);
  ferrite_slice (*key_name)(ferrite_key* k);
  /* Removes the key and its value. Returns 1 if it existed. */
  int (*key_delete)(ferrite_key* k);

  /* strings (the host's built-in type) */
  /* Borrowed view of the value; FERRITE_ERR if missing or not a string. */
  int (*key_string_get)(ferrite_key* k, ferrite_slice* out);
  /* Replaces the value (any previous type) with a string; keeps expiry and flags. */
  int (*key_string_set)(ferrite_key* k, const char* s, size_t len);
  /* Resizes the string in place (creating it if missing) and returns a writable
   * pointer to its bytes; new bytes are zero. Valid until the next call on k.
   * Strings are limited to 4 GiB - 1: larger sizes return NULL (set: FERRITE_ERR).
   * A string edited this way reports OBJECT ENCODING "raw" until the next
   * key_string_set, as Redis' APPEND/SETRANGE leave a raw sds behind. */
  char* (*key_string_resize)(ferrite_key* k, size_t new_len);

  /* module values */
  void* (*key_value)(ferrite_key* k); /* NULL if missing or a string                  */
  /* Replaces the value with a module value of `type`; the host takes ownership. */
  int (*key_set_value)(ferrite_key* k, const ferrite_type* type, void* value);

  /* metadata */
  int64_t (*key_get_expire)(ferrite_key* k);          /* absolute ms, -1 = none      */
  /* -1 removes the expiry. Not a value write: key_version stays (memcached's touch
   * keeps the CAS); WATCH still sees the change (it compares expiries too). */
  void (*key_set_expire)(ferrite_key* k, int64_t abs_ms);
  uint32_t (*key_get_flags)(ferrite_key* k);          /* memcached client flags      */
  void (*key_set_flags)(ferrite_key* k, uint32_t flags);
  uint64_t (*key_version)(ferrite_key* k);            /* changes on every write      */
  int64_t (*key_idle_ms)(ferrite_key* k);             /* OBJECT IDLETIME             */
  int (*key_lfu_freq)(ferrite_key* k);                /* OBJECT FREQ                 */

  /* Tells the host a module value (or string, via resize) was changed in place: bumps
   * the version, invalidates WATCH, wakes clients blocked on the key, and emits the
   * keyspace event `event` of class `type_class` (FERRITE_NOTIFY_*). If the type's
   * length() is now 0 the key is deleted (and a "del" event follows). */
  void (*key_modified)(ferrite_key* k, uint32_t type_class, const char* event);
  /* Emits a keyspace event without other effects (e.g. "expire"). */
  void (*notify)(ferrite_ctx* ctx, uint32_t type_class, const char* event, ferrite_slice key);

  /* --- whole-keyspace (command must be flagged FERRITE_CMD_ALL_KEYS) ---------------- */
  size_t (*db_size)(ferrite_ctx* ctx, int db);
  /* Cursor scan of a db: calls fn for about `count` keys and returns the next cursor
   * (0 when done). A full iteration returns every key present for the whole scan at
   * least once, even if the table grows meanwhile. Keys whose expiry has passed are
   * not reported. */
  uint64_t (*db_scan)(ferrite_ctx* ctx, int db, uint64_t cursor, size_t count,
                      ferrite_scan_fn fn, void* udata);
  void (*db_flush)(ferrite_ctx* ctx, int db);  /* db < 0: every db                     */
  /* Copies a random live key name into *out (borrowed until handler end). 0 if empty. */
  int (*db_random_key)(ferrite_ctx* ctx, int db, ferrite_slice* out);
  /* Moves the key's entry (value and metadata) to another name and/or db, replacing
   * what is there. Returns FERRITE_ERR if src is missing. */
  int (*key_rename)(ferrite_ctx* ctx, int src_db, ferrite_slice src, int dst_db,
                    ferrite_slice dst);
  /* Deep-copies value and metadata. Returns FERRITE_ERR if src is missing. */
  int (*key_copy)(ferrite_ctx* ctx, int src_db, ferrite_slice src, int dst_db,
                  ferrite_slice dst);
  /* OBJECT ENCODING of whatever the key holds; NULL if missing. */
  const char* (*key_encoding)(ferrite_key* k);

  /* --- propagation (AOF, replicas) ------------------------------------------------- */
  /* By default a write command that changed the keyspace is propagated verbatim. A
   * handler calling propagate() replaces that with the given command(s), in order. */
  void (*propagate)(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);
  /* Marks that this call changed the keyspace (counts for `dirty`, triggers verbatim
   * propagation). key_modified and the set/delete functions do it implicitly. */
  void (*mark_dirty)(ferrite_ctx* ctx);

  /* --- calling other commands (scripting, MULTI) --------------------------------- */
  /* Runs a command as the current client, without re-locking, and captures its
   * reply. The caller owns the result (free_call_reply). */
  ferrite_call_reply* (*call)(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);
  void (*free_call_reply)(ferrite_call_reply* r);
  ferrite_reply_type (*call_reply_type)(const ferrite_call_reply* r);
  int64_t (*call_reply_integer)(const ferrite_call_reply* r); /* also bool          */
  double (*call_reply_double)(const ferrite_call_reply* r);
  /* Bytes of simple/error/bulk/verbatim/bignum; for errors the full message; for a
   * double sent by reply_double_text its text (empty for other doubles). */
  ferrite_slice (*call_reply_string)(const ferrite_call_reply* r);
  size_t (*call_reply_length)(const ferrite_call_reply* r); /* aggregates (map: 2n) */
  const ferrite_call_reply* (*call_reply_element)(const ferrite_call_reply* r, size_t i);
  /* The wire text an error would have in RESP, e.g. "WRONGTYPE Operation ...". */
  ferrite_slice (*call_reply_error_text)(const ferrite_call_reply* r);

  /* --- blocking --------------------------------------------------------------------- */
  /* Parks the client until one of `keys` (current db) is signalled by key_modified,
   * or `timeout_ms` passes (0 = forever). When woken the host runs the same command
   * again from the start; a handler that blocks again keeps its original deadline.
   * The handler must return FERRITE_BLOCKED right after. Refused (FERRITE_ERR) inside
   * MULTI/EXEC and scripts: the handler then replies as on timeout. */
  int (*block_on_keys)(ferrite_ctx* ctx, const ferrite_slice* keys, int nkeys,
                       int64_t timeout_ms, ferrite_block_timeout_reply on_timeout);

  /* --- connections (pub/sub) ---------------------------------------------------------- */
  /* Queues an out-of-band message to a connection: a push (RESP3) / array (RESP2) of
   * `argc` bulk strings. Safe from any thread; the bytes are copied. Returns
   * FERRITE_ERR if the connection is gone. If the connection's pending output exceeds
   * the pubsub client-output-buffer-limit the connection is closed. */
  int (*conn_push)(ferrite_conn_id id, int argc, const ferrite_slice* argv);
  /* Marks the current connection subscribed (RESP2 subscribed mode) when count > 0. */
  void (*ctx_set_subscriptions)(ferrite_ctx* ctx, size_t count);
  /* Registers a callback run on the connection's own thread when it closes. */
  int (*conn_on_close)(ferrite_conn_id id, void (*fn)(void* udata, ferrite_conn_id id),
                       void* udata);

  /* --- snapshot stream (inside type save/load) --------------------------------------- */
  void (*io_write_len)(ferrite_io* io, uint64_t v);        /* RDB length encoding      */
  void (*io_write_string)(ferrite_io* io, const char* s, size_t len);
  void (*io_write_double)(ferrite_io* io, double v);       /* RDB binary double        */
  int (*io_read_len)(ferrite_io* io, uint64_t* out);       /* FERRITE_ERR on bad input */
  /* Returned string is malloc()ed; the caller frees it with io_free. */
  int (*io_read_string)(ferrite_io* io, char** out, size_t* len);
  int (*io_read_double)(ferrite_io* io, double* out);
  void (*io_free)(void* p);

  /* --- AOF rewrite -------------------------------------------------------------------- */
  void (*aof_emit)(ferrite_aof* aof, int argc, const ferrite_slice* argv);

  /* --- protocol plugins ------------------------------------------------------------- */
  /* Runs one command for the connection; its reply goes to sink(st). */
  ferrite_exec_result (*execute)(ferrite_conn* c, int argc, const ferrite_slice* argv,
                                 const ferrite_reply_sink* sink, void* st);
  /* Appends raw bytes to the connection's output buffer. */
  void (*conn_write)(ferrite_conn* c, const char* data, size_t len);
  /* Reserves n writable bytes at the end of the output buffer; commit what was used. */
  char* (*conn_reserve)(ferrite_conn* c, size_t n);
  void (*conn_commit)(ferrite_conn* c, size_t used);
  void (*conn_close)(ferrite_conn* c, int how); /* FERRITE_CONN_CLOSE_*             */
  ferrite_conn_id (*conn_id)(ferrite_conn* c);
  int (*conn_resp)(ferrite_conn* c);              /* RESP version set by HELLO       */
  /* An integer setting by Redis name ("proto-max-bulk-len", "memcached-item-size-max",
   * "client-query-buffer-limit", ...); bools are 0/1. -1 if unknown. */
  int64_t (*config_int)(const char* name);
  /* The connection's current db (memcached uses db 0 unless configured). */
  int (*conn_db)(ferrite_conn* c);
  /* True if the connection must authenticate first (requirepass set, not yet done). */
  int (*conn_needs_auth)(ferrite_conn* c);
  /* Marks the connection authenticated (memcached binary SASL). Returns FERRITE_ERR
   * if user/password do not match the configured ones. */
  int (*conn_authenticate)(ferrite_conn* c, ferrite_slice user, ferrite_slice pass);

  /* --- types and settings ------------------------------------------------------------ */
  /* The TYPE name of a type ("string", "list", ...). Static for the type's lifetime. */
  const char* (*type_name)(const ferrite_type* t);
  /* Copies a string setting (by Redis name, e.g. "maxmemory-policy") into buf, NUL
   * terminated and truncated to cap; returns its full length, or -1 if unknown. */
  int64_t (*config_string)(const char* name, char* buf, size_t cap);

  /* --- long-running commands (scripting) ------------------------------------------- */
  /* Marks the start (busy = 1 for a script, 2 for a function, or'ed with the script's
   * FERRITE_SCRIPT_* flags) and end (busy = 0) of a script run by this context. While it
   * runs longer than busy-reply-threshold, other clients get -BUSY for every command not
   * flagged FERRITE_CMD_ALLOW_BUSY, naming SCRIPT KILL (1) or FUNCTION KILL (2) as Redis
   * does; plain SHUTDOWN gets it too. A start returns 0, or the error code to answer
   * when the flags forbid running now (then nothing started), as Redis'
   * scriptPrepareForRun, or -1 when the host answered the refusal itself (only with
   * FERRITE_SCRIPT_DECLARED); an end returns 0. */
  int (*script_set_busy)(ferrite_ctx* ctx, int busy);
  /* True once the server is shutting down (SHUTDOWN NOSAVE during a busy script):
   * a long-running handler should stop as soon as it can. */
  int (*shutting_down)(void);

  /* --- keyspace events in another db --------------------------------------------- */
  /* notify() in db `db` (MOVE's move_to, COPY ... DB's copy_to). */
  void (*notify_db)(ferrite_ctx* ctx, int db, uint32_t type_class, const char* event,
                    ferrite_slice key);

  /* --- pub/sub and scripting helpers ------------------------------------------------ */
  /* Starts a push aggregate of n elements in the current reply (RESP3 '>n', RESP2
   * '*n'): subscription confirmations that must stay in order with other replies. */
  void (*reply_push)(ferrite_ctx* ctx, size_t n);
  /* Registers a callback run on the connection's own thread when the client sends
   * RESET (before RESET replies). Same contract as conn_on_close; it stays registered. */
  int (*conn_on_reset)(ferrite_conn_id id, void (*fn)(void* udata, ferrite_conn_id id),
                       void* udata);
  /* FERRITE_CMD_* flags of a registered command (any case), or 0 if unknown. */
  uint32_t (*command_flags)(ferrite_slice name);
  /* The 3-letter format of a FERRITE_REPLY_VERBATIM call reply ("txt", "mkd"). */
  ferrite_slice (*call_reply_verbatim_format)(const ferrite_call_reply* r);

  /* --- since ABI 1.2 ----------------------------------------------------------------- */
  /* Called from time to time (e.g. every few ms from an instruction hook) by a handler
   * that has been running longer than busy-reply-threshold. The host serves the other
   * connections of the calling worker thread meanwhile, as Redis' processEventsWhileBlocked
   * does: they get -BUSY, or run FERRITE_CMD_ALLOW_BUSY commands such as SCRIPT KILL and
   * SHUTDOWN NOSAVE. It never re-enters the calling connection. Cheap when there is
   * nothing to do. */
  void (*script_yield)(ferrite_ctx* ctx);

  /* --- since ABI 1.3 ----------------------------------------------------------------- */
  /* block_on_keys with options. `flags`: FERRITE_BLOCK_WAKE_ALL. `argc`/`argv`: the
   * command the host runs when the client is woken (copied); argc 0 = the current
   * command. A handler resolves what must not be re-read on a re-run there (XREAD's `$`
   * becomes the last ID it stood for when the client blocked). Besides key_modified and
   * key_set_value, a key is signalled when it is deleted, overwritten by a string,
   * renamed onto or flushed, so a re-run can see that the key it waited on is gone. */
  int (*block_on_keys_ex)(ferrite_ctx* ctx, const ferrite_slice* keys, int nkeys,
                          int64_t timeout_ms, ferrite_block_timeout_reply on_timeout,
                          uint32_t flags, int argc, const ferrite_slice* argv);
  /* 1 when this run is the re-run of a blocked command woken by a signal on one of its
   * keys (not its first run, not a time-out), else 0. */
  int (*ctx_block_rerun)(ferrite_ctx* ctx);
  /* 1 when this command runs through call() (from a script), 0 for a client's command
   * or an EXEC body: ctx_in_script answers 1 for both, and XREAD BLOCK tells them apart
   * (an error from a script, a non-blocking read inside MULTI). */
  int (*ctx_via_call)(ferrite_ctx* ctx);

  /* --- since ABI 1.5 ----------------------------------------------------------------- */
  /* On the re-run of a woken blocked command: the key whose signal woke it (the first
   * one since its last run), copied into *out (valid until the handler returns);
   * returns 1, or 0 when this is not such a re-run. */
  int (*ctx_block_woken_key)(ferrite_ctx* ctx, ferrite_slice* out);
  /* A module value changed in place in a way that is not a write (no new version, so
   * WATCH does not see it; no wake-up): the host asks the type's mem_usage again, so
   * used_memory and MEMORY USAGE follow at once (a stream's consumer groups). */
  void (*key_resized)(ferrite_key* k);

  /* --- since ABI 1.6 ----------------------------------------------------------------- */
  /* Brackets one client request that is not a command line of its own (a memcached
   * request, which may run several commands: `get a b c`). argc > 0 begins it, with the
   * words SLOWLOG and MONITOR show for it (the request in its own protocol's words;
   * they must stay valid until the end); argc 0 ends it; argc -1 drops it unrecorded
   * (it did not run: its data has not arrived yet). In between, the commands it
   * executes are not logged one by one: the request is, once, timed from begin to end.
   * Call it on the connection's own thread; requests do not nest. */
  void (*conn_request)(ferrite_conn* c, int argc, const ferrite_slice* argv);

  /* --- since ABI 1.7 ----------------------------------------------------------------- */
  /* A double reply with the given text (e.g. GEOPOS coordinates, which Redis renders
   * as %.17Lf without trailing zeros where its other doubles are %.17g): RESP3 sends
   * `,<text>`, RESP2 a bulk of it. `s` must be a number strtod reads whole. */
  void (*reply_double_text)(ferrite_ctx* ctx, const char* s, size_t len);

  /* --- since ABI 1.8 ----------------------------------------------------------------- */
  /* An error reply that was already counted when it was produced: an error a call()
   * returned (the called command replied it, or call() refused the command), passed on
   * as this command's reply, as a script does when redis.call raises or it returns what
   * redis.pcall gave it. total_error_replies and INFO errorstats do not count it again;
   * this command still counts as failed in INFO commandstats (Redis'
   * ERR_REPLY_FLAG_NO_STATS_UPDATE). Otherwise as reply_error. */
  void (*reply_error_counted)(ferrite_ctx* ctx, ferrite_error_code code, const char* detail,
                              size_t len);

  /* --- since ABI 1.9 ----------------------------------------------------------------- */
  /* 1 if the user running this command may read every key with it: Redis'
   * ACLUserCheckCmdWithUnrestrictedKeyAccess(..., CMD_KEY_ACCESS), which SORT asks before
   * it takes BY/GET patterns (keys named by the data, not the arguments). */
  int (*ctx_acl_can_read_any_key)(ferrite_ctx* ctx);

  /* --- since ABI 1.10 ---------------------------------------------------------------- */
  /* memcached's per-item bits (FERRITE_MC_*) of a key; 0 for a missing key. A value
   * write (key_string_set, key_string_resize, key_set_value, key_modified) clears them,
   * as memcached makes a new item; expiry changes, rename and copy keep them. They are
   * not saved in snapshots. Setting them is not a write (no version, no propagation). */
  uint32_t (*key_get_mc_bits)(ferrite_key* k);
  void (*key_set_mc_bits)(ferrite_key* k, uint32_t bits);
  /* Sets the key's version to `v` (memcached's explicit CAS, meta E<cas>), after the
   * write that changed the key. WATCH counts the call as a change of the key, so an
   * EXEC watching it aborts even when `v` is the version the key had. */
  void (*key_set_version)(ferrite_key* k, uint64_t v);

  /* --- since ABI 1.11 ---------------------------------------------------------------- */
  /* Whether the user running this command may run argv (command name first) with those
   * arguments, as Redis' ACLCheckAllUserCommandPerm answers redis.acl_check_cmd: 1 yes,
   * 0 no, -1 no such command or subcommand. Nothing is logged and arity is not checked. */
  int (*ctx_acl_check_cmd)(ferrite_ctx* ctx, int argc, const ferrite_slice* argv);

  /* --- since ABI 1.12 ---------------------------------------------------------------- */
  /* Fills *out for an open key (open it with FERRITE_KEY_NOTOUCH alone to look without
   * counting a hit or touching it). FERRITE_ERR if it is missing. */
  int (*key_info)(ferrite_key* k, ferrite_key_info* out);
  /* Inside a callback registered with subscribe_evictions: the entry being evicted
   * (it is still present while the callback runs). FERRITE_ERR anywhere else. */
  int (*event_key_info)(ferrite_key_info* out);
  /* Calls fn(udata, db, FERRITE_NOTIFY_EVICTED, "evicted", key) for every key the host
   * evicts, whatever notify-keyspace-events says, before the entry is removed, on the
   * evicting thread with the key's shard locked (fn must not open keys). Removed with
   * the plugin's other subscriptions. */
  int (*subscribe_evictions)(ferrite_plugin* p, ferrite_event_fn fn, void* udata);
  /* A host counter by name, 0 when unknown: "get_expired" (reads that found the key
   * expired), "reclaimed" (write opens that found their key expired),
   * "crawler_reclaimed" (keys the active expiry cycle removed), "expired_unfetched",
   * "evicted_unfetched" (expired / evicted keys never read since written), and
   * "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses",
   * "total_connections", "rejected_connections", "connected_clients". */
  int64_t (*stat_int)(const char* name);
  /* Asks for on_bytes to be called again with the input it left unconsumed, once the
   * output queued so far has been written to the socket: a protocol streams a long
   * answer (a key dump) one batch per call without holding its thread or buffering the
   * whole answer. Call it from on_bytes on the connection's own thread. FERRITE_ERR
   * when this connection cannot be resumed (no socket: finish the answer at once). */
  int (*conn_resume)(ferrite_conn* c);

  /* --- since ABI 1.14 ---------------------------------------------------------------- */
  /* The current connection's subscriptions by kind: channels (SUBSCRIBE), patterns
   * (PSUBSCRIBE) and shard channels (SSUBSCRIBE), which CLIENT LIST and CLIENT INFO show
   * as sub=, psub= and ssub=. Sets the RESP2 subscribed mode as
   * ctx_set_subscriptions(channels + patterns + shard_channels) does, which it replaces. */
  void (*ctx_set_subscription_counts)(ferrite_ctx* ctx, size_t channels, size_t patterns,
                                      size_t shard_channels);
  /* Adds a plugin's fields to one of the host's INFO sections (today "memory", where
   * they go where Redis 7.0 prints its scripting fields: after total_system_memory).
   * `fn` runs each time INFO prints the section, on the thread running INFO, which may
   * hold shard locks (INFO from a script or EXEC): it must not open keys, call() or
   * reply, and it must not wait on anything a running command may hold (read counters
   * the plugin keeps in atomics). It writes its fields with info_field. Removed when the
   * plugin unloads. FERRITE_ERR for a section the host has no room for. */
  int (*info_register_fields)(ferrite_plugin* p, const char* section,
                              void (*fn)(void* udata, ferrite_info* out), void* udata);
  /* Inside such an `fn`: one "name:value" line of the section (both NUL-terminated,
   * without ':', CR or LF; the host copies them). */
  void (*info_field)(ferrite_info* out, const char* name, const char* value);

  /* --- since ABI 1.15 ---------------------------------------------------------------- */
  /* Propagates argv (a whole command, name first) to `targets` only, a mask of
   * FERRITE_PROPAGATE_*: Redis' alsoPropagate with a target, as PUBLISH sends itself to
   * the replicas but not to the AOF (forceCommandPropagation(c, PROPAGATE_REPL)). Like
   * propagate(), it replaces the verbatim propagation of this call, keeps the order of
   * the calls, and inside MULTI/EXEC or a script joins the transaction's effects
   * (MULTI/EXEC around them go to every target); unlike it, the call does not count as
   * a change of the keyspace (no `dirty`), and it works for commands without the write
   * flag. A replica applying its primary's stream propagates nothing (its replicas get
   * the primary's bytes). */
  void (*propagate_to)(ferrite_ctx* ctx, uint32_t targets, int argc, const ferrite_slice* argv);

  /* --- since ABI 1.16 ---------------------------------------------------------------- */
  /* Tells the host how to read the pub/sub subscriptions this plugin keeps per
   * connection, so that a change of a user's channel permissions (ACL SETUSER)
   * disconnects exactly the subscribers whose channels, patterns or shard channels the
   * new rules refuse, as Redis' ACLKillPubsubClientsIfNeeded. The host calls `fn` on the
   * connection's own thread, between its commands, for connections that report
   * subscriptions (ctx_set_subscription_counts); `fn` must not call back into the host.
   * Several plugins may register one each; a connection's subscriptions are what all
   * of them list. Without any lister, a change that takes channel rules away
   * disconnects every subscribed client of the user. Removed when the plugin unloads. */
  int (*register_subscription_lister)(ferrite_plugin* p, ferrite_sub_lister_fn fn,
                                      void* udata);
} ferrite_host_api;

/* ------------------------------------------------------------------------------------ */
/* Plugin entry points                                                                   */
/* ------------------------------------------------------------------------------------ */

typedef struct ferrite_plugin_info {
  size_t struct_size;
  uint32_t abi_major;   /* FERRITE_ABI_MAJOR the plugin was built with                */
  uint32_t abi_minor;
  const char* name;     /* "strings", "resp", ...                                      */
  int version;          /* plugin's own version, shown by MODULE LIST                   */
} ferrite_plugin_info;

/* Exported by every plugin:
 *   const ferrite_plugin_info* ferrite_plugin_describe(void);
 *   int  ferrite_plugin_load(const ferrite_host_api* api, ferrite_plugin* p);
 *   void ferrite_plugin_unload(const ferrite_host_api* api, ferrite_plugin* p);
 * load returns FERRITE_OK or FERRITE_ERR (after logging why); on error every
 * registration it made is undone by the host. */
typedef const ferrite_plugin_info* (*ferrite_describe_fn)(void);
typedef int (*ferrite_load_fn)(const ferrite_host_api* api, ferrite_plugin* p);
typedef void (*ferrite_unload_fn)(const ferrite_host_api* api, ferrite_plugin* p);

#define FERRITE_PLUGIN_INFO(NAME, VERSION)                                            \
  FERRITE_EXPORT const ferrite_plugin_info* ferrite_plugin_describe(void) {           \
    static const ferrite_plugin_info info = {sizeof(ferrite_plugin_info),             \
                                             FERRITE_ABI_MAJOR, FERRITE_ABI_MINOR,     \
                                             NAME, VERSION};                           \
    return &info;                                                                      \
  }

#ifdef __cplusplus
}
#endif

#endif /* FERRITE_MODULE_H */
