// Function libraries in RDB files: one RDB_OPCODE_FUNCTION2 with the library's code per
// library, after the AUX fields and before the first db, as Redis 7.0 writes them. The
// libraries belong to the scripting module; the host moves them with the module's own
// FUNCTION subcommands, run in-process the way a script's calls run (a host-made client,
// nothing propagated, no change counted): FUNCTION DUMP when saving, FUNCTION RESTORE
// when loading. With no module providing FUNCTION there is nothing to save, and a file's
// libraries are skipped with a log line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferrite::host {
class Host;
}

namespace ferrite::host::persist {

// The code of every library (FUNCTION DUMP). Returns false with *err when the module
// refused (its error text). The caller holds every shard lock (a snapshot's fork point)
// or runs alone.
bool DumpLibraries(Host& h, std::vector<std::string>* codes, std::string* err);

// FUNCTION RESTORE's policies: kAppend fails on a library that exists (Redis' load
// without RDBFLAGS_ALLOW_DUP), kReplace replaces it (DEBUG RELOAD MERGE), kFlush drops
// every library first (all or nothing: on failure the old ones stay).
enum class LibraryPolicy { kAppend, kReplace, kFlush };

// Creates the libraries `codes` (an empty list with kFlush: FUNCTION FLUSH). Returns ""
// or the module's error text.
std::string RestoreLibraries(Host& h, const std::vector<std::string>& codes,
                             LibraryPolicy policy);

}  // namespace ferrite::host::persist
