#include "host/net.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include "host/context.h"
#include "host/fd_limit.h"
#include "host/logging.h"
#include "host/readiness.h"
#include "host/systemd.h"
#include "host/tls/tls_stream.h"

namespace ferrite::host {

namespace {

constexpr const char* kDenied =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from "
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you "
    "started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    "to do one of the above things in order for the server to start accepting connections from "
    "the outside.\r\n";

// Above this much queued output, a connection stops reading until its write completes.
constexpr size_t kMaxPendingOutput = 64u << 20;

std::string AddrString(const asio::ip::tcp::endpoint& ep) {
  std::ostringstream o;
  if (ep.address().is_v6()) o << "[" << ep.address().to_string() << "]:" << ep.port();
  else o << ep.address().to_string() << ":" << ep.port();
  return o.str();
}

// Per worker thread: what ServeWhileBusy needs. Only that thread touches it.
struct WorkerTls {
  asio::io_context* ioc = nullptr;   // set on worker threads only
  ReadinessSet* readiness = nullptr;  // this worker's sockets
  const Client* owner = nullptr;     // whose script is yielding right now
  bool serving = false;              // inside ServeWhileBusy
  std::vector<std::function<void()>> deferred;  // re-posted when the yield ends
};
thread_local WorkerTls t_worker;

// Handlers run at most this many per yield, so a flood of clients cannot starve the
// script (it yields again a few ms later).
constexpr int kMaxHandlersPerYield = 1024;

// Runs fn now or, while a script yields on this thread, after the yield. Client tasks
// (blocked-client retries and timeouts, pub/sub pushes, kills) always wait: a retry
// would re-run BLPOP and take shard locks this thread holds, and Redis does not serve
// them in processEventsWhileBlocked either.
void RunOrDefer(std::function<void()> fn) {
  if (t_worker.serving) {
    t_worker.deferred.push_back([fn = std::move(fn)]() mutable { RunOrDefer(std::move(fn)); });
    return;
  }
  fn();
}

}  // namespace

// What a connection accepted on a TLS listener starts with (none: a plain one).
struct TlsAccept {
  tls::CtxPtr ctx;
  tls::AuthClients auth = tls::AuthClients::kYes;
  int64_t handshake_timeout_ms = 0;
  const char* reject = nullptr;  // sent encrypted once the handshake is done, then closed
};

// One client connection. Lives on one io_context; everything below runs on its thread.
// Its socket leaves asio at Start: the worker's ReadinessSet reports readiness, and
// reads and writes are plain non-blocking recv/send (see readiness.h for why).
class Connection : public ReadinessTarget, public std::enable_shared_from_this<Connection> {
 public:
  // `unix_path` is the listening socket's path for a unix-socket client ("" for TCP):
  // such a client is named "<path>:0", as Redis' CLIENT LIST shows it.
  Connection(Host& host, asio::ip::tcp::socket sock, std::vector<std::shared_ptr<Protocol>> protos,
             int db, ReadinessSet* readiness, const std::string& unix_path, TlsAccept tls = {})
      : host_(host),
        sock_(std::move(sock)),
        protos_(std::move(protos)),
        readiness_(readiness),
        tls_accept_(std::move(tls)) {
    client_ = host_.NewClient();
    client_->db = db;
    boost::system::error_code ec;
    if (!unix_path.empty()) {
      client_->addr = client_->laddr = unix_path + ":0";
      client_->unix_socket = true;
    } else {
      auto rep = sock_.remote_endpoint(ec);
      if (!ec) client_->addr = AddrString(rep);
      auto lep = sock_.local_endpoint(ec);
      if (!ec) client_->laddr = AddrString(lep);
      sock_.set_option(asio::ip::tcp::no_delay(true), ec);
    }
    Logger("host.net")->debug("accepted client id={} addr={}", client_->id, client_->addr);
  }

  // A connection still open at shutdown dies with its worker's readiness set: close it
  // so the protocol frees its state (LeakSanitizer: resp ConnOpen state leaked).
  ~Connection() override { Close(); }

  asio::any_io_executor Executor() { return sock_.get_executor(); }

  void Start() {
    auto self = shared_from_this();
    std::weak_ptr<Connection> weak = self;
    auto* ioc = &static_cast<asio::io_context&>(sock_.get_executor().context());
    client_->post = [ioc](std::function<void()> fn) {
      asio::post(*ioc, [fn = std::move(fn)]() mutable { RunOrDefer(std::move(fn)); });
    };
    client_->on_output = [weak] {
      if (auto c = weak.lock()) c->AfterOutput();
    };
    client_->on_unblocked = [weak] {
      if (auto c = weak.lock()) c->Resume();
    };
    client_->resume_input = [weak] {
      if (auto c = weak.lock()) c->resume_pending_ = true;
    };
    // A command whose wake-ups are still being served parks the connection as a blocked
    // command does (wake_chain.h); on_unblocked resumes it.
    client_->holds_for_wakeups = true;
    if (protos_.size() == 1) Choose(protos_[0]);
    boost::system::error_code ec;
    int fd = sock_.release(ec);
    if (!ec && tls_accept_.ctx) {
      tls_ = tls::TlsStream::Accept(tls_accept_.ctx.get(), fd, tls_accept_.auth);
      tls_accept_.ctx.reset();  // the session holds its own reference
      handshaking_ = true;
    }
    if (ec || (handshaking_ && !tls_) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 || !readiness_->Add(fd, self)) {
      if (!ec) ::close(fd);
      tls_.reset();
      Close();
      return;
    }
    fd_ = fd;  // a socket with data already waiting reports at once
    client_->fd = fd;
    if (handshaking_) StartHandshakeTimer(weak);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    Logger("host.net")->debug("closing client id={} addr={}", client_->id, client_->addr);
    if (handshake_timer_) handshake_timer_->cancel();
    if (tls_ && fd_ >= 0) tls_->Shutdown();  // close_notify, if the session is sound
    if (fd_ >= 0) {
      ::shutdown(fd_, SHUT_RDWR);
      if (readiness_) readiness_->Remove(fd_, this);
      ::close(fd_);
      fd_ = -1;
      tls_.reset();
    } else {
      boost::system::error_code ec;
      sock_.close(ec);
    }
    if (proto_ && client_->proto_state) proto_->desc.conn_close(client_->proto_state);
    client_->proto_state = nullptr;
    host_.RemoveClient(client_.get());
    client_->post = [](std::function<void()>) {};
    client_->on_output = nullptr;
    client_->on_unblocked = nullptr;
    client_->resume_input = nullptr;
  }

 private:
  void Choose(const std::shared_ptr<Protocol>& p) {
    proto_ = p;
    client_->proto = &proto_->desc;
    client_->is_memcached = proto_->listener == "memcached";
    client_->proto_state = proto_->desc.conn_open(proto_->state, AsConn(client_.get()));
  }

  void Detach() override {
    readiness_ = nullptr;
    Close();
  }

  void OnEvents(uint32_t events) override {
    UnlessScriptOwner([this, events] {
      if (closed_) return;
      // The peer's FIN (or an error) raises one edge: keep reading until recv says so.
      if (events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) peer_closed_ = true;
      if (handshaking_) {
        ContinueHandshake();
        return;
      }
      bool out = events & (EPOLLOUT | EPOLLERR | EPOLLHUP);
      bool in = events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP);
      // Under TLS a write can wait for input and a read for output (key updates).
      if (writing_ && (out || (write_wants_read_ && in))) Flush();
      if (closed_ || !(in || (read_wants_write_ && out))) return;
      if (WantRead()) DoRead();
      else read_pending_ = true;  // the edge is consumed: remember it for ResumeReading
    });
  }

  // The handshake gets a deadline, so a client that never finishes it (or sends half of
  // it and goes quiet) cannot hold a connection slot. A timer only while handshaking.
  void StartHandshakeTimer(std::weak_ptr<Connection> weak) {
    if (tls_accept_.handshake_timeout_ms <= 0) return;
    handshake_timer_ = std::make_unique<asio::steady_timer>(
        sock_.get_executor(), std::chrono::milliseconds(tls_accept_.handshake_timeout_ms));
    handshake_timer_->async_wait([weak](boost::system::error_code ec) {
      auto c = weak.lock();
      if (ec || !c || c->closed_ || !c->handshaking_) return;
      Logger("host.net")->info("TLS handshake with {} timed out after {} ms: closing it",
                               c->client_->addr, c->tls_accept_.handshake_timeout_ms);
      c->Close();
    });
  }

  // Non-blocking SSL_accept, driven by readiness: WANT_READ waits for the next input
  // edge (the socket stays registered for it), WANT_WRITE asks for EPOLLOUT.
  void ContinueHandshake() {
    switch (tls_->Handshake()) {
      case tls::TlsIo::kDone: break;
      case tls::TlsIo::kWantRead: handshake_wants_write_ = false; UpdateWriteInterest(); return;
      case tls::TlsIo::kWantWrite: handshake_wants_write_ = true; UpdateWriteInterest(); return;
      case tls::TlsIo::kClosed: Close(); return;
      case tls::TlsIo::kError:
        Logger("host.net")->warn("Error accepting a client connection: {} (conn: {})",
                                 tls_->error(), client_->addr);
        Close();
        return;
    }
    handshaking_ = handshake_wants_write_ = false;
    if (handshake_timer_) handshake_timer_->cancel();
    UpdateWriteInterest();
    if (tls_accept_.reject) {  // protected mode: Redis answers after the handshake
      client_->out.assign(tls_accept_.reject);
      client_->close_mode = FERRITE_CONN_CLOSE_AFTER_REPLY;
      AfterOutput();
      return;
    }
    // The client's first request may have come with its last handshake flight, and
    // OpenSSL may hold it already: read now, the edge that brought it is spent.
    DoRead();
  }

  // EPOLLOUT interest follows what waits for it: unsent output, or OpenSSL wanting to
  // write in the middle of a handshake or a read. One epoll_ctl per change.
  void UpdateWriteInterest() {
    bool want = writing_ || read_wants_write_ || handshake_wants_write_;
    if (want == want_write_ || !readiness_ || fd_ < 0) return;
    want_write_ = want;
    readiness_->WantWrite(fd_, this, want);
  }

  // Reading goes on while the connection lives (also while the client is blocked, so a
  // disconnect is noticed), except when output backs up: then it resumes once the
  // write completes.
  bool WantRead() const { return !(writing_ && client_->out.size() > kMaxPendingOutput); }

  // Reads again without waiting for an edge when one was left unconsumed: reading was
  // paused, or the last recv filled the buffer (more may be queued). Posted, so a long
  // pipelined input is served in turns, as asio's reads were.
  void ResumeReading() {
    if (closed_ || !read_pending_ || reread_posted_ || !WantRead()) return;
    reread_posted_ = true;
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
      self->UnlessScriptOwner([self] {
        self->reread_posted_ = false;
        if (self->closed_ || !self->read_pending_ || !self->WantRead()) return;
        self->DoRead();
      });
    });
  }

  // One recv. Edge-triggered readiness needs no more: a recv that does not fill the
  // buffer took everything queued, and data arriving later raises a new edge.
  void DoRead() {
    read_pending_ = false;
    if (tls_eof_) {  // what came before the peer's close was served
      Close();
      return;
    }
    if (in_cap_ - end_ < 16384) {
      if (begin_ > 0) {
        std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (in_cap_ - end_ < 16384) GrowInput(std::max<size_t>(in_cap_ * 2, 32768));
    }
    size_t room = in_cap_ - end_;
    ssize_t n;
    if (tls_) {
      n = static_cast<ssize_t>(ReadTls(room));
      if (n == 0) return;
    } else {
      do {
        n = ::recv(fd_, in_.get() + end_, room, 0);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        Close();
        return;
      }
      read_pending_ = static_cast<size_t>(n) == room || peer_closed_;
    }
    host_.stats().net_input_bytes.fetch_add(n, std::memory_order_relaxed);
    end_ += static_cast<size_t>(n);
    Process();
  }

  // Decrypts into the input buffer, record after record, until OpenSSL has nothing left
  // and the socket's queue was found empty (edge-triggered: the wakeup is then fully
  // served), or the room is full (read_pending_: ResumeReading goes on). Returns the
  // bytes read; 0 when nothing came (closed, if the peer closed or the session failed).
  size_t ReadTls(size_t room) {
    read_wants_write_ = false;
    size_t got = 0;
    tls::TlsIo st = tls::TlsIo::kDone;
    while (got < room) {
      size_t k = 0;
      st = tls_->Read(in_.get() + end_ + got, room - got, &k);
      if (st != tls::TlsIo::kDone) break;
      got += k;
      if (!peer_closed_ && tls_->Drained()) break;  // after a FIN: read on to the EOF
    }
    if (st == tls::TlsIo::kWantWrite) read_wants_write_ = true;
    UpdateWriteInterest();
    if (st == tls::TlsIo::kClosed || st == tls::TlsIo::kError) {
      if (st == tls::TlsIo::kError)
        Logger("host.net")->debug("TLS error reading from client {}: {}", client_->addr,
                                  tls_->error());
      if (got == 0) {
        Close();
        return 0;
      }
      tls_eof_ = true;  // serve what came before it; the next read closes
    }
    read_pending_ = tls_eof_ || got == room;
    return got;
  }

  // Not a std::vector::resize: that would zero-fill the new room, 32 KiB per connection.
  void GrowInput(size_t cap) {
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (end_ > 0) std::memcpy(bigger.get(), in_.get(), end_);
    in_ = std::move(bigger);
    in_cap_ = cap;
  }

  // While this connection's own script yields (ServeWhileBusy), its handlers wait, as
  // Redis protects the client running a script: its input buffer is being parsed and its
  // output built under the running command. The deferred handler checks again when run.
  // A template, so the common case (no script yielding) wraps nothing in a std::function.
  template <class Fn>
  void UnlessScriptOwner(Fn&& fn) {
    if (t_worker.serving && t_worker.owner == client_.get()) {
      Defer(std::function<void()>(std::forward<Fn>(fn)));
      return;
    }
    fn();
  }

  void Defer(std::function<void()> fn) {
    t_worker.deferred.push_back([self = shared_from_this(), fn = std::move(fn)]() mutable {
      self->UnlessScriptOwner(std::move(fn));
    });
  }

  void Process() {
    if (closed_) return;
    Clock::Batch batch;  // one clock read for every command of this read
    client_->last_interaction_ms.store(host_.clock().NowMs(), std::memory_order_relaxed);
    if (!proto_ && end_ > begin_) {
      uint8_t first = static_cast<uint8_t>(in_[begin_]);
      for (auto& p : protos_)
        if (p->desc.sniff(first)) {
          Choose(p);
          break;
        }
      if (!proto_) {
        Close();
        return;
      }
    }
    if (proto_ && end_ > begin_ && !client_->block.active && client_->wake_hold == 0) {
      SetCurrentHost(&host_);
      PublishBuffers();  // CLIENT LIST run from this input sees its own bytes, as Redis
      in_protocol_ = true;
      size_t used = proto_->desc.on_bytes(client_->proto_state,
                                          reinterpret_cast<const uint8_t*>(in_.get() + begin_),
                                          end_ - begin_);
      in_protocol_ = false;
      begin_ += std::min(used, end_ - begin_);
      if (begin_ == end_) begin_ = end_ = 0;
      int64_t limit = host_.query_buffer_limit->load(std::memory_order_relaxed);
      if (limit > 0 && static_cast<int64_t>(end_ - begin_) > limit) {
        Logger("host.net")->warn("closing client {}: query buffer over the limit", client_->addr);
        client_->out.clear();
        client_->close_mode = FERRITE_CONN_CLOSE_NOW;
      }
    }
    if (!client_->out.empty() && host_.GroupCommitActive()) {
      // appendfsync always: replies wait for the fsync. Defer it behind the handlers
      // already queued on this worker (the other connections of this epoll round), so
      // one fdatasync covers all of their writes, as Redis does once per event loop.
      if (!flush_pending_) {
        flush_pending_ = true;
        asio::post(sock_.get_executor(), [self = shared_from_this()] {
          self->UnlessScriptOwner([self] {
            self->flush_pending_ = false;
            if (self->closed_) return;
            self->host_.durability_barrier();
            self->AfterOutput();
            self->ResumeInputIfAsked();
          });
        });
      }
    } else {
      if (host_.durability_barrier && !client_->out.empty()) host_.durability_barrier();
      AfterOutput();
    }
    ResumeInputIfAsked();
    ResumeReading();
  }

  // conn_resume: the protocol left input unconsumed and wants it again once what it
  // wrote is on the socket, so a long answer never piles up in memory.
  void ResumeInputIfAsked() {
    if (!resume_pending_ || writing_ || flush_pending_ || closed_) return;
    resume_pending_ = false;
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
      self->UnlessScriptOwner([self] { self->Process(); });
    });
  }

  // Called after anything queued output (commands, pushes, kills).
  void AfterOutput() {
    if (closed_ || handshaking_) return;  // output waits for the handshake
    if (client_->close_mode == FERRITE_CONN_CLOSE_NOW) {
      CloseUnlessParsing();
      return;
    }
    if (flush_pending_) return;  // the deferred durability flush writes it
    // Replies built and not yet sent count against the limits before the socket takes
    // them, as Redis checks its reply list on every reply it adds.
    if (host_.CheckOutputLimits(client_.get())) {
      CloseUnlessParsing();
      return;
    }
    // Held until the clients its command woke are served: the reply waits (Resume).
    if (client_->wake_hold != 0) {
      if (!Evicted()) PublishBuffers();
      return;
    }
    if (!writing_ && !client_->out.empty()) Write();
    else if (!writing_ && client_->close_mode == FERRITE_CONN_CLOSE_AFTER_REPLY) Close();
    if (!closed_ && !Evicted()) PublishBuffers();
  }

  // maxmemory-clients (client_eviction.h): recounts this client with its buffers as they
  // are now, before CLIENT LIST can see them; closes it when it is evicted.
  bool Evicted() {
    uint64_t alloc = in_cap_ + client_->out.capacity() + wbuf_.capacity();
    client_->buffers.state.store(ClientStateBytes(*client_), std::memory_order_relaxed);
    if (!host_.client_eviction().Update(client_.get(), alloc)) return false;
    client_->close_mode = FERRITE_CONN_CLOSE_NOW;
    CloseUnlessParsing();
    return true;
  }

  // NOTE: output can be queued for this client while its protocol is parsing its input
  // (an invalidation delivered to the client whose command runs): closing then would
  // free the protocol's state under it. The close waits for on_bytes to return (Process
  // then sees close_mode NOW).
  void CloseUnlessParsing() {
    if (in_protocol_) client_->close_mode = FERRITE_CONN_CLOSE_NOW;
    else Close();
  }

  // CLIENT LIST's view of this connection (Client::Buffers), refreshed after each read
  // and write: relaxed stores to the client's own line, read by other threads.
  void PublishBuffers() {
    auto& b = client_->buffers;
    constexpr auto kRelaxed = std::memory_order_relaxed;
    const std::string& out = client_->out;
    uint64_t unsent = writing_ ? wbuf_.size() - wofs_ : 0;
    b.qbuf.store(end_ - begin_, kRelaxed);
    b.qbuf_free.store(in_cap_ - end_, kRelaxed);
    b.obl.store(writing_ ? 0 : out.size(), kRelaxed);
    b.oll.store(writing_ ? 1 + !out.empty() : 0, kRelaxed);
    b.omem.store(writing_ ? unsent + out.size() : 0, kRelaxed);
    b.rbs.store(out.capacity(), kRelaxed);
    if (out.size() > b.rbp.load(kRelaxed)) b.rbp.store(out.size(), kRelaxed);
    b.alloc.store(in_cap_ + out.capacity() + wbuf_.capacity(), kRelaxed);
  }

  void Resume() {
    if (closed_) return;
    if (host_.durability_barrier && !client_->out.empty()) host_.durability_barrier();
    AfterOutput();
    // Serve what was pipelined behind the blocking command.
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
      self->UnlessScriptOwner([self] { self->Process(); });
    });
  }

  // Most replies fit in the socket buffer: they are sent now, on this turn. What the
  // kernel does not take waits in wbuf_ for EPOLLOUT (asked for only then).
  void Write() {
    size_t sent = 0;
    if (!Send(client_->out.data(), client_->out.size(), &sent)) return;
    if (sent == client_->out.size()) {
      client_->out.clear();
      if (client_->close_mode == FERRITE_CONN_CLOSE_AFTER_REPLY) Close();
      return;
    }
    writing_ = true;
    wbuf_.swap(client_->out);
    client_->out.clear();
    wofs_ = sent;
    client_->unsent.store(wbuf_.size() - wofs_, std::memory_order_relaxed);
    UpdateWriteInterest();
  }

  // Sends what it can; false (and closed) on a socket error.
  bool Send(const char* p, size_t n, size_t* sent) {
    if (tls_) return SendTls(p, n, sent);
    while (*sent < n) {
      ssize_t r = ::send(fd_, p + *sent, n - *sent, MSG_NOSIGNAL);
      if (r > 0) {
        *sent += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      Close();
      return false;
    }
    host_.stats().net_output_bytes.fetch_add(*sent, std::memory_order_relaxed);
    return true;
  }

  // SSL_write record by record (partial writes on). After WANT_WRITE the rest waits in
  // wbuf_ and Flush passes the same bytes again, as OpenSSL requires.
  bool SendTls(const char* p, size_t n, size_t* sent) {
    write_wants_read_ = false;
    while (*sent < n) {
      size_t k = 0;
      tls::TlsIo st = tls_->Write(p + *sent, n - *sent, &k);
      if (st == tls::TlsIo::kDone) {
        *sent += k;
        continue;
      }
      if (st == tls::TlsIo::kWantWrite) break;
      if (st == tls::TlsIo::kWantRead) {
        write_wants_read_ = true;
        break;
      }
      Close();
      return false;
    }
    host_.stats().net_output_bytes.fetch_add(*sent, std::memory_order_relaxed);
    return true;
  }

  void Flush() {
    size_t sent = 0;
    if (!Send(wbuf_.data() + wofs_, wbuf_.size() - wofs_, &sent)) return;
    // A client reading a long reply slowly is not idle (Redis updates lastinteraction
    // on writes too).
    if (sent > 0) client_->last_interaction_ms.store(host_.clock().NowMs(), std::memory_order_relaxed);
    wofs_ += sent;
    client_->unsent.store(wbuf_.size() - wofs_, std::memory_order_relaxed);
    if (wofs_ < wbuf_.size()) {  // the next EPOLLOUT edge continues
      PublishBuffers();
      return;
    }
    writing_ = false;
    UpdateWriteInterest();
    wbuf_.clear();
    wofs_ = 0;
    if (wbuf_.capacity() > (1u << 20)) wbuf_.shrink_to_fit();
    PublishBuffers();
    AfterOutput();
    ResumeInputIfAsked();
    ResumeReading();
  }

  Host& host_;
  asio::ip::tcp::socket sock_;
  std::vector<std::shared_ptr<Protocol>> protos_;
  std::shared_ptr<Protocol> proto_;
  std::shared_ptr<Client> client_;
  ReadinessSet* readiness_;  // null once detached (shutdown)
  int fd_ = -1;              // ours after Start (released from sock_)
  std::unique_ptr<char[]> in_;  // [begin_, end_) unparsed input; in_cap_ bytes, not zeroed
  size_t in_cap_ = 0;
  size_t begin_ = 0, end_ = 0;
  std::string wbuf_;  // output the kernel did not take yet, from wofs_
  size_t wofs_ = 0;
  bool writing_ = false, closed_ = false;
  bool in_protocol_ = false;  // inside the protocol's on_bytes (CloseUnlessParsing)
  bool read_pending_ = false;  // an edge (or a full buffer) not yet read
  bool reread_posted_ = false;
  bool peer_closed_ = false;  // FIN or error seen: read on until recv returns 0
  bool flush_pending_ = false;  // a group-commit flush is queued
  bool resume_pending_ = false;  // the protocol asked for its input again (conn_resume)
  bool want_write_ = false;     // EPOLLOUT is registered
  // TLS (null tls_: a plain connection).
  TlsAccept tls_accept_;
  std::unique_ptr<tls::TlsStream> tls_;
  std::unique_ptr<asio::steady_timer> handshake_timer_;
  bool handshaking_ = false, handshake_wants_write_ = false;
  bool read_wants_write_ = false, write_wants_read_ = false;
  bool tls_eof_ = false;  // the peer closed after the bytes still being served
};

Server::Server(Host& host) : host_(host) {
  int n = static_cast<int>(host_.config().Int("server.threads"));
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; i++) {
    // NOTE: not concurrency hint 1, although one thread runs each worker. With hint 1
    // (Asio's one_thread_ mode) a post from inside a handler is queued thread-privately
    // and counted as work only when that handler returns; the nested poll of
    // ServeWhileBusy runs such posts early and the work count transiently reaches zero,
    // which stops the io_context for good (the worker thread exits). With the default
    // hint such posts are counted at once; the cost is an uncontended mutex per post.
    workers_.push_back(std::make_unique<asio::io_context>());
    guards_.push_back(asio::make_work_guard(*workers_.back()));
    readiness_.push_back(std::make_unique<ReadinessSet>(*workers_.back()));
  }
  tls_ = tls::TlsContexts::Create(host_.config());
  // Set before Start(), so that a shutdown asked for while the ports are opening is not
  // lost: the posted Stop() runs once Start() has built what it closes and starts the
  // control thread.
  host_.on_shutdown = [this] {
    asio::post(control_, [this] { Stop(); });
  };
}

Server::~Server() {
  host_.config().ClearApply();  // they refer to this server
  Stop();
  Wait();
}

bool Server::IsLoopback(const asio::ip::address& addr) {
  if (addr.is_loopback()) return true;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).is_loopback();
  return false;
}

void Server::Bind(Listener& l, const std::string& addrs, uint16_t port) {
  std::istringstream in(addrs);
  std::string a;
  while (in >> a) {
    // Redis' forms: "*" every IPv4 address, "::*" every IPv6 one, and a leading '-'
    // for an address that may be unavailable (skipped when it cannot be bound).
    bool optional = a.size() > 1 && a[0] == '-';
    std::string text = optional ? a.substr(1) : a;
    if (text == "*") text = "0.0.0.0";
    else if (text == "::*") text = "::";
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(text, ec);
    if (ec) throw std::runtime_error("bad bind address '" + a + "'");
    asio::ip::tcp::endpoint ep(addr, port);
    auto acc = std::make_unique<asio::ip::tcp::acceptor>(control_);
    acc->open(ep.protocol(), ec);
    if (!ec && addr.is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (ec && optional) {
      Logger("host.net")->info("skipped optional address {}:{} ({}): {}", text, port, l.name,
                               ec.message());
      continue;
    }
    if (ec)
      throw std::runtime_error("cannot listen on " + a + ":" + std::to_string(port) + " (" +
                               l.name + "): " + ec.message());
    acc->listen(static_cast<int>(host_.config().Int("server.tcp_backlog")));
    Logger("host.net")->info("listening on {}:{} ({}{})", a, acc->local_endpoint().port(), l.name,
                             l.tls ? ", TLS" : "");
    l.acceptors.push_back(std::move(acc));
  }
}

void Server::BindUnix(Listener& l, const std::string& path, const std::string& perm) {
  ::unlink(path.c_str());  // a socket left by a previous run (Redis does the same)
  asio::local::stream_protocol::endpoint ep(path);
  auto acc = std::make_unique<asio::local::stream_protocol::acceptor>(control_);
  boost::system::error_code ec;
  acc->open(ep.protocol(), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(static_cast<int>(host_.config().Int("server.tcp_backlog")), ec);
  if (ec)
    throw std::runtime_error("cannot listen on unix socket " + path + " (" + l.name +
                             "): " + ec.message());
  auto mode = static_cast<mode_t>(std::stoul(perm, nullptr, 8));  // checked by the config
  if (mode != 0 && ::chmod(path.c_str(), mode) != 0)
    throw std::runtime_error("cannot set the permissions of unix socket " + path + ": " +
                             std::strerror(errno));
  Logger("host.net")->info("listening on unix socket {} ({})", path, l.name);
  l.unix_acceptors.push_back(std::move(acc));
  l.unix_paths.push_back(path);
}

std::unique_ptr<Server::Listener> Server::MakeListener(const std::string& name, bool tls) {
  auto l = std::make_unique<Listener>();
  l->name = name;
  l->tls = tls;
  for (auto& p : host_.registry().Protocols())
    if (p->listener == name) l->protocols.push_back(p);
  return l;
}

void Server::Start() {
  auto main = MakeListener("main", false);
  if (main->protocols.empty())
    throw std::runtime_error("no protocol plugin serves the main listener (is resp loaded?)");
  // port 0 with a TLS port serves RESP over TLS only (as redis-server's `port 0`);
  // without one it binds an ephemeral port (in-process tests read it from ports()).
  auto port = static_cast<uint16_t>(host_.config().Int("server.port"));
  main->port = port;
  main->bind = host_.config().String("server.bind");
  if (port != 0 || host_.config().Int("tls.port") == 0) Bind(*main, main->bind, port);
  if (std::string path = host_.config().String("server.unixsocket"); !path.empty())
    BindUnix(*main, path, host_.config().String("server.unixsocketperm"));
  listeners_.push_back(std::move(main));
  if (host_.config().Bool("compatibility.memcached_protocol")) {
    auto mc = MakeListener("memcached", false);
    if (mc->protocols.empty())
      throw std::runtime_error(
          "[compatibility] memcached_protocol = true but no memcached protocol plugin is loaded");
    mc->db = static_cast<int>(host_.config().Int("compatibility.memcached_db"));
    std::string bind = host_.config().String("compatibility.memcached_bind");
    if (bind.empty()) bind = host_.config().String("server.bind");
    // memcached -s serves the unix socket only (it disables the TCP and UDP ports), so a
    // configured memcached_unixsocket replaces the memcached TCP port rather than adding
    // to it. The RESP listener keeps its port beside server.unixsocket, as redis-server.
    if (std::string path = host_.config().String("compatibility.memcached_unixsocket");
        !path.empty()) {
      BindUnix(*mc, path, host_.config().String("compatibility.memcached_unixsocketperm"));
      Logger("host.net")->info("memcached TCP port not opened: memcached_unixsocket is set "
                               "(as memcached -s)");
    } else {
      mc->port = static_cast<uint16_t>(host_.config().Int("compatibility.memcached_port"));
      mc->bind = bind;
      Bind(*mc, bind, mc->port);
    }
    listeners_.push_back(std::move(mc));
  }
  if (tls_->Needed() && !tls_->Configure())
    throw std::runtime_error("Failed to configure TLS. Check logs for more info.");
  for (const char* port : {"tls.port", "compatibility.memcached_tls_port"})
    if (auto err = SyncTlsListener(port)) throw std::runtime_error(*err);
  RegisterTlsApply();
  RegisterListenApply();
  FitMaxClients();
  for (auto& l : listeners_) {
    for (auto& a : l->acceptors) Accept(*l, *a);
    for (auto& u : l->unix_acceptors) AcceptUnix(*l, *u);
  }
  // SIGINT/SIGTERM are taken by host/signals.cc, which calls Host::RequestShutdown.
  signals_ = std::make_unique<asio::signal_set>(control_, SIGHUP);
  WaitSignal();
  ScheduleCron();
  control_guard_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      asio::make_work_guard(control_));
  threads_.emplace_back([this] {
    SetCurrentHost(&host_);
    control_.run();
  });
  for (size_t i = 0; i < workers_.size(); i++)
    threads_.emplace_back([this, i] {
      SetCurrentHost(&host_);
      t_worker.ioc = workers_[i].get();
      t_worker.readiness = readiness_[i].get();
      workers_[i]->run();
    });
}

// SIGHUP reopens logging.file (logrotate's postrotate sends it) and keeps serving.
// (SIGINT/SIGTERM: host/signals.cc.)
void Server::WaitSignal() {
  signals_->async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    try {
      if (ReopenLogFile()) Logger("host")->info("received SIGHUP, reopened the log file");
      else Logger("host")->info("received SIGHUP (logging to stderr: nothing to reopen)");
    } catch (const std::exception& e) {
      Logger("host")->error("received SIGHUP, cannot reopen the log file: {}", e.what());
    }
    if (!stopped_) WaitSignal();
  });
}

// maxclients must fit in RLIMIT_NOFILE (Redis' adjustOpenFilesLimit at startup): the
// reserve is Redis' 32 plus what the host already holds (listeners, each worker's epoll
// and event descriptors, the log file), so every client up to maxclients gets an fd.
void Server::FitMaxClients() {
  int64_t requested = host_.config().Int("server.max_connections");
  int64_t reserved = kMinReservedFds + std::max<int64_t>(0, OpenFdCount());
  FdLimitResult r = FitClientsToFdLimit(requested, reserved);
  if (r.fatal) throw std::runtime_error(r.warnings.back());
  auto log = Logger("host.net");
  for (const auto& w : r.warnings) log->warn("{}", w);
  if (!r.notice.empty()) log->info("{}", r.notice);
  if (r.maxclients != requested) host_.config().Set("maxclients", std::to_string(r.maxclients));
  // CONFIG SET maxclients: a higher value must fit as well, or is refused with the
  // number that would (Redis' updateMaxclients). The limit raised for it stays.
  host_.config().SetRuntimeCheck(
      "server.max_connections", [reserved](int64_t value, int64_t current) {
        std::optional<std::string> why;
        if (value <= current) return why;
        FdLimitResult fit = FitClientsToFdLimit(value, reserved);
        int64_t can = fit.fatal ? current : fit.maxclients;
        if (can < value)
          why = "The operating system is not able to handle the specified number of "
                "clients, try with " + std::to_string(can);
        return why;
      });
}

// Out of descriptors (EMFILE/ENFILE), the listening socket stays readable and an
// immediate retry would spin: wait, as memcached pauses accepting, and say so at most
// once a second.
void Server::RetryAcceptLater(Listener& l, asio::ip::tcp::acceptor& a,
                              const boost::system::error_code& ec) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_accept_error_log_ >= std::chrono::seconds(1)) {
    last_accept_error_log_ = now;
    Logger("host.net")->warn("Accepting client connection: {}", ec.message());
  }
  auto timer = std::make_shared<asio::steady_timer>(control_, kAcceptBackoff);
  timer->async_wait([this, &l, &a, timer](boost::system::error_code e) {
    if (!e && !stopped_) Accept(l, a);
  });
}

void Server::Accept(Listener& l, asio::ip::tcp::acceptor& a) {
  size_t w = next_worker_++ % workers_.size();
  a.async_accept(*workers_[w], [this, &l, &a, w](boost::system::error_code ec,
                                                  asio::ip::tcp::socket sock) {
    if (ec) {
      if (stopped_ || !a.is_open()) return;  // closed: shutdown, or CONFIG SET tls-port
      if (ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
          ec == asio::error::no_buffer_space || ec == asio::error::no_memory)
        RetryAcceptLater(l, a, ec);
      else
        Accept(l, a);
      return;
    }
    boost::system::error_code e2;
    auto peer = sock.remote_endpoint(e2);
    Serve(l, std::move(sock), w, !e2 && !IsLoopback(peer.address()), "");
    if (!stopped_) Accept(l, a);
  });
}

// A unix-socket client is served exactly as a TCP one once accepted: Connection works
// on the raw descriptor (recv/send through the readiness set), so the accepted socket
// moves into a tcp::socket on the worker only to carry its executor.
void Server::AcceptUnix(Listener& l, asio::local::stream_protocol::acceptor& a) {
  size_t w = next_worker_++ % workers_.size();
  a.async_accept([this, &l, &a, w](boost::system::error_code ec,
                                   asio::local::stream_protocol::socket sock) {
    if (ec) {
      if (!stopped_) AcceptUnix(l, a);
      return;
    }
    boost::system::error_code e2;
    std::string path = a.local_endpoint(e2).path();
    int fd = sock.release(e2);
    asio::ip::tcp::socket tsock(*workers_[w]);
    if (!e2) tsock.assign(asio::ip::tcp::v4(), fd, e2);
    if (e2) {
      if (fd >= 0) ::close(fd);
    } else {
      Serve(l, std::move(tsock), w, false, path);
    }
    if (!stopped_) AcceptUnix(l, a);
  });
}

void Server::Serve(Listener& l, asio::ip::tcp::socket sock, size_t w, bool remote,
                   const std::string& unix_path) {
  boost::system::error_code ec;
  TlsAccept tls;
  if (l.tls) {
    tls.ctx = tls_->server();  // the newest: CONFIG SET tls-cert-file affects new clients
    tls.auth = tls_->auth_clients();
    tls.handshake_timeout_ms = tls_->handshake_timeout_ms();
    if (!tls.ctx) {
      sock.close(ec);
      return;
    }
  }
  if (static_cast<int64_t>(host_.num_clients()) >= host_.config().Int("server.max_connections")) {
    host_.stats().rejected_connections.fetch_add(1);
    const char* msg = l.name == "memcached" ? "ERROR Too many open connections\r\n"
                                             : "-ERR max number of clients reached\r\n";
    // A TLS client has not done its handshake, so nothing can be said to it (Redis,
    // too, just drops it).
    if (!l.tls) asio::write(sock, asio::buffer(msg, strlen(msg)), ec);
    sock.close(ec);
    return;
  }
  if (l.name == "main" && remote && host_.config().Bool("security.protected_mode") &&
      !host_.auth_required) {
    host_.stats().rejected_connections.fetch_add(1);
    if (!l.tls) {
      asio::write(sock, asio::buffer(kDenied, strlen(kDenied)), ec);
      sock.close(ec);
      return;
    }
    tls.reject = kDenied;  // after the handshake, encrypted, as Redis
  }
  auto conn = std::make_shared<Connection>(host_, std::move(sock), l.protocols, l.db,
                                           readiness_[w].get(), unix_path, std::move(tls));
  asio::post(conn->Executor(), [conn] { conn->Start(); });
}

void Server::ScheduleCron() {
  cron_ = std::make_unique<asio::steady_timer>(control_);
  auto arm = std::make_shared<std::function<void()>>();
  // The pending wait owns the chain; the function refers to itself only weakly, so no
  // reference cycle outlives the timer (LeakSanitizer: 72 bytes at exit).
  std::weak_ptr<std::function<void()>> weak = arm;
  *arm = [this, weak] {
    auto arm = weak.lock();
    if (!arm) return;
    int64_t hz = std::max<int64_t>(1, host_.config().Int("server.hz"));
    cron_->expires_after(std::chrono::milliseconds(std::max<int64_t>(10, 1000 / hz / 2)));
    cron_->async_wait([this, arm](boost::system::error_code ec) {
      if (ec || stopped_) return;
      host_.Cron();
      SystemdWatchdogTick();
      (*arm)();
    });
  };
  (*arm)();
}

void Server::Stop() {
  if (stopped_.exchange(true)) return;
  SystemdNotify("STOPPING=1\nSTATUS=Shutting down: closing the listeners");
  host_.shutting_down = true;  // a long-running script checks this and stops
  host_.script_gate().Wake();  // and so do clients of other workers waiting for it
  for (auto& l : listeners_) {
    for (auto& a : l->acceptors) {
      boost::system::error_code ec;
      a->close(ec);
    }
    for (auto& a : l->unix_acceptors) {
      boost::system::error_code ec;
      a->close(ec);
    }
    for (auto& p : l->unix_paths) ::unlink(p.c_str());
  }
  if (cron_) cron_->cancel();
  if (signals_) {
    boost::system::error_code ec;
    signals_->cancel(ec);
  }
  for (auto& g : guards_) g.reset();
  for (auto& w : workers_) w->stop();
  if (control_guard_) control_guard_->reset();
  control_.stop();
}

void Server::Wait() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::vector<uint16_t> Server::ports() const {
  std::vector<uint16_t> r;
  for (auto& l : listeners_)
    for (auto& a : l->acceptors) r.push_back(a->local_endpoint().port());
  return r;
}

// Nested poll_one() on the worker's own io_context, from inside the handler that runs the
// script: Asio's scheduler supports nested poll()/poll_one() on the thread that runs it
// (see the note on the concurrency hint in Server::Server for the one mode where it does
// not count work right), and it runs the reactor with a zero timeout, so sockets that
// became readable meanwhile, new connections' Start() and write completions are all
// served. Chosen over a hand-written read pass because that would miss connections
// accepted after the script started (redis-cli SCRIPT KILL opens a new one) and
// duplicate the read/write paths.
void ServeWhileBusy(const Client* owner) {
  WorkerTls& w = t_worker;
  if (!w.ioc || w.serving || w.ioc->stopped()) return;
  w.serving = true;
  w.owner = owner;
  try {
    // The sockets first: their readiness is no asio handler until the set is polled.
    if (w.readiness) w.readiness->Poll();
    for (int i = 0; i < kMaxHandlersPerYield && w.ioc->poll_one() > 0; i++) {
    }
  } catch (const std::exception& e) {
    Logger("host.net")->error("handler failed while a script yielded: {}", e.what());
  } catch (...) {
    Logger("host.net")->error("handler failed while a script yielded");
  }
  w.serving = false;
  w.owner = nullptr;
  auto deferred = std::move(w.deferred);
  w.deferred.clear();
  for (auto& fn : deferred) asio::post(*w.ioc, std::move(fn));
}

bool ServingWhileBusy() { return t_worker.serving; }

}  // namespace ferrite::host
