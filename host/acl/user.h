// An ACL user as Redis 7.0 models it: flags, password hashes and selectors (the root
// selector first, then the `(...)` ones). A selector holds a command bitmap, the
// first-args allowed for otherwise denied commands, key patterns (with read/write
// permission each) and channel patterns.
//
// Users are values: a change builds a modified copy that is published whole (acl.h), so
// a worker checking a command never sees a user half-changed.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferrite::host::acl {

// Command bits: ids below kFutureCommandsBit; that bit marks "+@all" (commands loaded
// later are allowed too), as Redis' reserved USER_COMMAND_BITS_COUNT-1.
inline constexpr int kCommandBits = 1024;
inline constexpr int kFutureCommandsBit = kCommandBits - 1;

// One command as the rules see it (Redis' orig_commands entry).
struct RuleCommand {
  std::string fullname;  // "get", "config|get"
  int id;
  uint32_t categories;
  int parent = -1;           // index of the container, for a subcommand
  std::vector<int> subs;     // indexes of the subcommands, for a container
};

// The commands rules are resolved against: containers sorted by name, each followed by
// its subcommands.
struct RuleCommands {
  std::vector<RuleCommand> list;
  // Redis' lookupCommandBySdsLogic: "name" or "container|sub" (one level), any case.
  const RuleCommand* Lookup(std::string_view name) const;
  const RuleCommand* LookupTop(std::string_view name) const;
};

enum SelectorFlag : uint32_t {
  kSelRoot = 1u << 0,
  kSelAllKeys = 1u << 1,
  kSelAllCommands = 1u << 2,
  kSelAllChannels = 1u << 3,
};

enum KeyPerm : uint8_t { kPermRead = 1, kPermWrite = 2, kPermAll = 3 };

struct KeyPattern {
  std::string pattern;
  uint8_t perms;
  bool operator==(const KeyPattern&) const = default;
};

struct Selector {
  uint32_t flags = 0;
  std::array<uint64_t, kCommandBits / 64> allowed{};
  std::map<int, std::vector<std::string>> firstargs;  // command id -> allowed argv[1]
  std::vector<KeyPattern> patterns;
  std::vector<std::string> channels;

  bool Bit(int id) const {
    return id >= 0 && id < kCommandBits && (allowed[id / 64] >> (id % 64)) & 1;
  }
  void SetBit(int id, bool on);
};

enum UserFlag : uint32_t {
  kUserEnabled = 1u << 0,
  kUserDisabled = 1u << 1,
  kUserNopass = 1u << 2,
  kUserSkipSanitize = 1u << 3,
  kUserSanitize = 1u << 4,
};

struct User {
  std::string name;
  uint32_t flags = 0;
  std::vector<std::string> passwords;  // hex SHA-256
  std::vector<Selector> selectors;     // [0] is the root selector

  // Redis' ACLCreateUser: off, no passwords, no permissions (channels per
  // acl-pubsub-default, which `pubsub_default` carries as kSelAllChannels or 0).
  User(std::string n, uint32_t pubsub_default);
  bool Enabled() const { return !(flags & kUserDisabled) && (flags & kUserEnabled); }
  // Every command, key and channel: the dispatcher's one-branch fast path.
  bool Unrestricted() const;
  bool PasswordMatches(std::string_view clear) const;
};

// What went wrong with one rule (Redis' errno values in ACLSetUser).
enum class RuleError {
  kNone,
  kSyntax,          // EINVAL
  kUnknown,         // ENOENT
  kKeyAfterAll,     // EEXIST
  kChannelAfterAll, // EISDIR
  kNoSuchPassword,  // ENODEV
  kBadHash,         // EBADMSG
  kSubcommandArg,   // ECHILD
  kDuplicateUser,   // EALREADY
};
const char* RuleErrorText(RuleError e);

struct RuleContext {
  const RuleCommands* commands;
  uint32_t pubsub_default;  // kSelAllChannels or 0 (acl-pubsub-default)
};

// Redis' ACLSetUser: applies one rule to `u`.
RuleError ApplyRule(User& u, std::string_view op, const RuleContext& ctx);
// Redis' ACLStringSetUser on a copy: merges "(...)" selector words spread over several
// arguments, applies every rule, and returns "" or the error text (without "ERR ").
// `u` is changed only when every rule applies.
std::string ApplyRules(User& u, const std::vector<std::string>& rules, const RuleContext& ctx);

// Redis' ACLMergeSelectorArguments: "(+get" "~k)" become one "(+get ~k)". False on an
// unmatched "(", with its index in `bad`.
bool MergeSelectorArgs(const std::vector<std::string>& in, std::vector<std::string>* out,
                       size_t* bad);

// Redis' ACLDescribeUser (ACL LIST's text after "user <name> ").
std::string DescribeUser(const User& u, const RuleContext& ctx);
// Redis' ACLDescribeSelectorCommandRules ("+@all -keys ...").
std::string DescribeCommandRules(const Selector& s, const RuleContext& ctx);
std::string DescribeKeys(const Selector& s);      // ACL GETUSER "keys"
std::string DescribeChannels(const Selector& s);  // ACL GETUSER "channels"

// Redis' sdssplitargs for the words inside a selector: spaces separate, "..." and '...'
// quote (with Redis' escapes in "..."). Returns false on unbalanced quotes.
bool SplitArgs(std::string_view s, std::vector<std::string>* out);

}  // namespace ferrite::host::acl
