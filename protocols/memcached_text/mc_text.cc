// Classic memcached text commands. Request validation mirrors memcached 1.6's
// proto_text.c (token counts, which errors swallow the data block, noreply muting
// errors too); the item semantics live in the MC.* commands of the strings module.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "mc_text.h"

namespace ferrite::proto::mc {
namespace {

constexpr size_t kMaxTokens = 24;  // memcached's MAX_TOKENS, terminal token included
constexpr std::string_view kBadFormat = "CLIENT_ERROR bad command line format";

// Splits on ' ' only, as memcached does (a tab is part of a token).
void Tokenize(std::string_view line, std::vector<std::string_view>* out) {
  out->clear();
  const char* p = line.data();
  const char* end = p + line.size();
  while (p < end) {
    while (p < end && *p == ' ') p++;
    if (p == end) break;
    const char* sp = static_cast<const char*>(memchr(p, ' ', static_cast<size_t>(end - p)));
    const char* e = sp ? sp : end;
    out->push_back({p, static_cast<size_t>(e - p)});
    p = e;
  }
}

bool IsGetLine(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && i <= 100 && s[i] == ' ') i++;
  s.remove_prefix(i);
  return s.substr(0, 4) == "get " || s.substr(0, 5) == "gets ";
}

// memcached's safe_strtol stores a long into an int32 without a range check, so
// "4294967297" is 1; we keep that, since clients rely on the same wire behaviour.
bool ParseExptime(std::string_view tok, int32_t* out) {
  uint64_t v;
  if (PlainDigits(tok, &v)) {
    *out = static_cast<int32_t>(static_cast<long>(v));
    return true;
  }
  char buf[64];
  if (tok.empty() || tok.size() >= sizeof buf) return false;
  memcpy(buf, tok.data(), tok.size());
  buf[tok.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  long l = strtol(buf, &end, 10);
  if (errno == ERANGE || end == buf || *end != '\0') return false;
  *out = static_cast<int32_t>(l);
  return true;
}

// Writes " <n>" at p (room for 21 bytes) and returns the end.
char* PutNum(char* p, uint64_t n) {
  *p++ = ' ';
  return std::to_chars(p, p + 20, n).ptr;
}

// "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n" appended with one formatted
// header (no temporary string per number; key <= kKeyMaxLength was checked).
void AppendValue(std::string* out, std::string_view key, uint32_t flags,
                 std::string_view value, const uint64_t* cas) {
  char head[6 + kKeyMaxLength + 3 * 21 + 2];
  char* p = head;
  memcpy(p, "VALUE ", 6);
  memcpy(p + 6, key.data(), key.size());
  p = PutNum(p + 6 + key.size(), flags);
  p = PutNum(p, value.size());
  if (cas) p = PutNum(p, *cas);
  *p++ = '\r';
  *p++ = '\n';
  out->append(head, static_cast<size_t>(p - head)).append(value).append("\r\n", 2);
}

}  // namespace

void TextSession::Out(std::string_view line) {
  if (noreply_) return;
  out_.append(line);
  out_.append("\r\n");
}

void TextSession::Flush() {
  if (!out_.empty()) b_.Write(out_);
  out_.clear();
}

size_t TextSession::OnBytes(const uint8_t* data, size_t len) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t pos = 0;
  Tokens& toks = toks_;
  while (pos < len && !closed_) {
    if (watching_) {  // a watcher's input is not read any more, as in memcached
      pos = len;
      break;
    }
    if (swallow_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(swallow_, len - pos));
      pos += n;
      swallow_ -= n;
      continue;
    }
    const char* nl = static_cast<const char*>(memchr(p + pos, '\n', len - pos));
    if (nl == nullptr) {
      size_t avail = len - pos;
      std::string_view pending(p + pos, avail);
      if (avail > kMaxLine && (!IsGetLine(pending) || avail > kMaxGetLine)) {
        // memcached: no newline in the first 2 KB and not a multiget -> close, silently.
        closed_ = true;
        b_.Close(false);
        pos = len;
      }
      break;
    }
    size_t line_end = static_cast<size_t>(nl - p);
    size_t content_end = line_end;
    if (line_end - pos > 1 && p[line_end - 1] == '\r') content_end--;
    std::string_view line(p + pos, content_end - pos);
    line = line.substr(0, line.find('\0'));  // memcached parses C strings
    Tokenize(line, &toks);
    std::string_view rest(p + line_end + 1, len - line_end - 1);
    size_t data_used = 0;
    noreply_ = false;
    b_.BeginRequest(toks);
    size_t mark = out_.size();
    bool ran = Dispatch(toks, rest, &data_used);
    if (b_.TakeBlocked()) {  // parked (a client pause): the whole request is read again
      out_.resize(mark);
      ran = false;
    }
    b_.EndRequest(ran);  // not run yet: recorded when it runs
    if (!ran) break;  // wait for the data block, or blocked
    pos = line_end + 1 + data_used;
  }
  blocked_ = false;
  Flush();
  return pos;
}

bool TextSession::Dispatch(const Tokens& t, std::string_view rest, size_t* data_used) {
  if (b_.NeedsAuth()) return AsciiAuth(t, rest, data_used);
  size_t ntokens = std::min(t.size(), kMaxTokens - 1) + 1;  // memcached's count
  if (t.empty() || t[0].size() < 2) {
    Out("ERROR");
    return true;
  }
  std::string_view cmd = t[0];
  auto want = [&](size_t a, size_t b) {
    if (ntokens == a || ntokens == b) return true;
    Out("ERROR");
    return false;
  };
  if (cmd.size() == 2 && cmd[0] == 'm') return DispatchMeta(t, rest, data_used);
  if (cmd == "get" || cmd == "bget" || cmd == "gets" || cmd == "gat" || cmd == "gats") {
    if (ntokens < 3) {
      Out("ERROR");
    } else {
      Get(t, cmd == "gets" || cmd == "gats", cmd == "gat" || cmd == "gats");
    }
    return !blocked_;
  }
  if (cmd == "set" || cmd == "add" || cmd == "replace" || cmd == "append" || cmd == "prepend") {
    if (!want(6, 7)) return true;
    return Storage(t, rest, data_used);
  }
  if (cmd == "cas") {
    if (!want(7, 8)) return true;
    return Storage(t, rest, data_used);
  }
  if (cmd == "incr" || cmd == "decr") {
    if (want(4, 5)) Arith(t, cmd == "incr");
  } else if (cmd == "delete") {
    if (ntokens < 3 || ntokens > 5) Out("ERROR");
    else Delete(t);
  } else if (cmd == "touch") {
    if (want(4, 5)) Touch(t);
  } else if (cmd == "flush_all") {
    if (ntokens < 2 || ntokens > 4) Out("ERROR");
    else FlushAll(t);
  } else if (cmd == "stats") {
    return Stats(t);
  } else if (cmd == "lru_crawler") {
    return LruCrawler(t);
  } else if (cmd == "watch") {
    Watch(t);
  } else {
    Admin(t);
  }
  return true;
}

bool TextSession::DispatchMeta(const Tokens& t, std::string_view rest, size_t* data_used) {
  bool has_key = t.size() >= 2;  // memcached: WANT_TOKENS_MIN(ntokens, 3)
  switch (t[0][1]) {
    case 'g': has_key ? MetaGet(t) : Out("ERROR"); return !blocked_;
    case 's': if (has_key) return MetaSet(t, rest, data_used); Out("ERROR"); return true;
    case 'd': has_key ? MetaDelete(t) : Out("ERROR"); return true;
    case 'a': has_key ? MetaArith(t) : Out("ERROR"); return true;
    case 'e': MetaDebug(t); return true;
    case 'n': Out("MN"); return true;
    default: Out("ERROR"); return true;
  }
}

// version, verbosity, quit, shutdown, and everything unknown.
void TextSession::Admin(const Tokens& t) {
  std::string_view cmd = t[0];
  size_t ntokens = std::min(t.size(), kMaxTokens - 1) + 1;
  if (cmd == "version") {
    Out(std::string("VERSION ") + kVersion);
  } else if (cmd == "verbosity") {
    if (ntokens != 3 && ntokens != 4) return Out("ERROR");
    noreply_ = t.back() == "noreply";
    uint32_t level;
    Out(ParseU32(t[1], &level) ? "OK" : kBadFormat);
  } else if (cmd == "quit") {
    closed_ = true;
    Flush();
    b_.Close(true);
  } else if (cmd == "shutdown") {
    if (!b_.ShutdownAllowed()) {
      Out("ERROR: shutdown not enabled");
    } else if (ntokens == 2 || (ntokens == 3 && t[1] == "graceful")) {
      argv_.Clear();
      b_.Exec(argv_.Add("SHUTDOWN").Add("NOSAVE"));
      closed_ = true;
      b_.Close(false);
    } else {
      Out("CLIENT_ERROR invalid shutdown mode");
    }
  } else {
    Out("ERROR");
  }
}

// memcached's ASCII auth (-Y): "set <any> <flags> <exptime> <n>\r\n<user> <pass>\r\n",
// checked here against requirepass / ACL users through conn_authenticate.
bool TextSession::AsciiAuth(const Tokens& t, std::string_view rest, size_t* data_used) {
  int32_t n = 0;
  if (t.size() < 5 || t[0] != "set" || !ParseExptime(t[4], &n) || n < 0) {
    Out("CLIENT_ERROR unauthenticated");
    return true;
  }
  size_t block = static_cast<size_t>(n) + 2;
  if (block > 4096) {
    Out("CLIENT_ERROR unauthenticated");
    swallow_ = block;
    return true;
  }
  if (rest.size() < block) return false;
  *data_used = block;
  if (rest.substr(n, 2) != "\r\n") {
    Out("CLIENT_ERROR bad command line termination");
    return true;
  }
  Tokens cred;
  Tokenize(rest.substr(0, n), &cred);
  if (cred.size() < 2) {
    Out("CLIENT_ERROR bad authentication token format");
    return true;
  }
  Out(b_.Authenticate(cred[0], cred[1]) ? "STORED" : "CLIENT_ERROR authentication failure");
  return true;
}

bool TextSession::Storage(const Tokens& t, std::string_view rest, size_t* data_used) {
  std::string_view cmd = t[0];
  bool is_cas = cmd == "cas";
  noreply_ = t.back() == "noreply";
  std::string_view key = t[1];
  uint32_t flags = 0;
  int32_t exptime = 0, vlen = 0;
  uint64_t cas = 0;
  if (key.size() > kKeyMaxLength) {
    Out(kBadFormat);
    return true;
  }
  if (!ParseU32(t[2], &flags) || !ParseExptime(t[3], &exptime) || !ParseExptime(t[4], &vlen) ||
      (is_cas && !ParseU64(t[5], &cas)) || vlen < 0) {
    Out(kBadFormat);
    return true;
  }
  uint64_t block = static_cast<uint64_t>(vlen) + 2;
  if (vlen > kItemSizeMaxFloor && vlen > b_.ItemSizeMax()) {
    Out("SERVER_ERROR object too large for cache");
    swallow_ = block;
    if (cmd == "set") {  // memcached drops the old item rather than keep stale data
      argv_.Clear();
      b_.Exec(argv_.Add("MC.DELETE").Add(key));
    }
    return true;
  }
  if (rest.size() < block) return false;
  *data_used = block;
  if (rest.substr(vlen, 2) != "\r\n") {
    Out("CLIENT_ERROR bad data chunk");
    return true;
  }
  std::string_view mode = is_cas ? "CAS" : cmd == "set" ? "SET" : cmd == "add" ? "ADD"
                         : cmd == "replace" ? "REPLACE" : cmd == "append" ? "APPEND" : "PREPEND";
  argv_.Clear();
  argv_.Add("MC.SET").Add(key).Add(rest.substr(0, vlen)).Add(mode).NumFrom(t[2], flags);
  argv_.Add("EX").NumFrom(t[3], exptime);
  if (is_cas) argv_.Add("CAS").UNum(cas);
  const McReply& r = b_.Exec(argv_);
  switch (r.status) {
    case McStatus::kStored: Out("STORED"); break;
    case McStatus::kNotStored: Out("NOT_STORED"); break;
    case McStatus::kExists: Out("EXISTS"); break;
    case McStatus::kNotFound: Out("NOT_FOUND"); break;
    default: Out(TextErrorFor(r)); break;
  }
  return true;
}

void TextSession::Get(const Tokens& t, bool with_cas, bool touch) {
  size_t first = 1;
  int32_t exptime = 0;
  if (touch) {
    if (!ParseExptime(t[1], &exptime)) {
      Out("CLIENT_ERROR invalid exptime argument");
      return;
    }
    first = 2;
  }
  size_t mark = out_.size();
  for (size_t i = first; i < t.size(); i++) {
    std::string_view key = t[i];
    if (key.size() > kKeyMaxLength) {
      out_.resize(mark);  // memcached drops the hits it had stacked
      Out(kBadFormat);
      return;
    }
    argv_.Clear();
    argv_.Add(touch ? "MC.GAT" : "MC.GET").Add(key);
    if (touch) argv_.Add("TOUCH").Num(exptime);
    const McReply& r = b_.Exec(argv_.Add("WARM").Add("BRIEF"));
    if (r.status == McStatus::kBlocked) {  // re-read whole once the key is warmed
      out_.resize(mark);
      blocked_ = true;
      return;
    }
    if (r.status == McStatus::kError) {
      out_.resize(mark);
      Out(TextErrorFor(r));
      return;
    }
    if (r.status != McStatus::kHit) continue;
    uint64_t cas = static_cast<uint64_t>(r.Int(2));
    AppendValue(&out_, key, static_cast<uint32_t>(r.Int(1)), r.Str(0), with_cas ? &cas : nullptr);
  }
  out_.append("END\r\n");
}

void TextSession::Arith(const Tokens& t, bool incr) {
  noreply_ = t.back() == "noreply";
  if (t[1].size() > kKeyMaxLength) return Out(kBadFormat);
  uint64_t delta = 0;
  if (!ParseU64(t[2], &delta)) return Out("CLIENT_ERROR invalid numeric delta argument");
  argv_.Clear();
  argv_.Add("MC.ARITH").Add(t[1]).Add(incr ? "INCR" : "DECR").UNum(delta);
  const McReply& r = b_.Exec(argv_);
  switch (r.status) {
    case McStatus::kHit: Out(r.Str(0)); break;
    case McStatus::kNotFound: Out("NOT_FOUND"); break;
    case McStatus::kNonNumeric:
      Out("CLIENT_ERROR cannot increment or decrement non-numeric value");
      break;
    default: Out(r.status == McStatus::kError ? TextErrorFor(r) : "SERVER_ERROR out of memory");
  }
}

void TextSession::Delete(const Tokens& t) {
  size_t ntokens = std::min(t.size(), kMaxTokens - 1) + 1;
  if (ntokens > 3) {
    bool hold_is_zero = t[2] == "0";
    noreply_ = t.back() == "noreply";
    bool valid = (ntokens == 4 && (hold_is_zero || noreply_)) ||
                 (ntokens == 5 && hold_is_zero && noreply_);
    if (!valid) {
      return Out("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
    }
  }
  if (t[1].size() > kKeyMaxLength) return Out(kBadFormat);
  argv_.Clear();
  const McReply& r = b_.Exec(argv_.Add("MC.DELETE").Add(t[1]));
  if (r.status == McStatus::kDeleted) return Out("DELETED");
  if (r.status == McStatus::kNotFound) return Out("NOT_FOUND");
  Out(TextErrorFor(r));
}

void TextSession::Touch(const Tokens& t) {
  noreply_ = t.back() == "noreply";
  if (t[1].size() > kKeyMaxLength) return Out(kBadFormat);
  int32_t exptime = 0;
  if (!ParseExptime(t[2], &exptime)) return Out("CLIENT_ERROR invalid exptime argument");
  argv_.Clear();
  const McReply& r = b_.Exec(argv_.Add("MC.TOUCH").Add(t[1]).Num(exptime));
  if (r.status == McStatus::kTouched) return Out("TOUCHED");
  if (r.status == McStatus::kNotFound) return Out("NOT_FOUND");
  Out(TextErrorFor(r));
}

void TextSession::FlushAll(const Tokens& t) {
  noreply_ = t.back() == "noreply";
  size_t ntokens = t.size() + 1;
  int32_t delay = 0;
  if (ntokens != (noreply_ ? 3u : 2u) && !ParseExptime(t[1], &delay)) {
    return Out("CLIENT_ERROR invalid exptime argument");
  }
  argv_.Clear();
  argv_.Add("MC.FLUSH");
  if (delay > 0) argv_.Num(delay);
  const McReply& r = b_.Exec(argv_);
  Out(r.status == McStatus::kOk ? "OK" : TextErrorFor(r));
}

}  // namespace ferrite::proto::mc
