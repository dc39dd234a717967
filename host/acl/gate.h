// Where the permission check meets command execution: the dispatcher (a client's
// command, EXEC's queued ones) and call() (scripts, modules). Each first reads the
// client's user's `unrestricted` flag; only a restricted user pays for the check.
#pragma once

#include <string>

#include "ferrite/module.h"
#include "host/acl/acl.h"
#include "host/client.h"

namespace ferrite::host {

class Host;
struct Command;
struct Subcommand;

// The user may run this (unrestricted users: always).
inline bool AclUnrestricted(const Client* c) {
  return c->acl_user.load(std::memory_order_relaxed)->unrestricted.load(std::memory_order_relaxed);
}

enum class AclGateSite { kCommand, kExecBody };

// Redis' processCommand check (kCommand: context toplevel or multi) or execCommand's
// re-check (kExecBody). On refusal: logs to ACL LOG and sets `err` to the full reply text.
bool AclAllowsCommand(Host* h, Client* c, const Command* cmd, const Subcommand* sub, int argc,
                      const ferrite_slice* argv, AclGateSite site, std::string* err);
// Redis' scriptVerifyACL for call(): "ERR The user executing the script ..." text.
bool AclAllowsCall(ferrite_ctx* ctx, const Command* cmd, const Subcommand* sub, int argc,
                   const ferrite_slice* argv, std::string* err);

}  // namespace ferrite::host
