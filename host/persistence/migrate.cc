// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
// [AUTH2 username password] [KEYS key ...] (Redis 7.0's migrateCommand): the keys are
// sent to another server (ferrite or redis-server) as RESTORE commands carrying DUMP
// payloads, and deleted here once the target acknowledged them (unless COPY); the
// deletion is propagated as DEL of those keys.
//
// Like Redis, the transfer is synchronous: the handler holds the keys' shards (Redis
// holds the whole server) for at most `timeout` ms per connect / write / read. Unlike
// Redis, no connection is cached between calls: every MIGRATE connects, AUTHs and
// SELECTs anew, so Redis' one retry over a stale cached socket has no counterpart.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/persistence/dump.h"
#include "host/server_commands.h"

namespace ferrite::host::persist {

namespace {

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

bool Is(const ferrite_slice& s, const char* w) {
  return s.len == strlen(w) && strncasecmp(s.ptr, w, s.len) == 0;
}

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

const ferrite_host_api& Api() { return *HostApi(); }

// A blocking exchange with the target, every step bounded by the timeout.
class Link {
 public:
  explicit Link(int64_t timeout_ms) : timeout_(static_cast<int>(timeout_ms)) {}
  ~Link() {
    if (fd_ >= 0) close(fd_);
  }

  bool Connect(const std::string& host, const std::string& port) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return false;
    for (addrinfo* a = res; a && fd_ < 0; a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      int rc = connect(fd, a->ai_addr, a->ai_addrlen);
      // As Redis' blocking connect: a socket that becomes writable counts as connected
      // even if the attempt failed (refused): the error then shows when writing.
      if (rc != 0 && errno == EINPROGRESS && WaitAny(fd, POLLOUT)) rc = 0;
      if (rc == 0) fd_ = fd;
      else close(fd);
    }
    freeaddrinfo(res);
    return fd_ >= 0;
  }

  bool WriteAll(std::string_view data) {
    size_t pos = 0;
    while (pos < data.size()) {
      ssize_t n = send(fd_, data.data() + pos, data.size() - pos, MSG_NOSIGNAL);
      if (n > 0) {
        pos += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!Wait(fd_, POLLOUT)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  // One reply line without its CRLF (the target answers AUTH, SELECT and RESTORE with
  // a status or an error line).
  bool ReadLine(std::string* line) {
    for (;;) {
      size_t eol = in_.find("\r\n");
      if (eol != std::string::npos) {
        *line = in_.substr(0, eol);
        in_.erase(0, eol + 2);
        return true;
      }
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!Wait(fd_, POLLIN)) return false;
      } else {
        return false;
      }
    }
  }

 private:
  // Ready or failed before the timeout.
  bool WaitAny(int fd, short events) {
    pollfd p{fd, events, 0};
    int rc;
    do {
      rc = poll(&p, 1, timeout_);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
  }

  bool Wait(int fd, short events) {
    pollfd p{fd, events, 0};
    int rc;
    do {
      rc = poll(&p, 1, timeout_);
    } while (rc < 0 && errno == EINTR);
    return rc > 0 && !(p.revents & (POLLERR | POLLNVAL));
  }

  int fd_ = -1;
  int timeout_;
  std::string in_;
};

void Bulk(std::string* out, std::string_view s) {
  *out += "$" + std::to_string(s.size()) + "\r\n";
  out->append(s);
  *out += "\r\n";
}

void Command(std::string* out, std::initializer_list<std::string_view> args) {
  *out += "*" + std::to_string(args.size()) + "\r\n";
  for (auto a : args) Bulk(out, a);
}

struct MigrateOptions {
  bool copy = false, replace = false;
  std::optional<std::string_view> user, password;
  int first_key = 3, num_keys = 1;
};

bool ParseMigrateOptions(ferrite_ctx* c, int argc, const ferrite_slice* argv, MigrateOptions* o) {
  for (int j = 6; j < argc; j++) {
    const int more = argc - 1 - j;
    if (Is(argv[j], "copy")) {
      o->copy = true;
    } else if (Is(argv[j], "replace")) {
      o->replace = true;
    } else if (Is(argv[j], "auth")) {
      if (!more) return Error(c, "", FERRITE_E_SYNTAX), false;
      o->password = SV(argv[++j]);
    } else if (Is(argv[j], "auth2")) {
      if (more < 2) return Error(c, "", FERRITE_E_SYNTAX), false;
      o->user = SV(argv[++j]);
      o->password = SV(argv[++j]);
    } else if (Is(argv[j], "keys")) {
      if (argv[3].len != 0) {
        return Error(c, "ERR When using MIGRATE KEYS option, the key argument must be set to "
                        "the empty string"),
               false;
      }
      o->first_key = j + 1;
      o->num_keys = argc - j - 1;
      break;
    } else {
      return Error(c, "", FERRITE_E_SYNTAX), false;
    }
  }
  return true;
}

int CmdMigrate(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  MigrateOptions o;
  if (!ParseMigrateOptions(c, argc, argv, &o)) return FERRITE_OK;
  int64_t timeout = 0, dbid = 0;
  if (!sdk::ParseInt64(SV(argv[5]), &timeout) || !sdk::ParseInt64(SV(argv[4]), &dbid))
    return Error(c, "", FERRITE_E_NOT_INTEGER);
  if (timeout <= 0) timeout = 1000;

  struct Item {
    ferrite_slice name;
    ferrite_key* k;
  };
  std::vector<Item> items;
  for (int j = 0; j < o.num_keys; j++) {
    ferrite_key* k = Api().open_key(c, argv[o.first_key + j], FERRITE_KEY_WRITE);
    if (k->e) items.push_back({argv[o.first_key + j], k});
  }
  if (items.empty()) {
    c->sink->simple(c->st, "NOKEY", 5);
    return FERRITE_OK;
  }

  Link link(timeout);
  if (!link.Connect(std::string(SV(argv[1])), std::string(SV(argv[2]))))
    return Error(c, "IOERR error or timeout connecting to the client");

  std::string out;
  if (o.password) {
    if (o.user) Command(&out, {"AUTH", *o.user, *o.password});
    else Command(&out, {"AUTH", *o.password});
  }
  Command(&out, {"SELECT", std::to_string(dbid)});
  const int64_t now = c->host->clock().NowMs();
  const bool compress = c->host->config().Bool("persistence.rdbcompression");
  std::vector<Item> sent;
  for (Item& it : items) {
    int64_t ttl = 0, at = Api().key_get_expire(it.k);
    if (at != -1) {
      ttl = at - now;
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    std::string payload = DumpPayload(*it.k->e, compress);
    std::string ttl_text = std::to_string(ttl);
    if (o.replace) Command(&out, {"RESTORE", SV(it.name), ttl_text, payload, "REPLACE"});
    else Command(&out, {"RESTORE", SV(it.name), ttl_text, payload});
    sent.push_back(it);
  }
  if (!link.WriteAll(out)) return Error(c, "IOERR error or timeout writing to target instance");

  std::string auth_reply, select_reply;
  if (o.password && !link.ReadLine(&auth_reply))
    return Error(c, "IOERR error or timeout reading to target instance");
  if (!link.ReadLine(&select_reply))
    return Error(c, "IOERR error or timeout reading to target instance");

  bool error_from_target = false, socket_error = false;
  std::vector<ferrite_slice> del = {{"DEL", 3}};
  for (Item& it : sent) {
    std::string line;
    if (!link.ReadLine(&line)) {
      socket_error = true;
      break;
    }
    const bool auth_err = o.password && !auth_reply.empty() && auth_reply[0] == '-';
    const bool select_err = !select_reply.empty() && select_reply[0] == '-';
    if (auth_err || select_err || (!line.empty() && line[0] == '-')) {
      if (!error_from_target) {
        const std::string& e = auth_err ? auth_reply : select_err ? select_reply : line;
        error_from_target = true;
        Error(c, "ERR Target instance replied with error: " + e.substr(1));
      }
    } else if (!o.copy) {
      Api().key_delete(it.k);
      Api().notify(c, FERRITE_NOTIFY_GENERIC, "del", it.name);
      del.push_back(it.name);
    }
  }
  // Replicas and the AOF see the keys the target acknowledged being deleted.
  if (del.size() > 1) Api().propagate(c, static_cast<int>(del.size()), del.data());
  if (error_from_target) return FERRITE_OK;
  if (socket_error) return Error(c, "IOERR error or timeout reading to target instance");
  c->sink->simple(c->st, "OK", 2);
  return FERRITE_OK;
}

// Redis' migrateGetKeys: argument 3, or the keys after KEYS.
int MigrateGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  int first = 3, num = 1;
  for (int i = 6; i < argc; i++) {
    if (Is(argv[i], "keys")) {
      if (argv[3].len > 0) {
        num = 0;  // a syntax error the handler reports
      } else {
        first = i + 1;
        num = argc - first;
      }
      break;
    }
    if (Is(argv[i], "auth")) i += 1;
    else if (Is(argv[i], "auth2")) i += 2;
  }
  for (int i = 0; i < num && i < cap; i++) out[i] = first + i;
  return num;
}

}  // namespace

void RegisterMigrateCommand(Host* h) {
  using namespace sdk::flags;
  AddHostCommand(h, "MIGRATE", -6, WRITE, 3, 3, 1, CmdMigrate, "generic",
                 "Atomically transfer keys to another server", {}, MigrateGetKeys);
}

}  // namespace ferrite::host::persist
