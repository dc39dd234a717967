// memcached's uriencode (metadump, cachedump, `me`): every byte but [A-Za-z0-9-._~]
// becomes %XX. Header-only, so a module and a protocol plugin share it through the SDK.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::sdk {

inline void UriEncode(std::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : in) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

}  // namespace ferrite::sdk
