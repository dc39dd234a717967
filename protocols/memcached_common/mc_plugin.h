// Plugin glue shared by the memcached text and binary plugins: a connection is a
// HostBackend plus a Session that parses its bytes; the two plugins differ only in the
// Session type, their name and which first byte they claim.
#pragma once

#include "ferrite/module.hpp"
#include "mc_common.h"

namespace ferrite::proto::mc {

template <class Session>
struct McConn {
  explicit McConn(ferrite_conn* c) : backend(&sdk::Api(), c), session(backend) {}
  HostBackend backend;
  Session session;
  // Bulks still to write of the push being sent (LateSink): only a push's elements are
  // log lines; a blocked request's re-run reply also arrives here and is dropped (the
  // session reads the request again and answers it itself).
  size_t push_left = 0;
};

// What arrives out of band on a memcached connection: the `watch` log, which the strings
// module pushes one line a bulk (conn_push), written as it is; and the reply of a
// blocked request's re-run (a key being warmed, a client pause), dropped: the session
// reads that request again and answers it. Only the bulks of a push are written.
template <class Conn>
const ferrite_reply_sink* LateSink() {
  static const ferrite_reply_sink sink = {
      sizeof(ferrite_reply_sink),
      [](void*, const char*, size_t) {},
      [](void*, ferrite_error_code, const char*, size_t) {},
      [](void*, int64_t) {},
      [](void*, double) {},
      [](void* st, const char* s, size_t len) {
        auto* c = static_cast<Conn*>(st);
        if (c->push_left == 0) return;
        c->push_left--;
        c->backend.Write({s, len});
      },
      [](void*) {},
      [](void*) {},
      [](void* st, size_t) { static_cast<Conn*>(st)->push_left = 0; },
      [](void* st, size_t) { static_cast<Conn*>(st)->push_left = 0; },
      [](void* st, size_t) { static_cast<Conn*>(st)->push_left = 0; },
      [](void* st, size_t n) { static_cast<Conn*>(st)->push_left = n; },
      [](void*, int) {},
      [](void*, const char*, const char*, size_t) {},
      [](void*, const char*, size_t) {},
      [](void*, size_t) {},
      nullptr};
  return &sink;
}

// Registers `name` on the "memcached" listener, claiming first bytes where sniff is 1.
template <class Session>
int RegisterMcProtocol(ferrite_plugin* p, const char* name, int (*sniff)(uint8_t)) {
  using Conn = McConn<Session>;
  static const ferrite_protocol_desc desc = {
      sizeof(ferrite_protocol_desc),
      name,
      "memcached",
      sniff,
      [](void*, ferrite_conn* c) -> void* { return new Conn(c); },
      [](void* st) { delete static_cast<Conn*>(st); },
      [](void* st, const uint8_t* data, size_t len) {
        return static_cast<Conn*>(st)->session.OnBytes(data, len);
      },
      LateSink<Conn>()};
  return sdk::Api().register_protocol(p, &desc, nullptr);
}

}  // namespace ferrite::proto::mc
