// Redis' skiplist (zskiplist) with spans for O(log n) rank, plus a chained hash index
// member -> node. A node is both the skiplist node and the hash chain link, and carries
// its member bytes inline, so an element costs one allocation and one bucket slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chained_table.h"

namespace ferrite::mod::zsets {

struct ZNode;
struct ZLevel {
  ZNode* forward;
  uint64_t span;
};
struct ZNode {
  double score;
  ZNode* backward;
  ZNode* hnext;
  uint32_t len;
  uint32_t nlevel;
  ZLevel lv[1];  // nlevel entries, then the member bytes
  std::string_view Member() const {
    return {reinterpret_cast<const char*>(&lv[nlevel]), len};
  }
};

// Total order of a sorted set: score, then member bytes.
inline bool Less(double s1, std::string_view m1, double s2, std::string_view m2) {
  return s1 < s2 || (s1 == s2 && m1 < m2);
}

class ZSkipList {
 public:
  ZSkipList();
  ZSkipList(const ZSkipList&) = delete;
  ZSkipList& operator=(const ZSkipList&) = delete;
  ~ZSkipList();

  size_t Size() const { return length_; }
  const ZNode* Find(std::string_view m) const { return index_.Find(m); }
  // Inserts a member that is not present.
  void Insert(std::string_view m, double score);
  // Changes the score of a present member (re-links only if the order changes).
  void Update(std::string_view m, double score);
  bool Remove(std::string_view m);
  // 0-based rank of a present member.
  size_t Rank(const ZNode* n) const;
  // The node at 0-based rank r (< Size()).
  const ZNode* ByRank(size_t r) const;
  // How many leading elements satisfy pred (true for a prefix of the order).
  template <class Pred>
  size_t CountWhile(Pred&& pred) const {
    const ZNode* x = header_;
    size_t rank = 0;
    for (int i = level_ - 1; i >= 0; i--) {
      while (x->lv[i].forward && pred(x->lv[i].forward->Member(), x->lv[i].forward->score)) {
        rank += x->lv[i].span;
        x = x->lv[i].forward;
      }
    }
    return rank;
  }
  const ZNode* First() const { return header_->lv[0].forward; }
  const ZNode* Last() const { return tail_; }
  template <class Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) const {
    return index_.Scan(cursor, fn);
  }
  // O(1): the host asks after every write (used_memory), so it must not walk the nodes.
  size_t MemUsage() const;

 private:
  struct Traits {
    static std::string_view Key(const ZNode* n) { return n->Member(); }
    static ZNode*& Next(ZNode* n) { return n->hnext; }
  };
  static constexpr int kMaxLevel = 32;
  static ZNode* MakeNode(int level, double score, std::string_view m);
  static size_t NodeBytes(const ZNode* x) {
    return offsetof(ZNode, lv) + sizeof(ZLevel) * x->nlevel + x->len;
  }
  int RandomLevel();
  // Unlinks x given update[] (the rightmost node before x at each level).
  void Unlink(ZNode* x, ZNode** update);
  ZNode* LinkNew(double score, std::string_view m);

  ZNode* header_;
  ZNode* tail_ = nullptr;
  size_t length_ = 0;
  size_t node_bytes_ = 0;  // sum of NodeBytes over the linked nodes
  int level_ = 1;
  sets::ChainedTable<ZNode, Traits> index_;
};

}  // namespace ferrite::mod::zsets
