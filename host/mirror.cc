#include "host/mirror.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "host/host.h"
#include "host/info.h"
#include "host/logging.h"
#include "host/mirror_encode.h"

namespace ferrite::host {
namespace {

constexpr int64_t kLogEveryMs = 10'000;
constexpr int kIoTimeoutMs = 5'000;

// Connects to "host:port" within kIoTimeoutMs; -1 and *err on failure.
int Connect(const std::string& target, std::string* err) {
  size_t colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    *err = "mirror_to must be host:port";
    return -1;
  }
  std::string host = target.substr(0, colon), port = target.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    *err = gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      rc = (::poll(&p, 1, kIoTimeoutMs) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) ? 0 : -1;
      if (soerr != 0) errno = soerr;
      else if (rc != 0) errno = ETIMEDOUT;
    }
    if (rc != 0) {
      *err = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

class MirrorService final : public Service, public PropagationSink {
 public:
  explicit MirrorService(Host& h)
      : h_(h), log_(Logger("host.mirror")),
        queue_limit_(h.config().IntRef("compatibility.mirror_queue_bytes")) {}

  void Start() {
    AddInfoSection(&h_, "mirror", [this] { return InfoSection(); });
    h_.config().OnChange("memcached-mirror-to", [this] { Reconfigure(); });
    h_.config().OnChange("memcached-mirror-resp", [this] { Reconfigure(); });
    thread_ = std::thread([this] { SenderLoop(); });
    Reconfigure();
  }

  void Stop() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard config_lk(config_mu_);
    if (attached_) h_.RemovePropagationSink(this);
    attached_ = false;
    RemoveInfoSection(&h_, "mirror");
  }

  // Under the writer's shard lock: encode and queue, never block.
  void Feed(int db, int argc, const ferrite_slice* argv) override {
    if (db != memcached_db_) return;
    std::string cmd;
    MirrorEncodeOptions o{resp_strings_.load(std::memory_order_relaxed), h_.clock().NowMs()};
    if (!EncodeMirrorCommand(argc, argv, o, &cmd) &&
        !(o.resp_strings && EncodeKeyStates(db, argc, argv, o.now_ms, &cmd)))
      return;
    auto limit = static_cast<size_t>(queue_limit_->load(std::memory_order_relaxed));
    {
      std::lock_guard lk(mu_);
      if (target_.empty()) return;
      if (queue_bytes_ + cmd.size() > limit) {
        dropped_++;
        return;
      }
      queue_bytes_ += cmd.size();
      queue_.push_back(std::move(cmd));
      queued_++;
    }
    cv_.notify_one();
  }

 private:
  // A RESP write EncodeMirrorCommand has no form for: what it left in each of its keys
  // that is a string or gone (other types have no memcached item). The writer holds the
  // keys' shards, so the entries are read as the write left them. memcached's own
  // writes (MC.*) all have a form; one it leaves out on purpose stays out.
  bool EncodeKeyStates(int db, int argc, const ferrite_slice* argv, int64_t now_ms,
                       std::string* out) {
    std::string_view name(argv[0].ptr, argv[0].len);
    if (name.size() > 3 && (name[0] == 'M' || name[0] == 'm') && (name[1] == 'C' || name[1] == 'c') &&
        name[2] == '.')
      return false;
    const Command* cmd = h_.registry().Find(name);
    std::vector<int> idx;
    if (cmd == nullptr || !cmd->Keys(argc, argv, idx)) return false;
    for (int i : idx) {
      std::string_view key(argv[i].ptr, argv[i].len);
      uint64_t hash = HashKey(key);
      Table& t = h_.keyspace().shard(h_.keyspace().ShardIndex(hash)).dbs[db];
      Entry* e = t.Find(key, hash);
      if (e != nullptr && t.ExpiredAt(e, now_ms)) e = nullptr;
      if (e != nullptr && e->kind != ValueKind::kString) continue;
      std::string_view value = e ? e->string_value() : std::string_view{};
      EncodeMirrorState(key, e ? &value : nullptr, e ? e->flags() : 0, e ? t.ExpireOf(e) : -1,
                        now_ms, out);
    }
    return !out->empty();
  }

  void Reconfigure() {
    std::lock_guard config_lk(config_mu_);  // two CONFIG SETs on two workers at once
    std::string target = h_.config().String("compatibility.mirror_to");
    resp_strings_ = h_.config().Bool("compatibility.mirror_resp");
    memcached_db_ = static_cast<int>(h_.config().Int("compatibility.memcached_db"));
    {
      std::lock_guard lk(mu_);
      if (target == target_) return;
      target_ = target;
      generation_++;
      queue_.clear();  // what was queued for another server (or for none) is not sent
      queue_bytes_ = 0;
    }
    cv_.notify_all();
    if (!target.empty() && !attached_) {
      h_.AddPropagationSink(this);
      attached_ = true;
    } else if (target.empty() && attached_) {
      h_.RemovePropagationSink(this);
      attached_ = false;
    }
    log_->info(target.empty() ? "mirroring of memcached writes is off"
                              : "mirroring memcached writes to " + target);
  }

  void SenderLoop() {
    int fd = -1;
    uint64_t fd_generation = 0;
    int64_t next_connect_ms = 0;
    std::string batch;
    for (;;) {
      std::string target;
      uint64_t gen;
      {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return stop_ || !queue_.empty(); });
        if (stop_) break;
        target = target_;
        gen = generation_;
      }
      if (fd >= 0 && (gen != fd_generation || target.empty())) {
        ::close(fd);
        fd = -1;
        link_up_ = false;
      }
      MaybeLogDrops();
      if (target.empty()) continue;
      if (fd < 0) {
        int64_t now = h_.clock().NowMs();
        if (now < next_connect_ms) continue;
        std::string err;
        fd = Connect(target, &err);
        if (fd < 0) {
          errors_++;
          next_connect_ms = now + 1000;
          if (now - last_connect_log_ms_ >= kLogEveryMs) {
            log_->warn("cannot connect to the mirror target {}: {} (retrying every second)", target, err);
            last_connect_log_ms_ = now;
          }
          continue;
        }
        fd_generation = gen;
        link_up_ = true;
        log_->info("connected to the mirror target {}", target);
      }
      batch.clear();
      size_t n = 0;
      {
        std::lock_guard lk(mu_);
        if (gen != generation_) continue;
        while (!queue_.empty() && batch.size() < (1u << 20)) {
          batch += queue_.front();
          queue_bytes_ -= queue_.front().size();
          queue_.pop_front();
          n++;
        }
      }
      if (batch.empty()) {
        DrainReplies(fd);
        continue;
      }
      if (!SendAll(fd, batch)) {
        // The batch is lost with the connection: counted as dropped, not retried, since
        // a later write to the same key may already be queued behind it.
        errors_++;
        dropped_ += n;
        log_->warn("lost the mirror target {}: {}; {} writes dropped", target, std::strerror(errno), n);
        ::close(fd);
        fd = -1;
        link_up_ = false;
        next_connect_ms = h_.clock().NowMs() + 1000;
        continue;
      }
      sent_ += n;
      DrainReplies(fd);
    }
    if (fd >= 0) ::close(fd);
  }

  bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (w > 0) {
        data.remove_prefix(static_cast<size_t>(w));
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        DrainReplies(fd);  // a server blocked on its own output would never read ours
        if (WaitWritable(fd)) continue;
        errno = ETIMEDOUT;
      }
      return false;
    }
    return true;
  }

  // Up to kIoTimeoutMs, in slices so that a shutdown is not held up by a stuck target.
  bool WaitWritable(int fd) {
    for (int waited = 0; waited < kIoTimeoutMs; waited += 100) {
      {
        std::lock_guard lk(mu_);
        if (stop_) return false;
      }
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) == 1) return true;
    }
    return false;
  }

  // The quiet commands answer only errors: count them, keep the socket drained.
  void DrainReplies(int fd) {
    char buf[16384];
    for (;;) {
      ssize_t r = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (r <= 0) return;
      std::string_view chunk(buf, static_cast<size_t>(r));
      for (std::string_view w : {"ERROR", "CLIENT_ERROR", "SERVER_ERROR"}) {
        for (size_t at = chunk.find(w); at != std::string_view::npos; at = chunk.find(w, at + 1)) {
          if (at == 0 || chunk[at - 1] == '\n') {
            if (w == "ERROR" && at + 5 < chunk.size() && chunk[at + 5] == '_') continue;
            refused_++;
          }
        }
      }
    }
  }

  void MaybeLogDrops() {
    uint64_t d = dropped_.load();
    int64_t now = h_.clock().NowMs();
    if (d != logged_drops_ && now - last_drop_log_ms_ >= kLogEveryMs) {
      log_->warn("mirror queue full or target lost: {} writes dropped since the last report "
                 "({} in all); the old memcached is missing them",
                 d - logged_drops_, d);
      logged_drops_ = d;
      last_drop_log_ms_ = now;
    }
  }

  std::string InfoSection() {
    std::string target;
    size_t len, bytes;
    {
      std::lock_guard lk(mu_);
      target = target_;
      len = queue_.size();
      bytes = queue_bytes_;
    }
    return "# Mirror\r\nmirror_to:" + target + "\r\nmirror_link_status:" +
           (target.empty() ? "off" : link_up_ ? "up" : "down") +
           "\r\nmirror_queued:" + std::to_string(queued_.load()) +
           "\r\nmirror_sent:" + std::to_string(sent_.load()) +
           "\r\nmirror_dropped:" + std::to_string(dropped_.load()) +
           "\r\nmirror_refused:" + std::to_string(refused_.load()) +
           "\r\nmirror_link_errors:" + std::to_string(errors_.load()) +
           "\r\nmirror_queue_length:" + std::to_string(len) +
           "\r\nmirror_queue_bytes:" + std::to_string(bytes) + "\r\n";
  }

  Host& h_;
  std::shared_ptr<spdlog::logger> log_;
  const std::atomic<int64_t>* queue_limit_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string target_;           // under mu_
  uint64_t generation_ = 0;      // under mu_: bumped when the target changes
  std::deque<std::string> queue_;  // under mu_
  size_t queue_bytes_ = 0;       // under mu_
  std::mutex config_mu_;
  bool attached_ = false;        // under config_mu_
  std::atomic<bool> resp_strings_{false};
  std::atomic<int> memcached_db_{0};
  std::atomic<bool> link_up_{false};
  std::atomic<uint64_t> queued_{0}, sent_{0}, dropped_{0}, refused_{0}, errors_{0};
  uint64_t logged_drops_ = 0;     // sender thread
  int64_t last_drop_log_ms_ = 0;  // sender thread
  int64_t last_connect_log_ms_ = 0;
};

}  // namespace

std::unique_ptr<Service> StartMirrorService(Host& host) {
  auto s = std::make_unique<MirrorService>(host);
  s->Start();
  return s;
}

}  // namespace ferrite::host
