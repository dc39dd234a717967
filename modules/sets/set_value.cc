#include "set_value.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>

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

bool MemberAsInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0') {
    if (s.size() == 1) {
      *out = 0;
      return true;
    }
    return false;
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

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

SetValue::~SetValue() {
  if (ht_) {
    ht_->Clear(SetNode::Free);
    delete ht_;
  }
}

SetValue* SetValue::Create(std::string_view first) {
  auto* v = new SetValue();
  int64_t x;
  if (!MemberAsInt(first, &x)) v->ConvertToHashTable();
  return v;
}

size_t SetValue::Size() const { return enc_ == SetEncoding::kIntSet ? is_.Len() : ht_->Size(); }

const char* SetValue::EncodingName() const {
  return enc_ == SetEncoding::kIntSet ? "intset" : "hashtable";
}

bool SetValue::Contains(std::string_view m) const {
  if (enc_ == SetEncoding::kIntSet) {
    int64_t x;
    return MemberAsInt(m, &x) && is_.Contains(x);
  }
  return ht_->Find(m) != nullptr;
}

void SetValue::ConvertToHashTable() {
  if (enc_ == SetEncoding::kHashTable) return;
  ht_ = new Table();
  char buf[24];
  for (size_t i = 0; i < is_.Len(); i++) ht_->Insert(SetNode::Make(IntToView(is_.Get(i), buf)));
  is_ = IntSet();
  enc_ = SetEncoding::kHashTable;
}

bool SetValue::Add(std::string_view m, size_t max_intset) {
  if (enc_ == SetEncoding::kIntSet) {
    int64_t x;
    if (MemberAsInt(m, &x)) {
      if (!is_.Add(x)) return false;
      if (is_.Len() > max_intset) ConvertToHashTable();
      return true;
    }
    ConvertToHashTable();
  }
  if (ht_->Find(m)) return false;
  ht_->Insert(SetNode::Make(m));
  return true;
}

bool SetValue::Remove(std::string_view m) {
  if (enc_ == SetEncoding::kIntSet) {
    int64_t x;
    return MemberAsInt(m, &x) && is_.Remove(x);
  }
  SetNode* n = ht_->Remove(m);
  if (!n) return false;
  SetNode::Free(n);
  return true;
}

void SetValue::ForEach(const std::function<void(std::string_view)>& fn) const {
  if (enc_ == SetEncoding::kIntSet) {
    char buf[24];
    for (size_t i = 0; i < is_.Len(); i++) fn(IntToView(is_.Get(i), buf));
    return;
  }
  ht_->ForEach([&](SetNode* n) { fn(n->View()); });
}

std::vector<std::string> SetValue::Members() const {
  std::vector<std::string> out;
  out.reserve(Size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::string SetValue::Random(std::mt19937_64& rng) const {
  if (enc_ == SetEncoding::kIntSet) {
    size_t i = std::uniform_int_distribution<size_t>(0, is_.Len() - 1)(rng);
    return std::to_string(is_.Get(i));
  }
  return std::string(ht_->Random(rng)->View());
}

uint64_t SetValue::Scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const {
  if (enc_ == SetEncoding::kIntSet) {
    ForEach(fn);
    return 0;
  }
  return ht_->Scan(cursor, [&](SetNode* n) { fn(n->View()); });
}

size_t SetValue::MemUsage() const {
  size_t bytes = sizeof(SetValue) + is_.Bytes();
  if (ht_) {
    bytes += sizeof(Table) + ht_->BucketBytes();
    ht_->ForEach([&](SetNode* n) { bytes += offsetof(SetNode, data) + n->len; });
  }
  return bytes;
}

SetValue* SetValue::Clone() const {
  auto* c = new SetValue();
  c->is_ = is_.Clone();
  if (ht_) {
    c->ConvertToHashTable();
    ht_->ForEach([&](SetNode* n) { c->ht_->Insert(SetNode::Make(n->View())); });
  }
  return c;
}

}  // namespace ferrite::mod::sets
