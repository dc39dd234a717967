// Progress of an import: a bar redrawn in place on a terminal (items/s, MB/s, ETA), or
// one log line every interval when stderr is a file or a pipe.
#pragma once

#include <chrono>
#include <cstdint>

#include "options.h"

namespace ferrite::migrate {

struct Counters {
  uint64_t listed = 0;      // keys the listing returned
  uint64_t filtered = 0;    // not under --prefix
  uint64_t resumed = 0;     // settled by an earlier run (--resume)
  uint64_t copied = 0;
  uint64_t present = 0;     // the target already had the key (add semantics)
  uint64_t expired = 0;     // expired before it could be copied
  uint64_t gone = 0;        // deleted or evicted from the source since the listing
  uint64_t too_large = 0;   // the target refused its size
  uint64_t failed = 0;      // the target refused it for another reason (logged)
  uint64_t bytes = 0;       // value bytes copied
  uint64_t Settled() const {
    return filtered + resumed + copied + present + expired + gone + too_large + failed;
  }
};

class Progress {
 public:
  Progress(ProgressMode mode, std::chrono::milliseconds interval);
  void Start(uint64_t total);
  void AddTotal(uint64_t more) { total_ += more; }
  void Update(const Counters& c, bool force = false);
  void Finish(const Counters& c);

 private:
  void Draw(const Counters& c, double elapsed);
  bool bar_;
  bool enabled_;
  std::chrono::milliseconds interval_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ferrite::migrate
