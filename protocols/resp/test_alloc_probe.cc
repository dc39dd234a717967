// Test-only replacement of global operator new that remembers the largest single
// allocation, so tests can prove a claimed length is never allocated up front.
// Kept in its own file so the compiler cannot pair these with inlined allocations.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_largest{0};
}

size_t LargestAllocationSinceReset() { return g_largest.load(); }
void ResetLargestAllocation() { g_largest = 0; }

void* operator new(size_t n) {
  size_t prev = g_largest.load();
  while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
