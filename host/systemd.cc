#include "host/systemd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "host/logging.h"

namespace ferrite::host {
namespace {

struct NotifyState {
  std::mutex mu;
  int fd = -1;
  sockaddr_un addr{};
  socklen_t addr_len = 0;
  bool failed_once = false;
  uint64_t watchdog_usec = 0;
  std::atomic<int64_t> last_ping_us{0};
};

NotifyState& S() {
  // NOTE: leaked on purpose, as the loggers: the cron may ping during static destruction.
  static NotifyState* s = new NotifyState;
  return *s;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// $NOTIFY_SOCKET: a path, or "@name" for the abstract namespace (sd_notify(3)).
bool ParseSocket(const char* env, sockaddr_un& addr, socklen_t& len) {
  size_t n = std::strlen(env);
  if (n < 2 || n >= sizeof(addr.sun_path) || (env[0] != '/' && env[0] != '@')) return false;
  addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, env, n);
  if (env[0] == '@') addr.sun_path[0] = '\0';
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + (env[0] == '/' ? 1 : 0));
  return true;
}

}  // namespace

std::string InitSystemdNotify(std::string_view mode) {
  NotifyState& s = S();
  std::lock_guard lk(s.mu);
  if (s.fd >= 0) {
    close(s.fd);
    s.fd = -1;
  }
  s.watchdog_usec = 0;
  if (mode == "no") return "";
  const char* sock = std::getenv("NOTIFY_SOCKET");
  if (!sock || !*sock) {
    return mode == "systemd" ? "supervised systemd: $NOTIFY_SOCKET is not set, not notifying"
                             : "";
  }
  if (!ParseSocket(sock, s.addr, s.addr_len))
    return std::string("supervised systemd: cannot use NOTIFY_SOCKET '") + sock + "'";
  s.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return std::string("supervised systemd: socket: ") + std::strerror(errno);
  // WATCHDOG_PID, when set, names the process the watchdog is meant for.
  const char* wpid = std::getenv("WATCHDOG_PID");
  const char* wusec = std::getenv("WATCHDOG_USEC");
  if (wusec && (!wpid || std::strtoll(wpid, nullptr, 10) == getpid()))
    s.watchdog_usec = std::strtoull(wusec, nullptr, 10);
  s.last_ping_us = NowUs();
  std::string line = "supervised by systemd: notifying " + std::string(sock);
  if (s.watchdog_usec)
    line += ", watchdog every " + std::to_string(s.watchdog_usec / 1000) + " ms";
  return line;
}

void SystemdNotify(std::string_view state) {
  NotifyState& s = S();
  std::lock_guard lk(s.mu);
  if (s.fd < 0) return;
  ssize_t n = sendto(s.fd, state.data(), state.size(), MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&s.addr), s.addr_len);
  if (n < 0 && !s.failed_once) {
    s.failed_once = true;
    Logger("host")->warn("systemd notification failed: {}", std::strerror(errno));
  }
}

void SystemdWatchdogTick() {
  NotifyState& s = S();
  if (s.watchdog_usec == 0) return;
  int64_t now = NowUs();
  if (now - s.last_ping_us.load(std::memory_order_relaxed) <
      static_cast<int64_t>(s.watchdog_usec / 2))
    return;
  s.last_ping_us.store(now, std::memory_order_relaxed);
  SystemdNotify("WATCHDOG=1");
}

uint64_t SystemdWatchdogUsec() { return S().watchdog_usec; }

}  // namespace ferrite::host
