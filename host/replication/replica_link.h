// The replica side of REPLICAOF host port: one thread that connects to the primary,
// does Redis' handshake (PING, AUTH, REPLCONF listening-port / ip-address / capa,
// PSYNC), loads the RDB of a full sync (the "$<len>" and the diskless "$EOF:<mark>"
// forms), then applies the stream as the primary's client (no replies, offsets
// counted), forwards the same bytes to its own replicas, answers GETACK and sends
// REPLCONF ACK every second. A dropped link is retried every second with PSYNC.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ferrite::host {
struct Client;
namespace tls {
class TlsStream;
}
}

namespace ferrite::host::repl {

class ReplicationService;
class SyncPayload;

class ReplicaLink {
 public:
  // Redis' repl_state names, as ROLE reports them.
  enum class State { kConnect, kConnecting, kHandshake, kTransfer, kConnected };

  // `own_history`: PSYNC offers our replid and offset (a primary turned replica, as
  // Redis' replicationCacheMasterUsingMyself) rather than `PSYNC ? -1` (a replica
  // configured at start, with no history yet).
  ReplicaLink(ReplicationService& svc, std::string host, int port, bool own_history);
  ~ReplicaLink();  // stops and joins the thread
  ReplicaLink(const ReplicaLink&) = delete;
  ReplicaLink& operator=(const ReplicaLink&) = delete;

  // Stops applying and disconnects soon; the destructor joins the thread.
  void RequestStop() { stop_ = true; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  State state() const { return state_.load(); }
  bool connected() const { return state_.load() == State::kConnected; }
  int64_t reploff() const { return reploff_.load(); }
  int64_t read_reploff() const { return read_reploff_.load(); }
  int64_t last_io_ms() const { return last_io_ms_.load(); }
  int64_t down_since_ms() const { return down_since_ms_.load(); }
  int64_t transfer_size() const { return transfer_size_.load(); }
  int64_t transfer_read() const { return transfer_read_.load(); }
  bool has_master_client() const { return has_client_.load(); }

 private:
  void Run();
  bool Connect();
  // tls-replication: the TLS handshake on the connected socket, with the client context.
  bool StartTls();
  bool Handshake(std::string* psync_reply);
  bool FullSync(const std::string& reply);
  // The payload of a full sync, as repl-diskless-load says (sync_load.cc): from the
  // temp file it went to, or parsed from the socket as it arrives (`len` the payload's
  // length, or -1 with `mark` the EOF mark that follows it).
  bool LoadFromDisk(const SyncPayload& payload);
  bool LoadFromSocket(int64_t len, const std::string& mark, const std::string& replid,
                      bool swapdb);
  bool ReceiveToDisk(SyncPayload& payload, int64_t len, const std::string& mark);
  class LinkSource;  // the loader's view of the socket (sync_load.cc)
  void Stream();
  void DropConnection(const char* why);

  // Socket helpers (poll with a timeout, checking stop_).
  bool SendAll(std::string_view s);
  bool SendCommand(std::initializer_list<std::string_view> args);
  enum class FillResult { kData, kQuiet, kClosed };
  FillResult Fill(int64_t timeout_ms);  // one recv into in_
  bool ReadLine(std::string* line, int64_t timeout_ms);
  void RunTasks();

  ReplicationService& svc_;
  const std::string host_;
  const int port_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<State> state_{State::kConnect};
  int fd_ = -1;
  std::unique_ptr<tls::TlsStream> tls_;  // set when the link runs over TLS
  std::string in_;      // received, not yet consumed
  std::atomic<int64_t> reploff_{0}, read_reploff_{0};
  std::atomic<int64_t> last_io_ms_{0}, down_since_ms_{0};
  std::atomic<int64_t> transfer_size_{-1}, transfer_read_{0};
  std::atomic<bool> has_client_{false};
  std::atomic<bool> kill_requested_{false};
  int db_ = 0;  // the primary client's db, kept across a partial resync
  bool history_;  // PSYNC with our replid/offset (set after the first sync too)

  std::shared_ptr<Client> client_;
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_;  // Client::post from other threads
};

}  // namespace ferrite::host::repl
