// FUNCTION DUMP / RESTORE payloads in Redis 7.0's format, so dumps move between Ferrite
// and redis-server: per library 0xf5 + RDB string(code), then RDB version (2 bytes LE)
// and CRC64-Jones (8 bytes LE) of everything before.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::mod::scripting {

class Engine;

enum class RestorePolicy { kAppend, kReplace, kFlush };

uint64_t Crc64(uint64_t crc, std::string_view data);
std::string DumpFunctions(const Engine& e);
// Returns "" on success, else the error reply text. Caller holds the engine mutex.
std::string RestoreFunctions(Engine& e, std::string_view payload, RestorePolicy policy);

}  // namespace ferrite::mod::scripting
