// Stream entry IDs: <ms>-<seq>, two unsigned 64-bit halves, ordered as a 128-bit number.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::mod::streams {

struct StreamID {
  uint64_t ms = 0;
  uint64_t seq = 0;
  friend auto operator<=>(const StreamID&, const StreamID&) = default;
  bool IsZero() const { return ms == 0 && seq == 0; }
  static constexpr StreamID Max() { return {UINT64_MAX, UINT64_MAX}; }
};

// The successor / predecessor of `id`; false (and 0-0 / max) when there is none, as
// Redis' streamIncrID / streamDecrID.
inline bool IncrID(StreamID* id) {
  if (id->seq == UINT64_MAX) {
    if (id->ms == UINT64_MAX) {
      *id = {};
      return false;
    }
    id->ms++;
    id->seq = 0;
  } else {
    id->seq++;
  }
  return true;
}
inline bool DecrID(StreamID* id) {
  if (id->seq == 0) {
    if (id->ms == 0) {
      *id = StreamID::Max();
      return false;
    }
    id->ms--;
    id->seq = UINT64_MAX;
  } else {
    id->seq--;
  }
  return true;
}

inline std::string FormatID(const StreamID& id) {
  return std::to_string(id.ms) + "-" + std::to_string(id.seq);
}

// The 16-byte big-endian form Redis uses as rax key and in RDB PELs.
inline void EncodeID(const StreamID& id, unsigned char out[16]) {
  for (int i = 0; i < 8; i++) {
    out[i] = static_cast<unsigned char>(id.ms >> (56 - 8 * i));
    out[8 + i] = static_cast<unsigned char>(id.seq >> (56 - 8 * i));
  }
}
inline StreamID DecodeID(const unsigned char in[16]) {
  StreamID id;
  for (int i = 0; i < 8; i++) {
    id.ms = (id.ms << 8) | in[i];
    id.seq = (id.seq << 8) | in[8 + i];
  }
  return id;
}

// How a textual ID is read (Redis' streamGenericParseIDOrReply).
enum class IdParse {
  kRange,   // "-" and "+" allowed
  kStrict,  // "-" and "+" refused
};

// Parses <ms>[-<seq>]; a missing seq becomes `missing_seq`. With `seq_given` non-null,
// "<ms>-*" is accepted and *seq_given says whether a sequence was written.
bool ParseID(std::string_view s, StreamID* id, uint64_t missing_seq, IdParse mode,
             bool* seq_given = nullptr);

inline constexpr const char kInvalidIdError[] =
    "ERR Invalid stream ID specified as stream command argument";

}  // namespace ferrite::mod::streams
