// The permission check (Redis' ACLSelectorCheckCmd and ACLCheckAllUserCommandPerm), and
// what it needs to know about each registered command.
#include <cstring>

#include "ferrite/module.hpp"
#include "host/acl/acl.h"
#include "host/acl/command_facts.h"
#include "host/acl/permissions.h"
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

// The position of the call's one key when its command has exactly one, at a fixed place
// (KeysOf would find it there, or none when argc is shorter), with its flags; else 0.
inline int OneKeyOf(const Command* cmd, const Subcommand* sub, uint16_t* flags) {
  const CommandFacts* f = sub && sub->acl_facts ? sub->acl_facts : cmd->acl_facts;
  if (f && !cmd->acl_key_flags) return OneFixedKey(*f, flags);
  if (cmd->acl_key_flags && !cmd->getkeys && cmd->first_key == cmd->last_key) {
    *flags = cmd->acl_key_flags;  // a memcached helper's one declared key
    return cmd->first_key;
  }
  return 0;
}

bool ChannelAllowed(const Selector& s, std::string_view ch, bool is_pattern) {
  for (const auto& p : s.channels)
    if ((is_pattern && p == ch) || (!is_pattern && GlobMatch(p, ch))) return true;
  return false;
}

Verdict CheckSelector(const Selector& s, const Command* cmd, const Subcommand* sub, int argc,
                      const ferrite_slice* argv, int* idx, KeyList* keys, bool* keys_ready) {
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
    // Most commands have one key at a fixed place: checked without collecting a list.
    uint16_t one_flags = 0;
    int one = OneKeyOf(cmd, sub, &one_flags);
    if (one > 0) {
      if (one < argc && !KeyAllowed(s, {argv[one].ptr, argv[one].len}, one_flags)) {
        *idx = one;
        return Verdict::kKey;
      }
    } else {
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
            KeyList& out) {
  const CommandFacts* f = sub && sub->acl_facts ? sub->acl_facts : cmd->acl_facts;
  if (f && !cmd->acl_key_flags) return FactsKeys(*f, argc, argv, out);
  uint16_t flags = cmd->acl_key_flags;
  if (!flags) {
    flags = (cmd->flags & FERRITE_CMD_READONLY) ? (kKeyRo | kKeyAccess)
            : (cmd->flags & FERRITE_CMD_WRITE)  ? (kKeyRw | kKeyAccess | kKeyUpdate)
                                                : (kKeyRw | kKeyAccess | kKeyUpdate);
  }
  size_t before = out.size();
  if (!cmd->ForEachKey(argc, argv, [&](int i) { out.push_back({i, flags}); }))
    out.Shrink(before);
}

bool HasKeys(const Command* cmd, const Subcommand* sub) {
  const CommandFacts* f = sub && sub->acl_facts ? sub->acl_facts : cmd->acl_facts;
  if (!f || cmd->acl_key_flags) return cmd->first_key > 0 || cmd->getkeys;
  for (int j = 0; j < f->nspecs; j++)
    if (!(f->specs[j].flags & kKeyNotKey)) return true;
  return false;
}

namespace {

// A pattern's match past the first 8 bytes of its literal start, which the caller
// compared (out of line: long literal starts and wildcards inside are the rare case).
[[gnu::noinline]] bool MatchRest(const KeyPattern& p, std::string_view key) {
  if (p.literal_len > 8 &&
      std::memcmp(key.data() + 8, p.pattern.data() + 8, p.literal_len - 8) != 0)
    return false;
  if (p.exact) return key.size() == p.literal_len;
  return (p.prefix_star && !key.empty()) || GlobMatch(p.pattern, key);
}

// `head` is Head8(key), `need` the permissions the key needs.
inline bool PatternMatches(const KeyPattern& p, std::string_view key, uint64_t head,
                           uint8_t need) {
  if ((head & p.head_mask) != p.head || key.size() < p.literal_len || (p.perms & need) != need)
    return false;
  if (p.prefix_star && p.literal_len <= 8 && !key.empty()) return true;  // "prefix*"
  return MatchRest(p, key);
}

// KeyAllowed for a selector without allkeys, `need` from PermsOf.
[[gnu::always_inline]] inline bool PatternsAllow(const Selector& s, std::string_view key,
                                                 uint8_t need) {
  const uint64_t head = Head8(key);
  if (s.key_order.size() != s.patterns.size()) {  // not indexed
    for (const auto& p : s.patterns)
      if (PatternMatches(p, key, head, need)) return true;
    return false;
  }
  const KeyPattern* pats = s.patterns.data();
  const uint32_t* order = s.key_order.data();
  for (uint32_t i = 0; i < s.key_wild; i++)
    if (PatternMatches(pats[order[i]], key, head, need)) return true;
  if (key.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(key[0]);
  for (uint32_t i = s.key_bucket[first], end = s.key_bucket[first + 1]; i < end; i++)
    if (PatternMatches(pats[order[i]], key, head, need)) return true;
  return false;
}

}  // namespace

bool KeyAllowed(const Selector& s, std::string_view key, uint16_t key_flags) {
  if (s.flags & kSelAllKeys) return true;
  return PatternsAllow(s, key, PermsOf(key_flags));
}

// The one-selector fast paths' common test: the selector grants the command (or it needs
// no auth) and the command has no channel arguments to check.
namespace {

bool GrantsWithoutChannels(const Selector& s, const Command* cmd, const Subcommand* sub) {
  if (!(s.flags & kSelAllCommands) && !(cmd->flags & FERRITE_CMD_NOAUTH) &&
      !s.Bit(sub ? sub->acl_id : cmd->acl_id))
    return false;
  return (s.flags & kSelAllChannels) || !(cmd->acl_channels & (kChanSubscribe | kChanPublish));
}

}  // namespace

bool QuickAllow(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                const ferrite_slice* argv) {
  // One selector (iterators compared: no division by the element size).
  if (u.selectors.empty() || u.selectors.begin() + 1 != u.selectors.end()) return false;
  const Selector& s = u.selectors.front();
  if (!GrantsWithoutChannels(s, cmd, sub)) return false;
  if (s.flags & kSelAllKeys) return true;
  uint16_t flags = 0;
  int one = OneKeyOf(cmd, sub, &flags);
  if (one <= 0) return false;
  return one >= argc || PatternsAllow(s, {argv[one].ptr, argv[one].len}, PermsOf(flags));
}

bool MakePlan(const User& u, const Command* cmd, const Subcommand* sub, Plan* out) {
  if (u.selectors.size() != 1) return false;
  const Selector& s = u.selectors.front();
  if (!GrantsWithoutChannels(s, cmd, sub)) return false;
  Plan p{cmd, sub, nullptr, 0, 0};
  if (!(s.flags & kSelAllKeys)) {
    uint16_t flags = 0;
    p.key = OneKeyOf(cmd, sub, &flags);
    if (p.key <= 0) return false;
    p.selector = &s;
    p.need = PermsOf(flags);
  }
  *out = p;
  return true;
}

namespace {

// PatternsAllow out of line, for PlanKeyAllowed's rare cases.
[[gnu::noinline]] bool PatternsAllowCold(const Selector& s, std::string_view key, uint8_t need) {
  return PatternsAllow(s, key, need);
}

enum class Quick { kNo, kYes, kAsk };

// PatternMatches without MatchRest: kAsk when only MatchRest can tell (a literal start
// longer than 8 bytes, or a wildcard inside the pattern).
inline Quick QuickMatch(const KeyPattern& p, std::string_view key, uint64_t head, uint8_t need) {
  if ((head & p.head_mask) != p.head || key.size() < p.literal_len || (p.perms & need) != need)
    return Quick::kNo;
  if (p.literal_len > 8) return Quick::kAsk;
  if (p.prefix_star) return key.empty() ? Quick::kAsk : Quick::kYes;  // "prefix*"
  if (p.exact) return key.size() == p.literal_len ? Quick::kYes : Quick::kNo;
  return Quick::kAsk;
}

}  // namespace

// PatternsAllow for an indexed selector, with no call inside its loops (so no registers
// to save on the way in): a pattern only MatchRest can settle hands the whole question to
// PatternsAllowCold, as does a selector whose patterns are not indexed.
bool PlanKeyAllowed(const Plan& p, ferrite_slice k) {
  const Selector& s = *p.selector;
  const std::string_view key(k.ptr, k.len);
  const uint8_t need = p.need;
  if (s.key_order.size() != s.patterns.size()) return PatternsAllowCold(s, key, need);
  const uint64_t head = Head8(key);
  const KeyPattern* pats = s.patterns.data();
  const uint32_t* order = s.key_order.data();
  for (uint32_t i = 0; i < s.key_wild; i++) {
    Quick q = QuickMatch(pats[order[i]], key, head, need);
    if (q != Quick::kNo) return q == Quick::kYes || PatternsAllowCold(s, key, need);
  }
  if (key.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(key[0]);
  for (uint32_t i = s.key_bucket[first], end = s.key_bucket[first + 1]; i < end; i++) {
    Quick q = QuickMatch(pats[order[i]], key, head, need);
    if (q != Quick::kNo) return q == Quick::kYes || PatternsAllowCold(s, key, need);
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
  KeyList keys;
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
  KeyList keys;
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
