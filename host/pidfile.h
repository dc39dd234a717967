// server.pidfile: the process id written at startup and removed at a clean exit, as
// redis-server's `pidfile` (init scripts and monitoring read it).
#pragma once

#include <string>

namespace ferrite::host {

class PidFile {
 public:
  // Writes getpid() and a newline to `path` ("" = do nothing). As Redis, a pidfile that
  // cannot be written is a logged warning, not a startup error.
  explicit PidFile(std::string path);
  // Removes the file if this object wrote it.
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;

 private:
  std::string path_;
  bool written_ = false;
};

}  // namespace ferrite::host
