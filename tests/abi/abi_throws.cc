// A handler that throws: the exception barrier turns it into an error reply.
#include <stdexcept>

#include "ferrite/module.hpp"

namespace {
using namespace ferrite::sdk;
int CmdThrow(Ctx, int, const ferrite_slice*) { throw std::runtime_error("boom"); }
const CommandSpec kTable[] = {{"ABI.THROW", 1, flags::FAST, 0, 0, 0, Guarded<CmdThrow>}};
int Load(ferrite_plugin* p) { return RegisterAll(p, kTable); }
void Unload(ferrite_plugin*) {}
}  // namespace

FERRITE_DEFINE_PLUGIN("abi_throws", 1, Load, Unload)
