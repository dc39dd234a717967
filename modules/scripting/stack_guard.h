// The C-stack guard for Lua code.
//
// PUC Lua (Redis) stops C-level recursion at 200 nested calls (LUAI_MAXCCALLS) with
// "C stack overflow". LuaJIT has no such limit: a chain of coroutines resuming each
// other, or string.gsub / table.sort / load callbacks calling themselves, recurse in C
// until the thread's stack runs out and the server dies (string.gsub alone keeps ~9 KB
// of C stack per level, and the Lua stack limit only bounds one coroutine's depth).
//
// The instruction hook measures the stack instead: every C-level recursion runs Lua
// instructions between its levels, so checking the stack pointer every N instructions
// bounds it, with N chosen from the room left so that even the steepest known growth per
// instruction cannot overshoot. Past the line the hook raises "C stack overflow", which a
// script can catch (pcall, coroutine.resume) exactly as in Redis.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferrite::mod::scripting {

class StackGuard {
 public:
  // Sets the line for Lua code run from here on, on the calling thread.
  void Arm();
  // Bytes of stack Lua may still use below the caller's frame (0 past the line).
  size_t Room() const;
  // How many instructions the hook may let run before it checks again.
  int HookInterval(int max_interval) const;

 private:
  uintptr_t line_ = 0;
};

}  // namespace ferrite::mod::scripting
