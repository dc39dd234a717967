// What the permission check remembers, per client, about a command its user's rules
// allow outright: the one key left to check on each call (gate.h AclQuickAllows). A
// plan is computed from the client's current rules (Client::acl_rules) and a command,
// which never changes while the registry lives, so it holds until the rules are renewed.
#pragma once

#include <cstdint>

namespace ferrite::host {
struct Command;
struct Subcommand;
}  // namespace ferrite::host

namespace ferrite::host::acl {

struct Selector;

struct Plan {
  const Command* cmd = nullptr;  // null: an empty slot
  const Subcommand* sub = nullptr;
  // The selector whose key patterns decide (inside the rules the plan was made from);
  // null when every key is allowed.
  const Selector* selector = nullptr;
  int key = 0;       // the argument index of the call's one key (0: nothing to check)
  uint8_t need = 0;  // the KeyPerm bits that key needs
};

// Slots per client, indexed by the command's ACL id.
inline constexpr int kPlanSlots = 8;

}  // namespace ferrite::host::acl
