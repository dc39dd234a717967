// The rule parser, describer and key facts without a host: Redis 7.0's texts and results.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/acl/acl.h"
#include "host/acl/command_facts.h"
#include "host/acl/permissions.h"
#include "host/acl/sha256.h"
#include "host/acl/user.h"
#include "host/registry.h"
#include "ferrite/module.hpp"

namespace ferrite::host::acl {
namespace {

RuleCommands MakeCommands() {
  RuleCommands rc;
  int id = 0;
  auto add = [&](const char* name) {
    const CommandFacts* f = FindFacts(name);
    rc.list.push_back({name, id++, f ? f->categories : 0u, -1, {}});
    return static_cast<int>(rc.list.size()) - 1;
  };
  int config = add("config");
  for (const char* s : {"config|get", "config|set"}) {
    int i = add(s);
    rc.list[i].parent = config;
    rc.list[config].subs.push_back(i);
  }
  for (const char* n : {"get", "incr", "mget", "select", "set"}) add(n);
  return rc;
}

TEST(AclSha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding spills into a second block.
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(AclRules, ErrorsAreRedisTexts) {
  RuleCommands cmds = MakeCommands();
  RuleContext ctx{&cmds, 0};
  User u("u", 0);
  EXPECT_EQ(ApplyRules(u, {"+nosuch"}, ctx),
            "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
  EXPECT_EQ(ApplyRules(u, {"(+get", "~k"}, ctx),
            "Unmatched parenthesis in acl selector starting at '(+get'.");
  EXPECT_EQ(ApplyRules(u, {"~*", "~k"}, ctx).substr(0, 51),
            "Error in ACL SETUSER modifier '~k': Adding a patter");
  EXPECT_EQ(ApplyRules(u, {"+config|get|x"}, ctx),
            "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a "
            "subcommand is not supported");
  EXPECT_EQ(ApplyRules(u, {"%X~k"}, ctx), "Error in ACL SETUSER modifier '%X~k': Syntax error");
  // Nothing applies when one rule fails.
  EXPECT_EQ(ApplyRules(u, {"on", "+bad"}, ctx).empty(), false);
  EXPECT_FALSE(u.Enabled());
}

TEST(AclRules, DescribeAsRedis) {
  RuleCommands cmds = MakeCommands();
  RuleContext ctx{&cmds, 0};
  User u("u", 0);
  EXPECT_EQ(DescribeUser(u, ctx), "off resetchannels -@all");
  ASSERT_EQ(ApplyRules(u, {"on", "nopass", "%R~r*", "~k*", "%W~r*", "&c", "+get", "+select|0",
                           "(~s* +set)"},
                       ctx),
            "");
  EXPECT_EQ(DescribeUser(u, ctx),
            "on nopass ~r* ~k* resetchannels &c -@all +get +select|0 (~s* resetchannels -@all +set)");
  User all("a", 0);
  ASSERT_EQ(ApplyRules(all, {"+@all", "-config|set"}, ctx), "");
  EXPECT_EQ(DescribeCommandRules(all.selectors[0], ctx), "+@all -config|set");
}

TEST(AclFacts, KeyFlagsFollowRedis) {
  KeyList keys;
  const char* set_get[] = {"set", "k", "v", "GET"};
  std::vector<ferrite_slice> argv;
  for (auto* a : set_get) argv.push_back({a, strlen(a)});
  FactsKeys(*FindFacts("set"), 4, argv.data(), keys);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].flags & kKeyAccess);
  keys.clear();
  FactsKeys(*FindFacts("set"), 3, argv.data(), keys);
  EXPECT_FALSE(keys[0].flags & kKeyAccess);
  // ZUNIONSTORE dest 2 a b: the destination written, the sources read.
  const char* z[] = {"zunionstore", "d", "2", "a", "b"};
  argv.clear();
  for (auto* a : z) argv.push_back({a, strlen(a)});
  keys.clear();
  FactsKeys(*FindFacts("zunionstore"), 5, argv.data(), keys);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].pos, 1);
  EXPECT_FALSE(keys[0].flags & kKeyAccess);
  EXPECT_EQ(keys[1].pos, 3);
  EXPECT_TRUE(keys[2].flags & kKeyAccess);
  // A bad numkeys yields no keys (the command reports the error).
  argv[2] = {"x", 1};
  keys.clear();
  FactsKeys(*FindFacts("zunionstore"), 5, argv.data(), keys);
  EXPECT_TRUE(keys.empty());
}

// The literal-prefix shortcut of key patterns answers as the glob matcher alone would.
TEST(AclKeys, PatternShortcutMatchesTheGlob) {
  // Literal starts shorter than, equal to and longer than the 8 bytes compared at once.
  const std::string patterns[] = {"*", "k*", "key:*", "key:", "k?y*", "ke[xy]:*", "a\\*b",
                                  "key:**", "*:1", "", "app0:*", "k", "[k]ey*", "user:123*",
                                  "user:1234:*", "user:1234:x", "user:123", "user:12?4:*",
                                  std::string("k\0y*", 4), std::string("\0\0*", 3)};
  const std::string keys[] = {"", "k", "key", "key:", "key:1", "kex:1", "a*b", "ab", "app0:x",
                              "x:1", "KEY:1", "user:123", "user:1234", "user:1234:", "user:1234:x",
                              "user:1234:xy", "user:1244:x", "user:12", std::string("k\0y", 3),
                              std::string("k\0yz", 4), std::string("\0", 1), std::string("\0\0", 2)};
  for (const auto& p : patterns) {
    Selector s;
    s.patterns.push_back({p, kPermAll});
    for (bool indexed : {false, true}) {
      if (indexed) s.IndexPatterns();
      for (const auto& k : keys)
        EXPECT_EQ(KeyAllowed(s, k, kKeyRw | kKeyAccess | kKeyUpdate), ferrite::sdk::GlobMatch(p, k))
            << "pattern '" << p << "' key '" << k << "' indexed " << indexed;
    }
  }
  // All of them in one selector, indexed by first byte: a key is allowed when any matches.
  Selector all;
  for (const auto& p : patterns) all.patterns.push_back({p, kPermAll});
  all.IndexPatterns();
  ASSERT_EQ(all.key_order.size(), all.patterns.size());
  for (const auto& k : keys) {
    bool any = false;
    for (const auto& p : patterns) any |= ferrite::sdk::GlobMatch(p, k);
    EXPECT_EQ(KeyAllowed(all, k, kKeyRw | kKeyAccess | kKeyUpdate), any) << "key '" << k << "'";
  }
}

// The index follows the rules: patterns added, re-added with more permission, reset.
TEST(AclKeys, PatternIndexFollowsTheRules) {
  RuleCommands cmds;
  RuleContext ctx{&cmds, 0};
  User u("u", 0);
  ASSERT_EQ(ApplyRules(u, {"%R~app:*", "~key:*", "~*:x", "%W~app:*"}, ctx), "");
  const Selector& s = u.selectors[0];
  EXPECT_TRUE(KeyAllowed(s, "app:1", kKeyRw | kKeyAccess | kKeyUpdate));  // R then W: both
  EXPECT_TRUE(KeyAllowed(s, "key:1", kKeyRo | kKeyAccess));
  EXPECT_TRUE(KeyAllowed(s, "zzz:x", kKeyRo | kKeyAccess));  // the wildcard-first pattern
  EXPECT_FALSE(KeyAllowed(s, "zzz:y", kKeyRo | kKeyAccess));
  ASSERT_EQ(ApplyRules(u, {"resetkeys", "~k*"}, ctx), "");
  EXPECT_FALSE(KeyAllowed(u.selectors[0], "app:1", kKeyRo | kKeyAccess));
  EXPECT_TRUE(KeyAllowed(u.selectors[0], "key:1", kKeyRo | kKeyAccess));
}

// The check's shortcut for one fixed key finds what FactsKeys finds, for every command
// Redis describes that it applies to, whatever the argument count.
TEST(AclFacts, OneFixedKeyAgreesWithFactsKeys) {
  std::vector<std::string> words = {"cmd", "a", "b", "c", "d", "e"};
  std::vector<ferrite_slice> argv;
  for (auto& w : words) argv.push_back({w.data(), w.size()});
  int shortcut = 0;
  for (const CommandFacts* f : AllFacts()) {
    uint16_t flags = 0;
    int pos = OneFixedKey(*f, &flags);
    if (pos <= 0) continue;
    shortcut++;
    for (int argc = 1; argc <= static_cast<int>(argv.size()); argc++) {
      KeyList keys;
      FactsKeys(*f, argc, argv.data(), keys);
      if (pos < argc) {
        ASSERT_EQ(keys.size(), 1u) << f->fullname << " argc " << argc;
        EXPECT_EQ(keys[0].pos, pos) << f->fullname;
        EXPECT_EQ(keys[0].flags, flags) << f->fullname;
      } else {
        EXPECT_TRUE(keys.empty()) << f->fullname << " argc " << argc;
      }
    }
  }
  EXPECT_GT(shortcut, 100);  // GET, INCR, HGET, LPUSH, ... take it
  uint16_t flags = 0;
  for (const char* n : {"set", "sort", "sort_ro", "migrate", "bitfield", "mget", "zunionstore"})
    EXPECT_EQ(OneFixedKey(*FindFacts(n), &flags), 0) << n;
}

// More keys than KeyList keeps inline: all of them, in order, and refused by position.
TEST(AclFacts, ManyKeysSpillOutOfTheInlineList) {
  std::vector<std::string> words = {"mget"};
  for (int i = 0; i < 40; i++) words.push_back("k" + std::to_string(i));
  std::vector<ferrite_slice> argv;
  for (auto& w : words) argv.push_back({w.data(), w.size()});
  KeyList keys;
  FactsKeys(*FindFacts("mget"), static_cast<int>(argv.size()), argv.data(), keys);
  ASSERT_EQ(keys.size(), 40u);
  for (size_t i = 0; i < keys.size(); i++) EXPECT_EQ(keys[i].pos, static_cast<int>(i) + 1);
  keys.Shrink(3);
  keys.push_back({7, kKeyRo});
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[3].pos, 7);
}

// A client's plan for a command (MakePlan, then PlanKeyAllowed on each call's key) says
// what QuickAllow says, and never allows a call the full check refuses.
TEST(AclPlan, AgreesWithQuickAllowAndTheFullCheck) {
  struct Spec {
    const char* name;
    uint32_t flags;
    int first, last, step;
  };
  const Spec specs[] = {{"get", FERRITE_CMD_READONLY, 1, 1, 1},
                        {"set", FERRITE_CMD_WRITE, 1, 1, 1},
                        {"incr", FERRITE_CMD_WRITE, 1, 1, 1},
                        {"mget", FERRITE_CMD_READONLY, 1, -1, 1},
                        {"del", FERRITE_CMD_WRITE, 1, -1, 1},
                        {"publish", FERRITE_CMD_PUBSUB, 0, 0, 0},
                        {"ping", 0, 0, 0, 0},
                        {"auth", FERRITE_CMD_NOAUTH, 0, 0, 0}};
  std::vector<std::unique_ptr<Command>> cmds;
  RuleCommands rc;
  for (const Spec& sp : specs) {
    auto c = std::make_unique<Command>();
    c->name = sp.name;
    c->arity = -1;
    c->flags = sp.flags;
    c->first_key = sp.first;
    c->last_key = sp.last;
    c->key_step = sp.step;
    DescribeCommand(*c, 0);
    rc.list.push_back({c->name, c->acl_id, c->acl_categories, -1, {}});
    cmds.push_back(std::move(c));
  }
  std::sort(rc.list.begin(), rc.list.end(),
            [](const RuleCommand& a, const RuleCommand& b) { return a.fullname < b.fullname; });
  RuleContext ctx{&rc, 0};
  const std::vector<std::vector<std::string>> users = {
      {"+@all", "~*"},
      {"+@all", "~key:*", "~app*"},
      {"+get", "+set", "+mget", "+publish", "%R~r*", "%W~w*", "~key:*"},
      {"+@all", "~*", "(+get ~x*)"},  // two selectors: no plan
      {"+@all", "&ch*", "~*"},
      {"+@all", "allchannels", "~k*"},
      {"-@all", "+get", "allkeys"},
      {"nocommands", "~*"},
      // every pattern shape: a literal start past 8 bytes, a wildcard inside, exact
      // names, a wildcard first
      {"+@all", "~user:1234:*", "~k?y*", "~exact", "~x", "%R~*:ro", "~[ab]*"},
  };
  const std::vector<std::vector<std::string>> calls = {
      {"k"}, {"key:1"}, {"r1"}, {"w1"}, {"app"}, {"x1"}, {"ch1", "m"}, {"key:1", "v"},
      {"w1", "v"}, {"r1", "w1"}, {}, {"key:1", "app2", "w3"}, {"user:1234:5"},
      {"user:1234"}, {"kay1"}, {"exact"}, {"exactly"}, {"x"}, {""}, {"a:ro"}, {"b1"},
  };
  int planned_calls = 0;
  for (const auto& rules : users) {
    User u("u", 0);
    ASSERT_EQ(ApplyRules(u, rules, ctx), "");
    for (const auto& c : cmds) {
      Plan p;
      bool made = MakePlan(u, c.get(), nullptr, &p);
      for (const auto& args : calls) {
        std::vector<std::string> words = {c->name};
        words.insert(words.end(), args.begin(), args.end());
        std::vector<ferrite_slice> argv;
        for (auto& w : words) argv.push_back({w.data(), w.size()});
        int argc = static_cast<int>(argv.size());
        bool planned =
            made && (p.key == 0 || p.key >= argc || PlanKeyAllowed(p, argv[p.key]));
        std::string what = c->name + " " + ::testing::PrintToString(args) + " as " +
                           ::testing::PrintToString(rules);
        EXPECT_EQ(planned, QuickAllow(u, c.get(), nullptr, argc, argv.data())) << what;
        int idx = 0;
        if (planned) {
          planned_calls++;
          EXPECT_EQ(Acl::Check(u, c.get(), nullptr, argc, argv.data(), &idx), Verdict::kOk)
              << what;
        }
      }
    }
  }
  EXPECT_GT(planned_calls, 50);
}

}  // namespace
}  // namespace ferrite::host::acl
