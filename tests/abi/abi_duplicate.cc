// Registers a new command, then one that exists (GET): the load fails and the host
// must undo the first registration too.
#include "ferrite/module.hpp"

namespace {
using namespace ferrite::sdk;
int CmdNoop(Ctx ctx, int, const ferrite_slice*) { return ctx.Ok(); }
const CommandSpec kTable[] = {
    {"ABI.UNIQUE", 1, flags::FAST, 0, 0, 0, Guarded<CmdNoop>},
    {"GET", 2, flags::READONLY, 1, 1, 1, Guarded<CmdNoop>},
};
int Load(ferrite_plugin* p) { return RegisterAll(p, kTable); }
void Unload(ferrite_plugin*) {}
}  // namespace

FERRITE_DEFINE_PLUGIN("abi_duplicate", 1, Load, Unload)
