// The libFuzzer body both memcached codec targets share (FERRITE_FUZZ=ON, clang).
// Invariants: consumed <= input; a split delivery gives the same replies and backend
// calls as a whole one; every key reaching the backend is within memcached's limit.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mc_fake_backend.h"

namespace ferrite::proto::mc {

template <class Session>
void FuzzFeed(FakeBackend& b, const uint8_t* data, size_t size, size_t cut) {
  Session s(b);
  std::string pending(reinterpret_cast<const char*>(data), cut);
  size_t used = s.OnBytes(reinterpret_cast<const uint8_t*>(pending.data()), pending.size());
  if (used > pending.size()) abort();
  pending.erase(0, used);
  pending.append(reinterpret_cast<const char*>(data) + cut, size - cut);
  if (!s.closed()) {
    used = s.OnBytes(reinterpret_cast<const uint8_t*>(pending.data()), pending.size());
    if (used > pending.size()) abort();
  }
}

template <class Session>
int FuzzOne(const uint8_t* data, size_t size) {
  FakeBackend whole, split;
  FuzzFeed<Session>(whole, data, size, size);
  FuzzFeed<Session>(split, data, size, size / 2);
  for (auto& argv : whole.log) {
    if (argv.size() > 1 && argv[0].rfind("MC.", 0) == 0 && argv[0] != "MC.FLUSH" &&
        argv[0] != "MC.STATS" && argv[1].size() > 250) {
      abort();
    }
  }
  // A long line without a newline closes only when it is complete in one delivery, so
  // compare replies only when neither run closed early. stats replies carry rusage and
  // time (metadump's la= too), so their bytes are compared only through the backend
  // calls that produced them.
  bool stats = false;
  for (auto& argv : whole.log) stats = stats || argv[0] == "INFO" || argv[0] == "MC.DUMP";
  // `watch` and the dumps refuse to follow other replies of the same read, as memcached
  // does: that answer depends on where the input was cut, and so does what follows it.
  constexpr std::string_view kPipelined = "ERROR cannot pipeline other commands before";
  bool cut_dependent = whole.out.find(kPipelined) != std::string::npos ||
                       split.out.find(kPipelined) != std::string::npos;
  if (!whole.closed && !split.closed && !cut_dependent &&
      ((!stats && whole.out != split.out) || whole.log != split.log)) {
    abort();
  }
  return 0;
}

}  // namespace ferrite::proto::mc
