// Reply encoder: turns reply-sink tokens into RESP2 or RESP3 bytes.
//
// RESP2 has no map/set/push/bool/double/verbatim/bignum/null types; they fall back as
// module.h documents (map -> array of 2n, set/push -> array, bool -> integer 0/1,
// double/verbatim/bignum -> bulk string, null -> $-1, null array -> *-1). Attributes
// cannot be expressed in RESP2 at all, so the attribute and its 2n following elements
// (nested aggregates included) are dropped there, as redis-server never sends them to
// RESP2 clients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferrite/module.h"

namespace ferrite::proto::resp {

// Where encoded bytes go. Reserve returns at least n writable bytes (nullptr if the
// output is gone: the token is then dropped); Commit says how many were written.
class Output {
 public:
  virtual ~Output() = default;
  virtual char* Reserve(size_t n) = 0;
  virtual void Commit(size_t used) = 0;
};

// An Output into a std::string, for tests and for anything that buffers.
class StringOutput final : public Output {
 public:
  char* Reserve(size_t n) override {
    mark_ = data.size();
    data.resize(mark_ + n);
    return data.data() + mark_;
  }
  void Commit(size_t used) override { data.resize(mark_ + used); }
  std::string data;

 private:
  size_t mark_ = 0;
};

class Encoder {
 public:
  explicit Encoder(Output* out) : out_(out) {}

  // 2 or 3; anything above 2 is RESP3. Checked by the caller before each token,
  // because HELLO switches the version in the middle of a connection.
  void SetResp(int version) { resp3_ = version >= 3; }
  bool Resp3() const { return resp3_; }

  void Simple(std::string_view s);
  // Renders with ferrite_error_format (Redis' text for the code).
  void Error(ferrite_error_code code, const char* detail, size_t len);
  // A complete error text such as "ERR Protocol error: invalid bulk length".
  void ErrorText(std::string_view text);
  void Integer(int64_t v);
  void Double(double v);
  // A double with the caller's digits: RESP3 `,<text>`, RESP2 a bulk of them.
  void DoubleText(const char* s, size_t len);
  void Bulk(const char* s, size_t len);
  void Null();
  void NullArray();
  void Array(size_t n);
  void Map(size_t n);
  void Set(size_t n);
  void Push(size_t n);
  void Bool(bool v);
  void Verbatim(const char* fmt3, const char* s, size_t len);
  void Bignum(const char* s, size_t len);
  void Attribute(size_t n);

 private:
  bool Swallow(uint64_t children);
  void Header(char type, uint64_t n);
  void Line(char type, std::string_view body, bool sanitize);
  void BulkWithPrefix(char type, std::string_view prefix, const char* s, size_t len);
  void Raw(std::string_view bytes);

  Output* out_;
  bool resp3_ = false;
  uint64_t skip_ = 0;  // RESP2: tokens still to drop because they belong to an attribute
};

}  // namespace ferrite::proto::resp
