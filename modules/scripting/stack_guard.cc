#include "stack_guard.h"

#include <pthread.h>

#include <algorithm>

namespace ferrite::mod::scripting {

namespace {

// Kept free below the line: the error handler, replying, the host code a yield runs
// (ServeWhileBusy) and C functions that recurse without Lua instructions between levels
// (cjson.encode's 1000 levels, the parser's 200) all run in it.
constexpr size_t kReserve = 1u << 20;
// The most C stack one Lua instruction can add: string.gsub with a callback takes ~9 KB
// per level of at least 6 instructions; twice that and more, for paths not measured.
constexpr size_t kMaxGrowthPerInstruction = 4096;
// Lua never gets more than this, whatever the thread's stack (a main thread with an
// unlimited RLIMIT_STACK reports a huge one).
constexpr size_t kMaxLuaStack = 64u << 20;
constexpr int kMinInterval = 16;

uintptr_t Here() { return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)); }

// The lowest address of this thread's stack (x86-64 stacks grow down), 0 if unknown.
uintptr_t StackLow() {
  thread_local uintptr_t low = [] {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return uintptr_t{0};
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return reinterpret_cast<uintptr_t>(addr);
  }();
  return low;
}

}  // namespace

void StackGuard::Arm() {
  uintptr_t here = Here();
  uintptr_t line = here > kMaxLuaStack ? here - kMaxLuaStack : 0;
  if (uintptr_t low = StackLow(); low != 0) line = std::max(line, low + kReserve);
  line_ = line;
}

size_t StackGuard::Room() const {
  uintptr_t here = Here();
  return here > line_ ? here - line_ : 0;
}

int StackGuard::HookInterval(int max_interval) const {
  size_t n = Room() / kMaxGrowthPerInstruction;
  return static_cast<int>(std::clamp<size_t>(n, kMinInterval, static_cast<size_t>(max_interval)));
}

}  // namespace ferrite::mod::scripting
