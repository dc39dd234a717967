// mcload: a small closed-loop memcached load generator (text or binary protocol).
//
// Each worker thread owns an epoll set and a share of the connections. A connection sends
// a batch of `--pipeline` requests in one write, waits until every reply of that batch has
// arrived, then sends the next batch -- so the server always sees `pipeline` requests in
// flight per connection, as memtier/mc-crusher do. A request is either a get of
// `--multiget` keys (text: `get k1 .. kN`; binary: N x GETKQ + NOOP, as libmemcached
// sends a multi-get) or a set of one `--value-size` value, chosen by `--set-ratio`.
//
// Replies are parsed fully (VALUE blocks are skipped by their length, binary bodies by the
// header) and hits/misses/errors counted, so a server that answers wrongly shows up as
// misses or errors rather than as fast. The keyspace is preloaded before the timed run
// unless --no-preload is given, so with the default get-only mix every get should hit.
//
//   mcload --port 11211 [--proto text|binary] [--conns 50] [--threads 1] [--seconds 5]
//          [--ops N] [--keys 10000] [--key-size 16] [--value-size 100] [--multiget 1]
//          [--pipeline 1] [--set-ratio 0.0] [--no-preload | --preload-only]
//
// Prints one line of key=value pairs (req_per_sec, keys_per_sec, hits, misses, errors...)
// that bench/memcached_bench.py parses. Exit status 1 on connection failure or when
// protocol errors were counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Proto { kText, kBinary };

struct Options {
  std::string host = "127.0.0.1";
  int port = 11211;
  Proto proto = Proto::kText;
  int conns = 50;
  int threads = 1;
  double seconds = 5.0;
  uint64_t ops = 0;  // 0: run for `seconds`
  int keys = 10000;
  int key_size = 16;
  int value_size = 100;
  int multiget = 1;
  int pipeline = 1;
  double set_ratio = 0.0;
  bool preload = true;
  bool preload_only = false;
};

struct Counters {
  uint64_t requests = 0;
  uint64_t keys = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t errors = 0;
};

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "mcload: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Keys are fixed width so every request of a kind has the same size on both servers.
std::string KeyName(const Options& o, int i) {
  std::string k(static_cast<size_t>(o.key_size), '0');
  k[0] = 'k';
  for (int p = o.key_size - 1; p > 0 && i > 0; --p, i /= 10) k[p] = static_cast<char>('0' + i % 10);
  return k;
}

// ---- request encoding -------------------------------------------------------------------

void PutBinHeader(std::string& out, uint8_t opcode, size_t keylen, size_t extlen,
                  size_t bodylen) {
  unsigned char h[24] = {0x80, opcode};
  h[2] = static_cast<unsigned char>(keylen >> 8);
  h[3] = static_cast<unsigned char>(keylen);
  h[4] = static_cast<unsigned char>(extlen);
  uint32_t total = htonl(static_cast<uint32_t>(bodylen));
  std::memcpy(h + 8, &total, 4);
  out.append(reinterpret_cast<char*>(h), sizeof h);
}

void AppendGet(const Options& o, std::string& out, const std::vector<std::string>& keys) {
  if (o.proto == Proto::kText) {
    out += "get";
    for (const auto& k : keys) (out += ' ') += k;
    out += "\r\n";
    return;
  }
  for (const auto& k : keys) {
    PutBinHeader(out, 0x0d /* GETKQ */, k.size(), 0, k.size());
    out += k;
  }
  PutBinHeader(out, 0x0a /* NOOP */, 0, 0, 0);
}

void AppendSet(const Options& o, std::string& out, const std::string& key,
               const std::string& value) {
  if (o.proto == Proto::kText) {
    out += "set ";
    out += key;
    out += " 0 0 ";
    out += std::to_string(value.size());
    out += "\r\n";
    out += value;
    out += "\r\n";
    return;
  }
  PutBinHeader(out, 0x01 /* SET */, key.size(), 8, 8 + key.size() + value.size());
  out.append(8, '\0');  // flags, exptime
  out += key;
  out += value;
}

// ---- reply parsing ----------------------------------------------------------------------

// Consumes complete replies from `in`; returns how many requests they completed.
// A text get completes at END, a binary multi-get at its NOOP.
class ReplyParser {
 public:
  explicit ReplyParser(Proto p) : proto_(p) {}

  int Consume(std::string& in, Counters& c) {
    size_t pos = 0;
    int done = 0;
    for (;;) {
      size_t used = proto_ == Proto::kText ? OneText(in, pos, c, done)
                                           : OneBinary(in, pos, c, done);
      if (used == 0) break;
      pos += used;
    }
    in.erase(0, pos);
    return done;
  }

  // Misses of a text multi-get are the keys asked minus the VALUE blocks seen.
  void ExpectKeys(int n) { expected_ = n; }

 private:
  size_t OneText(const std::string& in, size_t pos, Counters& c, int& done) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return 0;
    std::string_view line(in.data() + pos, eol - pos);
    if (line.substr(0, 6) == "VALUE ") {
      size_t sp = line.rfind(' ');
      size_t bytes = std::strtoull(std::string(line.substr(sp + 1)).c_str(), nullptr, 10);
      size_t need = eol + 2 + bytes + 2;
      if (in.size() < need) return 0;
      ++c.hits;
      ++seen_;
      return need - pos;
    }
    if (line == "END") {
      c.misses += expected_ > seen_ ? expected_ - seen_ : 0;
      seen_ = 0;
      ++done;
    } else if (line == "STORED") {
      ++done;
    } else {
      ++c.errors;
      ++done;
    }
    return eol + 2 - pos;
  }

  size_t OneBinary(const std::string& in, size_t pos, Counters& c, int& done) {
    if (in.size() - pos < 24) return 0;
    const auto* h = reinterpret_cast<const unsigned char*>(in.data() + pos);
    uint32_t body;
    std::memcpy(&body, h + 8, 4);
    size_t need = 24 + ntohl(body);
    if (in.size() - pos < need) return 0;
    uint8_t opcode = h[1];
    uint16_t status = static_cast<uint16_t>(h[6] << 8 | h[7]);
    if (h[0] != 0x81) {
      ++c.errors;
      ++done;
    } else if (opcode == 0x0d) {
      status == 0 ? ++c.hits : ++c.errors;  // GETKQ only answers hits
      ++seen_;
    } else if (opcode == 0x0a) {  // ends a multi-get: the quiet misses are the keys unseen
      c.misses += expected_ > seen_ ? expected_ - seen_ : 0;
      seen_ = 0;
      ++done;
    } else if (opcode == 0x01) {
      if (status != 0) ++c.errors;
      ++done;
    } else {
      ++c.errors;
      ++done;
    }
    return need;
  }

  Proto proto_;
  int expected_ = 0;
  int seen_ = 0;
};

// ---- connections ------------------------------------------------------------------------

int Connect(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &a.sin_addr) != 1) Die("inet_pton");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Die("connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void WriteAll(int fd, const std::string& buf) {
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die("write");
    off += static_cast<size_t>(n);
  }
}

// Reads until `want` requests completed; used for the blocking preload.
void ReadReplies(int fd, ReplyParser& p, std::string& in, Counters& c, int want) {
  char buf[65536];
  while (want > 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die("read");
    in.append(buf, static_cast<size_t>(n));
    want -= p.Consume(in, c);
  }
}

void Preload(const Options& o) {
  int fd = Connect(o);
  ReplyParser parser(o.proto);
  std::string value(static_cast<size_t>(o.value_size), 'x'), out, in;
  Counters c;
  const int kBatch = 200;
  for (int i = 0; i < o.keys; i += kBatch) {
    out.clear();
    int n = std::min(kBatch, o.keys - i);
    for (int j = 0; j < n; ++j) AppendSet(o, out, KeyName(o, i + j), value);
    WriteAll(fd, out);
    ReadReplies(fd, parser, in, c, n);
  }
  ::close(fd);
  if (c.errors) {
    std::fprintf(stderr, "mcload: preload got %llu error replies\n",
                 static_cast<unsigned long long>(c.errors));
    std::exit(1);
  }
}

struct Conn {
  int fd = -1;
  ReplyParser parser{Proto::kText};
  std::string in, out;
  int outstanding = 0;
};

class Worker {
 public:
  Worker(const Options& o, int conns, uint64_t ops, uint64_t seed)
      : o_(o), ops_(ops), rng_(seed | 1), value_(static_cast<size_t>(o.value_size), 'x') {
    ep_ = ::epoll_create1(0);
    if (ep_ < 0) Die("epoll_create1");
    conns_.resize(static_cast<size_t>(conns));
    for (size_t i = 0; i < conns_.size(); ++i) {
      conns_[i].fd = Connect(o);
      conns_[i].parser = ReplyParser(o.proto);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) Die("epoll_ctl");
    }
  }
  ~Worker() {
    for (auto& c : conns_) ::close(c.fd);
    ::close(ep_);
  }

  void Run(Clock::time_point deadline);
  const Counters& counters() const { return c_; }

 private:
  uint64_t Next() {  // xorshift64: cheap, and the client must stay cheaper than the server
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  void SendBatch(Conn& c);
  void OnReadable(Conn& c, bool stopping);

  const Options& o_;
  uint64_t ops_;
  uint64_t sent_ = 0;
  uint64_t rng_;
  std::string value_;
  std::vector<std::string> keys_;
  std::vector<Conn> conns_;
  Counters c_;
  int ep_ = -1;
};

void Worker::SendBatch(Conn& c) {
  c.out.clear();
  for (int r = 0; r < o_.pipeline; ++r) {
    bool is_set = o_.set_ratio > 0 &&
                  static_cast<double>(Next() % 1000000) < o_.set_ratio * 1000000.0;
    if (is_set) {
      AppendSet(o_, c.out, KeyName(o_, static_cast<int>(Next() % o_.keys)), value_);
      c_.keys += 1;
      continue;
    }
    keys_.clear();
    for (int k = 0; k < o_.multiget; ++k)
      keys_.push_back(KeyName(o_, static_cast<int>(Next() % o_.keys)));
    AppendGet(o_, c.out, keys_);
    c_.keys += static_cast<uint64_t>(o_.multiget);
  }
  // Misses are counted per END/NOOP against this number; every get asks the same count.
  c.parser.ExpectKeys(o_.multiget);
  WriteAll(c.fd, c.out);
  c.outstanding = o_.pipeline;
  sent_ += static_cast<uint64_t>(o_.pipeline);
}

void Worker::OnReadable(Conn& c, bool stopping) {
  char buf[65536];
  ssize_t n = ::read(c.fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) Die("read (server closed the connection?)");
  c.in.append(buf, static_cast<size_t>(n));
  int done = c.parser.Consume(c.in, c_);
  c.outstanding -= done;
  c_.requests += static_cast<uint64_t>(done);
  if (c.outstanding == 0 && !stopping && (ops_ == 0 || sent_ < ops_)) SendBatch(c);
}

void Worker::Run(Clock::time_point deadline) {
  for (auto& c : conns_) SendBatch(c);
  epoll_event evs[256];
  bool stopping = false;
  auto hard_stop = deadline + std::chrono::seconds(10);  // bound the drain too
  for (;;) {
    auto now = Clock::now();
    if (now >= deadline || (ops_ && sent_ >= ops_)) stopping = true;
    int busy = 0;
    for (auto& c : conns_) busy += c.outstanding > 0;
    if (stopping && busy == 0) break;
    if (now >= hard_stop) {
      std::fprintf(stderr, "mcload: %d connections still waiting for replies\n", busy);
      c_.errors += static_cast<uint64_t>(busy);
      break;
    }
    int n = ::epoll_wait(ep_, evs, 256, 100);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (int i = 0; i < n; ++i) OnReadable(conns_[evs[i].data.u64], stopping);
  }
}

// ---- main -------------------------------------------------------------------------------

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--host") o.host = val();
    else if (a == "--port") o.port = std::atoi(val());
    else if (a == "--proto") o.proto = std::string(val()) == "binary" ? Proto::kBinary : Proto::kText;
    else if (a == "--conns") o.conns = std::atoi(val());
    else if (a == "--threads") o.threads = std::atoi(val());
    else if (a == "--seconds") o.seconds = std::atof(val());
    else if (a == "--ops") o.ops = std::strtoull(val(), nullptr, 10);
    else if (a == "--keys") o.keys = std::atoi(val());
    else if (a == "--key-size") o.key_size = std::atoi(val());
    else if (a == "--value-size") o.value_size = std::atoi(val());
    else if (a == "--multiget") o.multiget = std::atoi(val());
    else if (a == "--pipeline") o.pipeline = std::atoi(val());
    else if (a == "--set-ratio") o.set_ratio = std::atof(val());
    else if (a == "--no-preload") o.preload = false;
    else if (a == "--preload-only") o.preload_only = true;
    else return false;
  }
  return o.port > 0 && o.conns > 0 && o.threads > 0 && o.keys > 0 && o.key_size >= 2 &&
         o.key_size <= 250 && o.multiget > 0 && o.pipeline > 0 && o.value_size >= 0 &&
         (o.seconds > 0 || o.ops > 0);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::fprintf(stderr, "usage: see the comment at the top of bench/mcload.cc\n");
    return 2;
  }
  if (o.preload || o.preload_only) Preload(o);
  if (o.preload_only) return 0;
  std::vector<Worker*> workers;
  for (int t = 0; t < o.threads; ++t) {
    int conns = o.conns / o.threads + (t < o.conns % o.threads);
    uint64_t ops = o.ops ? o.ops / static_cast<uint64_t>(o.threads) : 0;
    workers.push_back(new Worker(o, conns, ops, 0x9e3779b97f4a7c15ULL * (t + 1)));
  }
  auto t0 = Clock::now();
  auto deadline = o.ops ? t0 + std::chrono::hours(1)
                        : t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (auto* w : workers) threads.emplace_back([w, deadline] { w->Run(deadline); });
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Counters sum;
  for (auto* w : workers) {
    const Counters& c = w->counters();
    sum.requests += c.requests;
    sum.keys += c.keys;
    sum.hits += c.hits;
    sum.misses += c.misses;
    sum.errors += c.errors;
    delete w;
  }
  std::printf(
      "proto=%s conns=%d pipeline=%d multiget=%d set_ratio=%.3f seconds=%.3f requests=%llu "
      "req_per_sec=%.0f keys_per_sec=%.0f hits=%llu misses=%llu errors=%llu\n",
      o.proto == Proto::kText ? "text" : "binary", o.conns, o.pipeline, o.multiget, o.set_ratio,
      secs, static_cast<unsigned long long>(sum.requests), sum.requests / secs, sum.keys / secs,
      static_cast<unsigned long long>(sum.hits), static_cast<unsigned long long>(sum.misses),
      static_cast<unsigned long long>(sum.errors));
  return sum.errors ? 1 : 0;
}
