#include "host/keyspace.h"

#include <malloc.h>

#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>

#include "ferrite/module.hpp"

namespace ferrite::host {

namespace {

// wyhash-style mixing: fast, good distribution for short keys.
inline uint64_t Mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Read8(const char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

inline uint64_t Rev(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  return __builtin_bswap64(v);
}

constexpr uint64_t kP0 = 0xa0761d6478bd642fULL, kP1 = 0xe7037ed1a0b428dbULL,
                   kP2 = 0x8ebc6af09c88c6e3ULL;

// Written under g_type_mu by registration, read without a lock by every key access: an
// entry's id was stored after its type was registered and published.
std::mutex g_type_mu;
std::atomic<const ferrite_type*> g_types[kMaxTypes];

}  // namespace

bool AssignTypeId(ferrite_type* t) {
  std::lock_guard lk(g_type_mu);
  for (uint32_t i = 0; i < kMaxTypes; i++) {
    if (g_types[i].load(std::memory_order_relaxed)) continue;
    t->id = i;
    g_types[i].store(t, std::memory_order_release);
    return true;
  }
  return false;
}

void ReleaseTypeId(const ferrite_type* t) {
  std::lock_guard lk(g_type_mu);
  if (t->id < kMaxTypes && g_types[t->id].load(std::memory_order_relaxed) == t)
    g_types[t->id].store(nullptr, std::memory_order_relaxed);
}

const ferrite_type* TypeById(uint32_t id) {
  return id < kMaxTypes ? g_types[id].load(std::memory_order_acquire) : nullptr;
}

uint64_t HashKey(std::string_view key) {
  const char* p = key.data();
  size_t n = key.size();
  uint64_t seed = kP0 ^ n;
  while (n >= 16) {
    seed = Mix(Read8(p) ^ kP1, Read8(p + 8) ^ seed);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = Read8(p);
    b = Read8(p + n - 8);
  } else if (n > 0) {
    for (size_t i = 0; i < n; i++) a |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return Mix(Mix(a ^ kP1, b ^ seed) ^ kP2, key.size() ^ kP1);
}

size_t Entry::str_cap() const {
  if (!str.ptr) return 0;
  if (value_inline())
    return malloc_usable_size(const_cast<Entry*>(this)) - sizeof(Entry) - key_len;
  return malloc_usable_size(str.ptr);
}

Table::~Table() { Clear(); }

void Table::FreeValue(Entry* e) {
  if (e->kind == ValueKind::kString) {
    if (!e->value_inline()) free(e->str.ptr);
    e->str.ptr = nullptr;
    e->str.len = 0;  // the flags stay: they belong to the key until a write sets them
  } else {
    const ferrite_type* t = e->mod_type();
    if (e->mod.ptr && t->desc.free_value) t->desc.free_value(e->mod.ptr);
    e->mod.ptr = nullptr;
    e->kind = ValueKind::kString;
    e->str.ptr = nullptr;
    e->str.len = e->str.flags = 0;
  }
}

Entry* Table::Find(std::string_view key, uint64_t hash) const {
  if (buckets_.empty()) return nullptr;
  for (Entry* e = buckets_[hash & (buckets_.size() - 1)]; e; e = e->next) {
    if (e->key_len == key.size() &&
        memcmp(e->key_data(), key.data(), key.size()) == 0)
      return e;
  }
  return nullptr;
}

void Table::Grow() { Rehash(buckets_.empty() ? 4 : buckets_.size() * 2); }

// Moves every entry to a table of n buckets, hashing each key again (Redis' rehash does
// the same; entries do not keep their hash).
void Table::Rehash(size_t n) {
  std::vector<Entry*> nb(n, nullptr);
  for (Entry* b : buckets_) {
    for (Entry* e = b; e;) {
      Entry* next = e->next;
      Entry*& head = nb[HashKey(e->key()) & (n - 1)];
      e->next = head;
      head = e;
      e = next;
    }
  }
  buckets_.swap(nb);
}

Entry* Table::Insert(std::string_view key, uint64_t hash, size_t value_cap) {
  if (size_ >= buckets_.size()) Grow();
  void* mem = malloc(sizeof(Entry) + key.size() + value_cap);
  if (!mem) throw std::bad_alloc();
  Entry* e = static_cast<Entry*>(mem);
  memset(e, 0, sizeof(Entry));
  e->key_len = static_cast<uint32_t>(key.size());
  e->kind = ValueKind::kString;  // lru stays 0: Host::InitAccess sets it by policy
  if (!key.empty()) memcpy(e->key_data(), key.data(), key.size());
  if (value_cap > 0) e->str.ptr = e->key_data() + key.size();
  LinkHashed(e, hash);  // counts EntryBytes: the inline room, if any, is the value's
  return e;
}

void Table::Link(Entry* e) { LinkHashed(e, HashKey(e->key())); }

void Table::LinkHashed(Entry* e, uint64_t hash) {
  if (size_ >= buckets_.size()) Grow();
  Entry*& head = buckets_[hash & (buckets_.size() - 1)];
  e->next = head;
  head = e;
  size_++;
  AddBytes(static_cast<int64_t>(EntryBytes(e)));
  e->has_expire = 0;
  // RENAME/MOVE/COPY re-link an entry: its volatile sub-keys come along.
  TrackSubkeys(e);
}

void Table::Unlink(Entry* e) {
  Entry** pp = &buckets_[HashKey(e->key()) & (buckets_.size() - 1)];
  while (*pp != e) pp = &(*pp)->next;
  *pp = e->next;
  e->next = nullptr;
  size_--;
  AddBytes(-static_cast<int64_t>(EntryBytes(e)));
  DropExpire(e);
  if (!subkey_at_.empty()) SetSubkeyExpire(e, -1);
  // Shrink when very sparse so SCAN and random sampling stay cheap.
  if (buckets_.size() > 64 && size_ * 8 < buckets_.size()) Rehash(buckets_.size() / 2);
}

void Table::Erase(Entry* e) {
  Unlink(e);
  FreeValue(e);
  free(e);
}

void Table::Clear() {
  for (Entry*& b : buckets_) {
    for (Entry* e = b; e;) {
      Entry* next = e->next;
      FreeValue(e);
      free(e);
      e = next;
    }
    b = nullptr;
  }
  if (used_) used_->fetch_sub(bytes_, std::memory_order_relaxed);
  bytes_ = 0;
  size_ = 0;
  expires_.Clear();
  subkey_due_.clear();
  subkey_at_.clear();
  buckets_.clear();
  buckets_.shrink_to_fit();
}

void Table::SetExpire(Entry* e, int64_t abs_ms) {
  if (abs_ms < 0) {
    DropExpire(e);
  } else {
    expires_.Set(e, abs_ms);
    e->has_expire = 1;
  }
}

void Table::ModuleChanged(Entry* e) {
  const ferrite_type* t = e->mod_type();
  size_t now = t->desc.mem_usage ? t->desc.mem_usage(e->mod.ptr) : 0;
  if (now > UINT32_MAX) now = UINT32_MAX;
  size_t before = e->mod.mem;
  e->mod.mem = static_cast<uint32_t>(now);
  ValueChanged(before, now);
}

void Table::SetSubkeyExpire(Entry* e, int64_t at_ms) {
  auto it = subkey_at_.find(e);
  if (it != subkey_at_.end()) {
    if (it->second == at_ms) return;
    subkey_due_.erase({it->second, e});
    if (at_ms < 0) {
      subkey_at_.erase(it);
      return;
    }
    it->second = at_ms;
  } else {
    if (at_ms < 0) return;
    subkey_at_.emplace(e, at_ms);
  }
  subkey_due_.emplace(at_ms, e);
}

void Table::TrackSubkeys(Entry* e) {
  if (e->kind != ValueKind::kModule) {
    if (!subkey_at_.empty()) SetSubkeyExpire(e, -1);  // a hash overwritten by SET
    return;
  }
  auto* next = e->mod_type()->desc.next_subkey_expire;
  if (next || !subkey_at_.empty()) SetSubkeyExpire(e, next ? next(e->mod.ptr) : -1);
}

Entry* Table::RandomVolatile(std::mt19937_64& rng) const {
  return expires_.Random(rng);
}

Entry* Table::RandomEntry(std::mt19937_64& rng) const {
  if (size_ == 0) return nullptr;
  // Pick non-empty buckets at random, then a random element of the chain.
  for (;;) {
    Entry* head = buckets_[rng() & (buckets_.size() - 1)];
    if (!head) continue;
    size_t len = 0;
    for (Entry* e = head; e; e = e->next) len++;
    size_t k = rng() % len;
    Entry* e = head;
    while (k--) e = e->next;
    return e;
  }
}

uint64_t Table::Scan(uint64_t v, const std::function<void(Entry*)>& fn) const {
  if (buckets_.empty()) return 0;
  uint64_t mask = buckets_.size() - 1;
  for (Entry* e = buckets_[v & mask]; e; e = e->next) fn(e);
  // Increment the reversed cursor (Redis dictScan).
  v |= ~mask;
  v = Rev(v);
  v++;
  v = Rev(v);
  return v;
}

void Keyspace::Restamp() {
  for (int si = 0; si < num_shards(); si++)
    for (auto& t : shards_[si]->dbs) t.ForEach([&](Entry* e) { e->version = NextVersion(si); });
}

Keyspace::Keyspace(int num_shards, int num_dbs) : num_dbs_(num_dbs) {
  shard_bits_ = 0;
  while ((1 << shard_bits_) < num_shards) shard_bits_++;
  shift_ = 64 - shard_bits_;
  int n = 1 << shard_bits_;
  shards_.reserve(n);
  for (int i = 0; i < n; i++) {
    auto s = std::make_unique<Shard>();
    s->dbs = std::vector<Table>(num_dbs);
    for (auto& t : s->dbs) t.set_used_counter(&used_bytes);
    s->rng.seed(0x5eed + i);
    shards_.push_back(std::move(s));
  }
}

namespace {

// How long a contended wait blocks before asking give_up again.
constexpr auto kGiveUpPoll = std::chrono::milliseconds(5);

bool NeverGiveUp(void*) { return false; }

// This thread's chain of held lock sets, innermost first (LockSet::prev_).
thread_local LockSet* t_top = nullptr;

void SortUnique(std::vector<int>& idx) {
  if (idx.size() < 2) return;  // one shard (most commands) needs no ordering
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
}

}  // namespace

void LockSet::Acquire(Keyspace& ks, std::vector<int>& idx) {
  SortUnique(idx);
  AcquireSorted(ks, idx.data(), idx.size(), false, NeverGiveUp, nullptr);
}

void LockSet::AcquireAll(Keyspace& ks) { AcquireSorted(ks, nullptr, 0, true, NeverGiveUp, nullptr); }

bool LockSet::LockUnless(Shard& s, GiveUp give_up, void* arg) {
  if (s.mu.try_lock()) return true;
  while (!s.mu.try_lock_for(kGiveUpPoll))
    if (give_up(arg)) return false;
  return true;
}

bool LockSet::AcquireUnless(Keyspace& ks, std::vector<int>& idx, GiveUp give_up, void* arg) {
  SortUnique(idx);
  return AcquireSorted(ks, idx.data(), idx.size(), false, give_up, arg);
}

bool LockSet::AcquireAllUnless(Keyspace& ks, GiveUp give_up, void* arg) {
  return AcquireSorted(ks, nullptr, 0, true, give_up, arg);
}

// Ascending order makes two ordinary lock sets unable to deadlock. A claimant
// (Extend) takes a shard out of order while holding others; a set that waits while
// holding shards therefore lets go of them whenever a claim is pending, waits for the
// claim to be served, and starts over. A set that holds nothing yet need not let go.
bool LockSet::AcquireSorted(Keyspace& ks, const int* idx, size_t n, bool all, GiveUp give_up,
                            void* arg) {
  if (all) n = static_cast<size_t>(ks.num_shards());
  auto at = [&](size_t i) { return all ? static_cast<int>(i) : idx[i]; };
  for (;;) {
    size_t i = 0;
    bool back_off = false;
    for (; i < n; i++) {
      Shard& s = ks.shard(at(i));
      if (s.mu.try_lock()) continue;
      bool got = false;
      while (!(got = s.mu.try_lock_for(kGiveUpPoll))) {
        back_off = i > 0 && ks.claimants.load(std::memory_order_acquire) > 0;
        if (back_off || give_up(arg)) break;
      }
      if (got) continue;
      for (size_t j = i; j-- > 0;) ks.shard(at(j)).mu.unlock();
      if (!back_off) return false;
      break;
    }
    if (!back_off) break;
    while (ks.claimants.load(std::memory_order_acquire) > 0) {
      if (give_up(arg)) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ks_ = &ks;
  all_ = all;
  n_held_ = all ? 0 : n;
  if (!all) {
    if (n_held_ > kInline) big_.assign(idx, idx + n);
    else std::copy(idx, idx + n, small_);
  }
  Push();
  return true;
}

bool LockSet::Extend(Keyspace& ks, int shard, GiveUp give_up, void* arg) {
  if (ks_ && (all_ || Holds(shard))) return true;
  Shard& s = ks.shard(shard);
  if (!s.mu.try_lock()) {
    ks.claimants.fetch_add(1, std::memory_order_acq_rel);
    bool got = LockUnless(s, give_up, arg);
    ks.claimants.fetch_sub(1, std::memory_order_acq_rel);
    if (!got) return false;
  }
  if (n_held_ == kInline) big_.assign(small_, small_ + kInline);
  if (n_held_ >= kInline) big_.push_back(shard);
  else small_[n_held_] = shard;
  n_held_++;
  if (!ks_) {
    ks_ = &ks;
    Push();
  }
  return true;
}

void LockSet::Release() {
  if (!ks_) return;
  if (all_) {
    for (int i = ks_->num_shards() - 1; i >= 0; i--) ks_->shard(i).mu.unlock();
  } else {
    const int* h = held();
    for (size_t i = n_held_; i-- > 0;) ks_->shard(h[i]).mu.unlock();
  }
  Unlink();
  big_.clear();
  n_held_ = 0;
  all_ = false;
  ks_ = nullptr;
}

bool LockSet::Holds(int shard) const {
  if (all_) return true;
  const int* h = held();
  return std::find(h, h + n_held_, shard) != h + n_held_;
}

void LockSet::Push() {
  prev_ = t_top;
  t_top = this;
}

void LockSet::Unlink() {
  for (LockSet** p = &t_top; *p; p = &(*p)->prev_) {
    if (*p != this) continue;
    *p = prev_;
    break;
  }
  prev_ = nullptr;
}

LockSet* LockSet::Current() { return t_top; }

bool LockSet::ThreadHolds(const Keyspace* ks, int shard) {
  for (const LockSet* l = t_top; l; l = l->prev_)
    if (l->ks_ == ks && l->Holds(shard)) return true;
  return false;
}

const char* EntryEncoding(const Entry& e) {
  if (e.kind == ValueKind::kString) {
    std::string_view s = e.string_value();
    if (e.str_raw) return "raw";
    int64_t v;
    if (ferrite::sdk::ParseInt64(s, &v)) return "int";  // Redis' string2ll decides, as in Redis
    return s.size() <= 44 ? "embstr" : "raw";
  }
  const ferrite_type* t = e.mod_type();
  return t->desc.encoding ? t->desc.encoding(e.mod.ptr) : "raw";
}

}  // namespace ferrite::host

static_assert(sizeof(ferrite::host::Entry) == 40, "Entry grew: every key pays for it");
