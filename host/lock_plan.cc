// Which shards a command locks, and taking them (docs/architecture.md, "Locking").
//
// A handler may touch only the keys whose shards it holds (open_key checks, api.cc).
// So every command that has keys gets a plan: its key spec's shards; every shard when it
// is ALL_KEYS or when its key extraction fails (the handler then runs, under every
// shard, to reply its own syntax error). EXEC plans the union of what its queued
// commands need plus its WATCHed keys; a script its declared keys (every shard when it
// declares none), and takes any other key it touches as it goes (ExtendHeld).
#include <chrono>

#include "host/host.h"

namespace ferrite::host {

namespace {

constexpr auto kSlotPoll = std::chrono::milliseconds(5);

bool BusyOrStopping(void* host) {
  auto* h = static_cast<Host*>(host);
  std::string_view text;
  return h->shutting_down.load(std::memory_order_relaxed) || h->ScriptBusy(&text);
}

bool NeverGiveUp(void*) { return false; }

void AddKeyShards(const Keyspace& ks, const std::vector<int>& idx, const ferrite_slice* argv,
                  std::vector<int>& shards) {
  for (int i : idx) shards.push_back(ks.ShardIndex(HashKey({argv[i].ptr, argv[i].len})));
}

// What a command run inside another (a queued command of EXEC, a script's redis.call)
// needs on top of the keys of its spec. A keyless admin command may read the whole
// keyspace assuming its caller holds it (DEBUG DIGEST, DEBUG POPULATE inside EXEC), and
// a transaction or script inside one runs its own nested commands: every shard.
Host::LockKind PlanInner(const Keyspace& ks, const Command* cmd, uint32_t flags, int argc,
                         const ferrite_slice* argv, std::vector<int>& shards) {
  using K = Host::LockKind;
  if (cmd->lock_rule != Command::LockRule::kSpec || (cmd->flags & FERRITE_CMD_ALL_KEYS))
    return K::kAll;
  if (cmd->first_key <= 0 && !cmd->getkeys) return (flags & FERRITE_CMD_ADMIN) ? K::kAll : K::kNone;
  std::vector<int> idx;
  if (!cmd->Keys(argc, argv, idx)) return K::kAll;
  AddKeyShards(ks, idx, argv, shards);
  return idx.empty() ? K::kNone : K::kShards;
}

}  // namespace

Host::LockKind Host::PlanLocks(const Command* cmd, const Client* c, int argc,
                               const ferrite_slice* argv, std::vector<int>& shards) {
  shards.clear();
  const Keyspace& ks = *keyspace_;
  if (cmd->lock_rule == Command::LockRule::kExec) {
    // EXEC without MULTI, or after a queueing error, only replies an error.
    if (!c->in_multi || c->multi_error) return LockKind::kNone;
    for (auto& w : c->watched) shards.push_back(ks.ShardIndex(HashKey(w.key)));
    std::vector<ferrite_slice> qargv;
    for (auto& q : c->queued) {
      qargv.clear();
      for (auto& a : q) qargv.push_back({a.data(), a.size()});
      const Command* qc = registry_.Find(q[0]);
      if (!qc) continue;  // EXEC answers it an error without running anything
      int n = static_cast<int>(qargv.size());
      uint32_t flags = CallFlags(qc, qc->FindSubcommand(n, qargv.data()));
      if (PlanInner(ks, qc, flags, n, qargv.data(), shards) == LockKind::kAll) return LockKind::kAll;
    }
    return shards.empty() ? LockKind::kNone : LockKind::kShards;
  }
  if (cmd->lock_rule == Command::LockRule::kScript) {
    thread_local std::vector<int> idx;
    if (!cmd->Keys(argc, argv, idx) || idx.empty()) return LockKind::kAll;
    AddKeyShards(ks, idx, argv, shards);
    return LockKind::kShards;
  }
  if (cmd->flags & FERRITE_CMD_ALL_KEYS) return LockKind::kAll;
  if (cmd->first_key <= 0 && !cmd->getkeys) return LockKind::kNone;
  thread_local std::vector<int> idx;
  // The lock contract: a handler never runs without its locks. Key extraction fails on
  // malformed arguments (a bad numkeys); the handler still runs to reply its error.
  if (!cmd->Keys(argc, argv, idx)) return LockKind::kAll;
  AddKeyShards(ks, idx, argv, shards);
  return idx.empty() ? LockKind::kNone : LockKind::kShards;
}

Host::LockKind Host::PlanCall(const Command* cmd, uint32_t flags, int argc,
                              const ferrite_slice* argv, std::vector<int>& shards) {
  shards.clear();
  return PlanInner(*keyspace_, cmd, flags, argc, argv, shards);
}

bool Host::LockPlanned(LockSet& locks, LockKind kind, std::vector<int>& shards,
                       bool may_give_up) {
  LockSet::GiveUp give_up = may_give_up ? BusyOrStopping : NeverGiveUp;
  switch (kind) {
    case LockKind::kNone: return true;
    case LockKind::kAll: return locks.AcquireAllUnless(*keyspace_, give_up, this);
    case LockKind::kShards: return locks.AcquireUnless(*keyspace_, shards, give_up, this);
  }
  return true;
}

bool Host::ExtendHeld(LockKind kind, std::vector<int>& shards) {
  LockSet* cur = LockSet::Current();
  if (kind == LockKind::kNone || (cur && cur->holds_all())) return true;
  if (!cur) return false;  // nothing held to extend: a caller outside any command
  if (kind == LockKind::kAll) {
    for (int i = 0; i < keyspace_->num_shards(); i++)
      if (!cur->Extend(*keyspace_, i, &Host::StopRequested, this)) return false;
    return true;
  }
  for (int s : shards)
    if (!cur->Extend(*keyspace_, s, &Host::StopRequested, this)) return false;
  return true;
}

bool Host::TakeScriptSlot(std::unique_lock<std::timed_mutex>& slot, bool may_give_up) {
  slot = std::unique_lock(script_slot_, std::defer_lock);
  if (slot.try_lock()) return true;
  while (!slot.try_lock_for(kSlotPoll))
    if (may_give_up ? BusyOrStopping(this) : StopRequested(this)) return false;
  return true;
}

}  // namespace ferrite::host
