#include "host/loading.h"

#include <cstdio>

namespace ferrite::host {

bool LoadingState::DeniedWhileAsyncLoading(std::string_view name) {
  // Redis 7.0's commands flagged NO_ASYNC_LOADING (src/commands/*.json) that Ferrite has,
  // by full name ("cluster|setslot" for a subcommand): they would save, resync or
  // reconfigure around a dataset about to be replaced. COMMAND INFO reports the same set.
  static constexpr std::string_view kDenied[] = {
      "bgrewriteaof",       "bgsave",           "save",
      "psync",              "sync",             "replicaof",
      "slaveof",            "cluster|addslots", "cluster|addslotsrange",
      "cluster|bumpepoch",  "cluster|delslots", "cluster|delslotsrange",
      "cluster|failover",   "cluster|flushslots", "cluster|forget",
      "cluster|meet",       "cluster|replicate", "cluster|saveconfig",
      "cluster|set-config-epoch", "cluster|setslot", "module|load",
      "module|loadex",      "module|unload"};
  for (auto d : kDenied) {
    if (d.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < d.size() && eq; i++) eq = (name[i] | 0x20) == d[i];
    if (eq) return true;
  }
  return false;
}

std::string LoadingState::InfoFields(int64_t now_s) const {
  if (!active.load() && !async.load()) return "";
  int64_t total = total_bytes.load(), loaded = loaded_bytes.load(), start = start_s.load();
  double perc = total > 0 ? static_cast<double>(loaded) / static_cast<double>(total) * 100 : 0;
  int64_t remaining = total > 0 ? total - loaded : 1;
  int64_t elapsed = now_s - start;
  // Redis' estimate: a fake 1 s in the first second, then linear in bytes.
  int64_t eta = elapsed <= 0 ? 1 : elapsed * remaining / (loaded + 1);
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "loading_start_time:%lld\r\nloading_total_bytes:%lld\r\n"
                        "loading_rdb_used_mem:0\r\nloading_loaded_bytes:%lld\r\n"
                        "loading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
                        static_cast<long long>(start), static_cast<long long>(total),
                        static_cast<long long>(loaded), perc, static_cast<long long>(eta));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace ferrite::host
