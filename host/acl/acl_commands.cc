// ACL and its subcommands, and authentication (AUTH, HELLO AUTH, the memcached plugins'
// conn_authenticate) against the user database.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "ferrite/errors.h"
#include "ferrite/module.hpp"
#include "host/acl/acl.h"
#include "host/acl/acl_file.h"
#include "host/acl/command_facts.h"
#include "host/context.h"
#include "host/host.h"
#include "host/registry.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

void Simple(ferrite_ctx* c, std::string_view s) { c->sink->simple(c->st, s.data(), s.size()); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
// Through SendError, as every host command's errors: counted in INFO errorstats.
int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

const char* ReasonName(acl::Verdict v) {
  switch (v) {
    case acl::Verdict::kCommand: return "command";
    case acl::Verdict::kKey: return "key";
    case acl::Verdict::kChannel: return "channel";
    case acl::Verdict::kAuth: return "auth";
    default: return "unknown";
  }
}

const char* ContextName(acl::LogContext c) {
  switch (c) {
    case acl::LogContext::kToplevel: return "toplevel";
    case acl::LogContext::kMulti: return "multi";
    case acl::LogContext::kLua: return "lua";
    case acl::LogContext::kModule: return "module";
  }
  return "unknown";
}

void ReplySelector(ferrite_ctx* c, const acl::Selector& s, const acl::RuleContext& ctx) {
  Bulk(c, "commands");
  Bulk(c, acl::DescribeCommandRules(s, ctx));
  Bulk(c, "keys");
  Bulk(c, acl::DescribeKeys(s));
  Bulk(c, "channels");
  Bulk(c, acl::DescribeChannels(s));
}

int AclGetUser(ferrite_ctx* c, std::string_view name) {
  acl::Acl& a = c->host->acl();
  auto u = a.Snapshot(name);
  if (!u) {
    c->sink->null(c->st);
    return FERRITE_OK;
  }
  auto cmds = a.Commands();
  acl::RuleContext ctx{cmds.get(), a.PubsubDefault()};
  c->sink->map(c->st, 6);
  Bulk(c, "flags");
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {acl::kUserEnabled, "on"},
      {acl::kUserDisabled, "off"},
      {acl::kUserNopass, "nopass"},
      {acl::kUserSkipSanitize, "skip-sanitize-payload"},
      {acl::kUserSanitize, "sanitize-payload"}};
  size_t n = 0;
  for (auto& [bit, fname] : kFlags) n += (u->flags & bit) ? 1 : 0;
  c->sink->set(c->st, n);
  for (auto& [bit, fname] : kFlags)
    if (u->flags & bit) Bulk(c, fname);
  Bulk(c, "passwords");
  c->sink->array(c->st, u->passwords.size());
  for (auto& p : u->passwords) Bulk(c, p);
  ReplySelector(c, u->selectors[0], ctx);
  Bulk(c, "selectors");
  c->sink->array(c->st, u->selectors.size() - 1);
  for (size_t i = 1; i < u->selectors.size(); i++) {
    c->sink->map(c->st, 3);
    ReplySelector(c, u->selectors[i], ctx);
  }
  return FERRITE_OK;
}

int AclLog(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  acl::Acl& a = c->host->acl();
  int64_t count = 10;
  if (argc == 3) {
    if (EqualsIgnoreCase(SV(argv[2]), "reset")) {
      a.ResetLog();
      Simple(c, "OK");
      return FERRITE_OK;
    }
    if (!ParseInt64(SV(argv[2]), &count)) return Error(c, "", FERRITE_E_NOT_INTEGER);
    if (count < 0) count = 0;
  }
  auto entries = a.Log(static_cast<size_t>(count));
  int64_t now = c->host->clock().NowMs();
  c->sink->array(c->st, entries.size());
  for (auto& e : entries) {
    c->sink->map(c->st, 7);
    Bulk(c, "count");
    c->sink->integer(c->st, e.count);
    Bulk(c, "reason");
    Bulk(c, ReasonName(e.reason));
    Bulk(c, "context");
    Bulk(c, ContextName(e.context));
    Bulk(c, "object");
    Bulk(c, e.object);
    Bulk(c, "username");
    Bulk(c, e.username);
    Bulk(c, "age-seconds");
    c->sink->dbl(c->st, static_cast<double>(now - e.ctime_ms) / 1000);
    Bulk(c, "client-info");
    Bulk(c, e.client_info);
  }
  return FERRITE_OK;
}

int AclDryRun(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  acl::Acl& a = c->host->acl();
  auto u = a.Snapshot(SV(argv[2]));
  if (!u) return Error(c, "ERR User '" + std::string(SV(argv[2])) + "' not found");
  int n = argc - 3;
  const ferrite_slice* av = argv + 3;
  const Command* cmd = c->host->registry().Find(SV(av[0]));
  const Subcommand* sub = cmd ? cmd->FindSubcommand(n, av) : nullptr;
  if (!cmd || (cmd->flags & FERRITE_CMD_HIDDEN) || (!cmd->subcommands.empty() && n >= 2 && !sub))
    return Error(c, "ERR Command '" + std::string(SV(av[0])) + "' not found");
  int arity = sub ? sub->arity : cmd->arity;
  const std::string& full = sub ? sub->fullname : cmd->name;
  if ((arity > 0 && arity != n) || n < -arity)
    return Error(c, "ERR wrong number of arguments for '" + full + "' command");
  int idx = 0;
  acl::Verdict v = acl::Acl::Check(*u, cmd, sub, n, av, &idx);
  if (v == acl::Verdict::kOk) {
    Simple(c, "OK");
    return FERRITE_OK;
  }
  std::string msg;
  if (v == acl::Verdict::kCommand)
    msg = "This user has no permissions to run the '" + full + "' command";
  else if (v == acl::Verdict::kKey)
    msg = "This user has no permissions to access the '" + std::string(SV(av[idx])) + "' key";
  else
    msg = "This user has no permissions to access the '" + std::string(SV(av[idx])) + "' channel";
  Bulk(c, msg);
  return FERRITE_OK;
}

int AclGenPass(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  int64_t bits = 256;
  if (argc == 3 && !ParseInt64(SV(argv[2]), &bits)) return Error(c, "", FERRITE_E_NOT_INTEGER);
  if (bits <= 0 || bits > 4096)
    return Error(c, "ERR ACL GENPASS argument must be the number of bits for the output "
                    "password, a positive number up to 4096");
  size_t chars = static_cast<size_t>((bits + 3) / 4);
  std::string out(chars, '0');
  std::random_device rd;  // the kernel's generator: these are passwords
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < chars; i += 8) {
    uint32_t r = rd();
    for (size_t j = 0; j < 8 && i + j < chars; j++) out[i + j] = kHex[(r >> (4 * j)) & 15];
  }
  Bulk(c, out);
  return FERRITE_OK;
}

int CmdAcl(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Host* h = c->host;
  acl::Acl& a = h->acl();
  std::string_view sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "setuser") && argc >= 3) {
    std::string_view name = SV(argv[2]);
    for (char ch : name)
      if (std::isspace(static_cast<unsigned char>(ch)) || ch == 0)
        return Error(c, "ERR Usernames can't contain spaces or null characters");
    std::vector<std::string> rules;
    for (int i = 3; i < argc; i++) rules.emplace_back(SV(argv[i]));
    std::string err = a.SetUser(name, rules);
    if (!err.empty()) {
      for (auto& ch : err)
        if (ch == '\r' || ch == '\n') ch = ' ';
      return Error(c, "ERR " + err);
    }
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "deluser") && argc >= 3) {
    std::vector<std::string> names;
    for (int i = 2; i < argc; i++) {
      if (SV(argv[i]) == "default") return Error(c, "ERR The 'default' user cannot be removed");
      names.emplace_back(SV(argv[i]));
    }
    c->sink->integer(c->st, a.DelUsers(names));
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "getuser") && argc == 3) return AclGetUser(c, SV(argv[2]));
  if ((EqualsIgnoreCase(sub, "list") || EqualsIgnoreCase(sub, "users")) && argc == 2) {
    auto v = EqualsIgnoreCase(sub, "users") ? a.Names() : a.ListLines();
    c->sink->array(c->st, v.size());
    for (auto& s : v) Bulk(c, s);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "whoami") && argc == 2) {
    Bulk(c, c->client->acl_user.load(std::memory_order_relaxed)->name());
    return FERRITE_OK;
  }
  std::string file = h->config().String("security.aclfile");
  if (file.empty() && (EqualsIgnoreCase(sub, "load") || EqualsIgnoreCase(sub, "save")))
    return Error(c, "ERR This Redis instance is not configured to use an ACL file. You may "
                    "want to specify users via the ACL SETUSER command and then issue a "
                    "CONFIG REWRITE (assuming you have a Redis configuration file set) in "
                    "order to store users in the Redis configuration.");
  if (EqualsIgnoreCase(sub, "load") && argc == 2) {
    std::string err = acl::LoadAclFile(a, file);
    if (!err.empty()) return Error(c, "ERR " + err);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "save") && argc == 2) {
    if (!acl::SaveAclFile(a, file))
      return Error(c, "ERR There was an error trying to save the ACLs. Please check the "
                      "server logs for more information");
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "cat") && argc == 2) {
    c->sink->array(c->st, acl::kCategoryCount);
    for (const char* n : acl::kCategoryNames) Bulk(c, n);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "cat") && argc == 3) {
    uint32_t cat = acl::CategoryByName(SV(argv[2]));
    if (!cat)
      return Error(c, "ERR Unknown category '" + std::string(SV(argv[2]).substr(0, 128)) + "'");
    auto cmds = a.Commands();
    std::vector<const std::string*> names;
    for (auto& rc : cmds->list)
      if (rc.categories & cat) names.push_back(&rc.fullname);
    c->sink->array(c->st, names.size());
    for (auto* n : names) Bulk(c, *n);
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "genpass") && (argc == 2 || argc == 3)) return AclGenPass(c, argc, argv);
  if (EqualsIgnoreCase(sub, "log") && (argc == 2 || argc == 3)) return AclLog(c, argc, argv);
  if (EqualsIgnoreCase(sub, "dryrun") && argc >= 4) return AclDryRun(c, argc, argv);
  if (EqualsIgnoreCase(sub, "help") && argc == 2)
    return ReplyHelp(c, "ACL",
                     {"CAT [<category>]",
                      "    List all commands that belong to <category>, or all command categories",
                      "    when no category is specified.",
                      "DELUSER <username> [<username> ...]",
                      "    Delete a list of users.",
                      "DRYRUN <username> <command> [<arg> ...]",
                      "    Returns whether the user can execute the given command without executing the command.",
                      "GETUSER <username>",
                      "    Get the user's details.",
                      "GENPASS [<bits>]",
                      "    Generate a secure 256-bit user password. The optional `bits` argument can",
                      "    be used to specify a different size.",
                      "LIST",
                      "    Show users details in config file format.",
                      "LOAD",
                      "    Reload users from the ACL file.",
                      "LOG [<count> | RESET]",
                      "    Show the ACL log entries.",
                      "SAVE",
                      "    Save the current config to the ACL file.",
                      "SETUSER <username> <attribute> [<attribute> ...]",
                      "    Create or modify a user with the specified attributes.",
                      "USERS",
                      "    List all the registered usernames.",
                      "WHOAMI",
                      "    Return the current connection username."});
  // A declared subcommand that gets here had arguments none of its forms takes (ACL CAT
  // a b, ACL LOG RESET x): Redis' addReplySubcommandSyntaxError.
  if (c->cmd && c->cmd->FindSubcommand(argc, argv))
    return Error(c, "ERR unknown subcommand or wrong number of arguments for '" +
                        std::string(sub.substr(0, 128)) + "'. Try ACL HELP.");
  return ReplyUnknownSubcommand(c, "ACL", sub);
}

}  // namespace

bool AclAuthenticate(Host* h, Client* c, std::string_view user, std::string_view pass,
                     std::string_view cmdname) {
  acl::Acl& a = h->acl();
  acl::UserHandle* u = a.CheckCredentials(user, pass);
  if (!u) {
    a.AddLog(c, acl::Verdict::kAuth, c->in_multi ? acl::LogContext::kMulti : acl::LogContext::kToplevel,
             std::string(cmdname), std::string(user));
    return false;
  }
  c->acl_user.store(u, std::memory_order_relaxed);
  c->SetAuthenticated();
  return true;
}

void AclSetDefaultAuth(Host* h, Client* c) {
  c->acl_user.store(h->acl().DefaultUser(), std::memory_order_relaxed);
  c->authenticated = h->acl().DefaultNeedsNoAuth();
}

void RegisterAclCommands(Host* h) {
  using namespace sdk::flags;
  constexpr uint32_t kBase = NOSCRIPT | LOADING | STALE;
  static const sdk::SubcommandSpec kAclSubs[] = {
      {"CAT", -2, kBase},           {"DELUSER", -3, ADMIN | kBase}, {"DRYRUN", -4, ADMIN | kBase},
      {"GENPASS", -2, kBase},       {"GETUSER", 3, ADMIN | kBase},  {"HELP", 2, LOADING | STALE},
      {"LIST", 2, ADMIN | kBase},   {"LOAD", 2, ADMIN | kBase},     {"LOG", -2, ADMIN | kBase},
      {"SAVE", 2, ADMIN | kBase},   {"SETUSER", -3, ADMIN | kBase}, {"USERS", 2, ADMIN | kBase},
      {"WHOAMI", 2, kBase},
  };
  AddHostCommand(h, "ACL", -2, 0, 0, 0, 0, CmdAcl, "server", "A container for Access List Control commands",
                 sdk::Subcommands(kAclSubs));
}

}  // namespace ferrite::host
