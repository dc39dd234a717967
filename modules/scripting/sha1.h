// SHA-1 (FIPS 180-1) for the script cache and redis.sha1hex. Not for security: Redis names
// scripts by the SHA-1 of their body, so we must produce the same 40 hex digits.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::mod::scripting {

// Lower-case hex digest of `data`, 40 characters.
std::string Sha1Hex(std::string_view data);

}  // namespace ferrite::mod::scripting
