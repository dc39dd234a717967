// CLUSTER, READONLY, READWRITE and ASKING as a Redis 7.0 server started without
// `cluster-enabled yes` answers them: every subcommand it knows is refused with "This
// instance has cluster support disabled", an unknown one gets the usual unknown-subcommand
// error, and the table carries Redis' per-subcommand arity and flags, so a script calling
// `CLUSTER RESET` is refused as noscript and COMMAND INFO/DOCS match redis-server.
// Clients and tools probe these (cluster-aware clients send CLUSTER INFO or READONLY to
// find out whether the server is a cluster node); Ferrite has no cluster mode.
#include <string_view>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/host.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

constexpr std::string_view kDisabled = "ERR This instance has cluster support disabled";

int ReplyDisabled(ferrite_ctx* c) {
  c->host->stats().total_errors.fetch_add(1, std::memory_order_relaxed);
  c->sink->error(c->st, FERRITE_E_GENERIC, kDisabled.data(), kDisabled.size());
  return FERRITE_OK;
}

// Redis 7.0's table (src/commands/cluster-*.json); its NO_ASYNC_LOADING flags are
// LoadingState::DeniedWhileAsyncLoading's.
// clang-format off
constexpr uint32_t kAdm = sdk::flags::ADMIN | sdk::flags::STALE;
constexpr uint32_t kRead = sdk::flags::STALE;
constexpr sdk::SubcommandSpec kClusterSubs[] = {
  {"ADDSLOTS",              -3, kAdm},
  {"ADDSLOTSRANGE",         -4, kAdm},
  {"BUMPEPOCH",              2, kAdm},
  {"COUNT-FAILURE-REPORTS",  3, kAdm},
  {"COUNTKEYSINSLOT",        3, kRead},
  {"DELSLOTS",              -3, kAdm},
  {"DELSLOTSRANGE",         -4, kAdm},
  {"FAILOVER",              -2, kAdm},
  {"FLUSHSLOTS",             2, kAdm},
  {"FORGET",                 3, kAdm},
  {"GETKEYSINSLOT",          4, kRead},
  {"HELP",                   2, sdk::flags::LOADING | sdk::flags::STALE},
  {"INFO",                   2, kRead},
  {"KEYSLOT",                3, kRead},
  {"LINKS",                  2, kRead},
  {"MEET",                  -4, kAdm},
  {"MYID",                   2, kRead},
  {"NODES",                  2, kRead},
  {"REPLICAS",               3, kAdm},
  {"REPLICATE",              3, kAdm},
  {"RESET",                 -2, kAdm | sdk::flags::NOSCRIPT},
  {"SAVECONFIG",             2, kAdm},
  {"SET-CONFIG-EPOCH",       3, kAdm},
  {"SETSLOT",               -4, kAdm},
  {"SHARDS",                 2, kRead},
  {"SLAVES",                 3, kAdm},
  {"SLOTS",                  2, kRead},
};
// clang-format on

// Redis checks cluster_enabled before it looks at the subcommand's name, but only once
// the command table has found the subcommand: an unknown one never reaches the check.
int CmdCluster(ferrite_ctx* c, int, const ferrite_slice* argv) {
  std::string_view sub(argv[1].ptr, argv[1].len);
  for (const auto& s : kClusterSubs)
    if (sdk::EqualsIgnoreCase(sub, s.name)) return ReplyDisabled(c);
  return ReplyUnknownSubcommand(c, "CLUSTER", sub);
}

int CmdNoCluster(ferrite_ctx* c, int, const ferrite_slice*) { return ReplyDisabled(c); }

}  // namespace

void RegisterClusterCommands(Host* h) {
  using namespace sdk::flags;
  // clang-format off
  AddHostCommand(h, "CLUSTER",   -2, 0,                      0, 0, 0, CmdCluster,   "cluster", "A container for cluster commands", sdk::Subcommands(kClusterSubs));
  AddHostCommand(h, "READONLY",   1, FAST | LOADING | STALE, 0, 0, 0, CmdNoCluster, "cluster", "Enables read queries for a connection to a cluster replica node");
  AddHostCommand(h, "READWRITE",  1, FAST | LOADING | STALE, 0, 0, 0, CmdNoCluster, "cluster", "Disables read queries for a connection to a cluster replica node");
  AddHostCommand(h, "ASKING",     1, FAST,                   0, 0, 0, CmdNoCluster, "cluster", "Sent by cluster clients after an -ASK redirect");
  // clang-format on
}

}  // namespace ferrite::host
