// Snapshots and AOF rewrites: the foreground SAVE, the fork children of BGSAVE and
// BGREWRITEAOF, reaping them, and DEBUG RELOAD.
//
// NOTE: a fork child runs with a copy of the keyspace whose shard mutexes are locked (the
// parent held them at the fork): it reads without locking, never logs (spdlog may be
// mid-write in another parent thread), takes no host mutex, and leaves with _exit.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "host/host.h"
#include "host/logging.h"
#include "host/signals.h"
#include "host/persistence/persistence.h"
#include "host/persistence/rdb_functions.h"
#include "host/persistence/rdb_reader.h"
#include "host/persistence/rdb_writer.h"

namespace ferrite::host::persist {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SyncDirOf(const std::string& file) {
  auto slash = file.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : file.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// Writes an RDB to `temp`, fsyncs, renames to `final`. Returns 0 or an errno.
int WriteSnapshotFile(Host& h, const std::string& temp, const std::string& final_path,
                      bool compress, const RdbSaveOptions& opt) {
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  RdbOutput out(fd, compress);
  bool ok = WriteRdb(h, out, opt);
  int err = ok ? 0 : (out.error() ? out.error() : EIO);
  if (ok && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(temp.c_str(), final_path.c_str()) != 0) err = errno;
  if (err != 0) ::unlink(temp.c_str());
  else SyncDirOf(final_path);
  return err;
}

// The child's first steps: die with the parent, drop inherited sockets and files so
// that a restarted server can bind its port while we finish.
void ChildSetup() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGUSR1, SIG_DFL);
  Signals::ResetInChild();
#ifdef SYS_close_range
  ::syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
}

}  // namespace

std::string PersistenceService::SaveLocked() {
  std::string dir = h_.config().String("persistence.dir");
  std::string final_path = DataPath(h_.config().String("persistence.dbfilename"));
  std::string temp = DataPath("temp-" + std::to_string(getpid()) + ".rdb");
  RdbSaveOptions opt;
  opt.checksum = h_.config().Bool("persistence.rdbchecksum");
  opt.key_delay_us = h_.config().Int("persistence.rdb_key_save_delay");
  opt.now_ms = h_.clock().NowMs();
  if (std::string why; !DumpLibraries(h_, &opt.libraries, &why)) {
    Logger("host.persistence")->error("can't save the snapshot: {}", why);
    return why;
  }
  uint64_t dirty = h_.stats().dirty.load();
  int err = WriteSnapshotFile(h_, temp, final_path, h_.config().Bool("persistence.rdbcompression"),
                              opt);
  {
    std::lock_guard lk(mu_);
    last_bgsave_ok_ = err == 0;
    last_bgsave_try_s_ = opt.now_ms / 1000;
    if (err == 0) {
      rdb_saves_++;
      lastsave_s_ = opt.now_ms / 1000;
      dirty_at_save_ = dirty;
    }
    UpdateWritesRefused();  // with the status, under mu_
  }
  if (err != 0) {
    std::string why = "failed saving the snapshot " + temp + " (dir " + dir + "): " + strerror(err);
    Logger("host.persistence")->error("{}", why);
    return why;
  }
  Logger("host.persistence")->info("DB saved on disk ({})", final_path);
  return "";
}

std::string PersistenceService::BgsaveLocked() {
  std::lock_guard lk(mu_);
  if (rdb_child_ > 0) return "ERR Background save already in progress";
  if (aof_child_ > 0)
    return "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
           "SCHEDULE in order to schedule a BGSAVE whenever possible.";
  // Every config value is read before the fork: the child must not take the config lock.
  std::string final_path = DataPath(h_.config().String("persistence.dbfilename"));
  std::string dir_prefix = DataPath("temp-");
  bool compress = h_.config().Bool("persistence.rdbcompression");
  RdbSaveOptions opt;
  opt.checksum = h_.config().Bool("persistence.rdbchecksum");
  opt.key_delay_us = h_.config().Int("persistence.rdb_key_save_delay");
  opt.now_ms = h_.clock().NowMs();
  if (std::string why; !DumpLibraries(h_, &opt.libraries, &why))
    return "ERR Can't save in background: " + why;
  int64_t t0 = NowUs();
  pid_t pid = ::fork();
  if (pid == 0) {
    ChildSetup();
    std::string temp = dir_prefix + std::to_string(getpid()) + ".rdb";
    _exit(WriteSnapshotFile(h_, temp, final_path, compress, opt) == 0 ? 0 : 1);
  }
  latest_fork_usec_ = NowUs() - t0;
  last_bgsave_try_s_ = opt.now_ms / 1000;
  if (pid < 0) {
    last_bgsave_ok_ = false;
    return std::string("ERR Can't save in background: fork: ") + strerror(errno);
  }
  rdb_child_ = pid;
  rdb_temp_ = dir_prefix + std::to_string(pid) + ".rdb";
  rdb_child_start_ms_ = opt.now_ms;
  dirty_at_fork_ = h_.stats().dirty.load();
  Logger("host.persistence")
      ->info("Background saving started by pid {} (fork took {} us)", pid, latest_fork_usec_);
  return "";
}

std::string PersistenceService::BgrewriteLocked(bool* scheduled) {
  std::lock_guard lk(mu_);
  *scheduled = false;
  if (aof_child_ > 0) return "ERR Background append only file rewriting already in progress";
  if (rdb_child_ > 0) {
    rewrite_scheduled_ = true;
    *scheduled = true;
    return "";
  }
  rewrite_scheduled_ = false;
  std::string final_path = DataPath(h_.config().String("persistence.appendfilename"));
  std::string dir_prefix = DataPath("temp-rewriteaof-bg-");
  int64_t now = h_.clock().NowMs();
  std::vector<std::string> libraries;
  if (std::string why; !DumpLibraries(h_, &libraries, &why))
    return "ERR Can't rewrite append only file in background: " + why;
  AofWriter* a = aof_on_ ? aof_.load() : nullptr;
  if (a) a->BeginRewrite();  // every write after the fork point lands in its buffer
  int64_t t0 = NowUs();
  pid_t pid = ::fork();
  if (pid == 0) {
    ChildSetup();
    std::string temp = dir_prefix + std::to_string(getpid()) + ".aof";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && AofRewriteBase(h_, fd, now, libraries);
    if (fd >= 0) ::close(fd);
    // With the AOF off there is no increment to append: the child installs the file.
    if (ok && !a) ok = ::rename(temp.c_str(), final_path.c_str()) == 0;
    _exit(ok ? 0 : 1);
  }
  latest_fork_usec_ = NowUs() - t0;
  if (pid < 0) {
    if (a) a->AbortRewrite();
    return std::string("ERR Can't rewrite append only file in background: fork: ") +
           strerror(errno);
  }
  aof_child_ = pid;
  aof_temp_ = dir_prefix + std::to_string(pid) + ".aof";
  aof_child_start_ms_ = now;
  Logger("host.persistence")
      ->info("Background append only file rewriting started by pid {} (fork took {} us)", pid,
             latest_fork_usec_);
  return "";
}

void PersistenceService::ReapChildren() {
  pid_t rdb, aof;
  {
    std::lock_guard lk(mu_);
    rdb = rdb_child_;
    aof = aof_child_;
  }
  int status = 0;
  int64_t now = h_.clock().NowMs();
  if (rdb > 0 && ::waitpid(rdb, &status, WNOHANG) == rdb)
    OnRdbChildDone(WIFEXITED(status) && WEXITSTATUS(status) == 0, now);
  if (aof > 0 && ::waitpid(aof, &status, WNOHANG) == aof)
    OnAofChildDone(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void PersistenceService::OnRdbChildDone(bool ok, int64_t now) {
  // Logged before the status flips, so whoever sees the status also finds the log line.
  auto log = Logger("host.persistence");
  if (ok) log->info("Background saving terminated with success");
  else log->error("Background saving error (see the directory {})", h_.config().String("persistence.dir"));
  {
    std::lock_guard lk(mu_);
    last_bgsave_ok_ = ok;
    last_bgsave_secs_ = (now - rdb_child_start_ms_) / 1000;
    if (ok) {
      rdb_saves_++;
      lastsave_s_ = now / 1000;
      dirty_at_save_ = dirty_at_fork_;
    } else {
      ::unlink(rdb_temp_.c_str());
    }
    rdb_child_ = -1;
    UpdateWritesRefused();  // with the status, under mu_
  }
}

void PersistenceService::OnAofChildDone(bool ok) {
  auto log = Logger("host.persistence");
  std::string temp;
  int64_t start;
  {
    std::lock_guard lk(mu_);
    temp = aof_temp_;
    start = aof_child_start_ms_;
  }
  AofWriter* a = aof_on_ ? aof_.load() : nullptr;
  std::string err = ok ? "" : "the rewrite child failed";
  if (ok && a) err = a->FinishRewrite(temp);
  if (!err.empty()) {
    if (a) a->AbortRewrite();
    ::unlink(temp.c_str());
    log->error("Background AOF rewrite failed: {}", err);
  } else {
    log->info("Background AOF rewrite finished successfully");
  }
  std::lock_guard lk(mu_);
  aof_child_ = -1;
  last_rewrite_ok_ = err.empty();
  last_rewrite_secs_ = (h_.clock().NowMs() - start) / 1000;
  if (err.empty()) aof_rewrites_++;
  // An AOF switched on at run time has no file until a rewrite succeeds: try again.
  if (!err.empty() && a && a->size() == 0) rewrite_scheduled_ = true;
}

// Redis' DEBUG RELOAD, every shard locked throughout: save (unless NOSAVE), empty the
// dataset and the function libraries (unless NOFLUSH), load the snapshot file (with
// NOFLUSH, a library that exists fails the load unless MERGE replaces it). Errors as Redis words them: a failed
// save is a bare "ERR" (shared.err), a failed load "Error trying to load the RDB dump",
// after which what was loaded so far stays. Where Redis stops the process (NOFLUSH
// without MERGE meeting a key the dataset has), the load fails here instead.
std::string PersistenceService::DebugReload(const Host::ReloadOptions& opt) {
  LockSet locks;
  locks.AcquireAll(h_.keyspace());
  if (opt.save && !SaveLocked().empty()) return "ERR";
  std::string path = DataPath(h_.config().String("persistence.dbfilename"));
  std::string data;
  ReadWholeFile(path, &data);  // unreadable: empty, which the loader reports
  Keyspace& ks = h_.keyspace();
  if (opt.flush) {
    for (int s = 0; s < ks.num_shards(); s++)
      for (auto& t : ks.shard(s).dbs) t.Clear();
    if (std::string why = RestoreLibraries(h_, {}, LibraryPolicy::kFlush); !why.empty())
      Logger("host.persistence")->error("DEBUG RELOAD: flushing the functions: {}", why);
  }
  try {
    RdbLoadOptions o;
    o.now_ms = h_.clock().NowMs();
    o.refuse_duplicates = !opt.flush && !opt.merge;
    LoadRdb(h_, data, o);
  } catch (const std::exception& e) {
    Logger("host.persistence")->error("DEBUG RELOAD: {}", e.what());
    return "ERR Error trying to load the RDB dump";
  }
  Logger("host.persistence")->warn("DB reloaded by DEBUG RELOAD");
  return "";
}

// Redis' DEBUG LOADAOF: the AOF is flushed and fsynced (when it is on), the dataset
// emptied and the file replayed, every shard locked throughout (so no client sees a
// half-loaded dataset). With appendonly off the file is the one BGREWRITEAOF last wrote,
// as in Redis; where there is none, the dataset is left alone and the reply says so
// (Redis 7.0 exits there).
std::string PersistenceService::DebugLoadAof() {
  AofWriter* w = aof_on_.load() ? aof_.load() : nullptr;
  std::string path = DataPath(h_.config().String("persistence.appendfilename"));
  LockSet locks;
  locks.AcquireAll(h_.keyspace());
  if (w && !w->FlushAndSync())
    return "ERR Error flushing the append only file, check server logs.";
  if (!w && ::access(path.c_str(), R_OK) != 0) {
    Logger("host.persistence")->warn("DEBUG LOADAOF: no append only file at {}", path);
    return "ERR There is no append only file to load (BGREWRITEAOF writes one).";
  }
  Keyspace& ks = h_.keyspace();
  for (int s = 0; s < ks.num_shards(); s++)
    for (auto& t : ks.shard(s).dbs) t.Clear();
  if (std::string why = RestoreLibraries(h_, {}, LibraryPolicy::kFlush); !why.empty())
    Logger("host.persistence")->error("DEBUG LOADAOF: flushing the functions: {}", why);
  try {
    AofLoadStats st = ReplayAofLocked(h_, path, h_.clock().NowMs());
    Logger("host.persistence")->warn("Append Only File loaded by DEBUG LOADAOF: {} commands",
                                     st.commands);
  } catch (const std::exception& e) {
    Logger("host.persistence")->error("DEBUG LOADAOF: {}", e.what());
    return "ERR Error loading the append only file, check server logs.";
  }
  return "";
}

}  // namespace ferrite::host::persist
