// The settings registry: parsing, validation, CONFIG GET/SET and file loading.
// Every value, whatever its source (file, command line, CONFIG SET, default), goes
// through ParseValue, so the three paths cannot disagree about what is valid.
#include "host/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "host/config_internal.h"
#include "host/logging.h"

namespace ferrite::host {
namespace config_detail {
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Redis' string2ll: no spaces, no '+', no leading zeros.
bool ParseStrictInt(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  size_t digits = s[0] == '-' ? 1 : 0;
  if (digits == s.size() || (s[digits] == '0' && s.size() > digits + 1)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Redis' memtoull: digits and an optional unit; k/m/g are powers of 1000, kb/mb/gb of
// 1024. A sign, a space or a fraction is an error.
bool ParseMemory(std::string_view s, int64_t& out) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0 || i > 19) return false;
  std::string unit = Lower(s.substr(i));
  int64_t mul = 0;
  if (unit.empty() || unit == "b") mul = 1;
  else if (unit == "k") mul = 1000;
  else if (unit == "kb") mul = 1024;
  else if (unit == "m") mul = 1000 * 1000;
  else if (unit == "mb") mul = kMb;
  else if (unit == "g") mul = 1000LL * 1000 * 1000;
  else if (unit == "gb") mul = 1024LL * kMb;
  else return false;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + i, n);
  if (ec != std::errc() || n > kI64Max / mul) return false;
  out = n * mul;
  return true;
}

// Redis' percent form ("7%": a non-negative integer and '%'), returned as -7.
bool ParsePercent(std::string_view s, int64_t& out) {
  if (s.size() < 2 || s.back() != '%') return false;
  int64_t n = 0;
  if (!ParseStrictInt(s.substr(0, s.size() - 1), n) || n < 0) return false;
  out = -n;
  return true;
}

std::string FormatMemory(int64_t n) {
  return n < 0 ? std::to_string(-n) + "%" : std::to_string(n);
}

std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : "") + v[i];
  return out;
}

std::string TomlQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace config_detail

namespace {
using namespace config_detail;
constexpr int64_t kIntMax = INT_MAX;
constexpr std::string_view kCobl = "client-output-buffer-limit";

// Redis 7.0's IMMUTABLE_CONFIG parameters (src/config.c). A setting that cannot change at
// run time and is not one of these is Ferrite's own (shards, the memcached ports, the
// startup role): a Redis client cannot know it is immutable (redis' own test suite sets
// every parameter a `CONFIG GET *` lists to its value), so a pattern does not list it,
// as Redis' HIDDEN_CONFIG; named, it answers.
constexpr std::string_view kRedisImmutable[] = {
    "rdbchecksum", "daemonize", "io-threads-do-reads", "always-show-logo", "set-proc-title",
    "syslog-enabled", "cluster-enabled", "disable-thp", "aclfile", "unixsocket", "pidfile",
    "cluster-config-file", "syslog-ident", "appendfilename", "appenddirname", "logfile",
    "supervised", "syslog-facility", "enable-protected-configs", "enable-debug-command",
    "enable-module-command", "databases", "io-threads", "tcp-backlog", "cluster-port",
    "unixsocketperm", "socket-mark-id", "replicaof", "slaveof"};

bool ListedByPattern(std::string_view name, bool mut) {
  // Redis' HIDDEN_CONFIG settings answer only when named, never to a pattern.
  if (name == "key-load-delay" || name == "rdb-key-save-delay") return false;
  if (mut) return true;
  for (auto r : kRedisImmutable)
    if (r == name) return true;
  return false;
}

// Redis' stringmatchlen with nocase: *, ?, [...] (with ^ and ranges) and \ escapes.
bool Glob(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    char c = p[0];
    if (c == '*') {
      while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
      if (p.size() == 1) return true;
      for (size_t i = 0; i <= s.size(); ++i)
        if (Glob(p.substr(1), s.substr(i))) return true;
      return false;
    }
    if (s.empty()) return false;
    char sc = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    if (c == '?') {
    } else if (c == '[') {
      size_t i = 1;
      bool neg = i < p.size() && p[i] == '^';
      if (neg) ++i;
      bool match = false;
      for (; i < p.size() && p[i] != ']'; ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) ++i;
        char lo = static_cast<char>(std::tolower(static_cast<unsigned char>(p[i])));
        if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
          char hi = static_cast<char>(std::tolower(static_cast<unsigned char>(p[i + 2])));
          if (lo > hi) std::swap(lo, hi);
          if (sc >= lo && sc <= hi) match = true;
          i += 2;
        } else if (lo == sc) {
          match = true;
        }
      }
      if (match == neg) return false;
      p.remove_prefix(std::min(i, p.size() - 1));
    } else {
      if (c == '\\' && p.size() > 1) p.remove_prefix(1);
      if (std::tolower(static_cast<unsigned char>(p[0])) != sc) return false;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

// Redis' keyspaceEventsStringToFlags / FlagsToString, so CONFIG GET shows the same
// canonical letters ("KEA" reads back as "AKE"). The flags themselves are kept in the
// setting's number: the letters lose `n` next to `A` ("KEAn" reads back as "AKE", as in
// Redis, whose new-key events stay on), so the host reads the mask, not the letters.
// The bits are FERRITE_NOTIFY_*'s, with K and E in bits 0 and 1 (Host's notify mask).
enum : int {
  kNK = 1, kNE = 2, kNg = 4, kNs$ = 8, kNl = 16, kNs = 32, kNh = 64, kNz = 128,
  kNx = 256, kNe = 512, kNt = 1024, kNm = 2048, kNn = 4096, kNd = 8192,
  kNAll = kNg | kNs$ | kNl | kNs | kNh | kNz | kNx | kNe | kNt | kNd,
};
constexpr std::string_view kNotifyLetters = "Ag$lshzxeKEtmdn";

std::optional<std::string> NormalizeNotify(std::string& v, int64_t& mask) {
  static const std::pair<char, int> kMap[] = {
      {'A', kNAll}, {'g', kNg}, {'$', kNs$}, {'l', kNl}, {'s', kNs}, {'h', kNh},
      {'z', kNz},   {'x', kNx}, {'e', kNe},  {'K', kNK}, {'E', kNE}, {'t', kNt},
      {'m', kNm},   {'d', kNd}, {'n', kNn}};
  int flags = 0;
  for (char c : v) {
    auto it = std::find_if(std::begin(kMap), std::end(kMap), [&](auto& m) { return m.first == c; });
    if (it == std::end(kMap))
      return "Invalid event class character. Use '" + std::string(kNotifyLetters) + "'.";
    flags |= it->second;
  }
  std::string out;
  if ((flags & kNAll) == kNAll) {
    out = "A";
  } else {
    for (auto [c, f] : {std::pair{'g', kNg}, {'$', kNs$}, {'l', kNl}, {'s', kNs}, {'h', kNh},
                        {'z', kNz}, {'x', kNx}, {'e', kNe}, {'t', kNt}, {'d', kNd}, {'n', kNn}})
      if (flags & f) out += c;
  }
  for (auto [c, f] : {std::pair{'K', kNK}, {'E', kNE}, {'m', kNm}})
    if (flags & f) out += c;
  v = out;
  mask = flags;
  return std::nullopt;
}

// "seconds changes ..." pairs of positive integers; "" disables snapshots.
std::optional<std::string> NormalizeSave(std::string& v) {
  auto words = SplitWords(v);
  if (words.size() % 2) return "Invalid save parameters";
  for (auto& w : words) {
    int64_t n;
    if (!ParseStrictInt(w, n) || n < 1) return "Invalid save parameters";
    w = std::to_string(n);
  }
  v = Join(words, " ");
  return std::nullopt;
}

std::optional<std::string> CheckShutdownFlags(std::string& v) {
  auto words = SplitWords(v);
  for (auto& w : words) {
    w = Lower(w);
    if (w != "default" && w != "save" && w != "nosave" && w != "now" && w != "force")
      return "argument(s) must be one or more of: default, save, nosave, now, force";
  }
  if (words.empty()) return "argument must not be empty";
  v = Join(words, " ");
  return std::nullopt;
}

// Redis chdir()s and reports errno's text; we only check (no process-wide chdir, so
// several hosts can share a test process) and persistence builds paths from dir.
std::optional<std::string> CheckDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return std::filesystem::exists(dir, ec) ? std::strerror(ENOTDIR) : std::strerror(ENOENT);
}

std::optional<std::string> CheckFileName(std::string& v, const char* what) {
  if (v.find('/') != std::string::npos)
    return std::string(what) + " can't be a path, just a filename";
  if (v.empty()) return std::string(what) + " can't be empty";
  return std::nullopt;
}

// latency-tracking-info-percentiles: numbers from 0 to 100, kept as Redis prints them
// back ("%f" without trailing zeros: "0.0 50.0" reads "0 50").
std::optional<std::string> CheckPercentiles(std::string& v) {
  std::string out;
  for (auto& w : SplitWords(v)) {
    char* end = nullptr;
    double d = std::strtod(w.c_str(), &end);
    if (end != w.c_str() + w.size() || !(d >= 0.0 && d <= 100.0))
      return "Invalid latency-tracking-info-percentiles parameters";
    char buf[64];
    std::string f(buf, static_cast<size_t>(snprintf(buf, sizeof buf, "%f", d)));
    while (f.back() == '0') f.pop_back();
    if (f.back() == '.') f.pop_back();
    if (!out.empty()) out += ' ';
    out += f;
  }
  v = out;
  return std::nullopt;
}

// unixsocketperm as redis.conf writes it: octal digits ("700", "0770"), up to 0777.
std::optional<std::string> CheckOctalMode(std::string& v) {
  if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos ||
      std::stol(v, nullptr, 8) > 0777)
    return "argument must be an octal file mode (e.g. 700)";
  return std::nullopt;
}

struct Spec {
  const char* toml;
  const char* redis;
  SettingType type;
  const char* def;
  int64_t min, max;
  bool mut;
  const char* choices;
  const char* help;
};

using T = SettingType;
constexpr bool Y = true, N = false;
// clang-format off
const Spec kSpecs[] = {
  {"server.bind",                  "bind",                   T::kString, "127.0.0.1",   0, 0,        Y, "", "listen address(es), space separated (\"*\" every IPv4 address, \"::*\" every IPv6 one, a leading '-' for an address that may be unavailable)"},
  {"server.port",                  "port",                   T::kInt,    "6379",        0, 65535,    Y, "", "Redis protocol port (0 = do not listen)"},
  {"server.max_connections",       "maxclients",             T::kInt,    "10000",       1, 4294967295LL, Y, "", "maximum simultaneous clients"},
  {"server.threads",               "io-threads",             T::kInt,    "0",           0, 1024,     N, "", "worker threads (0 = number of cores)"},
  {"server.timeout",               "timeout",                T::kInt,    "0",           0, kIntMax,  Y, "", "close idle clients after this many seconds (0 = never)"},
  {"server.tcp_backlog",           "tcp-backlog",            T::kInt,    "511",         0, kIntMax,  N, "", "listen(2) backlog"},
  {"server.tcp_keepalive",         "tcp-keepalive",          T::kInt,    "300",         0, kIntMax,  Y, "", "TCP keepalive interval in seconds (0 = off)"},
  {"server.hz",                    "hz",                     T::kInt,    "10",          0, kIntMax,  Y, "", "background task frequency (clamped to 1..500)"},
  {"server.slowlog_log_slower_than","slowlog-log-slower-than", T::kInt, "10000",       -1, kI64Max, Y, "", "log commands slower than this many microseconds in SLOWLOG (-1 = off, 0 = all)"},
  {"server.slowlog_max_len",       "slowlog-max-len",        T::kInt,    "128",         0, kI64Max,  Y, "", "entries SLOWLOG keeps"},
  {"server.latency_monitor_threshold","latency-monitor-threshold", T::kInt, "0",        0, kI64Max,  Y, "", "record LATENCY events lasting at least this many milliseconds (0 = off)"},
  {"server.tracking_table_max_keys","tracking-table-max-keys", T::kInt, "1000000",     0, kI64Max,  Y, "", "keys CLIENT TRACKING remembers at most (0 = no limit)"},
  {"server.latency_tracking",      "latency-tracking",       T::kBool,   "yes",         0, 0,        Y, "", "keep per-command latency histograms (INFO latencystats, LATENCY HISTOGRAM)"},
  {"server.latency_tracking_info_percentiles","latency-tracking-info-percentiles", T::kString, "50 99 99.9", 0, 0, Y, "", "the percentiles INFO latencystats reports, space separated"},
  {"server.notify_keyspace_events","notify-keyspace-events", T::kString, "",            0, 0,        Y, "", "keyspace notification classes (Redis letters)"},
  {"server.shutdown_on_sigterm",   "shutdown-on-sigterm",    T::kString, "default",     0, 0,        Y, "", "SIGTERM behaviour: default, save, nosave, now, force"},
  {"server.shutdown_on_sigint",    "shutdown-on-sigint",     T::kString, "default",     0, 0,        Y, "", "SIGINT behaviour: default, save, nosave, now, force"},
  {"server.shutdown_timeout",      "shutdown-timeout",       T::kInt,    "10",          0, kIntMax,  Y, "", "seconds SHUTDOWN waits for lagging replicas (0 = none)"},
  {"server.pidfile",               "pidfile",                T::kString, "",            0, 0,        N, "", "write the process id to this file (\"\" = none)"},
  {"server.unixsocket",            "unixsocket",             T::kString, "",            0, 0,        N, "", "also serve RESP on this unix socket path (\"\" = none)"},
  {"server.unixsocketperm",        "unixsocketperm",         T::kString, "0",           0, 0,        N, "", "permissions of that socket, octal (0 = as the umask leaves them)"},
  {"server.daemonize",             "daemonize",              T::kEnum,   "no",          0, 0,        N, "no", "Ferrite does not fork into the background (run it under systemd, supervised = systemd); only \"no\" is accepted"},
  {"server.supervised",            "supervised",             T::kEnum,   "auto",        0, 0,        N, "no systemd auto", "notify systemd as a Type=notify unit (auto: when $NOTIFY_SOCKET is set)"},
  {"storage.max_memory",           "maxmemory",              T::kMemory, "0",           0, kI64Max,  Y, "", "memory limit in bytes or \"1gb\" (0 = none)"},
  {"storage.max_memory_clients",   "maxmemory-clients",      T::kMemory, "0",           -100, kI64Max, Y, "", "evict the largest clients once all normal and pub/sub clients together hold this much: bytes, \"1gb\", or \"5%\" of max_memory (0 = off)"},
  {"storage.eviction_policy",      "maxmemory-policy",       T::kEnum,   "noeviction",  0, 0,        Y, "volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu allkeys-random noeviction", "what to evict at max_memory"},
  {"storage.maxmemory_samples",    "maxmemory-samples",      T::kInt,    "5",           1, kIntMax,  Y, "", "keys sampled per eviction"},
  {"storage.databases",            "databases",              T::kInt,    "16",          1, 1024,     N, "", "number of logical databases"},
  {"storage.shards",               "shards",                 T::kInt,    "64",          1, 4096,     N, "", "keyspace shards (power of two)"},
  {"storage.lfu_log_factor",       "lfu-log-factor",         T::kInt,    "10",          0, kIntMax,  Y, "", "LFU counter logarithm factor"},
  {"storage.lfu_decay_time",       "lfu-decay-time",         T::kInt,    "1",           0, kIntMax,  Y, "", "LFU counter decay period in minutes"},
  {"storage.active_expire",        "active-expire-enabled",  T::kBool,   "yes",         0, 0,        Y, "", "expire keys in the background, not only on access"},
  {"limits.proto_max_bulk_len",    "proto-max-bulk-len",     T::kMemory, "512mb",       kMb, kI64Max, Y, "", "largest bulk string a client may send"},
  {"limits.max_multibulk_len",     "max-multibulk-len",      T::kInt,    "2147483647",  1, kIntMax,  Y, "", "most elements in one request"},
  {"limits.inline_max_size",       "proto-inline-max-size",  T::kInt,    "65536",       1, kIntMax,  Y, "", "longest inline (telnet) request line"},
  {"limits.client_query_buffer_limit","client-query-buffer-limit", T::kMemory, "1gb",   kMb, kI64Max, Y, "", "per-client input buffer limit"},
  {"limits.normal_output_hard_limit", "",                    T::kMemory, "0",           0, kI64Max,  Y, "", "disconnect a normal client whose pending replies exceed this (0 = no limit)"},
  {"limits.normal_output_soft_limit", "",                    T::kMemory, "0",           0, kI64Max,  Y, "", "... or exceed this for soft_seconds (0 = no limit)"},
  {"limits.normal_output_soft_seconds", "",                  T::kInt,    "0",           0, kIntMax,  Y, "", "seconds over the soft limit before disconnecting"},
  {"limits.replica_output_hard_limit", "",                   T::kMemory, "256mb",       0, kI64Max,  Y, "", "drop a replica whose unsent stream exceeds this (at least repl_backlog_size; 0 = no limit)"},
  {"limits.replica_output_soft_limit", "",                   T::kMemory, "64mb",        0, kI64Max,  Y, "", "... or exceeds this for soft_seconds"},
  {"limits.replica_output_soft_seconds", "",                 T::kInt,    "60",          0, kIntMax,  Y, "", "seconds over the soft limit before dropping"},
  {"limits.pubsub_output_hard_limit", "",                    T::kMemory, "32mb",        0, kI64Max,  Y, "", "disconnect a subscriber whose output exceeds this"},
  {"limits.pubsub_output_soft_limit", "",                    T::kMemory, "8mb",         0, kI64Max,  Y, "", "... or exceeds this for soft_seconds"},
  {"limits.pubsub_output_soft_seconds", "",                  T::kInt,    "60",          0, kIntMax,  Y, "", "seconds over the soft limit before disconnecting"},
  {"persistence.aof_enabled",      "appendonly",             T::kBool,   "no",          0, 0,        Y, "", "append-only file on/off"},
  {"persistence.aof_fsync",        "appendfsync",            T::kEnum,   "everysec",    0, 0,        Y, "everysec always no", "fsync policy of the AOF"},
  {"persistence.dir",              "dir",                    T::kString, ".",           0, 0,        Y, "", "directory for snapshots and the AOF"},
  {"persistence.dbfilename",       "dbfilename",             T::kString, "dump.rdb",    0, 0,        Y, "", "snapshot file name"},
  {"persistence.appendfilename",   "appendfilename",         T::kString, "appendonly.aof", 0, 0,     N, "", "AOF file name"},
  {"persistence.save",             "save",                   T::kString, "3600 1 300 100 60 10000", 0, 0, Y, "", "snapshot after <seconds> <changes> pairs (\"\" = never)"},
  {"persistence.aof_load_truncated","aof-load-truncated",    T::kBool,   "yes",         0, 0,        Y, "", "load an AOF with a truncated tail (and repair it)"},
  {"persistence.aof_use_rdb_preamble","aof-use-rdb-preamble", T::kEnum,   "no",          0, 0,        Y, "no", "a rewritten AOF holds commands only (no RDB preamble); only \"no\" is accepted"},
  {"persistence.aof_load_corrupt", "aof-load-corrupt",       T::kBool,   "no",          0, 0,        Y, "", "load an AOF with a corrupt tail"},
  {"persistence.auto_aof_rewrite_percentage","auto-aof-rewrite-percentage", T::kInt, "100", 0, kIntMax, Y, "", "rewrite the AOF when it grew by this percentage"},
  {"persistence.auto_aof_rewrite_min_size",  "auto-aof-rewrite-min-size",   T::kMemory, "64mb", 0, kI64Max, Y, "", "... and is at least this big"},
  {"persistence.stop_writes_on_bgsave_error","stop-writes-on-bgsave-error", T::kBool, "yes",  0, 0, Y, "", "refuse writes after a failed snapshot"},
  {"persistence.rdbcompression",   "rdbcompression",         T::kBool,   "yes",         0, 0,        Y, "", "LZF-compress strings in snapshots"},
  {"persistence.key_load_delay",   "key-load-delay",         T::kInt,    "0",           0, kIntMax,  Y, "", "microseconds to sleep per key loaded at startup (tests of the loading state)"},
  {"persistence.rdb_key_save_delay","rdb-key-save-delay",    T::kInt,    "0",           0, kIntMax,  Y, "", "microseconds to sleep per key written to a snapshot (tests of a snapshot in progress)"},
  {"persistence.rdbchecksum",      "rdbchecksum",            T::kBool,   "yes",         0, 0,        Y, "", "CRC64 checksum at the end of snapshots"},
  {"replication.role",             "role",                   T::kEnum,   "master",      0, 0,        N, "master replica", "start as master or replica"},
  {"replication.master_host",      "master-host",            T::kString, "",            0, 0,        N, "", "master to replicate from (role = replica)"},
  {"replication.master_port",      "master-port",            T::kInt,    "6379",        0, 65535,    N, "", "port of that master"},
  {"replication.repl_backlog_size","repl-backlog-size",      T::kMemory, "1mb",         1, kI64Max,  Y, "", "replication backlog (at least 16kb)"},
  {"replication.replica_read_only","replica-read-only",      T::kBool,   "yes",         0, 0,        Y, "", "replicas refuse writes from clients"},
  {"replication.repl_diskless_sync","repl-diskless-sync",    T::kBool,   "yes",         0, 0,        Y, "", "full sync streams the RDB to the socket (no file)"},
  {"replication.repl_diskless_sync_delay","repl-diskless-sync-delay", T::kInt, "5",      0, kIntMax,  Y, "", "seconds a diskless full sync waits before it starts"},
  {"replication.repl_diskless_sync_max_replicas","repl-diskless-sync-max-replicas", T::kInt, "0", 0, kIntMax, Y, "", "a diskless full sync starts before the delay once this many replicas wait (0 = none)"},
  {"replication.repl_diskless_load","repl-diskless-load",    T::kEnum,   "disabled",    0, 0,        Y, "disabled on-empty-db swapdb", "how a replica loads a streamed RDB"},
  {"replication.repl_ping_replica_period","repl-ping-replica-period", T::kInt, "10",     1, kIntMax,  Y, "", "seconds between PINGs a primary sends its replicas"},
  {"replication.repl_timeout",     "repl-timeout",           T::kInt,    "60",          1, kIntMax,  Y, "", "seconds of silence after which a replication link is dropped"},
  {"replication.repl_backlog_ttl", "repl-backlog-ttl",       T::kInt,    "3600",        0, kIntMax,  Y, "", "seconds a primary keeps its backlog with no replica"},
  {"replication.min_replicas_to_write","min-replicas-to-write", T::kInt, "0",           0, kIntMax,  Y, "", "refuse writes with fewer good replicas (0 = off)"},
  {"replication.min_replicas_max_lag","min-replicas-max-lag", T::kInt,   "10",          0, kIntMax,  Y, "", "a good replica acknowledged within this many seconds"},
  {"replication.masterauth",       "masterauth",             T::kString, "",            0, 0,        Y, "", "password a replica sends its primary"},
  {"replication.masteruser",       "masteruser",             T::kString, "",            0, 0,        Y, "", "user a replica authenticates as"},
  {"replication.replica_serve_stale_data","replica-serve-stale-data", T::kBool, "yes",  0, 0,        Y, "", "a replica answers while its link is down"},
  {"replication.replica_priority", "replica-priority",       T::kInt,    "100",         0, kIntMax,  Y, "", "sentinel promotes lower values first (0 = never)"},
  {"replication.replica_announce_ip","replica-announce-ip",  T::kString, "",            0, 0,        Y, "", "address a replica announces to its primary"},
  {"replication.replica_announce_port","replica-announce-port", T::kInt, "0",           0, 65535,    Y, "", "port a replica announces (0 = its own)"},
  {"replication.replica_announced","replica-announced",      T::kBool,   "yes",         0, 0,        Y, "", "sentinel lists this replica"},
  {"compatibility.memcached_protocol","memcached-protocol",  T::kBool,   "no",          0, 0,        N, "", "serve the memcached protocols"},
  {"compatibility.memcached_port", "memcached-port",         T::kInt,    "11211",       0, 65535,    N, "", "memcached port (text and binary)"},
  {"compatibility.memcached_bind", "memcached-bind",         T::kString, "",            0, 0,        N, "", "memcached listen address (\"\" = server.bind)"},
  {"compatibility.memcached_unixsocket","memcached-unixsocket", T::kString, "",        0, 0,        N, "", "serve memcached on this unix socket path instead of memcached_port, as memcached -s (\"\" = none)"},
  {"compatibility.memcached_unixsocketperm","memcached-unixsocketperm", T::kString, "0700", 0, 0,   N, "", "permissions of that socket, octal, as memcached -a"},
  {"compatibility.memcached_tls_port","memcached-tls-port",  T::kInt,    "0",           0, 65535,    Y, "", "memcached protocols over TLS on this port, with the [tls] certificates (0 = off)"},
  {"compatibility.memcached_db",   "memcached-db",           T::kInt,    "0",           0, 1023,     N, "", "database memcached clients use"},
  {"compatibility.item_size_max",  "memcached-item-size-max",T::kMemory, "512mb",       1024, 1024 * kMb, Y, "", "largest memcached item"},
  {"compatibility.memcached_idle_timeout","memcached-idle-timeout", T::kInt, "0",   0, kIntMax,  Y, "", "close memcached connections idle this many seconds (0 = never; memcached's -o idle_timeout)"},
  {"compatibility.memcached_allow_shutdown","memcached-allow-shutdown", T::kBool, "no", 0, 0,        Y, "", "honour the memcached shutdown command"},
  {"compatibility.warm_from",      "memcached-warm-from",    T::kString, "",            0, 0,        Y, "", "on a memcached get miss, fetch the item from this old memcached, host:port (\"\" = off; docs/migration.md)"},
  {"compatibility.warm_timeout_ms","memcached-warm-timeout-ms", T::kInt,  "100",         1, 60000,    Y, "", "longest wait a get miss spends on warm_from before it answers the miss"},
  {"compatibility.mirror_to",      "memcached-mirror-to",    T::kString, "",            0, 0,        Y, "", "forward writes on the memcached db to this old memcached, host:port (\"\" = off; docs/migration.md)"},
  {"compatibility.mirror_queue_bytes","memcached-mirror-queue-bytes", T::kMemory, "64mb", 1024, kI64Max, Y, "", "writes waiting for the mirror target beyond this are dropped (counted in INFO mirror)"},
  {"compatibility.mirror_resp",    "memcached-mirror-resp",  T::kBool,   "no",          0, 0,        Y, "", "mirror RESP string writes too, not only memcached-protocol writes"},
  {"tls.port",                     "tls-port",               T::kInt,    "0",           0, 65535,    Y, "", "Redis protocol over TLS on this port, beside port (0 = off)"},
  {"tls.cert_file",                "tls-cert-file",          T::kString, "",            0, 0,        Y, "", "server certificate chain (PEM); CONFIG SET reloads it for new connections"},
  {"tls.key_file",                 "tls-key-file",           T::kString, "",            0, 0,        Y, "", "private key of that certificate (PEM)"},
  {"tls.key_file_pass",            "tls-key-file-pass",      T::kString, "",            0, 0,        Y, "", "passphrase of tls.key_file (\"\" = none)"},
  {"tls.client_cert_file",         "tls-client-cert-file",   T::kString, "",            0, 0,        Y, "", "certificate for outgoing connections (replication; \"\" = tls.cert_file)"},
  {"tls.client_key_file",          "tls-client-key-file",    T::kString, "",            0, 0,        Y, "", "its private key"},
  {"tls.client_key_file_pass",     "tls-client-key-file-pass", T::kString, "",          0, 0,        Y, "", "passphrase of tls.client_key_file"},
  {"tls.ca_cert_file",             "tls-ca-cert-file",       T::kString, "",            0, 0,        Y, "", "CA bundle that peers' certificates are checked against"},
  {"tls.ca_cert_dir",              "tls-ca-cert-dir",        T::kString, "",            0, 0,        Y, "", "directory of CA certificates (c_rehash layout)"},
  {"tls.dh_params_file",           "tls-dh-params-file",     T::kString, "",            0, 0,        Y, "", "DH parameters (PEM; \"\" = OpenSSL's built-in groups)"},
  {"tls.auth_clients",             "tls-auth-clients",       T::kEnum,   "yes",         0, 0,        Y, "no yes optional", "client certificates: required (yes), checked when sent (optional), not asked for (no)"},
  {"tls.protocols",                "tls-protocols",          T::kString, "",            0, 0,        Y, "", "TLS versions, e.g. \"TLSv1.2 TLSv1.3\" (\"\" = those two)"},
  {"tls.ciphers",                  "tls-ciphers",            T::kString, "",            0, 0,        Y, "", "TLSv1.2 cipher list, OpenSSL syntax (\"\" = OpenSSL's default)"},
  {"tls.ciphersuites",             "tls-ciphersuites",       T::kString, "",            0, 0,        Y, "", "TLSv1.3 cipher suites, OpenSSL syntax (\"\" = OpenSSL's default)"},
  {"tls.prefer_server_ciphers",    "tls-prefer-server-ciphers", T::kBool, "no",         0, 0,        Y, "", "choose the cipher by the server's order"},
  {"tls.session_caching",          "tls-session-caching",    T::kBool,   "yes",         0, 0,        Y, "", "let clients resume TLS sessions"},
  {"tls.session_cache_size",       "tls-session-cache-size", T::kInt,    "20480",       0, kIntMax,  Y, "", "sessions kept for resumption"},
  {"tls.session_cache_timeout",    "tls-session-cache-timeout", T::kInt, "300",         0, kIntMax,  Y, "", "seconds a cached session stays resumable"},
  {"tls.replication",              "tls-replication",        T::kBool,   "no",          0, 0,        Y, "", "a replica reaches its primary over TLS (the primary's tls-port)"},
  {"tls.handshake_timeout_ms",     "tls-handshake-timeout-ms", T::kInt,  "10000",       0, kIntMax,  Y, "", "close a connection whose TLS handshake has not completed after this many ms (0 = never)"},
  {"modules.load",                 "",                       T::kString, "",            0, 0,        N, "", "plugins to load ([] = every bundled plugin)"},
  {"modules.path",                 "",                       T::kString, "",            0, 0,        N, "", "extra plugin search directories"},
  {"security.requirepass",         "requirepass",            T::kString, "",            0, 0,        Y, "", "password clients must AUTH with (\"\" = none)"},
  {"security.aclfile",             "aclfile",                T::kString, "",            0, 0,        N, "", "ACL users file in redis.conf `user` line syntax, read at startup and by ACL LOAD, written by ACL SAVE (\"\" = none)"},
  {"security.users",               "",                       T::kString, "",            0, 0,        N, "", "ACL users, each \"<name> <rules...>\" as Redis' `user` config lines (not with aclfile)"},
  {"security.acllog_max_len",      "acllog-max-len",         T::kInt,    "128",         0, kI64Max,  Y, "", "entries ACL LOG keeps"},
  {"security.acl_pubsub_default",  "acl-pubsub-default",     T::kEnum,   "resetchannels", 0, 0,      Y, "allchannels resetchannels", "channel permission of new users and selectors"},
  {"security.protected_mode",      "protected-mode",         T::kBool,   "yes",         0, 0,        Y, "", "refuse non-loopback clients when no password is set"},
  {"logging.level",                "loglevel",               T::kEnum,   "info",        0, 0,        Y, "trace debug info warn error off", "log level"},
  {"logging.file",                 "logfile",                T::kString, "",            0, 0,        N, "", "log file (\"\" = stderr); SIGHUP reopens it"},
  {"logging.syslog_enabled",       "syslog-enabled",         T::kBool,   "no",          0, 0,        N, "", "also log to syslog"},
  {"logging.syslog_ident",         "syslog-ident",           T::kString, "ferrite",     0, 0,        N, "", "syslog identity"},
  {"logging.syslog_facility",      "syslog-facility",        T::kEnum,   "local0",      0, 0,        N, "user local0 local1 local2 local3 local4 local5 local6 local7", "syslog facility"},
  {"scripting.busy_reply_threshold","busy-reply-threshold",  T::kInt,    "5000",        0, kI64Max,  Y, "", "milliseconds before a script makes others get BUSY"},
  {"scripting.lua_heap_limit",     "lua-heap-limit",         T::kMemory, "0",           0, kI64Max,  Y, "", "Lua heap limit (0 = unlimited)"},
};
// clang-format on

}  // namespace

Config::Config() { AddBuiltins(); }
Config::~Config() = default;

void Config::Add(std::unique_ptr<Setting> s) {
  Parsed p;
  if (auto why = ParseValue(*s, s->def, p))
    throw std::logic_error("bad default for " + s->toml + ": " + *why);
  Apply(*s, p);
  by_toml_[s->toml] = s.get();
  if (!s->redis.empty()) by_redis_[s->redis] = s.get();
  if (!s->alias.empty()) by_redis_[s->alias] = s.get();
  settings_.push_back(std::move(s));
}

// Redis 7.0's legacy names (src/config.c: the configs created with an alias). CONFIG
// GET/SET take either; a pattern matches both, as in Redis. Most name settings Ferrite
// does not have; the table is whole so that a module option registered under a listed
// name (hashes' hash-max-listpack-entries) gets its alias too.
constexpr std::pair<std::string_view, std::string_view> kRedisAliases[] = {
  {"busy-reply-threshold",            "lua-time-limit"},
  {"cluster-replica-no-failover",     "cluster-slave-no-failover"},
  {"cluster-replica-validity-factor", "cluster-slave-validity-factor"},
  {"hash-max-listpack-entries",       "hash-max-ziplist-entries"},
  {"hash-max-listpack-value",         "hash-max-ziplist-value"},
  {"list-max-listpack-size",          "list-max-ziplist-size"},
  {"min-replicas-max-lag",            "min-slaves-max-lag"},
  {"min-replicas-to-write",           "min-slaves-to-write"},
  {"repl-ping-replica-period",        "repl-ping-slave-period"},
  {"replica-announce-ip",             "slave-announce-ip"},
  {"replica-announce-port",           "slave-announce-port"},
  {"replica-ignore-maxmemory",        "slave-ignore-maxmemory"},
  {"replica-lazy-flush",              "slave-lazy-flush"},
  {"replica-priority",                "slave-priority"},
  {"replica-read-only",               "slave-read-only"},
  {"replica-serve-stale-data",        "slave-serve-stale-data"},
  {"replicaof",                       "slaveof"},
  {"zset-max-listpack-entries",       "zset-max-ziplist-entries"},
  {"zset-max-listpack-value",         "zset-max-ziplist-value"},
};

std::string config_detail::RedisAliasOf(std::string_view redis_name) {
  for (auto& [name, alias] : kRedisAliases)
    if (name == redis_name) return std::string(alias);
  return {};
}

void Config::AddBuiltins() {
  for (const Spec& spec : kSpecs) {
    auto s = std::make_unique<Setting>();
    s->toml = spec.toml;
    s->redis = spec.redis;
    s->type = spec.type;
    s->def = spec.def;
    s->min = spec.min;
    s->max = spec.max;
    s->mut = spec.mut;
    s->choices = SplitWords(spec.choices);
    s->help = spec.help;
    s->alias = RedisAliasOf(s->redis);
    std::string_view t = s->toml;
    s->percent = t == "storage.max_memory_clients";
    s->list = t == "modules.load" || t == "modules.path" || t == "security.users";
    if (t == "server.notify_keyspace_events")
      s->check = [](Parsed& p) { return NormalizeNotify(p.str, p.num); };
    if (t == "persistence.save") s->check = [](Parsed& p) { return NormalizeSave(p.str); };
    if (t == "server.shutdown_on_sigterm" || t == "server.shutdown_on_sigint")
      s->check = [](Parsed& p) { return CheckShutdownFlags(p.str); };
    if (t == "persistence.dbfilename")
      s->check = [](Parsed& p) { return CheckFileName(p.str, "dbfilename"); };
    if (t == "persistence.dir") s->check = [](Parsed& p) { return CheckDir(p.str); };
    if (t == "persistence.appendfilename")
      s->check = [](Parsed& p) { return CheckFileName(p.str, "appendfilename"); };
    if (t == "storage.shards")
      s->check = [](Parsed& p) -> std::optional<std::string> {
        if (p.num & (p.num - 1)) return "argument must be a power of two";
        return std::nullopt;
      };
    // Redis accepts any hz and clamps it; so does the repl backlog minimum.
    if (t == "server.hz") s->check = [](Parsed& p) {
      p.num = std::clamp<int64_t>(p.num, 1, 500);
      return std::optional<std::string>();
    };
    if (t == "replication.repl_backlog_size") s->check = [](Parsed& p) {
      if (p.num < 16384) p.num = 16384;
      return std::optional<std::string>();
    };
    if (t == "server.latency_tracking_info_percentiles")
      s->check = [](Parsed& p) { return CheckPercentiles(p.str); };
    if (t == "server.unixsocketperm" || t == "compatibility.memcached_unixsocketperm")
      s->check = [](Parsed& p) { return CheckOctalMode(p.str); };
    if (t == "logging.level") {
      s->choice_alias = {{"verbose", "debug"}, {"notice", "info"}, {"warning", "warn"}};
      s->redis_choice = {{"info", "notice"}, {"warn", "warning"}};
    }
    Add(std::move(s));
  }
}

Config::Setting& Config::Find(std::string_view toml_address) const {
  auto it = by_toml_.find(toml_address);
  if (it == by_toml_.end())
    throw std::logic_error("unknown setting '" + std::string(toml_address) + "'");
  return *it->second;
}

std::optional<std::string> Config::ParseValue(const Setting& s, std::string_view text,
                                              Parsed& out) const {
  if (s.list) {
    out.items.clear();
    std::string item;
    std::istringstream in{std::string(text)};
    while (std::getline(in, item, ','))
      if (auto w = SplitWords(item); !w.empty()) out.items.push_back(Join(w, " "));
    return std::nullopt;
  }
  auto range_error = [&] {
    return "argument must be between " + std::to_string(s.min) + " and " +
           std::to_string(s.max) + " inclusive";
  };
  switch (s.type) {
    case SettingType::kInt:
      if (!ParseStrictInt(text, out.num)) return "argument couldn't be parsed into an integer";
      if (out.num < s.min || out.num > s.max) return range_error();
      break;
    case SettingType::kMemory:
      if (!ParseMemory(text, out.num) && !(s.percent && ParsePercent(text, out.num)))
        return s.percent ? "argument must be a memory or percent value"
                         : "argument must be a memory value";
      if (s.percent && out.num < 0) {
        if (out.num < s.min)
          return "percentage argument must be less or equal to " + std::to_string(-s.min);
      } else if (out.num < s.min || out.num > s.max) {
        return range_error();
      }
      out.str = Lower(text);
      break;
    case SettingType::kBool: {
      std::string v = Lower(text);
      if (v == "yes" || v == "true") out.num = 1;
      else if (v == "no" || v == "false") out.num = 0;
      else return "argument must be 'yes' or 'no'";
      break;
    }
    case SettingType::kEnum: {
      std::string v = Lower(text);
      if (auto a = s.choice_alias.find(v); a != s.choice_alias.end()) v = a->second;
      auto it = std::find(s.choices.begin(), s.choices.end(), v);
      if (it == s.choices.end())
        return "argument(s) must be one of the following: " + Join(s.choices, ", ");
      out.num = it - s.choices.begin();
      out.str = v;
      break;
    }
    case SettingType::kString:
      out.str = std::string(text);
      break;
  }
  return s.check ? s.check(out) : std::nullopt;
}

void Config::Apply(Setting& s, const Parsed& v) {
  s.num.store(v.num, std::memory_order_relaxed);
  s.str = v.str;
  s.items = v.items;
  if (s.storage) std::atomic_ref<int64_t>(*s.storage).store(v.num, std::memory_order_relaxed);
}

std::string Config::FormatRedis(const Setting& s) const {
  std::string v = Format(s);
  if (auto it = s.redis_choice.find(v); it != s.redis_choice.end()) return it->second;
  return v;
}

std::string Config::Format(const Setting& s) const {
  switch (s.type) {
    case SettingType::kBool: return s.num.load() ? "yes" : "no";
    case SettingType::kInt: return std::to_string(s.num.load());
    case SettingType::kMemory: return FormatMemory(s.num.load());
    case SettingType::kEnum: return s.choices[static_cast<size_t>(s.num.load())];
    case SettingType::kString: return s.list ? Join(s.items, ",") : s.str;
  }
  return {};
}

// --- typed reads -------------------------------------------------------------------

// Reads take mu_ for the lookup too: RegisterModuleInt / UnregisterModule (MODULE
// LOAD/UNLOAD) change the maps while workers run. Hot paths use IntRef once instead.
int64_t Config::Int(std::string_view toml_address) const {
  std::lock_guard lk(mu_);
  return Find(toml_address).num.load(std::memory_order_relaxed);
}

bool Config::Bool(std::string_view toml_address) const { return Int(toml_address) != 0; }

std::string Config::String(std::string_view toml_address) const {
  std::lock_guard lk(mu_);
  return Format(Find(toml_address));
}

const std::atomic<int64_t>* Config::IntRef(std::string_view toml_address) const {
  std::lock_guard lk(mu_);
  Setting& s = Find(toml_address);
  if (s.type == SettingType::kString)
    throw std::logic_error("setting '" + s.toml + "' is a string, it has no IntRef");
  return &s.num;
}

std::vector<std::string> Config::StringList(std::string_view toml_address) const {
  std::lock_guard lk(mu_);
  return Find(toml_address).items;
}

std::string Config::path() const {
  std::lock_guard lk(mu_);
  return path_;
}

std::optional<int64_t> Config::IntByRedisName(std::string_view redis_name) const {
  std::lock_guard lk(mu_);
  auto it = by_redis_.find(Lower(redis_name));
  if (it == by_redis_.end() || it->second->type == SettingType::kString) return std::nullopt;
  return it->second->num.load(std::memory_order_relaxed);
}

std::optional<std::string> Config::StringByRedisName(std::string_view redis_name) const {
  std::lock_guard lk(mu_);
  std::string name = Lower(redis_name);
  if (name == kCobl) return ClientOutputBufferLimit();
  auto it = by_redis_.find(name);
  if (it == by_redis_.end()) return std::nullopt;
  return Format(*it->second);
}

// --- CONFIG GET / SET ----------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view glob) const {
  std::vector<std::pair<std::string, std::string>> out;
  // Views answer outside the lock (their getters take their owners' locks).
  std::vector<std::pair<std::string, std::shared_ptr<const std::function<std::string()>>>> views;
  bool named = glob.find_first_of("*?[\\") == std::string_view::npos;
  {
    std::lock_guard lk(mu_);
    // NOTE: like Redis 7.0, a name without glob characters is echoed as the client
    // spelled it ("CONFIG GET MAXMEMORY" answers "MAXMEMORY").
    if (named) {
      std::string name = Lower(glob);
      if (name == kCobl) out.emplace_back(glob, ClientOutputBufferLimit());
      else if (auto it = by_redis_.find(name); it != by_redis_.end())
        out.emplace_back(glob, FormatRedis(*it->second));
      for (auto& v : views_)
        if (name == v.name || name == v.alias) views.emplace_back(glob, v.get);
    } else {
      for (auto& [name, s] : by_redis_)
        if (Glob(glob, name) && ListedByPattern(name, s->mut))
          out.emplace_back(name, FormatRedis(*s));
      if (Glob(glob, kCobl)) out.emplace_back(kCobl, ClientOutputBufferLimit());
      for (auto& v : views_)
        for (const std::string* n : {&v.name, &v.alias})
          if (!n->empty() && Glob(glob, *n)) views.emplace_back(*n, v.get);
    }
  }
  for (auto& [name, get] : views) out.emplace_back(name, (*get)());
  if (!named) std::sort(out.begin(), out.end());
  return out;
}

void Config::SetView(std::string name, std::string alias, std::function<std::string()> get) {
  std::lock_guard lk(mu_);
  std::erase_if(views_, [&](const View& v) { return v.name == name; });
  views_.push_back({std::move(name), std::move(alias),
                    std::make_shared<const std::function<std::string()>>(std::move(get))});
}

void Config::DropView(std::string_view name) {
  std::lock_guard lk(mu_);
  std::erase_if(views_, [&](const View& v) { return v.name == name; });
}

std::optional<std::string> Config::Set(std::string_view redis_name, std::string_view value) {
  return SetMany({{std::string(redis_name), std::string(value)}});
}

std::optional<std::string> Config::SetMany(
    const std::vector<std::pair<std::string, std::string>>& name_values) {
  auto failed = [](const std::string& name, const std::string& why) {
    return "CONFIG SET failed (possibly related to argument '" + name + "') - " + why;
  };
  struct Change {
    Setting* s;
    Parsed next, old;
  };
  std::vector<Change> changes;
  std::vector<std::function<void()>> callbacks;
  std::vector<std::pair<std::shared_ptr<const ApplyFn>, std::string>> applies;
  {
    std::lock_guard lk(mu_);
    // First every value is checked, so that a bad one changes nothing.
    for (auto& [redis_name, value] : name_values) {
      std::string name = Lower(redis_name);
      if (name == kCobl) continue;
      bool view = false;
      for (auto& v : views_) view |= name == v.name || name == v.alias;
      if (view) return failed(redis_name, "can't set immutable config");
      auto it = by_redis_.find(name);
      if (it == by_redis_.end())
        return "Unknown option or number of arguments for CONFIG SET - '" + redis_name + "'";
      Setting& s = *it->second;
      if (!s.mut) return failed(redis_name, "can't set immutable config");
      for (auto& c : changes)
        if (c.s == &s) return failed(redis_name, "duplicate parameter");
      Change c{&s, {}, {}};
      if (auto why = ParseValue(s, value, c.next)) return failed(name, *why);
      if (s.runtime_check)
        if (auto why = s.runtime_check(c.next.num, s.num.load(std::memory_order_relaxed)))
          return failed(name, *why);
      c.old.num = s.num.load(std::memory_order_relaxed);
      c.old.str = s.str;
      c.old.items = s.items;
      changes.push_back(std::move(c));
    }
    // client-output-buffer-limit changes the settings of the classes it names, and is
    // rolled back with the rest when an apply function fails.
    bool cobl = false;
    for (auto& [redis_name, value] : name_values) {
      if (Lower(redis_name) != kCobl) continue;
      if (cobl) return failed(redis_name, "duplicate parameter");
      cobl = true;
      std::vector<std::pair<Setting*, int64_t>> values;
      if (auto why = ParseClientOutputBufferLimit(value, values))
        return failed(std::string(kCobl), *why);
      for (auto& [s, v] : values) {
        Change c{s, {}, {}};
        c.next.num = v;
        c.next.str = std::to_string(v);
        c.old.num = s->num.load(std::memory_order_relaxed);
        c.old.str = s->str;
        changes.push_back(std::move(c));
      }
      if (auto cb = on_change_.find(kCobl); cb != on_change_.end())
        callbacks.insert(callbacks.end(), cb->second.begin(), cb->second.end());
    }
    for (auto& c : changes) {
      Apply(*c.s, c.next);
      for (const std::string* n : {&c.s->redis, &c.s->alias}) {
        if (n->empty()) continue;
        if (auto cb = on_change_.find(*n); cb != on_change_.end())
          callbacks.insert(callbacks.end(), cb->second.begin(), cb->second.end());
        if (auto ap = on_apply_.find(*n); ap != on_apply_.end()) {
          bool seen = false;
          for (auto& a : applies) seen |= a.first == ap->second;
          if (!seen) applies.emplace_back(ap->second, c.s->redis);
        }
      }
    }
  }
  // Outside the lock: apply functions and callbacks read the config they were told about.
  for (auto& [fn, name] : applies) {
    if (auto why = (*fn)()) {
      Logger("host.config")->warn("Failed applying new configuration. Possibly related to new {} "
                                  "setting. Restoring previous settings.", name);
      {
        std::lock_guard lk(mu_);
        for (auto& c : changes) Apply(*c.s, c.old);
      }
      for (auto& [again, n] : applies) (*again)();
      return failed(name, *why);
    }
  }
  for (auto& fn : callbacks) fn();
  return std::nullopt;
}

void Config::OnApply(std::string redis_name, std::shared_ptr<const ApplyFn> fn) {
  std::lock_guard lk(mu_);
  on_apply_[Lower(redis_name)] = std::move(fn);
}

void Config::ClearApply() {
  std::lock_guard lk(mu_);
  on_apply_.clear();
}

void Config::SetRuntimeCheck(std::string_view toml_address,
                             std::function<std::optional<std::string>(int64_t, int64_t)> fn) {
  std::lock_guard lk(mu_);
  Find(toml_address).runtime_check = std::move(fn);
}

void Config::OnChange(std::string redis_name, std::function<void()> fn) {
  std::lock_guard lk(mu_);
  on_change_[Lower(redis_name)].push_back(std::move(fn));
}

namespace {

// client-output-buffer-limit's classes as CONFIG GET lists them, each kept in three
// settings: hard limit, soft limit, soft seconds.
struct CoblClass {
  std::string_view name;
  const char* keys[3];
};
constexpr CoblClass kCoblClasses[] = {
    {"normal", {"limits.normal_output_hard_limit", "limits.normal_output_soft_limit",
                "limits.normal_output_soft_seconds"}},
    {"slave", {"limits.replica_output_hard_limit", "limits.replica_output_soft_limit",
               "limits.replica_output_soft_seconds"}},
    {"pubsub", {"limits.pubsub_output_hard_limit", "limits.pubsub_output_soft_limit",
                "limits.pubsub_output_soft_seconds"}},
};

}  // namespace

std::string Config::ClientOutputBufferLimit() const {
  std::string out;
  for (auto& cls : kCoblClasses) {
    if (!out.empty()) out += ' ';
    out += cls.name;
    for (const char* k : cls.keys) out += " " + std::to_string(Find(k).num.load());
  }
  return out;
}

// Redis' combined "<class> <hard> <soft> <seconds> ..." form ("replica" is "slave"),
// turned into new values of the class settings; a class named twice takes its last
// values. Checked whole before anything changes.
std::optional<std::string> Config::ParseClientOutputBufferLimit(
    std::string_view value, std::vector<std::pair<Setting*, int64_t>>& out) const {
  auto words = SplitWords(value);
  if (words.empty() || words.size() % 4)
    return "Wrong number of arguments in buffer limit configuration.";
  for (size_t i = 0; i < words.size(); i += 4) {
    std::string cls = Lower(words[i]);
    if (cls == "replica") cls = "slave";
    auto it = std::find_if(std::begin(kCoblClasses), std::end(kCoblClasses),
                           [&](const CoblClass& c) { return c.name == cls; });
    if (it == std::end(kCoblClasses))
      return "Invalid client class specified in buffer limit configuration.";
    for (size_t j = 0; j < 3; ++j) {
      int64_t v = 0;
      if (!ParseMemory(words[i + 1 + j], v))
        return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
      Setting* s = &Find(it->keys[j]);
      std::erase_if(out, [&](auto& p) { return p.first == s; });
      out.emplace_back(s, v);
    }
  }
  return std::nullopt;
}

}  // namespace ferrite::host
