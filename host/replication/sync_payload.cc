#include "host/replication/sync_payload.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "host/host.h"
#include "host/logging.h"

namespace ferrite::host::repl {

std::unique_ptr<SyncPayload> SyncPayload::Open(Host& h) {
  std::unique_ptr<SyncPayload> p(new SyncPayload());
  namespace fs = std::filesystem;
  fs::path dir = h.config().String("persistence.dir");
  p->dest_ = (dir / h.config().String("persistence.dbfilename")).string();
  p->temp_ = (dir / ("temp-" + std::to_string(h.clock().NowMs() / 1000) + "." +
                     std::to_string(::getpid()) + ".rdb")).string();
  p->fd_ = ::open(p->temp_.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (p->fd_ < 0) {
    Logger("host.replication")->warn(
        "Opening the temp file needed for MASTER <-> REPLICA synchronization: {}",
        strerror(errno));
    return nullptr;
  }
  return p;
}

SyncPayload::~SyncPayload() {
  if (mapped_) ::munmap(mapped_, static_cast<size_t>(size_));
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

bool SyncPayload::Append(const char* p, size_t n) {
  size_ += static_cast<int64_t>(n);
  size_t off = 0;
  while (off < n) {
    ssize_t w = ::write(fd_, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      Logger("host.replication")->warn(
          "Write error saving the DB from MASTER <-> REPLICA synchronization: {}",
          strerror(errno));
      return false;
    }
    off += static_cast<size_t>(w);
  }
  return true;
}

bool SyncPayload::Finish() {
  auto log = Logger("host.replication");
  // As Redis: fsync the temp file and rename it over dbfilename before loading, so a
  // replica restarted right after the sync finds its primary's dataset on disk.
  if (::fsync(fd_) != 0) {
    log->warn("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA "
              "synchronization: {}", strerror(errno));
    return false;
  }
  if (::rename(temp_.c_str(), dest_.c_str()) != 0) {
    log->warn("Failed trying to rename the temp DB into {} in MASTER <-> REPLICA "
              "synchronization: {}", dest_, strerror(errno));
    return false;
  }
  renamed_ = true;
  std::string dir = std::filesystem::path(dest_).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // the rename itself is durable too
    ::close(dfd);
  }
  ::close(fd_);
  fd_ = -1;
  if (size_ == 0) return true;  // nothing to map: the loader reports the empty file
  int rfd = ::open(dest_.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0) {
    log->warn("Failed opening the DB received from the MASTER: {}", strerror(errno));
    return false;
  }
  void* m = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, rfd, 0);
  ::close(rfd);
  if (m == MAP_FAILED) {
    log->warn("Failed mapping the DB received from the MASTER: {}", strerror(errno));
    return false;
  }
  ::madvise(m, static_cast<size_t>(size_), MADV_SEQUENTIAL);
  mapped_ = m;
  return true;
}

std::string_view SyncPayload::data() const {
  if (!mapped_) return {};
  return {static_cast<const char*>(mapped_), static_cast<size_t>(size_)};
}

}  // namespace ferrite::host::repl
