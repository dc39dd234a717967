// Listeners and connections (Boost.Asio). `threads` workers each run their own
// io_context; a connection is accepted onto one worker and never migrates. A listener
// serves one or more protocols and picks one per connection by the first byte (each
// protocol plugin's sniff callback), as memcached does for text vs binary.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "host/asio.h"
#include "host/host.h"

namespace ferrite::host {

class Connection;
class ReadinessSet;
struct Client;
namespace tls {
class TlsContexts;
}

// ferrite_host_api::script_yield, as Redis' processEventsWhileBlocked: runs the ready
// handlers of this worker's io_context without blocking, so the worker's other
// connections get -BUSY (or run ALLOW_BUSY commands: SCRIPT KILL, SHUTDOWN NOSAVE) while a
// script on `owner` runs. `owner`'s own handlers and every posted client task (wake-ups,
// timeouts, pushes, kills) are deferred until after the yield. No-op off a worker thread
// and when already serving (no recursion). The caller must hold every shard lock.
void ServeWhileBusy(const Client* owner);
// True while this thread is inside ServeWhileBusy: a command run now must take no shard
// lock (the paused script holds all of them on this very thread).
bool ServingWhileBusy();

class Server {
 public:
  explicit Server(Host& host);
  ~Server();
  // Binds every listener; throws std::runtime_error naming the address on failure.
  void Start();
  // Blocks until Stop() (signal, SHUTDOWN).
  void Wait();
  void Stop();

  std::vector<uint16_t> ports() const;  // bound ports, for tests with port 0

  // True if `addr` is a loopback address (protected mode).
  static bool IsLoopback(const asio::ip::address& addr);

 private:
  struct Listener {
    std::string name;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;
    std::vector<std::unique_ptr<asio::local::stream_protocol::acceptor>> unix_acceptors;
    std::vector<std::string> unix_paths;  // unlinked at Stop
    std::vector<std::shared_ptr<Protocol>> protocols;
    int db = 0;
    bool tls = false;  // connections start with a TLS handshake (host/tls/)
    uint16_t port = 0;  // as configured (compared on CONFIG SET)
    std::string bind;   // the address list its TCP acceptors listen on, as configured
  };
  void Accept(Listener& l, asio::ip::tcp::acceptor& a);
  void AcceptUnix(Listener& l, asio::local::stream_protocol::acceptor& a);
  // Admits an accepted client (max clients, protected mode for a `remote` TCP peer)
  // and starts its Connection on worker `w`.
  void Serve(Listener& l, asio::ip::tcp::socket sock, size_t w, bool remote,
             const std::string& unix_path);
  void Bind(Listener& l, const std::string& addrs, uint16_t port);
  // Listens on a unix socket at `path` with mode `perm` (octal string, "0" = umask's).
  void BindUnix(Listener& l, const std::string& path, const std::string& perm);
  std::unique_ptr<Listener> MakeListener(const std::string& name, bool tls);
  // TLS listeners (tls-port: RESP, memcached-tls-port: memcached), opened at Start and
  // re-opened, moved or closed by CONFIG SET; `which` is the setting's TOML address.
  // Runs on the control thread once the server runs. Error text on failure.
  // At startup (before the accept loops start) a failure to bind throws as Bind does.
  std::optional<std::string> SyncTlsListener(const std::string& which, bool startup = true);
  // The CONFIG SET apply functions of the tls-* settings and of the TLS ports.
  void RegisterTlsApply();
  // CONFIG SET port / bind (net_listen.cc): re-opens the main listener's TCP acceptors
  // (its unix socket stays), and on a bind change the memcached listener's when it
  // follows `bind` and the TLS ones. Control thread. Error text on failure, with every
  // acceptor of the failed listener closed (the rollback re-applies the old values).
  std::optional<std::string> SyncPlainListener(Listener& l, uint16_t port,
                                               const std::string& bind);
  std::optional<std::string> ApplyListenSettings(bool bind_changed);
  void RegisterListenApply();
  // Runs fn on the control thread and waits for its answer (CONFIG SET from a worker).
  std::optional<std::string> OnControl(std::function<std::optional<std::string>()> fn);
  void ScheduleCron();
  void WaitSignal();
  void FitMaxClients();
  void RetryAcceptLater(Listener& l, asio::ip::tcp::acceptor& a,
                        const boost::system::error_code& ec);

  Host& host_;
  // Declared before control_ so they are destroyed after it: an accept still pending
  // in control_ holds a socket bound to a worker's io_context (ASan: use-after-free).
  std::vector<std::unique_ptr<asio::io_context>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  // One per worker, declared after workers_ so each is destroyed while its io_context
  // still exists (it deregisters from it and detaches the connections it owns).
  std::vector<std::unique_ptr<ReadinessSet>> readiness_;
  // Accepting, SIGHUP and the cron run on their own thread, so a worker that is busy (a
  // long script) does not delay new connections.
  asio::io_context control_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> control_guard_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  // Closed TLS listeners: kept until the server goes, since their acceptors' aborted
  // accept handlers still refer to them.
  std::vector<std::unique_ptr<Listener>> retired_;
  // Closed acceptors of listeners that stay (CONFIG SET port / bind): kept for the same
  // reason.
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> retired_acceptors_;
  std::shared_ptr<tls::TlsContexts> tls_;
  std::unique_ptr<asio::steady_timer> cron_;
  std::unique_ptr<asio::signal_set> signals_;  // SIGHUP
  size_t next_worker_ = 0;
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};
  std::chrono::steady_clock::time_point last_accept_error_log_{};  // control_ thread
  std::atomic<bool> stopped_{false};
};

}  // namespace ferrite::host
