// The persistence service: loads the AOF or the snapshot at startup, keeps the AOF
// (AofWriter as a propagation sink), takes snapshots (SAVE, BGSAVE and the `save`
// schedule, in a fork child), rewrites the AOF in the background, reports INFO
// persistence, and maps failures to MISCONF. One thread ("persist cron", 10 Hz) reaps
// children, runs schedules, retries failed AOF writes and fsyncs for everysec.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/persistence/aof.h"
#include "host/services.h"

namespace ferrite::host {
class Host;
class LockSet;
}

namespace ferrite::host::persist {

class PersistenceService : public Service {
 public:
  explicit PersistenceService(Host& h);
  ~PersistenceService() override;

  // Loads data (AOF if enabled and present, else the RDB), opens the AOF, registers
  // commands/INFO/DEBUG RELOAD and starts the thread. Throws std::runtime_error.
  void Start();
  void Stop() override;

  // Foreground save with the keyspace already stable (all shard locks held, or no other
  // thread running). Returns "" or an error text.
  std::string SaveLocked();
  // Forks a snapshot child. The caller holds every shard lock (the fork point is then a
  // consistent cut). Returns "" or Redis' error text.
  std::string BgsaveLocked();
  std::string BgrewriteLocked(bool* scheduled);
  std::string DebugReload(const Host::ReloadOptions& o);
  std::string DebugLoadAof();
  void ScheduleBgsave();  // BGSAVE SCHEDULE while an AOF rewrite runs

  int64_t lastsave() const { return lastsave_s_.load(); }
  bool rdb_child_running() const { return rdb_child_ > 0; }
  std::string InfoSection();

  static PersistenceService* Of(Host* h);

 private:
  std::string DataPath(const std::string& name) const;
  // Loads the AOF or the snapshot, with progress in h_.loading and the log; throws
  // LoadInterrupted when a shutdown is asked for meanwhile.
  void LoadAtStartup();
  bool loaded_ = false;  // the startup load completed: a final save is allowed
  std::function<void(uint64_t, uint64_t)> LoadProgress(const std::string& what,
                                                       const std::string& unit,
                                                       std::chrono::steady_clock::time_point t0);
  static constexpr std::chrono::seconds kLoadReportEvery{2};
  void CronLoop();
  void CronTick();
  void ReapChildren();
  void OnRdbChildDone(bool ok, int64_t now);
  void OnAofChildDone(bool ok);
  bool SavePointDue(int64_t now_s);
  void MaybeAutoRewrite();
  void UpdateWritesRefused();
  void EnableAof();   // CONFIG SET appendonly yes
  void DisableAof();  // CONFIG SET appendonly no
  std::string StartAof(bool rewrite_now_locked);

  Host& h_;
  std::mutex mu_;  // children and status below
  pid_t rdb_child_ = -1, aof_child_ = -1;
  std::string rdb_temp_, aof_temp_;
  int64_t rdb_child_start_ms_ = 0, aof_child_start_ms_ = 0;
  uint64_t dirty_at_fork_ = 0;
  std::atomic<uint64_t> dirty_at_save_{0};
  std::atomic<int64_t> lastsave_s_{0};
  int64_t last_bgsave_try_s_ = 0;
  std::atomic<bool> last_bgsave_ok_{true};
  std::mutex refuse_mu_;  // serializes writes_refused updates
  int64_t last_bgsave_secs_ = -1, last_rewrite_secs_ = -1;
  bool last_rewrite_ok_ = true;
  bool rewrite_scheduled_ = false;
  bool bgsave_scheduled_ = false;
  uint64_t load_keys_ = 0, load_expired_ = 0;
  uint64_t rdb_saves_ = 0, aof_rewrites_ = 0;
  int64_t latest_fork_usec_ = 0;
  std::atomic<bool> aof_ok_{true};

  // The live writer. Writers are never freed before Stop(): the cron thread may still
  // hold one that CONFIG SET appendonly no just retired.
  std::atomic<AofWriter*> aof_{nullptr};
  std::vector<std::unique_ptr<AofWriter>> aof_owned_;
  std::atomic<bool> aof_on_{false};

  std::thread thread_;
  std::mutex cron_mu_;
  std::condition_variable cron_cv_;
  bool stop_ = false;
  bool stopped_ = false;
};

void RegisterPersistenceCommands(Host* h);

}  // namespace ferrite::host::persist
