// Where a replica puts a full sync's RDB while it arrives (repl-diskless-load):
//   disk    a temp file in `dir` (Redis' temp-<unixtime>.<pid>.rdb), written as the bytes
//           come, fsynced and renamed over dbfilename once whole, then mapped read-only
//           for the loader: the payload never sits in the heap;
//   memory  a buffer (on-empty-db with no key, swapdb: Redis parses those straight from
//           the socket; Ferrite's loader reads a whole buffer, so the payload is held
//           until it is complete, then loaded).
// A transfer cut short leaves the dataset untouched in both: the temp file is removed.
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
  static std::unique_ptr<SyncPayload> Open(Host& h, bool to_disk);
  ~SyncPayload();
  SyncPayload(const SyncPayload&) = delete;
  SyncPayload& operator=(const SyncPayload&) = delete;

  bool Append(const char* p, size_t n);  // false (logged) on a write error
  // The whole payload arrived: on disk, fsync, rename over dbfilename and map it.
  bool Finish();
  // The payload (after Finish).
  std::string_view data() const;
  bool on_disk() const { return disk_; }
  int64_t size() const { return size_; }

 private:
  explicit SyncPayload(Host& h) : h_(h) {}
  Host& h_;
  bool disk_ = false;
  std::string mem_;
  int fd_ = -1;
  std::string temp_, dest_;
  bool renamed_ = false;
  void* mapped_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace ferrite::host::repl
