#include "zset_value.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace ferrite::mod::zsets {

std::mt19937_64& ZRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

ZSetValue* ZSetValue::Alloc(size_t bytes) {
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  return new (p) ZSetValue();
}

ZSetValue* ZSetValue::NewListpack() { return Alloc(kHeader); }

ZSetValue* ZSetValue::NewSkiplist() {
  ZSetValue* z = Alloc(kSkipOffset + sizeof(ZSkipList*));
  ZSkipList* sl = new ZSkipList();
  z->meta_ = kSkipBit;
  std::memcpy(reinterpret_cast<uint8_t*>(z) + kSkipOffset, &sl, sizeof sl);
  return z;
}

ZSkipList* ZSetValue::Skip() const {
  ZSkipList* sl;
  std::memcpy(&sl, reinterpret_cast<const uint8_t*>(this) + kSkipOffset, sizeof sl);
  return sl;
}

ZSetValue* ZSetValue::Create(const ZLimits& lim, size_t size_hint, size_t len_hint) {
  if (lim.max_entries == 0 || size_hint > lim.max_entries || len_hint > lim.max_value) {
    return NewSkiplist();
  }
  return NewListpack();
}

void ZSetValue::Destroy(ZSetValue* z) {
  if (!z) return;
  if (z->IsSkip()) delete z->Skip();
  std::free(z);
}

size_t ZSetValue::Size() const {
  return IsSkip() ? Skip()->Size() : zpack::Count(Data(), Used());
}

const char* ZSetValue::EncodingName() const { return IsSkip() ? "skiplist" : "listpack"; }

std::optional<double> ZSetValue::Score(std::string_view m) const {
  if (IsSkip()) {
    const ZNode* n = Skip()->Find(m);
    if (!n) return std::nullopt;
    return n->score;
  }
  zpack::Entry e;
  size_t rank;
  if (!zpack::Find(Data(), Used(), m, &e, &rank)) return std::nullopt;
  return e.score;
}

ZSetValue* ZSetValue::ConvertToSkiplist() {
  if (IsSkip()) return this;
  ZSetValue* z = NewSkiplist();
  for (size_t off = 0; off < Used();) {
    zpack::Entry e = zpack::At(Data(), off);
    z->Skip()->Insert(e.member, e.score);
    off = e.next;
  }
  return z;
}

ZSetValue* ZSetValue::ConvertToListpackIfFits(const ZLimits& lim) {
  if (!IsSkip() || Skip()->Size() > lim.max_entries) return this;
  size_t bytes = 0;
  for (const ZNode* x = Skip()->First(); x; x = x->lv[0].forward) {
    if (x->len > lim.max_value) return this;
    bytes += zpack::EntrySize(x->Member(), x->score);
  }
  if (bytes > kMaxListpackBytes) return this;
  ZSetValue* z = Alloc(kHeader + bytes);
  size_t used = 0;
  // Ascending appends: each entry goes after the ones already there.
  for (const ZNode* x = Skip()->First(); x; x = x->lv[0].forward) {
    zpack::Insert(z->Data(), used, x->Member(), x->score);
    used += zpack::EntrySize(x->Member(), x->score);
    z->SetUsed(used);
  }
  return z;
}

// Exact size: the allocator's size classes are the growth steps, as Redis' listpack
// (lpInsert reallocs to the exact size); a doubling policy would cost up to 2x.
ZSetValue* ZSetValue::InsertListpack(std::string_view m, double score) {
  size_t used = Used(), n = zpack::EntrySize(m, score);
  ZSetValue* z = this;
  if (kHeader + used + n > malloc_usable_size(this)) {
    z = Alloc(kHeader + used + n);
    std::memcpy(static_cast<void*>(z), this, kHeader + used);
  }
  zpack::Insert(z->Data(), used, m, score);
  z->SetUsed(used + n);
  return z;
}

ZSetValue* ZSetValue::Set(std::string_view m, double score, const ZLimits& lim) {
  if (!IsSkip()) {
    zpack::Entry e;
    size_t rank;
    if (zpack::Find(Data(), Used(), m, &e, &rank)) {
      if (e.score == score) return this;
      zpack::Erase(Data(), Used(), e);
      SetUsed(Used() - (e.next - e.offset));
      return InsertListpack(m, score);
    }
    if (Size() + 1 <= lim.max_entries && m.size() <= lim.max_value &&
        Used() + zpack::EntrySize(m, score) <= kMaxListpackBytes) {
      return InsertListpack(m, score);
    }
    ZSetValue* z = ConvertToSkiplist();
    z->Skip()->Insert(m, score);
    return z;
  }
  if (Skip()->Find(m)) {
    Skip()->Update(m, score);
  } else {
    Skip()->Insert(m, score);
  }
  return this;
}

bool ZSetValue::Remove(std::string_view m) {
  if (IsSkip()) return Skip()->Remove(m);
  zpack::Entry e;
  size_t rank;
  if (!zpack::Find(Data(), Used(), m, &e, &rank)) return false;
  zpack::Erase(Data(), Used(), e);
  SetUsed(Used() - (e.next - e.offset));
  return true;
}

ZSetValue* ZSetValue::ShrinkToFit() {
  if (IsSkip()) return this;
  size_t need = kHeader + Used(), have = malloc_usable_size(this);
  return have - need >= 32 && have - need >= need / 4 ? Clone() : this;
}

std::optional<size_t> ZSetValue::Rank(std::string_view m) const {
  if (IsSkip()) {
    const ZNode* n = Skip()->Find(m);
    if (!n) return std::nullopt;
    return Skip()->Rank(n);
  }
  zpack::Entry e;
  size_t rank;
  if (!zpack::Find(Data(), Used(), m, &e, &rank)) return std::nullopt;
  return rank;
}

size_t ZSetValue::CountWhile(const ZPred& pred) const {
  if (IsSkip()) return Skip()->CountWhile(pred);
  size_t n = 0;
  for (size_t off = 0; off < Used(); n++) {
    zpack::Entry e = zpack::At(Data(), off);
    if (!pred(e.member, e.score)) break;
    off = e.next;
  }
  return n;
}

void ZSetValue::Walk(size_t start, Dir dir, const ZVisitor& fn) const {
  if (IsSkip()) {
    if (start >= Skip()->Size()) return;
    const ZNode* x = Skip()->ByRank(start);
    while (x && fn(x->Member(), x->score)) {
      x = dir == Dir::kForward ? x->lv[0].forward : x->backward;
    }
    return;
  }
  if (dir == Dir::kForward) {
    size_t off = 0;
    for (size_t i = 0; i < start && off < Used(); i++) off = zpack::At(Data(), off).next;
    while (off < Used()) {
      zpack::Entry e = zpack::At(Data(), off);
      if (!fn(e.member, e.score)) return;
      off = e.next;
    }
    return;
  }
  std::vector<size_t> offs = zpack::Offsets(Data(), Used());
  if (start >= offs.size()) return;
  for (size_t i = start + 1; i-- > 0;) {
    zpack::Entry e = zpack::At(Data(), offs[i]);
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
  if (!IsSkip()) {
    ForEach(fn);
    return 0;
  }
  return Skip()->Scan(cursor, [&](ZNode* n) { fn(n->Member(), n->score); });
}

size_t ZSetValue::MemUsage() const {
  size_t bytes = malloc_usable_size(const_cast<ZSetValue*>(this));
  return bytes + (IsSkip() ? Skip()->MemUsage() : 0);
}

ZSetValue* ZSetValue::Clone() const {
  if (!IsSkip()) {
    ZSetValue* c = Alloc(kHeader + Used());
    std::memcpy(static_cast<void*>(c), this, kHeader + Used());
    return c;
  }
  ZSetValue* c = NewSkiplist();
  for (const ZNode* x = Skip()->First(); x; x = x->lv[0].forward) {
    c->Skip()->Insert(x->Member(), x->score);
  }
  return c;
}

}  // namespace ferrite::mod::zsets
