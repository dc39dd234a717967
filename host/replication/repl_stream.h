// The replication stream's wire form: RESP multibulk commands. The primary encodes what
// the host propagates; a replica parses what its primary sends (the same bytes it then
// forwards to its own replicas, so offsets agree along a chain).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host::repl {

// Appends `*argc\r\n$len\r\narg\r\n...` to out.
void AppendCommand(std::string* out, int argc, const ferrite_slice* argv);

// The channel that carries memcached flags in the stream (see RewriteForReplicas).
inline constexpr std::string_view kFlagsChannel = "__ferrite__:mcflags";

// The stream is Redis-valid, so a redis-server replica applies all of it: a memcached
// store the host propagates as MC.SET is rewritten —
//   MC.SET k v SET f [PXAT t] ...   ->  SET k v [PXAT t]   (+ the flags, below)
//   MC.SET k d APPEND 0             ->  APPEND k d
// and the client flags (not 0) follow as `PUBLISH __ferrite__:mcflags "<f>:<k>"`,
// which a Redis replica delivers to nobody and a Ferrite replica's link turns back into
// the flags of k. Appends `out` and returns true when argv was rewritten; false leaves
// the command as it is.
bool RewriteForReplicas(int argc, const ferrite_slice* argv, std::string* out);

// A Ferrite replica's view of that carrier: true (with key and flags) for a PUBLISH on
// kFlagsChannel with a well-formed payload.
bool ParseFlagsCarrier(const std::vector<std::string_view>& argv, std::string_view* key,
                       std::string_view* flags);

// memcached's stale mark (meta md I / ms I), which the host propagates as
// `MC.DELETE k STALE`, travels as `PUBLISH __ferrite__:mcstale "<k>"`: a Redis replica
// delivers it to nobody, a Ferrite replica's link runs `MC.DELETE k STALE` again.
inline constexpr std::string_view kStaleChannel = "__ferrite__:mcstale";
bool ParseStaleCarrier(const std::vector<std::string_view>& argv, std::string_view* key);

// The channel that carries the primary's CAS epoch (Keyspace::AdoptCasEpoch):
// `PUBLISH __ferrite__:casepoch "<epoch>"`, appended to the stream when a replica is
// promoted, so its former siblings that continue from it move past its epoch before
// they can be promoted in turn. (A full sync carries it as an RDB aux field.)
inline constexpr std::string_view kCasEpochChannel = "__ferrite__:casepoch";

// Appends the carrier of `epoch`.
void AppendCasEpochCarrier(std::string* out, uint64_t epoch);

// True (with the epoch) for a PUBLISH on kCasEpochChannel with a decimal payload.
bool ParseCasEpochCarrier(const std::vector<std::string_view>& argv, uint64_t* epoch);

// Hash field TTLs (Redis 7.4): the host propagates them as HPEXPIREAT (absolute times)
// and HPERSIST, and a field that expires as HDEL. redis-server 7.0 knows neither
// command: verbatim, each would be an error its replica logs ("== CRITICAL =="), a
// replica with propagation-error-behavior panic-on-replicas would panic, and inside
// MULTI/EXEC (a transaction, a script's effects) it would discard the whole EXEC there,
// losing the transaction's other writes. So the stream carries them as
//   EVAL <kFieldTtlScript> 1 <key> <command> <args after the key...>
// a script that runs the command with redis.pcall: a redis-server >= 7.4 replica applies
// it, a 7.0 one gets an error back inside the script and does nothing (no error reply,
// no log); it keeps the field without a TTL until the HDEL of its expiry. A Ferrite
// replica's link runs the command itself (ParseFieldTtlCarrier). At most
// kFieldTtlChunk fields per command: Lua's unpack() has a stack limit.
inline constexpr std::string_view kFieldTtlScript =
    "redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 2))";
inline constexpr int kFieldTtlChunk = 1000;

// True (with the command in *cmd: name, key, rest) for that EVAL; the views point into
// argv.
bool ParseFieldTtlCarrier(const std::vector<std::string_view>& argv,
                          std::vector<std::string_view>* cmd);

// The REPLCONF capa a Ferrite replica announces: it loads RDB type 24 (a hash with
// field TTLs) from a full sync. Redis primaries ignore capabilities they do not know.
inline constexpr std::string_view kCapaFieldTtls = "ferrite-hfe";

// Incremental parser for a primary's command stream. Accepts multibulk commands and,
// as Redis does, empty lines (a primary may send a bare newline to keep a link alive).
class CommandReader {
 public:
  enum class Status { kNeedMore, kCommand, kError };
  // Limits as Redis' proto-max-bulk-len / a sane argument count: a corrupt stream is an
  // error, never an allocation of the claimed size.
  static constexpr int64_t kMaxArgs = 1 << 20;
  static constexpr int64_t kMaxBulk = 512ll << 20;

  // Parses one command from data[0, n). On kCommand, argv holds it and *used the bytes
  // it took (an empty line yields kCommand with argv empty). On kNeedMore nothing is
  // consumed. On kError, error() says why.
  Status Next(const char* data, size_t n, std::vector<std::string_view>* argv, size_t* used);
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace ferrite::host::repl
