#include "set_value.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <new>

#include "ferrite/module.hpp"

namespace ferrite::mod::sets {

SetNode* SetNode::Make(std::string_view s) {
  auto* n = static_cast<SetNode*>(std::malloc(offsetof(SetNode, data) + s.size()));
  if (!n) throw std::bad_alloc();
  n->next = nullptr;
  n->len = static_cast<uint32_t>(s.size());
  std::memcpy(n->data, s.data(), s.size());
  return n;
}

void SetNode::Free(SetNode* n) { std::free(n); }

// Redis' string2ll rule: a member is stored in an intset only if it reads back the same.
bool MemberAsInt(std::string_view s, int64_t* out) { return sdk::ParseInt64(s, out); }

namespace {
std::string_view IntToView(int64_t v, char* buf) {
  auto r = std::to_chars(buf, buf + 24, v);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}
}  // namespace

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

SetValue* SetValue::Alloc(size_t bytes) {
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  return new (p) SetValue();
}

SetValue* SetValue::NewHashTable() {
  SetValue* v = Alloc(kTableOffset + sizeof(Table*));
  v->meta_ = kHashBit;
  Table* t = new Table();
  std::memcpy(reinterpret_cast<uint8_t*>(v) + kTableOffset, &t, sizeof t);
  return v;
}

SetValue::Table* SetValue::Tbl() const {
  Table* t;
  std::memcpy(&t, reinterpret_cast<const uint8_t*>(this) + kTableOffset, sizeof t);
  return t;
}

void SetValue::SetIntMeta(uint32_t width, size_t len) {
  uint32_t code = width == 2 ? 0 : width == 4 ? 1 : 2;
  meta_ = static_cast<uint32_t>(len << 3) | (code << 1);
}

SetValue* SetValue::CreateIntSet() {
  SetValue* v = Alloc(kHeader);
  v->SetIntMeta(2, 0);
  return v;
}

SetValue* SetValue::Create(std::string_view first) {
  int64_t x;
  return MemberAsInt(first, &x) ? CreateIntSet() : NewHashTable();
}

void SetValue::Destroy(SetValue* v) {
  if (!v) return;
  if (v->IsHash()) {
    Table* t = v->Tbl();
    t->Clear(SetNode::Free);
    delete t;
  }
  std::free(v);
}

size_t SetValue::Size() const { return IsHash() ? Tbl()->Size() : IntLen(); }

const char* SetValue::EncodingName() const { return IsHash() ? "hashtable" : "intset"; }

bool SetValue::Contains(std::string_view m) const {
  if (IsHash()) return Tbl()->Find(m) != nullptr;
  int64_t x;
  if (!MemberAsInt(m, &x) || intset::WidthFor(x) > Width()) return false;
  bool found;
  intset::Search(Ints(), Width(), IntLen(), x, &found);
  return found;
}

SetValue* SetValue::ConvertToHashTable() {
  if (IsHash()) return this;
  SetValue* h = NewHashTable();
  char buf[24];
  for (size_t i = 0; i < IntLen(); i++) {
    h->Tbl()->Insert(SetNode::Make(IntToView(intset::Get(Ints(), Width(), i), buf)));
  }
  return h;
}

SetValue* SetValue::Reserve(size_t bytes) {
  if (bytes <= malloc_usable_size(this)) return this;
  // Exact size: the allocator's size classes are the growth steps, as with Redis'
  // intsetResize; a doubling policy would cost up to 2x on every small set.
  SetValue* v = Alloc(bytes);
  std::memcpy(static_cast<void*>(v), this, kHeader + IntLen() * Width());
  return v;
}

SetValue* SetValue::ConvertAndAdd(std::string_view m, bool* added) {
  SetValue* h = ConvertToHashTable();
  *added = h->Tbl()->Find(m) == nullptr;
  if (*added) h->Tbl()->Insert(SetNode::Make(m));
  return h;
}

SetValue* SetValue::Add(std::string_view m, size_t max_intset, bool* added) {
  if (IsHash()) return ConvertAndAdd(m, added);
  int64_t x;
  if (!MemberAsInt(m, &x)) return ConvertAndAdd(m, added);
  size_t n = IntLen();
  uint32_t w = Width(), nw = std::max(w, intset::WidthFor(x));
  // A value that needs a wider encoding is below or above every element.
  size_t at = x < 0 ? 0 : n;
  if (nw == w) {
    bool found;
    at = intset::Search(Ints(), w, n, x, &found);
    if (found) {
      *added = false;
      return this;
    }
  }
  if (n + 1 > std::min(max_intset, kMaxIntSetLen)) return ConvertAndAdd(m, added);
  SetValue* v = Reserve(kHeader + size_t{nw} * (n + 1));
  if (nw != w) intset::Widen(v->Ints(), w, nw, n);
  intset::Insert(v->Ints(), nw, n, x, at);
  v->SetIntMeta(nw, n + 1);
  *added = true;
  return v;
}

bool SetValue::Remove(std::string_view m) {
  if (IsHash()) {
    SetNode* n = Tbl()->Remove(m);
    if (!n) return false;
    SetNode::Free(n);
    return true;
  }
  int64_t x;
  if (!MemberAsInt(m, &x) || intset::WidthFor(x) > Width()) return false;
  bool found;
  size_t at = intset::Search(Ints(), Width(), IntLen(), x, &found);
  if (!found) return false;
  intset::Erase(Ints(), Width(), IntLen(), at);
  SetIntMeta(Width(), IntLen() - 1);
  return true;
}

SetValue* SetValue::ShrinkToFit() {
  if (IsHash()) return this;
  size_t need = kHeader + IntLen() * Width(), have = malloc_usable_size(this);
  return have - need >= 32 && have - need >= need / 4 ? Clone() : this;
}

void SetValue::ForEach(const std::function<void(std::string_view)>& fn) const {
  if (IsHash()) {
    Tbl()->ForEach([&](SetNode* n) { fn(n->View()); });
    return;
  }
  char buf[24];
  for (size_t i = 0; i < IntLen(); i++) fn(IntToView(intset::Get(Ints(), Width(), i), buf));
}

std::vector<std::string> SetValue::Members() const {
  std::vector<std::string> out;
  out.reserve(Size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::string SetValue::Random(std::mt19937_64& rng) const {
  if (IsHash()) return std::string(Tbl()->Random(rng)->View());
  size_t i = std::uniform_int_distribution<size_t>(0, IntLen() - 1)(rng);
  return std::to_string(intset::Get(Ints(), Width(), i));
}

uint64_t SetValue::Scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const {
  if (!IsHash()) {
    ForEach(fn);
    return 0;
  }
  return Tbl()->Scan(cursor, [&](SetNode* n) { fn(n->View()); });
}

size_t SetValue::MemUsage() const {
  size_t bytes = malloc_usable_size(const_cast<SetValue*>(this));
  if (IsHash()) {
    // Each node is its header and the member's bytes; the table keeps their sum.
    bytes += sizeof(Table) + Tbl()->BucketBytes() +
             Tbl()->Size() * offsetof(SetNode, data) + Tbl()->KeyBytes();
  }
  return bytes;
}

SetValue* SetValue::Clone() const {
  if (!IsHash()) {
    size_t bytes = kHeader + IntLen() * Width();
    SetValue* c = Alloc(bytes);
    std::memcpy(static_cast<void*>(c), this, bytes);
    return c;
  }
  SetValue* c = NewHashTable();
  Tbl()->ForEach([&](SetNode* n) { c->Tbl()->Insert(SetNode::Make(n->View())); });
  return c;
}

bool SetPtr::Add(std::string_view m, size_t max_intset) {
  bool added;
  SetValue* now = get()->Add(m, max_intset, &added);
  if (now != get()) reset(now);
  return added;
}

void SetPtr::ConvertToHashTable() {
  SetValue* now = get()->ConvertToHashTable();
  if (now != get()) reset(now);
}

}  // namespace ferrite::mod::sets
