#include "mc_commands.h"

namespace ferrite::mod::strings {

// Filled in by the memcached compatibility work.
int RegisterMcCommands(ferrite_plugin* p) { return FERRITE_OK; }

}  // namespace ferrite::mod::strings
