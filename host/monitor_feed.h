// MONITOR: every command any client runs, as Redis' replicationFeedMonitors formats it
// ("<sec>.<usec> [<db> <addr>] "arg" ..."), sent to each monitoring client on its own
// thread. Active() is one relaxed load, so nothing else is paid while nobody monitors.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {

struct Client;

class MonitorFeed {
 public:
  bool Active() const { return active_.load(std::memory_order_relaxed) > 0; }
  void Add(const std::shared_ptr<Client>& c);
  void Remove(const Client* c);
  bool Contains(const Client* c) const;

  // Where a fed command came from, for the bracket ("[0 lua]", "[0 unix:/p]", "[0 ip:port]").
  enum class Origin { kClient, kScript };
  // Formats the line once and posts it to every monitor. `redact`: argument indexes
  // shown as "(redacted)".
  void Feed(const Client& from, Origin origin, int db, int argc, const ferrite_slice* argv,
            const std::vector<int>& redact, int64_t now_us);

  // sdscatrepr: a quoted string with \n \r \t \a \b \\ \" and \xHH escapes.
  static void AppendRepr(std::string& out, const char* p, size_t n);

 private:
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<Client>> monitors_;
  std::atomic<int> active_{0};
};

}  // namespace ferrite::host
