// An ACL user as Redis 7.0 models it: flags, password hashes and selectors (the root
// selector first, then the `(...)` ones). A selector holds a command bitmap, the
// first-args allowed for otherwise denied commands, key patterns (with read/write
// permission each) and channel patterns.
//
// Users are values: a change builds a modified copy that is published whole (acl.h), so
// a worker checking a command never sees a user half-changed.
#pragma once

#include <array>
#include <bit>
#include <cstring>
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

// Up to the first 8 bytes of `s` as one integer, first byte lowest (zeros past the end):
// a key's and a pattern's literal start compare in one instruction.
inline uint64_t Head8(std::string_view s) {
  uint64_t v = 0;
  if (std::endian::native == std::endian::little && s.size() >= 8) {
    std::memcpy(&v, s.data(), 8);
    return v;
  }
  size_t n = s.size() < 8 ? s.size() : 8;
  for (size_t i = 0; i < n; i++) v |= uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

struct KeyPattern {
  KeyPattern(std::string p, uint8_t perms_) : pattern(std::move(p)), perms(perms_) {
    literal_len = pattern.find_first_of("*?[\\");
    if (literal_len == std::string::npos) literal_len = pattern.size();
    prefix_star = literal_len + 1 == pattern.size() && pattern.back() == '*';
    exact = literal_len == pattern.size();
    size_t h = literal_len < 8 ? literal_len : 8;
    head_mask = h == 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * h)) - 1;
    head = Head8(std::string_view(pattern).substr(0, h));
  }
  std::string pattern;
  uint8_t perms;
  // The pattern's literal start (before its first * ? [ or backslash): a key that does
  // not start with it cannot match, which settles most patterns without the glob
  // matcher; a pattern that is that start and one final '*' matches every non-empty
  // key starting with it, one without any wildcard only itself (the check runs on every
  // command a restricted user sends). `head` is the start's first 8 bytes (Head8) and
  // `head_mask` keeps as many bytes of a key's Head8.
  size_t literal_len = 0;
  bool prefix_star = false;
  bool exact = false;
  uint64_t head = 0, head_mask = 0;
  bool operator==(const KeyPattern& o) const { return pattern == o.pattern && perms == o.perms; }
};

struct Selector {
  uint32_t flags = 0;
  std::array<uint64_t, kCommandBits / 64> allowed{};
  std::map<int, std::vector<std::string>> firstargs;  // command id -> allowed argv[1]
  std::vector<KeyPattern> patterns;
  std::vector<std::string> channels;
  // KeyAllowed's index of `patterns`, rebuilt by IndexPatterns after every change to
  // them: their positions, first the ones whose literal start is empty (any key may match
  // them: key_order[0 .. key_wild)), then grouped by the first byte of their literal start
  // (bucket b: key_order[key_bucket[b] .. key_bucket[b + 1])). A key is tried against the
  // first group and its own first byte's bucket only: a user's patterns of other prefixes
  // cost nothing. While key_order and patterns differ in size (patterns set by hand) the
  // check scans them all.
  std::vector<uint32_t> key_order;
  std::array<uint32_t, 257> key_bucket{};
  uint32_t key_wild = 0;
  void IndexPatterns();

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

// Whether a selector's key patterns let a command touch `key` with `key_flags`
// (kKeyRo/kKeyRw... of command_facts.h): Redis' ACLSelectorCheckKey (permissions.cc).
bool KeyAllowed(const Selector& s, std::string_view key, uint16_t key_flags);

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
