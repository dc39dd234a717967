// The compact encoding of small sorted sets: one exact-size allocation holding a small
// header and the entries in order, each `varint length, member bytes, score`. A score
// that is an integer below 2^53 is a zigzag varint (1-3 bytes for typical scores),
// anything else a tag byte plus the 8-byte double. Linear operations; used while the
// set has at most zset-max-listpack-entries members of at most zset-max-listpack-value
// bytes (OBJECT ENCODING "listpack").
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
    size_t offset;  // of the entry in the entry area
    size_t next;    // offset of the following entry
  };

  ZPack() = default;
  ZPack(const ZPack&) = delete;
  ZPack& operator=(const ZPack&) = delete;
  ~ZPack();

  size_t Size() const { return blob_ ? H()->count : 0; }
  size_t Bytes() const { return blob_ ? H()->used : 0; }  // entry area
  size_t Capacity() const { return blob_ ? sizeof(Header) + H()->used : 0; }
  // Decodes the entry at `offset` (< Bytes()).
  Entry At(size_t offset) const;
  // Finds a member; sets *rank to its 0-based position.
  bool Find(std::string_view m, Entry* out, size_t* rank) const;
  // Inserts a member that is not present, keeping (score, member) order.
  void Insert(std::string_view m, double score);
  void Erase(const Entry& e);
  // Offsets of every entry in order (for reverse walks).
  std::vector<size_t> Offsets() const;
  void CopyFrom(const ZPack& o);
  void Clear();

 private:
  struct Header {
    uint32_t used;
    uint32_t count;
  };
  Header* H() const { return reinterpret_cast<Header*>(blob_); }
  uint8_t* Data() const { return blob_ + sizeof(Header); }
  void Resize(size_t used);

  uint8_t* blob_ = nullptr;
};

}  // namespace ferrite::mod::zsets
