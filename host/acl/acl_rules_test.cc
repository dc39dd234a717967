// The rule parser, describer and key facts without a host: Redis 7.0's texts and results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/acl/command_facts.h"
#include "host/acl/sha256.h"
#include "host/acl/user.h"

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
  std::vector<KeyRef> keys;
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

}  // namespace
}  // namespace ferrite::host::acl
