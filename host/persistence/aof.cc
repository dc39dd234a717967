#include "host/persistence/aof.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "host/context.h"
#include "host/io.h"
#include "host/logging.h"
#include "host/persistence/rdb_reader.h"

namespace ferrite::host::persist {

namespace {

bool IsSelect(int argc, const ferrite_slice* argv) {
  return argc == 2 && argv[0].len == 6 && strncasecmp(argv[0].ptr, "SELECT", 6) == 0;
}

void AppendSelect(std::string& out, int db) {
  std::string d = std::to_string(db);
  ferrite_slice a[2] = {{"SELECT", 6}, {d.data(), d.size()}};
  AppendResp(out, 2, a);
}

bool WriteAll(int fd, const char* p, size_t n, size_t* done) {
  *done = 0;
  while (*done < n) {
    ssize_t w = ::write(fd, p + *done, n - *done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    *done += static_cast<size_t>(w);
  }
  return true;
}

void SyncDir(const std::string& file) {
  auto slash = file.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : file.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

void AppendResp(std::string& out, int argc, const ferrite_slice* argv) {
  char hdr[32];
  out.append(hdr, static_cast<size_t>(snprintf(hdr, sizeof hdr, "*%d\r\n", argc)));
  for (int i = 0; i < argc; i++) {
    out.append(hdr, static_cast<size_t>(snprintf(hdr, sizeof hdr, "$%zu\r\n", argv[i].len)));
    out.append(argv[i].ptr, argv[i].len);
    out.append("\r\n", 2);
  }
}

AofWriter::AofWriter(std::string path, const std::atomic<int64_t>* policy)
    : path_(std::move(path)), policy_(policy) {}

AofWriter::~AofWriter() {
  if (fd_ >= 0) ::close(fd_);
}

std::string AofWriter::Open() {
  std::lock_guard lk(mu_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return "can't open the append-only file " + path_ + ": " + strerror(errno);
  struct stat stt {};
  fstat(fd, &stt);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  size_ = static_cast<uint64_t>(stt.st_size);
  synced_ = size_.load();  // what the file held before we opened it is not ours to sync
  if (base_size_ == 0) base_size_ = size_.load();
  aof_db_ = -1;
  return "";
}

void AofWriter::SetStatus(bool ok, const std::string& why) {
  if (ok == write_ok_.load()) return;
  write_ok_ = ok;
  last_error_ = why;
  if (on_status) on_status(ok, why);
}

std::string AofWriter::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

size_t AofWriter::pending_bytes() const {
  std::lock_guard lk(mu_);
  return pending_.size();
}

bool AofWriter::WriteLocked(const char* p, size_t n) {
  Host* h = CurrentHost();
  LatencyScope lat(h ? &h->introspection().latency : nullptr, "aof-write");
  size_t done = 0;
  if (WriteAll(fd_, p, n, &done)) {
    size_ += n;
    dirty_since_fsync_ = true;
    return true;
  }
  int err = errno;
  // A partial command would make the file unreadable: cut it off, keep it pending.
  if (done > 0 && ftruncate(fd_, static_cast<off_t>(size_.load())) != 0) size_ += done;
  SetStatus(false, std::string("Error writing to the AOF file: ") + strerror(err));
  return false;
}

void AofWriter::Feed(int db, int argc, const ferrite_slice* argv) {
  if (IsSelect(argc, argv)) return;  // SELECT is emitted here, per destination
  std::lock_guard lk(mu_);
  if (rewriting_) {
    if (db != rewrite_db_) AppendSelect(rewrite_buf_, db);
    rewrite_db_ = db;
    AppendResp(rewrite_buf_, argc, argv);
  }
  if (fd_ < 0) return;  // AOF being created: the rewrite buffer carries everything
  scratch_.clear();
  if (db != aof_db_) AppendSelect(scratch_, db);
  aof_db_ = db;
  AppendResp(scratch_, argc, argv);
  if (!pending_.empty()) {
    pending_ += scratch_;
    if (!WriteLocked(pending_.data(), pending_.size())) return;
    pending_.clear();
    SetStatus(true, "");
  } else if (!WriteLocked(scratch_.data(), scratch_.size())) {
    pending_ = scratch_;
  }
  // appendfsync always: the fsync happens in SyncBarrier(), which the network layer
  // calls after a batch of commands and before their replies are written, outside every
  // lock, so concurrent writers share one fdatasync (group commit).
}

void AofWriter::ExitOnSyncFailure(const std::string& why) {
  // As Redis: the reply would claim a durability we cannot give. Stop instead.
  Logger("host.persistence")
      ->critical("can't recover from an AOF write error with appendfsync always: {}; exiting", why);
  Logger("host.persistence")->flush();
  _exit(1);
}

void AofWriter::SyncBarrier() {
  auto policy = static_cast<FsyncPolicy>(policy_->load(std::memory_order_relaxed));
  if (policy != FsyncPolicy::kAlways) return;
  uint64_t target = size_.load(std::memory_order_acquire);
  if (synced_.load(std::memory_order_acquire) >= target) return;
  std::lock_guard sync_lk(sync_mu_);
  if (synced_.load() >= target) return;  // another writer's fsync covered ours
  int fd;
  uint64_t upto;
  {
    std::lock_guard lk(mu_);
    if (!pending_.empty()) ExitOnSyncFailure(last_error_);
    fd = fd_;
    upto = size_.load();
  }
  if (fd < 0) return;
  Host* h = CurrentHost();
  LatencyScope lat(h ? &h->introspection().latency : nullptr, "aof-fsync-always");
  if (::fdatasync(fd) != 0) ExitOnSyncFailure(strerror(errno));
  synced_ = upto;
}

void AofWriter::FsyncIfDue(int64_t now_ms) {
  auto policy = static_cast<FsyncPolicy>(policy_->load(std::memory_order_relaxed));
  if (pending_bytes() != 0) FlushAndSync();  // retry after a failed write
  if (policy == FsyncPolicy::kAlways) {
    SyncBarrier();  // backstop for writes that reached no network barrier
    return;
  }
  if (policy != FsyncPolicy::kEverySec || now_ms - last_fsync_ms_ < 1000) return;
  last_fsync_ms_ = now_ms;
  if (!dirty_since_fsync_.exchange(false)) return;
  int fd;
  {
    std::lock_guard lk(mu_);
    fd = fd_;
  }
  // Only this thread closes fd_ (FinishRewrite), so it stays valid outside the lock.
  if (fd >= 0 && ::fdatasync(fd) != 0) dirty_since_fsync_ = true;
}

bool AofWriter::FlushAndSync() {
  std::lock_guard lk(mu_);
  if (fd_ < 0) return true;
  if (!pending_.empty()) {
    if (!WriteLocked(pending_.data(), pending_.size())) return false;
    pending_.clear();
    SetStatus(true, "");
  }
  return ::fsync(fd_) == 0;
}

void AofWriter::BeginRewrite() {
  std::lock_guard lk(mu_);
  rewriting_ = true;
  rewrite_buf_.clear();
  rewrite_db_ = -1;
}

void AofWriter::AbortRewrite() {
  std::lock_guard lk(mu_);
  rewriting_ = false;
  rewrite_buf_.clear();
  rewrite_buf_.shrink_to_fit();
}

std::string AofWriter::FinishRewrite(const std::string& temp_path) {
  std::lock_guard sync_lk(sync_mu_);  // no barrier fsync runs on the fd being replaced
  std::lock_guard lk(mu_);
  int tfd = ::open(temp_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (tfd < 0) return "can't open the rewritten AOF: " + std::string(strerror(errno));
  size_t done;
  bool ok = WriteAll(tfd, rewrite_buf_.data(), rewrite_buf_.size(), &done) && ::fsync(tfd) == 0;
  int err = errno;
  if (!ok) {
    ::close(tfd);
    return "can't append the rewrite buffer: " + std::string(strerror(err));
  }
  if (::rename(temp_path.c_str(), path_.c_str()) != 0) {
    err = errno;
    ::close(tfd);
    return "can't rename the rewritten AOF: " + std::string(strerror(err));
  }
  SyncDir(path_);
  struct stat stt {};
  fstat(tfd, &stt);
  ::close(tfd);
  int nfd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (nfd < 0) return "can't reopen the AOF: " + std::string(strerror(errno));
  if (fd_ >= 0) ::close(fd_);
  fd_ = nfd;
  size_ = static_cast<uint64_t>(stt.st_size);
  synced_ = size_.load();  // the new file was fsynced above
  base_size_ = size_ - rewrite_buf_.size();
  aof_db_ = rewrite_buf_.empty() ? -1 : rewrite_db_;
  rewriting_ = false;
  rewrite_buf_.clear();
  rewrite_buf_.shrink_to_fit();
  // Whatever failed to reach the old file is in the new one (the buffer had it too).
  pending_.clear();
  SetStatus(true, "");
  return "";
}

// ------------------------------- rewrite (fork child) ----------------------------------

namespace {

struct RespEmitter : ferrite_aof {
  int fd;
  bool failed = false;
  std::string buf;
  void Emit(int argc, const ferrite_slice* argv) override {
    AppendResp(buf, argc, argv);
    if (buf.size() >= (1 << 20)) Flush();
  }
  void Emit(std::initializer_list<std::string_view> args) {
    std::vector<ferrite_slice> v;
    for (auto a : args) v.push_back({a.data(), a.size()});
    Emit(static_cast<int>(v.size()), v.data());
  }
  void Flush() {
    size_t done;
    if (!failed && !WriteAll(fd, buf.data(), buf.size(), &done)) failed = true;
    buf.clear();
  }
};

}  // namespace

bool AofRewriteBase(Host& h, int fd, int64_t now_ms, const std::vector<std::string>& libraries) {
  RespEmitter out;
  out.fd = fd;
  for (auto& code : libraries) out.Emit({"FUNCTION", "LOAD", code});
  Keyspace& ks = h.keyspace();
  for (int db = 0; db < ks.num_dbs(); db++) {
    bool selected = false;
    for (int s = 0; s < ks.num_shards() && !out.failed; s++)
      ks.shard(s).dbs[db].ForEach([&, &t = ks.shard(s).dbs[db]](Entry* e) {
        int64_t expire_ms = t.ExpireOf(e);
        if (expire_ms >= 0 && expire_ms <= now_ms) return;
        if (!selected) out.Emit({"SELECT", std::to_string(db)});
        selected = true;
        ferrite_slice key{e->key().data(), e->key().size()};
        if (e->kind == ValueKind::kString) {
          out.Emit({"SET", e->key(), e->string_value()});
        } else if (e->mod_type()->desc.aof_rewrite) {
          e->mod_type()->desc.aof_rewrite(&out, key, e->mod.ptr);
        }
        if (expire_ms >= 0) out.Emit({"PEXPIREAT", e->key(), std::to_string(expire_ms)});
        if (e->flags()) out.Emit({"FERRITE.SETFLAGS", e->key(), std::to_string(e->flags())});
      });
  }
  out.Flush();
  return !out.failed && ::fsync(fd) == 0;
}

// ------------------------------- parsing (pure) ----------------------------------------

namespace {

// Reads "<prefix><int>\r\n" at *i.
AofParse ReadLine(std::string_view d, size_t* i, char prefix, int64_t* out) {
  if (*i >= d.size()) return AofParse::kTruncated;
  if (d[*i] != prefix) return AofParse::kCorrupt;
  size_t j = *i + 1;
  int64_t v = 0;
  bool any = false;
  while (j < d.size() && d[j] >= '0' && d[j] <= '9' && v < (int64_t{1} << 40)) {
    v = v * 10 + (d[j] - '0');
    any = true;
    j++;
  }
  if (j + 1 >= d.size()) return AofParse::kTruncated;
  if (!any || d[j] != '\r' || d[j + 1] != '\n') return AofParse::kCorrupt;
  *out = v;
  *i = j + 2;
  return AofParse::kOk;
}

bool IsCommand(const ferrite_slice& a, std::string_view name) {
  return a.len == name.size() && strncasecmp(a.ptr, name.data(), name.size()) == 0;
}

}  // namespace

AofParse ParseAofCommand(std::string_view d, size_t* i, std::vector<ferrite_slice>* argv) {
  argv->clear();
  int64_t n;
  AofParse r = ReadLine(d, i, '*', &n);
  if (r != AofParse::kOk) return r;
  if (n < 1 || n > 1024 * 1024) return AofParse::kCorrupt;
  for (int64_t k = 0; k < n; k++) {
    int64_t len;
    if ((r = ReadLine(d, i, '$', &len)) != AofParse::kOk) return r;
    if (static_cast<uint64_t>(len) + 2 > d.size() - *i) return AofParse::kTruncated;
    if (d[*i + len] != '\r' || d[*i + len + 1] != '\n') return AofParse::kCorrupt;
    argv->push_back({d.data() + *i, static_cast<size_t>(len)});
    *i += len + 2;
  }
  return AofParse::kOk;
}

AofScan ScanAofCommands(std::string_view d, size_t start,
                        const std::function<void(int, const ferrite_slice*)>& exec) {
  AofScan s;
  s.good = start;  // end of the last complete command outside MULTI
  size_t i = start;
  std::vector<ferrite_slice> argv;
  while (i < d.size()) {
    s.result = ParseAofCommand(d, &i, &argv);
    if (s.result != AofParse::kOk) break;
    bool multi = IsCommand(argv[0], "MULTI"), exec_cmd = IsCommand(argv[0], "EXEC");
    exec(static_cast<int>(argv.size()), argv.data());
    s.commands++;
    if (multi) s.in_multi = true;
    if (exec_cmd) s.in_multi = false;
    if (!s.in_multi) s.good = i;
  }
  // A transaction without its EXEC is a truncated tail.
  if (s.in_multi && s.result == AofParse::kOk) s.result = AofParse::kTruncated;
  return s;
}

// ------------------------------- loading -----------------------------------------------

namespace {

struct LoadSinkState {
  uint64_t errors = 0;
  std::string first;
};

void SinkError(void* st, ferrite_error_code code, const char* detail, size_t len) {
  auto* s = static_cast<LoadSinkState*>(st);
  if (s->errors++ == 0)
    s->first = "code " + std::to_string(code) + (len ? ": " + std::string(detail, len) : "");
}
void SinkNop(void*) {}
void SinkStr(void*, const char*, size_t) {}
void SinkInt(void*, int64_t) {}
void SinkDbl(void*, double) {}
void SinkN(void*, size_t) {}
void SinkBool(void*, int) {}
void SinkVerb(void*, const char*, const char*, size_t) {}

const ferrite_reply_sink kLoadSink = {sizeof(ferrite_reply_sink), SinkStr, SinkError, SinkInt,
                                      SinkDbl, SinkStr, SinkNop, SinkNop, SinkN, SinkN, SinkN,
                                      SinkN, SinkBool, SinkVerb, SinkStr, SinkN, nullptr};

std::string ReadFile(const std::string& path) {
  std::string data;
  if (!ReadWholeFile(path, &data)) throw std::runtime_error("can't open the append-only file " + path);
  return data;
}

}  // namespace

bool ReadWholeFile(const std::string& path, std::string* out) {
  out->clear();
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return false;
  std::streamoff size = f.tellg();
  if (size < 0) return false;
  out->resize(static_cast<size_t>(size));
  f.seekg(0);
  if (size > 0 && !f.read(out->data(), size)) {
    out->clear();
    return false;
  }
  return true;
}

AofLoadStats ReplayAofLocked(Host& h, const std::string& path, int64_t now_ms) {
  std::string data = ReadFile(path);
  std::string_view d(data);
  AofLoadStats st;
  size_t i = 0;
  if (d.substr(0, 5) == "REDIS") {
    RdbLoadOptions ro;
    ro.now_ms = now_ms;
    auto rs = LoadRdb(h, d, ro);
    st.rdb_keys = rs.keys;
    i = rs.consumed;
  }
  auto client = h.NewClient();
  client->authenticated = true;
  LoadSinkState sink_state;
  // The replayed commands hand their effects to this parent, which never propagates.
  ferrite_ctx sinkhole{&h, client.get(), nullptr, &kLoadSink, &sink_state, 0, nullptr};
  AofScan scan = ScanAofCommands(d, i, [&](int argc, const ferrite_slice* argv) {
    const Command* cmd = h.registry().Find({argv[0].ptr, argv[0].len});
    bool arity_ok = cmd && (cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity);
    if (!arity_ok) {
      sink_state.errors++;
      return;
    }
    if (cmd->name == "multi" || cmd->name == "exec") return;  // bodies run as they come
    RunHandler(&h, client.get(), cmd, argc, argv, &kLoadSink, &sink_state, true, &sinkhole);
    sinkhole.propagated.clear();
  });
  h.RemoveClient(client.get());
  st.commands = scan.commands;
  st.errors = sink_state.errors;
  st.first_error = sink_state.first;
  return st;
}

AofLoadStats LoadAof(Host& h, const std::string& path, const AofLoadOptions& opt) {
  auto log = Logger("host.persistence");
  std::string data = ReadFile(path);
  std::string_view d(data);
  AofLoadStats st;
  size_t i = 0;
  if (d.substr(0, 5) == "REDIS") {
    RdbLoadOptions ro;
    ro.now_ms = opt.now_ms;
    ro.lock_per_key = opt.lock_per_key;
    ro.adopt_cas_epoch = true;
    ro.key_load_delay_us = opt.key_load_delay_us;
    ro.progress = opt.progress;
    auto rs = LoadRdb(h, d, ro);
    st.rdb_keys = rs.keys;
    i = rs.consumed;
  }
  auto client = h.NewClient();
  client->authenticated = true;
  client->aof_replay = true;
  LoadSinkState sink_state;
  uint64_t done = st.rdb_keys;
  AofScan scan = ScanAofCommands(d, i, [&](int argc, const ferrite_slice* argv) {
    if (opt.key_load_delay_us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(opt.key_load_delay_us));
    h.Execute(client.get(), argc, argv, &kLoadSink, &sink_state);
    if (opt.progress && ++done % RdbLoadOptions::kProgressEvery == 0)
      opt.progress(static_cast<uint64_t>(argv[0].ptr - d.data()), done);
  });
  if (scan.in_multi) {
    ferrite_slice discard{"DISCARD", 7};
    h.Execute(client.get(), 1, &discard, &kLoadSink, &sink_state);
  }
  h.RemoveClient(client.get());
  st.commands = scan.commands;
  st.errors = sink_state.errors;
  st.first_error = sink_state.first;
  AofParse r = scan.result;
  size_t good = scan.good;
  if (r == AofParse::kOk) return st;
  std::string where = "at byte offset " + std::to_string(good) + " of " + path + " (size " +
                      std::to_string(d.size()) + ")";
  if (r == AofParse::kTruncated && !opt.load_truncated)
    throw std::runtime_error("the append-only file is truncated " + where +
                             "; set aof-load-truncated yes to load it and cut the tail");
  if (r == AofParse::kCorrupt && !opt.load_corrupt)
    throw std::runtime_error("bad file format reading the append-only file " + where +
                             "; set aof-load-corrupt yes to load what precedes it");
  if (r == AofParse::kCorrupt) {
    std::string backup = path + ".corrupt-" + std::to_string(opt.now_ms / 1000);
    std::ofstream(backup, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    log->warn("AOF corrupt {}: loaded what precedes it; the whole file was copied to {}", where,
              backup);
  } else {
    log->warn("!!! short read while loading the AOF: the last command is truncated {}; "
              "cutting the tail (aof-load-truncated yes)", where);
  }
  if (::truncate(path.c_str(), static_cast<off_t>(good)) != 0)
    throw std::runtime_error("can't truncate the append-only file " + path + ": " + strerror(errno));
  st.truncated_at = good;
  return st;
}

}  // namespace ferrite::host::persist
