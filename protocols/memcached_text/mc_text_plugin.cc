// Plugin glue for the memcached text protocol: claims every first byte but 0x80 on the
// "memcached" listener and feeds each connection's bytes to a TextSession.
#include "ferrite/module.hpp"
#include "mc_common.h"
#include "mc_plugin.h"
#include "mc_text.h"

namespace ferrite::proto::mc {
namespace {

int Sniff(uint8_t first) { return first != 0x80; }
int Load(ferrite_plugin* p) { return RegisterMcProtocol<TextSession>(p, "memcached_text", Sniff); }
void Unload(ferrite_plugin*) {}

}  // namespace
}  // namespace ferrite::proto::mc

FERRITE_DEFINE_PLUGIN("memcached_text", 1, ferrite::proto::mc::Load, ferrite::proto::mc::Unload)
