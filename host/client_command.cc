// CLIENT and its subcommands: identity (ID, SETNAME, GETNAME, SETINFO), introspection
// (INFO, LIST), control of other clients (KILL, UNBLOCK, PAUSE, UNPAUSE) and of this
// one (REPLY, NO-EVICT, NO-TOUCH); TRACKING & co. are in tracking_commands.cc.
#include <algorithm>
#include <climits>
#include <sstream>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

void Simple(ferrite_ctx* c, std::string_view s) { c->sink->simple(c->st, s.data(), s.size()); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

// CLIENT LIST / KILL TYPE: Redis' getClientType (a replica is also "slave").
std::string_view ClientType(const Client& cl) {
  if (cl.repl_kind == Client::ReplKind::kReplica) return "replica";
  if (cl.repl_kind == Client::ReplKind::kMaster) return "master";
  return cl.subscriptions ? "pubsub" : "normal";
}

bool KnownClientType(std::string_view t) {
  return EqualsIgnoreCase(t, "normal") || EqualsIgnoreCase(t, "replica") ||
         EqualsIgnoreCase(t, "slave") || EqualsIgnoreCase(t, "master") ||
         EqualsIgnoreCase(t, "pubsub");
}

bool IsClientType(const Client& cl, std::string_view t) {
  if (EqualsIgnoreCase(t, "slave")) t = "replica";
  return EqualsIgnoreCase(ClientType(cl), t);
}

}  // namespace

// Redis' catClientInfoString, field for field (7.2's lib-name / lib-ver at the end).
std::string ClientLine(Host* h, Client& cl) {
  int64_t now = h->clock().NowMs();
  constexpr auto kRelaxed = std::memory_order_relaxed;
  const Client::Buffers& b = cl.buffers;
  uint64_t multi_mem = cl.multi_mem.load(kRelaxed);
  uint64_t argv_mem = cl.argv_mem.load(kRelaxed);
  uint64_t omem = b.omem.load(kRelaxed);
  std::ostringstream o;
  // Redis marks a MONITOR client as a replica and prints O in place of S.
  std::string flags = cl.monitor                                       ? "O"
                      : cl.repl_kind == Client::ReplKind::kReplica      ? "S"
                      : cl.repl_kind == Client::ReplKind::kMaster       ? "M"
                                                                        : "";
  if (cl.subscriptions) flags += "P";
  if (cl.in_multi) flags += "x";
  if (cl.block.active) flags += "b";
  if (cl.tracking.on) flags += "t";
  if (cl.tracking.broken_redir) flags += "R";
  if (cl.tracking.bcast) flags += "B";
  if (WatchDirty(h, cl)) flags += "d";
  if (cl.close_mode == FERRITE_CONN_CLOSE_AFTER_REPLY) flags += "c";
  if (cl.close_mode == FERRITE_CONN_CLOSE_NOW) flags += "A";
  if (cl.unix_socket) flags += "U";
  if (cl.no_evict) flags += "e";
  if (flags.empty()) flags = "N";
  // Redis' lastinteraction: the last read or write on the socket.
  int64_t last = cl.last_interaction_ms.load(kRelaxed);
  if (last == 0) last = cl.last_cmd_ms;
  o << "id=" << cl.id << " addr=" << cl.addr << " laddr=" << cl.laddr << " fd=" << cl.fd
    << " name=" << cl.name << " age=" << (now - cl.created_ms) / 1000
    << " idle=" << std::max<int64_t>(0, now - last) / 1000 << " flags=" << flags
    << " db=" << cl.db << " sub=" << cl.subscriptions - cl.sub_patterns - cl.sub_shard
    << " psub=" << cl.sub_patterns << " ssub=" << cl.sub_shard << " multi=" << (cl.in_multi ? static_cast<int64_t>(cl.queued.size()) : -1)
    << " qbuf=" << b.qbuf.load(kRelaxed) << " qbuf-free=" << b.qbuf_free.load(kRelaxed)
    << " argv-mem=" << argv_mem << " multi-mem=" << multi_mem
    << " rbs=" << b.rbs.load(kRelaxed) << " rbp=" << b.rbp.load(kRelaxed)
    << " obl=" << b.obl.load(kRelaxed) << " oll=" << b.oll.load(kRelaxed) << " omem=" << omem
    << " tot-mem=" << ClientMemoryUsage(cl)
    // Reading is always on (a blocked client's input accumulates); writing waits on the
    // socket while replies are queued behind it.
    << " events=" << (omem > 0 ? "rw" : "r") << " cmd=" << cl.last_cmd
    << " user=" << cl.acl_user.load(kRelaxed)->name() << " redir="
    << (cl.tracking.on ? static_cast<int64_t>(cl.tracking.redirect) : -1)
    << " resp=" << cl.resp << " lib-name=" << cl.lib_name << " lib-ver=" << cl.lib_ver << "\n";
  return o.str();
}

namespace {

// Redis' getTimeoutFromObjectOrReply in milliseconds: the absolute end (0 for a timeout
// of 0, which has already ended).
bool PauseEnd(ferrite_ctx* c, std::string_view arg, int64_t* end_ms) {
  int64_t t = 0;
  if (!ParseInt64(arg, &t)) {
    Error(c, "ERR timeout is not an integer or out of range");
    return false;
  }
  if (t < 0) {
    Error(c, "ERR timeout is negative");
    return false;
  }
  int64_t now = c->host->clock().NowMs();
  *end_ms = t == 0 ? 0 : (t > INT64_MAX - now ? INT64_MAX : now + t);
  return true;
}

int CmdClientPause(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  PauseType type = PauseType::kAll;
  if (argc == 4) {
    if (EqualsIgnoreCase(SV(argv[3]), "WRITE")) type = PauseType::kWrite;
    else if (!EqualsIgnoreCase(SV(argv[3]), "ALL"))
      return Error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  int64_t end = 0;
  if (!PauseEnd(c, SV(argv[2]), &end)) return FERRITE_OK;
  c->host->client_pause().Pause(PausePurpose::kClientCommand, end, type);
  Simple(c, "OK");
  return FERRITE_OK;
}

// CLIENT REPLY: OFF and SKIP answer nothing themselves (dispatch then drops the replies:
// client_reply.h); ON answers OK.
int CmdClientReply(ferrite_ctx* c, int, const ferrite_slice* argv) {
  Client::ReplyMode& r = c->client->reply;
  auto mode = SV(argv[2]);
  if (EqualsIgnoreCase(mode, "ON")) {
    r.off = r.skip = r.skip_next = false;
    Simple(c, "OK");
  } else if (EqualsIgnoreCase(mode, "OFF")) {
    r.off = true;
  } else if (EqualsIgnoreCase(mode, "SKIP")) {
    if (!r.off) r.skip_next = true;
  } else {
    return Error(c, "", FERRITE_E_SYNTAX);
  }
  return FERRITE_OK;
}

// Redis 7.2's CLIENT SETINFO: the attribute as typed in the errors; "" clears it.
int CmdClientSetInfo(ferrite_ctx* c, int, const ferrite_slice* argv) {
  auto attr = SV(argv[2]);
  std::string* dest = EqualsIgnoreCase(attr, "LIB-NAME")  ? &c->client->lib_name
                      : EqualsIgnoreCase(attr, "LIB-VER") ? &c->client->lib_ver
                                                          : nullptr;
  if (!dest) return Error(c, "ERR Unrecognized option '" + std::string(attr) + "'");
  for (char ch : SV(argv[3]))
    if (ch < '!' || ch > '~')
      return Error(c, "ERR " + std::string(attr) +
                          " cannot contain spaces, newlines or special characters.");
  *dest = SV(argv[3]);
  Simple(c, "OK");
  return FERRITE_OK;
}

int CmdClient(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Host* h = c->host;
  Client* cl = c->client;
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    // Redis 7.0's text, line for line (7.2's SETINFO and NO-TOUCH are accepted but, as
    // in COMMAND INFO, not listed: the surface shown is 7.0's).
    return ReplyHelp(c, "CLIENT",
                     {"CACHING (YES|NO)",
                      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                      "GETREDIR",
                      "    Return the client ID we are redirecting to when tracking is enabled.",
                      "GETNAME", "    Return the name of the current connection.", "ID",
                      "    Return the ID of the current connection.", "INFO",
                      "    Return information about the current client connection.",
                      "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                      "KILL <option> <value> [<option> <value> [...]]",
                      "    Kill connections. Options are:",
                      "    * ADDR (<ip:port>|<unixsocket>:0)",
                      "      Kill connections made from the specified address",
                      "    * LADDR (<ip:port>|<unixsocket>:0)",
                      "      Kill connections made to specified local address",
                      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
                      "    * USER <username>",
                      "      Kill connections authenticated by <username>.",
                      "    * SKIPME (YES|NO)",
                      "      Skip killing current connection (default: yes).",
                      "LIST [options ...]",
                      "    Return information about client connections. Options:",
                      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                      "      Return clients of specified type.",
                      "UNPAUSE", "    Stop the current client pause, resuming traffic.",
                      "PAUSE <timeout> [WRITE|ALL]",
                      "    Suspend all, or just write, clients for <timeout> milliseconds.",
                      "REPLY (ON|OFF|SKIP)",
                      "    Control the replies sent to the current connection.",
                      "SETNAME <name>", "    Assign the name <name> to the current connection.",
                      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                      "    Unblock the specified blocked client.",
                      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
                      "         [OPTIN] [OPTOUT] [NOLOOP]",
                      "    Control server assisted client side caching.",
                      "TRACKINGINFO", "    Report tracking status for the current connection.",
                      "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction."});
  }
  if (EqualsIgnoreCase(sub, "ID") && argc == 2) {
    c->sink->integer(c->st, static_cast<int64_t>(cl->id));
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "SETNAME") && argc == 3) {
    for (char ch : SV(argv[2]))
      if (ch < '!' || ch > '~')
        return Error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
    cl->name = SV(argv[2]);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "GETNAME") && argc == 2) {
    if (cl->name.empty()) c->sink->null(c->st);
    else Bulk(c, cl->name);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "INFO") && argc == 2) {
    std::string line = ClientLine(h, *cl);
    c->sink->verbatim(c->st, "txt", line.data(), line.size());
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LIST")) {
    std::vector<uint64_t> ids;
    if (argc >= 4 && EqualsIgnoreCase(SV(argv[2]), "ID")) {
      for (int i = 3; i < argc; i++) {
        int64_t id;
        if (!ParseInt64(SV(argv[i]), &id) || id <= 0) return Error(c, "ERR Invalid client ID");
        ids.push_back(static_cast<uint64_t>(id));
      }
    } else if (argc == 4 && EqualsIgnoreCase(SV(argv[2]), "TYPE")) {
      if (!KnownClientType(SV(argv[3])))
        return Error(c, "ERR Unknown client type '" + std::string(SV(argv[3])) + "'");
    } else if (argc != 2) {
      return Error(c, "", FERRITE_E_SYNTAX);
    }
    std::string out;
    for (auto& other : h->AllClients()) {
      // An evicted client is gone for CLIENT LIST once chosen (Redis frees it at once;
      // here its own thread closes it a moment later).
      if (other->evicted.load(std::memory_order_relaxed)) continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), other->id) == ids.end()) continue;
      if (argc == 4 && EqualsIgnoreCase(SV(argv[2]), "TYPE") && !IsClientType(*other, SV(argv[3])))
        continue;
      out += ClientLine(h, other.get() == cl ? *cl : *other);
    }
    c->sink->verbatim(c->st, "txt", out.data(), out.size());
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "KILL") && argc >= 3) {
    // CLIENT KILL addr | CLIENT KILL ID id | ADDR a | SKIPME yes/no
    std::vector<std::shared_ptr<Client>> victims;
    bool old_form = argc == 3;
    bool skipme = true;
    std::string addr, type;
    int64_t id = 0;
    acl::UserHandle* user = nullptr;
    if (old_form) {
      addr = SV(argv[2]);
    } else {
      if ((argc - 2) % 2) return Error(c, "", FERRITE_E_SYNTAX);
      for (int i = 2; i < argc; i += 2) {
        auto k = SV(argv[i]);
        auto v = SV(argv[i + 1]);
        if (EqualsIgnoreCase(k, "ID")) {
          if (!ParseInt64(v, &id) || id <= 0) return Error(c, "ERR client-id should be greater than 0");
        } else if (EqualsIgnoreCase(k, "ADDR")) {
          addr = v;
        } else if (EqualsIgnoreCase(k, "SKIPME")) {
          if (!EqualsIgnoreCase(v, "yes") && !EqualsIgnoreCase(v, "no"))
            return Error(c, "", FERRITE_E_SYNTAX);
          skipme = EqualsIgnoreCase(v, "yes");
        } else if (EqualsIgnoreCase(k, "TYPE")) {
          if (!KnownClientType(v)) return Error(c, "ERR Unknown client type '" + std::string(v) + "'");
          type = v;
        } else if (EqualsIgnoreCase(k, "USER")) {
          user = h->acl().Find(v);
          if (!user) return Error(c, "ERR No such user '" + std::string(v) + "'");
        } else if (EqualsIgnoreCase(k, "LADDR")) {
        } else {
          return Error(c, "", FERRITE_E_SYNTAX);
        }
      }
    }
    for (auto& other : h->AllClients()) {
      if (id && other->id != static_cast<uint64_t>(id)) continue;
      if (!addr.empty() && other->addr != addr) continue;
      if (!type.empty() && !IsClientType(*other, type)) continue;
      if (user && other->acl_user.load(std::memory_order_relaxed) != user) continue;
      if (!old_form && skipme && other.get() == cl) continue;
      victims.push_back(other);
    }
    if (old_form && victims.empty()) return Error(c, "ERR No such client");
    for (auto& v : victims) {
      std::weak_ptr<Client> w = v;
      if (v.get() == cl) {
        cl->close_mode = FERRITE_CONN_CLOSE_AFTER_REPLY;
        continue;
      }
      if (v->post)
        v->post([w] {
          if (auto s = w.lock()) {
            s->close_mode = FERRITE_CONN_CLOSE_NOW;
            if (s->on_output) s->on_output();
          }
        });
    }
    if (old_form) Simple(c, "OK");
    else c->sink->integer(c->st, static_cast<int64_t>(victims.size()));
    return FERRITE_OK;
  }
  if ((EqualsIgnoreCase(sub, "NO-EVICT") || EqualsIgnoreCase(sub, "NO-TOUCH")) && argc == 3) {
    bool on = EqualsIgnoreCase(SV(argv[2]), "ON");
    if (!on && !EqualsIgnoreCase(SV(argv[2]), "OFF")) return Error(c, "", FERRITE_E_SYNTAX);
    if (EqualsIgnoreCase(sub, "NO-EVICT")) cl->no_evict = on;
    else cl->no_touch = on;
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "UNBLOCK") && (argc == 3 || argc == 4)) {
    bool error = false;
    if (argc == 4) {
      error = EqualsIgnoreCase(SV(argv[3]), "ERROR");
      if (!error && !EqualsIgnoreCase(SV(argv[3]), "TIMEOUT"))
        return Error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
    int64_t id = 0;
    if (!ParseInt64(SV(argv[2]), &id)) return Error(c, "", FERRITE_E_NOT_INTEGER);
    c->sink->integer(c->st, id > 0 && h->UnblockById(static_cast<uint64_t>(id), error) ? 1 : 0);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "PAUSE") && (argc == 3 || argc == 4))
    return CmdClientPause(c, argc, argv);
  if (EqualsIgnoreCase(sub, "UNPAUSE") && argc == 2) {
    h->client_pause().Unpause(PausePurpose::kClientCommand);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "REPLY") && argc == 3) return CmdClientReply(c, argc, argv);
  if (EqualsIgnoreCase(sub, "TRACKING") && argc >= 3) return CmdClientTracking(c, argc, argv);
  if (EqualsIgnoreCase(sub, "CACHING") && argc == 3) return CmdClientCaching(c, argc, argv);
  if (EqualsIgnoreCase(sub, "GETREDIR") && argc == 2) return CmdClientGetRedir(c, argc, argv);
  if (EqualsIgnoreCase(sub, "TRACKINGINFO") && argc == 2)
    return CmdClientTrackingInfo(c, argc, argv);
  if (EqualsIgnoreCase(sub, "SETINFO") && argc == 4) return CmdClientSetInfo(c, argc, argv);
  // Redis 7.2 declares these two with a fixed arity.
  if (EqualsIgnoreCase(sub, "SETINFO")) return Error(c, "client|setinfo", FERRITE_E_ARITY);
  if (EqualsIgnoreCase(sub, "NO-TOUCH")) return Error(c, "client|no-touch", FERRITE_E_ARITY);
  // The other subcommands are declared with their arity (dispatch answers a wrong count):
  // one that gets here is within it but matched no form (Redis'
  // addReplySubcommandSyntaxError).
  for (std::string_view k : {"ID", "SETNAME", "GETNAME", "INFO", "LIST", "KILL", "NO-EVICT",
                             "TRACKING", "CACHING", "GETREDIR",
                             "TRACKINGINFO", "UNBLOCK", "PAUSE", "UNPAUSE", "REPLY", "HELP"})
    if (EqualsIgnoreCase(sub, k))
      return Error(c, "ERR unknown subcommand or wrong number of arguments for '" +
                          std::string(sub.substr(0, 128)) + "'. Try CLIENT HELP.");
  return ReplyUnknownSubcommand(c, "CLIENT", sub);
}

}  // namespace

void RegisterClientCommand(Host* h) {
  using namespace sdk::flags;
  using sdk::SubcommandSpec;
  // Redis 7.0's subcommands with their own arity and flags (src/commands/client-*.json).
  // 7.2's NO-TOUCH and SETINFO are left to the handler, under CLIENT's flags, so that
  // COMMAND INFO shows 7.0's surface.
  // clang-format off
  static constexpr SubcommandSpec kClientSubs[] = {
    {"ID",           2, NOSCRIPT | LOADING | STALE},
    {"SETNAME",      3, NOSCRIPT | LOADING | STALE},
    {"GETNAME",      2, NOSCRIPT | LOADING | STALE},
    {"INFO",         2, NOSCRIPT | LOADING | STALE},
    {"LIST",        -2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"KILL",        -3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"NO-EVICT",     3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"PAUSE",       -3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"UNPAUSE",      2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"REPLY",        3, NOSCRIPT | LOADING | STALE},
    {"UNBLOCK",     -3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"TRACKING",    -3, NOSCRIPT | LOADING | STALE},
    {"CACHING",      3, NOSCRIPT | LOADING | STALE},
    {"GETREDIR",     2, NOSCRIPT | LOADING | STALE},
    {"TRACKINGINFO", 2, NOSCRIPT | LOADING | STALE},
    {"HELP",         2, LOADING | STALE},
  };
  AddHostCommand(h, "CLIENT", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, CmdClient, "connection", "Client connection commands", sdk::Subcommands(kClientSubs));
  // clang-format on
}

}  // namespace ferrite::host
