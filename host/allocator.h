// The allocator behind every malloc in the process and what it says about itself.
//
// ferrite-host links jemalloc when the build finds it (FERRITE_WITH_JEMALLOC), as Redis
// does: its size classes and per-size slabs keep RSS close to what is allocated after a
// workload changes value sizes, where glibc's heaps keep the freed holes. Plugins
// allocate through the same malloc (their malloc/free/malloc_usable_size calls resolve
// to the executable's jemalloc). Without it (sanitizer and fuzz builds) glibc's figures
// are reported.
#pragma once

#include <cstdint>
#include <string>

namespace ferrite::host {

struct AllocatorStats {
  int64_t allocated = 0;  // bytes handed out to the program
  int64_t active = 0;     // bytes in pages holding live allocations (>= allocated)
  int64_t resident = 0;   // bytes of the allocator's pages in RAM (>= active)
  int64_t mapped = 0;     // bytes of extents mapped by the allocator
  int64_t retained = 0;   // bytes unmapped back to the OS but kept as address space
};

// The process' resident set (/proc/self/statm), as Redis' used_memory_rss.
int64_t ProcessRssBytes();
// "jemalloc-5.3.0" or "libc".
std::string AllocatorName();
// Fresh figures (jemalloc: after an epoch refresh; glibc: mallinfo2, active = resident
// = the heap's arena size).
AllocatorStats ReadAllocatorStats();
// Bytes currently allocated by the program (the baseline of used_memory).
int64_t AllocatedBytes();
// Returns unused dirty pages to the OS (jemalloc: every arena's purge; glibc:
// malloc_trim). false when the allocator refused.
bool PurgeAllocator();
// The allocator's own report (MEMORY MALLOC-STATS); empty when it has none.
std::string AllocatorReport();
// Turns on jemalloc's background purging thread (Redis' jemalloc-bg-thread), so dirty
// pages go back to the OS on time even when the server is idle. No-op otherwise.
void StartAllocatorBackgroundThread();

}  // namespace ferrite::host
