// The dataset being loaded at startup while the ports are already open. As Redis does,
// clients then get -LOADING (memcached clients SERVER_ERROR) for every command not
// flagged `loading`, instead of "connection refused", and INFO persistence reports the
// progress. Written by the loader thread, read by workers (INFO, the dispatch gate).
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ferrite::host {

// Thrown by the loader's progress callback when a shutdown was asked for (SIGTERM)
// during the startup load: the process exits without saving, as Redis does.
struct LoadInterrupted : std::runtime_error {
  LoadInterrupted() : std::runtime_error("shutdown requested while loading the dataset") {}
};

struct LoadingState {
  std::atomic<bool> active{false};
  std::atomic<int64_t> start_s{0};       // unix time the load began
  std::atomic<int64_t> total_bytes{0};   // size of the file being loaded
  std::atomic<int64_t> loaded_bytes{0};  // how far into it the loader is
  std::atomic<int64_t> keys{0};          // keys (RDB) or commands (AOF) loaded so far

  void Begin(int64_t now_s, int64_t total) {
    Reset(now_s, total);
    active = true;
  }
  void End() { active = false; }

  // Redis 7.0's async loading: a replica with repl-diskless-load swapdb loading a full
  // sync of the history it already holds keeps serving its current dataset meanwhile
  // (INFO async_loading:1, loading:0); only the commands Redis flags no-async-loading
  // (DeniedWhileAsyncLoading) get -LOADING. `active` stays false.
  std::atomic<bool> async{false};
  void BeginAsync(int64_t now_s, int64_t total) {
    Reset(now_s, total);
    async = true;
  }
  void EndAsync() { async = false; }
  // `name` is a command's or a subcommand's full name ("module|load").
  static bool DeniedWhileAsyncLoading(std::string_view name);

  // Redis' INFO persistence lines while loading (loading_start_time ...
  // loading_eta_seconds); "" when not loading.
  std::string InfoFields(int64_t now_s) const;

 private:
  void Reset(int64_t now_s, int64_t total) {
    start_s = now_s;
    total_bytes = total;
    loaded_bytes = 0;
    keys = 0;
  }
};

}  // namespace ferrite::host
