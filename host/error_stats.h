// Error replies by kind: INFO's total_error_replies and `# Errorstats` section, with
// Redis' rules (afterErrorReply / incrementErrorCount in Redis' networking.c and
// server.c). An error is filed under its first word ("ERR", "WRONGTYPE", "NOGROUP"...),
// looked for in its first 31 bytes; a message without a space there is filed as "ERR".
//
// At most 128 kinds are kept, as in Redis >= 7.2 (a script's redis.error_reply can make
// a new kind per call): the 129th distinct kind logs the kinds seen so far, empties the
// table and leaves one entry, ERRORSTATS_DISABLED (count 1); nothing more is filed by
// kind until CONFIG RESETSTAT. total_error_replies keeps counting throughout.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "ferrite/module.h"

namespace ferrite::host {

class ErrorStats {
 public:
  static constexpr size_t kMaxKinds = 128;

  // Files one error reply: `message` is its complete text without the leading '-'.
  void Count(std::string_view message);
  // Files an error given as the SDK's (code, detail), rendered as the RESP plugin would.
  void Count(ferrite_error_code code, std::string_view detail);
  // "errorstat_<KIND>:count=<n>\r\n" lines in byte order, as Redis' rax iterates.
  std::string InfoLines() const;
  // CONFIG RESETSTAT: forgets every kind and files new ones again.
  void Reset();
  // The kind `message` is filed under (tests, and Count).
  static std::string_view KindOf(std::string_view message);

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> kinds_;
  bool enabled_ = true;
};

}  // namespace ferrite::host
