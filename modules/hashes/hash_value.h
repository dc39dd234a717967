// The hash value: a packed field/value buffer while small ("listpack"), a chained hash
// table with one allocation per field ("hashtable") once it passes
// hash-max-listpack-entries / hash-max-listpack-value. Field TTLs (Redis 7.4 HEXPIRE)
// live in a side table that only hashes with volatile fields pay for; a compact hash
// with TTLs reports "listpackex" like Redis 7.4.
//
// Expired fields are not hidden by this class: callers run ExpireDue(now) first.
//
// What the host holds ("rep"): a compact hash without field TTLs — the common case — is
// handed over as its packed block itself, tagged with the low pointer bit, so it costs
// one allocation instead of a HashValue plus a block. Everything else is a HashValue*.
// View() gives a HashValue over either; over a packed block it *borrows* the block:
// edits that fit are made in place, anything that needs a new size continues on a
// private copy (the host's block stays valid), and Settle() says what the host must
// hold afterwards (the caller swaps it in with key_set_value, which frees the old one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ferrite::mod::hashes {

struct Limits {
  int64_t max_entries = 512;  // hash-max-listpack-entries (Redis 7.0: 512)
  int64_t max_value = 64;     // hash-max-listpack-value
};

// Chained hash table; every node is one block {next, field len, value len, bytes}.
class Table {
 public:
  struct NodeView {
    std::string_view field, value;
  };
  Table() = default;
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  size_t Size() const { return size_; }
  size_t Buckets() const { return mask_ + 1; }
  // Makes room for `n` fields without a resize on the way.
  void Reserve(size_t n);
  bool Find(std::string_view f, std::string_view* value_out) const;
  // Returns true if the field was new.
  bool Set(std::string_view f, std::string_view v);
  bool Del(std::string_view f);
  void ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Reverse-binary cursor scan (as Redis' dictScan): every field present for the whole
  // scan is returned at least once, even if the table grows or shrinks in between.
  uint64_t Scan(uint64_t cursor,
                const std::function<void(std::string_view, std::string_view)>& fn) const;
  // A uniformly random field (requires Size() > 0).
  NodeView Random(std::mt19937_64& rng) const;
  size_t MemUsage() const;
  // MemUsage's parts, for tests of its running count: the table without its nodes, and
  // the nodes' bytes found by walking them.
  size_t MemUsageWithoutNodes() const;
  size_t WalkNodeBytes() const;

 private:
  struct Node;
  static Node* MakeNode(std::string_view f, std::string_view v, Node* next);
  static NodeView View(const Node* n);
  size_t Hash(std::string_view f) const;
  void Resize(size_t buckets);

  Node** buckets_ = nullptr;
  size_t mask_ = 0;  // buckets - 1 (0 with no table)
  size_t size_ = 0;
  // An upper bound of every chain's length (Random's slot range): an insert raises it,
  // a removal leaves it, a resize recomputes it.
  uint32_t max_chain_ = 0;
  // The nodes' allocated bytes, kept as they come and go: the host asks MemUsage after
  // every write, so it must not walk the nodes (that made each HSET O(fields)).
  size_t node_bytes_ = 0;
};

class HashValue {
 public:
  HashValue() = default;
  ~HashValue();
  HashValue(const HashValue&) = delete;
  HashValue& operator=(const HashValue&) = delete;
  HashValue* Clone() const;

  // --- the host's representation (see the file comment) --------------------------
  static bool IsPacked(const void* rep);
  // `storage` backs the view of a packed block; it must outlive the returned pointer.
  static HashValue* View(void* rep, HashValue* storage);
  static const HashValue* View(const void* rep, HashValue* storage);
  // `h` is View(old_rep, ...) after edits. Returns old_rep when the host may keep it;
  // otherwise a new rep that shares nothing with old_rep, which the host must free.
  static void* Settle(HashValue* h, void* old_rep);
  static void* ToRep(HashValue* h);  // takes ownership of a heap value (load, copy)
  static void FreeRep(void* rep);
  static size_t RepMemUsage(const void* rep);

  size_t Size() const;
  const char* Encoding() const;
  bool IsCompact() const { return !table_; }
  size_t MemUsage() const;

  bool Get(std::string_view f, std::string_view* v) const;
  bool Exists(std::string_view f) const {
    std::string_view v;
    return Get(f, &v);
  }
  enum class Ttl { kClear, kKeep };
  // Returns true if the field is new. kClear drops the field's TTL (HSET overwrites).
  bool Set(std::string_view f, std::string_view v, const Limits& lim, Ttl ttl = Ttl::kClear);
  bool Del(std::string_view f);
  void ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Compact hashes return everything and cursor 0.
  uint64_t Scan(uint64_t cursor,
                const std::function<void(std::string_view, std::string_view)>& fn) const;
  // A random field (requires Size() > 0).
  Table::NodeView Random(std::mt19937_64& rng) const;

  // Field TTLs in absolute ms. -1 = no TTL.
  int64_t GetExpire(std::string_view f) const;
  void SetExpire(std::string_view f, int64_t at_ms);
  bool Persist(std::string_view f);  // true if a TTL was removed
  bool HasVolatile() const { return ttl_ && !ttl_->empty(); }
  // A lower bound of the earliest field TTL (exact right after ExpireDue), -1 if none.
  int64_t NextExpire() const { return HasVolatile() ? ttl_->min : -1; }
  // The exact earliest field TTL, -1 if none (O(volatile fields)).
  int64_t MinExpire() const;
  // Converts a compact hash that breaks `lim` (loaded or copied under smaller limits).
  void Conform(const Limits& lim);
  // An empty hash about to receive `n` fields, more than the compact form's limit: starts
  // as a table with room for them.
  void ReserveTable(size_t n);
  // Deletes fields whose TTL is <= now; appends their names to *expired.
  void ExpireDue(int64_t now_ms, std::vector<std::string>* expired);

 private:
  void ConvertToTable();
  void Resize(size_t payload);  // packed_ to `payload` bytes (copies a borrowed block)
  void DropPacked();            // frees packed_ unless borrowed
  size_t PackedFind(std::string_view f, std::string_view* v) const;  // offset or npos

  // Packed form: [u32 bytes][u32 pairs] then (varint len, bytes) field, value, ...
  char* packed_ = nullptr;
  bool borrowed_ = false;  // packed_ is the host's block (a View), not ours to free
  std::unique_ptr<Table> table_;
  // Field -> absolute expiry ms, plus a lower bound of the earliest one (a cheap "nothing
  // due"). Kept behind one pointer: only hashes with volatile fields pay for it.
  struct Ttls : std::unordered_map<std::string, int64_t> {
    int64_t min = INT64_MAX;
  };
  std::unique_ptr<Ttls> ttl_;
};

}  // namespace ferrite::mod::hashes
