// The "resp" protocol plugin: frames Redis requests on the main listener, runs each
// through the host, and encodes the reply tokens straight into the connection's
// output buffer. All protocol rules live in RequestParser and Encoder; this file only
// wires them to the host API.
#include <cstdint>
#include <exception>
#include <new>

#include "ferrite/module.h"
#include "ferrite/module.hpp"
#include "resp_encoder.h"
#include "resp_parser.h"

namespace ferrite::proto::resp {
namespace {

using ferrite::sdk::Api;

constexpr int64_t kDefaultQueryBufferLimit = 1024LL * 1024 * 1024;  // Redis: 1gb

class ConnOutput final : public Output {
 public:
  explicit ConnOutput(ferrite_conn* conn) : conn_(conn) {}
  char* Reserve(size_t n) override {
    char* p = Api().conn_reserve(conn_, n);
    // NOTE: a dropped token would desynchronise the client; stop talking instead.
    if (!p) Api().conn_close(conn_, FERRITE_CONN_CLOSE_NOW);
    return p;
  }
  void Commit(size_t used) override { Api().conn_commit(conn_, used); }

 private:
  ferrite_conn* conn_;
};

struct Connection {
  explicit Connection(ferrite_conn* c) : conn(c), out(c), encoder(&out) {}

  // The RESP version is read for every token: HELLO changes it mid-stream, and the
  // HELLO reply itself must already use the new version.
  Encoder& Enc() {
    encoder.SetResp(Api().conn_resp(conn));
    return encoder;
  }

  ferrite_conn* conn;
  ConnOutput out;
  Encoder encoder;
  RequestParser parser;
  bool closing = false;  // a protocol error was answered; ignore further input
};

Connection* C(void* st) { return static_cast<Connection*>(st); }

// No exception may cross back into the host: an encoder failure (allocation) leaves
// the output in an unknown state, so the connection is dropped.
template <class Fn>
void Guard(void* st, Fn&& fn) noexcept {
  try {
    fn(C(st)->Enc());
  } catch (...) {
    Api().conn_close(C(st)->conn, FERRITE_CONN_CLOSE_NOW);
  }
}

void SinkSimple(void* st, const char* s, size_t n) {
  Guard(st, [&](Encoder& e) { e.Simple({s, n}); });
}
void SinkError(void* st, ferrite_error_code code, const char* detail, size_t n) {
  Guard(st, [&](Encoder& e) { e.Error(code, detail, n); });
}
void SinkInteger(void* st, int64_t v) {
  Guard(st, [&](Encoder& e) { e.Integer(v); });
}
void SinkDouble(void* st, double v) {
  Guard(st, [&](Encoder& e) { e.Double(v); });
}
void SinkBulk(void* st, const char* s, size_t n) {
  Guard(st, [&](Encoder& e) { e.Bulk(s, n); });
}
void SinkNull(void* st) {
  Guard(st, [&](Encoder& e) { e.Null(); });
}
void SinkNullArray(void* st) {
  Guard(st, [&](Encoder& e) { e.NullArray(); });
}
void SinkArray(void* st, size_t n) {
  Guard(st, [&](Encoder& e) { e.Array(n); });
}
void SinkMap(void* st, size_t n) {
  Guard(st, [&](Encoder& e) { e.Map(n); });
}
void SinkSet(void* st, size_t n) {
  Guard(st, [&](Encoder& e) { e.Set(n); });
}
void SinkPush(void* st, size_t n) {
  Guard(st, [&](Encoder& e) { e.Push(n); });
}
void SinkBool(void* st, int v) {
  Guard(st, [&](Encoder& e) { e.Bool(v != 0); });
}
void SinkVerbatim(void* st, const char* fmt3, const char* s, size_t n) {
  Guard(st, [&](Encoder& e) { e.Verbatim(fmt3, s, n); });
}
void SinkBignum(void* st, const char* s, size_t n) {
  Guard(st, [&](Encoder& e) { e.Bignum(s, n); });
}
void SinkAttribute(void* st, size_t n) {
  Guard(st, [&](Encoder& e) { e.Attribute(n); });
}
void SinkDoubleText(void* st, const char* s, size_t n) {
  Guard(st, [&](Encoder& e) { e.DoubleText(s, n); });
}

const ferrite_reply_sink kSink = {
    sizeof(ferrite_reply_sink), SinkSimple, SinkError,     SinkInteger,  SinkDouble,
    SinkBulk,                   SinkNull,   SinkNullArray, SinkArray,    SinkMap,
    SinkSet,                    SinkPush,   SinkBool,      SinkVerbatim, SinkBignum,
    SinkAttribute,              SinkDoubleText,
};

int64_t ConfigOr(const char* name, int64_t fallback) {
  int64_t v = Api().config_int(name);
  return v > 0 ? v : fallback;
}

Limits ReadLimits(ferrite_conn* conn) {
  Limits l;
  l.max_bulk_len = ConfigOr("proto-max-bulk-len", l.max_bulk_len);
  l.max_multibulk_len = ConfigOr("max-multibulk-len", l.max_multibulk_len);
  l.inline_max = static_cast<size_t>(ConfigOr("proto-inline-max-size",
                                              static_cast<int64_t>(l.inline_max)));
  l.unauthenticated = Api().conn_needs_auth(conn) != 0;
  return l;
}

// Answers a protocol error the way Redis does: the error, then close once it is sent.
void ProtocolFailure(Connection* c) {
  c->Enc().ErrorText(c->parser.ErrorText());
  Api().conn_close(c->conn, FERRITE_CONN_CLOSE_AFTER_REPLY);
  c->closing = true;
}

size_t Consume(Connection* c, const char* data, size_t len) {
  if (c->closing) return len;
  if (static_cast<int64_t>(len) > ConfigOr("client-query-buffer-limit",
                                           kDefaultQueryBufferLimit)) {
    // Redis frees such a client without a reply.
    Api().conn_close(c->conn, FERRITE_CONN_CLOSE_NOW);
    c->closing = true;
    return len;
  }
  Limits limits = ReadLimits(c->conn);
  size_t pos = 0;
  while (pos < len) {
    size_t used = 0;
    switch (c->parser.Parse(data + pos, len - pos, limits, &used)) {
      case ParseStatus::kIncomplete: return pos;
      case ParseStatus::kEmpty: pos += used; break;
      case ParseStatus::kError: ProtocolFailure(c); return len;
      case ParseStatus::kCommand: {
        pos += used;
        ferrite_exec_result r =
            Api().execute(c->conn, c->parser.Argc(), c->parser.Argv(), &kSink, c);
        if (r != FERRITE_EXEC_DONE) return pos;
        // AUTH may have just succeeded (or the user been reset).
        limits.unauthenticated = Api().conn_needs_auth(c->conn) != 0;
        break;
      }
    }
  }
  return pos;
}

size_t OnBytes(void* st, const uint8_t* data, size_t len) {
  auto* c = C(st);
  try {
    return Consume(c, reinterpret_cast<const char*>(data), len);
  } catch (...) {
    Api().conn_close(c->conn, FERRITE_CONN_CLOSE_NOW);
    c->closing = true;
    return len;
  }
}

int Sniff(uint8_t) { return 1; }  // RESP takes whatever the main listener receives

void* ConnOpen(void*, ferrite_conn* conn) {
  return new (std::nothrow) Connection(conn);
}

void ConnClose(void* st) { delete C(st); }

const ferrite_protocol_desc kProtocol = {
    sizeof(ferrite_protocol_desc), "resp", "main", Sniff, ConnOpen, ConnClose, OnBytes, &kSink,
};

int Load(ferrite_plugin* p) {
  return Api().register_protocol(p, &kProtocol, nullptr);
}

void Unload(ferrite_plugin*) {}

}  // namespace
}  // namespace ferrite::proto::resp

FERRITE_DEFINE_PLUGIN("resp", 1, ferrite::proto::resp::Load, ferrite::proto::resp::Unload)
