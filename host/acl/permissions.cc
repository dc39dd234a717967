// The permission check (Redis' ACLSelectorCheckCmd and ACLCheckAllUserCommandPerm), and
// what it needs to know about each registered command.
#include <cstring>

#include "ferrite/module.hpp"
#include "host/acl/acl.h"
#include "host/acl/command_facts.h"
#include "host/registry.h"

namespace ferrite::host::acl {

using ferrite::sdk::EqualsIgnoreCase;
using ferrite::sdk::GlobMatch;

namespace {

// The memcached plugins' hidden commands are checked as the Redis command each one runs:
// its rules, categories and ACL LOG name, with the key flags that command's key has.
struct McAlias {
  const char* name;
  const char* as;
  uint16_t key_flags;
};
constexpr McAlias kMcAliases[] = {
    {"mc.get", "get", kKeyRo | kKeyAccess},
    {"mc.meta", "get", kKeyRo | kKeyAccess},
    {"mc.gat", "getex", kKeyRw | kKeyAccess | kKeyUpdate},
    {"mc.set", "set", kKeyOw | kKeyUpdate},
    {"mc.delete", "del", kKeyRm | kKeyDelete},
    {"mc.touch", "expire", kKeyRw | kKeyUpdate},
    {"mc.arith", "incrby", kKeyRw | kKeyAccess | kKeyUpdate},
    {"mc.flush", "flushall", 0},
    {"mc.stats", "info", 0},
};

// Redis' commands_with_channels.
enum ChannelKind : uint8_t {
  kChanNone = 0,
  kChanSubscribe = 1,
  kChanPublish = 2,
  kChanPattern = 4,
  kChanUnsubscribe = 8,
  kChanAllArgs = 16,  // every argument from 1 on, else only argument 1
};

uint8_t ChannelsOf(std::string_view n) {
  if (n == "subscribe" || n == "ssubscribe") return kChanSubscribe | kChanAllArgs;
  if (n == "psubscribe") return kChanSubscribe | kChanPattern | kChanAllArgs;
  if (n == "unsubscribe" || n == "sunsubscribe") return kChanUnsubscribe | kChanAllArgs;
  if (n == "punsubscribe") return kChanUnsubscribe | kChanPattern | kChanAllArgs;
  if (n == "publish" || n == "spublish") return kChanPublish;
  return kChanNone;
}

uint8_t PermsOf(uint16_t key_flags) {
  uint8_t p = 0;
  if (key_flags & kKeyAccess) p |= kPermRead;
  if (key_flags & (kKeyInsert | kKeyDelete | kKeyUpdate)) p |= kPermWrite;
  return p;
}


bool ChannelAllowed(const Selector& s, std::string_view ch, bool is_pattern) {
  for (const auto& p : s.channels)
    if ((is_pattern && p == ch) || (!is_pattern && GlobMatch(p, ch))) return true;
  return false;
}

Verdict CheckSelector(const Selector& s, const Command* cmd, const Subcommand* sub, int argc,
                      const ferrite_slice* argv, int* idx, std::vector<KeyRef>* keys,
                      bool* keys_ready) {
  int id = sub ? sub->acl_id : cmd->acl_id;
  if (!(s.flags & kSelAllCommands) && !(cmd->flags & FERRITE_CMD_NOAUTH) && !s.Bit(id)) {
    auto fa = s.firstargs.find(id);
    int at = sub ? 2 : 1;
    if (argc <= at || fa == s.firstargs.end()) return Verdict::kCommand;
    bool match = false;
    for (const auto& a : fa->second)
      match |= EqualsIgnoreCase(a, std::string_view(argv[at].ptr, argv[at].len));
    if (!match) return Verdict::kCommand;
  }
  if (!(s.flags & kSelAllKeys)) {
    if (!*keys_ready) {
      KeysOf(cmd, sub, argc, argv, *keys);
      *keys_ready = true;
    }
    for (const auto& k : *keys)
      if (!KeyAllowed(s, {argv[k.pos].ptr, argv[k.pos].len}, k.flags)) {
        *idx = k.pos;
        return Verdict::kKey;
      }
  }
  uint8_t ch = cmd->acl_channels;
  if (!(s.flags & kSelAllChannels) && (ch & (kChanSubscribe | kChanPublish))) {
    int stop = (ch & kChanAllArgs) ? argc : std::min(argc, 2);
    for (int i = 1; i < stop; i++)
      if (!ChannelAllowed(s, {argv[i].ptr, argv[i].len}, ch & kChanPattern)) {
        *idx = i;
        return Verdict::kChannel;
      }
  }
  return Verdict::kOk;
}

}  // namespace

void KeysOf(const Command* cmd, const Subcommand* sub, int argc, const ferrite_slice* argv,
            std::vector<KeyRef>& out) {
  const CommandFacts* f = sub && sub->acl_facts ? sub->acl_facts : cmd->acl_facts;
  if (f && !cmd->acl_key_flags) return FactsKeys(*f, argc, argv, out);
  std::vector<int> idx;
  if (!cmd->Keys(argc, argv, idx)) return;
  uint16_t flags = cmd->acl_key_flags;
  if (!flags) {
    flags = (cmd->flags & FERRITE_CMD_READONLY) ? (kKeyRo | kKeyAccess)
            : (cmd->flags & FERRITE_CMD_WRITE)  ? (kKeyRw | kKeyAccess | kKeyUpdate)
                                                : (kKeyRw | kKeyAccess | kKeyUpdate);
  }
  for (int i : idx) out.push_back({i, flags});
}

bool HasKeys(const Command* cmd, const Subcommand* sub) {
  const CommandFacts* f = sub && sub->acl_facts ? sub->acl_facts : cmd->acl_facts;
  if (!f || cmd->acl_key_flags) return cmd->first_key > 0 || cmd->getkeys;
  for (int j = 0; j < f->nspecs; j++)
    if (!(f->specs[j].flags & kKeyNotKey)) return true;
  return false;
}

bool KeyAllowed(const Selector& s, std::string_view key, uint16_t key_flags) {
  if (s.flags & kSelAllKeys) return true;
  uint8_t need = PermsOf(key_flags);
  for (const auto& p : s.patterns) {
    if ((p.perms & need) != need) continue;
    if (key.substr(0, p.literal_len) != std::string_view(p.pattern).substr(0, p.literal_len))
      continue;
    if ((p.prefix_star && !key.empty()) || GlobMatch(p.pattern, key)) return true;
  }
  return false;
}

void DescribeCommand(Command& c, uint32_t declared) {
  std::string_view name = c.name;
  for (const auto& a : kMcAliases)
    if (name == a.name) {
      const CommandFacts* f = FindFacts(a.as);
      c.acl_id = CommandId(a.as);
      c.acl_categories = f ? f->categories : ImplicitCategories(c.flags, 0);
      c.acl_facts = f;
      c.acl_key_flags = a.key_flags;
      c.acl_name = a.as;
      return;
    }
  c.acl_id = CommandId(c.name);
  c.acl_facts = FindFacts(c.name);
  c.acl_categories = c.acl_facts ? c.acl_facts->categories : ImplicitCategories(c.flags, declared);
  if (declared && c.acl_facts) c.acl_categories |= declared;
  c.acl_channels = ChannelsOf(c.name);
  c.acl_name = c.name;
  for (auto& s : c.subcommands) {
    s.acl_id = CommandId(s.fullname);
    s.acl_facts = FindFacts(s.fullname);
    s.acl_categories = s.acl_facts ? s.acl_facts->categories : ImplicitCategories(s.flags, declared);
  }
}

Verdict Acl::Check(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                   const ferrite_slice* argv, int* idx) {
  Verdict relevant = Verdict::kCommand;
  int last_idx = 0;
  std::vector<KeyRef> keys;
  bool keys_ready = false;
  for (const auto& s : u.selectors) {
    int local = 0;
    Verdict v = CheckSelector(s, cmd, sub, argc, argv, &local, &keys, &keys_ready);
    if (v == Verdict::kOk) return v;
    if (v > relevant || (v == relevant && local > last_idx)) {
      relevant = v;
      last_idx = local;
    }
  }
  *idx = last_idx;
  return relevant;
}

bool Acl::CanReadAnyKey(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                        const ferrite_slice* argv) {
  std::vector<KeyRef> keys;
  bool keys_ready = false;
  for (const auto& s : u.selectors) {
    int local = 0;
    if (CheckSelector(s, cmd, sub, argc, argv, &local, &keys, &keys_ready) != Verdict::kOk)
      continue;
    if (s.flags & kSelAllKeys) return true;
    for (const auto& p : s.patterns)
      if ((p.perms & kPermRead) && p.pattern == "*") return true;
  }
  return false;
}

}  // namespace ferrite::host::acl
