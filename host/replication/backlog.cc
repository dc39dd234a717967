#include "host/replication/backlog.h"

#include <algorithm>
#include <cstring>

namespace ferrite::host::repl {

Backlog::Backlog(size_t size, int64_t master_offset)
    : buf_(std::max<size_t>(size, 1), '\0'), end_offset_(master_offset) {}

void Backlog::Append(std::string_view bytes) {
  end_offset_ += static_cast<int64_t>(bytes.size());
  const size_t cap = buf_.size();
  if (bytes.size() >= cap) {  // only the tail survives
    std::memcpy(buf_.data(), bytes.data() + bytes.size() - cap, cap);
    idx_ = 0;
    histlen_ = cap;
    return;
  }
  size_t first = std::min(bytes.size(), cap - idx_);
  std::memcpy(buf_.data() + idx_, bytes.data(), first);
  std::memcpy(buf_.data(), bytes.data() + first, bytes.size() - first);
  idx_ = (idx_ + bytes.size()) % cap;
  histlen_ = std::min(cap, histlen_ + bytes.size());
}

void Backlog::Resize(size_t size) {
  size = std::max<size_t>(size, 1);
  if (size == buf_.size()) return;
  std::string keep;
  CopyFrom(first_offset(), &keep);
  if (keep.size() > size) keep.erase(0, keep.size() - size);
  int64_t end = end_offset_;
  buf_.assign(size, '\0');
  idx_ = 0;
  histlen_ = 0;
  end_offset_ = end - static_cast<int64_t>(keep.size());
  Append(keep);
}

bool Backlog::CopyFrom(int64_t offset, std::string* out) const {
  out->clear();
  if (offset < first_offset() || offset > end_offset_ + 1) return false;
  size_t n = static_cast<size_t>(end_offset_ + 1 - offset);
  const size_t cap = buf_.size();
  size_t start = (idx_ + cap - n) % cap;  // n <= histlen_ <= cap
  size_t first = std::min(n, cap - start);
  out->append(buf_.data() + start, first);
  out->append(buf_.data(), n - first);
  return true;
}

}  // namespace ferrite::host::repl
