#include "host/warm.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/host.h"
#include "host/info.h"
#include "host/logging.h"
#include "host/mirror_encode.h"
#include "host/server_commands.h"

namespace ferrite::host {
namespace {

constexpr int64_t kRetryDownMs = 1000;   // a source that failed is not asked for this long
constexpr int64_t kRecentMs = 1000;      // a finished fetch is not repeated for this long
constexpr int kFetchIoTimeoutMs = 5000;  // the fetcher's own patience (clients wait less)
constexpr size_t kBatch = 256;
constexpr int64_t kRelativeMax = 60 * 60 * 24 * 30;

void NoStr(void*, const char*, size_t) {}
void NoErr(void*, ferrite_error_code, const char*, size_t) {}
void NoInt(void*, int64_t) {}
void NoDbl(void*, double) {}
void NoNull(void*) {}
void NoLen(void*, size_t) {}
void NoBool(void*, int) {}
void NoVerb(void*, const char*, const char*, size_t) {}
const ferrite_reply_sink kDiscard = {sizeof(ferrite_reply_sink), NoStr, NoErr, NoInt, NoDbl,
                                     NoStr, NoNull, NoNull, NoLen, NoLen, NoLen, NoLen, NoBool,
                                     NoVerb, NoStr, NoLen, NoStr};

// A blocking connection to the source with a read buffer; false on any failure.
class SourceConn {
 public:
  ~SourceConn() { Close(); }
  bool Open(const std::string& target, std::string* err) {
    Close();
    size_t colon = target.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      *err = "warm_from must be host:port";
      return false;
    }
    std::string host = target.substr(0, colon), port = target.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      *err = gai_strerror(rc);
      return false;
    }
    for (addrinfo* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd < 0) continue;
      int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        rc = (::poll(&p, 1, kFetchIoTimeoutMs) == 1 &&
              getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) ? 0 : -1;
        errno = soerr != 0 ? soerr : (rc != 0 ? ETIMEDOUT : 0);
      }
      if (rc != 0) {
        *err = std::strerror(errno);
        ::close(fd);
        continue;
      }
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval tv{kFetchIoTimeoutMs / 1000, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
    }
    freeaddrinfo(res);
    return fd_ >= 0;
  }
  bool IsOpen() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
    start_ = 0;
  }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool Line(std::string* out) {
    for (;;) {
      size_t nl = buf_.find('\n', start_);
      if (nl != std::string::npos) {
        size_t end = nl > start_ && buf_[nl - 1] == '\r' ? nl - 1 : nl;
        out->assign(buf_, start_, end - start_);
        start_ = nl + 1;
        return true;
      }
      if (!Fill()) return false;
    }
  }
  bool Block(size_t n, std::string* out) {
    while (buf_.size() - start_ < n + 2)
      if (!Fill()) return false;
    out->assign(buf_, start_, n);
    start_ += n + 2;
    return true;
  }

 private:
  bool Fill() {
    if (start_ > 0) {
      buf_.erase(0, start_);
      start_ = 0;
    }
    char tmp[65536];
    ssize_t n;
    do {
      n = ::recv(fd_, tmp, sizeof(tmp), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
  size_t start_ = 0;
};

struct Pending {
  int db;
  std::string key;
};

class WarmService;
std::mutex g_mu;
std::map<Host*, WarmService*> g_services;

class WarmService final : public Service {
 public:
  explicit WarmService(Host& h)
      : h_(h), log_(Logger("host.warm")),
        timeout_ms_(h.config().IntRef("compatibility.warm_timeout_ms")),
        memcached_db_(static_cast<int>(h.config().Int("compatibility.memcached_db"))) {}

  static WarmService* Of(Host* h) {
    std::lock_guard lk(g_mu);
    auto it = g_services.find(h);
    return it == g_services.end() ? nullptr : it->second;
  }

  void Start() {
    {
      std::lock_guard lk(g_mu);
      g_services[&h_] = this;
    }
    AddInfoSection(&h_, "warm", [this] { return InfoSection(); });
    h_.config().OnChange("memcached-warm-from", [this] { Reconfigure(); });
    Reconfigure();
    thread_ = std::thread([this] { FetchLoop(); });
  }

  void Stop() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard lk(g_mu);
      g_services.erase(&h_);
    }
    RemoveInfoSection(&h_, "warm");
  }

  // MC.WARM: how long the caller should wait for `key` (0: answer the miss now).
  int64_t Request(int db, std::string_view key) {
    int64_t now = h_.clock().NowMs();
    int64_t timeout = timeout_ms_->load(std::memory_order_relaxed);
    std::lock_guard lk(mu_);
    // The old memcached's items belong to the db memcached clients use; a RESP GET in
    // another db is not answered from it.
    if (source_.empty() || timeout <= 0 || db != memcached_db_) return 0;
    if (now < down_until_ms_) {
      skipped_down_++;
      return 0;
    }
    std::string id = std::to_string(db) + ":" + std::string(key);
    if (auto it = inflight_.find(id); it != inflight_.end()) {
      int64_t left = it->second + timeout - now;  // single-flight: join the fetch
      if (left > 0) joined_++;
      return left > 0 ? left : 0;
    }
    if (auto it = recent_.find(id); it != recent_.end() && now - it->second < kRecentMs) return 0;
    inflight_[id] = now;
    fetches_++;
    queue_.push_back({db, std::string(key)});
    cv_.notify_one();
    return timeout;
  }

 private:
  void Reconfigure() {
    std::string target = h_.config().String("compatibility.warm_from");
    {
      std::lock_guard lk(mu_);
      if (target == source_) return;
      source_ = target;
      generation_++;
      down_until_ms_ = 0;
    }
    cv_.notify_all();
    log_->info(target.empty() ? "warm on a miss is off" : "memcached misses are warmed from " + target);
  }

  void FetchLoop() {
    SourceConn conn;
    uint64_t conn_generation = 0;
    for (;;) {
      std::vector<Pending> batch;
      std::string source;
      uint64_t gen;
      {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, std::chrono::milliseconds(500), [this] { return stop_ || !queue_.empty(); });
        if (stop_) break;
        PruneRecent();
        while (!queue_.empty() && batch.size() < kBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        source = source_;
        gen = generation_;
      }
      if (batch.empty()) continue;
      if (!client_) {
        // The stores' client, made on the first fetch (so a server that never warms
        // lists no extra client), kept like a replica's master client.
        client_ = h_.NewClient();
        client_->authenticated = true;
        client_->addr = "warm:" + source;
        client_->post = [](std::function<void()>) {};  // never blocked, never pushed to
        client_->on_output = [c = client_.get()] { c->out.clear(); };
      }
      if (source.empty()) {
        Finish(batch, 0, batch.size());
        continue;
      }
      if (conn.IsOpen() && conn_generation != gen) conn.Close();
      std::string err;
      if (!conn.IsOpen() && !conn.Open(source, &err)) {
        Fail(batch, 0, "cannot connect to " + source + ": " + err);
        continue;
      }
      conn_generation = gen;
      Fetch(conn, batch);
    }
    if (client_) h_.RemoveClient(client_.get());
    client_.reset();
  }

  void Fetch(SourceConn& conn, std::vector<Pending>& batch) {
    std::string req;
    for (const Pending& p : batch) {
      bool b64 = !MemcachedTextSafeKey(p.key);
      req += "mg " + (b64 ? Base64Encode(p.key) : p.key) + (b64 ? " b v f t\r\n" : " v f t\r\n");
    }
    if (!conn.Send(req)) {
      conn.Close();
      return Fail(batch, 0, std::string("lost the source: ") + std::strerror(errno));
    }
    std::string line, value;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!conn.Line(&line)) {
        conn.Close();
        return Fail(batch, i, "the source did not answer within 5 s");
      }
      if (line == "EN") {
        misses_++;
        Finish(batch, i, i + 1);
        continue;
      }
      uint64_t size = 0;
      uint32_t flags = 0;
      int64_t ttl = -1;
      // memcached's largest item (-I) is 1 GB: a bigger size is a broken reply.
      if (!ParseValueLine(line, &size, &flags, &ttl) || size > (uint64_t{1} << 30) ||
          !conn.Block(size, &value)) {
        conn.Close();
        return Fail(batch, i, "unexpected reply from the source: " + line.substr(0, 80));
      }
      Store(batch[i], value, flags, ttl);
      Finish(batch, i, i + 1);
    }
  }

  static bool ParseValueLine(const std::string& line, uint64_t* size, uint32_t* flags, int64_t* ttl) {
    if (line.compare(0, 3, "VA ") != 0) return false;
    size_t pos = 3;
    auto token = [&](std::string_view* t) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      size_t start = pos;
      while (pos < line.size() && line[pos] != ' ') ++pos;
      *t = std::string_view(line).substr(start, pos - start);
      return !t->empty();
    };
    std::string_view t;
    if (!token(&t) || std::from_chars(t.data(), t.data() + t.size(), *size).ec != std::errc())
      return false;
    while (token(&t)) {
      if (t[0] == 'f') std::from_chars(t.data() + 1, t.data() + t.size(), *flags);
      if (t[0] == 't') std::from_chars(t.data() + 1, t.data() + t.size(), *ttl);
    }
    return true;
  }

  // MC.SET <key> <value> ADD <flags> EX <exptime>, as a memcached `add` would: what a
  // client wrote since the miss is kept. Executed like a replica applies its stream, so
  // it is propagated to the AOF and replicas and signals the key's waiters.
  void Store(const Pending& p, const std::string& value, uint32_t flags, int64_t ttl) {
    if (ttl == 0) return;  // expiring this second: not worth a copy
    int64_t exptime = ttl < 0 ? 0 : ttl;
    if (exptime > kRelativeMax) exptime += h_.clock().NowMs() / 1000;
    std::string f = std::to_string(flags), e = std::to_string(exptime);
    ferrite_slice argv[] = {{"MC.SET", 6},         {p.key.data(), p.key.size()},
                            {value.data(), value.size()}, {"ADD", 3},
                            {f.data(), f.size()},  {"EX", 2},
                            {e.data(), e.size()}};
    client_->db = p.db;
    SetCurrentHost(&h_);
    h_.Execute(client_.get(), 7, argv, &kDiscard, nullptr);
    hits_++;
  }

  // Forgets batch[from, to) as in flight and wakes their waiters (the re-run finds the
  // stored item, or answers the miss).
  void Finish(const std::vector<Pending>& batch, size_t from, size_t to) {
    int64_t now = h_.clock().NowMs();
    {
      std::lock_guard lk(mu_);
      for (size_t i = from; i < to; ++i) {
        std::string id = std::to_string(batch[i].db) + ":" + batch[i].key;
        inflight_.erase(id);
        recent_[id] = now;
      }
    }
    // NOTE: through a command on the key, not SignalKeyReady directly: the command holds
    // the key's shard lock, as the waiting MC.GET did from its miss until it parked, so
    // a fetch that ends fast (a refused connection) cannot signal before the wait begins.
    for (size_t i = from; i < to; ++i) {
      ferrite_slice argv[] = {{"MC.WARMDONE", 11}, {batch[i].key.data(), batch[i].key.size()}};
      client_->db = batch[i].db;
      SetCurrentHost(&h_);
      h_.Execute(client_.get(), 2, argv, &kDiscard, nullptr);
    }
  }

  void Fail(const std::vector<Pending>& batch, size_t from, const std::string& why) {
    errors_ += batch.size() - from;
    int64_t now = h_.clock().NowMs();
    {
      std::lock_guard lk(mu_);
      down_until_ms_ = now + kRetryDownMs;
    }
    if (now - last_error_log_ms_ >= 10'000) {
      log_->warn("warm on a miss: {}; misses are answered without it for {} ms", why, kRetryDownMs);
      last_error_log_ms_ = now;
    }
    Finish(batch, from, batch.size());
  }

  void PruneRecent() {  // under mu_
    if (recent_.size() < 4096) return;
    int64_t now = h_.clock().NowMs();
    std::erase_if(recent_, [now](const auto& kv) { return now - kv.second >= kRecentMs; });
  }

  std::string InfoSection() {
    std::string source;
    size_t inflight;
    {
      std::lock_guard lk(mu_);
      source = source_;
      inflight = inflight_.size();
    }
    return "# Warm\r\nwarm_from:" + source + "\r\nwarm_fetches:" + std::to_string(fetches_) +
           "\r\nwarm_joined:" + std::to_string(joined_) + "\r\nwarm_hits:" + std::to_string(hits_.load()) +
           "\r\nwarm_misses:" + std::to_string(misses_.load()) +
           "\r\nwarm_errors:" + std::to_string(errors_.load()) +
           "\r\nwarm_skipped_source_down:" + std::to_string(skipped_down_) +
           "\r\nwarm_in_flight:" + std::to_string(inflight) + "\r\n";
  }

  Host& h_;
  std::shared_ptr<spdlog::logger> log_;
  const std::atomic<int64_t>* timeout_ms_;
  const int memcached_db_;  // not settable at run time
  std::thread thread_;
  std::shared_ptr<Client> client_;  // the fetcher thread's
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                   // under mu_
  std::string source_;                                  // under mu_
  uint64_t generation_ = 0;                             // under mu_
  int64_t down_until_ms_ = 0;                           // under mu_
  std::deque<Pending> queue_;                           // under mu_
  std::unordered_map<std::string, int64_t> inflight_;   // under mu_: "db:key" -> start
  std::unordered_map<std::string, int64_t> recent_;     // under mu_: "db:key" -> end
  uint64_t fetches_ = 0, joined_ = 0, skipped_down_ = 0;  // under mu_
  std::atomic<uint64_t> hits_{0}, misses_{0}, errors_{0};
  int64_t last_error_log_ms_ = 0;  // fetcher thread
};

// MC.WARM <key>: milliseconds the calling MC.GET should wait on the key (0: none).
int CmdMcWarm(ferrite_ctx* c, int, const ferrite_slice* argv) {
  WarmService* s = WarmService::Of(c->host);
  int64_t ms = s ? s->Request(c->client->db, {argv[1].ptr, argv[1].len}) : 0;
  c->sink->integer(c->st, ms);
  return FERRITE_OK;
}

// MC.WARMDONE <key>: wakes the clients waiting on the key (run under its shard lock).
int CmdMcWarmDone(ferrite_ctx* c, int, const ferrite_slice* argv) {
  c->host->SignalKeyReady(c->client->db, {argv[1].ptr, argv[1].len});
  c->sink->simple(c->st, "OK", 2);
  return FERRITE_OK;
}

}  // namespace

void RegisterWarmCommands(Host& host) {
  using namespace sdk::flags;
  AddHostCommand(&host, "MC.WARM", 2, HIDDEN | FAST, 0, 0, 0, CmdMcWarm, "server",
                 "Asks warm on a miss to fetch a key from the old memcached (internal)");
  AddHostCommand(&host, "MC.WARMDONE", 2, HIDDEN | FAST | READONLY | NOSCRIPT, 1, 1, 1,
                 CmdMcWarmDone, "server", "Wakes the clients waiting for a warmed key (internal)");
}

std::unique_ptr<Service> StartWarmService(Host& host) {
  auto s = std::make_unique<WarmService>(host);
  s->Start();
  return s;
}

}  // namespace ferrite::host
