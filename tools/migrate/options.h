// ferrite-migrate's command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ferrite::migrate {

enum class TargetKind { kMemcached, kRedis };
enum class ListingKind { kAuto, kMetadump, kMgdump };
enum class ProgressMode { kAuto, kBar, kLines, kNone };

struct Endpoint {
  std::string host;
  int port = 0;
  std::string Text() const { return host + ":" + std::to_string(port); }
};

struct Options {
  Endpoint from;
  Endpoint to;
  TargetKind to_kind = TargetKind::kMemcached;
  std::string prefix;          // only keys starting with it
  uint64_t rate = 0;           // items per second, 0 = unlimited
  std::string from_user, from_password;  // memcached's text-protocol auth (-Y authfile)
  std::string resume_file;
  int passes = 3;             // listing passes at most (see importer.cc)
  size_t batch = 500;          // keys per mg / store pipeline
  std::chrono::milliseconds timeout{10000};
  ListingKind listing = ListingKind::kAuto;
  ProgressMode progress = ProgressMode::kAuto;
  std::chrono::milliseconds progress_interval{5000};
};

// Parses argv; on --help prints usage and exits 0; on a bad argument throws
// std::invalid_argument with a message naming it.
Options ParseOptions(const std::vector<std::string>& args);
const char* Usage();

}  // namespace ferrite::migrate
