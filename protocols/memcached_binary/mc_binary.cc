// Binary protocol requests, validated the way memcached 1.6's proto_bin.c does (shape
// checks per opcode, protocol errors close the connection, quiet opcodes only speak on
// errors); item semantics live in the MC.* commands of the strings module.
#include "mc_binary.h"
#include "mc_introspect.h"

#include <algorithm>
#include <cstring>

namespace ferrite::proto::mc {
namespace {

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t Be64(const uint8_t* p) { return (uint64_t{Be32(p)} << 32) | Be32(p + 4); }
const uint8_t* U(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Writes v big-endian into p[0..bytes).
void StoreBe(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}

void PutBe(std::string* out, uint64_t v, int bytes) {
  char buf[8];
  StoreBe(buf, v, bytes);
  out->append(buf, static_cast<size_t>(bytes));
}

// The loud form of a quiet opcode, or the opcode itself.
uint8_t Loud(uint8_t op, bool* quiet) {
  using namespace bin;
  *quiet = true;
  switch (op) {
    case kSetQ: return kSet;
    case kAddQ: return kAdd;
    case kReplaceQ: return kReplace;
    case kDeleteQ: return kDelete;
    case kIncrQ: return kIncr;
    case kDecrQ: return kDecr;
    case kQuitQ: return kQuit;
    case kFlushQ: return kFlush;
    case kAppendQ: return kAppend;
    case kPrependQ: return kPrepend;
    case kGetQ: return kGet;
    case kGetKQ: return kGetK;
    case kGatQ: return kGat;
    case kGatKQ: return kGatK;
    default: *quiet = false; return op;
  }
}

// memcached's names for the opcodes (protocol_binary.h), how SLOWLOG and MONITOR show
// a binary request.
const char* OpName(uint8_t op) {
  using namespace bin;
  switch (op) {
    case kGet: return "get";            case kSet: return "set";
    case kAdd: return "add";            case kReplace: return "replace";
    case kDelete: return "delete";      case kIncr: return "increment";
    case kDecr: return "decrement";     case kQuit: return "quit";
    case kFlush: return "flush";        case kGetQ: return "getq";
    case kNoop: return "noop";          case kVersionOp: return "version";
    case kGetK: return "getk";          case kGetKQ: return "getkq";
    case kAppend: return "append";      case kPrepend: return "prepend";
    case kStat: return "stat";          case kSetQ: return "setq";
    case kAddQ: return "addq";          case kReplaceQ: return "replaceq";
    case kDeleteQ: return "deleteq";    case kIncrQ: return "incrementq";
    case kDecrQ: return "decrementq";   case kQuitQ: return "quitq";
    case kFlushQ: return "flushq";      case kAppendQ: return "appendq";
    case kPrependQ: return "prependq";  case kTouch: return "touch";
    case kGat: return "gat";            case kGatQ: return "gatq";
    case kSaslList: return "sasl_list_mechs"; case kSaslAuth: return "sasl_auth";
    case kSaslStep: return "sasl_step"; case kGatK: return "gatk";
    case kGatKQ: return "gatkq";
    default: return "unknown";
  }
}

bool Known(uint8_t cmd) {
  using namespace bin;
  switch (cmd) {
    case kGet: case kSet: case kAdd: case kReplace: case kDelete: case kIncr: case kDecr:
    case kQuit: case kFlush: case kNoop: case kVersionOp: case kGetK: case kAppend:
    case kPrepend: case kStat: case kTouch: case kGat: case kGatK: case kSaslList:
    case kSaslAuth: case kSaslStep:
      return true;
    default:
      return false;
  }
}

bool IsStorage(uint8_t cmd) {
  using namespace bin;
  return cmd == kSet || cmd == kAdd || cmd == kReplace || cmd == kAppend || cmd == kPrepend;
}

// Requests whose body carries a value after extras and key. memcached reads only extras
// and key of the others: what a STAT, TOUCH or GAT header declares beyond them is read
// as the next request.
bool HasValue(uint8_t cmd) {
  return IsStorage(cmd) || cmd == bin::kSaslAuth || cmd == bin::kSaslStep;
}

const char* DefaultText(uint16_t status) {
  using namespace bin;
  switch (status) {
    case kNoMemory: return "Out of memory";
    case kUnknownCommand: return "Unknown command";
    case kKeyNotFound: return "Not found";
    case kInvalid: return "Invalid arguments";
    case kKeyExists: return "Data exists for key.";
    case kTooLarge: return "Too large.";
    case kNonNumeric: return "Non-numeric server-side value for incr or decr";
    case kNotStored: return "Not stored.";
    case kAuthError: return "Auth failure.";
    default: return "";
  }
}

}  // namespace

void BinarySession::Header(const Req& r, uint16_t status, uint8_t extlen, uint16_t keylen,
                           uint32_t bodylen, uint64_t cas) {
  char h[bin::kHeaderLen];  // built whole, appended once
  h[0] = static_cast<char>(0x81);
  h[1] = static_cast<char>(r.opcode);
  StoreBe(h + 2, keylen, 2);
  h[4] = static_cast<char>(extlen);
  h[5] = 0;
  StoreBe(h + 6, status, 2);
  StoreBe(h + 8, bodylen, 4);
  memcpy(h + 12, &r.opaque, 4);
  StoreBe(h + 16, cas, 8);
  out_.append(h, sizeof h);
}

void BinarySession::Error(const Req& r, uint16_t status, std::string_view text) {
  if (text.empty()) text = DefaultText(status);
  Header(r, status, 0, 0, static_cast<uint32_t>(text.size()), 0);
  out_.append(text);
}

void BinarySession::HostError(const Req& r, const McReply& reply) {
  switch (reply.error_code) {
    case FERRITE_E_OOM: return Error(r, bin::kNoMemory);
    case FERRITE_E_TOO_LARGE: return Error(r, bin::kTooLarge);
    case FERRITE_E_NOAUTH: return Error(r, bin::kAuthError);
    default: break;
  }
  // The server is loading its dataset (-LOADING on RESP): memcached's "temporary
  // failure" status, which clients treat as retry-later, with the host's text.
  // Refused by the ACL (the user may not run the command or touch the key): memcached's
  // authentication error status, with the reason.
  if (reply.error_text.rfind("NOPERM ", 0) == 0) return Error(r, bin::kAuthError, reply.error_text);
  if (reply.error_text.rfind("LOADING ", 0) == 0)
    return Error(r, bin::kTempFailure, TextErrorFor(reply));
  Error(r, bin::kInvalid, TextErrorFor(reply));
}

void BinarySession::Success(const Req& r, uint64_t cas, std::string_view body) {
  if (r.quiet) return;
  Header(r, bin::kOk, 0, 0, static_cast<uint32_t>(body.size()), cas);
  out_.append(body);
}

BinarySession::Req BinarySession::ParseHeader(const uint8_t* h) {
  Req r;
  r.opcode = h[1];
  r.cmd = Loud(r.opcode, &r.quiet);
  r.keylen = Be16(h + 2);
  r.extlen = h[4];
  r.bodylen = Be32(h + 8);
  memcpy(&r.opaque, h + 12, 4);
  r.cas = Be64(h + 16);
  return r;
}

// Header problems after which memcached closes the connection; 0 = none.
uint16_t BinarySession::FatalStatus(const Req& r) {
  if (uint32_t{r.keylen} + r.extlen > r.bodylen) return bin::kUnknownCommand;
  bool auth_free = r.cmd == bin::kSaslList || r.cmd == bin::kSaslAuth ||
                   r.cmd == bin::kSaslStep || r.cmd == bin::kVersionOp;
  if (!auth_free && b_.NeedsAuth()) return bin::kAuthError;
  if (r.keylen > kKeyMaxLength) return bin::kInvalid;
  return 0;
}

size_t BinarySession::OnBytes(const uint8_t* data, size_t len) {
  size_t pos = 0;
  while (pos < len && !closed_) {
    if (swallow_ > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(swallow_, len - pos));
      pos += n;
      swallow_ -= n;
      continue;
    }
    if (len - pos < bin::kHeaderLen) break;
    const uint8_t* h = data + pos;
    if (h[0] != 0x80) {  // memcached closes on a bad magic byte
      closed_ = true;
      b_.Close(false);
      pos = len;
      break;
    }
    Req r = ParseHeader(h);
    uint16_t keylen = r.keylen;
    if (uint16_t st = FatalStatus(r)) {  // memcached answers, then closes
      r.quiet = false;
      Error(r, st);
      closed_ = true;
      b_.Close(true);
      pos = len;
      break;
    }
    if (!Known(r.cmd)) {
      r.quiet = false;
      Error(r, bin::kUnknownCommand);
      pos += bin::kHeaderLen;
      swallow_ = r.bodylen;
      continue;
    }
    // memcached judges a request by its header, before reading the body: a known opcode
    // whose lengths do not fit it (a GET declaring a 4 GB body) is answered "Invalid
    // arguments" and the connection closed, so no body is ever buffered for it.
    if (!ValidShape(r)) {
      Dispatch(r);
      pos = len;
      break;
    }
    uint64_t vlen = r.bodylen - keylen - r.extlen;
    size_t head = bin::kHeaderLen + r.extlen + keylen;
    if (HasValue(r.cmd) && static_cast<int64_t>(vlen) > kItemSizeMaxFloor &&
        static_cast<int64_t>(vlen) > b_.ItemSizeMax()) {
      if (len - pos < head) break;
      std::string key(reinterpret_cast<const char*>(h) + bin::kHeaderLen + r.extlen, keylen);
      Req copy = r;
      copy.quiet = false;
      Error(copy, bin::kTooLarge);
      if (r.cmd == bin::kSet) {  // memcached drops the old item rather than keep stale data
        argv_.Clear();
        b_.Exec(argv_.Add("MC.DELETE").Add(key));
      }
      pos += head;
      swallow_ = vlen;
      continue;
    }
    if (!HasValue(r.cmd)) vlen = 0;
    uint64_t body_len = uint64_t{r.extlen} + keylen + vlen;
    if (len - pos < bin::kHeaderLen + body_len) break;
    const char* body = reinterpret_cast<const char*>(h) + bin::kHeaderLen;
    r.extras = std::string_view(body, r.extlen);
    r.key = std::string_view(body + r.extlen, keylen);
    r.value = std::string_view(body + r.extlen + keylen, vlen);
    words_.clear();
    words_.push_back(OpName(r.opcode));
    if (!r.key.empty()) words_.push_back(r.key);
    b_.BeginRequest(words_);
    size_t mark = out_.size();
    Dispatch(r);
    if (b_.TakeBlocked()) {  // parked (a client pause, a warming key): nothing answered yet
      out_.resize(mark);
      blocked_ = true;
    }
    b_.EndRequest(!blocked_);  // a blocked request is recorded when it is fed again
    if (blocked_) {  // left unconsumed: fed again when the client is woken
      blocked_ = false;
      break;
    }
    pos += bin::kHeaderLen + body_len;
  }
  if (!out_.empty()) b_.Write(out_);
  out_.clear();
  return pos;
}

bool BinarySession::ValidShape(const Req& r) const {
  using namespace bin;
  size_t k = r.keylen;
  bool no_key = k == 0;
  switch (r.cmd) {
    case kVersionOp: case kNoop: case kQuit: case kSaslList:
      return r.extlen == 0 && no_key && r.bodylen == 0;
    case kFlush: return no_key && r.bodylen == r.extlen && (r.extlen == 0 || r.extlen == 4);
    case kSet: case kAdd: case kReplace:
      return r.extlen == 8 && !no_key && r.bodylen >= k + 8;
    case kGet: case kGetK: return r.extlen == 0 && r.bodylen == k && !no_key;
    case kDelete: return !no_key && r.extlen == 0 && r.bodylen == k;
    case kIncr: case kDecr: return !no_key && r.extlen == 20 && r.bodylen == k + 20;
    case kAppend: case kPrepend: return !no_key && r.extlen == 0;
    case kStat: return r.extlen == 0;
    case kSaslAuth: case kSaslStep: return r.extlen == 0 && !no_key;
    case kTouch: case kGat: case kGatK: return r.extlen == 4 && !no_key;
    default: return false;
  }
}

void BinarySession::Dispatch(const Req& r) {
  using namespace bin;
  if (!ValidShape(r)) {
    Req loud = r;
    loud.quiet = false;
    Error(loud, kInvalid);
    closed_ = true;
    b_.Close(true);
    return;
  }
  switch (r.cmd) {
    case kVersionOp: return Success(r, 0, ::ferrite::proto::mc::kVersion);
    case kNoop: return Success(r);
    case kQuit:
      Success(r);
      closed_ = true;
      return b_.Close(true);
    case kFlush: return Flush(r);
    case kSet: case kAdd: case kReplace: return Store(r);
    case kAppend: case kPrepend: return Concat(r);
    case kGet: case kGetK: case kTouch: case kGat: case kGatK: return Get(r);
    case kDelete: return Delete(r);
    case kIncr: case kDecr: return Arith(r);
    case kStat: return Stat(r);
    case kSaslList: return Success(r, 0, "PLAIN");
    case kSaslAuth: return SaslAuth(r);
    case kSaslStep: return Error(r, kAuthError);
    default: return Error(r, kUnknownCommand);
  }
}

void BinarySession::Get(const Req& r) {
  using namespace bin;
  bool touch = r.cmd == kTouch || r.cmd == kGat || r.cmd == kGatK;
  bool with_key = r.cmd == kGetK || r.cmd == kGatK;
  argv_.Clear();
  argv_.Add(touch ? "MC.GAT" : "MC.GET").Add(r.key);
  if (touch) argv_.Add("TOUCH").UNum(Be32(U(r.extras)));
  if (r.cmd != kTouch) argv_.Add("WARM");  // a read: GET*, GAT* (TOUCH reads nothing)
  const McReply& rep = b_.Exec(argv_.Add("BRIEF"));
  if (rep.status == McStatus::kBlocked) {  // nothing written yet: re-read once warmed
    blocked_ = true;
    return;
  }
  if (rep.status == McStatus::kError) return HostError(r, rep);
  if (rep.status != McStatus::kHit) {
    if (r.quiet) return;
    if (!with_key) return Error(r, kKeyNotFound);
    Header(r, kKeyNotFound, 0, static_cast<uint16_t>(r.key.size()),
           static_cast<uint32_t>(r.key.size()), 0);
    out_.append(r.key);
    return;
  }
  std::string_view value = r.cmd == kTouch ? std::string_view() : rep.Str(0);
  uint16_t keylen = with_key ? static_cast<uint16_t>(r.key.size()) : 0;
  Header(r, kOk, 4, keylen, static_cast<uint32_t>(4 + keylen + value.size()),
         static_cast<uint64_t>(rep.Int(2)));
  PutBe(&out_, static_cast<uint32_t>(rep.Int(1)), 4);
  if (with_key) out_.append(r.key);
  out_.append(value);
}

void BinarySession::Store(const Req& r) {
  using namespace bin;
  const char* mode = r.cmd == kSet ? "SET" : r.cmd == kAdd ? "ADD" : "REPLACE";
  if (r.cas != 0) mode = "CAS";  // memcached turns any set/add/replace with a cas into cas
  argv_.Clear();
  argv_.Add("MC.SET").Add(r.key).Add(r.value).Add(mode).UNum(Be32(U(r.extras)));
  argv_.Add("EX").UNum(Be32(U(r.extras) + 4));  // unsigned on this wire: no negatives
  if (r.cas != 0) argv_.Add("CAS").UNum(r.cas);
  const McReply& rep = b_.Exec(argv_);
  switch (rep.status) {
    case McStatus::kStored: return Success(r, static_cast<uint64_t>(rep.Int(0)));
    case McStatus::kExists: return Error(r, kKeyExists);
    case McStatus::kNotFound: return Error(r, kKeyNotFound);
    case McStatus::kNotStored:
      return Error(r, r.cmd == kAdd ? kKeyExists : r.cmd == kReplace ? kKeyNotFound : kNotStored);
    default: return HostError(r, rep);
  }
}

void BinarySession::Concat(const Req& r) {
  argv_.Clear();
  argv_.Add("MC.SET").Add(r.key).Add(r.value).Add(r.cmd == bin::kAppend ? "APPEND" : "PREPEND");
  argv_.Add("0");
  if (r.cas != 0) argv_.Add("CAS").UNum(r.cas);
  const McReply& rep = b_.Exec(argv_);
  switch (rep.status) {
    case McStatus::kStored: return Success(r, static_cast<uint64_t>(rep.Int(0)));
    case McStatus::kExists: return Error(r, bin::kKeyExists);
    case McStatus::kNotStored: case McStatus::kNotFound: return Error(r, bin::kNotStored);
    default: return HostError(r, rep);
  }
}

void BinarySession::Delete(const Req& r) {
  argv_.Clear();
  argv_.Add("MC.DELETE").Add(r.key);
  if (r.cas != 0) argv_.Add("CAS").UNum(r.cas);
  const McReply& rep = b_.Exec(argv_);
  switch (rep.status) {
    case McStatus::kDeleted: return Success(r);
    case McStatus::kNotFound: return Error(r, bin::kKeyNotFound);
    case McStatus::kExists: return Error(r, bin::kKeyExists);
    default: return HostError(r, rep);
  }
}

void BinarySession::Arith(const Req& r) {
  const uint8_t* e = U(r.extras);
  uint64_t delta = Be64(e), initial = Be64(e + 8);
  uint32_t exptime = Be32(e + 16);
  argv_.Clear();
  argv_.Add("MC.ARITH").Add(r.key).Add(r.cmd == bin::kIncr ? "INCR" : "DECR").UNum(delta);
  if (r.cas != 0) argv_.Add("CAS").UNum(r.cas);
  // 0xffffffff: fail on a miss instead of creating the counter.
  if (exptime != 0xffffffffu) argv_.Add("INITIAL").UNum(initial).Add("VIVIFY").UNum(exptime);
  const McReply& rep = b_.Exec(argv_);
  switch (rep.status) {
    case McStatus::kHit: {
      std::string body;
      PutBe(&body, strtoull(std::string(rep.Str(0)).c_str(), nullptr, 10), 8);
      return Success(r, static_cast<uint64_t>(rep.Int(1)), body);
    }
    case McStatus::kNotFound: return Error(r, bin::kKeyNotFound);
    case McStatus::kNonNumeric: return Error(r, bin::kNonNumeric);
    case McStatus::kExists: return Error(r, bin::kKeyExists);
    default: return HostError(r, rep);
  }
}

void BinarySession::Flush(const Req& r) {
  argv_.Clear();
  argv_.Add("MC.FLUSH");
  if (r.extlen == 4) {
    uint32_t delay = Be32(U(r.extras));
    if (delay > 0) argv_.UNum(delay);
  }
  const McReply& rep = b_.Exec(argv_);
  if (rep.status != McStatus::kOk) return HostError(r, rep);
  Success(r);
}

void BinarySession::Stat(const Req& r) {
  if (const McReply* no = StatsRefused(b_)) return HostError(r, *no);
  std::vector<std::pair<std::string, std::string>> rows;
  std::string_view sub = r.key;
  if (sub.empty()) {
    rows = GeneralStats(b_);
  } else if (sub.substr(0, 8) == "settings") {
    rows = SettingsStats(b_);
  } else if (sub == "items" || sub == "slabs" || sub == "sizes") {
    ItemCensus census = TakeCensus(b_);  // the binary STAT answers in one go
    rows = sub == "items" ? ItemsRows(census, b_) : sub == "slabs" ? SlabsRows(census)
                                                                   : SizesRows(census);
  } else if (sub == "conns") {
    rows = ConnsRows(b_);
  } else if (sub.substr(0, 6) == "detail") {
    std::string_view arg = sub.substr(6);
    if (arg.substr(0, 3) != " on" && arg.substr(0, 4) != " off" && arg.substr(0, 5) != " dump") {
      return Error(r, bin::kKeyNotFound);
    }
  } else if (sub.substr(0, 5) != "reset") {
    return Error(r, bin::kKeyNotFound);
  }
  for (auto& [k, v] : rows) {
    Header(r, bin::kOk, 0, static_cast<uint16_t>(k.size()),
           static_cast<uint32_t>(k.size() + v.size()), 0);
    out_.append(k).append(v);
  }
  Header(r, bin::kOk, 0, 0, 0, 0);
}

// SASL PLAIN: value = authzid NUL authcid NUL passwd, checked by the host against
// requirepass / ACL users (conn_authenticate).
void BinarySession::SaslAuth(const Req& r) {
  if (r.key != "PLAIN") return Error(r, bin::kAuthError);
  std::string_view v = r.value;
  size_t a = v.find('\0');
  size_t b = a == std::string_view::npos ? a : v.find('\0', a + 1);
  if (b == std::string_view::npos) return Error(r, bin::kAuthError);
  std::string_view user = v.substr(a + 1, b - a - 1), pass = v.substr(b + 1);
  if (user.empty()) user = "default";
  if (!b_.Authenticate(user, pass)) return Error(r, bin::kAuthError);
  Success(r, 0, "Authenticated");
}

}  // namespace ferrite::proto::mc
