#include "host/host.h"

#include <algorithm>
#include <csignal>
#include <mutex>
#include <vector>
#include <random>

#include "host/allocator.h"
#include "host/cron_pause.h"
#include "host/context.h"
#include "host/logging.h"

namespace ferrite::host {

namespace {
std::string NewRunId() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static const char kHex[] = "0123456789abcdef";
  std::string s(40, '0');
  for (auto& ch : s) ch = kHex[rng() & 15];
  return s;
}
}  // namespace

Host::Host(std::unique_ptr<Config> config)
    : config_(std::move(config)), start_ms_(clock_.NowMs()), run_id_(NewRunId()) {
  SetCurrentHost(this);
  keyspace_ = std::make_unique<Keyspace>(static_cast<int>(config_->Int("storage.shards")),
                                         static_cast<int>(config_->Int("storage.databases")));
  policy_ = config_->IntRef("storage.eviction_policy");
  max_memory_ = config_->IntRef("storage.max_memory");
  latency_tracking_ = config_->IntRef("server.latency_tracking");
  tracking_max_keys_ = config_->IntRef("server.tracking_table_max_keys");
  busy_threshold_ = config_->IntRef("scripting.busy_reply_threshold");
  lfu_decay_time_ = config_->IntRef("storage.lfu_decay_time");
  lfu_log_factor_ = config_->IntRef("storage.lfu_log_factor");
  for (auto [cls, name] : {std::pair{OutputClass::kNormal, "normal"},
                           {OutputClass::kReplica, "replica"}, {OutputClass::kPubsub, "pubsub"}}) {
    std::string prefix = std::string("limits.") + name + "_output_";
    auto& l = output_limits[static_cast<int>(cls)];
    l.hard = config_->IntRef(prefix + "hard_limit");
    l.soft = config_->IntRef(prefix + "soft_limit");
    l.soft_seconds = config_->IntRef(prefix + "soft_seconds");
  }
  repl_backlog_size_ = config_->IntRef("replication.repl_backlog_size");
  client_eviction_ = std::make_unique<ClientEviction>(*this);
  // A lower limit, or a percentage of a lower maxmemory, evicts at once (Redis'
  // applyClientMaxMemoryUsage and the next evictClients).
  config_->OnChange("maxmemory-clients", [this] { client_eviction_->Recount(); });
  config_->OnChange("maxmemory", [this] { client_eviction_->Recount(); });
  query_buffer_limit = config_->IntRef("limits.client_query_buffer_limit");
  aof_enabled_ = config_->IntRef("persistence.aof_enabled");
  aof_fsync_ = config_->IntRef("persistence.aof_fsync");
  introspection_ = std::make_unique<Introspection>(*config_);
  for (auto& d : config_->Describe()) {
    if (d.toml_address.rfind("limits.", 0) == 0 || d.redis_name == "memcached-item-size-max" ||
        d.redis_name == "memcached-allow-shutdown" || d.redis_name == "hz")
      if (!d.redis_name.empty()) hot_config_.emplace_back(d.redis_name, config_->IntRef(d.toml_address));
  }
  // requirepass is the default user's password (Redis' ACLUpdateDefaultUserPassword);
  // the ACL keeps auth_required in step with the default user.
  acl_ = std::make_unique<acl::Acl>(this);
  acl_->SetDefaultPassword(config_->String("security.requirepass"));
  config_->OnChange("requirepass", [this] {
    acl_->SetDefaultPassword(config_->String("security.requirepass"));
  });
  ReparseNotifyMask();
  config_->OnChange("notify-keyspace-events", [this] { ReparseNotifyMask(); });
  {
    Registry::Batch batch(registry_);  // one command-table snapshot, not one per command
    RegisterHostCommands(this);
  }
  baseline_memory_ = AllocatedBytes();
}

void Host::RequestShutdown(int sig) {
  int save = -1;
  bool now = false;
  if (sig == SIGTERM || sig == SIGINT) {
    // Redis' shutdown-on-sigterm / shutdown-on-sigint: "save" wins over "nosave"; "now"
    // skips waiting for lagging replicas; "force" changes nothing here (a failed save
    // is only logged anyway).
    std::string flags = " " +
                        config_->String(sig == SIGTERM ? "server.shutdown_on_sigterm"
                                                       : "server.shutdown_on_sigint") +
                        " ";
    if (flags.find(" nosave ") != std::string::npos) save = 0;
    if (flags.find(" save ") != std::string::npos) save = 1;
    now = flags.find(" now ") != std::string::npos;
  }
  auto finish = [this, save] {
    shutdown_save = save;
    shutting_down = true;
    script_gate_.Wake();
    if (on_shutdown) on_shutdown();
  };
  // A primary with lagging replicas waits for them first (shutdown-timeout), unless a
  // script is running: it would hold the shards the replicas' acknowledgements need.
  std::string_view busy;
  if (!now && !ScriptBusy(&busy) && !script_started_ms.load() && replication_.defer_shutdown &&
      replication_.defer_shutdown(finish, nullptr))
    return;
  finish();
}

Host::~Host() {
  SetCurrentHost(this);
  shutting_down = true;
  {
    std::lock_guard lk(clients_mu_);
    clients_.clear();
  }
  // Free values while their types' plugins are still loaded, then unload plugins.
  for (int i = 0; i < keyspace_->num_shards(); i++)
    for (auto& t : keyspace_->shard(i).dbs) t.Clear();
  for (auto* p : registry_.Plugins()) {
    std::string name = p->name;
    UnloadPlugin(name);
  }
}

std::shared_ptr<Client> Host::NewClient() {
  uint64_t id = next_client_id_.fetch_add(1);
  auto c = std::make_shared<ferrite_conn>(this, id);
  c->created_ms = clock_.NowMs();
  c->last_cmd_ms = c->created_ms;
  // As Redis, a client that connected while no password was needed is not held to the
  // unauthenticated output bound if one is set later.
  c->ever_authenticated = !auth_required.load(std::memory_order_relaxed);
  c->acl_user.store(acl_->DefaultUser(), std::memory_order_relaxed);
  c->last_interaction_ms.store(c->created_ms, std::memory_order_relaxed);
  std::lock_guard lk(clients_mu_);
  clients_[id] = c;
  stats_.total_connections.fetch_add(1, std::memory_order_relaxed);
  return c;
}

void Host::RemoveClient(Client* c) {
  c->closed = true;
  client_eviction_->Forget(c);
  if (c->out_soft_since_ms.exchange(0) != 0) soft_clients_.fetch_sub(1);
  // What its wake-up had not used up goes to the next waiter (no reply: it is gone).
  if (c->block.active) UnblockClient(c, false);
  auto hooks = std::move(c->close_hooks);
  for (auto& [fn, ud] : hooks) fn(ud, c->id);
  tracking_.Disable(c);
  std::lock_guard lk(clients_mu_);
  clients_.erase(c->id);
}

std::shared_ptr<Client> Host::FindClient(uint64_t id) {
  std::lock_guard lk(clients_mu_);
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Client>> Host::AllClients() {
  std::lock_guard lk(clients_mu_);
  std::vector<std::shared_ptr<Client>> r;
  r.reserve(clients_.size());
  for (auto& [id, c] : clients_) r.push_back(c);
  std::sort(r.begin(), r.end(), [](auto& a, auto& b) { return a->id < b->id; });
  return r;
}

size_t Host::num_clients() {
  std::lock_guard lk(clients_mu_);
  return clients_.size();
}

void Host::ReparseNotifyMask() {
  // The setting keeps Redis' flag bits (FERRITE_NOTIFY_*, K = bit 0, E = bit 1) in its
  // number; its letters are only the CONFIG GET form (see NormalizeNotify).
  auto m = static_cast<uint32_t>(config_->Int("server.notify_keyspace_events"));
  if ((m & 3u) == 0) m = 0;  // neither K nor E: nothing is emitted
  notify_mask_ = m;
}

void Host::Notify(int db, uint32_t type_class, const char* event, std::string_view key) {
  uint32_t mask = notify_mask_.load(std::memory_order_relaxed);
  if ((mask & type_class) == 0) return;
  auto subs = std::atomic_load(&event_subs_);
  for (auto& s : *subs)
    if (s.mask & type_class)
      s.fn(s.udata, db, type_class | (mask & 3u), event, {key.data(), key.size()});
}

void Host::AddEventSubscriber(ferrite_plugin* p, uint32_t mask, ferrite_event_fn fn, void* ud) {
  std::lock_guard lk(event_subs_mu_);
  auto next = std::make_shared<std::vector<EventSub>>(*std::atomic_load(&event_subs_));
  next->push_back({p, mask, fn, ud});
  std::atomic_store(&event_subs_, std::shared_ptr<const std::vector<EventSub>>(std::move(next)));
}

namespace {
// Not a FERRITE_NOTIFY_* class: Notify never matches it, NotifyEviction only it.
constexpr uint32_t kEvictionHook = 1u << 31;
thread_local const Host::Evicting* t_evicting = nullptr;
}  // namespace

void Host::AddEvictionSubscriber(ferrite_plugin* p, ferrite_event_fn fn, void* ud) {
  AddEventSubscriber(p, kEvictionHook, fn, ud);
}

const Host::Evicting* Host::EvictingEntry() { return t_evicting; }

void Host::NotifyEviction(int db, Table& t, Entry* e) {
  auto subs = std::atomic_load(&event_subs_);
  std::string_view key = e->key();
  Evicting info{e, t.ExpireOf(e)};
  for (auto& s : *subs) {
    if (!(s.mask & kEvictionHook)) continue;
    t_evicting = &info;
    s.fn(s.udata, db, FERRITE_NOTIFY_EVICTED, "evicted", {key.data(), key.size()});
    t_evicting = nullptr;
  }
}

void Host::RemoveEventSubscribers(ferrite_plugin* p) {
  std::lock_guard lk(event_subs_mu_);
  auto next = std::make_shared<std::vector<EventSub>>(*std::atomic_load(&event_subs_));
  std::erase_if(*next, [&](auto& s) { return s.plugin == p; });
  std::atomic_store(&event_subs_, std::shared_ptr<const std::vector<EventSub>>(std::move(next)));
}

void Host::AddSubscriptionLister(ferrite_plugin* p, ferrite_sub_lister_fn fn, void* ud) {
  std::lock_guard lk(event_subs_mu_);
  auto next = std::make_shared<std::vector<SubLister>>(*std::atomic_load(&sub_listers_));
  next->push_back({p, fn, ud});
  std::atomic_store(&sub_listers_, std::shared_ptr<const std::vector<SubLister>>(std::move(next)));
}

void Host::RemoveSubscriptionListers(ferrite_plugin* p) {
  std::lock_guard lk(event_subs_mu_);
  auto next = std::make_shared<std::vector<SubLister>>(*std::atomic_load(&sub_listers_));
  std::erase_if(*next, [&](auto& l) { return l.plugin == p; });
  std::atomic_store(&sub_listers_, std::shared_ptr<const std::vector<SubLister>>(std::move(next)));
}

bool Host::ListSubscriptions(uint64_t id, ferrite_sub_visit_fn visit, void* visit_udata) {
  auto listers = std::atomic_load(&sub_listers_);
  if (listers->empty()) return false;
  // A visitor that asked to stop is not handed the next plugin's subscriptions either.
  struct Relay {
    ferrite_sub_visit_fn visit;
    void* udata;
    bool stopped = false;
  } relay{visit, visit_udata};
  auto relay_fn = [](void* r, ferrite_sub_kind kind, ferrite_slice name) -> int {
    auto* self = static_cast<Relay*>(r);
    if (self->stopped) return 1;
    self->stopped = self->visit(self->udata, kind, name) != 0;
    return self->stopped ? 1 : 0;
  };
  for (const auto& l : *listers) {
    if (relay.stopped) break;
    l.fn(l.udata, id, relay_fn, &relay);
  }
  return true;
}

const std::atomic<int64_t>* Host::HotConfigRef(std::string_view name) const {
  for (auto& [n, ref] : hot_config_)
    if (n == name) return ref;
  return nullptr;
}

namespace {
std::atomic<int> g_cron_paused_hosts{0};
std::mutex g_cron_paused_mu;
std::vector<const Host*> g_cron_paused;  // under g_cron_paused_mu
}  // namespace

void SetCronPaused(const Host* h, bool paused) {
  std::lock_guard lk(g_cron_paused_mu);
  auto it = std::find(g_cron_paused.begin(), g_cron_paused.end(), h);
  if (paused && it == g_cron_paused.end()) g_cron_paused.push_back(h);
  if (!paused && it != g_cron_paused.end()) g_cron_paused.erase(it);
  g_cron_paused_hosts.store(static_cast<int>(g_cron_paused.size()), std::memory_order_relaxed);
}

bool CronPaused(const Host* h) {
  if (g_cron_paused_hosts.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard lk(g_cron_paused_mu);
  return std::find(g_cron_paused.begin(), g_cron_paused.end(), h) != g_cron_paused.end();
}

void Host::Cron() {
  SetCurrentHost(this);
  if (CronPaused(this)) return;  // DEBUG PAUSE-CRON 1
  // The loader links keys shard by shard: expiring or evicting meanwhile would race
  // with it (Redis runs no cron while it loads either).
  if (loading.active.load(std::memory_order_relaxed)) return;
  client_pause_.Current(clock_.NowMs());  // a pause that ran out ends now
  if (config_->Bool("storage.active_expire")) {
    LatencyScope lat(&introspection_->latency, "expire-cycle");
    ActiveExpireCycle(1000);
  }
  ExpireBlockedClients();
  UpdatePeakMemory();
  CheckSoftLimitedClients();
  client_eviction_->Recount();
  CloseIdleClients();
  // Eviction waits for shard locks: not while a script holds them all.
  if (max_memory_->load(std::memory_order_relaxed) > 0 && script_started_ms.load() == 0)
    EvictIfNeeded();
  // Keys expired or evicted above reach BCAST clients now, one message per prefix.
  if (tracking_.Active()) {
    tracking_.LimitTableSize(tracking_max_keys_->load(std::memory_order_relaxed));
    tracking_.FlushBroadcast();
  }
}

}  // namespace ferrite::host
