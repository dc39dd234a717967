// The dispatcher's one-pass answer for the usual call (permissions.cc), ahead of the full
// check (Acl::Check in acl.h), which it never contradicts: it only says "allowed" for the
// shapes it knows, and leaves everything else to Acl::Check.
#pragma once

#include "ferrite/module.h"
#include "host/acl/plan.h"
#include "host/acl/user.h"

namespace ferrite::host {
struct Command;
struct Subcommand;
}  // namespace ferrite::host

namespace ferrite::host::acl {

// True when `u` may run the call, decided without collecting keys: a user of one selector
// that allows the command outright (no first-arg rule), a command with no channels to
// check, and all keys allowed or one key at a fixed place that a pattern allows. False
// means "not decided here" (a denial, or another shape): run Acl::Check.
bool QuickAllow(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                const ferrite_slice* argv);

// QuickAllow's answer for every call of `cmd`/`sub` under `u`, as a plan (plan.h): true
// and *out filled when `u` has one selector allowing the command outright, the command
// has no channels to check, and every key is allowed or its one key sits at a fixed
// place (then the plan names it). False (and *out unchanged) for any other shape.
bool MakePlan(const User& u, const Command* cmd, const Subcommand* sub, Plan* out);
// Whether the plan's selector lets the call touch `key` (argv[p.key]) as it needs.
bool PlanKeyAllowed(const Plan& p, ferrite_slice key);

}  // namespace ferrite::host::acl
