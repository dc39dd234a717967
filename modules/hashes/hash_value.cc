#include "hash_value.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace ferrite::mod::hashes {

namespace {

struct PackedHeader {
  uint32_t bytes;
  uint32_t pairs;
};

size_t VarintSize(size_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, n++;
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
  for (int shift = 0;; shift += 7) {
    uint8_t b = static_cast<uint8_t>(in[n++]);
    r |= static_cast<size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  *v = r;
  return n;
}
size_t EntrySize(size_t len) { return VarintSize(len) + len; }

uint64_t Rev64(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 64; i++, v >>= 1) r = (r << 1) | (v & 1);
  return r;
}

PackedHeader* Hdr(char* p) { return reinterpret_cast<PackedHeader*>(p); }
const char* Payload(const char* p) { return p + sizeof(PackedHeader); }

// Reads one string at `off` of the payload and returns the next offset.
size_t ReadAt(const char* p, size_t off, std::string_view* out) {
  size_t len;
  const char* d = Payload(p) + off;
  size_t h = GetVarint(d, &len);
  *out = std::string_view(d + h, len);
  return off + h + len;
}

char* PackedResize(char* p, size_t payload) {
  char* np = static_cast<char*>(realloc(p, sizeof(PackedHeader) + payload));
  if (!np) throw std::bad_alloc();
  if (!p) memset(np, 0, sizeof(PackedHeader));
  return np;
}

}  // namespace

// ------------------------------------------------------------------------------------
// Table
// ------------------------------------------------------------------------------------

struct Table::Node {
  Node* next;
  uint32_t flen;
  uint32_t vlen;
  char data[];
};

Table::~Table() {
  for (size_t b = 0; buckets_ && b <= mask_; b++) {
    for (Node* n = buckets_[b]; n;) {
      Node* next = n->next;
      free(n);
      n = next;
    }
  }
  free(buckets_);
}

Table::Node* Table::MakeNode(std::string_view f, std::string_view v, Node* next) {
  auto* n = static_cast<Node*>(malloc(sizeof(Node) + f.size() + v.size()));
  if (!n) throw std::bad_alloc();
  n->next = next;
  n->flen = static_cast<uint32_t>(f.size());
  n->vlen = static_cast<uint32_t>(v.size());
  if (!f.empty()) memcpy(n->data, f.data(), f.size());
  if (!v.empty()) memcpy(n->data + f.size(), v.data(), v.size());
  return n;
}

Table::NodeView Table::View(const Node* n) {
  return {std::string_view(n->data, n->flen), std::string_view(n->data + n->flen, n->vlen)};
}

size_t Table::Hash(std::string_view f) const { return std::hash<std::string_view>{}(f); }

void Table::Resize(size_t buckets) {
  auto** nb = static_cast<Node**>(calloc(buckets, sizeof(Node*)));
  if (!nb) throw std::bad_alloc();
  for (size_t b = 0; buckets_ && b <= mask_; b++) {
    for (Node* n = buckets_[b]; n;) {
      Node* next = n->next;
      size_t i = Hash(View(n).field) & (buckets - 1);
      n->next = nb[i];
      nb[i] = n;
      n = next;
    }
  }
  free(buckets_);
  buckets_ = nb;
  mask_ = buckets - 1;
  max_chain_ = 0;
  for (size_t b = 0; b < buckets; b++) {
    uint32_t len = 0;
    for (Node* n = nb[b]; n; n = n->next) len++;
    max_chain_ = std::max(max_chain_, len);
  }
}

void Table::Reserve(size_t n) {
  size_t b = 4;
  while (b < n) b *= 2;
  if (b > Buckets() || !buckets_) Resize(b);
}

bool Table::Find(std::string_view f, std::string_view* value) const {
  if (!buckets_) return false;
  for (Node* n = buckets_[Hash(f) & mask_]; n; n = n->next) {
    if (View(n).field == f) {
      *value = View(n).value;
      return true;
    }
  }
  return false;
}

bool Table::Set(std::string_view f, std::string_view v) {
  if (!buckets_) Resize(4);
  Node** pp = &buckets_[Hash(f) & mask_];
  uint32_t depth = 1;
  for (; *pp; pp = &(*pp)->next, depth++) {
    if (View(*pp).field == f) {
      Node* old = *pp;
      *pp = MakeNode(f, v, old->next);
      node_bytes_ += malloc_usable_size(*pp) - malloc_usable_size(old);
      free(old);
      return false;
    }
  }
  *pp = MakeNode(f, v, nullptr);
  node_bytes_ += malloc_usable_size(*pp);
  max_chain_ = std::max(max_chain_, depth);
  if (++size_ > Buckets()) Resize(Buckets() * 2);
  return true;
}

bool Table::Del(std::string_view f) {
  if (!buckets_) return false;
  for (Node** pp = &buckets_[Hash(f) & mask_]; *pp; pp = &(*pp)->next) {
    if (View(*pp).field == f) {
      Node* old = *pp;
      *pp = old->next;
      node_bytes_ -= malloc_usable_size(old);
      free(old);
      size_--;
      // Shrink at 1/8 full (Redis: 10%) so a drained hash gives memory back.
      if (Buckets() > 4 && size_ < Buckets() / 8) Resize(Buckets() / 2);
      return true;
    }
  }
  return false;
}

void Table::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const {
  for (size_t b = 0; buckets_ && b <= mask_; b++)
    for (Node* n = buckets_[b]; n; n = n->next) fn(View(n).field, View(n).value);
}

uint64_t Table::Scan(uint64_t cursor,
                     const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (!buckets_) return 0;
  uint64_t m = mask_;
  for (Node* n = buckets_[cursor & m]; n; n = n->next) fn(View(n).field, View(n).value);
  // Increment the reversed cursor: set unmasked bits, reverse, add one, reverse back.
  cursor |= ~m;
  cursor = Rev64(cursor);
  cursor++;
  cursor = Rev64(cursor);
  return cursor;
}

Table::NodeView Table::Random(std::mt19937_64& rng) const {
  // A random bucket and a random slot in [0, max_chain_) until the slot holds a field:
  // each field has the same chance per draw, whatever its chain's length. (A random
  // bucket then a random position in its chain favours fields alone in their bucket;
  // HRANDFIELD's distribution showed it. Redis uses dictGetFairRandomKey here.)
  // Expected draws: buckets * max_chain_ / size, a few.
  std::uniform_int_distribution<uint32_t> slot(0, max_chain_ - 1);
  for (;;) {
    Node* n = buckets_[rng() & mask_];
    for (uint32_t at = slot(rng); n && at; at--) n = n->next;
    if (n) return View(n);
  }
}

size_t Table::MemUsageWithoutNodes() const {
  return sizeof(*this) + (buckets_ ? malloc_usable_size(buckets_) : 0);
}

size_t Table::MemUsage() const { return MemUsageWithoutNodes() + node_bytes_; }

size_t Table::WalkNodeBytes() const {
  size_t m = 0;
  for (size_t b = 0; buckets_ && b <= mask_; b++)
    for (Node* n = buckets_[b]; n; n = n->next) m += malloc_usable_size(n);
  return m;
}

// ------------------------------------------------------------------------------------
// HashValue
// ------------------------------------------------------------------------------------

HashValue::~HashValue() { DropPacked(); }

void HashValue::DropPacked() {
  if (!borrowed_) free(packed_);
  packed_ = nullptr;
  borrowed_ = false;
}

void HashValue::Resize(size_t payload) {
  if (!borrowed_) {
    packed_ = PackedResize(packed_, payload);
    return;
  }
  // The block is the host's: leave it intact (the host frees it when Settle's result
  // replaces it) and continue on a private copy.
  size_t keep = std::min<size_t>(payload, Hdr(packed_)->bytes);
  auto* np = static_cast<char*>(malloc(sizeof(PackedHeader) + payload));
  if (!np) throw std::bad_alloc();
  memcpy(np, packed_, sizeof(PackedHeader) + keep);
  packed_ = np;
  borrowed_ = false;
}

HashValue* HashValue::Clone() const {
  auto* h = new HashValue();
  if (packed_) {
    size_t sz = sizeof(PackedHeader) + Hdr(packed_)->bytes;
    h->packed_ = static_cast<char*>(malloc(sz));
    if (!h->packed_) throw std::bad_alloc();
    memcpy(h->packed_, packed_, sz);
  }
  if (table_) {
    h->table_ = std::make_unique<Table>();
    table_->ForEach([&](std::string_view f, std::string_view v) { h->table_->Set(f, v); });
  }
  if (ttl_) h->ttl_ = std::make_unique<Ttls>(*ttl_);
  return h;
}

size_t HashValue::Size() const {
  if (table_) return table_->Size();
  return packed_ ? Hdr(packed_)->pairs : 0;
}

const char* HashValue::Encoding() const {
  if (table_) return "hashtable";
  return HasVolatile() ? "listpackex" : "listpack";
}

size_t HashValue::MemUsage() const {
  size_t m = sizeof(*this);
  if (packed_) m += malloc_usable_size(packed_);
  if (table_) m += table_->MemUsage();
  if (ttl_) {
    m += sizeof(*ttl_) + ttl_->bucket_count() * sizeof(void*);
    for (auto& [f, t] : *ttl_) m += 48 + f.capacity();
  }
  return m;
}

size_t HashValue::PackedFind(std::string_view f, std::string_view* v) const {
  if (!packed_) return std::string::npos;
  size_t end = Hdr(packed_)->bytes;
  for (size_t off = 0; off < end;) {
    std::string_view cf;
    size_t voff = ReadAt(packed_, off, &cf);
    size_t next = ReadAt(packed_, voff, v);
    if (cf == f) return off;
    off = next;
  }
  return std::string::npos;
}

bool HashValue::Get(std::string_view f, std::string_view* v) const {
  if (table_) return table_->Find(f, v);
  return PackedFind(f, v) != std::string::npos;
}

void HashValue::ConvertToTable() {
  auto t = std::make_unique<Table>();
  ForEach([&](std::string_view f, std::string_view v) { t->Set(f, v); });
  DropPacked();
  table_ = std::move(t);
}

bool HashValue::Set(std::string_view f, std::string_view v, const Limits& lim, Ttl ttl) {
  if (ttl == Ttl::kClear && ttl_) ttl_->erase(std::string(f));
  if (!table_ && (static_cast<int64_t>(f.size()) > lim.max_value ||
                  static_cast<int64_t>(v.size()) > lim.max_value))
    ConvertToTable();
  if (table_) return table_->Set(f, v);
  std::string_view old;
  size_t off = PackedFind(f, &old);
  bool is_new = off == std::string::npos;
  if (!is_new) {
    std::string_view cf;
    size_t voff = ReadAt(packed_, off, &cf);
    size_t vend = ReadAt(packed_, voff, &old);
    size_t bytes = Hdr(packed_)->bytes, add = EntrySize(v.size());
    size_t new_bytes = bytes - (vend - voff) + add;
    if (new_bytes > bytes) Resize(new_bytes);
    char* d = packed_ + sizeof(PackedHeader);
    memmove(d + voff + add, d + vend, bytes - vend);
    size_t h = PutVarint(d + voff, v.size());
    if (!v.empty()) memcpy(d + voff + h, v.data(), v.size());
    Hdr(packed_)->bytes = static_cast<uint32_t>(new_bytes);
    if (new_bytes < bytes) Resize(new_bytes);
    return false;
  }
  if (static_cast<int64_t>(Size()) + 1 > lim.max_entries) {
    ConvertToTable();
    return table_->Set(f, v);
  }
  size_t bytes = packed_ ? Hdr(packed_)->bytes : 0;
  size_t add = EntrySize(f.size()) + EntrySize(v.size());
  Resize(bytes + add);
  char* d = packed_ + sizeof(PackedHeader) + bytes;
  d += PutVarint(d, f.size());
  if (!f.empty()) memcpy(d, f.data(), f.size());
  d += f.size();
  d += PutVarint(d, v.size());
  if (!v.empty()) memcpy(d, v.data(), v.size());
  Hdr(packed_)->bytes = static_cast<uint32_t>(bytes + add);
  Hdr(packed_)->pairs++;
  return true;
}

bool HashValue::Del(std::string_view f) {
  if (ttl_) ttl_->erase(std::string(f));
  if (table_) return table_->Del(f);
  std::string_view v;
  size_t off = PackedFind(f, &v);
  if (off == std::string::npos) return false;
  std::string_view cf;
  size_t end = ReadAt(packed_, ReadAt(packed_, off, &cf), &v);
  size_t bytes = Hdr(packed_)->bytes;
  char* d = packed_ + sizeof(PackedHeader);
  memmove(d + off, d + end, bytes - end);
  Hdr(packed_)->bytes = static_cast<uint32_t>(bytes - (end - off));
  if (--Hdr(packed_)->pairs == 0) {
    DropPacked();
  } else {
    Resize(Hdr(packed_)->bytes);
  }
  return true;
}

void HashValue::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (table_) return table_->ForEach(fn);
  if (!packed_) return;
  size_t end = Hdr(packed_)->bytes;
  for (size_t off = 0; off < end;) {
    std::string_view f, v;
    off = ReadAt(packed_, off, &f);
    off = ReadAt(packed_, off, &v);
    fn(f, v);
  }
}

uint64_t HashValue::Scan(uint64_t cursor,
                         const std::function<void(std::string_view, std::string_view)>& fn) const {
  if (table_) return table_->Scan(cursor, fn);
  ForEach(fn);
  return 0;
}

Table::NodeView HashValue::Random(std::mt19937_64& rng) const {
  if (table_) return table_->Random(rng);
  size_t k = rng() % Size(), i = 0;
  Table::NodeView out;
  ForEach([&](std::string_view f, std::string_view v) {
    if (i++ == k) out = {f, v};
  });
  return out;
}

int64_t HashValue::GetExpire(std::string_view f) const {
  if (!ttl_) return -1;
  auto it = ttl_->find(std::string(f));
  return it == ttl_->end() ? -1 : it->second;
}

void HashValue::SetExpire(std::string_view f, int64_t at_ms) {
  if (!ttl_) ttl_ = std::make_unique<Ttls>();
  (*ttl_)[std::string(f)] = at_ms;
  if (at_ms < ttl_->min) ttl_->min = at_ms;
}

bool HashValue::Persist(std::string_view f) {
  return ttl_ && ttl_->erase(std::string(f)) > 0;
}

int64_t HashValue::MinExpire() const {
  if (!HasVolatile()) return -1;
  int64_t m = INT64_MAX;
  for (auto& [f, at] : *ttl_) m = std::min(m, at);
  return m;
}

void HashValue::Conform(const Limits& lim) {
  if (table_) return;
  bool fits = static_cast<int64_t>(Size()) <= lim.max_entries;
  ForEach([&](std::string_view f, std::string_view v) {
    fits = fits && static_cast<int64_t>(f.size()) <= lim.max_value &&
           static_cast<int64_t>(v.size()) <= lim.max_value;
  });
  if (!fits) ConvertToTable();
}

void HashValue::ReserveTable(size_t n) {
  if (Size() != 0 || table_) return;
  DropPacked();
  table_ = std::make_unique<Table>();
  table_->Reserve(n);
}

void HashValue::ExpireDue(int64_t now_ms, std::vector<std::string>* expired) {
  if (!ttl_ || ttl_->empty() || now_ms < ttl_->min) return;
  int64_t next = INT64_MAX;
  for (auto it = ttl_->begin(); it != ttl_->end();) {
    if (it->second <= now_ms) {
      std::string f = it->first;
      it = ttl_->erase(it);
      Del(f);
      expired->push_back(std::move(f));
    } else {
      next = std::min(next, it->second);
      ++it;
    }
  }
  ttl_->min = next;
}

}  // namespace ferrite::mod::hashes

namespace ferrite::mod::hashes {

// ------------------------------------------------------------------------------------
// The host's representation
// ------------------------------------------------------------------------------------

namespace {
constexpr uintptr_t kPackedTag = 1;  // malloc blocks are 16-aligned: bit 0 is free
char* Block(const void* rep) {
  return reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(rep) & ~kPackedTag);
}
void* Tag(char* block) {
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(block) | kPackedTag);
}
}  // namespace

bool HashValue::IsPacked(const void* rep) {
  return (reinterpret_cast<uintptr_t>(rep) & kPackedTag) != 0;
}

HashValue* HashValue::View(void* rep, HashValue* storage) {
  if (!IsPacked(rep)) return static_cast<HashValue*>(rep);
  storage->DropPacked();
  storage->table_.reset();
  storage->ttl_.reset();
  storage->packed_ = Block(rep);
  storage->borrowed_ = true;
  return storage;
}

const HashValue* HashValue::View(const void* rep, HashValue* storage) {
  return View(const_cast<void*>(rep), storage);
}

void* HashValue::Settle(HashValue* h, void* old_rep) {
  bool packable = !h->table_ && !h->HasVolatile() && h->packed_;
  if (!IsPacked(old_rep)) {  // a HashValue the host owns, edited in place
    if (!packable) return old_rep;
    void* r = Tag(h->packed_);
    h->packed_ = nullptr;  // the host deletes the emptied shell
    h->ttl_.reset();
    return r;
  }
  if (packable) {  // a view over the host's block
    if (h->packed_ == Block(old_rep)) return old_rep;  // edited in place
    void* r = Tag(h->packed_);
    h->packed_ = nullptr;
    h->ttl_.reset();
    return r;
  }
  // Grew a table or TTLs (or emptied): becomes a HashValue sharing nothing with the block.
  auto* out = new HashValue();
  if (h->packed_ && h->borrowed_) {
    size_t sz = sizeof(PackedHeader) + Hdr(h->packed_)->bytes;
    out->packed_ = static_cast<char*>(malloc(sz));
    if (!out->packed_) {
      delete out;
      throw std::bad_alloc();
    }
    memcpy(out->packed_, h->packed_, sz);
    h->packed_ = nullptr;
    h->borrowed_ = false;
  } else {
    out->packed_ = h->packed_;
    h->packed_ = nullptr;
  }
  out->table_ = std::move(h->table_);
  out->ttl_ = std::move(h->ttl_);
  return out;
}

void* HashValue::ToRep(HashValue* h) {
  void* r = Settle(h, h);
  if (r != h) delete h;
  return r;
}

void HashValue::FreeRep(void* rep) {
  if (IsPacked(rep)) free(Block(rep));
  else delete static_cast<HashValue*>(rep);
}

size_t HashValue::RepMemUsage(const void* rep) {
  if (IsPacked(rep)) return malloc_usable_size(Block(rep));
  return static_cast<const HashValue*>(rep)->MemUsage();
}

}  // namespace ferrite::mod::hashes
