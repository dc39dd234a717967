// SIGINT and SIGTERM, on a thread of their own for the whole life of the process.
//
// The signals are blocked in every thread and taken with sigwait() by one watcher, so
// neither a worker inside a long command or script nor the startup load can keep them
// from being handled:
//   first signal   before the server runs (loading the data set): logged, and the
//                  process exits at once with status 0, as Redis does (nothing to save
//                  yet); afterwards: the shutdown callback (an orderly shutdown: running
//                  scripts are stopped, the final save follows shutdown-on-sigterm).
//   second signal  (or any signal once the server has stopped and main finishes, e.g.
//                  during the final save) logged, and the process exits at once with
//                  status 1, whatever still runs.
#pragma once

#include <functional>

namespace ferrite::host {

class Signals {
 public:
  // Blocks SIGINT/SIGTERM in the calling thread, and so in every thread it creates from
  // now on, then starts the watcher. Call first in main(), before any other thread.
  static void Start();
  // What the first signal does from now on (the argument is the signal number). Until
  // it is set, the first signal exits at once.
  static void OnShutdown(std::function<void(int)> fn);
  // The server has stopped (by signal or SHUTDOWN) and main is finishing (the final
  // save): the callback is dropped, and any signal now exits at once with status 1.
  static void Stopping();
  // A forked child takes the default actions again (a supervisor's SIGTERM ends it).
  static void ResetInChild();
};

}  // namespace ferrite::host
