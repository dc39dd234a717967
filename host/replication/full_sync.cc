// +FULLRESYNC: a sender thread takes every shard lock, notes the offset, starts queueing
// the replicas' stream from there and forks a child that writes the RDB:
//   diskless  one sender and one child per batch: the replicas that ask while it waits
//             repl-diskless-sync-delay (or until repl-diskless-sync-max-replicas ask)
//             all get the same pipe's bytes, "$EOF:<40 bytes>\r\n" + RDB + the mark;
//   disk      one per replica: a file, sent as "$<size>\r\n" + RDB once written.
// The bytes go to each replica's connection as posted chunks, paced by what its socket
// has not taken yet; then the queued stream follows and the replica is online.
//
// NOTE: the child, like persistence's, must not log or lock (see persistence_fork.cc).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "host/logging.h"
#include "host/persistence/rdb_functions.h"
#include "host/persistence/rdb_writer.h"
#include "host/replication/replication.h"

namespace ferrite::host::repl {

namespace {

// Output a replica's connection may hold (queued in posts plus unsent in the socket
// layer) before the sender waits: the RDB is never fully copied into memory.
constexpr int64_t kMaxInflight = 8 << 20;
constexpr size_t kChunk = 64 << 10;

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Closes every descriptor from 3 up except `keep` (the child inherits the parent's
// sockets: a restarted server could not bind its port while the child runs).
void CloseFdsExcept(int keep) {
#ifdef SYS_close_range
  if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(keep < 3 ? 3 : keep + 1), ~0u, 0u);
#else
  for (int fd = 3; fd < 65536; fd++)
    if (fd != keep) ::close(fd);
#endif
}

}  // namespace

void ReplicationService::RunSender(std::function<void()> body) {
  senders_active_.fetch_add(1);
  std::thread([this, body = std::move(body)] {
    SetCurrentHost(&h_);
    try {
      body();
    } catch (const std::exception& e) {
      Logger("host.replication")->error("full sync failed: {}", e.what());
    }
    std::lock_guard lk(senders_mu_);
    senders_active_.fetch_sub(1);
    senders_cv_.notify_all();
  }).detach();
}

void ReplicationService::StartFullSync(const std::shared_ptr<ReplicaPeer>& r, bool psync) {
  // As Redis' startBgsaveForReplication: the EOF-mark form for any replica with capa eof
  // (SYNC included) when repl-diskless-sync is on, and always for a filtered RDB (never
  // written over the snapshot file); its own delay only with repl-diskless-sync.
  const bool diskless_cfg = h_.config().Bool("replication.repl_diskless_sync");
  const bool diskless = r->capa_eof && (diskless_cfg || r->rdb_exclude != 0);
  std::shared_ptr<DisklessBatch> batch;
  bool start = false;
  {
    std::lock_guard lk(mu_);
    r->pre_psync = !psync;
    r->state = ReplicaPeer::State::kWaitBgsave;
    replicas_.push_back(r);  // listed (INFO, DropReplica) but not queueing yet
    if (diskless) {
      // Redis shares one RDB child among the replicas that ask during the delay and
      // want the same RDB.
      auto& pending = pending_batches_[r->rdb_exclude];
      if (!pending || pending->forked) {
        pending = std::make_shared<DisklessBatch>();
        pending->rdb_exclude = r->rdb_exclude;
        pending->delay = diskless_cfg;
        start = true;
      }
      pending->peers.push_back(r);
      batch = pending;
    }
  }
  if (diskless) {
    if (start) RunSender([this, batch] { RunDisklessBatch(batch); });
    return;  // else the batch's sender serves it too
  }
  RunSender([this, r, psync] {
    bool ok = false;
    try {
      ok = RunFullSync(r, psync);
    } catch (const std::exception& e) {
      Logger("host.replication")->error("full sync failed: {}", e.what());
    }
    FinishSync(r, ok);
  });
}

void ReplicationService::UnpendLocked(const std::shared_ptr<DisklessBatch>& b) {
  b->forked = true;
  auto it = pending_batches_.find(b->rdb_exclude);
  if (it != pending_batches_.end() && it->second == b) pending_batches_.erase(it);
}

bool ReplicationService::Abandoned(const ReplicaPeer& r) const {
  return stopping_.load() || r.closed.load();
}

// A disk-based full sync (repl-diskless-sync no, SYNC, or a replica without capa eof):
// its own child writes the RDB to a file, sent with its size once complete.
bool ReplicationService::RunFullSync(const std::shared_ptr<ReplicaPeer>& r, bool psync) {
  auto log = Logger("host.replication");
  auto& cfg = h_.config();
  persist::RdbSaveOptions opt;
  opt.checksum = cfg.Bool("persistence.rdbchecksum");
  opt.key_delay_us = cfg.Int("persistence.rdb_key_save_delay");
  opt.now_ms = h_.clock().NowMs();
  opt.field_ttls = r->capa_field_ttls;
  bool compress = cfg.Bool("persistence.rdbcompression");
  std::string prefix = cfg.String("persistence.dir") + "/temp-repl-";
  std::string id;
  int64_t off = 0;
  pid_t pid;
  {
    // The fork point: every shard held, so no write is half-way and the RDB plus the
    // stream queued from `off` on is exactly the dataset.
    LockSet locks;
    locks.AcquireAll(h_.keyspace());
    EnsureSinkAllLocked();
    h_.ForceSelectOnNextPropagate();  // the replica starts in db 0
    {
      std::lock_guard lk(mu_);
      if (r->closed) return false;
      EnsureBacklogLocked();
      id = replid_;
      off = offset_;
      r->queueing = !r->rdb_only;
    }
    opt.keys = !(r->rdb_exclude & ReplicaPeer::kExcludeKeys);
    if (std::string why; !(r->rdb_exclude & ReplicaPeer::kExcludeFunctions) &&
                         !persist::DumpLibraries(h_, &opt.libraries, &why)) {
      log->error("Can't start a full sync: {}", why);
      return false;
    }
    pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      CloseFdsExcept(-1);
      std::string temp = prefix + std::to_string(getpid()) + ".rdb";
      int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) _exit(1);
      persist::RdbOutput out(fd, compress);
      bool ok = persist::WriteRdb(h_, out, opt);
      _exit(ok ? 0 : 1);
    }
  }
  if (pid < 0) {
    log->error("Can't start a full sync: fork: {}", strerror(errno));
    return false;
  }
  log->info("Starting BGSAVE for SYNC with target: disk (pid {})", pid);
  std::string temp = prefix + std::to_string(pid) + ".rdb";
  auto reap = [&] {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::unlink(temp.c_str());
  };
  if (psync && !PostChunk(r, "+FULLRESYNC " + id + " " + std::to_string(off) + "\r\n")) {
    reap();
    return false;
  }
  if (!StreamFile(r, pid, temp)) {
    reap();
    return false;
  }
  log->info("Synchronization with replica {}:{} succeeded", r->ip, r->port);
  return true;
}

// Diskless: after the delay (or once repl-diskless-sync-max-replicas wait), one child
// writes the RDB to a pipe and every replica of the batch gets the same bytes between two
// EOF marks, at the pace of the slowest; one that goes away is dropped from the batch.
void ReplicationService::RunDisklessBatch(const std::shared_ptr<DisklessBatch>& b) {
  auto log = Logger("host.replication");
  auto& cfg = h_.config();
  int64_t delay_ms = cfg.Int("replication.repl_diskless_sync_delay") * 1000;
  int64_t max_replicas = cfg.Int("replication.repl_diskless_sync_max_replicas");
  for (int64_t waited = 0; b->delay && waited < delay_ms; waited += 50) {
    size_t n = 0, live = 0;
    {
      std::lock_guard lk(mu_);
      n = b->peers.size();
      for (auto& p : b->peers) live += !Abandoned(*p);
    }
    if (live == 0 || (max_replicas > 0 && static_cast<int64_t>(n) >= max_replicas)) break;
    SleepMs(50);
  }
  persist::RdbSaveOptions opt;
  opt.checksum = cfg.Bool("persistence.rdbchecksum");
  opt.key_delay_us = cfg.Int("persistence.rdb_key_save_delay");
  opt.now_ms = h_.clock().NowMs();
  bool compress = cfg.Bool("persistence.rdbcompression");
  std::vector<std::shared_ptr<ReplicaPeer>> peers;
  auto fail_all = [&] {
    std::vector<std::shared_ptr<ReplicaPeer>> all;
    {
      std::lock_guard lk(mu_);
      UnpendLocked(b);
      all = b->peers;
    }
    for (auto& p : all) FinishSync(p, false);
  };
  int pfd[2] = {-1, -1};
  if (::pipe2(pfd, O_CLOEXEC) != 0) {
    log->error("Can't start a diskless full sync: pipe: {}", strerror(errno));
    return fail_all();
  }
  std::string id;
  int64_t off = 0;
  pid_t pid = -1;
  {
    // The fork point, as RunFullSync's; from here on a replica asking starts a new batch.
    LockSet locks;
    locks.AcquireAll(h_.keyspace());
    EnsureSinkAllLocked();
    h_.ForceSelectOnNextPropagate();  // the replicas start in db 0
    {
      std::lock_guard lk(mu_);
      UnpendLocked(b);
      for (auto& p : b->peers)
        if (!p->closed) peers.push_back(p);
      if (!peers.empty()) {
        EnsureBacklogLocked();
        id = replid_;
        off = offset_;
        for (auto& p : peers) p->queueing = !p->rdb_only;
      }
      // One payload for the batch: field TTLs only when every replica in it reads them.
      for (auto& p : peers) opt.field_ttls = opt.field_ttls && p->capa_field_ttls;
    }
    opt.keys = !(b->rdb_exclude & ReplicaPeer::kExcludeKeys);
    std::string why;
    if (!peers.empty() && !(b->rdb_exclude & ReplicaPeer::kExcludeFunctions) &&
        !persist::DumpLibraries(h_, &opt.libraries, &why)) {
      log->error("Can't start a diskless full sync: {}", why);
      peers.clear();
    }
    if (!peers.empty()) {
      pid = ::fork();
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        CloseFdsExcept(pfd[1]);
        persist::RdbOutput out(pfd[1], compress);
        bool ok = persist::WriteRdb(h_, out, opt);
        _exit(ok ? 0 : 1);
      }
    }
  }
  ::close(pfd[1]);
  if (peers.empty() || pid < 0) {
    if (pid < 0 && !peers.empty()) log->error("Can't start a full sync: fork: {}", strerror(errno));
    ::close(pfd[0]);
    return fail_all();
  }
  log->info("Starting BGSAVE for SYNC with target: replicas sockets (pid {}, {} replica{})", pid,
            peers.size(), peers.size() == 1 ? "" : "s");
  std::vector<char> alive(peers.size(), 1);
  // Sends to every replica still there; false once none is.
  auto post_all = [&](const std::string& bytes) {
    bool any = false;
    for (size_t i = 0; i < peers.size(); i++) {
      if (!alive[i]) continue;
      if (PostChunk(peers[i], bytes)) any = true;
      else alive[i] = 0;
    }
    return any;
  };
  std::string mark = NewReplid();  // 40 random hex bytes, as Redis' marker
  // SYNC (an old replica, redis-cli) gets the payload with no +FULLRESYNC line before it.
  for (size_t i = 0; i < peers.size(); i++)
    if (!peers[i]->pre_psync &&
        !PostChunk(peers[i], "+FULLRESYNC " + id + " " + std::to_string(off) + "\r\n"))
      alive[i] = 0;
  {
    std::lock_guard lk(mu_);
    for (auto& p : peers) {
      p->await_ack = !p->rdb_only;
      p->state = ReplicaPeer::State::kSendBulk;
    }
  }
  bool ok = post_all("$EOF:" + mark + "\r\n");
  std::string buf(kChunk, '\0');
  while (ok) {
    pollfd p{pfd[0], POLLIN, 0};
    int pr = ::poll(&p, 1, 100);
    if (pr == 0) {  // the child is still writing: stop if every replica went away
      bool any = false;
      for (size_t i = 0; i < peers.size(); i++) {
        auto c = peers[i]->client.lock();
        if (alive[i] && (Abandoned(*peers[i]) || !c || c->closed)) alive[i] = 0;
        any = any || alive[i];
      }
      ok = any;
      continue;
    }
    if (pr < 0 && errno == EINTR) continue;
    ssize_t n = ::read(pfd[0], buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    ok = post_all(buf.substr(0, static_cast<size_t>(n)));
  }
  ::close(pfd[0]);
  if (!ok) ::kill(pid, SIGKILL);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (ok) log->warn("Diskless full sync child {} failed", pid);
    ok = false;
  }
  if (ok) ok = post_all(mark);
  for (size_t i = 0; i < peers.size(); i++) {
    bool done = ok && alive[i];
    if (done)
      log->info("Synchronization with replica {}:{} succeeded", peers[i]->ip, peers[i]->port);
    FinishSync(peers[i], done);
  }
}

// Disk: newlines while the child writes (they keep the replica's link alive), then the
// file with its size up front.
bool ReplicationService::StreamFile(const std::shared_ptr<ReplicaPeer>& r, pid_t pid,
                                    const std::string& path) {
  int64_t last_nl = h_.clock().NowMs();
  for (;;) {
    if (Abandoned(*r)) return false;
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        Logger("host.replication")->warn("Full sync child {} failed writing {}", pid, path);
        ::unlink(path.c_str());
        return false;
      }
      break;
    }
    if (h_.clock().NowMs() - last_nl >= 1000) {
      if (!PostChunk(r, "\n")) return false;
      last_nl = h_.clock().NowMs();
    }
    SleepMs(20);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ::unlink(path.c_str());  // the open descriptor keeps it readable
  if (fd < 0) return false;
  struct stat st {};
  ::fstat(fd, &st);
  {
    std::lock_guard lk(mu_);
    r->state = ReplicaPeer::State::kSendBulk;
  }
  bool ok = PostChunk(r, "$" + std::to_string(st.st_size) + "\r\n");
  std::string buf(kChunk, '\0');
  for (off_t sent = 0; ok && sent < st.st_size;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    sent += n;
    ok = PostChunk(r, buf.substr(0, static_cast<size_t>(n)));
  }
  ::close(fd);
  return ok;
}

bool ReplicationService::PostChunk(const std::shared_ptr<ReplicaPeer>& r, std::string chunk) {
  auto c = r->client.lock();
  if (!c) return false;
  while (static_cast<int64_t>(c->unsent.load(std::memory_order_relaxed)) + r->inflight.load() >
         kMaxInflight) {
    if (Abandoned(*r) || c->closed) return false;
    SleepMs(1);
  }
  if (Abandoned(*r) || c->closed) return false;
  int64_t n = static_cast<int64_t>(chunk.size());
  r->inflight.fetch_add(n);
  std::weak_ptr<Client> w = c;
  c->post([r, w, n, chunk = std::move(chunk)] {
    r->inflight.fetch_sub(n);
    auto cl = w.lock();
    if (!cl || cl->closed) return;
    cl->out += chunk;
    if (cl->on_output) cl->on_output();
  });
  return true;
}

void ReplicationService::FinishSync(const std::shared_ptr<ReplicaPeer>& r, bool ok) {
  std::shared_ptr<Client> victim;
  int close_mode = FERRITE_CONN_CLOSE_NOW;
  {
    std::lock_guard lk(mu_);
    if (ok && !r->closed && r->rdb_only) {
      // Redis' replicaPutOnline for an rdb-only replica: never online, closed once the
      // payload (posted before this) is written out.
      Logger("host.replication")
          ->info("RDB transfer completed, rdb only replica ({}:{}) should be disconnected asap",
                 r->ip, r->port);
      close_mode = FERRITE_CONN_CLOSE_AFTER_REPLY;
    } else if (ok && !r->closed) {
      r->state = ReplicaPeer::State::kOnline;
      r->ack_time_ms = h_.clock().NowMs();
      if (!r->await_ack) PostFlushLocked(r);
      return;
    }
    r->closed = true;
    r->outq.clear();
    std::erase(replicas_, r);
    if (replicas_.empty()) no_replicas_since_ms_ = h_.clock().NowMs();
    victim = r->client.lock();
  }
  if (victim && !victim->closed) {
    std::weak_ptr<Client> w = victim;
    victim->post([w, close_mode] {
      if (auto s = w.lock()) {
        s->close_mode = close_mode;
        if (s->on_output) s->on_output();
      }
    });
  }
}

}  // namespace ferrite::host::repl
