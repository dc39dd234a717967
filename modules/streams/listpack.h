// A Redis listpack (redis/redis listpack.c format) kept in a std::string: the byte layout
// is Redis' own, so a stream node is saved to and loaded from RDB as it is.
//
//   <total bytes: u32 LE> <element count: u16 LE, 65535 = unknown> <element>* 0xFF
//   element = <encoding + data> <backlen: length of encoding + data, 1-5 bytes>
//
// Integers use the smallest of Redis' encodings (7-bit uint, 13/16/24/32/64-bit int);
// strings that read as an int64 (string2ll) are stored as integers, as lpAppend does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::mod::streams {

// One element read from a listpack. A string is a view into the listpack.
struct LpElem {
  bool is_int = false;
  int64_t ival = 0;
  std::string_view sval;
  size_t size = 0;  // bytes of encoding + data + backlen
  // The element as a client sees it (integers in decimal).
  std::string Str() const { return is_int ? std::to_string(ival) : std::string(sval); }
  void AppendTo(std::string* out) const;
};

class Listpack {
 public:
  static constexpr size_t kHeader = 6;

  Listpack() { Init(); }
  explicit Listpack(std::string bytes) : b_(std::move(bytes)) {}

  const std::string& bytes() const { return b_; }
  size_t size() const { return b_.size(); }
  size_t capacity() const { return b_.capacity(); }
  void Reserve(size_t n) { b_.reserve(n); }
  void ShrinkToFit() { b_.shrink_to_fit(); }

  void AppendInt(int64_t v);
  void AppendString(std::string_view s);  // int-encodes strings that are integers

  // Offset of the first element, or 0 at the end (offsets are always >= kHeader).
  size_t First() const { return b_.size() > kHeader + 1 ? kHeader : 0; }
  // Reads the element at `off` (a valid element offset) and returns the next one's
  // offset, or 0 when `off` was the last.
  size_t Read(size_t off, LpElem* e) const;
  // Reads an integer element (the listpack must be valid: checked on load).
  int64_t IntAt(size_t off) const;
  // Replaces the integer at `off` by `v`; later offsets move when the size changes.
  void ReplaceInt(size_t off, int64_t v);

  // Full validation of untrusted bytes (RDB): header, every element's bounds and
  // back-length, element count. Returns the number of elements, or -1.
  static int64_t Validate(std::string_view bytes);

 private:
  void Init();
  void SetHeader();
  static size_t EncodeInt(int64_t v, unsigned char* out);
  static size_t EncodeBacklen(size_t l, unsigned char* out);

  std::string b_;
};

}  // namespace ferrite::mod::streams
