// Plugin glue for the memcached binary protocol: claims first byte 0x80 on the
// "memcached" listener and feeds each connection's bytes to a BinarySession.
#include "ferrite/module.hpp"
#include "mc_common.h"
#include "mc_binary.h"

namespace ferrite::proto::mc {
namespace {

struct BinConn {
  explicit BinConn(ferrite_conn* c) : backend(&sdk::Api(), c), session(backend) {}
  HostBackend backend;
  BinarySession session;
};

int Sniff(uint8_t first) { return first == 0x80; }
void* ConnOpen(void*, ferrite_conn* c) { return new BinConn(c); }
void ConnClose(void* st) { delete static_cast<BinConn*>(st); }
size_t OnBytes(void* st, const uint8_t* data, size_t len) {
  return static_cast<BinConn*>(st)->session.OnBytes(data, len);
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
  static const ferrite_protocol_desc desc = {sizeof(ferrite_protocol_desc), "memcached_binary",
                                             "memcached", Sniff, ConnOpen, ConnClose, OnBytes,
                                             &kLateSink};
  return sdk::Api().register_protocol(p, &desc, nullptr);
}
void Unload(ferrite_plugin*) {}

}  // namespace
}  // namespace ferrite::proto::mc

FERRITE_DEFINE_PLUGIN("memcached_binary", 1, ferrite::proto::mc::Load, ferrite::proto::mc::Unload)
