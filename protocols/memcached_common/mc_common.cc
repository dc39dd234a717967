#include "mc_common.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <thread>

#include "ferrite/errors.h"

namespace ferrite::proto::mc {

bool ValidKey(std::string_view key) {
  if (key.empty() || key.size() > kKeyMaxLength) return false;
  for (unsigned char c : key) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

namespace {

// Tokens are short; copy to get the NUL that strtoX needs.
bool CopyToken(std::string_view tok, char* buf, size_t cap) {
  if (tok.empty() || tok.size() >= cap) return false;
  memcpy(buf, tok.data(), tok.size());
  buf[tok.size()] = '\0';
  return true;
}

}  // namespace

bool PlainDigits(std::string_view tok, uint64_t* out) {
  if (tok.empty() || tok.size() > 18) return false;  // 18 digits cannot overflow
  uint64_t v = 0;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ParseU32(std::string_view tok, uint32_t* out) {
  uint64_t v;
  if (PlainDigits(tok, &v)) {
    *out = static_cast<uint32_t>(v);  // strtoul's value, truncated like memcached's
    return true;
  }
  char buf[64];
  if (!CopyToken(tok, buf, sizeof buf)) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long l = strtoul(buf, &end, 10);
  if (errno == ERANGE || end == buf || *end != '\0') return false;
  if (static_cast<long>(l) < 0 && strchr(buf, '-') != nullptr) return false;
  *out = static_cast<uint32_t>(l);
  return true;
}

bool ParseI32(std::string_view tok, int32_t* out) {
  uint64_t v;
  if (PlainDigits(tok, &v)) {
    if (v > INT_MAX) return false;
    *out = static_cast<int32_t>(v);
    return true;
  }
  char buf[64];
  if (!CopyToken(tok, buf, sizeof buf)) return false;
  char* end = nullptr;
  errno = 0;
  long l = strtol(buf, &end, 10);
  if (errno == ERANGE || end == buf || *end != '\0') return false;
  if (l > INT_MAX || l < INT_MIN) return false;
  *out = static_cast<int32_t>(l);
  return true;
}

bool ParseU64(std::string_view tok, uint64_t* out) {
  if (PlainDigits(tok, out)) return true;
  char buf[64];
  if (!CopyToken(tok, buf, sizeof buf)) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long l = strtoull(buf, &end, 10);
  if (errno == ERANGE || end == buf || *end != '\0') return false;
  if (static_cast<long long>(l) < 0 && strchr(buf, '-') != nullptr) return false;
  *out = l;
  return true;
}

// ---------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------

void McReply::AddStr(std::string_view s) {
  fields_.push_back({0, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(s.size()),
                     false});
  arena_.append(s);
}

int64_t McReply::Int(size_t i) const {
  if (i >= fields_.size()) return 0;
  if (fields_[i].is_int) return fields_[i].i;
  char buf[32];
  std::string_view s = Str(i);
  if (s.size() >= sizeof buf) return 0;
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  return strtoll(buf, nullptr, 10);
}

std::string_view McReply::Str(size_t i) const {
  if (i >= fields_.size() || fields_[i].is_int) return {};
  return std::string_view(arena_).substr(fields_[i].off, fields_[i].len);
}

void McReply::Clear() {
  status = McStatus::kOther;
  error_code = FERRITE_E_GENERIC;
  error_text.clear();
  fields_.clear();
  arena_.clear();  // keeps its capacity: no allocation per command once warm
}

void McCapture::Reset() {
  reply.Clear();
  depth_left = -1;
  saw_status = false;
}

namespace {

McStatus StatusFromWord(std::string_view w) {
  static const std::pair<std::string_view, McStatus> kWords[] = {
      {"HIT", McStatus::kHit},           {"MISS", McStatus::kMiss},
      {"STORED", McStatus::kStored},     {"NOT_STORED", McStatus::kNotStored},
      {"EXISTS", McStatus::kExists},     {"NOT_FOUND", McStatus::kNotFound},
      {"DELETED", McStatus::kDeleted},   {"TOUCHED", McStatus::kTouched},
      {"NON_NUMERIC", McStatus::kNonNumeric}, {"OK", McStatus::kOk}};
  for (auto& [word, st] : kWords) {
    if (w == word) return st;
  }
  return McStatus::kOther;
}

McCapture* C(void* st) { return static_cast<McCapture*>(st); }

void PushStr(void* st, const char* s, size_t len) { C(st)->reply.AddStr({s, len}); }

void OnSimple(void* st, const char* s, size_t len) {
  McCapture* c = C(st);
  if (c->depth_left >= 0 && !c->saw_status) {
    c->saw_status = true;
    c->reply.status = StatusFromWord({s, len});
    return;
  }
  PushStr(st, s, len);
}

void OnError(void* st, ferrite_error_code code, const char* detail, size_t len) {
  McCapture* c = C(st);
  c->reply.status = McStatus::kError;
  c->reply.error_code = code;
  c->reply.error_text.assign(detail ? detail : "", detail ? len : 0);
}

void OnInt(void* st, int64_t v) { C(st)->reply.AddInt(v); }

void OnDouble(void* st, double v) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "%.17g", v);
  PushStr(st, buf, static_cast<size_t>(n));
}

void OnNull(void* st) { PushStr(st, "", 0); }
void OnAggregate(void* st, size_t n) {
  McCapture* c = C(st);
  if (c->depth_left < 0 && !c->saw_status) c->depth_left = static_cast<int>(n);
}
void OnBool(void* st, int v) { OnInt(st, v); }
void OnVerbatim(void* st, const char*, const char* s, size_t len) { PushStr(st, s, len); }

}  // namespace

const ferrite_reply_sink* McCapture::Sink() {
  static const ferrite_reply_sink sink = {
      sizeof(ferrite_reply_sink), OnSimple,    OnError,     OnInt,      OnDouble,
      PushStr,                    OnNull,      OnNull,      OnAggregate, OnAggregate,
      OnAggregate,                OnAggregate, OnBool,      OnVerbatim, PushStr,
      OnAggregate, nullptr};  // no double_text: the host sends OnDouble the value
  return &sink;
}

McArgv& McArgv::Own(const char* s, size_t n) {
  if (nums_used_ + n <= sizeof nums_) {
    char* p = nums_ + nums_used_;
    memcpy(p, s, n);
    nums_used_ += n;
    return Add({p, n});
  }
  owned_.emplace_back(s, n);
  return Add(owned_.back());
}

McArgv& McArgv::Num(int64_t n) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  return Own(buf, static_cast<size_t>(end - buf));
}

McArgv& McArgv::UNum(uint64_t n) {
  char buf[24];
  char* end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  return Own(buf, static_cast<size_t>(end - buf));
}

McArgv& McArgv::NumFrom(std::string_view tok, int64_t n) {
  uint64_t v;
  bool canonical = n >= 0 && PlainDigits(tok, &v) && v == static_cast<uint64_t>(n) &&
                   (tok.size() == 1 || tok[0] != '0');
  return canonical ? Add(tok) : Num(n);
}

std::vector<std::string> McArgv::Strings() const {
  std::vector<std::string> out;
  for (auto& s : v_) out.emplace_back(s.ptr, s.len);
  return out;
}

// ---------------------------------------------------------------------------------------
// Host backend
// ---------------------------------------------------------------------------------------

const McReply& HostBackend::Exec(const McArgv& argv) {
  cap_.Reset();
  if (api_->execute(conn_, argv.argc(), argv.argv(), McCapture::Sink(), &cap_) ==
      FERRITE_EXEC_BLOCKED) {
    cap_.reply.status = McStatus::kBlocked;
    blocked_ = true;
  }
  return cap_.reply;
}

void HostBackend::BeginRequest(const std::vector<std::string_view>& words) {
  if (!FERRITE_HAS_API(api_, conn_request) || words.empty()) return;
  words_.clear();
  for (auto w : words) words_.push_back({w.data(), w.size()});
  api_->conn_request(conn_, static_cast<int>(words_.size()), words_.data());
}

void HostBackend::EndRequest(bool ran) {
  if (!FERRITE_HAS_API(api_, conn_request) || words_.empty()) return;
  // Not run: begin again later with the same words; nothing is recorded meanwhile, as
  // the host drops a request that is begun again.
  if (ran) api_->conn_request(conn_, 0, nullptr);
  else api_->conn_request(conn_, -1, nullptr);
  words_.clear();
}

void HostBackend::Write(std::string_view bytes) {
  if (!bytes.empty()) api_->conn_write(conn_, bytes.data(), bytes.size());
}

void HostBackend::Close(bool after_reply) {
  api_->conn_close(conn_, after_reply ? FERRITE_CONN_CLOSE_AFTER_REPLY : FERRITE_CONN_CLOSE_NOW);
}

int64_t HostBackend::ItemSizeMax() {
  int64_t v = api_->config_int("memcached-item-size-max");
  return v > 0 ? v : kDefaultItemSizeMax;
}

int64_t HostBackend::StatInt(const char* name) {
  return FERRITE_HAS_API(api_, stat_int) ? api_->stat_int(name) : 0;
}

bool HostBackend::Resume() {
  if (!FERRITE_HAS_API(api_, conn_resume)) return false;
  return api_->conn_resume(conn_) == FERRITE_OK;
}

bool HostBackend::NeedsAuth() { return api_->conn_needs_auth(conn_) != 0; }

bool HostBackend::Authenticate(std::string_view user, std::string_view pass) {
  return api_->conn_authenticate(conn_, {user.data(), user.size()},
                                 {pass.data(), pass.size()}) == FERRITE_OK;
}

bool HostBackend::ShutdownAllowed() {
  return api_->config_int("memcached-allow-shutdown") == 1;
}

std::string TextErrorFor(const McReply& r) {
  switch (r.error_code) {
    case FERRITE_E_OOM: return "SERVER_ERROR out of memory storing object";
    case FERRITE_E_TOO_LARGE: return "SERVER_ERROR object too large for cache";
    case FERRITE_E_NOAUTH: return "CLIENT_ERROR unauthenticated";
    default: break;
  }
  char buf[512];
  size_t n = ferrite_error_format(r.error_code, r.error_text.data(), r.error_text.size(), buf,
                                  sizeof buf);
  return "SERVER_ERROR " + std::string(buf, n);
}

// ---------------------------------------------------------------------------------------
// stats
// ---------------------------------------------------------------------------------------

namespace {

std::map<std::string, std::string, std::less<>> ParseInfo(std::string_view text) {
  std::map<std::string, std::string, std::less<>> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string_view::npos) continue;
    out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return out;
}

std::string Rusage(const timeval& tv) {
  char buf[64];
  snprintf(buf, sizeof buf, "%ld.%06ld", static_cast<long>(tv.tv_sec),
           static_cast<long>(tv.tv_usec));
  return buf;
}

const time_t kLoadTime = time(nullptr);

}  // namespace

const McReply* StatsRefused(McBackend& b) {
  McArgv st;
  st.Add("MC.STATS");
  const McReply& r = b.Exec(st);
  return r.status == McStatus::kError ? &r : nullptr;
}

std::vector<std::pair<std::string, std::string>> GeneralStats(McBackend& b) {
  McArgv info;
  info.Add("INFO");
  const McReply& ir = b.Exec(info);
  auto kv = ParseInfo(ir.status == McStatus::kError ? std::string_view() : ir.Str(0));
  auto get = [&](std::string_view k, std::string def) {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  };
  time_t now = time(nullptr);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"pid", std::to_string(getpid())},
      {"uptime", get("uptime_in_seconds", std::to_string(now - kLoadTime))},
      {"time", std::to_string(now)},
      {"version", kVersion},
      {"libevent", "none"},
      {"pointer_size", std::to_string(sizeof(void*) * 8)},
      {"rusage_user", Rusage(ru.ru_utime)},
      {"rusage_system", Rusage(ru.ru_stime)},
      {"max_connections", get("maxclients", "10000")},
      {"curr_connections", get("connected_clients", "0")},
      {"total_connections", get("total_connections_received", "0")},
      {"rejected_connections", get("rejected_connections", "0")},
  };
  McArgv st;
  st.Add("MC.STATS");
  const McReply& sr = b.Exec(st);
  std::string curr_items = "0", total_items = "0";
  if (sr.status == McStatus::kOk) {
    for (size_t i = 0; i + 1 < sr.size(); i += 2) {
      std::string_view name = sr.Str(i);
      if (name == "curr_items") {
        curr_items = std::string(sr.Str(i + 1));
      } else if (name == "total_items") {
        total_items = std::string(sr.Str(i + 1));
      } else {
        rows.emplace_back(std::string(name), std::string(sr.Str(i + 1)));
      }
      if (name == "get_misses") {  // memcached's place for these two
        rows.emplace_back("get_expired", std::to_string(b.StatInt("get_expired")));
        // flush_all removes items at once (or bounds their TTL): a get never finds one
        // it invalidated, so nothing is ever counted here.
        rows.emplace_back("get_flushed", "0");
      }
    }
  }
  auto stat = [&](const char* name) { return std::to_string(b.StatInt(name)); };
  rows.emplace_back("bytes_read", get("total_net_input_bytes", "0"));
  rows.emplace_back("bytes_written", get("total_net_output_bytes", "0"));
  rows.emplace_back("limit_maxbytes", std::to_string(LimitMaxBytes(b)));
  rows.emplace_back("threads", std::to_string(WorkerThreads(b)));
  rows.emplace_back("bytes", get("used_memory", "0"));
  rows.emplace_back("curr_items", curr_items);
  rows.emplace_back("total_items", total_items);
  rows.emplace_back("expired_unfetched", stat("expired_unfetched"));
  rows.emplace_back("evicted_unfetched", stat("evicted_unfetched"));
  rows.emplace_back("evictions", get("evicted_keys", "0"));
  rows.emplace_back("reclaimed", stat("reclaimed"));
  rows.emplace_back("crawler_reclaimed", stat("crawler_reclaimed"));
  return rows;
}

int64_t WorkerThreads(McBackend& b) {
  int64_t n = b.ConfigInt("io-threads");
  return n > 0 ? n : std::max<int64_t>(1, std::thread::hardware_concurrency());
}

int64_t LimitMaxBytes(McBackend& b) {
  int64_t max = b.ConfigInt("maxmemory");
  if (max > 0) return max;
  return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

std::vector<std::pair<std::string, std::string>> SettingsStats(McBackend& b) {
  constexpr int64_t kNoEvictionIndex = 7;  // maxmemory-policy's enum order (host/config.h)
  // In memcached's order (a subset: what has a meaning here).
  return {{"maxbytes", std::to_string(LimitMaxBytes(b))},
          {"maxconns", std::to_string(b.ConfigInt("maxclients"))},
          {"tcpport", std::to_string(b.ConfigInt("memcached-port"))},
          {"evictions", b.ConfigInt("maxmemory-policy") == kNoEvictionIndex ? "off" : "on"},
          {"shutdown_command", b.ShutdownAllowed() ? "yes" : "no"},
          {"num_threads", std::to_string(WorkerThreads(b))},
          {"cas_enabled", "yes"},
          {"binding_protocol", "auto-negotiate"},
          {"item_size_max", std::to_string(b.ItemSizeMax())},
          {"idle_timeout", std::to_string(b.ConfigInt("memcached-idle-timeout"))}};
}

}  // namespace ferrite::proto::mc
