// Redis' DUMP payload (createDumpPayload / verifyDumpPayload in redis/redis cluster.c):
// RDB type byte + value, RDB version (2 bytes LE), CRC-64 of all that (8 bytes LE).
// DUMP, RESTORE and MIGRATE (dump_commands.cc, migrate.cc) use it.
#pragma once

#include <string>
#include <string_view>

namespace ferrite::host {
class Host;
struct Entry;
}  // namespace ferrite::host

namespace ferrite::host::persist {

// The payload of one key's value (strings LZF-compressed like RDB when `compress`).
std::string DumpPayload(const Entry& e, bool compress);

// Long enough, a version this server reads (<= 10, Redis 7.0's RDB_VERSION), and a
// matching checksum.
bool VerifyDumpPayload(std::string_view payload);

void RegisterDumpCommands(Host* h);
// MIGRATE (migrate.cc).
void RegisterMigrateCommand(Host* h);

}  // namespace ferrite::host::persist
