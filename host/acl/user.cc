#include "host/acl/user.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include "ferrite/module.hpp"
#include "host/acl/command_facts.h"
#include "host/acl/sha256.h"

namespace ferrite::host::acl {

void Selector::IndexPatterns() {
  std::array<uint32_t, 256> count{};
  key_wild = 0;
  for (const auto& p : patterns) {
    if (p.literal_len == 0) key_wild++;
    else count[static_cast<unsigned char>(p.pattern[0])]++;
  }
  uint32_t at = key_wild;
  for (int b = 0; b < 256; b++) {
    key_bucket[b] = at;
    at += count[b];
  }
  key_bucket[256] = at;
  key_order.assign(at, 0);
  std::array<uint32_t, 256> next;
  std::copy(key_bucket.begin(), key_bucket.begin() + 256, next.begin());
  uint32_t wild = 0;
  for (uint32_t i = 0; i < patterns.size(); i++) {
    const KeyPattern& p = patterns[i];
    if (p.literal_len == 0) key_order[wild++] = i;
    else key_order[next[static_cast<unsigned char>(p.pattern[0])]++] = i;
  }
}

using ferrite::sdk::EqualsIgnoreCase;

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Redis' ACLStringHasSpaces.
bool HasSpaces(std::string_view s) {
  for (char c : s)
    if (std::isspace(static_cast<unsigned char>(c)) || c == 0) return true;
  return false;
}

bool ValidHash(std::string_view h) {
  if (h.size() != 64) return false;
  for (char c : h)
    if ((c < 'a' || c > 'f') && (c < '0' || c > '9')) return false;
  return true;
}

// Redis' ACLChangeSelectorPerm: a container's bit carries its subcommands' bits along.
void ChangePerm(Selector& s, const RuleCommands& cmds, const RuleCommand& c, bool allow) {
  s.SetBit(c.id, allow);
  s.firstargs.erase(c.id);
  for (int i : c.subs) s.SetBit(cmds.list[i].id, allow);
}

void SetCategory(Selector& s, const RuleCommands& cmds, uint32_t cat, bool allow) {
  for (const auto& c : cmds.list)
    if (c.categories & cat) ChangePerm(s, cmds, c, allow);
}

void CountCategory(const Selector& s, const RuleCommands& cmds, uint32_t cat,
                   unsigned long* on, unsigned long* off) {
  *on = *off = 0;
  for (const auto& c : cmds.list)
    if (c.categories & cat) (s.Bit(c.id) ? *on : *off) += 1;
}

void AllCommands(Selector& s, bool allow) {
  s.allowed.fill(allow ? ~0ull : 0ull);
  if (allow) s.flags |= kSelAllCommands;
  else s.flags &= ~kSelAllCommands;
  s.firstargs.clear();
}

// Redis' ACLSetSelector.
RuleError ApplySelectorRule(Selector& s, std::string_view op, const RuleContext& ctx) {
  const RuleCommands& cmds = *ctx.commands;
  if (op.empty()) return RuleError::kSyntax;
  if (EqualsIgnoreCase(op, "allkeys") || op == "~*") {
    s.flags |= kSelAllKeys;
    s.patterns.clear();
    s.IndexPatterns();
  } else if (EqualsIgnoreCase(op, "resetkeys")) {
    s.flags &= ~kSelAllKeys;
    s.patterns.clear();
    s.IndexPatterns();
  } else if (EqualsIgnoreCase(op, "allchannels") || op == "&*") {
    s.flags |= kSelAllChannels;
    s.channels.clear();
  } else if (EqualsIgnoreCase(op, "resetchannels")) {
    s.flags &= ~kSelAllChannels;
    s.channels.clear();
  } else if (EqualsIgnoreCase(op, "allcommands") || EqualsIgnoreCase(op, "+@all")) {
    AllCommands(s, true);
  } else if (EqualsIgnoreCase(op, "nocommands") || EqualsIgnoreCase(op, "-@all")) {
    AllCommands(s, false);
  } else if (op[0] == '~' || op[0] == '%') {
    if (s.flags & kSelAllKeys) return RuleError::kKeyAfterAll;
    uint8_t perms = 0;
    size_t off = 1;
    if (op[0] == '%') {
      for (; off < op.size(); off++) {
        char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(op[off])));
        if (ch == 'R' && !(perms & kPermRead)) {
          perms |= kPermRead;
        } else if (ch == 'W' && !(perms & kPermWrite)) {
          perms |= kPermWrite;
        } else if (op[off] == '~') {
          off++;
          break;
        } else {
          return RuleError::kSyntax;
        }
      }
      // NOTE: Redis takes a bare "%" as a pattern with no permission and later panics
      // describing it; refused here.
      if (!perms) return RuleError::kSyntax;
    } else {
      perms = kPermAll;
    }
    std::string_view pat = op.substr(std::min(off, op.size()));
    if (HasSpaces(pat)) return RuleError::kSyntax;
    auto it = std::find_if(s.patterns.begin(), s.patterns.end(),
                           [&](const KeyPattern& p) { return p.pattern == pat; });
    if (it == s.patterns.end()) {
      s.patterns.push_back({std::string(pat), perms});
      s.IndexPatterns();
    } else {
      it->perms |= perms;
    }
    s.flags &= ~kSelAllKeys;
  } else if (op[0] == '&') {
    if (s.flags & kSelAllChannels) return RuleError::kChannelAfterAll;
    std::string_view pat = op.substr(1);
    if (HasSpaces(pat)) return RuleError::kSyntax;
    if (std::find(s.channels.begin(), s.channels.end(), pat) == s.channels.end())
      s.channels.emplace_back(pat);
    s.flags &= ~kSelAllChannels;
  } else if (op[0] == '+' && (op.size() < 2 || op[1] != '@')) {
    std::string_view name = op.substr(1);
    size_t bar = name.rfind('|');
    if (bar == std::string_view::npos) {
      const RuleCommand* c = cmds.Lookup(name);
      if (!c) return RuleError::kUnknown;
      ChangePerm(s, cmds, *c, true);
    } else {
      std::string_view base = name.substr(0, bar), sub = name.substr(bar + 1);
      const RuleCommand* c = cmds.Lookup(base);
      if (!c) return RuleError::kUnknown;
      if (c->parent >= 0) return RuleError::kSubcommandArg;
      if (sub.empty()) return RuleError::kSyntax;
      if (!c->subs.empty()) {
        const RuleCommand* sc = cmds.Lookup(name);
        if (!sc) return RuleError::kUnknown;
        ChangePerm(s, cmds, *sc, true);
      } else {
        auto& v = s.firstargs[c->id];
        bool dup = false;
        for (auto& a : v) dup |= EqualsIgnoreCase(a, sub);
        if (!dup) v.emplace_back(sub);
      }
    }
  } else if (op[0] == '-' && (op.size() < 2 || op[1] != '@')) {
    const RuleCommand* c = cmds.Lookup(op.substr(1));
    if (!c) return RuleError::kUnknown;
    ChangePerm(s, cmds, *c, false);
  } else if ((op[0] == '+' || op[0] == '-') && op.size() >= 2 && op[1] == '@') {
    uint32_t cat = CategoryByName(op.substr(2));
    if (!cat) return RuleError::kUnknown;
    SetCategory(s, cmds, cat, op[0] == '+');
  } else {
    return RuleError::kSyntax;
  }
  return RuleError::kNone;
}

// Redis' aclCreateSelectorFromOpSet.
RuleError NewSelector(User& u, std::string_view op, const RuleContext& ctx) {
  Selector s;
  s.flags = ctx.pubsub_default;
  std::vector<std::string> words;
  // NOTE: Redis ignores a quoting error here (its split returns no words): so do we.
  if (!SplitArgs(op.substr(1, op.size() - 2), &words)) words.clear();
  for (auto& w : words) {
    RuleError e = ApplySelectorRule(s, w, ctx);
    if (e != RuleError::kNone) return e;
  }
  u.selectors.push_back(std::move(s));
  return RuleError::kNone;
}

void AppendPattern(std::string& out, const KeyPattern& p) {
  out += p.perms == kPermAll ? "~" : p.perms == kPermRead ? "%R~" : "%W~";
  out += p.pattern;
}

}  // namespace

const RuleCommand* RuleCommands::LookupTop(std::string_view name) const {
  // Containers are sorted by name; a binary search over them skips the subcommands.
  std::string n = Lower(name);
  auto it = std::lower_bound(list.begin(), list.end(), n, [](const RuleCommand& c, const std::string& k) {
    std::string_view top = std::string_view(c.fullname).substr(0, c.fullname.find('|'));
    return top < k;
  });
  if (it == list.end() || it->fullname != n) return nullptr;
  return &*it;
}

const RuleCommand* RuleCommands::Lookup(std::string_view name) const {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return LookupTop(name);
  if (name.find('|', bar + 1) != std::string_view::npos) return nullptr;
  const RuleCommand* base = LookupTop(name.substr(0, bar));
  if (!base) return nullptr;
  if (base->subs.empty()) return nullptr;  // strict: "get|x" names nothing
  std::string full = Lower(name);
  for (int i : base->subs)
    if (list[i].fullname == full) return &list[i];
  return nullptr;
}

void Selector::SetBit(int id, bool on) {
  if (id < 0 || id >= kCommandBits) return;
  if (on) {
    allowed[id / 64] |= 1ull << (id % 64);
  } else {
    allowed[id / 64] &= ~(1ull << (id % 64));
    flags &= ~kSelAllCommands;
  }
}

User::User(std::string n, uint32_t pubsub_default) : name(std::move(n)), flags(kUserDisabled) {
  Selector root;
  root.flags = kSelRoot | pubsub_default;
  selectors.push_back(std::move(root));
}

bool User::Unrestricted() const {
  for (const auto& s : selectors)
    if ((s.flags & (kSelAllKeys | kSelAllCommands | kSelAllChannels)) ==
        (kSelAllKeys | kSelAllCommands | kSelAllChannels))
      return true;
  return false;
}

bool User::PasswordMatches(std::string_view clear) const {
  if (flags & kUserNopass) return true;
  std::string h = Sha256Hex(clear);
  bool ok = false;
  for (const auto& p : passwords) {
    // Compare every byte of every hash: the time taken says nothing about the secret.
    int diff = 0;
    for (size_t i = 0; i < 64; i++) diff |= p[i] ^ h[i];
    ok |= diff == 0;
  }
  return ok;
}

const char* RuleErrorText(RuleError e) {
  switch (e) {
    case RuleError::kUnknown: return "Unknown command or category name in ACL";
    case RuleError::kSyntax: return "Syntax error";
    case RuleError::kKeyAfterAll:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
             "does not have any effect. Try 'resetkeys' to start with an empty list of "
             "patterns";
    case RuleError::kChannelAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid "
             "and does not have any effect. Try 'resetchannels' to start with an empty list "
             "of channels";
    case RuleError::kNoSuchPassword:
      return "The password you are trying to remove from the user does not exist";
    case RuleError::kBadHash:
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    case RuleError::kDuplicateUser:
      return "Duplicate user found. A user can only be defined once in config files";
    case RuleError::kSubcommandArg: return "Allowing first-arg of a subcommand is not supported";
    case RuleError::kNone: break;
  }
  return "Wrong format";
}

RuleError ApplyRule(User& u, std::string_view op, const RuleContext& ctx) {
  if (op.empty()) return RuleError::kNone;
  if (EqualsIgnoreCase(op, "on")) {
    u.flags = (u.flags | kUserEnabled) & ~kUserDisabled;
  } else if (EqualsIgnoreCase(op, "off")) {
    u.flags = (u.flags | kUserDisabled) & ~kUserEnabled;
  } else if (EqualsIgnoreCase(op, "skip-sanitize-payload")) {
    u.flags = (u.flags | kUserSkipSanitize) & ~kUserSanitize;
  } else if (EqualsIgnoreCase(op, "sanitize-payload")) {
    u.flags = (u.flags | kUserSanitize) & ~kUserSkipSanitize;
  } else if (EqualsIgnoreCase(op, "nopass")) {
    u.flags |= kUserNopass;
    u.passwords.clear();
  } else if (EqualsIgnoreCase(op, "resetpass")) {
    u.flags &= ~kUserNopass;
    u.passwords.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string h;
    if (op[0] == '>') {
      h = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return RuleError::kBadHash;
      h = op.substr(1);
    }
    if (std::find(u.passwords.begin(), u.passwords.end(), h) == u.passwords.end())
      u.passwords.push_back(std::move(h));
    u.flags &= ~kUserNopass;
  } else if (op[0] == '<' || op[0] == '!') {
    std::string h;
    if (op[0] == '<') {
      h = Sha256Hex(op.substr(1));
    } else {
      if (!ValidHash(op.substr(1))) return RuleError::kBadHash;
      h = op.substr(1);
    }
    auto it = std::find(u.passwords.begin(), u.passwords.end(), h);
    if (it == u.passwords.end()) return RuleError::kNoSuchPassword;
    u.passwords.erase(it);
  } else if (op[0] == '(' && op.back() == ')') {
    return NewSelector(u, op, ctx);
  } else if (EqualsIgnoreCase(op, "clearselectors")) {
    u.selectors.resize(1);
  } else if (EqualsIgnoreCase(op, "reset")) {
    ApplyRule(u, "resetpass", ctx);
    ApplyRule(u, "resetkeys", ctx);
    ApplyRule(u, "resetchannels", ctx);
    if (ctx.pubsub_default & kSelAllChannels) ApplyRule(u, "allchannels", ctx);
    ApplyRule(u, "off", ctx);
    ApplyRule(u, "sanitize-payload", ctx);
    ApplyRule(u, "clearselectors", ctx);
    ApplyRule(u, "-@all", ctx);
  } else {
    return ApplySelectorRule(u.selectors[0], op, ctx);
  }
  return RuleError::kNone;
}

bool MergeSelectorArgs(const std::vector<std::string>& rules, std::vector<std::string>* merged,
                       size_t* bad) {
  int open = -1;
  std::string sel;
  for (size_t j = 0; j < rules.size(); j++) {
    const std::string& op = rules[j];
    if (!op.empty() && op[0] == '(' && op.back() != ')') {
      sel = op;
      open = static_cast<int>(j);
      continue;
    }
    if (open != -1) {
      sel += " ";
      sel += op;
      if (!op.empty() && op.back() == ')') {
        open = -1;
        merged->push_back(std::move(sel));
      }
      continue;
    }
    merged->push_back(op);
  }
  if (open != -1 && bad) *bad = static_cast<size_t>(open);
  return open == -1;
}

std::string ApplyRules(User& u, const std::vector<std::string>& rules, const RuleContext& ctx) {
  std::vector<std::string> merged;
  size_t bad = 0;
  if (!MergeSelectorArgs(rules, &merged, &bad))
    return "Unmatched parenthesis in acl selector starting at '" + rules[bad] + "'.";
  User temp = u;
  for (const auto& op : merged) {
    RuleError e = ApplyRule(temp, op, ctx);
    if (e != RuleError::kNone)
      return "Error in ACL SETUSER modifier '" + op + "': " + RuleErrorText(e);
  }
  std::string name = std::move(u.name);
  u = std::move(temp);
  u.name = std::move(name);
  return {};
}

std::string DescribeCommandRules(const Selector& sel, const RuleContext& ctx) {
  const RuleCommands& cmds = *ctx.commands;
  std::string rules;
  Selector fake;
  bool additive;
  if (sel.Bit(kFutureCommandsBit)) {
    additive = false;
    rules = "+@all ";
    AllCommands(fake, true);
  } else {
    additive = true;
    rules = "-@all ";
  }
  // Redis' best fit: repeatedly take the category sharing most commands with the bitmap
  // and fewest differences, then fix single commands.
  Selector temp;
  temp.allowed = sel.allowed;
  bool applied[kCategoryCount] = {};
  while (true) {
    int best = -1;
    unsigned long mindiff = INT_MAX, maxsame = 0;
    for (int j = 0; j < kCategoryCount; j++) {
      if (applied[j]) continue;
      unsigned long on, off;
      CountCategory(temp, cmds, 1u << j, &on, &off);
      unsigned long diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
        best = j;
        mindiff = diff;
        maxsame = same;
      }
    }
    if (best == -1) break;
    SetCategory(fake, cmds, 1u << best, additive);
    SetCategory(temp, cmds, 1u << best, !additive);
    rules += additive ? "+@" : "-@";
    rules += kCategoryNames[best];
    rules += ' ';
    applied[best] = true;
  }
  for (const auto& c : cmds.list) {
    bool userbit = sel.Bit(c.id), fakebit = fake.Bit(c.id);
    if (userbit != fakebit) {
      rules += userbit ? '+' : '-';
      rules += c.fullname;
      rules += ' ';
      ChangePerm(fake, cmds, c, userbit);
    }
    auto fa = sel.firstargs.find(c.id);
    if (!userbit && fa != sel.firstargs.end())
      for (const auto& a : fa->second) rules += "+" + c.fullname + "|" + a + " ";
  }
  rules.pop_back();
  return rules;
}

std::string DescribeKeys(const Selector& s) {
  if (s.flags & kSelAllKeys) return "~*";
  std::string out;
  for (const auto& p : s.patterns) {
    if (!out.empty()) out += ' ';
    AppendPattern(out, p);
  }
  return out;
}

std::string DescribeChannels(const Selector& s) {
  if (s.flags & kSelAllChannels) return "&*";
  std::string out;
  for (const auto& c : s.channels) {
    if (!out.empty()) out += ' ';
    out += "&" + c;
  }
  return out;
}

std::string DescribeUser(const User& u, const RuleContext& ctx) {
  std::string res;
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {kUserEnabled, "on"},
      {kUserDisabled, "off"},
      {kUserNopass, "nopass"},
      {kUserSkipSanitize, "skip-sanitize-payload"},
      {kUserSanitize, "sanitize-payload"}};
  for (auto& [bit, name] : kFlags)
    if (u.flags & bit) res += std::string(name) + " ";
  for (const auto& p : u.passwords) res += "#" + p + " ";
  for (const auto& s : u.selectors) {
    std::string d;
    if (s.flags & kSelAllKeys) {
      d += "~* ";
    } else {
      for (const auto& p : s.patterns) {
        AppendPattern(d, p);
        d += ' ';
      }
    }
    if (s.flags & kSelAllChannels) {
      d += "&* ";
    } else {
      d += "resetchannels ";
      for (const auto& c : s.channels) d += "&" + c + " ";
    }
    d += DescribeCommandRules(s, ctx);
    if (s.flags & kSelRoot) res += d;
    else res += " (" + d + ")";
  }
  return res;
}

bool SplitArgs(std::string_view s, std::vector<std::string>* out) {
  size_t i = 0;
  auto hex = [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) ? (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10) : -1;
  };
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) i++;
    if (i >= s.size()) return true;
    std::string cur;
    bool inq = false, insq = false;
    while (true) {
      if (inq) {
        if (i >= s.size()) return false;
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 &&
            hex(s[i + 3]) >= 0) {
          cur += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
          i += 3;
        } else if (s[i] == '\\' && i + 1 < s.size()) {
          char c = s[++i];
          cur += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b' : c == 'a' ? '\a' : c;
        } else if (s[i] == '"') {
          if (i + 1 < s.size() && !std::isspace(static_cast<unsigned char>(s[i + 1]))) return false;
          i++;
          break;
        } else {
          cur += s[i];
        }
      } else if (insq) {
        if (i >= s.size()) return false;
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
          i++;
          cur += '\'';
        } else if (s[i] == '\'') {
          if (i + 1 < s.size() && !std::isspace(static_cast<unsigned char>(s[i + 1]))) return false;
          i++;
          break;
        } else {
          cur += s[i];
        }
      } else {
        if (i >= s.size()) break;
        char c = s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') break;
        if (c == '"') inq = true;
        else if (c == '\'') insq = true;
        else cur += c;
      }
      i++;
    }
    out->push_back(std::move(cur));
  }
}

}  // namespace ferrite::host::acl
