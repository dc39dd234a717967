// The keyspace: a fixed power-of-two number of shards, each with its own lock and one
// hash table per database. A key's shard depends only on its hash, so every database's
// copy of a key name lives in the same shard (MOVE and COPY ... DB lock one shard).
//
// Callers lock shards through LockSet (ascending order, no deadlock) before touching
// tables; nothing in this file locks by itself except LockSet.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ferrite/module.h"
#include "host/expiry_index.h"

struct ferrite_type {
  ferrite_type_desc desc;
  std::string_view name;
  struct ferrite_plugin* owner;
  uint32_t id;  // index in the type table (TypeById): what an Entry stores
};

namespace ferrite::host {

enum class ValueKind : uint8_t { kString = 0, kModule = 1 };

// Module types by id. An Entry has no room for a type pointer next to the value pointer
// and its accounted size, so it keeps this 32-bit id. Ids of types that were removed
// (only a failed MODULE LOAD removes types: a module with types cannot be unloaded) are
// reused. AssignTypeId returns false when kMaxTypes types are live.
inline constexpr uint32_t kMaxTypes = 1024;
bool AssignTypeId(ferrite_type* t);
void ReleaseTypeId(const ferrite_type* t);
const ferrite_type* TypeById(uint32_t id);

// One key. Allocated with the key bytes right after the struct (one allocation).
// NOTE: 40 bytes, so an entry with a key of up to 16 bytes is one 64-byte glibc chunk
// (request + 8, rounded up to 16); every field added here costs memory on every key.
// Kept out of it, as Redis keeps them out of its robj/dictEntry: the expiry time (in
// Table's expiry index, only keys that have one pay for it), the hash (recomputed from
// the key when the table rehashes or unlinks; lookups compare the key bytes), the
// string's capacity and accounted size (the allocator knows it: Entry::str_cap) and the
// module type's pointer (a 32-bit id, TypeById).
struct Entry {
  Entry* next;
  uint64_t version;       // unique across the keyspace; changes on every write
  uint32_t key_len;
  // Access data, one meaning at a time as in Redis' robj: under an LFU maxmemory-policy
  // the last decrement time in minutes (16 bits) and a logarithmic counter (8 bits),
  // otherwise the LRU clock in seconds (mod 2^24, ~194 days). See Host::TouchEntry.
  uint32_t lru : 24;
  ValueKind kind : 3;
  uint32_t has_expire : 1;  // the key is in its Table's expiry index (Table::ExpireOf)
  // The string was edited in place (key_string_resize: APPEND, SETRANGE). Redis keeps
  // such a value "raw" whatever its bytes, and OBJECT ENCODING shows it; a whole-value
  // write (key_string_set) clears it.
  uint32_t str_raw : 1;
  // memcached's per-item bits (FERRITE_MC_FETCHED / _STALE / _WON, key_get_mc_bits): a
  // value write clears them (a new item in memcached's terms); expiry changes, RENAME
  // and COPY keep them. Not in snapshots (the RDB format has no place for them).
  uint32_t mc_bits : 3;
  union {
    struct {
      char* ptr;
      uint32_t len;
      uint32_t flags;  // memcached client flags: only strings carry them (flags())
    } str;
    struct {
      void* ptr;
      uint32_t mem;   // what the type's mem_usage last answered (Table::ModuleChanged)
      uint32_t type;  // TypeById
    } mod;
  };

  char* key_data() { return reinterpret_cast<char*>(this + 1); }
  std::string_view key() const {
    return {reinterpret_cast<const char*>(this + 1), key_len};
  }
  std::string_view string_value() const { return {str.ptr, str.len}; }
  // A short string value set when the key was created lives in the entry's own
  // allocation, right after the key (Table::Insert's value_cap): one malloc and one cache
  // miss fewer per key. Such a value is never realloc()ed or free()d on its own.
  bool value_inline() const {
    return kind == ValueKind::kString &&
           str.ptr == reinterpret_cast<const char*>(this + 1) + key_len;
  }
  const ferrite_type* mod_type() const { return TypeById(mod.type); }
  const ferrite_type* type(const ferrite_type* string_type) const {
    return kind == ValueKind::kString ? string_type : mod_type();
  }
  // Makes the value a module value (the previous one must have been freed: FreeValue).
  // Its size is counted by the next Table::ModuleChanged.
  void set_module(const ferrite_type* t, void* v) {
    kind = ValueKind::kModule;
    mod.ptr = v;
    mod.mem = 0;
    mod.type = t->id;
  }
  // Memcached client flags; a module value has none (setting them is a no-op).
  uint32_t flags() const { return kind == ValueKind::kString ? str.flags : 0; }
  void set_flags(uint32_t f) {
    if (kind == ValueKind::kString) str.flags = f;
  }
  // Bytes the string value may use without reallocating: what the allocator gave its
  // block (for an inline value, the entry's block past the key). Not stored: the
  // allocator answers in a few instructions.
  size_t str_cap() const;
};

// OBJECT ENCODING's answer for a stored value: a string is "int", "embstr" or "raw" as
// Redis decides; a module value asks its type (nullptr: the type names none).
const char* EntryEncoding(const Entry& e);

// String values up to this size, set when their key is created, are stored inline in
// the key's entry (Entry::value_inline). Larger ones, and values that grow past their
// inline room later, get their own allocation.
inline constexpr size_t kInlineValueMax = 256;

uint64_t HashKey(std::string_view key);

// Chained hash table with power-of-two buckets. Growth rehashes in one step; SCAN uses
// Redis' reverse-binary cursor, which still visits every element present for a whole
// iteration when the table grows or shrinks between calls.
class Table {
 public:
  Table() = default;
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table();

  // `hash` is HashKey(key) (callers have it already: it also picks the shard).
  Entry* Find(std::string_view key, uint64_t hash) const;
  // Inserts a new entry holding an empty string (the caller sets the value). With
  // value_cap > 0 the string has that much inline capacity (see Entry::value_inline).
  Entry* Insert(std::string_view key, uint64_t hash, size_t value_cap = 0);
  // Unlinks and frees the entry and its value.
  void Erase(Entry* e);
  // Unlinks the entry without freeing it (RENAME/MOVE re-link it elsewhere). Its expiry
  // stays behind: read ExpireOf first to carry it over.
  void Unlink(Entry* e);
  // Links an entry unlinked from another table (its key must not exist here), without
  // an expiry (SetExpire afterwards).
  void Link(Entry* e);
  void Clear();

  size_t size() const { return size_; }
  size_t volatile_size() const { return expires_.size(); }
  int64_t bytes() const { return bytes_; }
  size_t bucket_count() const { return buckets_.size(); }
  size_t expiry_slots() const { return expires_.capacity(); }  // 16 bytes each

  // Expiry index: the entries that carry an expiry, with that time (absolute unix ms),
  // for sampling. Entries without one pay nothing (Entry::has_expire is clear).
  void SetExpire(Entry* e, int64_t abs_ms);  // abs_ms < 0 removes the expiry
  int64_t ExpireOf(const Entry* e) const {   // -1 = none
    return e->has_expire ? expires_.Get(e) : -1;
  }
  bool ExpiredAt(const Entry* e, int64_t now_ms) const {
    return e->has_expire && expires_.Get(e) <= now_ms;
  }
  Entry* RandomVolatile(std::mt19937_64& rng) const;
  Entry* RandomEntry(std::mt19937_64& rng) const;

  // Sub-key expiry index (hash field TTLs): entries whose type answers
  // next_subkey_expire >= 0, by that time. A recorded time may be earlier than the real
  // one (a lazy path removed the field): the expiry cycle then simply asks again.
  // Kept out of Entry so keys without volatile sub-keys pay nothing.
  void SetSubkeyExpire(Entry* e, int64_t at_ms);  // < 0 drops e from the index
  // Asks e's type for its next sub-key expiry and records the answer.
  void TrackSubkeys(Entry* e);
  size_t subkey_size() const { return subkey_at_.size(); }
  // The entry with the earliest recorded time if that time is <= now_ms, else null.
  Entry* FirstSubkeyDue(int64_t now_ms) const {
    if (subkey_due_.empty() || subkey_due_.begin()->first > now_ms) return nullptr;
    return subkey_due_.begin()->second;
  }
  int64_t SubkeyExpire(Entry* e) const {
    auto it = subkey_at_.find(e);
    return it == subkey_at_.end() ? -1 : it->second;
  }

  // Exchanges the whole contents (entries, expiry and sub-key indexes, accounting) with
  // another table of the same keyspace (SWAPDB).
  void Swap(Table& o) {
    std::swap(buckets_, o.buckets_);
    std::swap(expires_, o.expires_);
    std::swap(subkey_due_, o.subkey_due_);
    std::swap(subkey_at_, o.subkey_at_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
  }

  uint64_t Scan(uint64_t cursor, const std::function<void(Entry*)>& fn) const;
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (Entry* b : buckets_)
      for (Entry* e = b; e;) {
        Entry* n = e->next;
        fn(e);
        e = n;
      }
  }

  // Memory accounting. The table's total is the sum of EntryBytes over its entries; a
  // write keeps it so by taking ValueBytes before changing a value and calling
  // ValueChanged after (ModuleChanged when only a module value changed in place).
  static size_t BaseBytes(const Entry* e) { return sizeof(Entry) + e->key_len + 16; }
  // A string's capacity, or a module value's size as last counted (Entry::mod.mem).
  static size_t ValueBytes(const Entry* e) {
    return e->kind == ValueKind::kString ? e->str_cap() : e->mod.mem;
  }
  static size_t EntryBytes(const Entry* e) { return BaseBytes(e) + ValueBytes(e); }
  void ValueChanged(size_t before, size_t after) {
    int64_t delta = static_cast<int64_t>(after) - static_cast<int64_t>(before);
    if (delta != 0) AddBytes(delta);  // the common overwrite: skip the shared atomic
  }
  // Asks e's type for its value's size again and counts the difference (a >4 GiB value
  // is counted as 4 GiB).
  void ModuleChanged(Entry* e);
  void set_used_counter(std::atomic<int64_t>* c) { used_ = c; }
  static void FreeValue(Entry* e);

 private:
  void Grow();
  void Rehash(size_t n);
  void AddBytes(int64_t delta) {
    bytes_ += delta;
    if (used_) used_->fetch_add(delta, std::memory_order_relaxed);
  }
  void LinkHashed(Entry* e, uint64_t hash);
  void DropExpire(Entry* e) {
    if (e->has_expire) expires_.Erase(e);
    e->has_expire = 0;
  }
  std::vector<Entry*> buckets_;
  ExpiryIndex expires_;
  std::set<std::pair<int64_t, Entry*>> subkey_due_;  // (time, entry), earliest first
  std::unordered_map<Entry*, int64_t> subkey_at_;    // entry -> its time in subkey_due_
  size_t size_ = 0;
  int64_t bytes_ = 0;
  std::atomic<int64_t>* used_ = nullptr;
};

struct Shard {
  // Timed so that a waiter can give up (LockSet's *Unless forms): the same cost as a
  // plain mutex when uncontended.
  std::timed_mutex mu;
  std::vector<Table> dbs;
  uint64_t version_counter = 0;
  std::mt19937_64 rng{0x5eed};
};

class Keyspace {
 public:
  Keyspace(int num_shards, int num_dbs);
  int num_dbs() const { return num_dbs_; }
  int num_shards() const { return static_cast<int>(shards_.size()); }
  int ShardIndex(uint64_t hash) const {
    return shard_bits_ ? static_cast<int>(hash >> shift_) : 0;
  }
  Shard& shard(int i) { return *shards_[i]; }

  // A fresh, keyspace-unique version for a write in shard `si` (caller holds its lock).
  // Versions are memcached's CAS uniques, so the kCasEpochBits below the sign bit hold
  // the CAS epoch: a replica versions with an epoch other than its primary's
  // (AdoptCasEpoch), so a token read on the primary never equals a version the replica
  // made itself, which after a failover would let a stale `cas` overwrite a newer value.
  // The sign bit stays clear: the memcached commands reply a version as an int64.
  static constexpr int kCasEpochBits = 15;
  static constexpr int kCasEpochShift = 63 - kCasEpochBits;
  static constexpr uint64_t kCasEpochMask = (uint64_t{1} << kCasEpochBits) - 1;
  uint64_t NextVersion(int si) {
    uint64_t v = (++shards_[si]->version_counter << shard_bits_) | static_cast<uint64_t>(si);
    return (v & ((uint64_t{1} << kCasEpochShift) - 1)) |
           cas_epoch_.load(std::memory_order_relaxed) << kCasEpochShift;
  }
  uint64_t cas_epoch() const { return cas_epoch_.load(std::memory_order_relaxed); }
  // Data versioned by a node whose epoch is `heard` (its RDB's aux field, its stream's
  // carrier) now lives here: unless this node's epoch is already past it, it becomes
  // heard + 1 (mod 2^kCasEpochBits). True when it changed; then versions this node made
  // before may be in the heard epoch's range, and Restamp() renews them.
  bool AdoptCasEpoch(uint64_t heard) {
    heard &= kCasEpochMask;
    uint64_t own = cas_epoch_.load(std::memory_order_relaxed);
    if (own > heard) return false;
    cas_epoch_.store((heard + 1) & kCasEpochMask, std::memory_order_relaxed);
    return true;
  }
  // Gives every key a fresh version (in the current epoch). Caller holds every shard.
  void Restamp();

  // Threads waiting in LockSet::Extend for a shard out of ascending order (at most one:
  // the running script, see LockSet::Extend). While this is non-zero, every other
  // LockSet that waits for a shard while holding others releases them and starts again
  // once it is back to zero, so the claimant cannot deadlock with them.
  std::atomic<int> claimants{0};

  // Approximate bytes used by keys and values (sum over tables).
  std::atomic<int64_t> used_bytes{0};

 private:
  std::atomic<uint64_t> cas_epoch_{0};
  int num_dbs_;
  int shard_bits_;
  int shift_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// Locks a set of shards in ascending order; unlocks on destruction. Every command takes
// one, so the common case (up to kInline shards) touches no heap.
class LockSet {
 public:
  LockSet() = default;
  LockSet(const LockSet&) = delete;
  LockSet& operator=(const LockSet&) = delete;
  ~LockSet() { Release(); }

  // `idx` may contain duplicates and be unsorted (it is sorted in place). Call once.
  void Acquire(Keyspace& ks, std::vector<int>& idx);
  void AcquireAll(Keyspace& ks);
  // The same, but while waiting for a contended shard, `give_up(arg)` is asked every few
  // milliseconds; when it says so, everything taken is released and false returned.
  using GiveUp = bool (*)(void* arg);
  bool AcquireUnless(Keyspace& ks, std::vector<int>& idx, GiveUp give_up, void* arg);
  bool AcquireAllUnless(Keyspace& ks, GiveUp give_up, void* arg);
  // One shard, for code that locks a single shard by hand.
  static bool LockUnless(Shard& s, GiveUp give_up, void* arg);
  // Adds one more shard to a set already held, out of ascending order: taken at once if
  // free, else waited for with priority (Keyspace::claimants) — other lock sets waiting
  // while holding shards back off until it is taken. Only one thread may claim at a
  // time: the host lets only the running script (which holds the script slot) do it.
  // False if `give_up` said so (shutdown); the set is then unchanged.
  bool Extend(Keyspace& ks, int shard, GiveUp give_up, void* arg);
  void Release();
  bool holds_all() const { return all_; }
  bool Holds(int shard) const;

  // The innermost lock set this thread holds (acquired and not yet released), or null.
  // Nested calls (EXEC bodies, script calls) run under their parent's set.
  static LockSet* Current();
  // Whether any lock set this thread holds covers `shard` of `ks` (open_key's check).
  static bool ThreadHolds(const Keyspace* ks, int shard);

 private:
  static constexpr size_t kInline = 4;
  const int* held() const { return n_held_ <= kInline ? small_ : big_.data(); }
  // The ascending acquisition behind every Acquire* form; `all` takes every shard.
  bool AcquireSorted(Keyspace& ks, const int* idx, size_t n, bool all, GiveUp give_up,
                     void* arg);
  void Push();    // becomes this thread's Current()
  void Unlink();  // leaves this thread's chain

  LockSet* prev_ = nullptr;  // the lock set this thread held before this one
  Keyspace* ks_ = nullptr;
  int small_[kInline];
  std::vector<int> big_;  // only when more than kInline shards are held
  size_t n_held_ = 0;
  bool all_ = false;  // every shard, in index order; nothing recorded
};

}  // namespace ferrite::host
