#include "host/fd_limit.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace ferrite::host {

FdLimitResult FitClientsToFdLimit(int64_t maxclients, int64_t reserved) {
  FdLimitResult r;
  r.maxclients = maxclients;
  const rlim_t want = static_cast<rlim_t>(maxclients + reserved);
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
    r.maxclients = 1024 - reserved;
    r.warnings.push_back("Unable to obtain the current NOFILE limit (" +
                         std::string(std::strerror(errno)) +
                         "), assuming 1024 and setting the max clients configuration "
                         "accordingly.");
    return r;
  }
  const rlim_t old = lim.rlim_cur;
  if (old >= want) return r;
  // Both limits at `want` (works when privileged), else the soft limit up to the hard.
  int err = 0;
  rlim_t best = old;
  rlimit both{want, want};
  if (setrlimit(RLIMIT_NOFILE, &both) == 0) {
    best = want;
  } else {
    err = errno;
    rlim_t soft = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    rlimit raised{soft, lim.rlim_max};
    if (soft > old && setrlimit(RLIMIT_NOFILE, &raised) == 0) best = soft;
  }
  if (best >= want) {
    r.notice = "Increased maximum number of open files to " + std::to_string(want) +
               " (it was originally set to " + std::to_string(old) + ").";
    return r;
  }
  if (static_cast<int64_t>(best) <= reserved) {
    r.fatal = true;
    r.warnings.push_back("Your current 'ulimit -n' of " + std::to_string(old) +
                         " is not enough for the server to start. Please increase your "
                         "open file limit to at least " + std::to_string(want) + ". Exiting.");
    return r;
  }
  r.maxclients = static_cast<int64_t>(best) - reserved;
  r.warnings.push_back("You requested maxclients of " + std::to_string(maxclients) +
                       " requiring at least " + std::to_string(want) +
                       " max file descriptors.");
  r.warnings.push_back("Server can't set maximum open files to " + std::to_string(want) +
                       " because of OS error: " + std::strerror(err ? err : EPERM) + ".");
  r.warnings.push_back("Current maximum open files is " + std::to_string(best) +
                       ". maxclients has been reduced to " + std::to_string(r.maxclients) +
                       " to compensate for low ulimit. If you need higher maxclients "
                       "increase 'ulimit -n'.");
  return r;
}

int64_t OpenFdCount() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int64_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace ferrite::host
