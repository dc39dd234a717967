// The compact encoding of small sorted sets, as operations on memory the caller owns:
// entries in (score, member) order, each `varint length, member bytes, score`. A score
// that is an integer below 2^53 is a zigzag varint (1-3 bytes for typical scores),
// anything else a tag byte plus the 8-byte double. ZSetValue keeps the entries right
// after its header, in one block (zset_value.h), so nothing here allocates: the caller
// makes room first. Linear operations; used while the set has at most
// zset-max-listpack-entries members of at most zset-max-listpack-value bytes
// (OBJECT ENCODING "listpack").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ferrite::mod::zsets::zpack {

struct Entry {
  std::string_view member;
  double score;
  size_t offset;  // of the entry in the entry area
  size_t next;    // offset of the following entry
};

// Decodes the entry at `offset` (< used).
Entry At(const uint8_t* data, size_t offset);
size_t Count(const uint8_t* data, size_t used);
// Finds a member; sets *rank to its 0-based position.
bool Find(const uint8_t* data, size_t used, std::string_view m, Entry* out, size_t* rank);
// Bytes the entry (m, score) takes.
size_t EntrySize(std::string_view m, double score);
// Inserts (m, score), absent, keeping the order; needs room for EntrySize more bytes.
void Insert(uint8_t* data, size_t used, std::string_view m, double score);
// Removes e; the area shrinks by e.next - e.offset bytes.
void Erase(uint8_t* data, size_t used, const Entry& e);
// Offsets of every entry in order (for reverse walks).
std::vector<size_t> Offsets(const uint8_t* data, size_t used);

}  // namespace ferrite::mod::zsets::zpack
