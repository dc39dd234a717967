// Plugin glue for the memcached binary protocol: claims first byte 0x80 on the
// "memcached" listener and feeds each connection's bytes to a BinarySession.
#include "ferrite/module.hpp"
#include "mc_common.h"
#include "mc_plugin.h"
#include "mc_binary.h"

namespace ferrite::proto::mc {
namespace {

int Sniff(uint8_t first) { return first == 0x80; }
int Load(ferrite_plugin* p) {
  return RegisterMcProtocol<BinarySession>(p, "memcached_binary", Sniff);
}
void Unload(ferrite_plugin*) {}

}  // namespace
}  // namespace ferrite::proto::mc

FERRITE_DEFINE_PLUGIN("memcached_binary", 1, ferrite::proto::mc::Load, ferrite::proto::mc::Unload)
