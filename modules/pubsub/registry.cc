#include "registry.h"

#include <algorithm>

#include "ferrite/module.hpp"

namespace ferrite::mod::pubsub {

std::unordered_map<std::string, Registry::Subscribers>& Registry::Table(Kind kind) {
  return kind == Kind::kChannel ? channels_ : kind == Kind::kPattern ? patterns_ : shards_;
}
const std::unordered_map<std::string, Registry::Subscribers>& Registry::Table(
    Kind kind) const {
  return kind == Kind::kChannel ? channels_ : kind == Kind::kPattern ? patterns_ : shards_;
}

bool Registry::Subscribe(ConnId id, Kind kind, std::string_view name, bool* first_ever) {
  std::lock_guard lk(mu_);
  auto [it, inserted_client] = clients_.try_emplace(id);
  if (first_ever) *first_ever = inserted_client;
  auto& mine = it->second.subs[static_cast<int>(kind)];
  std::string key(name);
  if (!mine.emplace(key, seq_++).second) return false;
  Table(kind)[key].push_back(id);
  return true;
}

void Registry::RemoveLocked(ConnId id, Kind kind, const std::string& name) {
  auto& table = Table(kind);
  auto t = table.find(name);
  if (t == table.end()) return;
  auto& subs = t->second;
  subs.erase(std::find(subs.begin(), subs.end(), id));
  if (subs.empty()) table.erase(t);
}

bool Registry::Unsubscribe(ConnId id, Kind kind, std::string_view name) {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return false;
  auto& mine = c->second.subs[static_cast<int>(kind)];
  auto it = mine.find(std::string(name));
  if (it == mine.end()) return false;
  RemoveLocked(id, kind, it->first);
  mine.erase(it);
  return true;
}

std::vector<std::string> Registry::SubscriptionsOf(ConnId id, Kind kind) const {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return {};
  const auto& mine = c->second.subs[static_cast<int>(kind)];
  std::vector<std::pair<uint64_t, std::string>> v;
  v.reserve(mine.size());
  for (const auto& [name, seq] : mine) v.emplace_back(seq, name);
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  out.reserve(v.size());
  for (auto& [seq, name] : v) out.push_back(std::move(name));
  return out;
}

size_t Registry::CountFor(ConnId id, Kind kind) const {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return 0;
  const auto& s = c->second.subs;
  if (kind == Kind::kShard) return s[2].size();
  return s[0].size() + s[1].size();
}

size_t Registry::Total(ConnId id) const {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return 0;
  const auto& s = c->second.subs;
  return s[0].size() + s[1].size() + s[2].size();
}

std::array<size_t, 3> Registry::Counts(ConnId id) const {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return {0, 0, 0};
  const auto& s = c->second.subs;
  return {s[0].size(), s[1].size(), s[2].size()};
}

void Registry::Drop(ConnId id) {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return;
  for (int k = 0; k < 3; k++)
    for (const auto& [name, seq] : c->second.subs[k]) RemoveLocked(id, static_cast<Kind>(k), name);
  clients_.erase(c);
}

void Registry::Clear(ConnId id) {
  std::lock_guard lk(mu_);
  auto c = clients_.find(id);
  if (c == clients_.end()) return;
  for (int k = 0; k < 3; k++) {
    for (const auto& [name, seq] : c->second.subs[k]) RemoveLocked(id, static_cast<Kind>(k), name);
    c->second.subs[k].clear();
  }
}

bool Registry::Known(ConnId id) const {
  std::lock_guard lk(mu_);
  return clients_.count(id) > 0;
}

int64_t Registry::Publish(Kind kind, std::string_view channel, std::string_view msg,
                          PushSink& sink) const {
  std::lock_guard lk(mu_);
  int64_t receivers = 0;
  const auto& table = Table(kind == Kind::kShard ? Kind::kShard : Kind::kChannel);
  auto t = table.find(std::string(channel));
  if (t != table.end()) {
    std::string_view parts[3] = {kind == Kind::kShard ? "smessage" : "message", channel, msg};
    for (ConnId id : t->second) {
      sink.Push(id, parts, 3);
      receivers++;
    }
  }
  if (kind == Kind::kShard) return receivers;
  for (const auto& [pattern, subs] : patterns_) {
    if (!sdk::GlobMatch(pattern, channel)) continue;
    std::string_view parts[4] = {"pmessage", pattern, channel, msg};
    for (ConnId id : subs) {
      sink.Push(id, parts, 4);
      receivers++;
    }
  }
  return receivers;
}

std::vector<std::string> Registry::Channels(Kind kind, const std::string* pattern) const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [name, subs] : Table(kind))
    if (!pattern || sdk::GlobMatch(*pattern, name)) out.push_back(name);
  return out;
}

int64_t Registry::NumSub(Kind kind, std::string_view name) const {
  std::lock_guard lk(mu_);
  const auto& table = Table(kind);
  auto t = table.find(std::string(name));
  return t == table.end() ? 0 : static_cast<int64_t>(t->second.size());
}

int64_t Registry::NumPat() const {
  std::lock_guard lk(mu_);
  return static_cast<int64_t>(patterns_.size());
}

}  // namespace ferrite::mod::pubsub
