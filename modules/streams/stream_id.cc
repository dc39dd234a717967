#include "stream_id.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ferrite/module.hpp"

namespace ferrite::mod::streams {

namespace {

// Redis' string2ull: string2ll first, then strtoull (so leading spaces, '+', leading
// zeros and even "-01", which strtoull wraps around, are accepted). `s` is a C string.
bool String2Ull(const char* s, uint64_t* out) {
  int64_t ll;
  if (sdk::ParseInt64(std::string_view(s, strlen(s)), &ll)) {
    if (ll < 0) return false;
    *out = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return false;
  *out = v;
  return true;
}

}  // namespace

bool ParseID(std::string_view s, StreamID* id, uint64_t missing_seq, IdParse mode,
             bool* seq_given) {
  char buf[128];
  if (s.size() > sizeof(buf) - 1) return false;
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';  // NOTE: an embedded NUL ends the ID, as in Redis' C string
  if (mode == IdParse::kStrict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
    return false;
  if (seq_given) *seq_given = true;
  if (buf[0] == '-' && buf[1] == '\0') {
    *id = {};
    return true;
  }
  if (buf[0] == '+' && buf[1] == '\0') {
    *id = StreamID::Max();
    return true;
  }
  uint64_t ms, seq;
  char* dot = strchr(buf, '-');
  if (dot) *dot = '\0';
  if (!String2Ull(buf, &ms)) return false;
  if (dot) {
    if (seq_given && dot[1] == '*' && dot[2] == '\0') {
      seq = 0;
      *seq_given = false;
    } else if (!String2Ull(dot + 1, &seq)) {
      return false;
    }
  } else {
    seq = missing_seq;
  }
  id->ms = ms;
  id->seq = seq;
  return true;
}

}  // namespace ferrite::mod::streams
