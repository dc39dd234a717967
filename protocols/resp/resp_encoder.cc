#include "resp_encoder.h"

#include <charconv>
#include <cstring>
#include <memory>

#include "ferrite/errors.h"
#include "ferrite/module.hpp"

namespace ferrite::proto::resp {
namespace {

constexpr size_t kMaxHeader = 1 + 20 + 2;  // type byte, a 64-bit number, CRLF

char* PutNumber(char* p, int64_t v) { return std::to_chars(p, p + 20, v).ptr; }
char* PutNumber(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }

}  // namespace

// Returns true when the current token belongs to a dropped RESP2 attribute; an
// aggregate token adds its own elements to what must be dropped.
bool Encoder::Swallow(uint64_t children) {
  if (skip_ == 0) return false;
  skip_ = skip_ - 1 + children;
  return true;
}

void Encoder::Raw(std::string_view bytes) {
  char* p = out_->Reserve(bytes.size());
  if (!p) return;
  if (!bytes.empty()) memcpy(p, bytes.data(), bytes.size());  // data() may be null
  out_->Commit(bytes.size());
}

void Encoder::Header(char type, uint64_t n) {
  char* p = out_->Reserve(kMaxHeader);
  if (!p) return;
  char* e = p;
  *e++ = type;
  e = PutNumber(e, n);
  *e++ = '\r';
  *e++ = '\n';
  out_->Commit(static_cast<size_t>(e - p));
}

// NOTE: a status or error line cannot carry CR or LF; like Redis we turn them into
// spaces rather than let a message break the framing.
void Encoder::Line(char type, std::string_view body, bool sanitize) {
  char* p = out_->Reserve(body.size() + 3);
  if (!p) return;
  p[0] = type;
  if (!body.empty()) memcpy(p + 1, body.data(), body.size());  // data() may be null
  if (sanitize) {
    for (size_t i = 1; i <= body.size(); i++) {
      if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
    }
  }
  p[body.size() + 1] = '\r';
  p[body.size() + 2] = '\n';
  out_->Commit(body.size() + 3);
}

void Encoder::BulkWithPrefix(char type, std::string_view prefix, const char* s, size_t len) {
  char* p = out_->Reserve(kMaxHeader + prefix.size() + len + 2);
  if (!p) return;
  char* e = p;
  *e++ = type;
  e = PutNumber(e, static_cast<uint64_t>(prefix.size() + len));
  *e++ = '\r';
  *e++ = '\n';
  if (!prefix.empty()) memcpy(e, prefix.data(), prefix.size());  // data() may be null
  e += prefix.size();
  if (len) memcpy(e, s, len);
  e += len;
  *e++ = '\r';
  *e++ = '\n';
  out_->Commit(static_cast<size_t>(e - p));
}

void Encoder::Simple(std::string_view s) {
  if (Swallow(0)) return;
  Line('+', s, true);
}

void Encoder::Error(ferrite_error_code code, const char* detail, size_t len) {
  if (Swallow(0)) return;
  // The rendered text is the detail plus at most a fixed prefix/suffix.
  char small[512];
  size_t cap = len + 128;
  std::unique_ptr<char[]> big;
  char* buf = small;
  if (cap > sizeof(small)) {
    big.reset(new char[cap]);
    buf = big.get();
  } else {
    cap = sizeof(small);
  }
  size_t n = ferrite_error_format(code, detail ? detail : "", detail ? len : 0, buf, cap);
  ErrorText(std::string_view(buf, n));
}

void Encoder::ErrorText(std::string_view text) {
  if (Swallow(0)) return;
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);  // caller gave wire form
  Line('-', text, true);
}

void Encoder::Integer(int64_t v) {
  if (Swallow(0)) return;
  char* p = out_->Reserve(kMaxHeader);
  if (!p) return;
  char* e = p;
  *e++ = ':';
  e = PutNumber(e, v);
  *e++ = '\r';
  *e++ = '\n';
  out_->Commit(static_cast<size_t>(e - p));
}

void Encoder::Double(double v) {
  if (Swallow(0)) return;
  std::string s = ferrite::sdk::FormatDouble(v);
  if (resp3_) {
    Line(',', s, false);
  } else {
    BulkWithPrefix('$', {}, s.data(), s.size());
  }
}

void Encoder::DoubleText(const char* s, size_t len) {
  if (Swallow(0)) return;
  if (resp3_) {
    Line(',', std::string_view(s, len), true);
  } else {
    BulkWithPrefix('$', {}, s, len);
  }
}

void Encoder::Bulk(const char* s, size_t len) {
  if (Swallow(0)) return;
  BulkWithPrefix('$', {}, s, len);
}

void Encoder::Null() {
  if (Swallow(0)) return;
  Raw(resp3_ ? "_\r\n" : "$-1\r\n");
}

void Encoder::NullArray() {
  if (Swallow(0)) return;
  Raw(resp3_ ? "_\r\n" : "*-1\r\n");
}

void Encoder::Array(size_t n) {
  if (Swallow(n)) return;
  Header('*', n);
}

void Encoder::Map(size_t n) {
  if (Swallow(2 * static_cast<uint64_t>(n))) return;
  if (resp3_) {
    Header('%', n);
  } else {
    Header('*', 2 * static_cast<uint64_t>(n));
  }
}

void Encoder::Set(size_t n) {
  if (Swallow(n)) return;
  Header(resp3_ ? '~' : '*', n);
}

void Encoder::Push(size_t n) {
  if (Swallow(n)) return;
  Header(resp3_ ? '>' : '*', n);
}

void Encoder::Bool(bool v) {
  if (Swallow(0)) return;
  if (resp3_) {
    Raw(v ? "#t\r\n" : "#f\r\n");
  } else {
    Raw(v ? ":1\r\n" : ":0\r\n");
  }
}

void Encoder::Verbatim(const char* fmt3, const char* s, size_t len) {
  if (Swallow(0)) return;
  if (!resp3_) {
    BulkWithPrefix('$', {}, s, len);
    return;
  }
  // The format is exactly three bytes ("txt", "mkd"); anything else becomes "txt".
  std::string prefix = fmt3 && strnlen(fmt3, 4) == 3 ? std::string(fmt3, 3) : "txt";
  prefix += ':';
  BulkWithPrefix('=', prefix, s, len);
}

void Encoder::Bignum(const char* s, size_t len) {
  if (Swallow(0)) return;
  if (resp3_) {
    Line('(', std::string_view(s, len), true);
  } else {
    BulkWithPrefix('$', {}, s, len);
  }
}

void Encoder::Attribute(size_t n) {
  uint64_t children = 2 * static_cast<uint64_t>(n);
  if (Swallow(children)) return;
  if (resp3_) {
    Header('|', n);
  } else {
    skip_ += children;
  }
}

}  // namespace ferrite::proto::resp
