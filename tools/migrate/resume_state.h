// The --resume file: which keys an earlier run already settled (copied, found present,
// expired, too large), so a rerun after a failure skips them. Skipping matters beyond
// speed: a key copied earlier and deleted in Ferrite since must not come back from the
// source. Format: a header line naming the source and target, then one 16-hex-digit
// 64-bit hash per settled key, appended after each batch; a torn last line (the
// process died mid-write) is ignored on load.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_set>

namespace ferrite::migrate {

uint64_t KeyHash(std::string_view key);  // FNV-1a 64

class ResumeState {
 public:
  ResumeState() = default;  // no file: remembers nothing
  // Opens (creating) `path` for `header`; throws std::runtime_error naming the file
  // when it belongs to another source/target pair or cannot be written.
  ResumeState(const std::string& path, const std::string& header);
  ~ResumeState();
  ResumeState(const ResumeState&) = delete;
  ResumeState& operator=(const ResumeState&) = delete;

  bool Done(std::string_view key) const { return done_.count(KeyHash(key)) > 0; }
  size_t Loaded() const { return loaded_; }
  void Record(std::string_view key);
  void Flush();  // after each batch: what is recorded survives a crash of this process

 private:
  std::FILE* file_ = nullptr;
  std::unordered_set<uint64_t> done_;
  size_t loaded_ = 0;
  std::string pending_;
};

}  // namespace ferrite::migrate
