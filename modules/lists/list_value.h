// The list value: a quicklist of packed nodes.
//
// Each node is one malloc'd block holding a small header and the elements packed back to
// back as (LEB128 length, bytes) -- the same idea as Redis' listpack, with one allocation
// per node and no per-element pointers. Every list reports OBJECT ENCODING "quicklist",
// whatever its node count, as Redis 7.0 does (7.0 has no single-listpack list encoding;
// 7.2 added one): a client or tool compares the answer with 7.0's.
//
// Indexes taken by this API are already normalised (0 <= i < Size()); callers map Redis'
// negative indexes. No method throws except on allocation failure (std::bad_alloc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ferrite::mod::lists {

enum class End { kHead, kTail };

// One packed node. Owns its block; movable, not copyable (use Clone()).
class Node {
 public:
  Node();
  ~Node();
  Node(Node&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Node& operator=(Node&& o) noexcept;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  Node Clone() const;

  uint32_t Count() const;
  uint32_t Bytes() const;  // payload bytes (entries only)
  size_t Allocated() const;

  // Byte offsets of entries: Begin() is the first, End() one past the last.
  size_t Begin() const { return 0; }
  size_t EndOffset() const { return Bytes(); }
  // Reads the entry at `off` into *out and returns the next entry's offset.
  size_t Read(size_t off, std::string_view* out) const;
  // Offset of the i-th entry (0 <= i <= Count()).
  size_t OffsetOf(uint32_t i) const;

  void Insert(size_t off, std::string_view v);
  void Erase(size_t off, size_t end_off, uint32_t n_entries);
  void Replace(size_t off, std::string_view v);
  // Appends all entries of `o`.
  void Append(const Node& o);

  static size_t EntrySize(size_t len);

 private:
  char* Data() const;
  void Reserve(size_t payload);
  char* p_;
};

class ListValue {
 public:
  ListValue() = default;
  ListValue(ListValue&&) = default;
  ListValue& operator=(ListValue&&) = default;
  ListValue Clone() const;

  size_t Size() const { return size_; }
  bool Empty() const { return size_ == 0; }
  const char* Encoding() const { return "quicklist"; }
  size_t MemUsage() const;
  size_t NodeCount() const { return nodes_.size(); }

  // `fill` is list-max-listpack-size: > 0 entries per node, -1..-5 = 4..64 KB per node.
  void Push(End end, std::string_view v, int64_t fill);
  std::string Pop(End end);  // requires !Empty()
  std::string_view At(size_t i) const;
  void Set(size_t i, std::string_view v, int64_t fill);
  // Inserts before position i (i == Size() appends).
  void InsertAt(size_t i, std::string_view v, int64_t fill);
  // Removes `n` elements starting at position `start`.
  void EraseRange(size_t start, size_t n, int64_t fill);
  // LREM: removes up to |count| elements equal to v (count < 0 from the tail, 0 = all).
  size_t Remove(std::string_view v, int64_t count, int64_t fill);

  // Calls fn(element) for positions [start, end] in order; stops when fn returns false.
  template <class F>
  void ForRange(size_t start, size_t end, F&& fn) const;
  template <class F>
  void ForEach(F&& fn) const {
    if (size_) ForRange(0, size_ - 1, fn);
  }
  // Calls fn(element, index) from the tail to the head; stops when fn returns false.
  template <class F>
  void ForEachReverse(F&& fn) const;

 private:
  // Finds the node holding position i; *local receives the index inside it.
  size_t Locate(size_t i, uint32_t* local) const;
  bool Fits(const Node& n, size_t add_bytes, uint32_t add_count, int64_t fill) const;
  void Rebalance(size_t node, int64_t fill);
  // Moves the element at `local` of node `ni` into a node of its own (a plain element
  // that an LSET or LINSERT put among others).
  void Isolate(size_t ni, uint32_t local);

  std::vector<Node> nodes_;
  size_t size_ = 0;
};

// Node byte limit for a negative fill (-1 = 4096 ... -5 = 65536).
size_t FillBytes(int64_t fill);

// An element longer than this many bytes is "plain", as in Redis' quicklist: it gets a node
// of its own and no neighbour is ever packed with it, so an edit next to a huge element
// never moves it. Process-wide like quicklist's packed_threshold: 1 GB unless DEBUG
// QUICKLIST-PACKED-THRESHOLD changed it.
void SetPlainThreshold(size_t bytes);
size_t PlainThreshold();

template <class F>
void ListValue::ForRange(size_t start, size_t end, F&& fn) const {
  if (start > end || start >= size_) return;
  uint32_t local = 0;
  size_t ni = Locate(start, &local);
  size_t left = end - start + 1;
  for (; ni < nodes_.size() && left; ni++, local = 0) {
    const Node& n = nodes_[ni];
    size_t off = n.OffsetOf(local);
    while (off < n.EndOffset() && left) {
      std::string_view v;
      off = n.Read(off, &v);
      left--;
      if (!fn(v)) return;
    }
  }
}

template <class F>
void ListValue::ForEachReverse(F&& fn) const {
  size_t idx = size_;
  std::vector<size_t> offs;
  for (size_t ni = nodes_.size(); ni-- > 0;) {
    const Node& n = nodes_[ni];
    offs.clear();
    for (size_t off = n.Begin(); off < n.EndOffset();) {
      offs.push_back(off);
      std::string_view v;
      off = n.Read(off, &v);
    }
    for (size_t k = offs.size(); k-- > 0;) {
      std::string_view v;
      n.Read(offs[k], &v);
      if (!fn(v, --idx)) return;
    }
  }
}

}  // namespace ferrite::mod::lists
