// The replication backlog: the last `size` bytes of the replication stream, by offset,
// for partial resynchronization (Redis' repl_backlog). Offsets are Redis' byte
// offsets: the stream's first byte is offset 1, master_repl_offset is the last byte's.
// Not thread-safe: the replication service guards it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::host::repl {

class Backlog {
 public:
  // Starts empty right after `master_offset` (the next byte fed is master_offset + 1).
  Backlog(size_t size, int64_t master_offset);

  void Append(std::string_view bytes);
  // CONFIG SET repl-backlog-size: keeps the newest bytes that fit.
  void Resize(size_t size);

  // The bytes from `offset` (1-based, inclusive) to the end, or false when `offset` is
  // not in the backlog (too old, overwritten, or in the future).
  bool CopyFrom(int64_t offset, std::string* out) const;

  size_t size() const { return buf_.size(); }
  int64_t histlen() const { return static_cast<int64_t>(histlen_); }
  // repl_backlog_first_byte_offset: the offset of the oldest byte held.
  int64_t first_offset() const { return end_offset_ - static_cast<int64_t>(histlen_) + 1; }
  int64_t end_offset() const { return end_offset_; }  // == master_repl_offset

 private:
  std::string buf_;
  size_t idx_ = 0;      // where the next byte goes
  size_t histlen_ = 0;  // valid bytes, <= buf_.size()
  int64_t end_offset_;  // offset of the last byte appended
};

}  // namespace ferrite::host::repl
