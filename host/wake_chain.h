// Wake chains: a client's next command waits for the blocked clients its command woke.
//
// Redis serves every client a write made ready (and the clients those wake in turn: a
// BLMOVE from list1 to list2 wakes a BLMOVE waiting on list2) before it reads the next
// command of any client, so the writer's reply, and whatever it sends next, comes after
// the whole chain was served. Here a woken client runs its command again on its own
// worker thread, after the write has finished. To keep the writer's view the same, the
// wake-ups a command posts carry a reference to a WakeChain node of that command; the
// woken client keeps it until its re-run is done, and passes it on (inside a node of its
// own, which holds it) to the clients its re-run wakes or hands a key on to. The
// writer's reply is held back (not written, its further input not parsed) until the
// last reference is gone: the node's destructor posts the writer's resume to its thread.
// A woken client's own next command waits the same way for the clients it woke.
//
// Nothing blocks a thread: a held connection just stops parsing and writing, as a
// blocked one does, and every re-run ends without waiting for any held client, so the
// references always drain. A re-run that has to wait for a busy script drops what it
// holds (the writer is answered, as before the chain existed), so a hold lasts about as
// long as the re-runs themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace ferrite::host {

class Host;
struct Client;

// One command run's link in a chain. `on_done` (if any) resumes the client whose run
// created it; `parents` are the chains that run served on behalf of, kept alive until
// everything this run woke is done. Destroyed on whichever thread drops the last
// reference (maybe under the blocking mutex): on_done only posts.
struct WakeChain {
  std::function<void()> on_done;
  std::vector<std::shared_ptr<WakeChain>> parents;
  ~WakeChain() {
    if (on_done) on_done();
  }
};
using WakeChainRef = std::shared_ptr<WakeChain>;

// The run this thread is executing right now: a client's own command (Execute), a woken
// client's re-run (RerunBlocked), or a hand-off on behalf of a client that left a wait
// queue without a run of its own (closed, timed out: `c` null). Scopes nest (a command
// served inside a yielding script's run has its own); the innermost one is current.
class WakeScope {
 public:
  WakeScope(Host* h, Client* c, std::vector<WakeChainRef> parents = {});
  ~WakeScope();
  WakeScope(const WakeScope&) = delete;
  WakeScope& operator=(const WakeScope&) = delete;

  // True when the current scope is `c`'s own run (a nested Execute of the same client:
  // a re-run's Execute, a served command's hand-off).
  static bool Owns(const Client* c);
  // Records the current run's chain on `waiter`, whose re-run a signal posts now or
  // has pending or running (BlockState::chains). Nothing for the run's own client.
  // Called with the blocking mutex held, on the thread of the current scope.
  static void Attach(Client* waiter);
  // Chains a client leaving a wait queue held: the hand-offs made from the current scope
  // carry them too. Added beside the scope's own node, never into it, so a node's
  // parents are fixed when it is made and the references form no cycle.
  static void Adopt(std::vector<WakeChainRef> chains);

  // Ends the run: drops the scope's own reference. True when something it woke is still
  // being served; the client is then held (Client::wake_hold names the chain) and its
  // on_unblocked is called on its thread once the chain is done.
  bool Finish();

 private:
  WakeChainRef Node();

  Host* host_;
  Client* client_;
  bool can_hold_;
  std::vector<WakeChainRef> parents_;
  std::vector<WakeChainRef> adopted_;
  WakeChainRef node_;
  uint64_t node_id_ = 0;
  WakeScope* prev_;
};

}  // namespace ferrite::host
