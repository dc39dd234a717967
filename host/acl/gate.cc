#include "host/acl/gate.h"

#include "host/acl/command_facts.h"
#include "host/acl/permissions.h"
#include "host/context.h"
#include "host/host.h"

namespace ferrite::host {

namespace {

acl::Verdict Run(Host* h, Client* c, const Command* cmd, const Subcommand* sub, int argc,
                 const ferrite_slice* argv, acl::LogContext where) {
  int idx = 0;
  acl::Verdict v = acl::Acl::Check(AclRules(c), cmd, sub, argc, argv, &idx);
  if (v == acl::Verdict::kOk) return v;
  acl::UserHandle* uh = c->acl_user.load(std::memory_order_relaxed);
  std::string object = v == acl::Verdict::kCommand ? (sub ? sub->fullname : cmd->acl_name)
                                                   : std::string(argv[idx].ptr, argv[idx].len);
  h->acl().AddLog(c, v, where, std::move(object), uh->name());
  return v;
}

}  // namespace

const acl::User& AclRulesRenew(Client* c, const acl::UserHandle* uh) {
  // The version first: rules published after it are taken again at the next check.
  uint64_t v = uh->version.load(std::memory_order_acquire);
  c->acl_rules = uh->Get();
  c->acl_rules_of = uh;
  c->acl_rules_version = v;
  c->acl_plans.fill({});  // they point into the rules just dropped
  return *c->acl_rules;
}

bool AclAllowsCommandChecked(Host* h, Client* c, const Command* cmd, const Subcommand* sub,
                             int argc, const ferrite_slice* argv, AclGateSite site,
                             std::string* err) {
  bool exec = site == AclGateSite::kExecBody;
  acl::LogContext where =
      exec || c->in_multi ? acl::LogContext::kMulti : acl::LogContext::kToplevel;
  acl::Verdict v = Run(h, c, cmd, sub, argc, argv, where);
  if (v == acl::Verdict::kOk) return true;
  if (exec) {
    const char* reason = v == acl::Verdict::kCommand ? "no permission to execute the command or subcommand"
                         : v == acl::Verdict::kKey   ? "no permission to touch the specified keys"
                                                     : "no permission to access one of the channels used as arguments";
    *err = std::string("NOPERM ACLs rules changed between the moment the transaction was "
                       "accumulated and the EXEC call. This command is no longer allowed for "
                       "the following reason: ") + reason;
  } else if (v == acl::Verdict::kCommand) {
    *err = "NOPERM this user has no permissions to run the '" +
           (sub ? sub->fullname : cmd->acl_name) + "' command";
  } else if (v == acl::Verdict::kKey) {
    *err = "NOPERM this user has no permissions to access one of the keys used as arguments";
  } else {
    *err = "NOPERM this user has no permissions to access one of the channels used as arguments";
  }
  return false;
}

bool AclAllowsCall(ferrite_ctx* ctx, const Command* cmd, const Subcommand* sub, int argc,
                   const ferrite_slice* argv, std::string* err) {
  Client* c = ctx->client;
  if (AclUnrestricted(c)) return true;
  // As Redis: scripts are checked; a module's own calls (SORT's BY/GET lookups) are not
  // (RM_Call without the "C" flag).
  bool script = ctx->cmd && (ctx->cmd->acl_categories & acl::kCatScripting);
  if (!script) return true;
  if (acl::QuickAllow(AclRules(c), cmd, sub, argc, argv)) return true;
  acl::Verdict v = Run(ctx->host, c, cmd, sub, argc, argv, acl::LogContext::kLua);
  if (v == acl::Verdict::kOk) return true;
  *err = std::string("ERR The user executing the script ") +
         (v == acl::Verdict::kCommand ? "can't run this command or subcommand"
          : v == acl::Verdict::kKey   ? "can't access at least one of the keys mentioned in the command arguments"
                                      : "can't publish to the channel mentioned in the command");
  return false;
}

}  // namespace ferrite::host
