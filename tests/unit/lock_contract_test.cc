// Which shards a command holds while its handler runs (host/lock_plan.cc): the lock
// contract (never without locks; open_key refuses a key outside them), EXEC and scripts
// holding only their keys' shards, a script taking an undeclared key's shard, and the
// priority claim (LockSet::Extend) that makes that safe.
#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "host/context.h"
#include "host/host.h"
#include "host/server_commands.h"
#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

using host::HashKey;
using host::Keyspace;
using host::LockSet;

int ShardOf(Keyspace& ks, std::string_view key) { return ks.ShardIndex(HashKey(key)); }

// Whether another thread finds the shard locked (by this one): the observation works
// the same whatever the host under test records about its own locks.
bool LockedElsewhere(Keyspace& ks, int shard) {
  return std::async(std::launch::async, [&] {
           if (!ks.shard(shard).mu.try_lock()) return true;
           ks.shard(shard).mu.unlock();
           return false;
         }).get();
}

// LOCKPROBE key...: keyless; per key 1 if its shard is held at that moment, else 0.
int CmdLockProbe(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Keyspace& ks = c->host->keyspace();
  c->sink->array(c->st, static_cast<size_t>(argc - 1));
  for (int i = 1; i < argc; i++)
    c->sink->integer(c->st, LockedElsewhere(ks, ShardOf(ks, {argv[i].ptr, argv[i].len})));
  return FERRITE_OK;
}

// BADKEYS key: its key extraction always fails (as a bad numkeys makes ZUNIONSTORE's).
int FailingGetKeys(int, const ferrite_slice*, int*, int) { return -1; }

// WRONGKEY declared other: declares argv[1] and opens argv[2].
int CmdWrongKey(ferrite_ctx* c, int, const ferrite_slice* argv) {
  ferrite_key* k = host::HostApi()->open_key(c, argv[2], FERRITE_KEY_READ);
  c->sink->integer(c->st, k && host::HostApi()->key_exists(k));
  return FERRITE_OK;
}

// Names whose keys fall on pairwise different shards.
std::vector<std::string> KeysOnDistinctShards(Keyspace& ks, int n) {
  std::vector<std::string> out;
  std::vector<int> used;
  for (int i = 0; out.size() < static_cast<size_t>(n); i++) {
    std::string k = "k" + std::to_string(i);
    int s = ShardOf(ks, k);
    if (std::find(used.begin(), used.end(), s) != used.end()) continue;
    used.push_back(s);
    out.push_back(k);
  }
  return out;
}

class LockContract : public ::testing::Test {
 protected:
  LockContract() : h(HarnessOptions{{"strings", "keys", "scripting"}}) {
    host::Host* hp = &h.host();
    host::AddHostCommand(hp, "LOCKPROBE", -2, 0, 0, 0, 0, CmdLockProbe, "server", "test");
    host::AddHostCommand(hp, "BADKEYS", 2, 0, 1, 1, 1, CmdLockProbe, "server", "test", {},
                         FailingGetKeys);
    host::AddHostCommand(hp, "WRONGKEY", 3, FERRITE_CMD_READONLY, 1, 1, 1, CmdWrongKey,
                         "server", "test");
    keys = KeysOnDistinctShards(h.host().keyspace(), 3);
  }
  Harness h;
  std::vector<std::string> keys;  // a, b, c on three different shards
};

TEST_F(LockContract, FailedKeyExtractionStillRunsUnderLocks) {
  EXPECT_THAT(h.Run({"BADKEYS", keys[0]}), IsIntArray({1}));
}

TEST_F(LockContract, OpenKeyRefusesAKeyOutsideTheLockedShards) {
#ifdef NDEBUG
  EXPECT_THAT(h.Run({"WRONGKEY", keys[0], keys[1]}), IsErrorPrefix("ERR internal error"));
  // The declared key itself is fine.
  EXPECT_THAT(h.Run({"WRONGKEY", keys[0], keys[0]}), IsInt(0));
#else
  EXPECT_DEATH(h.Run({"WRONGKEY", keys[0], keys[1]}), "");
#endif
}

TEST_F(LockContract, ExecHoldsOnlyItsKeysShards) {
  h.Run({"WATCH", keys[2]});
  h.Run({"MULTI"});
  h.Run({"SET", keys[0], "1"});
  h.Run({"LOCKPROBE", keys[0], keys[1], keys[2]});
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsOk(), IsIntArray({1, 0, 1})}));
}

TEST_F(LockContract, ExecWithAWholeKeyspaceCommandHoldsEveryShard) {
  h.Run({"MULTI"});
  h.Run({"DBSIZE"});
  h.Run({"LOCKPROBE", keys[0], keys[1]});
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsInt(0), IsIntArray({1, 1})}));
}

TEST_F(LockContract, ExecWithFailingKeyExtractionHoldsEveryShard) {
  h.Run({"MULTI"});
  h.Run({"BADKEYS", keys[2]});
  h.Run({"LOCKPROBE", keys[0], keys[1]});
  EXPECT_THAT(h.Run({"EXEC"}), IsArrayOf({IsIntArray({1}), IsIntArray({1, 1})}));
}

TEST_F(LockContract, ScriptHoldsOnlyItsDeclaredKeysShards) {
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('lockprobe', KEYS[1], ARGV[1])", "1", keys[0],
                     keys[1]}),
              IsIntArray({1, 0}));
  EXPECT_THAT(h.Run({"EVAL", "return redis.call('lockprobe', 'x', ARGV[1])", "0", keys[1]}),
              IsIntArray({1, 1}));
}

TEST_F(LockContract, ScriptTakesAnUndeclaredKeysShardAndKeepsIt) {
  EXPECT_THAT(h.Run({"EVAL",
                     "redis.call('set', ARGV[1], 'v') "
                     "return redis.call('lockprobe', KEYS[1], ARGV[1], ARGV[2])",
                     "1", keys[0], keys[1], keys[2]}),
              IsIntArray({1, 1, 0}));
  EXPECT_THAT(h.Run({"GET", keys[1]}), IsBulk("v"));
  // A whole-keyspace command from the script takes every shard.
  EXPECT_THAT(h.Run({"EVAL",
                     "redis.call('dbsize') return redis.call('lockprobe', ARGV[1], ARGV[2])",
                     "1", keys[0], keys[1], keys[2]}),
              IsIntArray({1, 1}));
}

// A claimant holding shard `hi` takes shard `lo` out of order while another lock set
// holds `lo` and waits for `hi`: the waiter lets go, the claim is served, no deadlock.
TEST(LockSetClaim, ExtendOutOfOrderMakesAWaiterBackOff) {
  Keyspace ks(64, 1);
  const int lo = 3, hi = 40;
  std::promise<void> holds_hi, waiter_holds_lo;
  std::promise<bool> claimed;
  std::thread claimant([&] {
    LockSet mine;
    std::vector<int> idx{hi};
    mine.Acquire(ks, idx);
    holds_hi.set_value();
    waiter_holds_lo.get_future().wait();
    bool ok = mine.Extend(ks, lo, [](void*) { return false; }, nullptr);
    claimed.set_value(ok && mine.Holds(lo) && mine.Holds(hi));
  });
  holds_hi.get_future().wait();
  std::thread waiter([&] {
    LockSet w;
    std::vector<int> both{hi, lo};
    w.Acquire(ks, both);  // takes lo, then waits for hi
  });
  // Until the waiter holds lo (it takes it at once; bounded all the same).
  for (int i = 0; i < 10000 && !LockedElsewhere(ks, lo); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  waiter_holds_lo.set_value();
  auto f = claimed.get_future();
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "the claim deadlocked with the waiter";
    std::abort();  // the threads cannot be joined
  }
  EXPECT_TRUE(f.get());
  claimant.join();  // releases both: the waiter then gets them and ends
  waiter.join();
}

}  // namespace
}  // namespace ferrite::test
