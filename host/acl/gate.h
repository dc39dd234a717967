// Where the permission check meets command execution: the dispatcher (a client's
// command, EXEC's queued ones) and call() (scripts, modules). Each first reads the
// client's user's `unrestricted` flag; only a restricted user pays for the check.
#pragma once

#include <string>

#include "ferrite/module.h"
#include "host/acl/acl.h"
#include "host/acl/permissions.h"
#include "host/client.h"
#include "host/registry.h"

namespace ferrite::host {

class Host;
struct Command;
struct Subcommand;

// The user may run this (unrestricted users: always).
inline bool AclUnrestricted(const Client* c) {
  return c->acl_user.load(std::memory_order_relaxed)->unrestricted.load(std::memory_order_relaxed);
}

// The rules of the client's user, on the client's own thread. The client keeps the
// rules it last took and takes them anew only when its user changed (AUTH) or got new
// rules (the handle's version moved), so a check costs two loads, not a reference count
// and the lock std::atomic_load of a shared_ptr takes.
const acl::User& AclRulesRenew(Client* c, const acl::UserHandle* uh);  // gate.cc
inline const acl::User& AclRules(Client* c) {
  const acl::UserHandle* uh = c->acl_user.load(std::memory_order_relaxed);
  if (uh == c->acl_rules_of &&
      uh->version.load(std::memory_order_acquire) == c->acl_rules_version) [[likely]]
    return *c->acl_rules;
  return AclRulesRenew(c, uh);
}

enum class AclGateSite { kCommand, kExecBody };

bool AclAllowsCommandChecked(Host* h, Client* c, const Command* cmd, const Subcommand* sub,
                             int argc, const ferrite_slice* argv, AclGateSite site,
                             std::string* err);  // gate.cc
// True when the client's rules allow the call, settled the quick way: by the plan the
// client keeps for the command (made by acl::MakePlan on the first call under these
// rules), which leaves at most one key to match. False means "not decided here" (a
// refusal, or a shape without a plan): AclAllowsCommandChecked decides.
inline bool AclQuickAllows(Client* c, const Command* cmd, const Subcommand* sub, int argc,
                           const ferrite_slice* argv) {
  const acl::User& u = AclRules(c);
  acl::Plan& p = c->acl_plans[static_cast<unsigned>(cmd->acl_id) % acl::kPlanSlots];
  if ((p.cmd != cmd || p.sub != sub) && !acl::MakePlan(u, cmd, sub, &p)) [[unlikely]]
    return false;
  return p.key == 0 || p.key >= argc || acl::PlanKeyAllowed(p, argv[p.key]);
}

// Redis' processCommand check (kCommand: context toplevel or multi) or execCommand's
// re-check (kExecBody). On refusal: logs to ACL LOG and sets `err` to the full reply text.
inline bool AclAllowsCommand(Host* h, Client* c, const Command* cmd, const Subcommand* sub,
                             int argc, const ferrite_slice* argv, AclGateSite site,
                             std::string* err) {
  if (AclQuickAllows(c, cmd, sub, argc, argv)) return true;
  return AclAllowsCommandChecked(h, c, cmd, sub, argc, argv, site, err);
}
// Redis' scriptVerifyACL for call(): "ERR The user executing the script ..." text.
bool AclAllowsCall(ferrite_ctx* ctx, const Command* cmd, const Subcommand* sub, int argc,
                   const ferrite_slice* argv, std::string* err);

}  // namespace ferrite::host
