// Service lifecycle: startup load, the cron thread, shutdown, CONFIG SET appendonly.
// Snapshot/rewrite forks live in persistence_fork.cc, commands and INFO in
// persistence_commands.cc.
#include "host/persistence/persistence.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "host/host.h"
#include "host/info.h"
#include "host/logging.h"
#include "host/persistence/rdb_functions.h"
#include "host/persistence/rdb_reader.h"
#include "host/systemd.h"

namespace ferrite::host::persist {

namespace {

std::mutex g_services_mu;
std::map<Host*, PersistenceService*> g_services;

bool FileExists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

int64_t FileSize(const std::string& p) {
  struct stat sb;
  return ::stat(p.c_str(), &sb) == 0 ? static_cast<int64_t>(sb.st_size) : 0;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PersistenceService* PersistenceService::Of(Host* h) {
  std::lock_guard lk(g_services_mu);
  auto it = g_services.find(h);
  return it == g_services.end() ? nullptr : it->second;
}

PersistenceService::PersistenceService(Host& h) : h_(h) {}

PersistenceService::~PersistenceService() {
  RemoveInfoSection(&h_, "persistence");  // INFO is served while the startup load runs
  Stop();
  std::lock_guard lk(g_services_mu);
  g_services.erase(&h_);
}

std::string PersistenceService::DataPath(const std::string& name) const {
  // Built in place: `dir + "/" + name` and `= "."` trip GCC 12's false -Wrestrict
  // (PR 105651).
  std::string path = h_.config().String("persistence.dir");
  if (path.empty()) path.push_back('.');
  path += '/';
  path += name;
  return path;
}

void PersistenceService::Start() {
  {
    std::lock_guard lk(g_services_mu);
    g_services[&h_] = this;
  }
  // Before the load: INFO persistence reports its progress (loading:1 ...).
  AddInfoSection(&h_, "persistence", [this] { return InfoSection(); });
  LoadAtStartup();
  loaded_ = true;
  lastsave_s_ = h_.clock().NowMs() / 1000;
  dirty_at_save_ = h_.stats().dirty.load();
  if (h_.config().Bool("persistence.aof_enabled")) {
    std::string err = StartAof(false);
    if (!err.empty()) throw std::runtime_error(err);
  }
  h_.debug_reload = [this](const Host::ReloadOptions& o) { return DebugReload(o); };
  h_.debug_loadaof = [this] { return DebugLoadAof(); };
  h_.config().OnChange("appendonly", [this] {
    if (h_.config().Bool("persistence.aof_enabled")) EnableAof();
    else DisableAof();
  });
  thread_ = std::thread([this] { CronLoop(); });
}

namespace {

std::string KeysPerSecond(uint64_t n, double secs) {
  return fmt::format("{:.0f} keys/s", secs > 0 ? static_cast<double>(n) / secs : 0.0);
}

}  // namespace

// The progress callback of a startup load: INFO's loading_* figures, a log line (and a
// systemd STATUS=) every few seconds, and the way out when a shutdown is asked for.
std::function<void(uint64_t, uint64_t)> PersistenceService::LoadProgress(
    const std::string& what, const std::string& unit, std::chrono::steady_clock::time_point t0) {
  auto last_report = std::make_shared<std::chrono::steady_clock::time_point>(t0);
  return [this, what, unit, t0, last_report](uint64_t bytes, uint64_t keys) {
    h_.loading.loaded_bytes = static_cast<int64_t>(bytes);
    h_.loading.keys = static_cast<int64_t>(keys);
    if (h_.shutting_down.load()) throw LoadInterrupted();
    auto now = std::chrono::steady_clock::now();
    if (now - *last_report < kLoadReportEvery) return;
    *last_report = now;
    int64_t total = h_.loading.total_bytes.load();
    std::string line = fmt::format(
        "loading {}: {} {}, {:.1f} MB of {:.1f} MB ({:.1f}%) in {:.1f} s", what, keys, unit,
        static_cast<double>(bytes) / 1e6, static_cast<double>(total) / 1e6,
        total > 0 ? 100.0 * static_cast<double>(bytes) / static_cast<double>(total) : 0.0,
        SecondsSince(t0));
    Logger("host.persistence")->info("{}", line);
    SystemdNotify("STATUS=" + line);
  };
}

void PersistenceService::LoadAtStartup() {
  auto log = Logger("host.persistence");
  auto t0 = std::chrono::steady_clock::now();
  std::string aof_path = DataPath(h_.config().String("persistence.appendfilename"));
  std::string rdb_path = DataPath(h_.config().String("persistence.dbfilename"));
  int64_t now = h_.clock().NowMs();
  log->debug("looking for data: AOF {} ({}), snapshot {}", aof_path,
             h_.config().Bool("persistence.aof_enabled") ? "enabled" : "disabled", rdb_path);
  if (h_.config().Bool("persistence.aof_enabled") && FileExists(aof_path)) {
    AofLoadOptions o;
    o.load_truncated = h_.config().Bool("persistence.aof_load_truncated");
    o.load_corrupt = h_.config().Bool("persistence.aof_load_corrupt");
    o.now_ms = now;
    o.lock_per_key = true;
    o.key_load_delay_us = h_.config().Int("persistence.key_load_delay");
    o.progress = LoadProgress("the AOF", "commands", t0);
    int64_t size = FileSize(aof_path);
    h_.loading.Begin(now / 1000, size);
    log->info("loading the append only file {} ({:.1f} MB)", aof_path,
              static_cast<double>(size) / 1e6);
    AofLoadStats st;
    try {
      st = LoadAof(h_, aof_path, o);
    } catch (const LoadInterrupted&) {
      throw;
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("AOF ") + aof_path + ": " + e.what());
    }
    if (st.errors)
      log->warn("{} commands in the AOF replied with an error (first: {})", st.errors,
                st.first_error);
    double secs = SecondsSince(t0);
    log->info("DB loaded from append only file {}: {} commands{} in {:.3f} seconds ({})",
              aof_path, st.commands,
              st.rdb_keys ? fmt::format(" after {} preamble keys", st.rdb_keys) : "", secs,
              KeysPerSecond(st.commands + st.rdb_keys, secs));
    return;
  }
  if (!FileExists(rdb_path)) {
    log->info("no snapshot at {}: starting with an empty dataset", rdb_path);
    return;
  }
  int64_t size = FileSize(rdb_path);
  h_.loading.Begin(now / 1000, size);
  log->info("loading the snapshot {} ({:.1f} MB)", rdb_path, static_cast<double>(size) / 1e6);
  std::string data;
  ReadWholeFile(rdb_path, &data);  // unreadable: empty, which the loader reports
  RdbLoadOptions o;
  o.verify_checksum = h_.config().Bool("persistence.rdbchecksum");
  o.now_ms = now;
  o.lock_per_key = true;
  o.adopt_cas_epoch = true;
  o.key_load_delay_us = h_.config().Int("persistence.key_load_delay");
  o.progress = LoadProgress("the snapshot", "keys", t0);
  RdbLoadStats st;
  try {
    st = LoadRdb(h_, data, o);
  } catch (const LoadInterrupted&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error(rdb_path + ": " + e.what());
  }
  load_keys_ = st.keys;
  load_expired_ = st.expired_skipped;
  double secs = SecondsSince(t0);
  log->info("DB loaded from disk {}: {} keys ({} expired skipped) in {:.3f} seconds, {} "
            "(RDB v{}, written by {})", rdb_path, st.keys, st.expired_skipped, secs,
            KeysPerSecond(st.keys, secs), st.version,
            st.redis_ver.empty() ? "unknown" : "redis " + st.redis_ver);
}

void PersistenceService::CronLoop() {
  std::unique_lock lk(cron_mu_);
  while (!stop_) {
    cron_cv_.wait_for(lk, std::chrono::milliseconds(100));
    if (stop_) break;
    lk.unlock();
    try {
      CronTick();
    } catch (const std::exception& e) {
      Logger("host.persistence")->error("persistence cron: {}", e.what());
    }
    lk.lock();
  }
}

bool PersistenceService::SavePointDue(int64_t now_s) {
  std::istringstream in(h_.config().String("persistence.save"));
  int64_t secs, changes;
  uint64_t dirty = h_.stats().dirty.load() - dirty_at_save_.load();
  std::lock_guard lk(mu_);
  // After a failure, retry no sooner than 5 s (Redis' CONFIG_BGSAVE_RETRY_DELAY).
  if (!last_bgsave_ok_ && now_s - last_bgsave_try_s_ <= 5) return false;
  while (in >> secs >> changes)
    if (dirty >= static_cast<uint64_t>(changes) && now_s - lastsave_s_.load() >= secs) return true;
  return false;
}

void PersistenceService::CronTick() {
  ReapChildren();
  int64_t now = h_.clock().NowMs();
  if (AofWriter* a = aof_.load(); a && aof_on_) a->FsyncIfDue(now);
  bool idle, rewrite, bgsave;
  {
    std::lock_guard lk(mu_);
    idle = rdb_child_ <= 0 && aof_child_ <= 0;
    rewrite = rewrite_scheduled_;
    bgsave = bgsave_scheduled_;
    if (idle) bgsave_scheduled_ = false;
  }
  if (!idle) return;
  auto log = Logger("host.persistence");
  if (rewrite) {
    LockSet locks;
    locks.AcquireAll(h_.keyspace());
    bool scheduled = false;
    std::string err = BgrewriteLocked(&scheduled);
    if (!err.empty()) log->warn("scheduled AOF rewrite: {}", err);
    return;
  }
  if (bgsave || SavePointDue(now / 1000)) {
    log->info("{} changes since the last save: saving", h_.stats().dirty.load() - dirty_at_save_.load());
    LockSet locks;
    locks.AcquireAll(h_.keyspace());
    std::string err = BgsaveLocked();
    if (!err.empty()) log->warn("scheduled BGSAVE: {}", err);
    return;
  }
  MaybeAutoRewrite();
}

void PersistenceService::MaybeAutoRewrite() {
  AofWriter* a = aof_.load();
  if (!a || !aof_on_) return;
  int64_t pct = h_.config().Int("persistence.auto_aof_rewrite_percentage");
  int64_t min = h_.config().Int("persistence.auto_aof_rewrite_min_size");
  uint64_t size = a->size(), base = std::max<uint64_t>(1, a->base_size());
  if (pct <= 0 || size < static_cast<uint64_t>(min)) return;
  if ((size * 100 / base) < 100 + static_cast<uint64_t>(pct)) return;
  Logger("host.persistence")
      ->info("starting automatic rewriting of the AOF on {}% growth", size * 100 / base - 100);
  LockSet locks;
  locks.AcquireAll(h_.keyspace());
  bool scheduled = false;
  BgrewriteLocked(&scheduled);
}

// NOTE: reached from AofWriter::on_status with the writer's mutex held, and with mu_ held
// from the snapshot paths: it only takes refuse_mu_ (a leaf) and reads atomics.
void PersistenceService::UpdateWritesRefused() {
  std::lock_guard lk(refuse_mu_);
  bool save_points = !h_.config().String("persistence.save").empty();
  bool refuse = (!last_bgsave_ok_.load() && save_points &&
                 h_.config().Bool("persistence.stop_writes_on_bgsave_error")) ||
                !aof_ok_.load();
  h_.writes_refused = refuse;
}

std::string PersistenceService::StartAof(bool locked) {
  std::string path = DataPath(h_.config().String("persistence.appendfilename"));
  aof_owned_.push_back(
      std::make_unique<AofWriter>(path, h_.config().IntRef("persistence.aof_fsync")));
  AofWriter* a = aof_owned_.back().get();
  a->on_status = [this](bool ok, const std::string& why) {
    aof_ok_ = ok;
    if (!ok) Logger("host.persistence")->error("{}", why);
    else Logger("host.persistence")->info("AOF write error cleared: writes accepted again");
    UpdateWritesRefused();
  };
  if (!locked && !FileExists(path)) {
    // First start with the AOF on: its base is whatever the snapshot held.
    std::string tmp = path + ".init-tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "can't create the append-only file " + tmp + ": " + strerror(errno);
    std::vector<std::string> libraries;
    std::string why;
    bool ok = DumpLibraries(h_, &libraries, &why) &&
              AofRewriteBase(h_, fd, h_.clock().NowMs(), libraries);
    ::close(fd);
    if (!why.empty()) return "can't write the append-only file " + path + ": " + why;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
      return "can't write the append-only file " + path + ": " + strerror(errno);
  }
  if (!locked) {
    std::string err = a->Open();
    if (!err.empty()) return err;
  }
  aof_ = a;
  h_.AddPropagationSink(a);
  aof_on_ = true;
  h_.durability_barrier = [this] {
    if (AofWriter* w = aof_.load()) w->SyncBarrier();
  };
  return "";
}

void PersistenceService::EnableAof() {
  if (aof_on_) return;
  // As Redis: the sink starts buffering now and a background rewrite writes the base;
  // the file exists (and is appended to directly) once that rewrite finished.
  LockSet locks;
  locks.AcquireAll(h_.keyspace());
  StartAof(true);
  bool scheduled = false;
  std::string err = BgrewriteLocked(&scheduled);
  if (!err.empty()) {
    std::lock_guard lk(mu_);
    rewrite_scheduled_ = true;  // an AOF child already runs: finish that one first
  }
}

void PersistenceService::DisableAof() {
  if (!aof_on_) return;
  AofWriter* a = aof_.exchange(nullptr);
  h_.RemovePropagationSink(a);
  aof_on_ = false;
  pid_t child;
  {
    std::lock_guard lk(mu_);
    child = aof_child_;
    rewrite_scheduled_ = false;
  }
  if (child > 0) {
    ::kill(child, SIGUSR1);
    ::waitpid(child, nullptr, 0);
    std::lock_guard lk(mu_);
    aof_child_ = -1;
    ::unlink(aof_temp_.c_str());
  }
  a->FlushAndSync();
  aof_ok_ = true;
  UpdateWritesRefused();
}

void PersistenceService::Stop() {
  {
    std::lock_guard lk(cron_mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
  }
  cron_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  auto log = Logger("host.persistence");
  {
    std::lock_guard lk(mu_);
    for (auto [pid, tmp] : {std::pair{rdb_child_, rdb_temp_}, std::pair{aof_child_, aof_temp_}}) {
      if (pid <= 0) continue;
      ::kill(pid, SIGUSR1);
      ::waitpid(pid, nullptr, 0);
      ::unlink(tmp.c_str());
      log->info("killed the background child {} on shutdown", pid);
    }
    rdb_child_ = aof_child_ = -1;
  }
  if (AofWriter* a = aof_.load()) {
    h_.RemovePropagationSink(a);
    if (!a->FlushAndSync()) log->error("AOF: final fsync failed: {}", a->last_error());
  }
  bool save_points = !h_.config().String("persistence.save").empty();
  // NOTE: never after a failed or interrupted startup load: the snapshot on disk is the
  // whole dataset, the keyspace only part of it.
  bool save = loaded_ && (h_.shutdown_save == 1 || (h_.shutdown_save == -1 && save_points));
  if (save && h_.shutdown_interrupted_writes) {
    log->warn("not saving the final RDB snapshot: the shutdown stopped a script that "
              "had written, and the data set holds part of its effects");
  } else if (save) {
    log->info("saving the final RDB snapshot before exiting");
    SystemdNotify("STATUS=Saving the final RDB snapshot");
    std::string err = SaveLocked();  // the server stopped: nothing else runs
    if (err.empty()) log->info("DB saved on disk");
    else log->error("error trying to save the DB on shutdown: {}", err);
  }
  h_.debug_reload = nullptr;
  h_.debug_loadaof = nullptr;
}

}  // namespace ferrite::host::persist
