#include "host/info.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "host/allocator.h"
#include "host/context.h"
#include "host/memory_overhead.h"
#include "host/server_commands.h"

namespace ferrite::host {

namespace {

std::mutex g_sections_mu;
std::map<Host*, std::vector<std::pair<std::string, std::function<std::string()>>>> g_sections;

// Plugins' fields in host sections (info_register_fields), under g_sections_mu.
struct PluginFields {
  ferrite_plugin* plugin;
  std::string section;
  void (*fn)(void*, ferrite_info*);
  void* udata;
};
std::map<Host*, std::vector<PluginFields>> g_fields;

// The sections that take plugin fields.
constexpr std::string_view kFieldSections[] = {"memory"};

std::string Human(int64_t bytes) {
  char buf[64];
  double b = static_cast<double>(bytes);
  if (b < 1024) snprintf(buf, sizeof buf, "%lldB", static_cast<long long>(bytes));
  else if (b < 1024.0 * 1024) snprintf(buf, sizeof buf, "%.2fK", b / 1024);
  else if (b < 1024.0 * 1024 * 1024) snprintf(buf, sizeof buf, "%.2fM", b / 1024 / 1024);
  else snprintf(buf, sizeof buf, "%.2fG", b / 1024 / 1024 / 1024);
  return buf;
}

std::string Server(Host* h) {
  std::ostringstream o;
  int64_t up = (h->clock().NowMs() - h->start_ms()) / 1000;
  o << "# Server\r\nredis_version:" << kRedisCompatVersion << "\r\nferrite_version:" << kFerriteVersion
    << "\r\nredis_mode:standalone\r\nos:Linux\r\narch_bits:64\r\nmultiplexing_api:epoll"
    << "\r\nprocess_id:" << getpid() << "\r\nrun_id:" << h->run_id()
    << "\r\ntcp_port:" << h->config().Int("server.port") << "\r\nuptime_in_seconds:" << up
    << "\r\nuptime_in_days:" << up / 86400 << "\r\nhz:" << h->config().Int("server.hz")
    << "\r\nio_threads_active:" << h->config().Int("server.threads")
    << "\r\nexecutable:/proc/self/exe\r\nconfig_file:" << h->config().path() << "\r\n";
  return o.str();
}

std::string Clients(Host* h) {
  std::ostringstream o;
  size_t pubsub = 0;
  for (auto& c : h->AllClients())
    if (c->subscriptions) pubsub++;
  o << "# Clients\r\nconnected_clients:" << h->num_clients()
    << "\r\nmaxclients:" << h->config().Int("server.max_connections")
    << "\r\nblocked_clients:" << h->blocked_count() << "\r\npubsub_clients:" << pubsub
    << "\r\ntracking_clients:" << h->tracking().NumClients() << "\r\n";
  return o.str();
}

std::string Fixed2(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string Ratio(int64_t num, int64_t den) {
  return Fixed2(den > 0 ? static_cast<double>(num) / den : 0.0);
}

}  // namespace
}  // namespace ferrite::host

struct ferrite_info {
  std::string* out;
};

namespace ferrite::host {
namespace {

// The plugins' lines for one section, in registration order.
std::string PluginFieldsOf(Host* h, std::string_view section) {
  std::string out;
  ferrite_info info{&out};
  std::lock_guard lk(g_sections_mu);
  for (auto& f : g_fields[h])
    if (f.section == section) f.fn(f.udata, &info);
  return out;
}

// Redis' fields and formulas: allocator_frag = active / allocated (holes in the
// allocator's pages), allocator_rss = resident / active (dirty pages it has not yet
// returned), rss_overhead = RSS / resident (the binary, stacks, what is not malloc),
// mem_fragmentation = RSS / used_memory (all of it).
std::string Memory(Host* h) {
  std::ostringstream o;
  int64_t system = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  MemoryOverhead m = ReadMemoryOverhead(h);
  int64_t max = h->config().Int("storage.max_memory");
  const AllocatorStats& a = m.alloc;
  o << "# Memory\r\nused_memory:" << m.total << "\r\nused_memory_human:" << Human(m.total)
    << "\r\nused_memory_rss:" << m.rss << "\r\nused_memory_rss_human:" << Human(m.rss)
    << "\r\nused_memory_peak:" << m.peak << "\r\nused_memory_peak_human:" << Human(m.peak)
    << "\r\nused_memory_peak_perc:" << Fixed2(m.peak_perc) << "%"
    << "\r\nused_memory_overhead:" << m.overhead_total
    << "\r\nused_memory_startup:" << m.startup << "\r\nused_memory_dataset:" << m.dataset
    << "\r\nused_memory_dataset_perc:" << Fixed2(m.dataset_perc) << "%"
    << "\r\nallocator_allocated:" << a.allocated << "\r\nallocator_active:" << a.active
    << "\r\nallocator_resident:" << a.resident << "\r\ntotal_system_memory:" << system
    << "\r\ntotal_system_memory_human:" << Human(system) << "\r\n"
    << PluginFieldsOf(h, "memory") << "maxmemory:" << max
    << "\r\nmaxmemory_human:" << Human(max)
    << "\r\nmaxmemory_policy:" << h->config().String("storage.eviction_policy")
    << "\r\nallocator_frag_ratio:" << Ratio(a.active, a.allocated)
    << "\r\nallocator_frag_bytes:" << m.alloc_frag_bytes
    << "\r\nallocator_rss_ratio:" << Ratio(a.resident, a.active)
    << "\r\nallocator_rss_bytes:" << m.alloc_rss_bytes
    << "\r\nrss_overhead_ratio:" << Ratio(m.rss, a.resident)
    << "\r\nrss_overhead_bytes:" << m.rss_extra_bytes
    << "\r\nmem_fragmentation_ratio:" << Ratio(m.rss, m.total)
    << "\r\nmem_fragmentation_bytes:" << m.total_frag_bytes
    // Redis leaves replication and AOF buffers out of eviction's figure; Ferrite's
    // used_memory does not contain them in the first place.
    << "\r\nmem_not_counted_for_evict:0"
    << "\r\nmem_replication_backlog:" << m.backlog
    << "\r\nmem_clients_slaves:" << m.clients_replicas
    << "\r\nmem_clients_normal:" << m.clients_normal
    << "\r\nmem_allocator:" << AllocatorName()
    // No active defragmentation, and every free is done at once (UNLINK, FLUSHALL ASYNC
    // included): nothing is ever pending.
    << "\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n";
  return o.str();
}

std::string StatsSection(Host* h) {
  auto& s = h->stats();
  std::ostringstream o;
  o << "# Stats\r\ntotal_connections_received:" << s.total_connections
    << "\r\ntotal_commands_processed:" << s.total_commands
    << "\r\ntotal_net_input_bytes:" << s.net_input_bytes
    << "\r\ntotal_net_output_bytes:" << s.net_output_bytes
    << "\r\nrejected_connections:" << s.rejected_connections
    << "\r\nexpired_keys:" << s.expired_keys << "\r\nevicted_keys:" << s.evicted_keys
    << "\r\nevicted_clients:" << h->client_eviction().evicted()
    << "\r\nkeyspace_hits:" << s.keyspace_hits
    << "\r\nkeyspace_misses:" << s.keyspace_misses
    << "\r\npubsub_clients_killed_for_output_buffer:" << s.pubsub_clients_killed
    // A later Redis' name (7.0 has no counter): clients of every class closed by
    // client-output-buffer-limit, replicas included.
    << "\r\nclient_output_buffer_limit_disconnections:" << s.output_limit_disconnections
    << "\r\nsync_full:" << s.sync_full << "\r\nsync_partial_ok:" << s.sync_partial_ok
    << "\r\nsync_partial_err:" << s.sync_partial_err
    // MIGRATE keeps no connection between calls (host/persistence/migrate.cc).
    << "\r\nmigrate_cached_sockets:0"
    << "\r\ntracking_total_keys:" << h->tracking().NumKeys()
    << "\r\ntracking_total_items:" << h->tracking().NumItems()
    << "\r\ntracking_total_prefixes:" << h->tracking().NumPrefixes()
    << "\r\ntotal_error_replies:" << s.total_errors
    // Redis 7.2's ACL counters (7.0 has none; the issue asks for them).
    << "\r\nacl_access_denied_auth:" << h->acl().denied_auth
    << "\r\nacl_access_denied_cmd:" << h->acl().denied_cmd
    << "\r\nacl_access_denied_key:" << h->acl().denied_key
    << "\r\nacl_access_denied_channel:" << h->acl().denied_channel << "\r\n";
  return o.str();
}

std::string Replication(Host* h) {
  if (h->replication().info_section) return h->replication().info_section();
  std::ostringstream o;
  bool replica = h->config().String("replication.role") == "replica";
  o << "# Replication\r\nrole:" << (replica ? "slave" : "master") << "\r\nconnected_slaves:0\r\n"
    << "master_replid:" << h->run_id() << "\r\nmaster_repl_offset:0\r\n";
  return o.str();
}

std::string Cpu() {
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  char buf[256];
  snprintf(buf, sizeof buf, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n",
           self.ru_stime.tv_sec, static_cast<long>(self.ru_stime.tv_usec), self.ru_utime.tv_sec,
           static_cast<long>(self.ru_utime.tv_usec));
  return buf;
}

std::string Modules(Host* h) {
  std::ostringstream o;
  o << "# Modules\r\n";
  for (auto* p : h->registry().Plugins())
    o << "module:name=" << p->name << ",ver=" << p->version << ",api=" << FERRITE_ABI_MAJOR
      << ",filters=0,usedby=[],using=[],options=[]\r\n";
  return o.str();
}

std::vector<std::shared_ptr<Command>> SortedCommands(Host* h) {
  std::vector<std::shared_ptr<Command>> cmds;
  for (auto& [n, c] : *h->registry().Commands()) cmds.push_back(c);
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a->name < b->name; });
  return cmds;
}

// One command's or subcommand's line; Redis prints one for each that was called,
// failed or refused, a container's subcommands right after it ("config|get").
void CommandStatLine(std::ostringstream& o, const std::string& name, const CallStats& c) {
  uint64_t calls = c.calls, failed = c.failed, rejected = c.rejected;
  if (calls == 0 && failed == 0 && rejected == 0) return;
  auto usec = static_cast<uint64_t>(static_cast<double>(c.usec.load()) / CyclesPerUs());
  char buf[64];
  snprintf(buf, sizeof buf, "%.2f", calls ? static_cast<double>(usec) / calls : 0.0);
  o << "cmdstat_" << name << ":calls=" << calls << ",usec=" << usec << ",usec_per_call=" << buf
    << ",rejected_calls=" << rejected << ",failed_calls=" << failed << "\r\n";
}

std::string CommandStats(Host* h) {
  std::ostringstream o;
  o << "# Commandstats\r\n";
  for (auto& c : SortedCommands(h)) {
    CommandStatLine(o, c->name, *c);
    for (auto& sub : c->subcommands) CommandStatLine(o, sub.fullname, *sub.stats);
  }
  return o.str();
}

std::string ErrorStatsSection(Host* h) {
  return "# Errorstats\r\n" + h->error_stats().InfoLines();
}

// One line per command with a histogram: the latency-tracking-info-percentiles in µs,
// each named as the setting prints it ("p50", "p99.9").
void LatencyLine(std::ostringstream& o, const std::string& name, const CallStats& c,
                 const std::vector<std::pair<std::string, double>>& pcts, double per_us) {
  const LatencyHistogram* l = c.latency.load();
  if (!l || c.calls == 0 || l->Count() == 0) return;
  o << "latency_percentiles_usec_" << name << ":";
  for (size_t i = 0; i < pcts.size(); i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f",
             static_cast<double>(l->ValueAtPercentile(pcts[i].second)) / per_us);
    o << (i ? "," : "") << "p" << pcts[i].first << "=" << buf;
  }
  o << "\r\n";
}

std::string LatencyStats(Host* h) {
  std::ostringstream o;
  o << "# Latencystats\r\n";
  std::vector<std::pair<std::string, double>> pcts;
  std::istringstream words(h->config().String("server.latency_tracking_info_percentiles"));
  for (std::string w; words >> w;) pcts.emplace_back(w, std::strtod(w.c_str(), nullptr));
  double per_us = CyclesPerUs();
  for (auto& c : SortedCommands(h)) {
    LatencyLine(o, c->name, *c, pcts, per_us);
    for (auto& sub : c->subcommands) LatencyLine(o, sub.fullname, *sub.stats, pcts, per_us);
  }
  return o.str();
}

std::string KeyspaceSection(Host* h) {
  std::ostringstream o;
  o << "# Keyspace\r\n";
  auto& ks = h->keyspace();
  for (int db = 0; db < ks.num_dbs(); db++) {
    size_t keys = 0, expires = 0;
    for (int i = 0; i < ks.num_shards(); i++) {
      // A caller may hold some shards already (INFO from a script or inside EXEC).
      std::unique_lock lk(ks.shard(i).mu, std::defer_lock);
      if (!LockSet::ThreadHolds(&ks, i)) lk.lock();
      keys += ks.shard(i).dbs[db].size();
      expires += ks.shard(i).dbs[db].volatile_size();
    }
    if (keys) o << "db" << db << ":keys=" << keys << ",expires=" << expires << ",avg_ttl=0\r\n";
  }
  return o.str();
}

}  // namespace

void AddInfoSection(Host* h, std::string name, std::function<std::string()> body) {
  std::lock_guard lk(g_sections_mu);
  g_sections[h].emplace_back(std::move(name), std::move(body));
}

bool AddInfoFields(Host* h, ferrite_plugin* p, std::string_view section,
                   void (*fn)(void*, ferrite_info*), void* udata) {
  if (std::find(std::begin(kFieldSections), std::end(kFieldSections), section) ==
      std::end(kFieldSections))
    return false;
  std::lock_guard lk(g_sections_mu);
  g_fields[h].push_back({p, std::string(section), fn, udata});
  return true;
}

void RemoveInfoFields(Host* h, ferrite_plugin* p) {
  std::lock_guard lk(g_sections_mu);
  std::erase_if(g_fields[h], [&](auto& f) { return f.plugin == p; });
}

void RemoveInfoSection(Host* h, const std::string& name) {
  std::lock_guard lk(g_sections_mu);
  std::erase_if(g_sections[h], [&](auto& s) { return s.first == name; });
}

std::string BuildInfo(Host* h, const std::vector<std::string>& req) {
  std::vector<std::string> want;
  for (auto s : req) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    want.push_back(s);
  }
  bool all = want.empty() || std::count(want.begin(), want.end(), "all") ||
             std::count(want.begin(), want.end(), "everything") ||
             std::count(want.begin(), want.end(), "default");
  bool everything = std::count(want.begin(), want.end(), "everything") ||
                    std::count(want.begin(), want.end(), "all");
  auto on = [&](const char* n) { return all || std::count(want.begin(), want.end(), n); };
  std::string out;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += "\r\n";
    out += s;
  };
  if (on("server")) add(Server(h));
  if (on("clients")) add(Clients(h));
  if (on("memory")) add(Memory(h));
  {
    std::lock_guard lk(g_sections_mu);
    for (auto& [name, fn] : g_sections[h])
      if (on(name.c_str())) add(fn());
  }
  if (on("stats")) add(StatsSection(h));
  if (on("replication")) add(Replication(h));
  if (on("cpu")) add(Cpu());
  if (on("modules")) add(Modules(h));
  if (everything || std::count(want.begin(), want.end(), "commandstats")) add(CommandStats(h));
  if (on("errorstats")) add(ErrorStatsSection(h));
  if (everything || std::count(want.begin(), want.end(), "latencystats")) add(LatencyStats(h));
  if (on("keyspace")) add(KeyspaceSection(h));
  return out;
}

}  // namespace ferrite::host

void InfoField(ferrite_info* out, const char* name, const char* value) {
  if (!out || !name || !value) return;
  out->out->append(name).append(":").append(value).append("\r\n");
}
