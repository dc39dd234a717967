#include "list_value.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace ferrite::mod::lists {

namespace {

struct Header {
  uint32_t bytes;
  uint32_t count;
};

size_t VarintSize(size_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

size_t PutVarint(char* out, size_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

size_t GetVarint(const char* in, size_t* v) {
  size_t r = 0, n = 0;
  int shift = 0;
  for (;;) {
    uint8_t b = static_cast<uint8_t>(in[n++]);
    r |= static_cast<size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  *v = r;
  return n;
}

}  // namespace

namespace {
std::atomic<size_t> g_plain_threshold{size_t{1} << 30};

// Entries of a node are (length, bytes); EntrySize grows with the length, so comparing
// entry sizes compares lengths.
bool IsPlainEntry(size_t entry_bytes) {
  return entry_bytes > Node::EntrySize(g_plain_threshold.load(std::memory_order_relaxed));
}
}  // namespace

void SetPlainThreshold(size_t bytes) { g_plain_threshold.store(bytes, std::memory_order_relaxed); }
size_t PlainThreshold() { return g_plain_threshold.load(std::memory_order_relaxed); }

size_t FillBytes(int64_t fill) {
  int64_t level = fill < -5 ? 5 : -fill;  // -1 .. -5
  if (level < 1) level = 1;
  return static_cast<size_t>(4096) << (level - 1);
}

// ------------------------------------------------------------------------------------
// Node
// ------------------------------------------------------------------------------------

Node::Node() : p_(nullptr) {}
Node::~Node() { free(p_); }

Node& Node::operator=(Node&& o) noexcept {
  if (this != &o) {
    free(p_);
    p_ = o.p_;
    o.p_ = nullptr;
  }
  return *this;
}

Node Node::Clone() const {
  Node n;
  if (p_) {
    size_t sz = sizeof(Header) + Bytes();
    n.p_ = static_cast<char*>(malloc(sz));
    if (!n.p_) throw std::bad_alloc();
    memcpy(n.p_, p_, sz);
  }
  return n;
}

uint32_t Node::Count() const { return p_ ? reinterpret_cast<const Header*>(p_)->count : 0; }
uint32_t Node::Bytes() const { return p_ ? reinterpret_cast<const Header*>(p_)->bytes : 0; }
size_t Node::Allocated() const { return p_ ? malloc_usable_size(p_) : 0; }
char* Node::Data() const { return p_ + sizeof(Header); }
size_t Node::EntrySize(size_t len) { return VarintSize(len) + len; }

void Node::Reserve(size_t payload) {
  // Exact-size blocks: the allocator's own size classes give the slack; doubling would
  // cost up to 2x memory on every small list.
  char* np = static_cast<char*>(realloc(p_, sizeof(Header) + payload));
  if (!np) throw std::bad_alloc();
  if (!p_) memset(np, 0, sizeof(Header));
  p_ = np;
}

size_t Node::Read(size_t off, std::string_view* out) const {
  size_t len;
  const char* d = Data() + off;
  size_t h = GetVarint(d, &len);
  *out = std::string_view(d + h, len);
  return off + h + len;
}

size_t Node::OffsetOf(uint32_t i) const {
  size_t off = 0;
  std::string_view v;
  for (uint32_t k = 0; k < i; k++) off = Read(off, &v);
  return off;
}

void Node::Insert(size_t off, std::string_view v) {
  size_t add = EntrySize(v.size());
  size_t old = Bytes();
  Reserve(old + add);
  char* d = Data();
  memmove(d + off + add, d + off, old - off);
  size_t h = PutVarint(d + off, v.size());
  if (!v.empty()) memcpy(d + off + h, v.data(), v.size());
  auto* hd = reinterpret_cast<Header*>(p_);
  hd->bytes = static_cast<uint32_t>(old + add);
  hd->count++;
}

void Node::Erase(size_t off, size_t end_off, uint32_t n_entries) {
  size_t old = Bytes();
  char* d = Data();
  memmove(d + off, d + end_off, old - end_off);
  auto* hd = reinterpret_cast<Header*>(p_);
  hd->bytes = static_cast<uint32_t>(old - (end_off - off));
  hd->count -= n_entries;
  if (hd->count == 0) {
    free(p_);
    p_ = nullptr;
  } else {
    Reserve(hd->bytes);
  }
}

void Node::Replace(size_t off, std::string_view v) {
  std::string_view cur;
  size_t end = Read(off, &cur);
  Erase(off, end, 1);
  Insert(off, v);
}

void Node::Append(const Node& o) {
  if (!o.p_) return;
  size_t old = Bytes();
  Reserve(old + o.Bytes());
  memcpy(Data() + old, o.Data(), o.Bytes());
  auto* hd = reinterpret_cast<Header*>(p_);
  hd->bytes = static_cast<uint32_t>(old + o.Bytes());
  hd->count += o.Count();
}

// ------------------------------------------------------------------------------------
// ListValue
// ------------------------------------------------------------------------------------

ListValue ListValue::Clone() const {
  ListValue l;
  l.nodes_.reserve(nodes_.size());
  for (const auto& n : nodes_) l.nodes_.push_back(n.Clone());
  l.size_ = size_;
  return l;
}

size_t ListValue::MemUsage() const {
  size_t m = sizeof(*this) + nodes_.capacity() * sizeof(Node);
  for (const auto& n : nodes_) m += n.Allocated();
  return m;
}

bool ListValue::Fits(const Node& n, size_t add_bytes, uint32_t add_count,
                     int64_t fill) const {
  if (n.Count() == 0) return true;
  // A plain element shares its node with nobody (a merge of two nodes adds a node's
  // bytes: one plain element is add_count 1 as well).
  if (n.Count() == 1 && IsPlainEntry(n.Bytes())) return false;
  if (add_count == 1 && IsPlainEntry(add_bytes)) return false;
  if (fill > 0) return n.Count() + add_count <= static_cast<uint64_t>(fill);
  return n.Bytes() + add_bytes <= FillBytes(fill);
}

size_t ListValue::Locate(size_t i, uint32_t* local) const {
  if (i < size_ / 2) {
    for (size_t ni = 0; ni < nodes_.size(); ni++) {
      if (i < nodes_[ni].Count()) {
        *local = static_cast<uint32_t>(i);
        return ni;
      }
      i -= nodes_[ni].Count();
    }
  } else {
    size_t from_tail = size_ - 1 - i;
    for (size_t ni = nodes_.size(); ni-- > 0;) {
      uint32_t c = nodes_[ni].Count();
      if (from_tail < c) {
        *local = static_cast<uint32_t>(c - 1 - from_tail);
        return ni;
      }
      from_tail -= c;
    }
  }
  *local = 0;
  return nodes_.size();
}

void ListValue::Push(End end, std::string_view v, int64_t fill) {
  size_t add = Node::EntrySize(v.size());
  if (nodes_.empty()) nodes_.emplace_back();
  if (end == End::kHead) {
    if (!Fits(nodes_.front(), add, 1, fill)) nodes_.insert(nodes_.begin(), Node());
    nodes_.front().Insert(0, v);
  } else {
    if (!Fits(nodes_.back(), add, 1, fill)) nodes_.emplace_back();
    nodes_.back().Insert(nodes_.back().Bytes(), v);
  }
  size_++;
}

std::string ListValue::Pop(End end) {
  size_t ni = end == End::kHead ? 0 : nodes_.size() - 1;
  Node& n = nodes_[ni];
  size_t off = end == End::kHead ? 0 : n.OffsetOf(n.Count() - 1);
  std::string_view v;
  size_t next = n.Read(off, &v);
  std::string out(v);
  n.Erase(off, next, 1);
  if (n.Count() == 0) nodes_.erase(nodes_.begin() + static_cast<ptrdiff_t>(ni));
  size_--;
  return out;
}

std::string_view ListValue::At(size_t i) const {
  uint32_t local;
  size_t ni = Locate(i, &local);
  std::string_view v;
  nodes_[ni].Read(nodes_[ni].OffsetOf(local), &v);
  return v;
}

void ListValue::Set(size_t i, std::string_view v, int64_t fill) {
  uint32_t local;
  size_t ni = Locate(i, &local);
  nodes_[ni].Replace(nodes_[ni].OffsetOf(local), v);
  if (IsPlainEntry(Node::EntrySize(v.size()))) return Isolate(ni, local);
  Rebalance(ni, fill);
}

void ListValue::InsertAt(size_t i, std::string_view v, int64_t fill) {
  if (i == 0) return Push(End::kHead, v, fill);
  if (i >= size_) return Push(End::kTail, v, fill);
  uint32_t local;
  size_t ni = Locate(i, &local);
  nodes_[ni].Insert(nodes_[ni].OffsetOf(local), v);
  size_++;
  if (IsPlainEntry(Node::EntrySize(v.size()))) return Isolate(ni, local);
  Rebalance(ni, fill);
}

void ListValue::Isolate(size_t ni, uint32_t local) {
  Node& n = nodes_[ni];
  if (n.Count() == 1) return;
  // [before][the element][after]: the tail pieces move out, the head stays in place.
  size_t at = n.OffsetOf(local);
  std::string_view v;
  size_t next = n.Read(at, &v);
  Node mine, after;
  mine.Insert(0, v);
  for (size_t off = next; off < n.EndOffset();) {
    std::string_view e;
    off = n.Read(off, &e);
    after.Insert(after.Bytes(), e);
  }
  uint32_t tail = n.Count() - local;
  n.Erase(at, n.EndOffset(), tail);
  const bool head_empty = n.Count() == 0;  // `n` dangles once nodes_ grows
  auto pos = nodes_.begin() + static_cast<ptrdiff_t>(ni) + 1;
  if (after.Count()) pos = nodes_.insert(pos, std::move(after));
  nodes_.insert(pos, std::move(mine));
  if (head_empty) nodes_.erase(nodes_.begin() + static_cast<ptrdiff_t>(ni));
}

// Splits an overfull node in two and merges a node with a neighbour when both fit in
// one, so nodes stay near the fill limit after edits in the middle.
void ListValue::Rebalance(size_t ni, int64_t fill) {
  Node& n = nodes_[ni];
  if (n.Count() > 1 && !Fits(n, 0, 0, fill)) {
    uint32_t half = n.Count() / 2;
    size_t mid = n.OffsetOf(half);
    Node right;
    for (size_t off = mid; off < n.EndOffset();) {
      std::string_view v;
      off = n.Read(off, &v);
      right.Insert(right.Bytes(), v);
    }
    n.Erase(mid, n.EndOffset(), n.Count() - half);
    nodes_.insert(nodes_.begin() + static_cast<ptrdiff_t>(ni) + 1, std::move(right));
  } else if (n.Count() == 0) {
    nodes_.erase(nodes_.begin() + static_cast<ptrdiff_t>(ni));
  } else {
    for (size_t other : {ni + 1, ni}) {
      if (other == 0 || other >= nodes_.size()) continue;
      Node& a = nodes_[other - 1];
      Node& b = nodes_[other];
      if (Fits(a, b.Bytes(), b.Count(), fill)) {
        a.Append(b);
        nodes_.erase(nodes_.begin() + static_cast<ptrdiff_t>(other));
        break;
      }
    }
  }
}

void ListValue::EraseRange(size_t start, size_t n, int64_t fill) {
  if (start >= size_ || n == 0) return;
  if (n > size_ - start) n = size_ - start;
  uint32_t local;
  size_t ni = Locate(start, &local);
  size_t left = n;
  while (left && ni < nodes_.size()) {
    Node& node = nodes_[ni];
    uint32_t take = static_cast<uint32_t>(std::min<size_t>(left, node.Count() - local));
    size_t off = node.OffsetOf(local);
    size_t end = off;
    std::string_view v;
    for (uint32_t k = 0; k < take; k++) end = node.Read(end, &v);
    node.Erase(off, end, take);
    left -= take;
    if (node.Count() == 0) {
      nodes_.erase(nodes_.begin() + static_cast<ptrdiff_t>(ni));
    } else {
      ni++;
    }
    local = 0;
  }
  size_ -= n;
  if (!nodes_.empty()) Rebalance(std::min(ni, nodes_.size() - 1), fill);
}

size_t ListValue::Remove(std::string_view v, int64_t count, int64_t fill) {
  // Mark the positions to drop, then rebuild once: O(n) whatever the number of hits.
  std::vector<bool> drop(size_, false);
  size_t removed = 0;
  uint64_t limit = count == 0 ? UINT64_MAX
                              : (count < 0 ? static_cast<uint64_t>(-(count + 1)) + 1
                                           : static_cast<uint64_t>(count));
  if (count >= 0) {
    size_t i = 0;
    ForEach([&](std::string_view e) {
      if (e == v) {
        drop[i] = true;
        removed++;
      }
      i++;
      return removed < limit;
    });
  } else {
    ForEachReverse([&](std::string_view e, size_t i) {
      if (e == v) {
        drop[i] = true;
        removed++;
      }
      return removed < limit;
    });
  }
  if (!removed) return 0;
  ListValue out;
  size_t i = 0;
  ForEach([&](std::string_view e) {
    if (!drop[i++]) out.Push(End::kTail, e, fill);
    return true;
  });
  *this = std::move(out);
  return removed;
}

}  // namespace ferrite::mod::lists
