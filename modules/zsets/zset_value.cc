#include "zset_value.h"

#include <vector>

namespace ferrite::mod::zsets {

std::mt19937_64& ZRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

ZSetValue::~ZSetValue() { delete sl_; }

ZSetValue* ZSetValue::Create(const ZLimits& lim, size_t size_hint, size_t len_hint) {
  auto* z = new ZSetValue();
  if (lim.max_entries == 0 || size_hint > lim.max_entries || len_hint > lim.max_value) {
    z->ConvertToSkiplist();
  }
  return z;
}

size_t ZSetValue::Size() const { return enc_ == ZEncoding::kListpack ? lp_.Size() : sl_->Size(); }

const char* ZSetValue::EncodingName() const {
  return enc_ == ZEncoding::kListpack ? "listpack" : "skiplist";
}

std::optional<double> ZSetValue::Score(std::string_view m) const {
  if (enc_ == ZEncoding::kSkiplist) {
    const ZNode* n = sl_->Find(m);
    if (!n) return std::nullopt;
    return n->score;
  }
  ZPack::Entry e;
  size_t rank;
  if (!lp_.Find(m, &e, &rank)) return std::nullopt;
  return e.score;
}

void ZSetValue::ConvertToSkiplist() {
  if (enc_ == ZEncoding::kSkiplist) return;
  auto* sl = new ZSkipList();
  for (size_t off = 0; off < lp_.Bytes();) {
    ZPack::Entry e = lp_.At(off);
    sl->Insert(e.member, e.score);
    off = e.next;
  }
  sl_ = sl;
  lp_.Clear();
  enc_ = ZEncoding::kSkiplist;
}

void ZSetValue::ConvertToListpackIfFits(const ZLimits& lim) {
  if (enc_ != ZEncoding::kSkiplist || sl_->Size() > lim.max_entries) return;
  for (const ZNode* x = sl_->First(); x; x = x->lv[0].forward) {
    if (x->len > lim.max_value) return;
  }
  for (const ZNode* x = sl_->Last(); x; x = x->backward) lp_.Insert(x->Member(), x->score);
  delete sl_;
  sl_ = nullptr;
  enc_ = ZEncoding::kListpack;
}

void ZSetValue::Set(std::string_view m, double score, const ZLimits& lim) {
  if (enc_ == ZEncoding::kListpack) {
    ZPack::Entry e;
    size_t rank;
    if (lp_.Find(m, &e, &rank)) {
      if (e.score == score) return;
      lp_.Erase(e);
      lp_.Insert(m, score);
      return;
    }
    if (lp_.Size() + 1 > lim.max_entries || m.size() > lim.max_value) {
      ConvertToSkiplist();
    } else {
      lp_.Insert(m, score);
      return;
    }
  }
  if (sl_->Find(m)) {
    sl_->Update(m, score);
  } else {
    sl_->Insert(m, score);
  }
}

bool ZSetValue::Remove(std::string_view m) {
  if (enc_ == ZEncoding::kSkiplist) return sl_->Remove(m);
  ZPack::Entry e;
  size_t rank;
  if (!lp_.Find(m, &e, &rank)) return false;
  lp_.Erase(e);
  return true;
}

std::optional<size_t> ZSetValue::Rank(std::string_view m) const {
  if (enc_ == ZEncoding::kSkiplist) {
    const ZNode* n = sl_->Find(m);
    if (!n) return std::nullopt;
    return sl_->Rank(n);
  }
  ZPack::Entry e;
  size_t rank;
  if (!lp_.Find(m, &e, &rank)) return std::nullopt;
  return rank;
}

size_t ZSetValue::CountWhile(const ZPred& pred) const {
  if (enc_ == ZEncoding::kSkiplist) return sl_->CountWhile(pred);
  size_t n = 0;
  for (size_t off = 0; off < lp_.Bytes(); n++) {
    ZPack::Entry e = lp_.At(off);
    if (!pred(e.member, e.score)) break;
    off = e.next;
  }
  return n;
}

void ZSetValue::Walk(size_t start, Dir dir, const ZVisitor& fn) const {
  if (start >= Size()) return;
  if (enc_ == ZEncoding::kSkiplist) {
    const ZNode* x = sl_->ByRank(start);
    while (x && fn(x->Member(), x->score)) {
      x = dir == Dir::kForward ? x->lv[0].forward : x->backward;
    }
    return;
  }
  if (dir == Dir::kForward) {
    size_t off = 0;
    for (size_t i = 0; i < start; i++) off = lp_.At(off).next;
    while (off < lp_.Bytes()) {
      ZPack::Entry e = lp_.At(off);
      if (!fn(e.member, e.score)) return;
      off = e.next;
    }
    return;
  }
  std::vector<size_t> offs = lp_.Offsets();
  for (size_t i = start + 1; i-- > 0;) {
    ZPack::Entry e = lp_.At(offs[i]);
    if (!fn(e.member, e.score)) return;
  }
}

std::pair<std::string, double> ZSetValue::AtRank(size_t r) const {
  std::pair<std::string, double> out;
  Walk(r, Dir::kForward, [&](std::string_view m, double s) {
    out = {std::string(m), s};
    return false;
  });
  return out;
}

uint64_t ZSetValue::Scan(uint64_t cursor, const ZVisitor& fn) const {
  if (enc_ == ZEncoding::kListpack) {
    ForEach(fn);
    return 0;
  }
  return sl_->Scan(cursor, [&](ZNode* n) { fn(n->Member(), n->score); });
}

size_t ZSetValue::MemUsage() const {
  return sizeof(ZSetValue) + lp_.Capacity() + (sl_ ? sl_->MemUsage() : 0);
}

ZSetValue* ZSetValue::Clone() const {
  auto* c = new ZSetValue();
  if (enc_ == ZEncoding::kListpack) {
    c->lp_.CopyFrom(lp_);
    return c;
  }
  c->ConvertToSkiplist();
  for (const ZNode* x = sl_->First(); x; x = x->lv[0].forward) c->sl_->Insert(x->Member(), x->score);
  return c;
}

}  // namespace ferrite::mod::zsets
