#include "host/acl/acl.h"

#include <algorithm>
#include <unordered_map>

#include "ferrite/module.hpp"
#include "host/acl/command_facts.h"
#include "host/client.h"
#include "host/host.h"
#include "host/registry.h"
#include "host/server_commands.h"


namespace ferrite::host::acl {

namespace {

// How long a repeated denial keeps counting into the same LOG entry (Redis'
// ACL_LOG_GROUPING_MAX_TIME_DELTA).
constexpr int64_t kLogGroupingMs = 60000;

std::shared_ptr<User> DefaultRules(const RuleContext& ctx) {
  auto u = std::make_shared<User>("default", ctx.pubsub_default);
  for (const char* r : {"+@all", "~*", "&*", "on", "nopass"}) ApplyRule(*u, r, ctx);
  return u;
}

}  // namespace

UserHandle* SuperUser() {
  static UserHandle* h = [] {
    auto u = std::make_shared<User>("(superuser)", kSelAllChannels);
    u->flags = kUserEnabled | kUserNopass;
    Selector& root = u->selectors[0];
    root.flags |= kSelAllKeys | kSelAllCommands | kSelAllChannels;
    root.allowed.fill(~0ull);
    return new UserHandle(std::move(u));
  }();
  return h;
}

int CommandId(std::string_view fullname) {
  static std::mutex mu;
  static std::unordered_map<std::string, int> ids;
  std::lock_guard lk(mu);
  std::string n(fullname);
  for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = ids.find(n);
  if (it != ids.end()) return it->second;
  int id = static_cast<int>(ids.size());
  if (id >= kFutureCommandsBit) return -1;
  ids.emplace(std::move(n), id);
  return id;
}

Acl::Acl(Host* h) : host_(h) {
  RuleContext ctx = Rules();
  handles_.push_back(std::make_unique<UserHandle>(DefaultRules(ctx)));
  default_ = handles_.back().get();
  users_.emplace("default", default_);
}

Acl::~Acl() = default;

uint32_t Acl::PubsubDefault() const {
  return host_->config().String("security.acl_pubsub_default") == "allchannels" ? uint32_t{kSelAllChannels}
                                                                                : 0;
}

std::shared_ptr<const RuleCommands> Acl::Commands() const {
  const auto* table = host_->registry().Commands();
  std::lock_guard lk(cmds_mu_);
  if (cmds_ && cmds_from_ == table) return cmds_;
  auto rc = std::make_shared<RuleCommands>();
  std::vector<const Command*> top;
  for (const auto& [name, cmd] : *table)
    if (!(cmd->flags & FERRITE_CMD_HIDDEN) && cmd->acl_id >= 0) top.push_back(cmd.get());
  std::sort(top.begin(), top.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const Command* c : top) {
    int parent = static_cast<int>(rc->list.size());
    rc->list.push_back({c->name, c->acl_id, c->acl_categories, -1, {}});
    std::vector<const Subcommand*> subs;
    for (const auto& s : c->subcommands)
      if (s.acl_id >= 0) subs.push_back(&s);
    std::sort(subs.begin(), subs.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (const Subcommand* s : subs) {
      rc->list[parent].subs.push_back(static_cast<int>(rc->list.size()));
      rc->list.push_back({s->fullname, s->acl_id, s->acl_categories, parent, {}});
    }
  }
  cmds_ = std::move(rc);
  cmds_from_ = table;
  return cmds_;
}

RuleContext Acl::Rules() const {
  // NOTE: the context points into the shared list, which the cache keeps alive until
  // the registry changes; callers use it at once.
  return {Commands().get(), PubsubDefault()};
}

UserHandle* Acl::Find(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second;
}

UserHandle* Acl::CheckCredentials(std::string_view name, std::string_view pass) const {
  UserHandle* h = Find(name);
  if (!h) return nullptr;
  auto u = h->Get();
  if (u->flags & kUserDisabled) return nullptr;
  return u->PasswordMatches(pass) ? h : nullptr;
}

void Acl::Publish(UserHandle* h, std::shared_ptr<const User> u) {
  if (h == default_)
    default_open_.store((u->flags & kUserNopass) && !(u->flags & kUserDisabled),
                        std::memory_order_relaxed);
  h->Set(std::move(u));
  if (h == default_) host_->auth_required = !default_open_.load(std::memory_order_relaxed);
}

std::string Acl::SetUser(std::string_view name, const std::vector<std::string>& rules) {
  auto cmds = Commands();
  RuleContext ctx{cmds.get(), PubsubDefault()};
  std::lock_guard lk(mu_);
  auto it = users_.find(name);
  User u = it != users_.end() ? *it->second->Get() : User(std::string(name), ctx.pubsub_default);
  std::shared_ptr<const User> before = it != users_.end() ? it->second->Get() : nullptr;
  std::string err = ApplyRules(u, rules, ctx);
  if (!err.empty()) return err;
  auto after = std::make_shared<const User>(std::move(u));
  if (it == users_.end()) {
    handles_.push_back(std::make_unique<UserHandle>(after));
    users_.emplace(std::string(name), handles_.back().get());
    return {};
  }
  Publish(it->second, after);
  DisconnectRevoked(it->second, *before, std::move(after));
  return {};
}

namespace {

// The channel rules of every selector of `u`, as written (Redis' "upcoming" list).
std::vector<std::string_view> ChannelRules(const User& u) {
  std::vector<std::string_view> all;
  for (const auto& s : u.selectors)
    for (const auto& c : s.channels) all.push_back(c);
  return all;
}

// Redis' ACLCheckChannelAgainstList: a channel matches a rule as a glob, a subscribed
// pattern only as the very same text.
bool Permitted(const std::vector<std::string_view>& rules, std::string_view name,
               ferrite_sub_kind kind) {
  for (std::string_view r : rules)
    if (kind == FERRITE_SUB_PATTERN ? r == name : sdk::GlobMatch(r, name)) return true;
  return false;
}

// Whether the client, on its own thread, holds a subscription `rules` refuse. Without
// a plugin to list them (none registered) every subscribed client counts as refused.
bool HoldsRefused(Host* host, const Client& c, const std::vector<std::string_view>& rules) {
  if (c.subscriptions == 0) return false;
  struct Scan {
    const std::vector<std::string_view>* rules;
    bool refused = false;
  } scan{&rules};
  auto visit = [](void* u, ferrite_sub_kind kind, ferrite_slice name) -> int {
    auto* s = static_cast<Scan*>(u);
    s->refused = !Permitted(*s->rules, {name.ptr, name.len}, kind);
    return s->refused ? 1 : 0;
  };
  if (!host->ListSubscriptions(c.id, visit, &scan)) return true;
  return scan.refused;
}

}  // namespace

// Redis' ACLKillPubsubClientsIfNeeded. Nothing to do when a selector of the new rules
// allows every channel, or when every channel rule of the old rules is still written in
// the new ones; else each subscribed client of the user is disconnected if one of its
// channels or shard channels matches none of the new rules and one of its patterns is
// none of them literally. A client's subscriptions live on its own thread (in the
// pub/sub module), so the check is posted there: it runs after the command the client
// may be running, and before anything published after this SETUSER reaches it.
void Acl::DisconnectRevoked(UserHandle* h, const User& before,
                            std::shared_ptr<const User> after) {
  for (const auto& s : after->selectors)
    if (s.flags & kSelAllChannels) return;
  std::vector<std::string_view> upcoming = ChannelRules(*after);
  bool superset = true;
  for (const auto& s : before.selectors) {
    if (s.flags & kSelAllChannels) superset = false;
    for (const auto& c : s.channels)
      if (std::find(upcoming.begin(), upcoming.end(), c) == upcoming.end()) superset = false;
  }
  if (superset) return;
  for (auto& cl : host_->AllClients()) {
    if (cl->acl_user.load(std::memory_order_relaxed) != h || !cl->post) continue;
    std::weak_ptr<Client> w = cl;
    cl->post([w, h, after, host = host_] {
      auto s = w.lock();
      if (!s || s->acl_user.load(std::memory_order_relaxed) != h) return;
      if (!HoldsRefused(host, *s, ChannelRules(*after))) return;
      s->close_mode = FERRITE_CONN_CLOSE_NOW;
      if (s->on_output) s->on_output();
    });
  }
}

int Acl::DelUsers(const std::vector<std::string>& names) {
  std::vector<UserHandle*> gone;
  {
    std::lock_guard lk(mu_);
    for (const auto& n : names) {
      auto it = users_.find(n);
      if (it == users_.end()) continue;
      it->second->deleted.store(true);
      gone.push_back(it->second);
      users_.erase(it);
    }
  }
  // Redis' ACLFreeUserAndKillClients: the user's clients are closed after this reply
  // (the caller's own connection too).
  KillClientsOf(gone, FERRITE_CONN_CLOSE_AFTER_REPLY);
  return static_cast<int>(gone.size());
}

void Acl::KillClientsOf(const std::vector<UserHandle*>& gone, int how) {
  if (gone.empty()) return;
  for (auto& cl : host_->AllClients()) {
    UserHandle* u = cl->acl_user.load(std::memory_order_relaxed);
    if (std::find(gone.begin(), gone.end(), u) == gone.end()) continue;
    std::weak_ptr<Client> w = cl;
    if (cl->post)
      cl->post([w, how] {
        if (auto s = w.lock()) {
          s->close_mode = how;
          if (s->on_output) s->on_output();
        }
      });
  }
}

std::vector<std::string> Acl::Names() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> v;
  for (auto& [n, h] : users_) v.push_back(n);
  return v;
}

std::vector<std::string> Acl::ListLines() const {
  auto cmds = Commands();
  RuleContext ctx{cmds.get(), PubsubDefault()};
  std::vector<std::shared_ptr<const User>> users;
  {
    std::lock_guard lk(mu_);
    for (auto& [n, h] : users_) users.push_back(h->Get());
  }
  std::vector<std::string> v;
  for (auto& u : users) v.push_back("user " + u->name + " " + DescribeUser(*u, ctx));
  return v;
}

std::shared_ptr<const User> Acl::Snapshot(std::string_view name) const {
  UserHandle* h = Find(name);
  return h ? h->Get() : nullptr;
}

void Acl::SetDefaultPassword(std::string_view pass) {
  auto cmds = Commands();
  RuleContext ctx{cmds.get(), PubsubDefault()};
  std::lock_guard lk(mu_);
  User u = *default_->Get();
  ApplyRule(u, "resetpass", ctx);
  if (pass.empty()) ApplyRule(u, "nopass", ctx);
  else ApplyRule(u, ">" + std::string(pass), ctx);
  Publish(default_, std::make_shared<const User>(std::move(u)));
}

// Redis' ACLLoadFromFile on the file's text: every line is "user <name> <rules...>"
// split at single spaces; on any error nothing changes and the errors are returned.
std::string Acl::LoadText(std::string_view text, std::string_view filename) {
  auto cmds = Commands();
  RuleContext ctx{cmds.get(), PubsubDefault()};
  std::string file(filename);
  std::map<std::string, User, std::less<>> fresh;
  std::string errors;
  size_t start = 0;
  for (int linenum = 1; start <= text.size(); linenum++) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    while (!line.empty() && std::string_view(" \t\r\n").find(line.front()) != std::string_view::npos) line.remove_prefix(1);
    while (!line.empty() && std::string_view(" \t\r\n").find(line.back()) != std::string_view::npos) line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string> argv;
    size_t p = 0;
    while (true) {
      size_t sp = line.find(' ', p);
      argv.emplace_back(line.substr(p, sp == std::string_view::npos ? std::string_view::npos : sp - p));
      if (sp == std::string_view::npos) break;
      p = sp + 1;
    }
    std::string where = file + ":" + std::to_string(linenum);
    if (argv[0] != "user" || argv.size() < 2) {
      errors += where + " should start with user keyword followed by the username. ";
      continue;
    }
    bool spaces = false;
    for (char ch : argv[1]) spaces |= std::isspace(static_cast<unsigned char>(ch)) || ch == 0;
    if (spaces) {
      errors += "'" + where + ": username '" + argv[1] + "' contains invalid characters. ";
      continue;
    }
    if (fresh.count(argv[1])) {
      errors += "WARNING: Duplicate user '" + argv[1] + "' found on line " +
                std::to_string(linenum) + ". ";
      continue;
    }
    auto [it, ok] = fresh.emplace(argv[1], User(argv[1], ctx.pubsub_default));
    std::vector<std::string> merged;
    if (!MergeSelectorArgs({argv.begin() + 2, argv.end()}, &merged, nullptr)) {
      errors += where + ": Unmatched parenthesis in selector definition.";
      continue;
    }
    bool syntax = false;
    for (auto& op : merged) {
      while (!op.empty() && (op.back() == '\t' || op.back() == '\r' || op.back() == '\n')) op.pop_back();
      while (!op.empty() && (op.front() == '\t' || op.front() == '\r' || op.front() == '\n')) op.erase(0, 1);
      RuleError e = ApplyRule(it->second, op, ctx);
      if (e == RuleError::kUnknown) {
        errors += where + ": Error in applying operation '" + op + "': " + RuleErrorText(e) + ". ";
      } else if (e != RuleError::kNone && !syntax) {
        errors += where + ": " + RuleErrorText(e) + ". ";
        syntax = true;
      }
    }
  }
  if (!errors.empty())
    return errors + "WARNING: ACL errors detected, no change to the previously active ACL "
                    "rules was performed";
  std::vector<UserHandle*> gone;
  {
    std::lock_guard lk(mu_);
    auto def = fresh.find("default");
    Publish(default_, def != fresh.end() ? std::make_shared<const User>(def->second)
                                         : std::shared_ptr<const User>(DefaultRules(ctx)));
    // As Redis, every other user is made anew: the old ones' clients are disconnected.
    for (auto& [n, h] : users_)
      if (h != default_) {
        h->deleted.store(true);
        gone.push_back(h);
      }
    users_.clear();
    users_.emplace("default", default_);
    for (auto& [n, u] : fresh) {
      if (n == "default") continue;
      handles_.push_back(std::make_unique<UserHandle>(std::make_shared<const User>(std::move(u))));
      users_.emplace(n, handles_.back().get());
    }
  }
  KillClientsOf(gone, FERRITE_CONN_CLOSE_NOW);
  return {};
}

void Acl::AddLog(Client* c, Verdict reason, LogContext ctx, std::string object,
                 std::string username) {
  switch (reason) {
    case Verdict::kAuth: denied_auth.fetch_add(1, std::memory_order_relaxed); break;
    case Verdict::kCommand: denied_cmd.fetch_add(1, std::memory_order_relaxed); break;
    case Verdict::kKey: denied_key.fetch_add(1, std::memory_order_relaxed); break;
    case Verdict::kChannel: denied_channel.fetch_add(1, std::memory_order_relaxed); break;
    case Verdict::kOk: break;
  }
  LogEntry e;
  e.reason = reason;
  e.context = ctx;
  e.object = std::move(object);
  e.username = std::move(username);
  e.ctime_ms = host_->clock().NowMs();
  std::string info = ClientLine(host_, *c);
  if (!info.empty() && info.back() == '\n') info.pop_back();
  e.client_info = std::move(info);
  size_t max_len = static_cast<size_t>(host_->config().Int("security.acllog_max_len"));
  std::lock_guard lk(log_mu_);
  for (size_t i = 0; i < log_.size() && i < 10; i++) {
    LogEntry& o = log_[i];
    if (o.reason == e.reason && o.context == e.context && o.object == e.object &&
        o.username == e.username && std::abs(o.ctime_ms - e.ctime_ms) <= kLogGroupingMs) {
      LogEntry m = std::move(o);
      m.client_info = std::move(e.client_info);
      m.ctime_ms = e.ctime_ms;
      m.count++;
      log_.erase(log_.begin() + static_cast<long>(i));
      log_.insert(log_.begin(), std::move(m));
      return;
    }
  }
  log_.insert(log_.begin(), std::move(e));
  if (log_.size() > max_len) log_.resize(max_len);
}

std::vector<LogEntry> Acl::Log(size_t count) const {
  std::lock_guard lk(log_mu_);
  return {log_.begin(), log_.begin() + static_cast<long>(std::min(count, log_.size()))};
}

void Acl::ResetLog() {
  std::lock_guard lk(log_mu_);
  log_.clear();
}

}  // namespace ferrite::host::acl
