#include "host/replication/replica_link.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/logging.h"
#include "host/persistence/persistence.h"
#include "host/persistence/rdb_reader.h"
#include "host/replication/repl_stream.h"
#include "host/replication/replication.h"
#include "host/replication/sync_payload.h"
#include "host/tls/tls_stream.h"

namespace ferrite::host::repl {

namespace {

bool HeldByPause(Host& h, std::string_view name) {
  PauseType pause = h.client_pause().Type();
  if (pause == PauseType::kOff) return false;
  pause = h.client_pause().Current(h.clock().NowMs());
  if (pause != PauseType::kWrite) return pause == PauseType::kAll;
  const Command* cmd = h.registry().Find(name);
  return cmd && (cmd->flags & (FERRITE_CMD_WRITE | FERRITE_CMD_MAY_REPLICATE));
}

}  // namespace

namespace {

// The primary's client gets no replies (Redis never answers its master).
void NoSimple(void*, const char*, size_t) {}
void NoError(void*, ferrite_error_code, const char*, size_t) {}
void NoInt(void*, int64_t) {}
void NoDbl(void*, double) {}
void NoNull(void*) {}
void NoLen(void*, size_t) {}
void NoBool(void*, int) {}
void NoVerbatim(void*, const char*, const char*, size_t) {}
const ferrite_reply_sink kDiscard = {sizeof(ferrite_reply_sink), NoSimple, NoError, NoInt, NoDbl,
                                     NoSimple, NoNull, NoNull, NoLen, NoLen, NoLen, NoLen, NoBool,
                                     NoVerbatim, NoSimple, NoLen, nullptr};

constexpr size_t kMaxLine = 64 << 10;

bool IEquals(std::string_view a, std::string_view b) { return sdk::EqualsIgnoreCase(a, b); }

}  // namespace

ReplicaLink::ReplicaLink(ReplicationService& svc, std::string host, int port, bool own_history)
    : svc_(svc), host_(std::move(host)), port_(port), history_(own_history) {
  down_since_ms_ = 0;
  thread_ = std::thread([this] { Run(); });
}

ReplicaLink::~ReplicaLink() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

int64_t NowMsOf(ReplicationService& s) { return s.host().clock().NowMs(); }

void ReplicaLink::Run() {
  Host& h = svc_.host();
  SetCurrentHost(&h);
  auto log = Logger("host.replication");
  log->info("Connecting to MASTER {}:{}", host_, port_);
  while (!stop_) {
    state_ = State::kConnecting;
    std::string reply;
    if (Connect() && Handshake(&reply)) {
      bool ok = true;
      if (reply.rfind("+FULLRESYNC", 0) == 0) {
        ok = FullSync(reply);
      } else {
        // +CONTINUE [<new replid>]: the primary continues our history, perhaps under a
        // new id (it was promoted): adopt it and tell our own replicas.
        log->info("Successful partial resynchronization with master.");
        std::string id = reply.size() > 10 ? reply.substr(10) : "";
        while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.pop_back();
        if (id.size() == 40 && id != svc_.replid()) svc_.SwitchReplid(id);
        {
          LockSet locks;
          locks.AcquireAll(svc_.host().keyspace());
          svc_.EnsureSinkAllLocked();
        }
        log->info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
      }
      if (ok && !stop_) Stream();
    }
    DropConnection(nullptr);
    for (int i = 0; i < 10 && !stop_; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  DropConnection(nullptr);
}

void ReplicaLink::DropConnection(const char* why) {
  if (why) Logger("host.replication")->warn("{}", why);
  if (fd_ >= 0) {
    if (tls_) tls_->Shutdown();
    tls_.reset();
    ::close(fd_);
    fd_ = -1;
    Logger("host.replication")->info("Connection with master lost.");
  }
  in_.clear();
  kill_requested_ = false;  // a CLIENT KILL ends this connection, not the next one
  if (client_) {
    db_ = client_->db;
    client_->on_output = nullptr;
    client_->post = [](std::function<void()>) {};
    svc_.host().RemoveClient(client_.get());
    client_.reset();
    has_client_ = false;
  }
  if (state_.load() != State::kConnect || down_since_ms_.load() == 0)
    down_since_ms_ = NowMsOf(svc_);
  state_ = State::kConnect;
  svc_.UpdateStaleFlag();
  transfer_size_ = -1;
  transfer_read_ = 0;
}

bool ReplicaLink::Connect() {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(port_);
  if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
    Logger("host.replication")->warn("Unable to connect to MASTER: cannot resolve {}", host_);
    return false;
  }
  int64_t timeout = svc_.host().config().Int("replication.repl_timeout") * 1000;
  for (addrinfo* ai = res; ai && fd_ < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      for (int64_t waited = 0; waited < timeout && !stop_; waited += 100) {
        rc = ::poll(&p, 1, 100);
        if (rc != 0) break;
      }
      int err = 0;
      socklen_t len = sizeof err;
      rc = (rc > 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) ? 0 : -1;
      if (rc != 0) errno = err;
    }
    if (rc == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
    } else {
      Logger("host.replication")
          ->warn("Error condition on socket for SYNC: {}", strerror(errno ? errno : ECONNREFUSED));
      ::close(fd);
    }
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return false;
  if (svc_.host().config().Bool("tls.replication") && !StartTls()) {
    ::close(fd_);
    fd_ = -1;
    tls_.reset();
    return false;
  }
  Logger("host.replication")->info("MASTER <-> REPLICA sync started");
  last_io_ms_ = NowMsOf(svc_);
  return true;
}

bool ReplicaLink::StartTls() {
  auto log = Logger("host.replication");
  auto contexts = tls::TlsContexts::For(svc_.host().config());
  tls::CtxPtr ctx = contexts ? contexts->client() : nullptr;
  if (!ctx) {
    log->warn("Error condition on socket for SYNC: TLS is not configured (tls-cert-file, "
              "tls-key-file, tls-ca-cert-file)");
    return false;
  }
  tls_ = tls::TlsStream::Connect(ctx.get(), fd_);
  if (!tls_) return false;
  int64_t deadline = NowMsOf(svc_) + svc_.host().config().Int("replication.repl_timeout") * 1000;
  for (;;) {
    tls::TlsIo st = tls_->Handshake();
    if (st == tls::TlsIo::kDone) return true;
    if (st != tls::TlsIo::kWantRead && st != tls::TlsIo::kWantWrite) {
      log->warn("Error condition on socket for SYNC: {}",
                tls_->error().empty() ? "connection closed" : tls_->error());
      return false;
    }
    if (stop_ || NowMsOf(svc_) > deadline) {
      log->warn("Error condition on socket for SYNC: TLS handshake timed out");
      return false;
    }
    pollfd p{fd_, static_cast<short>(st == tls::TlsIo::kWantRead ? POLLIN : POLLOUT), 0};
    ::poll(&p, 1, 100);
  }
}

bool ReplicaLink::SendAll(std::string_view s) {
  size_t off = 0;
  while (off < s.size()) {
    if (stop_ || fd_ < 0) return false;
    if (tls_) {
      size_t k = 0;
      tls::TlsIo st = tls_->Write(s.data() + off, s.size() - off, &k);
      if (st == tls::TlsIo::kDone) {
        off += k;
        continue;
      }
      if (st != tls::TlsIo::kWantRead && st != tls::TlsIo::kWantWrite) return false;
      pollfd p{fd_, static_cast<short>(st == tls::TlsIo::kWantRead ? POLLIN : POLLOUT), 0};
      ::poll(&p, 1, 100);
      continue;
    }
    ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

bool ReplicaLink::SendCommand(std::initializer_list<std::string_view> args) {
  std::vector<ferrite_slice> v;
  for (auto a : args) v.push_back({a.data(), a.size()});
  std::string out;
  AppendCommand(&out, static_cast<int>(v.size()), v.data());
  return SendAll(out);
}

// One recv, waiting up to timeout_ms: kData, kQuiet (nothing came), or kClosed (EOF,
// error, stop, or a CLIENT KILL of the primary's client).
ReplicaLink::FillResult ReplicaLink::Fill(int64_t timeout_ms) {
  int64_t start = NowMsOf(svc_);
  for (;;) {
    if (stop_ || fd_ < 0) return FillResult::kClosed;
    RunTasks();
    if (fd_ < 0 || kill_requested_) return FillResult::kClosed;
    short wait_for = POLLIN;
    if (tls_) {  // OpenSSL may hold decrypted bytes already: ask it before polling
      char buf[32 << 10];
      size_t n = 0;
      tls::TlsIo st = tls_->Read(buf, sizeof buf, &n);
      if (st == tls::TlsIo::kDone) {
        in_.append(buf, n);
        last_io_ms_ = NowMsOf(svc_);
        return FillResult::kData;
      }
      if (st != tls::TlsIo::kWantRead && st != tls::TlsIo::kWantWrite) return FillResult::kClosed;
      if (st == tls::TlsIo::kWantWrite) wait_for = POLLOUT;
    }
    pollfd p{fd_, wait_for, 0};
    int rc = ::poll(&p, 1, 100);
    if (rc > 0 && tls_) continue;  // read again through OpenSSL
    if (rc > 0) {
      char buf[64 << 10];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        last_io_ms_ = NowMsOf(svc_);
        return FillResult::kData;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return FillResult::kClosed;
    }
    if (rc < 0 && errno != EINTR) return FillResult::kClosed;
    if (NowMsOf(svc_) - start >= timeout_ms) return FillResult::kQuiet;
  }
}

bool ReplicaLink::ReadLine(std::string* line, int64_t timeout_ms) {
  for (;;) {
    size_t nl = in_.find('\n');
    if (nl != std::string::npos) {
      line->assign(in_, 0, nl);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      in_.erase(0, nl + 1);
      return true;
    }
    if (in_.size() > kMaxLine || Fill(timeout_ms) != FillResult::kData) return false;
  }
}

void ReplicaLink::RunTasks() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lk(tasks_mu_);
    tasks.swap(tasks_);
  }
  for (auto& t : tasks) t();
}

bool ReplicaLink::Handshake(std::string* psync_reply) {
  auto log = Logger("host.replication");
  auto& cfg = svc_.host().config();
  int64_t timeout = cfg.Int("replication.repl_timeout") * 1000;
  state_ = State::kHandshake;
  std::string line;
  if (!SendCommand({"PING"}) || !ReadLine(&line, timeout)) return false;
  // Redis goes on after -NOAUTH (AUTH follows) and the permission errors; anything
  // else is a failed handshake.
  if (line[0] == '-' && line.rfind("-NOAUTH", 0) != 0 && line.rfind("-NOPERM", 0) != 0 &&
      line.rfind("-ERR operation not permitted", 0) != 0) {
    log->warn("Error reply to PING from master: '{}'", line);
    return false;
  }
  log->info("Master replied to PING, replication can continue...");
  std::string pass = cfg.String("replication.masterauth");
  std::string user = cfg.String("replication.masteruser");
  if (!pass.empty()) {
    bool sent = user.empty() ? SendCommand({"AUTH", pass}) : SendCommand({"AUTH", user, pass});
    if (!sent || !ReadLine(&line, timeout)) return false;
    if (line[0] == '-') {
      log->warn("Unable to AUTH to MASTER: {}", line);
      return false;
    }
  }
  int64_t port = cfg.Int("replication.replica_announce_port");
  // Over TLS the primary (and sentinel, through it) must reach this replica on its TLS
  // port, as Redis announces it.
  if (port == 0 && cfg.Bool("tls.replication")) port = cfg.Int("tls.port");
  if (port == 0) port = cfg.Int("server.port");
  if (!SendCommand({"REPLCONF", "listening-port", std::to_string(port)}) ||
      !ReadLine(&line, timeout))
    return false;
  if (line[0] == '-') log->info("(Non critical) Master does not understand REPLCONF listening-port: {}", line);
  std::string ip = cfg.String("replication.replica_announce_ip");
  if (!ip.empty()) {
    if (!SendCommand({"REPLCONF", "ip-address", ip}) || !ReadLine(&line, timeout)) return false;
    if (line[0] == '-') log->info("(Non critical) Master does not understand REPLCONF ip-address: {}", line);
  }
  // A Redis primary ignores a capability it does not know (kCapaFieldTtls).
  if (!SendCommand({"REPLCONF", "capa", "eof", "capa", "psync2", "capa", kCapaFieldTtls}) ||
      !ReadLine(&line, timeout))
    return false;
  if (line[0] == '-') log->info("(Non critical) Master does not understand REPLCONF capa: {}", line);
  std::string replid = svc_.replid();
  int64_t off = svc_.master_offset();
  bool cached = history_;
  if (cached)
    log->info("Trying a partial resynchronization (request {}:{}).", replid, off + 1);
  else
    log->info("Partial resynchronization not possible (no cached master)");
  // A primary handing its role over with FAILOVER asks the target to promote itself.
  bool failover = svc_.failover_state() == ReplicationService::FailoverState::kInProgress;
  std::string psync_off = cached ? std::to_string(off + 1) : "-1";
  bool sent = failover ? SendCommand({"PSYNC", cached ? replid : "?", psync_off, "FAILOVER"})
                       : SendCommand({"PSYNC", cached ? replid : "?", psync_off});
  if (!sent) {
    if (failover) svc_.AbortFailover("Write error to failover target");
    return false;
  }
  // A primary may send newlines while it prepares the reply.
  do {
    if (!ReadLine(&line, timeout)) {
      if (failover) svc_.AbortFailover("Failover target rejected psync request");
      return false;
    }
  } while (line.empty());
  if (line.rfind("+FULLRESYNC", 0) == 0 || line.rfind("+CONTINUE", 0) == 0) {
    // Redis takes a full resync too: nothing is technically wrong with it.
    if (failover) svc_.FailoverDone();
    *psync_reply = line;
    return true;
  }
  if (failover) {
    log->warn("Unexpected reply to PSYNC FAILOVER from master: {}", line);
    svc_.AbortFailover("Failover target rejected psync request");
    return false;
  }
  if (line.rfind("-NOMASTERLINK", 0) == 0 || line.rfind("-LOADING", 0) == 0)
    log->info("Master is currently unable to PSYNC but should be in the future: {}", line);
  else
    log->warn("Unexpected reply to PSYNC from master: {}", line);
  return false;
}

bool ReplicaLink::FullSync(const std::string& reply) {
  auto log = Logger("host.replication");
  // +FULLRESYNC <replid> <offset>
  std::string replid;
  int64_t off = 0;
  {
    size_t a = reply.find(' '), b = reply.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      log->warn("Master replied with wrong +FULLRESYNC syntax.");
      return false;
    }
    replid = reply.substr(a + 1, b - a - 1);
    if (replid.size() != 40 || !sdk::ParseInt64(std::string_view(reply).substr(b + 1), &off)) {
      log->warn("Master replied with wrong +FULLRESYNC syntax.");
      return false;
    }
  }
  log->info("Full resync from master: {}:{}", replid, off);
  state_ = State::kTransfer;
  svc_.UpdateStaleFlag();
  int64_t timeout = svc_.host().config().Int("replication.repl_timeout") * 1000;
  std::string line;
  do {  // newlines keep the link alive while the primary prepares the RDB
    if (!ReadLine(&line, timeout)) {
      log->warn("I/O error reading bulk count from MASTER");
      return false;
    }
  } while (line.empty());
  if (line[0] == '-') {
    log->warn("MASTER aborted replication with an error: {}", line.substr(1));
    return false;
  }
  if (line[0] != '$') {
    log->warn("Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you "
              "sure the host and port are right?", line.substr(0, 64));
    return false;
  }
  std::string mark;
  int64_t len = -1;
  if (line.rfind("$EOF:", 0) == 0 && line.size() == 5 + 40) {
    mark = line.substr(5);
  } else if (!sdk::ParseInt64(std::string_view(line).substr(1), &len) || len < 0) {
    log->warn("Bad protocol from MASTER: bulk length '{}'", line);
    return false;
  }
  transfer_size_ = len < 0 ? 0 : len;
  // Where the payload goes while it arrives: decided now, as Redis' useDisklessLoad().
  const std::string mode = svc_.host().config().String("replication.repl_diskless_load");
  const bool to_disk = mode == "disabled" || (mode == "on-empty-db" && KeyspaceHasKeys(svc_.host()));
  if (mark.empty())
    log->info("MASTER <-> REPLICA sync: receiving {} bytes from master to {}", len,
              to_disk ? "disk" : "parser");
  else
    log->info("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to {}",
              to_disk ? "disk" : "parser");
  if (to_disk) {
    auto payload = SyncPayload::Open(svc_.host());
    if (!payload || !ReceiveToDisk(*payload, len, mark) || !payload->Finish() ||
        !LoadFromDisk(*payload))
      return false;
  } else if (!LoadFromSocket(len, mark, replid, mode == "swapdb")) {
    return false;
  }
  svc_.AdoptPrimaryHistory(replid, off);
  db_ = 0;
  history_ = true;
  log->info("MASTER <-> REPLICA sync: Finished with success");
  return true;
}

// The payload's bytes into the temp file as they come.
bool ReplicaLink::ReceiveToDisk(SyncPayload& payload, int64_t len, const std::string& mark) {
  auto log = Logger("host.replication");
  int64_t timeout = svc_.host().config().Int("replication.repl_timeout") * 1000;
  if (!mark.empty()) {
    // The mark ends the payload. Bytes go to the payload as they come, but for the last
    // 40 (a mark may be split across reads). A Redis primary sends nothing after the
    // mark until we ACK, but what follows is kept as the stream's start.
    std::string pending;
    pending.swap(in_);
    for (;;) {
      size_t at = pending.find(mark);
      if (at != std::string::npos) {
        if (!payload.Append(pending.data(), at)) return false;
        in_.assign(pending, at + mark.size());
        return true;
      }
      if (pending.size() > mark.size()) {
        size_t n = pending.size() - mark.size();
        if (!payload.Append(pending.data(), n)) return false;
        pending.erase(0, n);
      }
      if (Fill(timeout) != FillResult::kData) {
        log->warn("I/O error trying to sync with MASTER: connection lost");
        return false;
      }
      pending += in_;
      in_.clear();
      transfer_read_ = payload.size() + static_cast<int64_t>(pending.size());
    }
  }
  while (payload.size() < len) {
    if (in_.empty() && Fill(timeout) != FillResult::kData) {
      log->warn("I/O error trying to sync with MASTER: connection lost");
      return false;
    }
    size_t n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(in_.size()),
                                                     len - payload.size()));
    if (!payload.Append(in_.data(), n)) return false;
    in_.erase(0, n);
    transfer_read_ = payload.size();
  }
  return true;
}

void ReplicaLink::Stream() {
  Host& h = svc_.host();
  auto log = Logger("host.replication");
  client_ = h.NewClient();
  client_->repl_kind = Client::ReplKind::kMaster;
  client_->authenticated = true;
  client_->addr = host_ + ":" + std::to_string(port_);
  client_->db = db_;
  client_->created_ms = h.clock().NowMs();
  client_->post = [this](std::function<void()> fn) {
    std::lock_guard lk(tasks_mu_);
    tasks_.push_back(std::move(fn));
  };
  kill_requested_ = false;
  // CLIENT KILL TYPE master posts a close: the link drops and reconnects with PSYNC.
  client_->on_output = [this] {
    if (client_ && client_->close_mode == FERRITE_CONN_CLOSE_NOW) kill_requested_ = true;
    if (client_) client_->out.clear();
  };
  has_client_ = true;
  int64_t off = svc_.master_offset();
  reploff_ = off;
  read_reploff_ = off;
  state_ = State::kConnected;
  down_since_ms_ = 0;
  svc_.UpdateStaleFlag();
  log->info("MASTER <-> REPLICA sync: Master link is up");
  int64_t timeout = h.config().Int("replication.repl_timeout") * 1000;
  int64_t last_ack = 0;
  CommandReader reader;
  std::vector<std::string_view> args;
  std::vector<ferrite_slice> argv;
  size_t pos = 0;
  bool held = false;  // the next command waits for a client pause to end
  // What came right behind the RDB or +CONTINUE is the stream's start: served first.
  bool leftover = !in_.empty();
  read_reploff_ += static_cast<int64_t>(in_.size());
  while (!stop_ && !kill_requested_) {
    int64_t now = h.clock().NowMs();
    if (now - last_ack >= 1000) {
      if (!SendCommand({"REPLCONF", "ACK", std::to_string(reploff_.load())})) break;
      last_ack = now;
    }
    if (now - last_io_ms_.load() > timeout) {
      log->warn("MASTER timeout: no data nor PING received...");
      break;
    }
    if (!leftover) {
      size_t before = in_.size();
      FillResult fr = Fill(200);
      if (fr == FillResult::kClosed) break;
      // A command held by a client pause is looked at again after each wait for data.
      if (fr == FillResult::kQuiet && !held) continue;
      read_reploff_ += static_cast<int64_t>(in_.size() - before);
    }
    leftover = false;
    size_t start = pos;
    for (;;) {
      size_t used = 0;
      auto st = reader.Next(in_.data() + pos, in_.size() - pos, &args, &used);
      if (st == CommandReader::Status::kNeedMore) break;
      if (st == CommandReader::Status::kError) {
        log->warn("Protocol error from MASTER ({}): closing the link", reader.error());
        kill_requested_ = true;
        break;
      }
      if (stop_) break;  // REPLICAOF moved on: nothing more from this primary
      // CLIENT PAUSE on a replica holds its primary's stream as Redis pauses its master
      // client: the command stays unapplied (slave_repl_offset stands still) while the
      // link goes on reading and acknowledging what it read.
      held = !args.empty() && HeldByPause(h, args[0]);
      if (held) break;
      if (!args.empty()) {
        if (args.size() >= 2 && IEquals(args[0], "REPLCONF") && IEquals(args[1], "GETACK")) {
          // Answered with the offset before this command, as Redis does.
          int64_t at = reploff_.load() + static_cast<int64_t>(pos - start);
          SendCommand({"REPLCONF", "ACK", std::to_string(at)});
        } else {
          std::string_view fkey, fflags;
          uint64_t epoch = 0;
          std::string epoch_arg;
          std::vector<std::string_view> carried;
          if (ParseFlagsCarrier(args, &fkey, &fflags)) {  // memcached flags (repl_stream.h)
            args = {"FERRITE.SETFLAGS", fkey, fflags};
          } else if (ParseStaleCarrier(args, &fkey)) {  // memcached's stale mark
            args = {"MC.DELETE", fkey, "STALE"};
          } else if (ParseCasEpochCarrier(args, &epoch)) {  // the primary's CAS epoch
            epoch_arg = std::to_string(epoch);
            args = {"FERRITE.CASEPOCH", epoch_arg};
          } else if (ParseFieldTtlCarrier(args, &carried)) {  // a hash field TTL command
            args.swap(carried);
          }
          argv.clear();
          for (auto a : args) argv.push_back({a.data(), a.size()});
          h.Execute(client_.get(), static_cast<int>(argv.size()), argv.data(), &kDiscard,
                    nullptr);
        }
      }
      pos += used;
      RunTasks();
      if (kill_requested_) break;
    }
    if (pos > start) {
      std::string_view done(in_.data() + start, pos - start);
      svc_.ForwardFromPrimary(done);
      reploff_ += static_cast<int64_t>(done.size());
    }
    if (pos == in_.size()) {
      in_.clear();
      pos = 0;
    } else if (pos > (1u << 20)) {
      in_.erase(0, pos);
      pos = 0;
    }
  }
  if (kill_requested_) log->info("Connection with master lost (killed or protocol error).");
  in_.clear();
}

}  // namespace ferrite::host::repl
