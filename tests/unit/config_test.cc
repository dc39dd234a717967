// Config, command line and logging, without a host. Error texts for CONFIG SET are
// the ones redis-server 7.0.15 prints (checked by hand against the real server).
#include "host/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "host/cli.h"
#include "host/logging.h"

namespace ferrite::host {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// A file in the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text, const std::string& name = "ferrite.toml") {
    static int n = 0;
    path_ = ::testing::TempDir() + "cfg_" + std::to_string(::getpid()) + "_" +
            std::to_string(n++) + "_" + name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string Read() const {
    std::stringstream s;
    s << std::ifstream(path_).rdbuf();
    return s.str();
  }

 private:
  std::string path_;
};

// The error LoadFile throws for `text`, with the temp file's path replaced by "F".
std::string LoadError(const std::string& text) {
  TempFile f(text);
  Config c;
  try {
    c.LoadFile(f.path());
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    for (size_t at; (at = msg.find(f.path())) != std::string::npos;)
      msg.replace(at, f.path().size(), "F");
    return msg;
  }
  return "no error";
}

std::string SetErr(Config& c, std::string_view name, std::string_view value) {
  auto err = c.Set(name, value);
  return err ? *err : "OK";
}

std::string GetOne(const Config& c, std::string_view name) {
  auto kv = c.Get(name);
  return kv.size() == 1 ? kv[0].second : "<" + std::to_string(kv.size()) + " results>";
}

// --- defaults and file parsing --------------------------------------------------------

TEST(ConfigDefaults, EverySectionHasItsDefaults) {
  Config c;
  EXPECT_EQ(c.String("server.bind"), "127.0.0.1");
  EXPECT_EQ(c.Int("server.port"), 6379);
  EXPECT_EQ(c.Int("server.max_connections"), 10000);
  EXPECT_EQ(c.Int("storage.max_memory"), 0);
  EXPECT_EQ(c.String("storage.eviction_policy"), "noeviction");
  EXPECT_EQ(c.Int("storage.shards"), 64);
  EXPECT_EQ(c.Int("limits.proto_max_bulk_len"), 512LL * 1024 * 1024);
  EXPECT_EQ(c.Int("limits.client_query_buffer_limit"), 1024LL * 1024 * 1024);
  EXPECT_FALSE(c.Bool("persistence.aof_enabled"));
  EXPECT_TRUE(c.Bool("persistence.aof_load_truncated"));
  EXPECT_EQ(c.String("persistence.save"), "3600 1 300 100 60 10000");
  EXPECT_EQ(c.String("replication.role"), "master");
  EXPECT_EQ(c.Int("replication.repl_backlog_size"), 1024 * 1024);
  EXPECT_EQ(c.Int("compatibility.memcached_port"), 11211);
  EXPECT_EQ(c.Int("compatibility.item_size_max"), 512LL * 1024 * 1024);
  EXPECT_THAT(c.StringList("modules.load"), IsEmpty());
  EXPECT_EQ(c.String("logging.level"), "info");
  EXPECT_EQ(c.Int("scripting.busy_reply_threshold"), 5000);
  EXPECT_EQ(c.path(), "");
}

TEST(ConfigDefaults, UnknownAddressIsAProgrammingError) {
  Config c;
  EXPECT_THROW(c.Int("server.nope"), std::logic_error);
  EXPECT_THROW(c.IntRef("security.requirepass"), std::logic_error);  // a string
}

TEST(ConfigDefaults, IntRefFollowsChanges) {
  Config c;
  const std::atomic<int64_t>* hz = c.IntRef("server.hz");
  EXPECT_EQ(hz->load(), 10);
  ASSERT_FALSE(c.Set("hz", "42"));
  EXPECT_EQ(hz->load(), 42);
  // Enums read as the index of their value in the Redis order.
  const auto* fsync = c.IntRef("persistence.aof_fsync");
  ASSERT_FALSE(c.Set("appendfsync", "no"));
  EXPECT_EQ(fsync->load(), 2);
}

TEST(ConfigFile, LoadsEveryKind) {
  TempFile f(R"(# comment
[server]
port = 7000
bind = "0.0.0.0"
notify_keyspace_events = "KEA"
[storage]
max_memory = "1gb"
eviction_policy = "allkeys-lru"
active_expire = false
[limits]
proto_max_bulk_len = 2097152
[persistence]
save = "900 1"
[modules]
load = ["strings", "lists"]
path = ["/opt/ferrite/plugins"]
)");
  Config c;
  c.LoadFile(f.path());
  EXPECT_EQ(c.path(), f.path());
  EXPECT_EQ(c.Int("server.port"), 7000);
  EXPECT_EQ(c.String("server.bind"), "0.0.0.0");
  EXPECT_EQ(c.String("server.notify_keyspace_events"), "AKE");
  EXPECT_EQ(c.Int("storage.max_memory"), 1LL << 30);
  EXPECT_EQ(GetOne(c, "maxmemory"), "1073741824");
  EXPECT_EQ(c.String("storage.eviction_policy"), "allkeys-lru");
  EXPECT_FALSE(c.Bool("storage.active_expire"));
  EXPECT_EQ(c.Int("limits.proto_max_bulk_len"), 2097152);
  EXPECT_EQ(c.String("persistence.save"), "900 1");
  EXPECT_THAT(c.StringList("modules.load"), ElementsAre("strings", "lists"));
  EXPECT_THAT(c.StringList("modules.path"), ElementsAre("/opt/ferrite/plugins"));
  EXPECT_EQ(c.Int("server.threads"), 0);  // untouched keys keep their defaults
}

TEST(ConfigFile, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(LoadError("[server]\nport = 1\n\n[nosuch]\nx = 1\n"),
            "F:4: nosuch: unknown section");
  EXPECT_EQ(LoadError("[server]\n\nprot = 1\n"), "F:3: server.prot: unknown setting");
  EXPECT_EQ(LoadError("[server]\nport = \"6379\"\n"),
            "F:2: server.port: expected an integer");
  EXPECT_EQ(LoadError("[server]\nport = 70000\n"),
            "F:2: server.port: argument must be between 0 and 65535 inclusive");
  EXPECT_EQ(LoadError("[storage]\neviction_policy = \"lru\"\n"),
            "F:2: storage.eviction_policy: argument(s) must be one of the following: "
                "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, "
                "allkeys-lfu, allkeys-random, noeviction");
  EXPECT_EQ(LoadError("[storage]\nmax_memory = \"1.5gb\"\n"),
            "F:2: storage.max_memory: argument must be a memory value");
  EXPECT_EQ(LoadError("[storage]\nmax_memory = -1\n"),
            "F:2: storage.max_memory: expected a size: bytes as an integer or a string "
                "like \"64mb\"");
  EXPECT_EQ(LoadError("[storage]\nshards = 48\n"),
            "F:2: storage.shards: argument must be a power of two");
  EXPECT_EQ(LoadError("[storage]\ndatabases = 0\n"),
            "F:2: storage.databases: argument must be between 1 and 1024 inclusive");
  EXPECT_EQ(LoadError("[persistence]\naof_enabled = \"yes\"\n"),
            "F:2: persistence.aof_enabled: expected true or false");
  EXPECT_EQ(LoadError("[persistence]\nsave = \"60\"\n"),
            "F:2: persistence.save: Invalid save parameters");
  EXPECT_EQ(LoadError("[persistence]\ndbfilename = \"a/b.rdb\"\n"),
            "F:2: persistence.dbfilename: dbfilename can't be a path, just a filename");
  EXPECT_EQ(LoadError("[modules]\nload = \"strings\"\n"),
            "F:2: modules.load: expected an array of strings");
  EXPECT_EQ(LoadError("[server]\nnotify_keyspace_events = \"Q\"\n"),
            "F:2: server.notify_keyspace_events: Invalid event class character. Use "
                "'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(LoadError("port = 1\n"), "F:1: port: unknown setting");
  EXPECT_EQ(LoadError("[server]\nport = = 1\n"),
            "F:2: syntax error: bad format: unknown value appeared");
}

TEST(ConfigFile, ReportsEveryErrorSortedByLine) {
  EXPECT_EQ(LoadError("[storage]\ndatabases = 0\n[server]\nport = -1\n"),
            "F:2: storage.databases: argument must be between 1 and 1024 inclusive\n"
            "F:4: server.port: argument must be between 0 and 65535 inclusive");
}

TEST(ConfigFile, MissingFile) {
  Config c;
  try {
    c.LoadFile("/nonexistent/ferrite.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/ferrite.toml: cannot read the file"));
  }
}

// --- memory units ---------------------------------------------------------------------

TEST(ConfigMemory, UnitsAreRedisOnes) {
  Config c;
  auto bytes = [&](const char* v) -> int64_t {
    if (auto err = c.Set("maxmemory", v)) return -1;
    return c.Int("storage.max_memory");
  };
  EXPECT_EQ(bytes("100"), 100);
  EXPECT_EQ(bytes("10b"), 10);
  EXPECT_EQ(bytes("10k"), 10000);
  EXPECT_EQ(bytes("10kb"), 10240);
  EXPECT_EQ(bytes("3m"), 3000000);
  EXPECT_EQ(bytes("3mb"), 3 * 1024 * 1024);
  EXPECT_EQ(bytes("2g"), 2000000000);
  EXPECT_EQ(bytes("2GB"), 2LL << 30);
  EXPECT_EQ(bytes("1Gb"), 1LL << 30);
  for (const char* bad : {"-1", "1.5gb", " 1", "1 ", "+1", "1tb", "kb", "", "99999999999gb"})
    EXPECT_EQ(SetErr(c, "maxmemory", bad),
              "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must "
              "be a memory value")
        << bad;
}

// --- command line -----------------------------------------------------------------------

CliOptions Parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string prog = "ferrite-host";
  argv.push_back(prog.data());
  for (auto& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST(Cli, FlagsShortcutsAndSectionKeys) {
  CliOptions o = Parse({"/etc/ferrite/ferrite.toml", "--port", "7000", "--bind", "0.0.0.0",
                        "--threads", "2", "--loglevel", "debug", "--persistence.aof_fsync",
                        "always", "--storage.max_memory=1gb"});
  EXPECT_EQ(o.config_path, "/etc/ferrite/ferrite.toml");
  EXPECT_THAT(o.overrides,
              ElementsAre(Pair("server.port", "7000"), Pair("server.bind", "0.0.0.0"),
                          Pair("server.threads", "2"), Pair("logging.level", "debug"),
                          Pair("persistence.aof_fsync", "always"),
                          Pair("storage.max_memory", "1gb")));
  EXPECT_FALSE(o.help);
  EXPECT_FALSE(o.version);
  EXPECT_EQ(Parse({"--config", "x.toml"}).config_path, "x.toml");
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"--version"}).version);
  EXPECT_EQ(Parse({"--port=1"}).overrides[0].second, "1");
}

TEST(Cli, BadUsageThrows) {
  auto err = [](std::vector<std::string> a) -> std::string {
    try {
      Parse(std::move(a));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(err({"--port"}), "command line: --port needs a value");
  EXPECT_EQ(err({"--frobnicate", "1"}), "command line: unknown option '--frobnicate' (see --help)");
  EXPECT_EQ(err({"stray"}), "command line: unexpected argument 'stray' (see --help)");
  EXPECT_EQ(err({"--port", "1", "x.toml"}), "command line: unexpected argument 'x.toml' (see --help)");
}

TEST(Cli, OverridesValidateLikeTheFile) {
  Config c;
  ApplyCommandLine(Parse({"--port", "7001", "--persistence.aof_fsync", "always"}), c);
  EXPECT_EQ(c.Int("server.port"), 7001);
  EXPECT_EQ(c.String("persistence.aof_fsync"), "always");
  auto err = [&](const char* addr, const char* v) -> std::string {
    try {
      c.Override(addr, v);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(err("persistence.aof_fsync", "sometimes"),
            "command line: persistence.aof_fsync: argument(s) must be one of the following: "
            "everysec, always, no");
  EXPECT_EQ(err("server.port", "x"),
            "command line: server.port: argument couldn't be parsed into an integer");
  EXPECT_EQ(err("server.nope", "1"), "command line: server.nope: unknown setting");
  EXPECT_EQ(err("modules.load", "strings, lists"), "no error");
  EXPECT_THAT(c.StringList("modules.load"), ElementsAre("strings", "lists"));
  EXPECT_EQ(err("compatibility.memcached_protocol", "yes"), "no error");
  EXPECT_TRUE(c.Bool("compatibility.memcached_protocol"));
}

TEST(Cli, CommandLineWinsOverTheFile) {
  TempFile f("[server]\nport = 7000\nhz = 20\n");
  Config c;
  ApplyCommandLine(Parse({f.path(), "--port", "7002"}), c);
  EXPECT_EQ(c.Int("server.port"), 7002);
  EXPECT_EQ(c.Int("server.hz"), 20);
}

TEST(Cli, HelpListsEverySetting) {
  Config c;
  std::string help = HelpText(c);
  for (auto& d : c.Describe()) EXPECT_THAT(help, HasSubstr(d.toml_address));
  EXPECT_THAT(help, HasSubstr("--section.key VALUE"));
  EXPECT_THAT(VersionText(), HasSubstr("ferrite-host "));
}

// --- CONFIG GET -------------------------------------------------------------------------

TEST(ConfigGet, GlobIsCaseInsensitiveAndSorted) {
  Config c;
  std::vector<std::string> names;
  for (auto& [n, v] : c.Get("MAX*")) names.push_back(n);
  EXPECT_THAT(names, ElementsAre("max-multibulk-len", "maxclients", "maxmemory",
                                 "maxmemory-clients", "maxmemory-policy", "maxmemory-samples"));
  EXPECT_THAT(c.Get("lfu-*"),
              ElementsAre(Pair("lfu-decay-time", "1"), Pair("lfu-log-factor", "10")));
  EXPECT_THAT(c.Get("appendf?ync"), ElementsAre(Pair("appendfsync", "everysec")));
  EXPECT_THAT(c.Get("rdb[cx]*"), ElementsAre(Pair("rdbchecksum", "yes"),
                                             Pair("rdbcompression", "yes")));
  EXPECT_THAT(c.Get("nosuch*"), IsEmpty());
  EXPECT_THAT(c.Get("nosuch"), IsEmpty());
}

TEST(ConfigGet, ExactNameEchoesTheClientsSpelling) {
  Config c;  // as redis 7.0 does: CONFIG GET MAXMEMORY -> "MAXMEMORY"
  EXPECT_THAT(c.Get("MAXMEMORY"), ElementsAre(Pair("MAXMEMORY", "0")));
  EXPECT_THAT(c.Get("save"), ElementsAre(Pair("save", "3600 1 300 100 60 10000")));
  EXPECT_THAT(c.Get("appendonly"), ElementsAre(Pair("appendonly", "no")));
  EXPECT_THAT(c.Get("lua-time-limit"), ElementsAre(Pair("lua-time-limit", "5000")));
  EXPECT_THAT(c.Get("client-output-buffer-limit"),
              ElementsAre(Pair("client-output-buffer-limit",
                               "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 "
                               "8388608 60")));
}

TEST(ConfigGet, StarListsAliasesAndTheCombinedBufferLimit) {
  Config c;
  std::map<std::string, std::string> all;
  for (auto& [n, v] : c.Get("*")) all[n] = v;
  EXPECT_EQ(all["busy-reply-threshold"], "5000");
  EXPECT_EQ(all["lua-time-limit"], "5000");
  EXPECT_TRUE(all.count("client-output-buffer-limit"));
  EXPECT_EQ(all["proto-max-bulk-len"], "536870912");
  EXPECT_EQ(all.count(""), 0u);  // settings with no Redis name stay hidden
  EXPECT_EQ(c.IntByRedisName("MAXCLIENTS"), 10000);
  EXPECT_EQ(c.IntByRedisName("requirepass"), std::nullopt);
  EXPECT_EQ(c.StringByRedisName("maxmemory-policy"), "noeviction");
}

// --- CONFIG SET -------------------------------------------------------------------------

TEST(ConfigSet, ErrorTextsMatchRedis) {
  Config c;
  EXPECT_EQ(SetErr(c, "foo", "bar"),
            "Unknown option or number of arguments for CONFIG SET - 'foo'");
  EXPECT_EQ(SetErr(c, "DATABASES", "3"),
            "CONFIG SET failed (possibly related to argument 'DATABASES') - can't set "
            "immutable config");
  EXPECT_EQ(SetErr(c, "HZ", "abc"),
            "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be "
            "parsed into an integer");
  EXPECT_EQ(SetErr(c, "hz", "010"),
            "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be "
            "parsed into an integer");
  EXPECT_EQ(SetErr(c, "timeout", "-1"),
            "CONFIG SET failed (possibly related to argument 'timeout') - argument must be "
            "between 0 and 2147483647 inclusive");
  EXPECT_EQ(SetErr(c, "maxclients", "0"),
            "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be "
            "between 1 and 4294967295 inclusive");
  EXPECT_EQ(SetErr(c, "proto-max-bulk-len", "1"),
            "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument "
            "must be between 1048576 and 9223372036854775807 inclusive");
  EXPECT_EQ(SetErr(c, "appendonly", "maybe"),
            "CONFIG SET failed (possibly related to argument 'appendonly') - argument must be "
            "'yes' or 'no'");
  EXPECT_EQ(SetErr(c, "maxmemory-policy", "bogus"),
            "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
            "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
            "noeviction");
  EXPECT_EQ(SetErr(c, "appendfsync", "bogus"),
            "CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) "
            "must be one of the following: everysec, always, no");
  EXPECT_EQ(SetErr(c, "save", "1 2 3"),
            "CONFIG SET failed (possibly related to argument 'save') - Invalid save "
            "parameters");
  EXPECT_EQ(SetErr(c, "save", "0 1"),
            "CONFIG SET failed (possibly related to argument 'save') - Invalid save "
            "parameters");
  EXPECT_EQ(SetErr(c, "notify-keyspace-events", "Q"),
            "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - "
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(SetErr(c, "Lua-Time-Limit", "x"),
            "CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument "
            "couldn't be parsed into an integer");
  EXPECT_EQ(SetErr(c, "dbfilename", "a/b"),
            "CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename "
            "can't be a path, just a filename");
  EXPECT_EQ(SetErr(c, "dir", "/no/such/ferrite/dir"),
            "CONFIG SET failed (possibly related to argument 'dir') - No such file or "
            "directory");
  EXPECT_EQ(SetErr(c, "dir", ::testing::TempDir()), "OK");
  // Nothing changed by any of the failures above.
  EXPECT_EQ(c.Int("server.hz"), 10);
  EXPECT_EQ(c.String("persistence.save"), "3600 1 300 100 60 10000");
}

TEST(ConfigSet, ValuesAreNormalisedLikeRedis) {
  Config c;
  EXPECT_EQ(SetErr(c, "notify-keyspace-events", "KEA"), "OK");
  EXPECT_EQ(GetOne(c, "notify-keyspace-events"), "AKE");
  EXPECT_EQ(SetErr(c, "notify-keyspace-events", "Kmn"), "OK");
  EXPECT_EQ(GetOne(c, "notify-keyspace-events"), "nKm");
  EXPECT_EQ(SetErr(c, "notify-keyspace-events", "An"), "OK");
  EXPECT_EQ(GetOne(c, "notify-keyspace-events"), "A");
  // ... yet `n` stays on (Redis keeps the flags, not the letters): the mask has it.
  EXPECT_EQ(c.Int("server.notify_keyspace_events") & 4096, 4096);  // FERRITE_NOTIFY_NEW
  EXPECT_EQ(SetErr(c, "notify-keyspace-events", "g$lshzxetd"), "OK");
  EXPECT_EQ(GetOne(c, "notify-keyspace-events"), "A");
  EXPECT_EQ(SetErr(c, "save", ""), "OK");
  EXPECT_EQ(GetOne(c, "save"), "");
  EXPECT_EQ(SetErr(c, "save", "100  2 50 3"), "OK");
  EXPECT_EQ(GetOne(c, "save"), "100 2 50 3");
  EXPECT_EQ(SetErr(c, "hz", "1000000"), "OK");
  EXPECT_EQ(GetOne(c, "hz"), "500");
  EXPECT_EQ(SetErr(c, "hz", "0"), "OK");
  EXPECT_EQ(GetOne(c, "hz"), "1");
  EXPECT_EQ(SetErr(c, "repl-backlog-size", "1"), "OK");
  EXPECT_EQ(GetOne(c, "repl-backlog-size"), "16384");
  EXPECT_EQ(SetErr(c, "appendonly", "YES"), "OK");
  EXPECT_EQ(GetOne(c, "appendonly"), "yes");
  EXPECT_EQ(SetErr(c, "appendonly", "false"), "OK");
  EXPECT_EQ(GetOne(c, "appendonly"), "no");
  EXPECT_EQ(SetErr(c, "MAXMEMORY-POLICY", "AllKeys-LRU"), "OK");
  EXPECT_EQ(GetOne(c, "maxmemory-policy"), "allkeys-lru");
  for (auto [redis, ours] : {std::pair{"verbose", "debug"}, {"notice", "info"},
                             {"warning", "warn"}, {"trace", "trace"}}) {
    EXPECT_EQ(SetErr(c, "loglevel", redis), "OK");
    EXPECT_EQ(c.String("logging.level"), ours);
  }
  EXPECT_EQ(SetErr(c, "lua-time-limit", "10"), "OK");
  EXPECT_EQ(GetOne(c, "busy-reply-threshold"), "10");
}

TEST(ConfigSet, ClientOutputBufferLimit) {
  Config c;
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "pubsub 1mb 2 3 replica 1 1 1"), "OK");
  EXPECT_EQ(GetOne(c, "client-output-buffer-limit"),
            "normal 0 0 0 slave 1 1 1 pubsub 1048576 2 3");
  EXPECT_EQ(c.Int("limits.pubsub_output_hard_limit"), 1048576);
  EXPECT_EQ(c.Int("limits.pubsub_output_soft_limit"), 2);
  EXPECT_EQ(c.Int("limits.pubsub_output_soft_seconds"), 3);
  const std::string prefix =
      "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ";
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "normal 1 2"),
            prefix + "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "master 1 1 1"),
            prefix + "Invalid client class specified in buffer limit configuration.");
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "pubsub 9 9 9 pubsub x 1 2"),
            prefix + "Error in hard, soft or soft_seconds setting in buffer limit "
                     "configuration.");
  EXPECT_EQ(c.Int("limits.pubsub_output_hard_limit"), 1048576);  // all or nothing
}

// Every class is kept in its own settings (the limits the host enforces), and a failed
// CONFIG SET restores them with the rest.
TEST(ConfigSet, ClientOutputBufferLimitClassesAndRollback) {
  Config c;
  EXPECT_EQ(GetOne(c, "client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "normal 4mb 1mb 5 replica 2mb 1mb 3"), "OK");
  EXPECT_EQ(c.Int("limits.normal_output_hard_limit"), 4 << 20);
  EXPECT_EQ(c.Int("limits.normal_output_soft_limit"), 1 << 20);
  EXPECT_EQ(c.Int("limits.normal_output_soft_seconds"), 5);
  EXPECT_EQ(c.Int("limits.replica_output_hard_limit"), 2 << 20);
  EXPECT_EQ(c.Int("limits.replica_output_soft_seconds"), 3);
  // A class named twice keeps its last values, as Redis applies them in order.
  EXPECT_EQ(SetErr(c, "client-output-buffer-limit", "normal 1 1 1 normal 7 8 9"), "OK");
  EXPECT_EQ(GetOne(c, "client-output-buffer-limit"),
            "normal 7 8 9 slave 2097152 1048576 3 pubsub 33554432 8388608 60");
  c.OnApply("port", std::make_shared<const Config::ApplyFn>([] {
    return std::optional<std::string>("Unable to listen");
  }));
  auto err = c.SetMany({{"client-output-buffer-limit", "normal 1 2 3"}, {"port", "7000"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(GetOne(c, "client-output-buffer-limit"),
            "normal 7 8 9 slave 2097152 1048576 3 pubsub 33554432 8388608 60");
}

// maxmemory-clients takes bytes or a percentage of maxmemory (Redis' PERCENT_CONFIG),
// with Redis' texts; a bad value in a multi-setting CONFIG SET changes nothing.
TEST(ConfigSet, MaxmemoryClientsBytesOrPercent) {
  Config c;
  EXPECT_EQ(GetOne(c, "maxmemory-clients"), "0");
  EXPECT_EQ(SetErr(c, "maxmemory-clients", "7%"), "OK");
  EXPECT_EQ(GetOne(c, "maxmemory-clients"), "7%");
  EXPECT_EQ(c.Int("storage.max_memory_clients"), -7);
  EXPECT_EQ(SetErr(c, "maxmemory-clients", "3mb"), "OK");
  EXPECT_EQ(GetOne(c, "maxmemory-clients"), "3145728");
  EXPECT_EQ(SetErr(c, "maxmemory-clients", "100%"), "OK");
  const std::string prefix = "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - ";
  EXPECT_EQ(SetErr(c, "maxmemory-clients", "101%"),
            prefix + "percentage argument must be less or equal to 100");
  for (const char* bad : {"-1%", "%", "x%", "1.5%", "-5", "abc"})
    EXPECT_EQ(SetErr(c, "maxmemory-clients", bad),
              prefix + "argument must be a memory or percent value") << bad;
  EXPECT_EQ(SetErr(c, "maxmemory", "10000002"), "OK");
  auto err = c.SetMany({{"maxmemory", "10000001"}, {"maxmemory-clients", "200%"},
                        {"client-query-buffer-limit", "invalid"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, prefix + "percentage argument must be less or equal to 100");
  EXPECT_EQ(GetOne(c, "maxmemory"), "10000002");
  EXPECT_EQ(GetOne(c, "maxmemory-clients"), "100%");
}

TEST(ConfigSet, OnChangeRunsOnlyOnSuccess) {
  Config c;
  int hz_calls = 0, lua_calls = 0, cobl_calls = 0;
  int64_t seen = 0;
  c.OnChange("hz", [&] {
    ++hz_calls;
    seen = c.Int("server.hz");  // callbacks may read the config (no lock held)
  });
  c.OnChange("busy-reply-threshold", [&] { ++lua_calls; });
  c.OnChange("client-output-buffer-limit", [&] { ++cobl_calls; });
  EXPECT_NE(SetErr(c, "hz", "x"), "OK");
  EXPECT_EQ(hz_calls, 0);
  ASSERT_EQ(SetErr(c, "HZ", "33"), "OK");
  EXPECT_EQ(hz_calls, 1);
  EXPECT_EQ(seen, 33);
  ASSERT_EQ(SetErr(c, "lua-time-limit", "7"), "OK");  // the alias reaches the callback
  EXPECT_EQ(lua_calls, 1);
  ASSERT_EQ(SetErr(c, "client-output-buffer-limit", "pubsub 1 1 1"), "OK");
  EXPECT_EQ(cobl_calls, 1);
}

// --- module options ---------------------------------------------------------------------

// CONFIG SET a b c d: all or nothing, as Redis 7 (configSetCommand).
TEST(ConfigSet, SeveralPairsAreAllOrNothing) {
  Config c;
  auto err = c.SetMany({{"hz", "20"}, {"maxmemory-samples", "0"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "CONFIG SET failed (possibly related to argument 'maxmemory-samples') - "
                  "argument must be between 1 and 2147483647 inclusive");
  EXPECT_EQ(c.Int("server.hz"), 10);  // the first one did not stay
  err = c.SetMany({{"hz", "20"}, {"HZ", "30"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter");
  EXPECT_FALSE(c.SetMany({{"hz", "20"}, {"maxmemory-samples", "7"}}));
  EXPECT_EQ(c.Int("server.hz"), 20);
  EXPECT_EQ(c.Int("storage.maxmemory_samples"), 7);
}

// An apply function shared by two settings runs once; when it fails every value of the
// CONFIG SET is restored and the apply functions run again with the old values.
TEST(ConfigSet, ApplyFunctionsRunOnceAndRollBack) {
  Config c;
  int tls_runs = 0, port_runs = 0;
  std::vector<std::string> seen_certs;
  auto tls = std::make_shared<const Config::ApplyFn>([&]() -> std::optional<std::string> {
    ++tls_runs;
    seen_certs.push_back(c.String("tls.cert_file"));
    if (c.String("tls.cert_file") == "bad") return std::string("Unable to update");
    return std::nullopt;
  });
  c.OnApply("tls-cert-file", tls);
  c.OnApply("tls-key-file", tls);
  c.OnApply("tls-port", std::make_shared<const Config::ApplyFn>([&] {
    ++port_runs;
    return std::optional<std::string>();
  }));
  int changed = 0;
  c.OnChange("tls-cert-file", [&] { ++changed; });
  EXPECT_FALSE(c.SetMany({{"tls-cert-file", "a.crt"}, {"tls-key-file", "a.key"}}));
  EXPECT_EQ(tls_runs, 1);
  EXPECT_EQ(changed, 1);
  auto err = c.SetMany({{"tls-port", "7000"}, {"tls-key-file", "b.key"},
                        {"tls-cert-file", "bad"}});
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "CONFIG SET failed (possibly related to argument 'tls-key-file') - "
                  "Unable to update");
  EXPECT_EQ(c.Int("tls.port"), 0);
  EXPECT_EQ(c.String("tls.key_file"), "a.key");
  EXPECT_EQ(c.String("tls.cert_file"), "a.crt");
  EXPECT_EQ(seen_certs.back(), "a.crt");  // re-applied with the restored values
  EXPECT_EQ(port_runs, 2);                // set to 7000, then back to 0
  EXPECT_EQ(changed, 1);                  // no on-change for a failed CONFIG SET
}

TEST(ConfigModules, PendingValueAppliedAtRegistration) {
  TempFile f("[modules.lists]\nlist-max-listpack-size = -5\n[modules.sets]\nset_max = 9\n");
  Config c;
  c.LoadFile(f.path());
  EXPECT_THAT(c.UnclaimedModuleOptions(),
              ElementsAre(f.path() + ":2: modules.lists.list_max_listpack_size",
                          f.path() + ":4: modules.sets.set_max"));
  int64_t storage = 0;
  c.RegisterModuleInt("lists", "list-max-listpack-size", -2, -5, 1 << 20, &storage);
  EXPECT_EQ(storage, -5);
  EXPECT_THAT(c.UnclaimedModuleOptions(), ElementsAre(f.path() + ":4: modules.sets.set_max"));
  EXPECT_EQ(GetOne(c, "list-max-listpack-size"), "-5");
  EXPECT_EQ(SetErr(c, "list-max-listpack-size", "12"), "OK");
  EXPECT_EQ(storage, 12);
  EXPECT_EQ(SetErr(c, "list-max-listpack-size", "-6"),
            "CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - "
            "argument must be between -5 and 1048576 inclusive");
  EXPECT_EQ(storage, 12);
}

TEST(ConfigModules, DefaultWithoutValueAndOverride) {
  Config c;
  int64_t a = 0, b = 0;
  c.Override("modules.hashes.hash-max-listpack-entries", "64");
  c.RegisterModuleInt("hashes", "hash-max-listpack-entries", 128, 0, 1 << 20, &a);
  c.RegisterModuleInt("hashes", "hash-max-listpack-value", 64, 0, 1 << 20, &b);
  EXPECT_EQ(a, 64);
  EXPECT_EQ(b, 64);
  EXPECT_EQ(c.Int("modules.hashes.hash_max_listpack_value"), 64);
  c.Override("modules.hashes.hash_max_listpack_value", "65");  // after registration
  EXPECT_EQ(b, 65);
  EXPECT_THAT(c.UnclaimedModuleOptions(), IsEmpty());
}

TEST(ConfigModules, BadPendingValueNamesFileAndLine) {
  TempFile f("[server]\nport = 1\n[modules.zsets]\nzset_max = 100\n");
  Config c;
  c.LoadFile(f.path());
  int64_t v = 0;
  try {
    c.RegisterModuleInt("zsets", "zset-max", 1, 0, 10, &v);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              f.path() + ":4: modules.zsets.zset_max: argument must be between 0 and 10 inclusive");
  }
}

TEST(ConfigModules, DuplicateAndUnregister) {
  Config c;
  int64_t v = 0;
  EXPECT_THROW(c.RegisterModuleInt("x", "maxmemory", 0, 0, 1, &v), ConfigError);
  c.RegisterModuleInt("x", "x-opt", 3, 0, 10, &v);
  EXPECT_THROW(c.RegisterModuleInt("y", "x-opt", 3, 0, 10, &v), ConfigError);
  EXPECT_EQ(GetOne(c, "x-opt"), "3");
  c.UnregisterModule("x");
  EXPECT_THAT(c.Get("x-opt"), IsEmpty());
  EXPECT_EQ(SetErr(c, "x-opt", "1"), "Unknown option or number of arguments for CONFIG SET - 'x-opt'");
  c.RegisterModuleInt("x", "x-opt", 4, 0, 10, &v);  // can be loaded again
  EXPECT_EQ(v, 4);
}

// --- CONFIG REWRITE ---------------------------------------------------------------------

TEST(ConfigRewrite, WithoutAFile) {
  Config c;
  EXPECT_EQ(c.Rewrite(), "The server is running without a config file");
}

TEST(ConfigRewrite, RoundTripKeepsCommentsAndUnits) {
  TempFile f(
      "# my server\n[server]\nport = 7000  # the port\nhz = 10\n\n[storage]\n"
      "max_memory = \"1gb\"\n\n[modules.lists]\nlist-max-listpack-size = 8\n");
  Config c;
  c.LoadFile(f.path());
  int64_t opt = 0;
  c.RegisterModuleInt("lists", "list-max-listpack-size", -2, -5, 100, &opt);
  ASSERT_EQ(SetErr(c, "hz", "50"), "OK");
  ASSERT_EQ(SetErr(c, "maxmemory-policy", "allkeys-lfu"), "OK");  // not in the file
  ASSERT_EQ(SetErr(c, "appendonly", "yes"), "OK");                // no [persistence] yet
  ASSERT_EQ(SetErr(c, "list-max-listpack-size", "9"), "OK");
  ASSERT_EQ(c.Rewrite(), std::nullopt);
  std::string text = f.Read();
  EXPECT_THAT(text, HasSubstr("# my server\n[server]\nport = 7000  # the port\nhz = 50\n"));
  EXPECT_THAT(text, HasSubstr("max_memory = \"1gb\"\neviction_policy = \"allkeys-lfu\"\n"));
  EXPECT_THAT(text, HasSubstr("\n[persistence]\naof_enabled = true\n"));
  EXPECT_THAT(text, HasSubstr("list-max-listpack-size = 9"));

  Config d;
  d.LoadFile(f.path());
  int64_t opt2 = 0;
  d.RegisterModuleInt("lists", "list-max-listpack-size", -2, -5, 100, &opt2);
  EXPECT_EQ(d.Get("*"), c.Get("*"));
  EXPECT_EQ(opt2, 9);
  // A second rewrite with nothing changed leaves the file byte for byte.
  ASSERT_EQ(c.Rewrite(), std::nullopt);
  EXPECT_EQ(f.Read(), text);
}

// --- packaging/ferrite.toml -------------------------------------------------------------

TEST(PackagedConfig, ParsesAndEqualsTheDefaults) {
  Config shipped, defaults;
  shipped.LoadFile(FERRITE_DEFAULT_TOML);
  EXPECT_EQ(shipped.Get("*"), defaults.Get("*"));
  EXPECT_EQ(shipped.StringList("modules.load"), defaults.StringList("modules.load"));
  EXPECT_EQ(shipped.StringList("modules.path"), defaults.StringList("modules.path"));
  // Every setting appears in the file, so the file documents them all.
  std::ifstream in(FERRITE_DEFAULT_TOML);
  std::stringstream text;
  text << in.rdbuf();
  for (auto& d : defaults.Describe()) {
    std::string key = d.toml_address.substr(d.toml_address.find('.') + 1);
    EXPECT_THAT(text.str(), HasSubstr("\n" + key + " = " + d.default_value + "\n"))
        << d.toml_address;
  }
}

// --- logging ----------------------------------------------------------------------------

TEST(Logging, LevelsAndSharedLoggers) {
  EXPECT_EQ(Logger("host.test").get(), Logger("host.test").get());
  EXPECT_TRUE(SetLogLevel("warning"));
  EXPECT_EQ(Logger("host.test")->level(), spdlog::level::warn);
  EXPECT_EQ(Logger("module.new")->level(), spdlog::level::warn);  // new ones too
  EXPECT_TRUE(SetLogLevel("verbose"));
  EXPECT_EQ(Logger("host.test")->level(), spdlog::level::debug);
  EXPECT_FALSE(SetLogLevel("loud"));
  EXPECT_EQ(Logger("host.test")->level(), spdlog::level::debug);
  EXPECT_TRUE(SetLogLevel("info"));
}

TEST(Logging, FileSinkAndConfigSetLoglevel) {
  TempFile log("", "ferrite.log");
  Config c;
  c.Override("logging.file", log.path());
  SetupLogging(c);
  Logger("module.lists")->info("hello {}", 42);
  Logger("module.lists")->debug("hidden at info");
  ASSERT_EQ(SetErr(c, "loglevel", "debug"), "OK");
  Logger("module.lists")->debug("shown at debug");
  std::string text = log.Read();
  EXPECT_THAT(text, HasSubstr("[module.lists] hello 42"));
  EXPECT_THAT(text, HasSubstr("info"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("hidden at info")));
  EXPECT_THAT(text, HasSubstr("shown at debug"));
  Config back;
  SetupLogging(static_cast<const Config&>(back));  // back to stderr at info
}

TEST(Logging, UnwritableFileIsAConfigError) {
  TempFile not_a_dir("x");
  for (std::string bad : {not_a_dir.path() + "/ferrite.log",  // parent is a file
                          ::testing::TempDir() + "ferrite-no-such-dir/ferrite.log"}) {
    Config c;
    c.Override("logging.file", bad);
    EXPECT_THROW(SetupLogging(static_cast<const Config&>(c)), ConfigError) << bad;
  }
  EXPECT_FALSE(std::ifstream(::testing::TempDir() + "ferrite-no-such-dir").good());
}

}  // namespace
}  // namespace ferrite::host
