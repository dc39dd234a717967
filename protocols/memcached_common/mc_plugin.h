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
};

// memcached commands never block or subscribe, so nothing arrives out of band; the
// late-reply encoder only has to exist.
inline const ferrite_reply_sink* NullLateSink() {
  static const ferrite_reply_sink sink = {
      sizeof(ferrite_reply_sink),
      [](void*, const char*, size_t) {},
      [](void*, ferrite_error_code, const char*, size_t) {},
      [](void*, int64_t) {},
      [](void*, double) {},
      [](void*, const char*, size_t) {},
      [](void*) {},
      [](void*) {},
      [](void*, size_t) {},
      [](void*, size_t) {},
      [](void*, size_t) {},
      [](void*, size_t) {},
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
      NullLateSink()};
  return sdk::Api().register_protocol(p, &desc, nullptr);
}

}  // namespace ferrite::proto::mc
