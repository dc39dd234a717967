// Hidden MC.* commands: memcached semantics (flags, cas, noreply-free status codes,
// absolute exptime, meta flags) on the shared keyspace. Both memcached protocol
// plugins reach them through the host's execute(); the plugins only frame.
// Owned by the memcached compatibility work.
#pragma once

#include "ferrite/module.h"

namespace ferrite::mod::strings {

// Registers the MC.* commands into the strings module. Called from the strings
// module's load entry point.
int RegisterMcCommands(ferrite_plugin* p);

}  // namespace ferrite::mod::strings
