#include "zset_skiplist.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ferrite::mod::zsets {

ZNode* ZSkipList::MakeNode(int level, double score, std::string_view m) {
  size_t bytes = offsetof(ZNode, lv) + sizeof(ZLevel) * level + m.size();
  auto* n = static_cast<ZNode*>(std::malloc(bytes));
  if (!n) throw std::bad_alloc();
  n->score = score;
  n->backward = nullptr;
  n->hnext = nullptr;
  n->len = static_cast<uint32_t>(m.size());
  n->nlevel = static_cast<uint32_t>(level);
  for (int i = 0; i < level; i++) n->lv[i] = {nullptr, 0};
  if (!m.empty()) std::memcpy(reinterpret_cast<char*>(&n->lv[level]), m.data(), m.size());
  return n;
}

ZSkipList::ZSkipList() : header_(MakeNode(kMaxLevel, 0, {})) {}

ZSkipList::~ZSkipList() {
  ZNode* x = header_->lv[0].forward;
  while (x) {
    ZNode* next = x->lv[0].forward;
    std::free(x);
    x = next;
  }
  std::free(header_);
  index_.Forget();  // it only linked the nodes freed above
}

int ZSkipList::RandomLevel() {
  // Redis: each further level with probability 1/4.
  // A per-thread xorshift: a generator per set would cost more than the set.
  thread_local uint64_t state = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&state);
  int level = 1;
  for (;;) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if ((state & 0xFFFF) >= 0xFFFF / 4 || level >= kMaxLevel) break;
    level++;
  }
  return level;
}

ZNode* ZSkipList::LinkNew(double score, std::string_view m) {
  ZNode* update[kMaxLevel];
  uint64_t rank[kMaxLevel];
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (x->lv[i].forward &&
           Less(x->lv[i].forward->score, x->lv[i].forward->Member(), score, m)) {
      rank[i] += x->lv[i].span;
      x = x->lv[i].forward;
    }
    update[i] = x;
  }
  int level = RandomLevel();
  if (level > level_) {
    for (int i = level_; i < level; i++) {
      rank[i] = 0;
      update[i] = header_;
      update[i]->lv[i].span = length_;
    }
    level_ = level;
  }
  x = MakeNode(level, score, m);
  for (int i = 0; i < level; i++) {
    x->lv[i].forward = update[i]->lv[i].forward;
    update[i]->lv[i].forward = x;
    x->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
    update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
  }
  for (int i = level; i < level_; i++) update[i]->lv[i].span++;
  x->backward = update[0] == header_ ? nullptr : update[0];
  if (x->lv[0].forward) {
    x->lv[0].forward->backward = x;
  } else {
    tail_ = x;
  }
  length_++;
  node_bytes_ += NodeBytes(x);
  return x;
}

void ZSkipList::Insert(std::string_view m, double score) { index_.Insert(LinkNew(score, m)); }

void ZSkipList::Unlink(ZNode* x, ZNode** update) {
  for (int i = 0; i < level_; i++) {
    if (update[i]->lv[i].forward == x) {
      update[i]->lv[i].span += x->lv[i].span - 1;
      update[i]->lv[i].forward = x->lv[i].forward;
    } else {
      update[i]->lv[i].span -= 1;
    }
  }
  if (x->lv[0].forward) {
    x->lv[0].forward->backward = x->backward;
  } else {
    tail_ = x->backward;
  }
  while (level_ > 1 && header_->lv[level_ - 1].forward == nullptr) level_--;
  length_--;
  node_bytes_ -= NodeBytes(x);
}

bool ZSkipList::Remove(std::string_view m) {
  ZNode* n = index_.Find(m);
  if (!n) return false;
  ZNode* update[kMaxLevel];
  ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv[i].forward &&
           Less(x->lv[i].forward->score, x->lv[i].forward->Member(), n->score, m)) {
      x = x->lv[i].forward;
    }
    update[i] = x;
  }
  Unlink(n, update);
  index_.Remove(m);
  std::free(n);
  return true;
}

void ZSkipList::Update(std::string_view m, double score) {
  ZNode* n = index_.Find(m);
  // Stays in place when the neighbours still bracket the new score.
  if ((!n->backward || n->backward->score < score ||
       (n->backward->score == score && n->backward->Member() < m)) &&
      (!n->lv[0].forward || n->lv[0].forward->score > score ||
       (n->lv[0].forward->score == score && m < n->lv[0].forward->Member()))) {
    n->score = score;
    return;
  }
  std::string member(m);  // m may point into the node we free
  Remove(member);
  Insert(member, score);
}

size_t ZSkipList::Rank(const ZNode* n) const {
  std::string_view m = n->Member();
  double s = n->score;
  return CountWhile([&](std::string_view xm, double xs) { return Less(xs, xm, s, m); });
}

const ZNode* ZSkipList::ByRank(size_t r) const {
  uint64_t want = r + 1, traversed = 0;
  const ZNode* x = header_;
  for (int i = level_ - 1; i >= 0; i--) {
    while (x->lv[i].forward && traversed + x->lv[i].span <= want) {
      traversed += x->lv[i].span;
      x = x->lv[i].forward;
    }
    if (traversed == want) return x;
  }
  return nullptr;
}

size_t ZSkipList::MemUsage() const {
  return sizeof(ZSkipList) + offsetof(ZNode, lv) + sizeof(ZLevel) * kMaxLevel +
         index_.BucketBytes() + node_bytes_;
}

}  // namespace ferrite::mod::zsets
