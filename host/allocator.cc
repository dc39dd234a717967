#include "host/allocator.h"

#include <unistd.h>

#include <fstream>

#ifdef FERRITE_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif

#ifdef __SANITIZE_ADDRESS__
// From the ASan runtime (sanitizer/allocator_interface.h, which GCC does not install).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
extern "C" size_t __sanitizer_get_heap_size();
#endif

namespace ferrite::host {

int64_t ProcessRssBytes() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return static_cast<int64_t>(rss) * sysconf(_SC_PAGESIZE);
}

#ifdef FERRITE_WITH_JEMALLOC

namespace {

int64_t ReadSize(const char* name) {
  size_t v = 0, sz = sizeof(v);
  return mallctl(name, &v, &sz, nullptr, 0) == 0 ? static_cast<int64_t>(v) : 0;
}

void RefreshEpoch() {
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);  // statistics are cached until the epoch moves
}

}  // namespace

std::string AllocatorName() {
  const char* v = nullptr;
  size_t sz = sizeof(v);
  if (mallctl("version", &v, &sz, nullptr, 0) != 0 || !v) return "jemalloc";
  std::string s(v);
  return "jemalloc-" + s.substr(0, s.find('-'));
}

AllocatorStats ReadAllocatorStats() {
  RefreshEpoch();
  AllocatorStats s;
  s.allocated = ReadSize("stats.allocated");
  s.active = ReadSize("stats.active");
  s.resident = ReadSize("stats.resident");
  s.mapped = ReadSize("stats.mapped");
  s.retained = ReadSize("stats.retained");
  return s;
}

int64_t AllocatedBytes() {
  RefreshEpoch();
  return ReadSize("stats.allocated");
}

bool PurgeAllocator() {
  // MALLCTL_ARENAS_ALL (4096) addresses every arena at once.
  return mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0;
}

std::string AllocatorReport() {
  std::string out;
  malloc_stats_print(
      [](void* ud, const char* s) { static_cast<std::string*>(ud)->append(s); }, &out,
      nullptr);
  return out;
}

void StartAllocatorBackgroundThread() {
  bool on = true;
  mallctl("background_thread", nullptr, nullptr, &on, sizeof(on));
}

#else  // glibc (or a sanitizer's allocator)

std::string AllocatorName() { return "libc"; }

AllocatorStats ReadAllocatorStats() {
  AllocatorStats s;
#ifdef __SANITIZE_ADDRESS__
  s.allocated = static_cast<int64_t>(__sanitizer_get_current_allocated_bytes());
  s.active = s.resident = s.mapped = static_cast<int64_t>(__sanitizer_get_heap_size());
#else
  struct mallinfo2 mi = mallinfo2();
  s.allocated = static_cast<int64_t>(mi.uordblks + mi.hblkhd);
  s.active = s.resident = s.mapped = static_cast<int64_t>(mi.arena + mi.hblkhd);
#endif
  return s;
}

int64_t AllocatedBytes() { return ReadAllocatorStats().allocated; }

bool PurgeAllocator() {
#ifndef __SANITIZE_ADDRESS__
  malloc_trim(0);
#endif
  return true;
}

std::string AllocatorReport() { return {}; }

void StartAllocatorBackgroundThread() {}

#endif

}  // namespace ferrite::host
