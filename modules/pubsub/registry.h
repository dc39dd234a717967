// The pub/sub registry: channel → subscribers, pattern → subscribers, shard channel →
// subscribers, and per connection what it is subscribed to. Pure data behind one mutex;
// it knows nothing of the host: deliveries go through a PushSink the caller provides, so
// the registry is tested without a host (registry_test.cc).
//
// Threads: every method may be called from any worker thread. Publish holds the mutex
// while it hands messages to the sink, so a subscriber that saw its subscribe
// confirmation gets every message published after it, and messages of one publisher
// reach each subscriber in publish order (the sink, conn_push, queues in call order).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ferrite::mod::pubsub {

using ConnId = uint64_t;

// The three independent namespaces of Redis 7.0 pub/sub.
enum class Kind { kChannel = 0, kPattern = 1, kShard = 2 };

// Where messages go. Push returns false when the connection is gone.
class PushSink {
 public:
  virtual ~PushSink() = default;
  virtual bool Push(ConnId id, const std::string_view* parts, int n) = 0;
};

class Registry {
 public:
  // Adds the subscription; returns false if the connection already had it.
  // *first_ever is set when this is the connection's first subscription of any kind
  // since it was last dropped (the caller then registers a close hook).
  bool Subscribe(ConnId id, Kind kind, std::string_view name, bool* first_ever = nullptr);
  // Removes it; returns false if the connection did not have it.
  bool Unsubscribe(ConnId id, Kind kind, std::string_view name);
  // The connection's subscriptions of one kind, in the order they were made.
  std::vector<std::string> SubscriptionsOf(ConnId id, Kind kind) const;
  // Redis' clientSubscriptionsCount (channels + patterns) for kChannel/kPattern, and
  // clientShardSubscriptionsCount for kShard.
  size_t CountFor(ConnId id, Kind kind) const;
  // Every subscription of the connection (what RESP2 subscribed mode depends on).
  size_t Total(ConnId id) const;
  // The connection's subscriptions of each kind, indexed by Kind (CLIENT LIST's sub=,
  // psub= and ssub=).
  std::array<size_t, 3> Counts(ConnId id) const;
  // Forgets the connection entirely (close).
  void Drop(ConnId id);
  // Removes every subscription but remembers the connection (RESET: its close hook
  // stays registered, so first_ever stays false).
  void Clear(ConnId id);
  // True once Subscribe reported first_ever and until Drop.
  bool Known(ConnId id) const;
  // Calls visit(kind, name) for each of the connection's subscriptions, in no particular
  // order, until it returns false. Holds the mutex meanwhile: `visit` must not call the
  // registry.
  template <typename Visit>
  void ForEachOf(ConnId id, Visit&& visit) const {
    std::lock_guard lk(mu_);
    auto c = clients_.find(id);
    if (c == clients_.end()) return;
    for (int k = 0; k < 3; k++)
      for (const auto& [name, seq] : c->second.subs[k])
        if (!visit(static_cast<Kind>(k), std::string_view(name))) return;
  }

  // Delivers ["message", channel, msg] to channel subscribers and
  // ["pmessage", pattern, channel, msg] to matching pattern subscribers (kChannel), or
  // ["smessage", channel, msg] to shard subscribers (kShard). Returns the receivers
  // count as PUBLISH/SPUBLISH reply it.
  int64_t Publish(Kind kind, std::string_view channel, std::string_view msg,
                  PushSink& sink) const;

  // PUBSUB CHANNELS / SHARDCHANNELS (kind kChannel or kShard); empty pattern = all.
  std::vector<std::string> Channels(Kind kind, const std::string* pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB for one name.
  int64_t NumSub(Kind kind, std::string_view name) const;
  // PUBSUB NUMPAT: distinct patterns with at least one subscriber.
  int64_t NumPat() const;

 private:
  struct ClientSubs {
    // name → order of subscription, one map per Kind.
    std::unordered_map<std::string, uint64_t> subs[3];
  };
  using Subscribers = std::vector<ConnId>;  // in subscription order, as Redis' lists

  std::unordered_map<std::string, Subscribers>& Table(Kind kind);
  const std::unordered_map<std::string, Subscribers>& Table(Kind kind) const;
  void RemoveLocked(ConnId id, Kind kind, const std::string& name);

  mutable std::mutex mu_;
  // A name with no subscriber left is erased, so PUBSUB CHANNELS/NUMPAT count sizes.
  std::unordered_map<std::string, Subscribers> channels_, patterns_, shards_;
  std::unordered_map<ConnId, ClientSubs> clients_;
  uint64_t seq_ = 0;
};

}  // namespace ferrite::mod::pubsub
