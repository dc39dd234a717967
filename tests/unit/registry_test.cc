// Command registry tests (no host): lookup by any case without copying, snapshots that
// stay readable after a change, batches that publish once.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "host/registry.h"

namespace ferrite::host {
namespace {

std::shared_ptr<Command> Cmd(const std::string& name) {
  auto c = std::make_shared<Command>();
  c->name = name;
  c->arity = 1;
  c->flags = 0;
  c->first_key = c->last_key = c->key_step = 0;
  c->handler = nullptr;
  c->getkeys = nullptr;
  c->owner = nullptr;
  return c;
}

TEST(Registry, FindIgnoresCase) {
  Registry r;
  ASSERT_TRUE(r.AddCommand(Cmd("Get")));
  const Command* c = r.Find("get");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "get");
  EXPECT_EQ(c->upper, "GET");
  EXPECT_EQ(r.Find("GET"), c);
  EXPECT_EQ(r.Find("gEt"), c);
  EXPECT_EQ(r.Find("ge"), nullptr);
  EXPECT_EQ(r.Find("gett"), nullptr);
  EXPECT_EQ(r.Find(""), nullptr);
}

TEST(Registry, DuplicateNameInAnyCaseIsRefused) {
  Registry r;
  ASSERT_TRUE(r.AddCommand(Cmd("set")));
  EXPECT_FALSE(r.AddCommand(Cmd("SET")));
  EXPECT_EQ(r.Commands()->size(), 1u);
}

// Only 'A'..'Z' fold: '_' is not DEL and '@' is not '`' in any case (OR-ing 0x20 into
// every byte would map them together), and bytes >= 0x80 never fold.
TEST(Registry, FoldedNonLettersDoNotMatch) {
  Registry r;
  ASSERT_TRUE(r.AddCommand(Cmd("mc.a_b")));
  ASSERT_TRUE(r.AddCommand(Cmd("x@y")));
  EXPECT_NE(r.Find("MC.A_B"), nullptr);
  EXPECT_EQ(r.Find("mc.a\x7f" "b"), nullptr);
  EXPECT_EQ(r.Find("x`y"), nullptr);
  EXPECT_NE(r.Find("X@Y"), nullptr);
  ASSERT_TRUE(r.AddCommand(Cmd("\xc1z")));
  EXPECT_EQ(r.Find("\xe1z"), nullptr);
  EXPECT_NE(r.Find("\xc1Z"), nullptr);
}

// Names of every length around the words Fold reads (1-3, 4-7, 8-15, 16, longer), that
// differ only in one byte, and long ones (the old lookup refused 64 bytes and more).
TEST(Registry, NamesOfManyLengths) {
  Registry r;
  ASSERT_TRUE(r.AddCommand(Cmd("a")));
  ASSERT_TRUE(r.AddCommand(Cmd("ab")));
  EXPECT_EQ(r.Find("A")->name, "a");
  EXPECT_EQ(r.Find("aB")->name, "ab");
  EXPECT_EQ(r.Find("b"), nullptr);
  EXPECT_EQ(r.Find("ba"), nullptr);
  EXPECT_EQ(r.Find("abc"), nullptr);
  for (int n = 1; n <= 80; n++) ASSERT_TRUE(r.AddCommand(Cmd(std::string(n, 'q') + "|x")));
  for (int n = 1; n <= 80; n++) {
    std::string upper = std::string(n, 'Q') + "|X";
    const Command* c = r.Find(upper);
    ASSERT_NE(c, nullptr) << n;
    EXPECT_EQ(c->name.size(), static_cast<size_t>(n) + 2);
    for (size_t at = 0; at < upper.size(); at++) {  // one byte off anywhere: no match
      std::string off = upper;
      off[at] = '-';
      EXPECT_EQ(r.Find(off), nullptr) << n << " " << at;
    }
  }
  EXPECT_EQ(r.Commands()->size(), 82u);
}

TEST(Registry, RemovedCommandIsGoneButOldSnapshotStaysReadable) {
  Registry r;
  ASSERT_TRUE(r.AddCommand(Cmd("a")));
  ASSERT_TRUE(r.AddCommand(Cmd("b")));
  const Registry::CommandMap* before = r.Commands();
  const Command* a = r.Find("a");
  r.RemoveCommands({"A"});
  EXPECT_EQ(r.Find("a"), nullptr);
  EXPECT_NE(r.Find("b"), nullptr);
  EXPECT_EQ(r.Commands()->size(), 1u);
  // A reader that fetched the table or a command before the change still may use it.
  EXPECT_EQ(before->size(), 2u);
  EXPECT_EQ(a->name, "a");
}

TEST(Registry, BatchPublishesOnceAtTheOutermostEnd) {
  Registry r;
  const Registry::CommandMap* empty = r.Commands();
  {
    Registry::Batch outer(r);
    ASSERT_TRUE(r.AddCommand(Cmd("one")));
    {
      Registry::Batch inner(r);
      ASSERT_TRUE(r.AddCommand(Cmd("two")));
      EXPECT_FALSE(r.AddCommand(Cmd("ONE")));  // duplicates are seen before publishing
    }
    EXPECT_EQ(r.Find("one"), nullptr);  // not yet published
    EXPECT_EQ(r.Commands(), empty);
  }
  EXPECT_NE(r.Find("one"), nullptr);
  EXPECT_NE(r.Find("TWO"), nullptr);
  EXPECT_EQ(r.Commands()->size(), 2u);
}

}  // namespace
}  // namespace ferrite::host
