// Loads the real resp.so against a small fake host table: checks the glue (execute
// loop, stop on blocked/close, protocol-error close, limits from config_int, RESP
// version switching, auth limits) without needing the real host.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "ferrite/module.h"

// The SDK leaves ferrite_conn opaque; this fake host defines it.
struct ferrite_conn {
  std::string out;
  size_t reserve_base = 0;
  int close_mode = 0;
  int resp = 2;
  bool needs_auth = false;
  std::vector<std::vector<std::string>> executed;
};

namespace {

std::map<std::string, int64_t> g_config;
const ferrite_protocol_desc* g_proto = nullptr;

int RegisterProtocol(ferrite_plugin*, const ferrite_protocol_desc* d, void*) {
  g_proto = d;
  return FERRITE_OK;
}

// Commands of the fake host: enough shapes to drive every path of the plugin.
ferrite_exec_result Execute(ferrite_conn* c, int argc, const ferrite_slice* argv,
                            const ferrite_reply_sink* sink, void* st) {
  std::vector<std::string> a;
  for (int i = 0; i < argc; i++) a.emplace_back(argv[i].ptr, argv[i].len);
  c->executed.push_back(a);
  const std::string& name = a[0];
  if (name == "HELLO") {
    c->resp = std::stoi(a[1]);
    sink->map(st, 1);
    sink->bulk(st, "proto", 5);
    sink->integer(st, c->resp);
  } else if (name == "AUTH") {
    c->needs_auth = false;
    sink->simple(st, "OK", 2);
  } else if (name == "NULL") {
    sink->null(st);
  } else if (name == "DBL") {
    sink->dbl(st, 1.5);
  } else if (name == "ARITY") {
    sink->error(st, FERRITE_E_ARITY, "echo", 4);
  } else if (name == "BLOCK") {
    return FERRITE_EXEC_BLOCKED;
  } else if (name == "QUIT") {
    sink->simple(st, "OK", 2);
    return FERRITE_EXEC_CLOSE;
  } else if (name == "ECHO") {
    sink->bulk(st, a[1].data(), a[1].size());
  } else {
    sink->simple(st, "PONG", 4);
  }
  return FERRITE_EXEC_DONE;
}

char* ConnReserve(ferrite_conn* c, size_t n) {
  c->reserve_base = c->out.size();
  c->out.resize(c->reserve_base + n);
  return c->out.data() + c->reserve_base;
}
void ConnCommit(ferrite_conn* c, size_t used) { c->out.resize(c->reserve_base + used); }
void ConnWrite(ferrite_conn* c, const char* d, size_t n) { c->out.append(d, n); }
void ConnClose(ferrite_conn* c, int how) { c->close_mode = how; }
int ConnResp(ferrite_conn* c) { return c->resp; }
int ConnNeedsAuth(ferrite_conn* c) { return c->needs_auth; }
int64_t ConfigInt(const char* name) {
  auto it = g_config.find(name);
  return it == g_config.end() ? -1 : it->second;
}
void Log(ferrite_plugin*, ferrite_log_level, const char*, size_t) {}

class RespPlugin : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    api_.struct_size = sizeof(api_);
    api_.abi_major = FERRITE_ABI_MAJOR;
    api_.abi_minor = FERRITE_ABI_MINOR;
    api_.register_protocol = RegisterProtocol;
    api_.execute = Execute;
    api_.conn_reserve = ConnReserve;
    api_.conn_commit = ConnCommit;
    api_.conn_write = ConnWrite;
    api_.conn_close = ConnClose;
    api_.conn_resp = ConnResp;
    api_.conn_needs_auth = ConnNeedsAuth;
    api_.config_int = ConfigInt;
    api_.log = Log;
    handle_ = dlopen(RESP_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    auto load = reinterpret_cast<ferrite_load_fn>(dlsym(handle_, "ferrite_plugin_load"));
    ASSERT_NE(load, nullptr);
    ASSERT_EQ(load(&api_, nullptr), FERRITE_OK);
    ASSERT_NE(g_proto, nullptr);
  }

  void SetUp() override {
    g_config.clear();
    state_ = g_proto->conn_open(nullptr, &conn_);
  }
  void TearDown() override { g_proto->conn_close(state_); }

  size_t Feed(const std::string& s) {
    return g_proto->on_bytes(state_, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }

  static inline ferrite_host_api api_{};
  static inline void* handle_ = nullptr;
  ferrite_conn conn_;
  void* state_ = nullptr;
};

TEST_F(RespPlugin, Describes) {
  EXPECT_STREQ(g_proto->name, "resp");
  EXPECT_STREQ(g_proto->listener, "main");
  EXPECT_EQ(g_proto->sniff('*'), 1);
  EXPECT_EQ(g_proto->sniff(0x80), 1);
  auto describe =
      reinterpret_cast<ferrite_describe_fn>(dlsym(handle_, "ferrite_plugin_describe"));
  ASSERT_NE(describe, nullptr);
  EXPECT_STREQ(describe()->name, "resp");
  EXPECT_EQ(dlsym(handle_, "_ZN7ferrite5proto4resp13RequestParser5ParseEPKcmRKNS1_6LimitsEPm"),
            nullptr);  // the codec stays hidden
}

TEST_F(RespPlugin, PipelineRunsInOrder) {
  std::string in;
  for (int i = 0; i < 10000; i++) in += i % 2 ? "PING\r\n" : "*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n";
  EXPECT_EQ(Feed(in), in.size());
  EXPECT_EQ(conn_.executed.size(), 10000u);
  std::string want;
  for (int i = 0; i < 10000; i++) want += i % 2 ? "+PONG\r\n" : "$1\r\nx\r\n";
  EXPECT_EQ(conn_.out, want);
}

TEST_F(RespPlugin, PartialRequestStaysUnconsumed) {
  std::string in = "PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhel";
  EXPECT_EQ(Feed(in), 6u);
  in = in.substr(6) + "lo\r\n";
  EXPECT_EQ(Feed(in), in.size());
  EXPECT_EQ(conn_.out, "+PONG\r\n$5\r\nhello\r\n");
}

TEST_F(RespPlugin, ProtocolErrorRepliesThenClosesAfterReply) {
  std::string in = "PING\r\n*1\r\nx\r\nPING\r\n";
  EXPECT_EQ(Feed(in), in.size());
  EXPECT_EQ(conn_.out, "+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n");
  EXPECT_EQ(conn_.close_mode, FERRITE_CONN_CLOSE_AFTER_REPLY);
  EXPECT_EQ(Feed("PING\r\n"), 6u);  // ignored from now on
  EXPECT_EQ(conn_.executed.size(), 1u);
}

TEST_F(RespPlugin, BlockedAndCloseStopConsuming) {
  std::string in = "PING\r\nBLOCK\r\nPING\r\n";
  EXPECT_EQ(Feed(in), 13u);
  EXPECT_EQ(conn_.executed.size(), 2u);
  EXPECT_EQ(Feed("QUIT\r\nPING\r\n"), 6u);
  EXPECT_EQ(conn_.executed.size(), 3u);
}

TEST_F(RespPlugin, HelloSwitchesEncodingMidStream) {
  Feed("NULL\r\nDBL\r\nHELLO 3\r\nNULL\r\nDBL\r\nHELLO 2\r\nNULL\r\n");
  EXPECT_EQ(conn_.out,
            "$-1\r\n$3\r\n1.5\r\n%1\r\n$5\r\nproto\r\n:3\r\n_\r\n,1.5\r\n"
            "*2\r\n$5\r\nproto\r\n:2\r\n$-1\r\n");
}

TEST_F(RespPlugin, ErrorCodesRenderRedisText) {
  Feed("ARITY\r\n");
  EXPECT_EQ(conn_.out, "-ERR wrong number of arguments for 'echo' command\r\n");
  EXPECT_EQ(conn_.close_mode, 0);
}

TEST_F(RespPlugin, UnauthenticatedLimitsLiftAfterAuth) {
  conn_.needs_auth = true;
  std::string in = "AUTH pw\r\n*11\r\n";
  for (int i = 0; i < 11; i++) in += "$1\r\na\r\n";
  EXPECT_EQ(Feed(in), in.size());
  EXPECT_EQ(conn_.out, "+OK\r\n+PONG\r\n");
  conn_.needs_auth = true;
  Feed("*11\r\n");
  EXPECT_EQ(conn_.out, "+OK\r\n+PONG\r\n-ERR Protocol error: unauthenticated multibulk length\r\n");
}

TEST_F(RespPlugin, LimitsComeFromConfig) {
  g_config["proto-max-bulk-len"] = 10;
  Feed("*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n*2\r\n$4\r\nECHO\r\n$11\r\n");
  EXPECT_EQ(conn_.out, "$10\r\n0123456789\r\n-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(RespPlugin, InlineLimitFromConfig) {
  g_config["proto-inline-max-size"] = 8;
  Feed("PING\r\nECHO 123456789\r\n");
  EXPECT_EQ(conn_.out, "+PONG\r\n-ERR Protocol error: too big inline request\r\n");
}

TEST_F(RespPlugin, QueryBufferLimitClosesWithoutReply) {
  g_config["client-query-buffer-limit"] = 16;
  std::string in = "*2\r\n$4\r\nECHO\r\n$100\r\n";
  EXPECT_EQ(Feed(in), in.size());
  EXPECT_EQ(conn_.out, "");
  EXPECT_EQ(conn_.close_mode, FERRITE_CONN_CLOSE_NOW);
}

TEST_F(RespPlugin, LateRepliesUseTheConnectionSink) {
  conn_.resp = 3;
  g_proto->sink->push(state_, 2);
  g_proto->sink->bulk(state_, "message", 7);
  g_proto->sink->boolean(state_, 1);
  EXPECT_EQ(conn_.out, ">2\r\n$7\r\nmessage\r\n#t\r\n");
}

}  // namespace
