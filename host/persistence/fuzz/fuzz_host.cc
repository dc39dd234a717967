#include "host/persistence/fuzz/fuzz_host.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "host/context.h"
#include "host/host.h"

namespace ferrite::host::persist::fuzz {

namespace {

std::unique_ptr<Host> Make() {
  auto h = std::make_unique<Host>(std::make_unique<Config>());
  h->clock().Freeze();
  for (const char* p : {"strings", "keys", "lists", "hashes", "sets", "zsets", "streams"}) {
    std::string err = h->LoadPlugin(p);
    if (!err.empty()) {
      fprintf(stderr, "fuzz host: cannot load plugin %s: %s\n", p, err.c_str());
      abort();
    }
  }
  return h;
}

}  // namespace

Host& FuzzHost(Role r) {
  // Never destroyed: libFuzzer exits without unwinding, and plugin teardown order at
  // exit is not what these targets test.
  static Host* primary = Make().release();
  static Host* replay = Make().release();
  Host* h = r == Role::kPrimary ? primary : replay;
  SetCurrentHost(h);
  return *h;
}

void Reset(Host& h) {
  SetCurrentHost(&h);
  Keyspace& ks = h.keyspace();
  for (int s = 0; s < ks.num_shards(); s++)
    for (auto& t : ks.shard(s).dbs) t.Clear();
}

uint64_t CountKeys(Host& h) {
  Keyspace& ks = h.keyspace();
  uint64_t n = 0;
  for (int s = 0; s < ks.num_shards(); s++)
    for (auto& t : ks.shard(s).dbs) n += t.size();
  return n;
}

namespace {
ViolationHook g_hook = nullptr;
}

void SetViolationHook(ViolationHook hook) { g_hook = hook; }

void Violation(const char* why) {
  if (g_hook) g_hook(why);
  fprintf(stderr, "INVARIANT VIOLATED: %s\n", why);
  abort();
}

}  // namespace ferrite::host::persist::fuzz
