// Shared by the memcached text and binary plugins (a static library, SDK headers only):
// memcached's number and key rules, the MC.* argv builder, the capturing reply sink that
// turns an MC.* reply into an McReply, and the McBackend seam between a codec and the
// host (the plugins use HostBackend; parser tests use a fake).
//
// The MC.* reply contract is documented in modules/strings/mc_commands.h: an array whose
// first element is a status word (HIT, MISS, STORED, ...) followed by fields.
#pragma once

#include <utility>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::proto::mc {

inline constexpr size_t kKeyMaxLength = 250;
inline constexpr int64_t kDefaultItemSizeMax = int64_t{512} * 1024 * 1024;
// The smallest memcached-item-size-max the host accepts: a value no longer than this
// never needs the (config) lookup.
inline constexpr int64_t kItemSizeMaxFloor = 1024;

// A key memcached accepts: 1..250 bytes, no space or control characters (the text
// protocol cannot carry them; the binary one is held to the same rule so both agree).
bool ValidKey(std::string_view key);

// memcached's safe_strtoul / safe_strtol / safe_strtoull on one whole token: strtoX
// semantics (a leading '+' is fine), nothing after the digits, '-' refused for unsigned.
// safe_strtoul truncates to 32 bits, as memcached's does on 64-bit builds.
bool ParseU32(std::string_view tok, uint32_t* out);
bool ParseI32(std::string_view tok, int32_t* out);
bool ParseU64(std::string_view tok, uint64_t* out);
// The fast path of the three: 1..18 ASCII digits and nothing else (no sign, no blank).
bool PlainDigits(std::string_view tok, uint64_t* out);

enum class McStatus {
  kHit, kMiss, kStored, kNotStored, kExists, kNotFound, kDeleted, kTouched, kNonNumeric,
  kOk, kError, kOther,
  // The command parked the client (MC.GET ... WARM waiting for warm on a miss): the
  // codec drops what it wrote for the request and leaves the request unconsumed; the
  // host feeds it again once the client is woken.
  kBlocked,
};

// One MC.* reply, decoded. Fields are kept without a per-field allocation: integers as
// integers, strings as slices into one arena that keeps its capacity across commands
// (the hot path: a get hit copies its value once, into the arena, and nothing else).
class McReply {
 public:
  McStatus status = McStatus::kOther;
  ferrite_error_code error_code = FERRITE_E_GENERIC;  // when status == kError
  std::string error_text;                            // detail (may be empty)

  void AddInt(int64_t v) { fields_.push_back({v, 0, 0, true}); }
  void AddStr(std::string_view s);
  size_t size() const { return fields_.size(); }  // fields after the status word
  // A string field reads as its decimal value; a missing field as 0.
  int64_t Int(size_t i) const;
  // Valid until the next Clear(). NOTE: an integer field reads as empty (no MC.* reply
  // has a field a reader takes both ways).
  std::string_view Str(size_t i) const;
  void Clear();

 private:
  struct Field {
    int64_t i;
    uint32_t off, len;  // into arena_, for strings
    bool is_int;
  };
  std::vector<Field> fields_;
  std::string arena_;
};

// Capturing sink: fills an McReply from the token stream of one command.
struct McCapture {
  McReply reply;
  int depth_left = -1;  // elements still expected in the top-level array
  bool saw_status = false;
  void Reset();
  static const ferrite_reply_sink* Sink();
};

// argv for api->execute: borrowed slices plus owned number strings. Numbers are
// formatted into an inline buffer (a deque only past it), so building a request's argv
// allocates nothing once the slice vector is warm. Not copyable: slices point into it.
class McArgv {
 public:
  McArgv() = default;
  McArgv(const McArgv&) = delete;
  McArgv& operator=(const McArgv&) = delete;

  McArgv& Add(std::string_view s) {
    v_.push_back({s.data(), s.size()});
    return *this;
  }
  McArgv& Num(int64_t n);
  McArgv& UNum(uint64_t n);
  // Adds n, reusing the client's token `tok` when it already is n's canonical decimal
  // text (the common case: no re-formatting of what was just parsed).
  McArgv& NumFrom(std::string_view tok, int64_t n);
  void Clear() {
    v_.clear();
    nums_used_ = 0;
    if (!owned_.empty()) owned_.clear();
  }
  int argc() const { return static_cast<int>(v_.size()); }
  const ferrite_slice* argv() const { return v_.data(); }
  std::vector<std::string> Strings() const;  // for tests

 private:
  McArgv& Own(const char* s, size_t n);

  std::vector<ferrite_slice> v_;
  char nums_[128];
  size_t nums_used_ = 0;
  std::deque<std::string> owned_;  // stable addresses, when nums_ is full
};

// What a memcached codec needs from the host. One per connection.
class McBackend {
 public:
  virtual ~McBackend() = default;
  // Runs a command; the reply is valid until the next Exec.
  virtual const McReply& Exec(const McArgv& argv) = 0;
  virtual void Write(std::string_view bytes) = 0;
  virtual void Close(bool after_reply) = 0;
  virtual int64_t ItemSizeMax() = 0;
  virtual bool NeedsAuth() = 0;
  virtual bool Authenticate(std::string_view user, std::string_view pass) = 0;
  virtual bool ShutdownAllowed() = 0;
  // Brackets one request for SLOWLOG and MONITOR, which show it in `words` (they must
  // stay valid until EndRequest). EndRequest(false): the request did not run (its data
  // block has not arrived) and is not recorded.
  virtual void BeginRequest(const std::vector<std::string_view>& /*words*/) {}
  // An integer setting by its CONFIG name (enums as their index); 0 when unknown.
  virtual int64_t ConfigInt(const char* /*name*/) { return 0; }
  virtual void EndRequest(bool /*ran*/) {}
  // A host counter (stat_int: get_expired, expired_unfetched, ...); 0 when unknown.
  virtual int64_t StatInt(const char* /*name*/) { return 0; }
  virtual uint64_t ConnId() { return 0; }
  // Asks to be fed the unconsumed input again once the output so far is written
  // (conn_resume). false: not available, so a long answer must be finished at once.
  virtual bool Resume() { return false; }
  // True once since an Exec parked the connection (a client pause held a command back,
  // or a get waits for a key being warmed): the session then drops what the request
  // wrote and leaves the request unconsumed, to read it again once the host wakes it.
  virtual bool TakeBlocked() { return false; }
};

// The real thing: api->execute with the capturing sink, api->conn_write, ...
class HostBackend : public McBackend {
 public:
  HostBackend(const ferrite_host_api* api, ferrite_conn* conn) : api_(api), conn_(conn) {}
  const McReply& Exec(const McArgv& argv) override;
  void Write(std::string_view bytes) override;
  void Close(bool after_reply) override;
  int64_t ItemSizeMax() override;
  bool NeedsAuth() override;
  bool Authenticate(std::string_view user, std::string_view pass) override;
  bool ShutdownAllowed() override;
  void BeginRequest(const std::vector<std::string_view>& words) override;
  int64_t ConfigInt(const char* name) override { return api_->config_int(name); }
  void EndRequest(bool ran) override;
  int64_t StatInt(const char* name) override;
  uint64_t ConnId() override { return api_->conn_id(conn_); }
  bool Resume() override;
  bool TakeBlocked() override { return std::exchange(blocked_, false); }

 private:
  bool blocked_ = false;
  std::vector<ferrite_slice> words_;
  const ferrite_host_api* api_;
  ferrite_conn* conn_;
  McCapture cap_;
};

// memcached's text for a host error, e.g. OOM -> "SERVER_ERROR out of memory storing
// object"; TOO_LARGE -> "SERVER_ERROR object too large for cache".
std::string TextErrorFor(const McReply& r);

// Every `stats` form runs as Redis' INFO does under ACL (its hidden MC.STATS is checked
// as `info`): nullptr when this connection's user may, else the host's refusal (valid
// until the next Exec), which the session answers in its own error form.
const McReply* StatsRefused(McBackend& b);
// `stats` rows (name, value) in memcached's order: process facts (pid, uptime, time,
// version, rusage, threads, connections) from this process and INFO, item counters
// from MC.STATS.
std::vector<std::pair<std::string, std::string>> GeneralStats(McBackend& b);
// `stats settings` rows that have a meaning here, with their true values.
std::vector<std::pair<std::string, std::string>> SettingsStats(McBackend& b);
// The worker threads serving connections (io-threads, 0 = one per core).
int64_t WorkerThreads(McBackend& b);
// memcached's limit_maxbytes: maxmemory, or the machine's memory when there is none.
int64_t LimitMaxBytes(McBackend& b);

inline constexpr const char* kVersion = "1.6.18";

}  // namespace ferrite::proto::mc
