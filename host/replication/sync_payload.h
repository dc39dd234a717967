// Where a replica puts a full sync's RDB while it arrives when it loads from disk
// (repl-diskless-load disabled, or on-empty-db with keys): a temp file in `dir` (Redis'
// temp-<unixtime>.<pid>.rdb), written as the bytes come, fsynced and renamed over
// dbfilename once whole, then mapped read-only for the loader: the payload never sits
// in the heap. A transfer cut short removes the temp file and leaves the dataset
// untouched. (The other modes parse the payload from the socket: sync_load.cc.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ferrite::host {
class Host;
}

namespace ferrite::host::repl {

// Any key in any db (every shard lock taken briefly): on-empty-db's test.
bool KeyspaceHasKeys(Host& h);

class SyncPayload {
 public:
  // nullptr (logged) when the temp file cannot be created.
  static std::unique_ptr<SyncPayload> Open(Host& h);
  ~SyncPayload();
  SyncPayload(const SyncPayload&) = delete;
  SyncPayload& operator=(const SyncPayload&) = delete;

  bool Append(const char* p, size_t n);  // false (logged) on a write error
  // The whole payload arrived: fsync, rename over dbfilename and map it.
  bool Finish();
  // The payload (after Finish).
  std::string_view data() const;
  int64_t size() const { return size_; }

 private:
  SyncPayload() = default;
  int fd_ = -1;
  std::string temp_, dest_;
  bool renamed_ = false;
  void* mapped_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace ferrite::host::repl
