// Parsers for what a memcached source and a Ferrite/Redis target send back to
// ferrite-migrate: key listings (`lru_crawler metadump` / `mgdump`), meta `mg`
// replies and store replies. Pure functions over one line, so the libFuzzer target
// (fuzz/source_replies_fuzz.cc) and the unit tests reach every one without a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferrite::migrate {

// memcached's text protocol refuses keys with control characters or spaces and keys
// longer than 250 bytes; such keys (stored over the binary protocol) travel base64
// encoded with the meta protocol's `b` flag.
inline constexpr size_t kMaxKeyLength = 250;

// One key of the source's listing. exptime is memcached's absolute expiry in the
// source's clock (-1: never), or kUnknownExpiry for an mgdump line, which has none.
struct ListedKey {
  std::string key;  // raw bytes, decoded
  int64_t exptime = -1;
};
inline constexpr int64_t kUnknownExpiry = INT64_MIN;

enum class ListingLine { kKey, kEnd, kBusy, kError, kIgnored };

// One line of `lru_crawler metadump` ("key=<uri-encoded> exp=<n> la=... \n") or of
// `lru_crawler mgdump` ("mg <key>[ b]\r\n"), the trailing "\r\n"/"\n" stripped. kKey
// fills *out; "END"/"EN" end the listing; "BUSY ..." means another crawl runs (retry);
// "ERROR"/"CLIENT_ERROR"/"SERVER_ERROR" is a refusal (the listing is off, `-X`, or no
// such command); anything else (an "OK" some servers send first) is kIgnored.
ListingLine ParseListingLine(std::string_view line, ListedKey* out);

// %XX decoding as memcached's metadump writes keys; nullopt on a malformed escape.
std::optional<std::string> UriDecode(std::string_view in);
std::string Base64Encode(std::string_view in);
std::optional<std::string> Base64Decode(std::string_view in);

// True when the key can be sent as is in a text/meta command.
bool IsTextSafeKey(std::string_view key);

// The header line of an `mg <key> v f t` reply: "VA <size> f<flags> t<ttl>" (a hit;
// ttl -1 = no expiry), "EN" (a miss), anything else an error.
struct MgHeader {
  enum class Kind { kValue, kMiss, kError } kind = Kind::kError;
  uint64_t size = 0;
  uint32_t flags = 0;
  int64_t ttl = -1;
};
MgHeader ParseMgHeader(std::string_view line);

// What the target said to one store: a memcached `ms ... ME` reply ("HD", "NS",
// "SERVER_ERROR object too large for cache", other errors) or a RESP `SET ... NX` reply
// ("+OK", "$-1", "-ERR ..."). For RESP, callers pass the first line of the reply.
enum class StoreOutcome { kStored, kPresent, kTooLarge, kFailed };
StoreOutcome ParseMetaStoreReply(std::string_view line);
StoreOutcome ParseRespStoreReply(std::string_view line);

// One line of a `stats` reply, "STAT <name> <value>": the value when the line names
// `name` and the value is a whole number, else nullopt.
std::optional<int64_t> ParseStatNumber(std::string_view line, std::string_view name);

// A RESP integer or bulk-string payload line that is a whole number ("1796679812").
std::optional<int64_t> ParseDecimal(std::string_view line);

// "VERSION 1.6.18" -> {1, 6, 18}; nullopt for anything else.
struct Version {
  int major = 0, minor = 0, patch = 0;
  bool AtLeast(int a, int b, int c) const;
};
std::optional<Version> ParseVersion(std::string_view line);

}  // namespace ferrite::migrate
