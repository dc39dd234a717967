// Header-only C++ convenience layer over ferrite/module.h.
//
// Nothing here crosses the ABI: it only wraps the C table so handlers read short.
//   - ferrite::sdk::Api()          the host table, set once by FERRITE_DEFINE_PLUGIN
//   - Ctx                          reply helpers and key access for one command call
//   - Key                          RAII key handle
//   - Args                         argument parser that latches the first error
//   - Parse*/Format*               Redis' number rules (string2ll, strtod, %.17g)
//   - CommandTable / RegisterAll   the aligned table at the bottom of each module
//   - Guarded<Fn>                  exception barrier around every entry point
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/errors.h"
#include "ferrite/module.h"

namespace ferrite::sdk {

// One table per process: every host in a process hands plugins the same table, so a
// plugin may keep the pointer (module *state* is per plugin handle, see Ctx::State()).
inline const ferrite_host_api*& ApiSlot() {
  static const ferrite_host_api* api = nullptr;
  return api;
}
inline const ferrite_host_api& Api() { return *ApiSlot(); }

inline std::string_view SV(ferrite_slice s) { return {s.ptr, s.len}; }
inline ferrite_slice SL(std::string_view s) { return {s.data(), s.size()}; }

// ---------------------------------------------------------------------------------------
// Number parsing and formatting with Redis' exact rules.
// ---------------------------------------------------------------------------------------

// Redis string2ll: optional '-', digits, no leading zeros (except "0"), no spaces,
// no '+', fits in int64.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0') {
    if (s.size() == i + 1 && !neg) {
      *out = 0;
      return true;
    }
    return false;
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

inline bool ParseUint64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Redis string2d / getDoubleFromObject: strtod over the whole string, no leading
// space, NaN rejected; "inf", "+inf", "-inf" accepted.
inline bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s.size() > 5000) return false;
  if (isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v = strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size()) return false;
  if (std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) return false;
  *out = v;
  return true;
}

// Redis' reply form of a double (7.0 addReplyDouble → d2string: "%.17g", inf/-inf,
// integral values inside ±2^53 printed without exponent).
inline std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[128];
  double min = -4503599627370495.0, max = 4503599627370496.0;  // (1<<52)
  if (v > min && v < max && v == static_cast<double>(static_cast<long long>(v))) {
    int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
    if (v == 0 && std::signbit(v)) return "-0";
    return std::string(buf, n);
  }
  int n = snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, n);
}

// Redis' INCRBYFLOAT / HINCRBYFLOAT form (ld2string LD_STR_HUMAN): fixed notation with
// 17 digits after the point, trailing zeros (and a bare point) removed.
inline std::string FormatLongDouble(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5200];
  int n = snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n <= 0 || n >= static_cast<int>(sizeof(buf))) return "0";
  std::string s(buf, n);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Redis stringmatchlen: glob with * ? [a-z] [^x] and \ escapes; nocase optional.
// Redis' quirks are kept: an empty string matches only the empty pattern (even "*"
// does not match it); an unterminated [set runs to the end of the pattern; inside a
// set, ranges compare case-folded after ordering the ends, escapes compare exactly.
inline bool GlobMatch(std::string_view pat, std::string_view str, bool nocase = false) {
  if (str.empty()) return pat.empty();
  size_t p = 0, s = 0;
  auto lower = [&](char c) {
    return nocase && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  };
  // Iterative with backtracking for '*' (same answers as Redis' recursive version).
  size_t star_p = std::string_view::npos, star_s = 0;
  while (s < str.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        while (p + 1 < pat.size() && pat[p + 1] == '*') p++;
        star_p = p++;
        star_s = s;
        continue;
      }
      if (pc == '?') {
        p++;
        s++;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        bool negate = false;
        if (q < pat.size() && pat[q] == '^') {
          negate = true;
          q++;
        }
        bool match = false;
        while (q < pat.size() && pat[q] != ']') {
          if (pat[q] == '\\' && q + 1 < pat.size()) {
            q++;
            if (pat[q] == str[s]) match = true;
            q++;
          } else if (q + 2 < pat.size() && pat[q + 1] == '-') {
            char a = pat[q], b = pat[q + 2];
            if (a > b) std::swap(a, b);
            a = lower(a), b = lower(b);
            char c = lower(str[s]);
            if (c >= a && c <= b) match = true;
            q += 3;
          } else {
            if (lower(pat[q]) == lower(str[s])) match = true;
            q++;
          }
        }
        if (negate) match = !match;
        if (match) {
          p = q < pat.size() ? q + 1 : q;
          s++;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pat.size()) {
          if (lower(pat[p + 1]) == lower(str[s])) {
            p += 2;
            s++;
            continue;
          }
        } else if (lower(pc) == lower(str[s])) {
          p++;
          s++;
          continue;
        }
      }
    }
    if (star_p != std::string_view::npos) {
      p = star_p + 1;
      s = ++star_s;
      continue;
    }
    return false;
  }
  while (p < pat.size() && pat[p] == '*') p++;
  return p == pat.size();
}

// ---------------------------------------------------------------------------------------
// Keys and contexts
// ---------------------------------------------------------------------------------------

class Key {
 public:
  Key() = default;
  explicit Key(ferrite_key* k) : k_(k) {}
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  Key(Key&& o) noexcept : k_(o.k_) { o.k_ = nullptr; }
  Key& operator=(Key&& o) noexcept {
    if (this != &o) {
      Close();
      k_ = o.k_;
      o.k_ = nullptr;
    }
    return *this;
  }
  ~Key() { Close(); }

  void Close() {
    if (k_) Api().close_key(k_);
    k_ = nullptr;
  }
  ferrite_key* get() const { return k_; }
  bool Exists() const { return Api().key_exists(k_); }
  const ferrite_type* Type() const { return Api().key_type(k_); }
  bool IsString() const { return Type() == Api().string_type(); }
  bool Is(const ferrite_type* t) const { return Type() == t; }
  std::optional<std::string_view> String() const {
    ferrite_slice s;
    if (Api().key_string_get(k_, &s) != FERRITE_OK) return std::nullopt;
    return SV(s);
  }
  void SetString(std::string_view v) { Api().key_string_set(k_, v.data(), v.size()); }
  char* Resize(size_t n) { return Api().key_string_resize(k_, n); }
  template <class T>
  T* Value() const {
    return static_cast<T*>(Api().key_value(k_));
  }
  void SetValue(const ferrite_type* t, void* v) { Api().key_set_value(k_, t, v); }
  bool Delete() { return Api().key_delete(k_); }
  int64_t Expire() const { return Api().key_get_expire(k_); }
  void SetExpire(int64_t abs_ms) { Api().key_set_expire(k_, abs_ms); }
  uint32_t Flags() const { return Api().key_get_flags(k_); }
  void SetFlags(uint32_t f) { Api().key_set_flags(k_, f); }
  uint64_t Version() const { return Api().key_version(k_); }
  // memcached item bits (FERRITE_MC_*, ABI 1.10; 0 on an older host, where setting them
  // or the version is a no-op).
  uint32_t McBits() const {
    return FERRITE_HAS_API(&Api(), key_get_mc_bits) ? Api().key_get_mc_bits(k_) : 0;
  }
  void SetMcBits(uint32_t b) {
    if (FERRITE_HAS_API(&Api(), key_set_mc_bits)) Api().key_set_mc_bits(k_, b);
  }
  void SetVersion(uint64_t v) {
    if (FERRITE_HAS_API(&Api(), key_set_version)) Api().key_set_version(k_, v);
  }
  void Modified(uint32_t type_class, const char* event) {
    Api().key_modified(k_, type_class, event);
  }
  // An in-place change that is not a write (see key_resized): recount the value's size.
  void Resized() { Api().key_resized(k_); }
  std::string_view Name() const { return SV(Api().key_name(k_)); }

 private:
  ferrite_key* k_ = nullptr;
};

class Ctx {
 public:
  explicit Ctx(ferrite_ctx* c) : c_(c) {}
  ferrite_ctx* get() const { return c_; }

  template <class T>
  T* State() const {
    return static_cast<T*>(Api().ctx_plugin_state(c_));
  }
  int Db() const { return Api().ctx_db(c_); }
  int Resp() const { return Api().ctx_resp(c_); }
  int64_t NowMs() const { return Api().now_ms(c_); }
  ferrite_conn_id ConnId() const { return Api().ctx_conn_id(c_); }
  // The key that woke this re-run of a blocked command; empty on a first run (and on a
  // host older than ABI 1.5).
  std::string_view ReadyKey() const {
    ferrite_slice k{};
    if (!FERRITE_HAS_API(&Api(), ctx_block_woken_key) || !Api().ctx_block_woken_key(c_, &k))
      return {};
    return SV(k);
  }
  // Indexes 0..n-1 of `keys` in the order a blocking command should try them: the
  // ready key (if it is one of them) first, then the others in argument order.
  std::vector<int> ReadyFirst(const ferrite_slice* keys, int n) const {
    std::vector<int> order;
    order.reserve(static_cast<size_t>(n));
    std::string_view ready = ReadyKey();
    for (int i = 0; i < n && !ready.empty(); i++) {
      if (SV(keys[i]) == ready) {
        order.push_back(i);
        break;
      }
    }
    for (int i = 0; i < n; i++)
      if (order.empty() || i != order[0]) order.push_back(i);
    return order;
  }

  Key Open(std::string_view key, int mode = FERRITE_KEY_READ) const {
    return Key(Api().open_key(c_, SL(key), mode));
  }
  Key OpenWrite(std::string_view key) const { return Open(key, FERRITE_KEY_WRITE); }
  Key OpenDb(int db, std::string_view key, int mode) const {
    return Key(Api().open_key_db(c_, db, SL(key), mode));
  }

  int Ok() const { return Simple("OK"); }
  int Simple(std::string_view s) const {
    Api().reply_simple(c_, s.data(), s.size());
    return FERRITE_OK;
  }
  int Error(ferrite_error_code code, std::string_view detail = {}) const {
    Api().reply_error(c_, code, detail.data(), detail.size());
    return FERRITE_OK;
  }
  int Error(std::string_view full_message) const {
    return Error(FERRITE_E_GENERIC, full_message);
  }
  int Int(int64_t v) const {
    Api().reply_int(c_, v);
    return FERRITE_OK;
  }
  int Double(double v) const {
    Api().reply_double(c_, v);
    return FERRITE_OK;
  }
  // A double sent with the digits given (Redis' addReplyHumanLongDouble); a host older
  // than ABI 1.7 sends the value in its own form.
  int DoubleText(std::string_view text) const {
    if (FERRITE_HAS_API(&Api(), reply_double_text)) {
      Api().reply_double_text(c_, text.data(), text.size());
    } else {
      Api().reply_double(c_, std::strtod(std::string(text).c_str(), nullptr));
    }
    return FERRITE_OK;
  }
  int Bulk(std::string_view s) const {
    Api().reply_bulk(c_, s.data(), s.size());
    return FERRITE_OK;
  }
  int Null() const {
    Api().reply_null(c_);
    return FERRITE_OK;
  }
  int NullArray() const {
    Api().reply_null_array(c_);
    return FERRITE_OK;
  }
  int Bool(bool v) const {
    Api().reply_bool(c_, v);
    return FERRITE_OK;
  }
  void Array(size_t n) const { Api().reply_array(c_, n); }
  void Map(size_t n) const { Api().reply_map(c_, n); }
  void Set(size_t n) const { Api().reply_set(c_, n); }
  int BulkArray(const std::vector<std::string>& v) const {
    Array(v.size());
    for (auto& s : v) Bulk(s);
    return FERRITE_OK;
  }
  void Propagate(std::initializer_list<std::string_view> argv) const {
    std::vector<ferrite_slice> s;
    s.reserve(argv.size());
    for (auto a : argv) s.push_back(SL(a));
    Api().propagate(c_, static_cast<int>(s.size()), s.data());
  }
  void Propagate(const std::vector<std::string>& argv) const {
    std::vector<ferrite_slice> s;
    s.reserve(argv.size());
    for (auto& a : argv) s.push_back(SL(a));
    Api().propagate(c_, static_cast<int>(s.size()), s.data());
  }
  void Notify(uint32_t type_class, const char* event, std::string_view key) const {
    Api().notify(c_, type_class, event, SL(key));
  }
  void Dirty() const { Api().mark_dirty(c_); }

 private:
  ferrite_ctx* c_;
};

// ---------------------------------------------------------------------------------------
// Argument parser with a latched error:
//   Args a(argc, argv, 1);
//   auto key = a.Str(); auto n = a.Int();
//   if (a.Failed()) return a.Reply(ctx);
// ---------------------------------------------------------------------------------------
class Args {
 public:
  Args(int argc, const ferrite_slice* argv, int start = 1)
      : argc_(argc), argv_(argv), i_(start) {}

  bool Done() const { return i_ >= argc_; }
  int Left() const { return argc_ - i_; }
  int Index() const { return i_; }
  std::string_view Peek() const { return i_ < argc_ ? SV(argv_[i_]) : std::string_view{}; }

  std::string_view Str() {
    if (i_ >= argc_) {
      Fail(FERRITE_E_SYNTAX);
      return {};
    }
    return SV(argv_[i_++]);
  }
  int64_t Int() {
    auto s = Str();
    int64_t v = 0;
    if (!failed_ && !ParseInt64(s, &v)) Fail(FERRITE_E_NOT_INTEGER);
    return v;
  }
  double Double() {
    auto s = Str();
    double v = 0;
    if (!failed_ && !ParseDouble(s, &v)) Fail(FERRITE_E_NOT_FLOAT);
    return v;
  }
  // Consumes the next argument if it equals `word` (case-insensitive).
  bool Match(std::string_view word) {
    if (i_ < argc_ && EqualsIgnoreCase(SV(argv_[i_]), word)) {
      i_++;
      return true;
    }
    return false;
  }
  void Fail(ferrite_error_code code, std::string detail = {}) {
    if (failed_) return;
    failed_ = true;
    code_ = code;
    detail_ = std::move(detail);
  }
  bool Failed() const { return failed_; }
  int Reply(const Ctx& ctx) const { return ctx.Error(code_, detail_); }

 private:
  int argc_;
  const ferrite_slice* argv_;
  int i_;
  bool failed_ = false;
  ferrite_error_code code_ = FERRITE_E_SYNTAX;
  std::string detail_;
};

// ---------------------------------------------------------------------------------------
// Command tables and the exception barrier
// ---------------------------------------------------------------------------------------

using Handler = int (*)(Ctx ctx, int argc, const ferrite_slice* argv);

// Wraps a C++ handler so no exception crosses the ABI: it becomes an error reply.
template <Handler F>
int Guarded(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  try {
    return F(Ctx(c), argc, argv);
  } catch (const std::bad_alloc&) {
    Api().reply_error(c, FERRITE_E_OOM, nullptr, 0);
  } catch (const std::exception& e) {
    std::string msg = std::string("ERR internal error: ") + e.what();
    Api().reply_error(c, FERRITE_E_GENERIC, msg.data(), msg.size());
  } catch (...) {
    static const char kMsg[] = "ERR internal error";
    Api().reply_error(c, FERRITE_E_GENERIC, kMsg, sizeof(kMsg) - 1);
  }
  return FERRITE_OK;
}

// One subcommand of a container command: {"GET", -3, ADMIN | NOSCRIPT | LOADING | STALE}.
struct SubcommandSpec {
  const char* name;
  int arity;
  uint32_t flags;
};

// A container's subcommand table, for CommandSpec::subcommands: Subcommands(kConfigSubs).
struct SubcommandList {
  const SubcommandSpec* items = nullptr;
  size_t count = 0;
};
template <size_t N>
constexpr SubcommandList Subcommands(const SubcommandSpec (&table)[N]) {
  return {table, N};
}

struct CommandSpec {
  const char* name;
  int arity;
  uint32_t flags;
  int first_key, last_key, key_step;
  ferrite_cmd_fn handler;
  const char* group = "generic";
  ferrite_getkeys_fn getkeys = nullptr;
  const char* summary = "";
  SubcommandList subcommands = {};
  const char* acl_categories = nullptr;  // ABI 1.8: "hash fast", see ferrite_command_desc
  ferrite_call_flags_fn call_flags = nullptr;  // ABI 1.13, see ferrite_command_desc
};

// Registers every command; on the first failure returns FERRITE_ERR (the host then
// undoes the plugin's registrations).
template <size_t N>
int RegisterAll(ferrite_plugin* p, const CommandSpec (&table)[N]) {
  for (const auto& c : table) {
    ferrite_command_desc d{};
    d.struct_size = sizeof d;
    d.name = c.name;
    d.arity = c.arity;
    d.flags = c.flags;
    d.first_key = c.first_key;
    d.last_key = c.last_key;
    d.key_step = c.key_step;
    d.handler = c.handler;
    d.getkeys = c.getkeys;
    d.summary = c.summary;
    d.group = c.group;
    d.call_flags = c.call_flags;
    std::vector<ferrite_subcommand_desc> subs;
    for (size_t i = 0; i < c.subcommands.count; i++) {
      const SubcommandSpec& sc = c.subcommands.items[i];
      subs.push_back({sizeof(ferrite_subcommand_desc), sc.name, sc.arity, sc.flags});
    }
    d.subcommands = subs.data();
    d.subcommand_count = subs.size();
    d.acl_categories = c.acl_categories;
    if (Api().register_command(p, &d) != FERRITE_OK) return FERRITE_ERR;
  }
  return FERRITE_OK;
}

inline void Log(ferrite_plugin* p, ferrite_log_level lvl, std::string_view msg) {
  Api().log(p, lvl, msg.data(), msg.size());
}

// ---- SCAN-family arguments (SCAN, SSCAN, HSCAN, ZSCAN) --------------------------------

// Redis' strtoull-based cursor rule: no leading space, whole string consumed, no
// overflow. Quirks kept on purpose: "" is 0, "+5" is 5 and "-1" wraps around.
inline bool ParseScanCursor(std::string_view s, uint64_t* cursor) {
  if (!s.empty() && isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);  // strtoull needs the NUL; an embedded NUL fails the end check
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(buf.c_str(), &end, 10);
  if (end != buf.c_str() + buf.size() || errno == ERANGE) return false;
  *cursor = v;
  return true;
}

struct ScanOptions {
  std::string_view pattern;  // empty when no MATCH or MATCH "*"
  bool use_pattern = false;
  int64_t count = 10;
  std::optional<std::string_view> type;  // SCAN ... TYPE t
  bool novalues = false;                 // HSCAN ... NOVALUES (Redis 7.4)
  bool Matches(std::string_view s) const { return !use_pattern || GlobMatch(pattern, s); }
};

// Which words beyond MATCH and COUNT a command accepts.
enum ScanExtra : unsigned { kScanType = 1, kScanNoValues = 2 };

// Parses [MATCH p] [COUNT n] (+ the `extras`) from argv[start..argc); repeated words are
// allowed and the last one wins, as in Redis. Returns the error to reply, if any.
inline std::optional<ferrite_error_code> ParseScanOptions(int argc, const ferrite_slice* argv,
                                                          int start, unsigned extras,
                                                          ScanOptions* out) {
  for (int i = start; i < argc; i++) {
    std::string_view word = SV(argv[i]);
    if ((extras & kScanNoValues) && EqualsIgnoreCase(word, "novalues")) {
      out->novalues = true;
      continue;
    }
    if (i + 1 >= argc) return FERRITE_E_SYNTAX;
    std::string_view value = SV(argv[++i]);
    if (EqualsIgnoreCase(word, "count")) {
      int64_t n = 0;
      if (!ParseInt64(value, &n)) return FERRITE_E_NOT_INTEGER;
      if (n < 1) return FERRITE_E_SYNTAX;
      out->count = n;
    } else if (EqualsIgnoreCase(word, "match")) {
      out->use_pattern = value != "*";
      out->pattern = out->use_pattern ? value : std::string_view{};
    } else if ((extras & kScanType) && EqualsIgnoreCase(word, "type")) {
      out->type = value;
    } else {
      return FERRITE_E_SYNTAX;
    }
  }
  return std::nullopt;
}

// SSCAN/HSCAN/ZSCAN of a missing key: Redis answers this before it reads the options
// (so `HSCAN nokey 0 COUNT 0` is not an error).
inline int ReplyEmptyScan(const Ctx& ctx) {
  ctx.Array(2);
  ctx.Bulk("0");
  ctx.Array(0);
  return FERRITE_OK;
}

// ---- SRANDMEMBER / HRANDFIELD / ZRANDMEMBER count ------------------------------------

// Redis' getRangeLongFromObjectOrReply(count, -LONG_MAX, LONG_MAX): the count is read
// before anything else about the command (its WITHVALUES/WITHSCORES word, the key).
// Returns the error to reply, or nullptr.
inline const char* ParseRandomCount(std::string_view s, int64_t* count) {
  if (!ParseInt64(s, count)) return "ERR value is not an integer or out of range";
  if (*count == INT64_MIN) {
    return "ERR value is out of range, value must between -9223372036854775807 and "
           "9223372036854775807";  // sic: Redis 7.0's wording
  }
  return nullptr;
}

// HRANDFIELD/ZRANDMEMBER key count [WITH<word>]: the count, then the word (a syntax
// error if it is another word or more arguments follow), then the range a doubled
// reply allows. Returns the error to reply, or nullptr.
inline const char* ParseRandomCountWith(int argc, const ferrite_slice* argv,
                                        std::string_view word, int64_t* count, bool* with) {
  if (const char* e = ParseRandomCount(SV(argv[2]), count)) return e;
  if (argc > 4 || (argc == 4 && !EqualsIgnoreCase(SV(argv[3]), word))) return "ERR syntax error";
  *with = argc == 4;
  if (*with && (*count < -INT64_MAX / 2 || *count > INT64_MAX / 2))
    return "ERR value is out of range";
  return nullptr;
}

// Writes a collection into a rewritten AOF as `<cmd> key a1 a2 ...` records of at most
// `per_record` arguments after the key (a type's aof_rewrite: RPUSH, SADD, ZADD score
// member, HSET field value). Add() copies its argument; call Finish() at the end.
class AofBatch {
 public:
  AofBatch(ferrite_aof* aof, std::string_view cmd, ferrite_slice key, size_t per_record = 128)
      : aof_(aof), cmd_(cmd), key_(key), per_record_(per_record) {}
  void Add(std::string_view arg) {
    args_.emplace_back(arg);
    if (args_.size() >= per_record_) Finish();
  }
  // Emits what has been added since the last record, if anything.
  void Finish() {
    if (args_.empty()) return;
    argv_.assign({SL(cmd_), key_});
    for (auto& a : args_) argv_.push_back(SL(a));
    Api().aof_emit(aof_, static_cast<int>(argv_.size()), argv_.data());
    args_.clear();
  }

 private:
  ferrite_aof* aof_;
  std::string_view cmd_;
  ferrite_slice key_;
  size_t per_record_;
  std::vector<std::string> args_;
  std::vector<ferrite_slice> argv_;
};

}  // namespace ferrite::sdk

// Flag shorthands for command tables.
namespace ferrite::sdk::flags {
inline constexpr uint32_t WRITE = FERRITE_CMD_WRITE, READONLY = FERRITE_CMD_READONLY,
                          DENYOOM = FERRITE_CMD_DENYOOM, FAST = FERRITE_CMD_FAST,
                          ADMIN = FERRITE_CMD_ADMIN, PUBSUB = FERRITE_CMD_PUBSUB,
                          NOSCRIPT = FERRITE_CMD_NOSCRIPT, LOADING = FERRITE_CMD_LOADING,
                          STALE = FERRITE_CMD_STALE, BLOCKING = FERRITE_CMD_BLOCKING,
                          NOAUTH = FERRITE_CMD_NOAUTH, ALL_KEYS = FERRITE_CMD_ALL_KEYS,
                          HIDDEN = FERRITE_CMD_HIDDEN, NO_MULTI = FERRITE_CMD_NO_MULTI,
                          ALLOW_BUSY = FERRITE_CMD_ALLOW_BUSY,
                          SUBSCRIBED_OK = FERRITE_CMD_SUBSCRIBED_OK,
                          SKIP_MONITOR = FERRITE_CMD_SKIP_MONITOR,
                          SKIP_SLOWLOG = FERRITE_CMD_SKIP_SLOWLOG,
                          MAY_REPLICATE = FERRITE_CMD_MAY_REPLICATE;
}  // namespace ferrite::sdk::flags

// Defines the three exported entry points. LOAD is `int Fn(ferrite_plugin*)`, UNLOAD
// `void Fn(ferrite_plugin*)` (may be a no-op lambda-free function).
#define FERRITE_DEFINE_PLUGIN(NAME, VERSION, LOAD, UNLOAD)                               \
  extern "C" FERRITE_EXPORT const ferrite_plugin_info* ferrite_plugin_describe(void) {   \
    static const ferrite_plugin_info info = {sizeof(ferrite_plugin_info),                \
                                             FERRITE_ABI_MAJOR, FERRITE_ABI_MINOR, NAME,  \
                                             VERSION};                                    \
    return &info;                                                                         \
  }                                                                                       \
  extern "C" FERRITE_EXPORT int ferrite_plugin_load(const ferrite_host_api* api,         \
                                                    ferrite_plugin* p) {                 \
    try {                                                                                 \
      ::ferrite::sdk::ApiSlot() = api;                                                    \
      return LOAD(p);                                                                     \
    } catch (...) {                                                                       \
      return FERRITE_ERR;                                                                 \
    }                                                                                     \
  }                                                                                       \
  extern "C" FERRITE_EXPORT void ferrite_plugin_unload(const ferrite_host_api*,          \
                                                       ferrite_plugin* p) {              \
    try {                                                                                 \
      UNLOAD(p);                                                                          \
    } catch (...) {                                                                       \
    }                                                                                     \
  }
