#include "host/introspection.h"

#include "ferrite/module.hpp"
#include "host/config.h"
#include "host/context.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::SV;

Introspection::Introspection(Config& cfg)
    : slowlog(cfg.IntRef("server.slowlog_log_slower_than"), cfg.IntRef("server.slowlog_max_len")),
      latency(cfg.IntRef("server.latency_monitor_threshold")) {}

std::vector<int> RedactedArgs(int argc, const ferrite_slice* argv) {
  std::vector<int> out;
  if (argc < 2) return out;
  std::string_view name = SV(argv[0]);
  if (EqualsIgnoreCase(name, "AUTH")) {
    for (int j = 1; j < argc && j <= 2; j++) out.push_back(j);
  } else if (EqualsIgnoreCase(name, "HELLO")) {
    for (int j = 2; j < argc; j++) {
      if (EqualsIgnoreCase(SV(argv[j]), "AUTH") && j + 2 < argc) {
        out.push_back(++j);
        out.push_back(++j);
      } else if (EqualsIgnoreCase(SV(argv[j]), "SETNAME")) {
        j++;
      }
    }
  } else if (EqualsIgnoreCase(name, "MIGRATE")) {
    for (int j = 6; j < argc; j++) {
      if (EqualsIgnoreCase(SV(argv[j]), "AUTH") && j + 1 < argc) {
        out.push_back(++j);
      } else if (EqualsIgnoreCase(SV(argv[j]), "AUTH2") && j + 2 < argc) {
        out.push_back(++j);
        out.push_back(++j);
      } else if (EqualsIgnoreCase(SV(argv[j]), "KEYS")) {
        break;
      }
    }
  } else if (EqualsIgnoreCase(name, "ACL") && argc >= 3 &&
             EqualsIgnoreCase(SV(argv[1]), "SETUSER")) {
    for (int j = 2; j < argc; j++) out.push_back(j);  // Redis redacts the user and rules
  } else if (EqualsIgnoreCase(name, "CONFIG") && argc >= 4 && EqualsIgnoreCase(SV(argv[1]), "SET")) {
    for (int j = 2; j + 1 < argc; j += 2) {
      std::string_view k = SV(argv[j]);
      if (EqualsIgnoreCase(k, "requirepass") || EqualsIgnoreCase(k, "masterauth") ||
          EqualsIgnoreCase(k, "masteruser"))
        out.push_back(j + 1);
    }
  }
  return out;
}

namespace {

void Record(Host* h, Client* c, uint32_t flags, bool fast, int argc, const ferrite_slice* argv,
            uint64_t cycles) {
  Introspection& in = h->introspection();
  auto us = static_cast<int64_t>(static_cast<double>(cycles) / CyclesPerUs());
  bool slow = !(flags & FERRITE_CMD_SKIP_SLOWLOG) && in.slowlog.Wants(us);
  bool lat = in.latency.Wants(us / 1000);
  bool mon = in.monitors.Active() && !(flags & (FERRITE_CMD_ADMIN | FERRITE_CMD_SKIP_MONITOR));
  if (!slow && !lat && !mon) return;
  int64_t now_us = h->clock().NowUs();
  if (lat) in.latency.Add(fast ? "fast-command" : "command", us / 1000, now_us / 1000000);
  if (!slow && !mon) return;
  std::vector<int> redact = RedactedArgs(argc, argv);
  if (slow) in.slowlog.Push(argc, argv, redact, us, now_us / 1000000, c->addr, c->name);
  if (mon) in.monitors.Feed(*c, MonitorFeed::Origin::kClient, c->db, argc, argv, redact, now_us);
}

}  // namespace

void RecordCall(Host* h, Client* c, uint32_t flags, int argc, const ferrite_slice* argv,
                uint64_t cycles) {
  if (c->aof_replay) return;  // Redis logs nothing the AOF load replays
  if (!c->request_words.empty()) {
    if (!(flags & FERRITE_CMD_FAST)) c->request_slow_kind = true;
    return;
  }
  Record(h, c, flags, flags & FERRITE_CMD_FAST, argc, argv, cycles);
}

void FeedMonitors(Host* h, Client* c, MonitorFeed::Origin origin, int argc,
                  const ferrite_slice* argv) {
  Introspection& in = h->introspection();
  if (!in.monitors.Active() || c->aof_replay || !c->request_words.empty()) return;
  if (h->loading.active.load(std::memory_order_relaxed)) return;
  in.monitors.Feed(*c, origin, c->db, argc, argv, RedactedArgs(argc, argv), h->clock().NowUs());
}

void ConnRequest(Host* h, Client* c, int argc, const ferrite_slice* argv) {
  if (argc > 0) {
    c->request_words.assign(argv, argv + argc);
    c->request_slow_kind = false;
    c->request_t0 = __builtin_ia32_rdtsc();
    return;
  }
  if (c->request_words.empty()) return;
  if (argc < 0) {  // the request did not run (its data has not arrived): nothing to log
    c->request_words.clear();
    return;
  }
  uint64_t cycles = __builtin_ia32_rdtsc() - c->request_t0;
  std::vector<ferrite_slice> words = std::move(c->request_words);
  c->request_words.clear();
  Record(h, c, 0, !c->request_slow_kind, static_cast<int>(words.size()), words.data(), cycles);
}

}  // namespace ferrite::host
