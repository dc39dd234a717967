// The ACL user database of one host: users by name (the default user always there),
// the ACL LOG, and the permission check every command goes through.
//
// Threads: users change under the database's mutex (ACL SETUSER, AUTH lookups); a
// client holds a UserHandle, a stable object per user whose current rules are an
// immutable User published with an atomic shared_ptr and a version number. The
// dispatcher's fast path reads one atomic flag (UserHandle::unrestricted) and checks
// nothing more when it is set; a restricted client reuses the rules it borrowed until
// the version moves (gate.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"
#include "host/acl/command_facts.h"
#include "host/acl/user.h"

namespace ferrite::host {
class Host;
struct Client;
struct Command;
struct Subcommand;
}  // namespace ferrite::host

namespace ferrite::host::acl {

// Redis' ACL_* results; the order matters: a later selector's error is kept when it is
// greater (ACLCheckAllUserCommandPerm).
enum class Verdict : int { kOk = 0, kCommand = 1, kKey = 2, kAuth = 3, kChannel = 4 };
enum class LogContext { kToplevel, kMulti, kLua, kModule };

// One user as clients see it. Never freed while the host lives: a client may hold one
// after the user was deleted (it is then disconnected, as in Redis).
class UserHandle {
 public:
  explicit UserHandle(std::shared_ptr<const User> u) { Set(std::move(u)); }
  std::shared_ptr<const User> Get() const { return std::atomic_load(&user_); }
  void Set(std::shared_ptr<const User> u) {
    unrestricted.store(u->Unrestricted(), std::memory_order_release);
    name_ = u->name;
    std::atomic_store(&user_, std::move(u));
    version.fetch_add(1, std::memory_order_release);
  }
  const std::string& name() const { return name_; }  // fixed for the handle's life
  std::atomic<bool> unrestricted{false};
  std::atomic<bool> deleted{false};
  // Bumped after every Set: a client keeps the rules it last took (AclRules in gate.h)
  // while this reads the same, so a check takes no reference and no lock.
  std::atomic<uint64_t> version{0};

 private:
  std::string name_;
  std::shared_ptr<const User> user_;
};

struct LogEntry {
  int64_t count = 1;
  Verdict reason;
  LogContext context;
  std::string object, username, client_info;
  int64_t ctime_ms;
};

// The ACL id of a command's full name ("get", "config|get"), the same for the life of
// the process (a plugin reloaded keeps its ids, as Redis' ACLGetCommandID). -1 when all
// ids are taken.
int CommandId(std::string_view fullname);

// Categories and key facts for a registered command (set by the registry at
// registration). `declared` are the categories a plugin declared (0: none).
void DescribeCommand(Command& c, uint32_t declared);

// The keys of one call with Redis' key-spec flags for them: Redis' facts when it knows
// the command, else the command's declared positions, read for a read-only command and
// written for a write (both when it declares neither). The ACL key check and COMMAND
// GETKEYSANDFLAGS use it.
void KeysOf(const Command* cmd, const Subcommand* sub, int argc, const ferrite_slice* argv,
            KeyList& out);
// Redis' doesCommandHaveKeys: a key spec that is not NOT_KEY, or declared key positions.
bool HasKeys(const Command* cmd, const Subcommand* sub);

class Acl {
 public:
  explicit Acl(Host* h);
  ~Acl();

  UserHandle* DefaultUser() const { return default_; }
  // nullptr if no such user.
  UserHandle* Find(std::string_view name) const;
  // Redis' ACLCheckUserCredentials: the user when enabled and the password matches.
  UserHandle* CheckCredentials(std::string_view user, std::string_view pass) const;
  // The default user needs no AUTH (nopass and on): Redis' !authRequired.
  bool DefaultNeedsNoAuth() const { return default_open_.load(std::memory_order_relaxed); }

  // ACL SETUSER: "" or the error text (without "ERR ").
  std::string SetUser(std::string_view name, const std::vector<std::string>& rules);
  // ACL DELUSER: how many were deleted; their clients are disconnected.
  int DelUsers(const std::vector<std::string>& names);
  std::vector<std::string> Names() const;
  std::vector<std::string> ListLines() const;  // ACL LIST
  std::shared_ptr<const User> Snapshot(std::string_view name) const;
  RuleContext Rules() const;  // for describing (holds the command list alive)
  // requirepass: the default user's password ("" = nopass), as Redis'
  // ACLUpdateDefaultUserPassword.
  void SetDefaultPassword(std::string_view pass);
  // ACL LOAD / startup: replaces every user by the "user" lines of an aclfile's text.
  // Returns "" or Redis' error text; nothing changes on error.
  std::string LoadText(std::string_view text, std::string_view filename);

  // The permission check: Redis' ACLCheckAllUserCommandPerm. `idx` gets the argument
  // index of the key or channel refused.
  static Verdict Check(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                       const ferrite_slice* argv, int* idx);
  // Redis' ACLUserCheckCmdWithUnrestrictedKeyAccess for reads (SORT BY/GET).
  static bool CanReadAnyKey(const User& u, const Command* cmd, const Subcommand* sub, int argc,
                            const ferrite_slice* argv);

  // ACL LOG.
  void AddLog(Client* c, Verdict reason, LogContext ctx, std::string object,
              std::string username);
  std::vector<LogEntry> Log(size_t count) const;
  void ResetLog();
  std::atomic<uint64_t> denied_auth{0}, denied_cmd{0}, denied_key{0}, denied_channel{0};

  // The commands the rules refer to, rebuilt from the registry when it changed.
  std::shared_ptr<const RuleCommands> Commands() const;
  uint32_t PubsubDefault() const;

 private:
  void Publish(UserHandle* h, std::shared_ptr<const User> u);
  void KillClientsOf(const std::vector<UserHandle*>& gone, int how);
  void DisconnectRevoked(UserHandle* h, const User& before, std::shared_ptr<const User> after);

  Host* host_;
  mutable std::mutex mu_;
  std::map<std::string, UserHandle*, std::less<>> users_;  // under mu_
  std::vector<std::unique_ptr<UserHandle>> handles_;       // every handle ever made
  UserHandle* default_;
  std::atomic<bool> default_open_{true};
  mutable std::mutex cmds_mu_;
  mutable std::shared_ptr<const RuleCommands> cmds_;
  mutable const void* cmds_from_ = nullptr;
  mutable std::mutex log_mu_;
  std::vector<LogEntry> log_;  // newest first
};

}  // namespace ferrite::host::acl
