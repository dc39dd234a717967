// The open-file limit against maxclients, as Redis' adjustOpenFilesLimit: every client
// is a descriptor, so a maxclients the limit cannot hold would end in accept() failing
// with EMFILE instead of clients getting "max number of clients reached".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ferrite::host {

// Descriptors kept back for everything that is not a client: listeners, epoll and event
// descriptors, log, AOF and RDB files, fork pipes, MODULE LOAD. Redis keeps 32
// (CONFIG_MIN_RESERVED_FDS); the host also adds what it holds open when it checks.
inline constexpr int64_t kMinReservedFds = 32;

struct FdLimitResult {
  int64_t maxclients;                 // what fits (<= the requested value)
  bool fatal = false;                 // not even one client fits: do not start
  std::vector<std::string> warnings;  // Redis' log lines, in order
  std::string notice;                 // set when the limit was raised
};

// Raises RLIMIT_NOFILE's soft limit towards maxclients + reserved (up to the hard limit,
// or beyond it when privileged) and, when that is not enough, lowers maxclients to fit.
FdLimitResult FitClientsToFdLimit(int64_t maxclients, int64_t reserved);

// Descriptors this process has open now (/proc/self/fd), or -1 when unknown.
int64_t OpenFdCount();

}  // namespace ferrite::host
