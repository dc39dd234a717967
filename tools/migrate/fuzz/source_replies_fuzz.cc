// libFuzzer target for ferrite-migrate's reply parsers (source_replies.h): every line a
// source or target can send. Invariants beyond "no crash": a listed key is non-empty
// and at most 250 bytes; parsing is deterministic; base64 of any bytes decodes back to
// them and a decoded string re-encodes to its input; a URI-decoded key is never longer
// than its encoding; an mg value header never claims a size the line could not hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "source_replies.h"

using namespace ferrite::migrate;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void OneLine(std::string_view line) {
  ListedKey a, b;
  ListingLine ka = ParseListingLine(line, &a);
  ListingLine kb = ParseListingLine(line, &b);
  Check(ka == kb);
  if (ka == ListingLine::kKey) {
    Check(a.key == b.key && a.exptime == b.exptime);
    Check(!a.key.empty() && a.key.size() <= kMaxKeyLength);
  }
  MgHeader h = ParseMgHeader(line);
  MgHeader h2 = ParseMgHeader(line);
  Check(h.kind == h2.kind && h.size == h2.size && h.flags == h2.flags && h.ttl == h2.ttl);
  (void)ParseMetaStoreReply(line);
  (void)ParseRespStoreReply(line);
  if (auto t = ParseStatNumber(line, "time")) Check(line.substr(0, 10) == "STAT time ");
  if (auto d = ParseDecimal(line)) Check(std::to_string(*d).size() <= line.size());
  if (auto v = ParseVersion(line)) Check(v->major >= 0 && v->minor >= 0 && v->patch >= 0);
  if (auto d = UriDecode(line)) Check(d->size() <= line.size());
  std::string enc = Base64Encode(line);
  auto dec = Base64Decode(enc);
  Check(dec && *dec == line);
  if (auto d = Base64Decode(line)) Check(Base64Encode(*d) == line);
  Check(IsTextSafeKey(line) == IsTextSafeKey(line));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Each line separately, as the connection hands them over, and the whole input.
  size_t start = 0;
  while (start <= in.size()) {
    size_t nl = in.find('\n', start);
    std::string_view line = in.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    OneLine(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  OneLine(in);
  return 0;
}
