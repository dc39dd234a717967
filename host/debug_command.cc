// DEBUG: the subcommands operators and Redis' own test suite use. DIGEST and DIGEST-VALUE
// compute Redis' dataset/value digests (debug.c) byte for byte, so a digest taken here
// compares with one taken on redis-server holding the same data.
#include <arpa/inet.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "ferrite/module.hpp"
#include "ferrite/sha1.hpp"
#include "host/config_internal.h"
#include "host/context.h"
#include "host/cron_pause.h"
#include "host/host.h"
#include "host/io.h"
#include "host/keyspace.h"
#include "host/logging.h"
#include "host/persistence/dump.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

using sdk::EqualsIgnoreCase;
using sdk::SV;
using Digest = std::array<unsigned char, 20>;

void Simple(ferrite_ctx* c, std::string_view s) { c->sink->simple(c->st, s.data(), s.size()); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  return SendError(c, code, msg);
}

// ---- Redis' digest primitives (debug.c) ----------------------------------------------

// digest ^= SHA1(s): order-independent accumulation (set members, keys of a db).
void XorDigest(Digest& d, std::string_view s) {
  auto h = sdk::Sha1(s);
  for (size_t i = 0; i < d.size(); i++) d[i] ^= h[i];
}

// digest = SHA1(digest ^ SHA1(s)): order-dependent accumulation (list elements).
void MixDigest(Digest& d, std::string_view s) {
  XorDigest(d, s);
  d = sdk::Sha1({reinterpret_cast<const char*>(d.data()), d.size()});
}

std::string_view Bytes(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// A module value's elements as its AOF rewrite states them: the commands, each an argv.
struct CapturedAof final : ferrite_aof {
  std::vector<std::vector<std::string>> cmds;
  void Emit(int argc, const ferrite_slice* argv) override {
    auto& v = cmds.emplace_back();
    for (int i = 0; i < argc; i++) v.emplace_back(argv[i].ptr, argv[i].len);
  }
};

// Redis' object type numbers (OBJ_STRING ... OBJ_STREAM), which the digest mixes in.
uint32_t RedisTypeNumber(std::string_view type) {
  if (type == "list") return 1;
  if (type == "set") return 2;
  if (type == "zset") return 3;
  if (type == "hash") return 4;
  if (type == "stream") return 6;
  return 5;  // OBJ_MODULE
}

// Redis' xorObjectDigest for a module value. The elements come from the type's AOF
// rewrite (RPUSH / SADD / ZADD / HSET / XADD carry every element; other commands, such
// as HPEXPIREAT or XGROUP, carry none of what Redis digests). A type Redis does not
// have mixes every argument after the key (Redis would ask the module's digest
// callback, which the SDK does not have).
void MixModuleValue(Digest& d, const Entry* e) {
  const ferrite_type* t = e->mod_type();
  CapturedAof aof;
  std::string_view key = e->key();
  if (t->desc.aof_rewrite) t->desc.aof_rewrite(&aof, {key.data(), key.size()}, e->mod.ptr);
  std::string_view type = t->name;
  char buf[128];
  for (auto& cmd : aof.cmds) {
    std::string name = cmd[0];
    for (auto& ch : name) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
    if (type == "list" && name == "RPUSH") {
      for (size_t i = 2; i < cmd.size(); i++) MixDigest(d, cmd[i]);
    } else if (type == "set" && name == "SADD") {
      for (size_t i = 2; i < cmd.size(); i++) XorDigest(d, cmd[i]);
    } else if (type == "zset" && name == "ZADD") {
      for (size_t i = 2; i + 1 < cmd.size(); i += 2) {
        Digest ele{};
        MixDigest(ele, cmd[i + 1]);
        snprintf(buf, sizeof buf, "%.17g", strtod(cmd[i].c_str(), nullptr));
        MixDigest(ele, buf);
        XorDigest(d, Bytes(ele));
      }
    } else if (type == "hash" && (name == "HSET" || name == "HMSET")) {
      for (size_t i = 2; i + 1 < cmd.size(); i += 2) {
        Digest ele{};
        MixDigest(ele, cmd[i]);
        MixDigest(ele, cmd[i + 1]);
        XorDigest(d, Bytes(ele));
      }
    } else if (type == "stream" && name == "XADD") {
      // "XADD key MAXLEN 0 id ..." recreates an empty stream: no entry to digest.
      if (cmd.size() < 3 || EqualsIgnoreCase(cmd[2], "MAXLEN")) continue;
      std::string id = cmd[2];  // "ms-seq"; Redis digests "ms.seq"
      if (auto dash = id.find('-'); dash != std::string::npos) id[dash] = '.';
      MixDigest(d, id);
      for (size_t i = 3; i < cmd.size(); i++) MixDigest(d, cmd[i]);
    } else if (RedisTypeNumber(type) == 5) {
      for (size_t i = 2; i < cmd.size(); i++) MixDigest(d, cmd[i]);
    }
  }
}

// Redis' xorObjectDigest: the type number, the value, then "!!expire!!" if it has a TTL.
void XorObjectDigest(Digest& d, const Table& t, const Entry* e) {
  bool str = e->kind == ValueKind::kString;
  uint32_t type = htonl(str ? 0 : RedisTypeNumber(e->mod_type()->name));
  MixDigest(d, {reinterpret_cast<const char*>(&type), sizeof type});
  if (str) MixDigest(d, {e->str.ptr ? e->str.ptr : "", e->str.len});
  else MixModuleValue(d, e);
  if (t.ExpireOf(e) >= 0) XorDigest(d, "!!expire!!");
}

// Redis' computeDatasetDigest. Per db in order: mix the db number into the result, then
// xor in every key's digest (xor is order-free, so the shards' order does not matter).
// Like Redis' dict walk, it includes keys whose TTL passed but are not yet removed.
Digest DatasetDigest(Keyspace& ks) {
  Digest final{};
  for (int db = 0; db < ks.num_dbs(); db++) {
    Digest keys{};
    bool any = false;
    for (int si = 0; si < ks.num_shards(); si++) {
      const Table& t = ks.shard(si).dbs[db];
      t.ForEach([&](Entry* e) {
        any = true;
        Digest kd{};
        MixDigest(kd, e->key());
        XorObjectDigest(kd, t, e);
        XorDigest(keys, Bytes(kd));
      });
    }
    if (!any) continue;
    uint32_t aux = htonl(static_cast<uint32_t>(db));
    MixDigest(final, {reinterpret_cast<const char*>(&aux), sizeof aux});
    for (size_t i = 0; i < final.size(); i++) final[i] ^= keys[i];
  }
  return final;
}

int DebugDigest(ferrite_ctx* c, int argc, const ferrite_slice* argv, bool per_key) {
  Keyspace& ks = c->host->keyspace();
  LockSet locks;
  if (!c->nested) locks.AcquireAll(ks);  // inside EXEC every shard is held already
  if (!per_key) {
    Digest d = DatasetDigest(ks);
    Simple(c, sdk::HexBytes(d.data(), d.size()));
    return FERRITE_OK;
  }
  c->sink->array(c->st, static_cast<size_t>(argc - 2));
  for (int j = 2; j < argc; j++) {
    Digest d{};
    std::string_view key = SV(argv[j]);
    uint64_t h = HashKey(key);
    const Table& t = ks.shard(ks.ShardIndex(h)).dbs[c->client->db];
    // Like Redis, a key whose TTL passed but is still stored is digested.
    if (const Entry* e = t.Find(key, h)) XorObjectDigest(d, t, e);
    Simple(c, sdk::HexBytes(d.data(), d.size()));
  }
  return FERRITE_OK;
}

// DEBUG OBJECT <key>: Redis' line "Value at:<address> refcount:1 encoding:<enc>
// serializedlength:<n> lru:<clock> lru_seconds_idle:<s>". The address is the entry's,
// which stays put while a command changes the value in place (INCR of a small number);
// serializedlength is the value's RDB encoding, as DUMP writes it (compressed when
// rdbcompression is on). Like Redis it reads the table directly: a key whose TTL has
// passed but is still stored is described.
int DebugObject(ferrite_ctx* c, std::string_view key) {
  Keyspace& ks = c->host->keyspace();
  uint64_t h = HashKey(key);
  int shard = ks.ShardIndex(h);
  LockSet locks;
  if (!c->nested) {
    std::vector<int> idx{shard};
    locks.Acquire(ks, idx);
  }
  const Table& t = ks.shard(shard).dbs[c->client->db];
  const Entry* e = t.Find(key, h);
  if (!e) return Error(c, "ERR no such key");
  bool compress = c->host->config().Bool("persistence.rdbcompression");
  // The payload is type byte + value + 2-byte RDB version + 8-byte CRC.
  size_t serialized = persist::DumpPayload(*e, compress).size() - 11;
  const char* enc = EntryEncoding(*e);
  char line[256];
  snprintf(line, sizeof line,
           "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u "
           "lru_seconds_idle:%lld",
           static_cast<const void*>(e), enc ? enc : "raw", serialized,
           static_cast<unsigned>(e->lru), static_cast<long long>(c->host->IdleMs(e) / 1000));
  Simple(c, line);
  return FERRITE_OK;
}

// DEBUG PROTOCOL <type>: one reply of each RESP3 kind, as Redis' debug.c sends them.
int DebugProtocol(ferrite_ctx* c, std::string_view name) {
  const ferrite_reply_sink* s = c->sink;
  void* st = c->st;
  if (EqualsIgnoreCase(name, "string")) {
    Bulk(c, "Hello World");
  } else if (EqualsIgnoreCase(name, "integer")) {
    s->integer(st, 12345);
  } else if (EqualsIgnoreCase(name, "double")) {
    s->dbl(st, 3.141);
  } else if (EqualsIgnoreCase(name, "bignum")) {
    std::string_view n = "1234567999999999999999999999999999999";
    s->bignum(st, n.data(), n.size());
  } else if (EqualsIgnoreCase(name, "null")) {
    s->null(st);
  } else if (EqualsIgnoreCase(name, "array") || EqualsIgnoreCase(name, "set")) {
    EqualsIgnoreCase(name, "set") ? s->set(st, 3) : s->array(st, 3);
    for (int j = 0; j < 3; j++) s->integer(st, j);
  } else if (EqualsIgnoreCase(name, "map")) {
    s->map(st, 3);
    for (int j = 0; j < 3; j++) {
      s->integer(st, j);
      s->boolean(st, j == 1);
    }
  } else if (EqualsIgnoreCase(name, "attrib")) {
    if (c->client->resp >= 3) {
      s->attribute(st, 1);
      Bulk(c, "key-popularity");
      s->array(st, 2);
      Bulk(c, "key:123");
      s->integer(st, 90);
    }
    // An attribute is not a reply: a real one follows, in RESP2 alone.
    Bulk(c, "Some real reply following the attribute");
  } else if (EqualsIgnoreCase(name, "push")) {
    if (c->client->resp < 3) return Error(c, "ERR RESP2 is not supported by this command");
    s->push(st, 2);
    Bulk(c, "server-cpu-usage");
    s->integer(st, 42);
    Bulk(c, "Some real reply following the push reply");
  } else if (EqualsIgnoreCase(name, "true") || EqualsIgnoreCase(name, "false")) {
    s->boolean(st, EqualsIgnoreCase(name, "true"));
  } else if (EqualsIgnoreCase(name, "verbatim")) {
    std::string_view v = "This is a verbatim\nstring";
    s->verbatim(st, "txt", v.data(), v.size());
  } else {
    return Error(c, "ERR Wrong protocol type name. Please use one of the following: "
                    "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                    "true|false");
  }
  return FERRITE_OK;
}

// DEBUG POPULATE <count> [<prefix>] [<size>]: string keys <prefix>:<n> ("key" by
// default) holding "value:<n>" (cut or zero-padded to <size> bytes when given); keys that
// exist are left alone; nothing is propagated. Redis' debug.c semantics.
int DebugPopulate(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  int64_t count = 0, size = 0;
  auto positive = [&](const ferrite_slice& a, int64_t* out) {
    if (!sdk::ParseInt64(SV(a), out)) {
      Error(c, "ERR value is not an integer or out of range");
      return false;
    }
    if (*out < 0) {
      Error(c, "ERR value is out of range, must be positive");
      return false;
    }
    return true;
  };
  if (!positive(argv[2], &count)) return FERRITE_OK;
  if (argc == 5 && !positive(argv[4], &size)) return FERRITE_OK;
  std::string prefix = argc >= 4 ? std::string(SV(argv[3])) : "key";
  const ferrite_host_api* api = HostApi();
  LockSet locks;
  if (!c->nested) locks.AcquireAll(c->host->keyspace());
  for (int64_t j = 0; j < count; j++) {
    std::string key = prefix + ":" + std::to_string(j);
    if (key.size() > 127) key.resize(127);  // Redis formats the name into 128 bytes
    ferrite_key* k = api->open_key(c, {key.data(), key.size()}, FERRITE_KEY_WRITE);
    if (k && !api->key_exists(k)) {
      std::string value = "value:" + std::to_string(j);
      if (size > 0) value.resize(static_cast<size_t>(size), '\0');
      api->key_string_set(k, value.data(), value.size());
    }
    if (k) api->close_key(k);
  }
  Simple(c, "OK");
  return FERRITE_OK;
}

// DEBUG QUICKLIST-PACKED-THRESHOLD <size>: list elements longer than <size> get nodes of
// their own (the lists module's LIST.PACKED-THRESHOLD applies it); 0 restores 1 GB.
int DebugPackedThreshold(ferrite_ctx* c, std::string_view arg) {
  int64_t size = 0;
  if (!config_detail::ParseMemory(arg, size) || size > (int64_t{1} << 32) - (1 << 20))
    return Error(c, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
  if (size == 0) size = int64_t{1} << 30;
  const ferrite_host_api* api = HostApi();
  std::string n = std::to_string(size);
  ferrite_slice args[2] = {{"LIST.PACKED-THRESHOLD", 21}, {n.data(), n.size()}};
  ferrite_call_reply* r = api->call(c, 2, args);
  bool failed = api->call_reply_type(r) == FERRITE_REPLY_ERROR;
  std::string text = failed ? std::string(SV(api->call_reply_error_text(r))) : "";
  api->free_call_reply(r);
  if (failed) return Error(c, text);
  Simple(c, "OK");
  return FERRITE_OK;
}

// Redis 7.0's DEBUG HELP lines for the subcommands Ferrite implements.
int DebugHelp(ferrite_ctx* c) {
  return ReplyHelp(
      c, "DEBUG",
      {"DIGEST", "    Output a hex signature representing the current DB content.",
       "DIGEST-VALUE <key> [<key> ...]",
       "    Output a hex signature of the values of all the specified keys.",
       "ERROR <string>",
       "    Return a Redis protocol error with <string> as message. Useful for clients",
       "    unit tests to simulate Redis errors.",
       "LOG <message>", "    Write <message> to the server log.", "LOADAOF",
       "    Flush the AOF buffers on disk and reload the AOF in memory.",
       "OBJECT <key>", "    Show low level info about `key` and associated value.",
       "PAUSE-CRON <0|1>", "    Stop periodic cron job processing.",
       "POPULATE <count> [<prefix>] [<size>]",
       "    Create <count> string keys named key:<num>. If <prefix> is specified then",
       "    it is used instead of the 'key' prefix. These are not propagated to",
       "    replicas. Cluster slots are not respected so keys not belonging to the",
       "    current node can be created in cluster mode.",
       "PROTOCOL <type>",
       "    Reply with a test value of the specified type. <type> can be: string,",
       "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
       "    true, false.",
       "RELOAD [option ...]",
       "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
       "    * MERGE: conflicting keys will be loaded from RDB.",
       "    * NOFLUSH: the existing database will not be removed before load, but",
       "      a conflicting key makes the load fail (what was loaded before it stays).",
       "    * NOSAVE: the database will be loaded from an existing RDB file.",
       "    Examples:",
       "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
       "      the database.",
       "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
       "      existing RDB file.",
       "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
       "      file to the database.",
       "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
       "    Accepted for Redis' tests: Ferrite has no periodic reply buffer resizing.",
       "REPLYBUFFER RESIZING <0|1>",
       "    Accepted for Redis' tests: Ferrite has no periodic reply buffer resizing.",
       "SET-ACTIVE-EXPIRE <0|1>",
       "    Setting it to 0 disables expiring keys in background when they are not",
       "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
       "    default.",
       "QUICKLIST-PACKED-THRESHOLD <size>",
       "    Sets the threshold for elements to be inserted as plain vs packed nodes",
       "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
       "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed."});
}

}  // namespace

int CmdDebug(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) return DebugHelp(c);
  if (EqualsIgnoreCase(sub, "POPULATE") && argc >= 3 && argc <= 5)
    return DebugPopulate(c, argc, argv);
  if (EqualsIgnoreCase(sub, "QUICKLIST-PACKED-THRESHOLD") && argc == 3)
    return DebugPackedThreshold(c, SV(argv[2]));
  if (EqualsIgnoreCase(sub, "LOG") && argc == 3) {
    Logger("host")->warn("DEBUG LOG: {}", SV(argv[2]));
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "ERROR") && argc == 3) {
    std::string text(SV(argv[2]));
    for (char& ch : text)
      if (ch == '\r' || ch == '\n') ch = ' ';
    SendError(c, FERRITE_E_GENERIC, text);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "PAUSE-CRON") && argc == 3) {
    // Redis reads the flag with atoi: any text, non-zero pauses.
    SetCronPaused(c->host, std::atoi(std::string(SV(argv[2])).c_str()) != 0);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  // Redis' cron grows and shrinks each client's reply buffer; these turn that off for
  // tests that need steady client sizes. Ferrite's reply buffers are never resized by a
  // cron (only a write buffer over 1 MB is released once sent), so there is nothing to
  // turn off: the arguments are checked as Redis checks them and the answer is OK.
  if (EqualsIgnoreCase(sub, "REPLYBUFFER") && argc == 4) {
    auto what = SV(argv[2]), arg = SV(argv[3]);
    int64_t ms = 0;
    if (EqualsIgnoreCase(what, "PEAK-RESET-TIME")) {
      if (!EqualsIgnoreCase(arg, "NEVER") && !EqualsIgnoreCase(arg, "RESET") &&
          !sdk::ParseInt64(arg, &ms))
        return Error(c, "", FERRITE_E_NOT_INTEGER);
    } else if (!EqualsIgnoreCase(what, "RESIZING")) {
      return Error(c, "", FERRITE_E_SYNTAX);
    }
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "SLEEP") && argc == 3) {
    double secs = 0;
    if (!sdk::ParseDouble(SV(argv[2]), &secs)) return Error(c, "", FERRITE_E_NOT_FLOAT);
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "SET-ACTIVE-EXPIRE") && argc == 3) {
    c->host->config().Set("active-expire-enabled", SV(argv[2]) == "0" ? "no" : "yes");
    Simple(c, "OK");
    return FERRITE_OK;
  }
  // Not in Redis' DEBUG HELP either.
  if (EqualsIgnoreCase(sub, "SET-DISABLE-DENY-SCRIPTS") && argc == 3) {
    c->host->script_disable_deny.store(std::atoi(std::string(SV(argv[2])).c_str()) != 0,
                                       std::memory_order_relaxed);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LOADAOF") && argc == 2 && c->host->debug_loadaof) {
    std::string err = c->host->debug_loadaof();
    if (!err.empty()) return Error(c, err);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "RELOAD") && c->host->debug_reload) {
    Host::ReloadOptions o;
    for (int i = 2; i < argc; i++) {
      auto opt = SV(argv[i]);
      if (EqualsIgnoreCase(opt, "MERGE")) o.merge = true;
      else if (EqualsIgnoreCase(opt, "NOFLUSH")) o.flush = false;
      else if (EqualsIgnoreCase(opt, "NOSAVE")) o.save = false;
      else return Error(c, "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
    }
    std::string err = c->host->debug_reload(o);
    if (!err.empty()) return Error(c, err);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "DIGEST") && argc == 2) return DebugDigest(c, argc, argv, false);
  if (EqualsIgnoreCase(sub, "DIGEST-VALUE")) return DebugDigest(c, argc, argv, true);
  if (EqualsIgnoreCase(sub, "PROTOCOL") && argc == 3) return DebugProtocol(c, SV(argv[2]));
  if (EqualsIgnoreCase(sub, "OBJECT") && argc == 3) return DebugObject(c, SV(argv[2]));
  // Redis' addReplySubcommandSyntaxError: DEBUG has no per-subcommand arity table.
  std::string msg = "ERR unknown subcommand or wrong number of arguments for '" +
                    std::string(sub.substr(0, 128)) + "'. Try DEBUG HELP.";
  return Error(c, msg);
}

}  // namespace ferrite::host
