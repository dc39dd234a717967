// memcached binary protocol codec, host-free: frames 24-byte-header packets, runs each
// request through McBackend (MC.* commands via the host's execute) and writes memcached
// 1.6's responses (status codes, CAS in the header, quiet opcodes that only speak on
// errors and, for getq/getkq, on hits). The plugin glue is in mc_binary_plugin.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mc_common.h"

namespace ferrite::proto::mc {

namespace bin {
enum Opcode : uint8_t {
  kGet = 0x00, kSet = 0x01, kAdd = 0x02, kReplace = 0x03, kDelete = 0x04, kIncr = 0x05,
  kDecr = 0x06, kQuit = 0x07, kFlush = 0x08, kGetQ = 0x09, kNoop = 0x0a, kVersionOp = 0x0b,
  kGetK = 0x0c, kGetKQ = 0x0d, kAppend = 0x0e, kPrepend = 0x0f, kStat = 0x10, kSetQ = 0x11,
  kAddQ = 0x12, kReplaceQ = 0x13, kDeleteQ = 0x14, kIncrQ = 0x15, kDecrQ = 0x16,
  kQuitQ = 0x17, kFlushQ = 0x18, kAppendQ = 0x19, kPrependQ = 0x1a, kTouch = 0x1c,
  kGat = 0x1d, kGatQ = 0x1e, kSaslList = 0x20, kSaslAuth = 0x21, kSaslStep = 0x22,
  kGatK = 0x23, kGatKQ = 0x24,
};
enum Status : uint16_t {
  kOk = 0x00, kKeyNotFound = 0x01, kKeyExists = 0x02, kTooLarge = 0x03, kInvalid = 0x04,
  kNotStored = 0x05, kNonNumeric = 0x06, kAuthError = 0x20, kAuthContinue = 0x21,
  kUnknownCommand = 0x81, kNoMemory = 0x82, kTempFailure = 0x86,
};
inline constexpr size_t kHeaderLen = 24;
}  // namespace bin

class BinarySession {
 public:
  explicit BinarySession(McBackend& b) : b_(b) {}
  size_t OnBytes(const uint8_t* data, size_t len);
  bool closed() const { return closed_; }

 private:
  struct Req {
    uint8_t opcode = 0;   // as sent (quiet variants included)
    uint8_t cmd = 0;      // quiet variant mapped to its loud form
    bool quiet = false;
    uint8_t extlen = 0;
    uint16_t keylen = 0;
    uint32_t bodylen = 0;
    uint32_t opaque = 0;  // raw bytes, echoed as-is
    uint64_t cas = 0;
    std::string_view extras, key, value;
  };

  Req ParseHeader(const uint8_t* h);
  uint16_t FatalStatus(const Req& r);
  void Dispatch(const Req& r);
  void Get(const Req& r);
  void Store(const Req& r);
  void Concat(const Req& r);
  void Delete(const Req& r);
  void Arith(const Req& r);
  void Flush(const Req& r);
  void Stat(const Req& r);
  void SaslAuth(const Req& r);
  bool ValidShape(const Req& r) const;

  void Header(const Req& r, uint16_t status, uint8_t extlen, uint16_t keylen, uint32_t bodylen,
              uint64_t cas);
  void Error(const Req& r, uint16_t status, std::string_view text = {});
  void HostError(const Req& r, const McReply& reply);
  void Success(const Req& r, uint64_t cas = 0, std::string_view body = {});

  McBackend& b_;
  McArgv argv_;
  std::string out_;
  uint64_t swallow_ = 0;
  bool closed_ = false;
  bool blocked_ = false;  // the request being dispatched parked the client (kBlocked)
};

}  // namespace ferrite::proto::mc
