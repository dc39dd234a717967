// In-process test harness: a real ferrite::host::Host with the real plugin .so files
// loaded, no sockets. Family tests for modules go through it:
//
//   ferrite::test::Harness h;                       // loads strings + keys
//   EXPECT_THAT(h.Run({"SET", "k", "v"}), IsOk());
//   EXPECT_THAT(h.Run({"GET", "k"}), IsBulk("v"));
//   EXPECT_THAT(h.Run({"LPUSH", "k", "x"}), IsError("WRONGTYPE Operation against a key holding the wrong kind of value"));
//   h.AdvanceTime(1500);                            // the host clock, no sleeping
//
// Errors carry the exact text a RESP client would see (without '-' and CRLF).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {
class Host;
}

namespace ferrite::test {

struct Reply {
  ferrite_reply_type type = FERRITE_REPLY_NULL;
  std::string str;            // simple, bulk, verbatim, bignum; error: full RESP text
  int64_t integer = 0;        // integer; bool (0/1)
  double dbl = 0;             // double
  std::vector<Reply> elems;   // array, set, push; map: k1 v1 k2 v2 ...
  bool blocked = false;       // the command parked the client (see Harness::Pending)

  std::string ToString() const;  // RESP3-ish rendering for failure messages
};
void PrintTo(const Reply& r, std::ostream* os);

struct HarnessOptions {
  // Plugin artefact names without ".so", loaded from the build's plugins/ folder.
  std::vector<std::string> plugins = {"strings", "keys"};
  // Config overrides by TOML address, e.g. {"storage.max_memory", "1mb"}.
  std::vector<std::pair<std::string, std::string>> config = {};
  int resp = 2;  // protocol version of every client (HELLO 3 switches one client)
};

class Harness {
 public:
  Harness();
  explicit Harness(HarnessOptions opts);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Runs one command as client 0 / as client `client` (each client has its own db,
  // MULTI state, WATCHes, subscriptions). Clients are created on first use.
  Reply Run(std::initializer_list<std::string_view> argv);
  Reply Run(const std::vector<std::string>& argv);
  Reply RunOn(int client, std::initializer_list<std::string_view> argv);
  Reply RunOn(int client, const std::vector<std::string>& argv);

  // Replies that reached a client out of band since the last call: replies of
  // unblocked commands and pub/sub pushes, in order.
  std::vector<Reply> Pending(int client);

  // Moves the host clock forward and runs due timers (blocked-client time-outs, the
  // active expiry cycle).
  void AdvanceTime(int64_t ms);

  // The host clock (frozen by the harness; moved by AdvanceTime).
  int64_t NowMs();

  ferrite::host::Host& host();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int resp_ = 2;
};

// Records what the host propagates (SELECT included), from construction to
// destruction — so module tests need no host headers. It is a sink of `target`
// (FERRITE_PROPAGATE_AOF: what the AOF gets; FERRITE_PROPAGATE_REPL: the replicas').
class PropagationRecorder {
 public:
  struct Command {
    int db;
    std::vector<std::string> argv;
  };
  explicit PropagationRecorder(Harness& h, uint32_t target = FERRITE_PROPAGATE_AOF);
  ~PropagationRecorder();
  PropagationRecorder(const PropagationRecorder&) = delete;
  PropagationRecorder& operator=(const PropagationRecorder&) = delete;
  const std::vector<Command>& commands() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Records keyspace events of the classes in `mask` (FERRITE_NOTIFY_*), as an event
// subscriber plugin would see them (notify-keyspace-events must enable them).
class EventRecorder {
 public:
  struct Event {
    int db;
    uint32_t type_class;
    std::string event, key;
  };
  EventRecorder(Harness& h, uint32_t mask);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;
  const std::vector<Event>& events() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Matchers
::testing::Matcher<const Reply&> IsOk();
::testing::Matcher<const Reply&> IsSimple(std::string s);
::testing::Matcher<const Reply&> IsInt(int64_t v);
::testing::Matcher<const Reply&> IsBulk(std::string s);
::testing::Matcher<const Reply&> IsDouble(double v);
::testing::Matcher<const Reply&> IsNull();       // null bulk (RESP2 $-1 / RESP3 _)
::testing::Matcher<const Reply&> IsNullArray();  // RESP2 *-1
::testing::Matcher<const Reply&> IsError(std::string exact_text);
::testing::Matcher<const Reply&> IsErrorPrefix(std::string prefix);
// Array of bulk strings, in order / in any order.
::testing::Matcher<const Reply&> IsBulkArray(std::vector<std::string> v);
::testing::Matcher<const Reply&> IsUnorderedBulkArray(std::vector<std::string> v);
::testing::Matcher<const Reply&> IsIntArray(std::vector<int64_t> v);
::testing::Matcher<const Reply&> IsArrayOf(std::vector<::testing::Matcher<const Reply&>> m);
::testing::Matcher<const Reply&> IsEmptyArray();

}  // namespace ferrite::test
