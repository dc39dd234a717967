#include "source_replies.h"

#include <charconv>
#include <vector>

namespace ferrite::migrate {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> Tokens(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsErrorLine(std::string_view line) {
  return line == "ERROR" || StartsWith(line, "ERROR ") || StartsWith(line, "CLIENT_ERROR") ||
         StartsWith(line, "SERVER_ERROR");
}

ListingLine ParseMetadump(std::string_view line, ListedKey* out) {
  std::optional<std::string> key;
  int64_t exp = -1;
  for (std::string_view tok : Tokens(line)) {
    if (StartsWith(tok, "key=")) {
      key = UriDecode(tok.substr(4));
      if (!key) return ListingLine::kIgnored;
    } else if (StartsWith(tok, "exp=")) {
      if (!ParseNumber(tok.substr(4), &exp)) return ListingLine::kIgnored;
    }
  }
  if (!key || key->empty() || key->size() > kMaxKeyLength) return ListingLine::kIgnored;
  out->key = std::move(*key);
  out->exptime = exp;
  return ListingLine::kKey;
}

ListingLine ParseMgdump(std::string_view line, ListedKey* out) {
  auto toks = Tokens(line);  // "mg" <key> [b]
  if (toks.size() < 2 || toks.size() > 3) return ListingLine::kIgnored;
  std::optional<std::string> key;
  if (toks.size() == 3) {
    if (toks[2] != "b") return ListingLine::kIgnored;
    key = Base64Decode(toks[1]);
  } else {
    key = std::string(toks[1]);
  }
  if (!key || key->empty() || key->size() > kMaxKeyLength) return ListingLine::kIgnored;
  out->key = std::move(*key);
  out->exptime = kUnknownExpiry;
  return ListingLine::kKey;
}

}  // namespace

ListingLine ParseListingLine(std::string_view line, ListedKey* out) {
  if (line == "END" || line == "EN") return ListingLine::kEnd;
  if (StartsWith(line, "BUSY")) return ListingLine::kBusy;
  if (IsErrorLine(line)) return ListingLine::kError;
  if (StartsWith(line, "key=")) return ParseMetadump(line, out);
  if (StartsWith(line, "mg ")) return ParseMgdump(line, out);
  return ListingLine::kIgnored;
}

std::optional<std::string> UriDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[j] = B64Value(c);
      if (v[j] < 0) return std::nullopt;
    }
    // Leftover bits must be zero: one encoding per byte string, as the fuzz target checks.
    if ((pad == 2 && (v[1] & 0xf) != 0) || (pad == 1 && (v[2] & 0x3) != 0)) return std::nullopt;
    uint32_t w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((w >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xff));
  }
  return out;
}

bool IsTextSafeKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (unsigned char c : key) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

MgHeader ParseMgHeader(std::string_view line) {
  MgHeader h;
  if (line == "EN") {
    h.kind = MgHeader::Kind::kMiss;
    return h;
  }
  auto toks = Tokens(line);
  if (toks.size() < 2 || toks[0] != "VA" || !ParseNumber(toks[1], &h.size)) return h;
  for (size_t i = 2; i < toks.size(); ++i) {
    std::string_view t = toks[i];
    bool ok = true;
    if (t[0] == 'f') ok = ParseNumber(t.substr(1), &h.flags);
    if (t[0] == 't') ok = ParseNumber(t.substr(1), &h.ttl);
    if (!ok) return MgHeader{};
  }
  h.kind = MgHeader::Kind::kValue;
  return h;
}

StoreOutcome ParseMetaStoreReply(std::string_view line) {
  if (line == "HD" || StartsWith(line, "HD ")) return StoreOutcome::kStored;
  if (line == "NS" || StartsWith(line, "NS ")) return StoreOutcome::kPresent;
  if (line == "SERVER_ERROR object too large for cache") return StoreOutcome::kTooLarge;
  return StoreOutcome::kFailed;
}

StoreOutcome ParseRespStoreReply(std::string_view line) {
  if (line == "+OK") return StoreOutcome::kStored;
  if (line == "$-1" || line == "_") return StoreOutcome::kPresent;
  if (StartsWith(line, "-ERR string exceeds maximum allowed size")) return StoreOutcome::kTooLarge;
  return StoreOutcome::kFailed;
}

std::optional<int64_t> ParseStatNumber(std::string_view line, std::string_view name) {
  if (!StartsWith(line, "STAT ")) return std::nullopt;
  line.remove_prefix(5);
  if (!StartsWith(line, name) || line.size() == name.size() || line[name.size()] != ' ') {
    return std::nullopt;
  }
  return ParseDecimal(line.substr(name.size() + 1));
}

std::optional<int64_t> ParseDecimal(std::string_view line) {
  int64_t v = 0;
  if (!ParseNumber(line, &v)) return std::nullopt;
  return v;
}

bool Version::AtLeast(int a, int b, int c) const {
  if (major != a) return major > a;
  if (minor != b) return minor > b;
  return patch >= c;
}

std::optional<Version> ParseVersion(std::string_view line) {
  if (!StartsWith(line, "VERSION ")) return std::nullopt;
  std::string_view v = line.substr(8);
  Version out;
  int* parts[3] = {&out.major, &out.minor, &out.patch};
  for (int i = 0; i < 3; ++i) {
    size_t end = 0;
    while (end < v.size() && v[end] >= '0' && v[end] <= '9') ++end;
    if (end == 0 || end > 6 || !ParseNumber(v.substr(0, end), parts[i])) return std::nullopt;
    v.remove_prefix(end);
    if (i < 2) {
      if (v.empty() || v[0] != '.') return std::nullopt;
      v.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace ferrite::migrate
