// The compact encoding of small sorted sets: one allocation holding the entries in
// order, each `varint length, member bytes, 8-byte double`. Linear operations; used
// while the set has at most zset-max-listpack-entries members of at most
// zset-max-listpack-value bytes (OBJECT ENCODING "listpack").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ferrite::mod::zsets {

class ZPack {
 public:
  struct Entry {
    std::string_view member;
    double score;
    size_t offset;  // of the entry in the buffer
    size_t next;    // offset of the following entry
  };

  ZPack() = default;
  ZPack(const ZPack&) = delete;
  ZPack& operator=(const ZPack&) = delete;
  ~ZPack();

  size_t Size() const { return count_; }
  size_t Bytes() const { return used_; }
  size_t Capacity() const { return cap_; }
  // Decodes the entry at `offset` (< Bytes()).
  Entry At(size_t offset) const;
  // Finds a member; sets *rank to its 0-based position.
  bool Find(std::string_view m, Entry* out, size_t* rank) const;
  // Inserts a member that is not present, keeping (score, member) order.
  void Insert(std::string_view m, double score);
  void Erase(const Entry& e);
  // Offsets of every entry in order (for reverse walks and rank access).
  std::vector<size_t> Offsets() const;
  void CopyFrom(const ZPack& o);

 private:
  void Reserve(size_t need);

  uint8_t* buf_ = nullptr;
  uint32_t used_ = 0;
  uint32_t cap_ = 0;
  uint32_t count_ = 0;
};

}  // namespace ferrite::mod::zsets
