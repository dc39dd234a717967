// Plugin glue for the memcached text protocol: claims every first byte but 0x80 on the
// "memcached" listener and feeds each connection's bytes to a TextSession.
#include "ferrite/module.hpp"
#include "mc_common.h"
#include "mc_text.h"

namespace ferrite::proto::mc {
namespace {

struct TextConn {
  explicit TextConn(ferrite_conn* c) : backend(&sdk::Api(), c), session(backend) {}
  HostBackend backend;
  TextSession session;
};

int Sniff(uint8_t first) { return first != 0x80; }
void* ConnOpen(void*, ferrite_conn* c) { return new TextConn(c); }
void ConnClose(void* st) { delete static_cast<TextConn*>(st); }
size_t OnBytes(void* st, const uint8_t* data, size_t len) {
  return static_cast<TextConn*>(st)->session.OnBytes(data, len);
}

// memcached commands never block or subscribe, so nothing arrives out of band; the
// late-reply encoder only has to exist.
void Ignore(void*) {}
void IgnoreN(void*, size_t) {}
void IgnoreS(void*, const char*, size_t) {}
const ferrite_reply_sink kLateSink = {
    sizeof(ferrite_reply_sink),
    IgnoreS,
    [](void*, ferrite_error_code, const char*, size_t) {},
    [](void*, int64_t) {},
    [](void*, double) {},
    IgnoreS,
    Ignore,
    Ignore,
    IgnoreN,
    IgnoreN,
    IgnoreN,
    IgnoreN,
    [](void*, int) {},
    [](void*, const char*, const char*, size_t) {},
    IgnoreS,
    IgnoreN};

int Load(ferrite_plugin* p) {
  static const ferrite_protocol_desc desc = {sizeof(ferrite_protocol_desc), "memcached_text",
                                             "memcached", Sniff, ConnOpen, ConnClose, OnBytes,
                                             &kLateSink};
  return sdk::Api().register_protocol(p, &desc, nullptr);
}
void Unload(ferrite_plugin*) {}

}  // namespace
}  // namespace ferrite::proto::mc

FERRITE_DEFINE_PLUGIN("memcached_text", 1, ferrite::proto::mc::Load, ferrite::proto::mc::Unload)
