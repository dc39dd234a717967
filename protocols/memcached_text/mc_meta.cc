// Meta commands (mg ms md ma me mn) of memcached 1.6's text protocol: flag parsing and
// the HD/VA/EN/NF/NS/EX replies. Flags are single characters, each at most once; return
// flags are echoed in request order.
//
// The anti-stampede machinery (N, R, I and the W / X / Z return flags, mg `h`) rests on
// per-item bits the host keeps for the strings module (FERRITE_MC_*, mc_commands.h).
// Flags memcached 1.6.18 lacks are served as the newest protocol.txt documents them:
// E<cas>, md x, ms s, ms MA/MP N<ttl>, mg C<cas> (see docs/memcached.md).
#include <cstring>

#include "mc_text.h"

namespace ferrite::proto::mc {
namespace {

constexpr size_t kMaxOptTokens = 20;  // MFLAG_MAX_OPT_LENGTH, counted like memcached
constexpr size_t kMaxOpaque = 32;
constexpr std::string_view kBadFormat = "CLIENT_ERROR bad command line format";

struct MetaFlags {
  std::string key;  // decoded when 'b'
  bool binary_key = false, quiet = false, value = false, has_cas = false;
  bool vivify = false, new_ttl = false;
  bool no_update = false, has_recache = false, invalidate = false, has_cas_in = false;
  bool remove_val = false, has_flags = false;
  char mode = 0;
  int32_t exptime = 0, vivify_exp = 0, recache = 0;
  uint32_t client_flags = 0;
  uint64_t cas = 0, delta = 1, initial = 0, cas_in = 0;
};

bool ParseI32Tok(std::string_view s, int32_t* out) {
  int64_t v;
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  v = strtol(buf, &end, 10);
  if (errno == ERANGE || end == buf || *end != '\0') return false;
  *out = static_cast<int32_t>(v);
  return true;
}

// memcached's _meta_flag_preparse: duplicate / unknown flags stop at once; bad values
// are remembered and reported after the scan (the last message set wins).
bool Preparse(const std::vector<std::string_view>& t, size_t start, MetaFlags* f,
              std::string* err) {
  bool seen[128] = {};
  bool has_error = false;
  f->key = std::string(t[1]);
  for (size_t i = start; i < t.size(); i++) {
    unsigned char o = static_cast<unsigned char>(t[i][0]);
    std::string_view arg = t[i].substr(1);
    if (o >= 127 || seen[o]) {
      *err = "CLIENT_ERROR duplicate flag";
      return false;
    }
    seen[o] = true;
    auto bad = [&](const char* msg) {
      *err = msg;
      has_error = true;
    };
    switch (o) {
      case 'b':
        if (!Base64Decode(t[1], &f->key) || f->key.empty()) bad("CLIENT_ERROR error decoding key");
        f->binary_key = true;
        break;
      case 'N':
        f->vivify = true;
        if (!ParseI32Tok(arg, &f->vivify_exp)) bad("CLIENT_ERROR bad token in command line format");
        break;
      case 'T':
        f->new_ttl = true;
        if (!ParseI32Tok(arg, &f->exptime)) bad("CLIENT_ERROR bad token in command line format");
        break;
      case 'R':
        f->has_recache = true;
        if (!ParseI32Tok(arg, &f->recache)) bad("CLIENT_ERROR bad token in command line format");
        break;
      case 'F':  // memcached flags the error without a message of its own (see below)
        f->has_flags = true;
        if (!ParseU32(arg, &f->client_flags)) has_error = true;
        break;
      case 'E':  // explicit CAS for the item this request writes (memcached 1.6.19+)
        if (!ParseU64(arg, &f->cas_in)) bad("CLIENT_ERROR bad token in command line format");
        else f->has_cas_in = true;
        break;
      case 'C':
        if (!ParseU64(arg, &f->cas)) bad("CLIENT_ERROR bad token in command line format");
        else f->has_cas = true;
        break;
      case 'M':
        if (t[i].size() != 2) bad("CLIENT_ERROR incorrect length for M token");
        else f->mode = t[i][1];
        break;
      case 'J':
        if (!ParseU64(arg, &f->initial)) bad("CLIENT_ERROR invalid numeric initial value");
        break;
      case 'D':
        if (!ParseU64(arg, &f->delta)) bad("CLIENT_ERROR invalid numeric delta value");
        break;
      case 'q': f->quiet = true; break;
      case 'v': f->value = true; break;
      case 'u': f->no_update = true; break;
      case 'I': f->invalidate = true; break;
      case 'x': f->remove_val = true; break;  // md: empty the value, keep the item (1.6.19+)
      case 'O': case 'P': case 'L': case 'k': case 's': case 't': case 'c': case 'f':
      case 'l': case 'h':
        break;
      default:
        *err = "CLIENT_ERROR invalid flag";
        return false;
    }
  }
  // Only a bad F left no message: the caller's default, as in memcached.
  if (has_error && err->empty()) *err = std::string(kBadFormat);
  return !has_error;
}

bool OpaqueTooLong(const std::vector<std::string_view>& t, size_t start) {
  for (size_t i = start; i < t.size(); i++) {
    if (t[i][0] == 'O' && t[i].size() > kMaxOpaque) return true;
  }
  return false;
}

void AppendKey(std::string* out, const MetaFlags& f) {
  out->append(" k");
  if (f.binary_key) {
    out->append(Base64Encode(f.key)).append(" b");
  } else {
    out->append(f.key);
  }
}

// The O and k return flags every meta reply carries, in request order.
void AppendOpaqueKey(std::string* out, const std::vector<std::string_view>& t, size_t start,
                     const MetaFlags& f) {
  for (size_t i = start; i < t.size(); i++) {
    if (t[i][0] == 'O') out->append(" ").append(t[i]);
    if (t[i][0] == 'k') AppendKey(out, f);
  }
}

// The TTL a `t` at token i prints: memcached applies T, and N to an item it created, as it
// meets them in the flag list, so a t before them shows the TTL the item had (`before`)
// and one after the last shows the final TTL. NOTE: between two of them (T and N both on
// a created item) a relative exptime is printed as given; other forms print the final.
int64_t TtlAt(const std::vector<std::string_view>& t, size_t start, size_t i, bool created,
              int64_t before, int64_t after) {
  auto sets_ttl = [&](size_t j) { return t[j][0] == 'T' || (created && t[j][0] == 'N'); };
  size_t last = 0, last_before_i = 0;
  for (size_t j = start; j < t.size(); j++) {
    if (!sets_ttl(j)) continue;
    last = j;
    if (j < i) last_before_i = j;
  }
  if (last_before_i == 0) return before;
  if (last_before_i == last) return after;
  int32_t v = 0;
  constexpr int32_t kThirtyDays = 60 * 60 * 24 * 30;  // larger is an absolute time
  if (!ParseI32Tok(t[last_before_i].substr(1), &v) || v < 0 || v > kThirtyDays) return after;
  return v == 0 ? -1 : v;
}

size_t NTokens(const std::vector<std::string_view>& t) { return std::min<size_t>(t.size(), 23) + 1; }

// ms flags after the data length; errors here swallow the data block.
bool ParseMetaSet(const std::vector<std::string_view>& t, MetaFlags* f, const char** mode,
                  std::string* err) {
  if (!Preparse(t, 3, f, err)) return false;
  switch (f->mode) {  // memcached checks the mode before the return flags (O)
    case 0: case 'S': *mode = "SET"; break;
    case 'E': *mode = "ADD"; break;
    case 'A': *mode = "APPEND"; break;
    case 'P': *mode = "PREPEND"; break;
    case 'R': *mode = "REPLACE"; break;
    default: *err = "CLIENT_ERROR invalid mode for ms M token"; return false;
  }
  if (OpaqueTooLong(t, 3)) return *err = "CLIENT_ERROR opaque token too long", false;
  return true;
}

// TOUCH and VIVIFY in the order of T and N: on an item the request creates, the later
// one sets the TTL (mc_commands.h). RECACHE goes after TOUCH when R follows T, so it
// compares the touched TTL, as memcached applies flags in order.
void AddTouchVivify(McArgv& argv, const std::vector<std::string_view>& t, const MetaFlags& f) {
  bool n_first = true, seen_tn = false, r_after_t = false, seen_t = false;
  for (size_t i = 2; i < t.size(); i++) {
    if ((t[i][0] == 'T' || t[i][0] == 'N') && !seen_tn) {
      n_first = t[i][0] == 'N';
      seen_tn = true;
    }
    if (t[i][0] == 'T') seen_t = true;
    if (t[i][0] == 'R') r_after_t = seen_t;
  }
  if (f.has_recache && !r_after_t) argv.Add("RECACHE").Num(f.recache);
  if (f.vivify && n_first) argv.Add("VIVIFY").Num(f.vivify_exp);
  if (f.new_ttl) argv.Add("TOUCH").Num(f.exptime);
  if (f.vivify && !n_first) argv.Add("VIVIFY").Num(f.vivify_exp);
  if (f.has_recache && r_after_t) argv.Add("RECACHE").Num(f.recache);
}

}  // namespace

void TextSession::MetaGet(const Tokens& t) {
  if (t[1].size() > kKeyMaxLength) return Raw(std::string(kBadFormat) + "\r\n");
  if (NTokens(t) > kMaxOptTokens) return Raw("CLIENT_ERROR options flags are too long\r\n");
  MetaFlags f;
  std::string err;
  if (!Preparse(t, 2, &f, &err)) return Raw(err + "\r\n");
  if (OpaqueTooLong(t, 2)) {
    // memcached fetches the item before it meets the opaque: without a flag that makes
    // it lock the item (h l T N R) that fetch bumps it and marks it fetched.
    bool locks = false;
    for (size_t i = 2; i < t.size(); i++) locks = locks || strchr("hlTNR", t[i][0]) != nullptr;
    if (!locks && !f.no_update) {
      argv_.Clear();
      b_.Exec(argv_.Add("MC.GET").Add(f.key).Add("BRIEF"));  // no WARM: never parks
    }
    return Raw("CLIENT_ERROR opaque token too long\r\n");
  }
  argv_.Clear();
  if (f.new_ttl || f.vivify) {
    argv_.Add("MC.GAT").Add(f.key);
    AddTouchVivify(argv_, t, f);
    if (f.vivify && f.has_cas_in) argv_.Add("NEWCAS").UNum(f.cas_in);
    if (!f.vivify) argv_.Add("WARM");  // mg T: warmed, then touched; N creates instead
  } else {
    argv_.Add("MC.GET").Add(f.key).Add("WARM");
    if (f.has_recache) argv_.Add("RECACHE").Num(f.recache);
  }
  if (f.no_update) argv_.Add("NOBUMP");
  for (size_t i = 2; i < t.size(); i++) {
    if (t[i][0] == 'l') argv_.Add("IDLE");  // the idle time before this request's bump
  }
  const McReply& r = b_.Exec(argv_);
  if (r.status == McStatus::kBlocked) {  // nothing written yet: re-read once warmed
    blocked_ = true;
    return;
  }
  if (r.status == McStatus::kError) return Raw(TextErrorFor(r) + "\r\n");
  std::string& o = scratch_;
  o.clear();
  if (r.status != McStatus::kHit) {
    if (f.quiet) return;
    o.append("EN");
    AppendOpaqueKey(&o, t, 2, f);
    return Raw(o.append("\r\n"));
  }
  std::string_view value = r.Str(0);
  uint64_t item_cas = static_cast<uint64_t>(r.Int(2));
  uint32_t bits = static_cast<uint32_t>(r.Int(7));  // FERRITE_MC_* before this request
  if (f.has_cas && item_cas == f.cas) f.value = false;  // C<cas>: unchanged, no value
  if (f.value) {
    o.append("VA ").append(std::to_string(value.size()));
  } else {
    o.append("HD");
  }
  for (size_t i = 2; i < t.size(); i++) {
    switch (t[i][0]) {
      case 's': o.append(" s").append(std::to_string(value.size())); break;
      case 't':
        o.append(" t").append(std::to_string(TtlAt(t, 2, i, r.Int(5) == 1, r.Int(6), r.Int(3))));
        break;
      case 'c': o.append(" c").append(std::to_string(item_cas)); break;
      case 'f': o.append(" f").append(std::to_string(static_cast<uint32_t>(r.Int(1)))); break;
      case 'l': o.append(" l").append(std::to_string(r.Int(4))); break;
      case 'h': o.append((bits & FERRITE_MC_FETCHED) ? " h1" : " h0"); break;
      case 'O': o.append(" ").append(t[i]); break;
      case 'k': AppendKey(&o, f); break;
    }
  }
  // memcached's order: Z (a token is out) before X (stale), then W (this request won)
  if (bits & FERRITE_MC_WON) o.append(" Z");
  if (bits & FERRITE_MC_STALE) o.append(" X");
  if (r.Int(8) == 1) o.append(" W");
  o.append("\r\n");
  if (f.value) o.append(value).append("\r\n");
  Raw(o);
}

bool TextSession::MetaSet(const Tokens& t, std::string_view rest, size_t* data_used) {
  if (t[1].size() > kKeyMaxLength || t.size() == 2) {
    Raw(std::string(kBadFormat) + "\r\n");
    return true;
  }
  if (NTokens(t) > kMaxOptTokens) {
    Raw("CLIENT_ERROR options flags too long\r\n");
    return true;
  }
  int32_t vlen = 0;
  if (!ParseI32Tok(t[2], &vlen) || vlen < 0) {
    Raw(std::string(kBadFormat) + "\r\n");
    return true;
  }
  uint64_t block = static_cast<uint64_t>(vlen) + 2;
  MetaFlags f;
  std::string err;
  const char* mode = "SET";
  bool ok = ParseMetaSet(t, &f, &mode, &err);
  if (ok && vlen > b_.ItemSizeMax()) ok = false, err = "SERVER_ERROR object too large for cache";
  if (!ok) {
    Raw(err + "\r\n");
    swallow_ = block;
    return true;
  }
  if (rest.size() < block) return false;
  *data_used = block;
  if (rest.substr(vlen, 2) != "\r\n") {
    Raw("CLIENT_ERROR bad data chunk\r\n");
    return true;
  }
  std::string_view m(mode);
  if (f.has_cas && (m == "SET" || m == "REPLACE")) m = "CAS";
  bool concat = m == "APPEND" || m == "PREPEND";
  argv_.Clear();
  argv_.Add("MC.SET").Add(f.key).Add(rest.substr(0, vlen)).Add(m).UNum(f.client_flags);
  argv_.Add("EX").Num(f.new_ttl ? f.exptime : 0);
  if (f.has_cas && m != "ADD") argv_.Add("CAS").UNum(f.cas);
  if (f.invalidate && m == "CAS") argv_.Add("STALE");  // a lower CAS stores it stale
  // N autovivifies an append / prepend miss (memcached 1.6.19+; 1.6.18 answers NS)
  if (f.vivify && concat) argv_.Add("VIVIFY").Num(f.vivify_exp);
  if (f.has_cas_in) argv_.Add("NEWCAS").UNum(f.cas_in);
  const McReply& r = b_.Exec(argv_);
  std::string& o = scratch_;
  o.clear();
  switch (r.status) {
    case McStatus::kStored:
      if (f.quiet) return true;
      o = "HD";
      break;
    case McStatus::kNotStored: o = "NS"; break;
    case McStatus::kExists: o = "EX"; break;
    case McStatus::kNotFound: o = "NF"; break;
    default:
      Raw(TextErrorFor(r) + "\r\n");
      return true;
  }
  bool stored = r.status == McStatus::kStored;
  uint64_t cas = stored ? static_cast<uint64_t>(r.Int(0)) : 0;
  // s: the item's size after the store (an append's whole value), else the data's
  int64_t size = stored && r.size() >= 2 ? r.Int(1) : vlen;
  for (size_t i = 3; i < t.size(); i++) {
    if (t[i][0] == 'O') o.append(" ").append(t[i]);
    if (t[i][0] == 'k') AppendKey(&o, f);
    if (t[i][0] == 'c') o.append(" c").append(std::to_string(cas));
    if (t[i][0] == 's') o.append(" s").append(std::to_string(size));
  }
  Raw(o.append("\r\n"));
  return true;
}

void TextSession::MetaDelete(const Tokens& t) {
  if (t[1].size() > kKeyMaxLength) return Raw(std::string(kBadFormat) + "\r\n");
  if (NTokens(t) > kMaxOptTokens) return Raw("CLIENT_ERROR options flags too long\r\n");
  MetaFlags f;
  std::string err;
  if (!Preparse(t, 2, &f, &err)) return Raw("CLIENT_ERROR invalid or duplicate flag\r\n");
  if (OpaqueTooLong(t, 2)) return Raw("CLIENT_ERROR opaque token too long\r\n");
  argv_.Clear();
  argv_.Add("MC.DELETE").Add(f.key);
  if (f.has_cas) argv_.Add("CAS").UNum(f.cas);
  if (f.invalidate) argv_.Add("STALE");
  if (f.remove_val) argv_.Add("EMPTY");
  // T counts with I (the stale item's TTL) or x (the emptied item's); F only with x
  if (f.new_ttl && (f.invalidate || f.remove_val)) argv_.Add("TOUCH").Num(f.exptime);
  if (f.has_flags && f.remove_val) argv_.Add("FLAGS").UNum(f.client_flags);
  if (f.has_cas_in && (f.invalidate || f.remove_val)) argv_.Add("NEWCAS").UNum(f.cas_in);
  const McReply& r = b_.Exec(argv_);
  std::string& o = scratch_;
  switch (r.status) {
    case McStatus::kDeleted:
      if (f.quiet) return;
      o = "HD";
      break;
    case McStatus::kNotFound: o = "NF"; break;
    case McStatus::kExists: o = "EX"; break;
    default: return Raw(TextErrorFor(r) + "\r\n");
  }
  AppendOpaqueKey(&o, t, 2, f);
  Raw(o.append("\r\n"));
}

void TextSession::MetaArith(const Tokens& t) {
  if (t[1].size() > kKeyMaxLength) return Raw(std::string(kBadFormat) + "\r\n");
  if (NTokens(t) > kMaxOptTokens) return Raw("CLIENT_ERROR options flags too long\r\n");
  MetaFlags f;
  std::string err;
  if (!Preparse(t, 2, &f, &err)) return Raw("CLIENT_ERROR invalid or duplicate flag\r\n");
  bool incr = true;
  switch (f.mode) {
    case 0: case 'I': case '+': break;  // 1.6.18 refuses lower-case modes
    case 'D': case '-': incr = false; break;
    default: return Raw("CLIENT_ERROR invalid mode for ma M token\r\n");
  }
  if (OpaqueTooLong(t, 2)) return Raw("CLIENT_ERROR opaque token too long\r\n");
  argv_.Clear();
  argv_.Add("MC.ARITH").Add(f.key).Add(incr ? "INCR" : "DECR").UNum(f.delta);
  if (f.has_cas && f.cas != 0) argv_.Add("CAS").UNum(f.cas);  // ma C0: no compare (1.6.18)
  if (f.vivify) argv_.Add("INITIAL").UNum(f.initial);
  AddTouchVivify(argv_, t, f);
  if (f.has_cas_in) argv_.Add("NEWCAS").UNum(f.cas_in);
  const McReply& r = b_.Exec(argv_);
  std::string& o = scratch_;
  switch (r.status) {
    case McStatus::kHit: break;
    case McStatus::kNotFound: o = "NF"; AppendOpaqueKey(&o, t, 2, f); return Raw(o + "\r\n");
    case McStatus::kExists: o = "EX"; AppendOpaqueKey(&o, t, 2, f); return Raw(o + "\r\n");
    case McStatus::kNonNumeric:
      return Raw("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    default: return Raw(TextErrorFor(r) + "\r\n");
  }
  if (f.quiet && r.Int(3) != 1) return;  // q hides a hit, not the HD of a vivified item
  std::string_view num = r.Str(0);
  o = f.value ? "VA " + std::to_string(num.size()) : "HD";
  for (size_t i = 2; i < t.size(); i++) {
    switch (t[i][0]) {
      case 'c': o.append(" c").append(std::to_string(static_cast<uint64_t>(r.Int(1)))); break;
      case 't':
        o.append(" t").append(std::to_string(TtlAt(t, 2, i, r.Int(3) == 1, r.Int(4), r.Int(2))));
        break;
      case 'O': o.append(" ").append(t[i]); break;
      case 'k': AppendKey(&o, f); break;
    }
  }
  o.append("\r\n");
  if (f.value) o.append(num).append("\r\n");
  Raw(o);
}

void TextSession::MetaDebug(const Tokens& t) {
  if (t.size() < 2 || t[1].size() > kKeyMaxLength) return Raw(std::string(kBadFormat) + "\r\n");
  MetaFlags f;
  f.key = std::string(t[1]);
  if (t.size() >= 3 && t[2] == "b") {
    if (!Base64Decode(t[1], &f.key) || f.key.empty()) return Raw(std::string(kBadFormat) + "\r\n");
    f.binary_key = true;
  }
  argv_.Clear();
  const McReply& r = b_.Exec(argv_.Add("MC.META").Add(f.key));
  if (r.status == McStatus::kError) return Raw(TextErrorFor(r) + "\r\n");
  if (r.status != McStatus::kHit) return Raw("EN\r\n");
  // size: memcached's ITEM_ntotal (48-byte header, 8-byte cas, key + NUL, data + CRLF,
  // 4 bytes when flags are non-zero); cls: the size class `stats items`, `stats slabs`
  // and metadump file the item under (docs/observability.md), 1 from a strings module
  // that does not report it.
  uint64_t size = 56 + f.key.size() + 1 + static_cast<uint64_t>(r.Int(3)) + 2 +
                  (r.Int(4) != 0 ? 4 : 0);
  std::string o = "ME ";
  o.append(f.binary_key ? Base64Encode(f.key) : f.key);
  o.append(" exp=").append(std::to_string(r.Int(0)));
  o.append(" la=").append(std::to_string(r.Int(1)));
  o.append(" cas=").append(std::to_string(static_cast<uint64_t>(r.Int(2))));
  o.append((r.Int(5) & FERRITE_MC_FETCHED) ? " fetch=yes" : " fetch=no");
  int64_t cls = r.size() > 6 && r.Int(6) > 0 ? r.Int(6) : 1;
  o.append(" cls=").append(std::to_string(cls));
  o.append(" size=").append(std::to_string(size)).append("\r\n");
  Raw(o);
}

// ---------------------------------------------------------------------------------------
// base64 (RFC 4648, padded), as memcached's meta 'b' flag uses.
// ---------------------------------------------------------------------------------------

std::string Base64Encode(std::string_view in) {
  static const char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlpha[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int a = val(in[i]), b = val(in[i + 1]);
    if (a < 0 || b < 0) return false;
    bool last = i + 4 == in.size();
    bool pad2 = last && in[i + 2] == '=' && in[i + 3] == '=';
    bool pad1 = last && !pad2 && in[i + 3] == '=';
    int c = pad2 ? 0 : val(in[i + 2]);
    int d = (pad1 || pad2) ? 0 : val(in[i + 3]);
    if (c < 0 || d < 0) return false;
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out->push_back(static_cast<char>(v >> 16));
    if (!pad2) out->push_back(static_cast<char>((v >> 8) & 0xff));
    if (!pad1 && !pad2) out->push_back(static_cast<char>(v & 0xff));
  }
  return true;
}

}  // namespace ferrite::proto::mc
