// libFuzzer target for the ACL rule parser: the input is ACL SETUSER arguments, one per
// line. Invariants: parsing never crashes; a user that parsed describes itself (ACL LIST's
// text) in rules that, applied to a fresh user, describe the same user again (what ACL
// SAVE then ACL LOAD rely on).
//   cmake -DFERRITE_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ... && ./acl_rules_fuzz corpus/
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/acl/command_facts.h"
#include "host/acl/user.h"

using namespace ferrite::host::acl;

namespace {

const RuleCommands& Commands() {
  static const RuleCommands* cmds = [] {
    auto* rc = new RuleCommands;
    int id = 0;
    for (const CommandFacts* f : AllFacts()) {
      std::string_view n = f->fullname;
      size_t bar = n.find('|');
      RuleCommand c{std::string(n), id++, f->categories, -1, {}};
      if (bar != std::string_view::npos) {
        for (int i = static_cast<int>(rc->list.size()) - 1; i >= 0; i--)
          if (rc->list[i].fullname == n.substr(0, bar)) {
            c.parent = i;
            rc->list[i].subs.push_back(static_cast<int>(rc->list.size()));
            break;
          }
      }
      rc->list.push_back(std::move(c));
    }
    return rc;
  }();
  return *cmds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> rules;
  size_t start = 0;
  while (start <= in.size()) {
    size_t nl = in.find('\n', start);
    if (nl == std::string::npos) nl = in.size();
    rules.push_back(in.substr(start, nl - start));
    start = nl + 1;
  }
  RuleContext ctx{&Commands(), (size & 1) ? kSelAllChannels : 0u};
  User u("fuzz", ctx.pubsub_default);
  std::string err = ApplyRules(u, rules, ctx);
  std::vector<std::string> words;
  SplitArgs(in, &words);
  if (!err.empty()) return 0;
  std::string text = DescribeUser(u, ctx);
  // ACL LIST's text is not quoted (in Redis either): a first-arg holding a space or a
  // pattern holding a parenthesis does not survive the trip, so those inputs only check
  // that nothing crashes.
  if (in.find_first_of("() \t\r\v\f") != std::string::npos) return 0;
  if (in.find('\0') != std::string::npos) return 0;
  std::vector<std::string> again;
  size_t p = 0;
  while (p < text.size()) {
    size_t sp = text.find(' ', p);
    if (sp == std::string::npos) sp = text.size();
    again.push_back(text.substr(p, sp - p));
    p = sp + 1;
  }
  User v("fuzz", ctx.pubsub_default);
  if (!ApplyRules(v, again, ctx).empty()) std::abort();
  if (DescribeUser(v, ctx) != text) std::abort();
  return 0;
}
