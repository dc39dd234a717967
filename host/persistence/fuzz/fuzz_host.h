// A Host for the loader fuzz targets: default config, the type plugins (strings, keys,
// lists, hashes, sets, zsets) from the build's plugins/ folder, a frozen clock. One per
// role, built once per process; Reset() empties it between inputs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferrite::host {
class Host;
}

namespace ferrite::host::persist::fuzz {

// kPrimary receives the fuzz input; kReplay reloads what kPrimary saved.
enum class Role { kPrimary, kReplay };

Host& FuzzHost(Role r);
// Frees every key of every db.
void Reset(Host& h);
// Keys in every db.
uint64_t CountKeys(Host& h);

// Prints `why` and aborts, so libFuzzer records the input as a crash; the corpus
// replay test installs a hook that throws instead (the hook must not return).
[[noreturn]] void Violation(const char* why);
using ViolationHook = void (*)(const char* why);
void SetViolationHook(ViolationHook hook);

}  // namespace ferrite::host::persist::fuzz
