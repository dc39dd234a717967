#include "host/pidfile.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "host/logging.h"

namespace ferrite::host {

PidFile::PidFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  FILE* f = std::fopen(path_.c_str(), "w");
  if (!f || std::fprintf(f, "%d\n", static_cast<int>(getpid())) < 0 || std::fclose(f) != 0) {
    Logger("host")->warn("failed to write PID file {}: {}", path_, std::strerror(errno));
    return;
  }
  written_ = true;
  Logger("host")->debug("wrote PID file {}", path_);
}

PidFile::~PidFile() {
  if (written_) ::unlink(path_.c_str());
}

}  // namespace ferrite::host
