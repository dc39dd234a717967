#include "host/mirror_encode.h"

#include <charconv>
#include <string_view>

namespace ferrite::host {
namespace {

// memcached reads an exptime above 30 days as an absolute Unix time.
constexpr int64_t kRelativeMax = 60 * 60 * 24 * 30;

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x -= 32;
    if (y >= 'a' && y <= 'z') y -= 32;
    if (x != y) return false;
  }
  return true;
}

bool ToInt(std::string_view s, int64_t* v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

void AppendKey(std::string* out, std::string_view key, bool* b64) {
  *b64 = !MemcachedTextSafeKey(key);
  out->append(*b64 ? Base64Encode(key) : std::string(key));
}

// A PXAT deadline as memcached's exptime: seconds from now (rounded up, so the copy
// never expires first), absolute past 30 days; -1 when it has already passed.
int64_t Exptime(int64_t at_ms, int64_t now_ms) {
  if (at_ms <= now_ms) return -1;
  int64_t secs = (at_ms - now_ms + 999) / 1000;
  return secs > kRelativeMax ? (at_ms + 999) / 1000 : secs;
}

void Store(std::string* out, std::string_view key, std::string_view value, std::string_view flags,
           int64_t exptime, std::string_view mode) {
  bool b64;
  out->append("ms ");
  AppendKey(out, key, &b64);
  out->append(" ").append(std::to_string(value.size()));
  if (b64) out->append(" b");
  if (!flags.empty()) out->append(" F").append(flags);
  if (exptime > 0) out->append(" T").append(std::to_string(exptime));
  if (!mode.empty()) out->append(" ").append(mode);
  out->append(" q\r\n").append(value).append("\r\n");
}

void KeyCommand(std::string* out, std::string_view cmd, std::string_view key, std::string_view tail) {
  bool b64;
  out->append(cmd).append(" ");
  AppendKey(out, key, &b64);
  if (b64) out->append(" b");
  out->append(tail).append(" q\r\n");
}

// The memcached exptime the options from argv[i] on give: "EX <memcached exptime>" (the
// client's own number, as MC.SET propagates verbatim: 0 none, past 30 days absolute,
// negative expired) or "PXAT <ms>" (the deterministic form); 0 without either, -1 when
// it has already passed. Other options (CAS, BRIEF) do not change what is stored.
// *ok is false for an option it does not know.
int64_t TrailingExpiry(int argc, const ferrite_slice* argv, int i, int64_t now_ms, bool* ok) {
  *ok = true;
  int64_t exp = 0;
  for (; i + 1 < argc; i += 2) {
    std::string_view opt = SV(argv[i]);
    int64_t n = 0;
    if (!ToInt(SV(argv[i + 1]), &n)) {
      *ok = IEq(opt, "CAS");  // an unsigned 64-bit CAS may not fit: it is not needed
      if (!*ok) return 0;
      continue;
    }
    if (IEq(opt, "EX")) {
      exp = n < 0 ? -1 : n;
      if (n > kRelativeMax && n * 1000 <= now_ms) exp = -1;  // an absolute time passed
    } else if (IEq(opt, "PXAT")) {
      exp = Exptime(n, now_ms);
    } else if (!IEq(opt, "CAS") && !IEq(opt, "INITIAL")) {
      *ok = false;
      return 0;
    }
  }
  if (i != argc) *ok = IEq(SV(argv[i]), "BRIEF");
  return exp;
}

}  // namespace

bool MemcachedTextSafeKey(std::string_view key) {
  if (key.empty() || key.size() > 250) return false;
  for (unsigned char c : key)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

std::string Base64Encode(std::string_view in) {
  static constexpr char kB64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

void EncodeMirrorState(std::string_view key, const std::string_view* value, uint32_t flags,
                       int64_t expire_at_ms, int64_t now_ms, std::string* out) {
  int64_t exp = expire_at_ms < 0 ? 0 : Exptime(expire_at_ms, now_ms);
  if (value == nullptr || exp < 0) {
    KeyCommand(out, "md", key, "");
    return;
  }
  Store(out, key, *value, std::to_string(flags), exp, {});
}

bool EncodeMirrorCommand(int argc, const ferrite_slice* argv, const MirrorEncodeOptions& o,
                         std::string* out) {
  if (argc < 1) return false;
  std::string_view cmd = SV(argv[0]);
  if (IEq(cmd, "MC.SET") && argc >= 5) {
    std::string_view mode = SV(argv[3]);
    if (IEq(mode, "APPEND") || IEq(mode, "PREPEND")) {
      Store(out, SV(argv[1]), SV(argv[2]), {}, 0, IEq(mode, "APPEND") ? "MA" : "MP");
      return true;
    }
    bool ok;
    int64_t exp = TrailingExpiry(argc, argv, 5, o.now_ms, &ok);
    if (!ok) return false;
    if (exp < 0) {
      KeyCommand(out, "md", SV(argv[1]), "");
      return true;
    }
    Store(out, SV(argv[1]), SV(argv[2]), SV(argv[4]), exp, {});
    return true;
  }
  if (IEq(cmd, "SET") && argc >= 3) {
    if (!o.resp_strings) return false;
    // Propagated RESP SETs are plain or carry an absolute PXAT; anything else (KEEPTTL,
    // GET, NX...) has no memcached equivalent that is certainly right.
    int64_t at = 0;
    bool pxat = argc == 5 && IEq(SV(argv[3]), "PXAT") && ToInt(SV(argv[4]), &at);
    if (argc != 3 && !pxat) return false;
    int64_t exp = pxat ? Exptime(at, o.now_ms) : 0;
    if (exp < 0) KeyCommand(out, "md", SV(argv[1]), "");
    else Store(out, SV(argv[1]), SV(argv[2]), "0", exp, {});
    return true;
  }
  if (IEq(cmd, "MC.DELETE") && argc == 3 && IEq(SV(argv[2]), "STALE")) {
    KeyCommand(out, "md", SV(argv[1]), " I");  // memcached's stale mark (md I, ms I)
    return true;
  }
  if ((IEq(cmd, "DEL") || IEq(cmd, "UNLINK")) && argc >= 2) {
    for (int i = 1; i < argc; ++i) KeyCommand(out, "md", SV(argv[i]), "");
    return true;
  }
  if (IEq(cmd, "PEXPIREAT") && argc == 3) {
    int64_t at = 0;
    if (!ToInt(SV(argv[2]), &at)) return false;
    int64_t exp = Exptime(at, o.now_ms);
    if (exp < 0) KeyCommand(out, "md", SV(argv[1]), "");
    else KeyCommand(out, "mg", SV(argv[1]), " T" + std::to_string(exp));
    return true;
  }
  if (IEq(cmd, "PERSIST") && argc == 2) {
    KeyCommand(out, "mg", SV(argv[1]), " T0");
    return true;
  }
  if ((IEq(cmd, "FLUSHDB") || IEq(cmd, "FLUSHALL")) && argc <= 2) {
    out->append("flush_all noreply\r\n");
    return true;
  }
  return false;
}

}  // namespace ferrite::host
