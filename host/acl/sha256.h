// SHA-256 (OpenSSL's libcrypto), for ACL password hashes: Redis stores and shows passwords as the
// lower-case hex SHA-256 of the clear text, so `#<hash>` rules move between servers.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::host::acl {

// 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace ferrite::host::acl
