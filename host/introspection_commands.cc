// SLOWLOG, MONITOR and LATENCY: the commands over what introspection.h records.
#include <algorithm>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/introspection.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
int Error(ferrite_ctx* c, std::string_view msg) {
  SendError(c, FERRITE_E_GENERIC, msg);
  return FERRITE_OK;
}
// Redis' addReplySubcommandSyntaxError: a known subcommand with arguments it refuses.
int SubcommandSyntax(ferrite_ctx* c, std::string_view cmd, std::string_view sub) {
  return Error(c, "ERR unknown subcommand or wrong number of arguments for '" +
                      std::string(sub.substr(0, 128)) + "'. Try " + std::string(cmd) + " HELP.");
}
int64_t NowS(ferrite_ctx* c) { return c->host->clock().NowMs() / 1000; }

// ------------------------------- SLOWLOG -----------------------------------------------

int CmdSlowlog(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  SlowLog& log = c->host->introspection().slowlog;
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    return ReplyHelp(c, "SLOWLOG",
                     {"GET [<count>]",
                      "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                      "    Entries are made of:",
                      "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                      "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
                      "    Reset the slowlog."});
  }
  if (EqualsIgnoreCase(sub, "RESET") && argc == 2) {
    log.Reset();
    c->sink->simple(c->st, "OK", 2);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LEN") && argc == 2) {
    c->sink->integer(c->st, static_cast<int64_t>(log.Len()));
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "GET") && (argc == 2 || argc == 3)) {
    int64_t count = 10;
    if (argc == 3) {
      // Redis' getRangeLongFromObjectOrReply: one message for a bad number and a low one.
      if (!ParseInt64(SV(argv[2]), &count) || count < -1)
        return Error(c, "ERR count should be greater than or equal to -1");
    }
    auto entries = log.Get(count);
    c->sink->array(c->st, entries.size());
    for (auto& e : entries) {
      c->sink->array(c->st, 6);
      c->sink->integer(c->st, e.id);
      c->sink->integer(c->st, e.time_s);
      c->sink->integer(c->st, e.duration_us);
      c->sink->array(c->st, e.argv.size());
      for (auto& a : e.argv) Bulk(c, a);
      Bulk(c, e.addr);
      Bulk(c, e.name);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "GET") || EqualsIgnoreCase(sub, "LEN") ||
      EqualsIgnoreCase(sub, "RESET") || EqualsIgnoreCase(sub, "HELP"))
    return SubcommandSyntax(c, "SLOWLOG", sub);
  return ReplyUnknownSubcommand(c, "SLOWLOG", sub);
}

// ------------------------------- MONITOR -----------------------------------------------

int CmdMonitor(ferrite_ctx* c, int, const ferrite_slice*) {
  Client* cl = c->client;
  // A client that expects one reply per command (inside EXEC, a script) cannot stream.
  if (c->nested) return Error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
  // Redis ignores MONITOR from a client already monitoring (or a replica): no reply.
  if (cl->monitor || cl->repl_kind != Client::ReplKind::kNone) return FERRITE_OK;
  auto self = c->host->FindClient(cl->id);
  if (!self) return Error(c, "ERR MONITOR is not available to this client");
  cl->monitor = true;
  c->host->introspection().monitors.Add(self);
  c->sink->simple(c->st, "OK", 2);
  return FERRITE_OK;
}

// ------------------------------- LATENCY -----------------------------------------------

// Redis' LATENCY DOCTOR in substance: the per-event figures latency.c computes (spike
// count, average, mean deviation, period, all-time worst) and advice by event kind.
std::string LatencyDoctor(Host* h, int64_t now_s) {
  LatencyMonitor& lm = h->introspection().latency;
  auto events = lm.Snapshot();
  if (events.empty() && lm.threshold_ms() == 0)
    return "Latency monitoring is disabled in this Ferrite instance. You may use \"CONFIG SET "
           "latency-monitor-threshold <milliseconds>.\" in order to enable it.\n";
  if (events.empty())
    return "No latency spike was observed during the lifetime of this Ferrite instance.\n";
  std::string out = "Latency spikes were observed in this Ferrite instance:\n\n";
  bool cmd = false, fast = false, expire = false, evict = false, aof = false;
  int n = 0;
  for (auto& [name, ts] : events) {
    auto samples = ts.InOrder();
    uint64_t sum = 0;
    int64_t oldest = 0;
    for (auto& s : samples) {
      sum += s.ms;
      if (oldest == 0 || s.time_s < oldest) oldest = s.time_s;
    }
    uint64_t avg = samples.empty() ? 0 : sum / samples.size(), mad = 0;
    for (auto& s : samples) mad += static_cast<uint64_t>(std::llabs(static_cast<int64_t>(avg) - s.ms));
    if (!samples.empty()) mad /= samples.size();
    int64_t period = samples.empty() ? 0 : std::max<int64_t>(1, now_s - oldest);
    char line[256];
    snprintf(line, sizeof line,
             "%d. %s: %zu latency spikes (average %llums, mean deviation %llums, period %.2f "
             "sec). Worst all time event %ums.\n",
             ++n, name.c_str(), samples.size(), static_cast<unsigned long long>(avg),
             static_cast<unsigned long long>(mad),
             samples.empty() ? 0.0 : static_cast<double>(period) / samples.size(), ts.max);
    out += line;
    cmd |= name == "command";
    fast |= name == "fast-command";
    expire |= name == "expire-cycle";
    evict |= name.rfind("eviction", 0) == 0;
    aof |= name.rfind("aof-", 0) == 0;
  }
  out += "\nAdvice:\n\n";
  int64_t slower = h->config().Int("server.slowlog_log_slower_than");
  int64_t threshold = lm.threshold_ms();
  if (cmd) {
    if (slower < 0)
      out += "- Slow commands were seen and SLOWLOG is off: 'CONFIG SET slowlog-log-slower-than " +
             std::to_string(threshold * 1000) + "' records which ones.\n";
    else if (slower / 1000 > threshold)
      out += "- SLOWLOG only records commands slower than the latency threshold's events: "
             "'CONFIG SET slowlog-log-slower-than " + std::to_string(threshold * 1000) + "'.\n";
    out += "- SLOWLOG GET lists the slow commands; commands over large values (DEL, SORT, "
           "LRANGE, SMEMBERS, KEYS) take time proportional to their size.\n";
  }
  if (fast)
    out += "- O(1) commands were slow: the process was not given CPU time (system load, "
           "noisy neighbours, swapping). Check the host's intrinsic latency.\n";
  if (expire)
    out += "- The active expiry cycle was slow: many keys expire at the same time, or expired "
           "values are large. Spread expiry times, or lower hz.\n";
  if (evict)
    out += "- Eviction was slow: a large write pushed memory far over maxmemory. Raise "
           "maxmemory or write large values in smaller pieces.\n";
  if (aof)
    out += "- AOF writes or fsyncs were slow: use a local, fast disk, or a relaxed appendfsync "
           "policy.\n";
  if (!cmd && !fast && !expire && !evict && !aof)
    out += "- No specific advice for these events.\n";
  return out;
}

// LATENCY HISTOGRAM's body for one command: calls, then the cumulative count at each
// power-of-two microsecond boundary where it grew (Redis iterates its HDR histogram in
// log steps of 2 from 1024 ns).
void CommandCdf(ferrite_ctx* c, const CallStats& cmd) {
  const LatencyHistogram* l = cmd.latency.load();
  uint64_t total = l->Count();
  c->sink->map(c->st, 2);
  Bulk(c, "calls");
  c->sink->integer(c->st, static_cast<int64_t>(total));
  Bulk(c, "histogram_usec");
  std::vector<std::pair<int64_t, uint64_t>> points;
  uint64_t prev = 0;
  double per_us = CyclesPerUs();
  for (int k = 0; k < 44 && prev < total; k++) {
    double ns = 1024.0 * static_cast<double>(uint64_t{1} << k);
    uint64_t cum = l->CountAtMost(static_cast<uint64_t>(ns / 1000.0 * per_us));
    if (cum > prev) points.emplace_back(static_cast<int64_t>(ns / 1000.0), cum);
    prev = cum;
  }
  c->sink->map(c->st, points.size());
  for (auto& [us, n] : points) {
    c->sink->integer(c->st, us);
    c->sink->integer(c->st, static_cast<int64_t>(n));
  }
}

int CmdLatency(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Host* h = c->host;
  LatencyMonitor& lm = h->introspection().latency;
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "HISTORY") && argc == 3) {
    LatencyMonitor::Series ts;
    if (!lm.Find(std::string(SV(argv[2])), &ts)) {
      c->sink->array(c->st, 0);
      return FERRITE_OK;
    }
    auto samples = ts.InOrder();
    c->sink->array(c->st, samples.size());
    for (auto& s : samples) {
      c->sink->array(c->st, 2);
      c->sink->integer(c->st, s.time_s);
      c->sink->integer(c->st, s.ms);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "GRAPH") && argc == 3) {
    std::string event(SV(argv[2]));
    LatencyMonitor::Series ts;
    if (!lm.Find(event, &ts)) return Error(c, "ERR No samples available for event '" + event + "'");
    std::string g = LatencyGraph(event, ts, NowS(c));
    c->sink->verbatim(c->st, "txt", g.data(), g.size());
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LATEST") && argc == 2) {
    auto events = lm.Snapshot();
    c->sink->array(c->st, events.size());
    for (auto& [name, ts] : events) {
      c->sink->array(c->st, 4);
      Bulk(c, name);
      c->sink->integer(c->st, ts.Last().time_s);
      c->sink->integer(c->st, ts.Last().ms);
      c->sink->integer(c->st, ts.max);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "DOCTOR") && argc == 2) {
    std::string r = LatencyDoctor(h, NowS(c));
    c->sink->verbatim(c->st, "txt", r.data(), r.size());
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "RESET")) {
    int resets = 0;
    if (argc == 2) resets = lm.Reset("");
    for (int j = 2; j < argc; j++) resets += lm.Reset(std::string(SV(argv[j])));
    c->sink->integer(c->st, resets);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "HISTOGRAM")) {
    // A command and, for a container, each of its subcommands ("client|id"), as Redis
    // fills the CDF of a command and its subcommands; "config|get" names one alone.
    std::vector<std::pair<std::string, const CallStats*>> rows;
    auto add = [&](const Command* cmd) {
      rows.emplace_back(cmd->name, cmd);
      for (auto& s : cmd->subcommands) rows.emplace_back(s.fullname, s.stats.get());
    };
    if (argc == 2) {
      std::vector<const Command*> cmds;
      for (auto& [n, cmd] : *h->registry().Commands())
        if (!(cmd->flags & FERRITE_CMD_HIDDEN)) cmds.push_back(cmd.get());
      std::sort(cmds.begin(), cmds.end(), [](auto* a, auto* b) { return a->name < b->name; });
      for (auto* cmd : cmds) add(cmd);
    } else {
      for (int j = 2; j < argc; j++) {
        std::string_view name = SV(argv[j]);
        size_t bar = name.find('|');
        const Command* cmd = h->registry().Find(name.substr(0, bar));
        if (!cmd) continue;
        if (bar == std::string_view::npos) {
          add(cmd);
          continue;
        }
        std::string_view want = name.substr(bar + 1);
        for (auto& s : cmd->subcommands)
          if (s.name.size() == want.size() && EqualsIgnoreCase(want, s.name))
            rows.emplace_back(s.fullname, s.stats.get());
      }
    }
    std::erase_if(rows, [](const auto& r) {
      const LatencyHistogram* l = r.second->latency.load();
      return !l || l->Count() == 0;
    });
    c->sink->map(c->st, rows.size());
    for (auto& [name, stats] : rows) {
      Bulk(c, name);
      CommandCdf(c, *stats);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    return ReplyHelp(
        c, "LATENCY",
        {"DOCTOR", "    Return a human readable latency analysis report.", "GRAPH <event>",
         "    Return an ASCII latency graph for the <event> class.", "HISTORY <event>",
         "    Return time-latency samples for the <event> class.", "LATEST",
         "    Return the latest latency samples for all events.", "RESET [<event> ...]",
         "    Reset latency data of one or more <event> classes.",
         "    (default: reset all data for all event classes)", "HISTOGRAM [COMMAND ...]",
         "    Return a cumulative distribution of latencies in the format of a histogram for "
         "the specified command names.",
         "    If no commands are specified then all histograms are replied."});
  }
  for (const char* known : {"HISTORY", "GRAPH", "LATEST", "DOCTOR", "HELP"})
    if (EqualsIgnoreCase(sub, known)) return SubcommandSyntax(c, "LATENCY", sub);
  return ReplyUnknownSubcommand(c, "LATENCY", sub);
}

}  // namespace

void RegisterIntrospectionCommands(Host* h) {
  using namespace sdk::flags;
  using sdk::SubcommandSpec;
  // clang-format off
  static constexpr SubcommandSpec kSlowlogSubs[] = {
    {"GET",       -2, ADMIN | LOADING | STALE},
    {"LEN",        2, ADMIN | LOADING | STALE},
    {"RESET",      2, ADMIN | LOADING | STALE},
    {"HELP",       2, LOADING | STALE},
  };
  static constexpr SubcommandSpec kLatencySubs[] = {
    {"DOCTOR",     2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"GRAPH",      3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"HISTOGRAM", -2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"HISTORY",    3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"LATEST",     2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"RESET",     -2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"HELP",       2, LOADING | STALE},
  };
  AddHostCommand(h, "SLOWLOG", -2, ADMIN | LOADING | STALE,            0, 0, 0, CmdSlowlog, "server", "A container for slow log commands", sdk::Subcommands(kSlowlogSubs));
  AddHostCommand(h, "LATENCY", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, CmdLatency, "server", "A container for latency diagnostics commands", sdk::Subcommands(kLatencySubs));
  AddHostCommand(h, "MONITOR",  1, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, CmdMonitor, "server", "Listen for all requests received by the server in real-time");
  // clang-format on
}

}  // namespace ferrite::host
