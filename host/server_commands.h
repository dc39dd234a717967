// Host command registration shared by server_commands.cc and server_admin.cc.
#pragma once

#include <initializer_list>
#include <string_view>

#include "ferrite/module.h"
#include "ferrite/module.hpp"

#include <initializer_list>
#include <string>
#include <string_view>

namespace ferrite::host {

class Host;
struct Client;

// The Redis version whose behaviour Ferrite follows (HELLO, INFO redis_version).
inline constexpr const char* kRedisCompatVersion = "7.0.15";
inline constexpr const char* kFerriteVersion = "0.1.0";

// `subcommands`: a container's table (Redis 7.0's per-subcommand arity and flags).
void AddHostCommand(Host* h, const char* name, int arity, uint32_t flags, int first, int last,
                    int step, ferrite_cmd_fn fn, const char* group, const char* summary,
                    sdk::SubcommandList subcommands = {},
                    ferrite_getkeys_fn getkeys = nullptr);
// What a container command answers when no subcommand branch took the call. Redis 7.0
// has a table entry per subcommand: one it knows was given the wrong number of arguments
// ("wrong number of arguments for 'config|get' command"), any other is unknown.
int UnknownSubcommand(ferrite_ctx* c, std::string_view cmd, std::string_view sub,
                      std::initializer_list<std::string_view> known);
// MEMORY (memory_command.cc).
void RegisterMemoryCommand(Host* h);
// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (tracking_commands.cc).
int CmdClientTracking(ferrite_ctx* c, int argc, const ferrite_slice* argv);
int CmdClientCaching(ferrite_ctx* c, int argc, const ferrite_slice* argv);
int CmdClientGetRedir(ferrite_ctx* c, int argc, const ferrite_slice* argv);
int CmdClientTrackingInfo(ferrite_ctx* c, int argc, const ferrite_slice* argv);
// DEBUG and its subcommands (debug_command.cc).
int CmdDebug(ferrite_ctx* c, int argc, const ferrite_slice* argv);
// INFO CONFIG COMMAND MODULE (server_admin.cc).
void RegisterAdminCommands(Host* h);
// CLIENT (client_command.cc).
void RegisterClientCommand(Host* h);
// SLOWLOG LATENCY MONITOR (introspection_commands.cc).
void RegisterIntrospectionCommands(Host* h);
// Redis' addReplyHelp: "<CMD> <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
// the lines, then HELP's own two lines, each a simple string.
int ReplyHelp(ferrite_ctx* c, std::string_view cmd_upper, std::initializer_list<const char*> lines);
// "ERR unknown subcommand '<sub>'. Try <CMD> HELP." (the subcommand cut at 128 bytes).
int ReplyUnknownSubcommand(ferrite_ctx* c, std::string_view cmd_upper, std::string_view sub);
// One CLIENT LIST line, "\n" ended (client_command.cc); ACL LOG's client-info too.
std::string ClientLine(Host* h, Client& cl);
// ACL (acl/acl_commands.cc).
void RegisterAclCommands(Host* h);
// Redis' ACLAuthenticateUser: on success the client runs as `user`; a failure is logged
// in ACL LOG (reason auth, object `cmdname` as the client spelled it).
bool AclAuthenticate(Host* h, Client* c, std::string_view user, std::string_view pass,
                     std::string_view cmdname);
// Redis' clientSetDefaultAuth: the default user, authenticated when it needs no password.
void AclSetDefaultAuth(Host* h, Client* c);
// CLUSTER READONLY READWRITE ASKING, answered as a server without cluster mode
// (cluster_command.cc).
void RegisterClusterCommands(Host* h);
// SWAPDB LOLWUT (swapdb.cc).
void RegisterSwapDbCommands(Host* h);
// Leaves MULTI (dropping what was queued) and forgets every WATCHed key: DISCARD, EXEC,
// RESET, and an EXEC that Execute() rejects.
void ResetTransaction(Client* cl);
// Redis' CLIENT_DIRTY_CAS: a key `cl` WATCHes has changed, so its EXEC will fail
// (CLIENT LIST's `d` flag). Safe from any thread: it copies the watched keys under the
// client's watch_mu and looks each up under its shard's lock.
bool WatchDirty(Host* h, Client& cl);

}  // namespace ferrite::host
