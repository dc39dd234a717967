// What the host records about the commands it runs, for operators: SLOWLOG, MONITOR and
// the LATENCY event monitor (INFO commandstats/latencystats live on the Command). The
// dispatcher calls these after each command (and EXEC after each command of its body,
// call() after each command a script runs); when none is enabled each costs one relaxed
// atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "ferrite/module.h"
#include "host/latency_monitor.h"
#include "host/monitor_feed.h"
#include "host/slowlog.h"

namespace ferrite::host {

class Config;
class Host;
struct Client;
struct Command;

struct Introspection {
  explicit Introspection(Config& cfg);
  SlowLog slowlog;
  MonitorFeed monitors;
  LatencyMonitor latency;
};

// Argument indexes Redis shows as "(redacted)" in SLOWLOG and MONITOR: AUTH's
// credentials, HELLO ... AUTH's, MIGRATE's AUTH/AUTH2, CONFIG SET of requirepass,
// masterauth and masteruser.
std::vector<int> RedactedArgs(int argc, const ferrite_slice* argv);

// After a client's command (or a command of an EXEC body) ran for `cycles` TSC cycles:
// SLOWLOG, the command / fast-command latency events, MONITOR (unless the command is
// ADMIN or SKIP_MONITOR). Inside a conn_request bracket only the FAST-ness is noted.
void RecordCall(Host* h, Client* c, uint32_t flags, int argc, const ferrite_slice* argv,
                uint64_t cycles);
// MONITOR alone: a SKIP_MONITOR command before it runs, a command a script called
// ("[db lua]"), an EXEC refused with EXECABORT.
void FeedMonitors(Host* h, Client* c, MonitorFeed::Origin origin, int argc,
                  const ferrite_slice* argv);
// conn_request: argc > 0 begins a request, 0 ends it and records it.
void ConnRequest(Host* h, Client* c, int argc, const ferrite_slice* argv);

}  // namespace ferrite::host
