#include "host/replication/repl_stream.h"

#include <algorithm>
#include <cstring>

namespace ferrite::host::repl {

namespace {

void AppendHeader(std::string* out, char kind, uint64_t n) {
  char buf[24];
  char* p = buf + sizeof buf;
  *--p = '\n';
  *--p = '\r';
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n);
  *--p = kind;
  out->append(p, buf + sizeof buf - p);
}

// Reads "<digits>\r\n" at data[pos]; returns false on a malformed number, sets *need
// when the line is not complete yet.
bool ReadNumber(const char* data, size_t n, size_t* pos, int64_t* v, bool* need) {
  const char* nl = static_cast<const char*>(memchr(data + *pos, '\r', n - *pos));
  if (!nl || nl + 1 >= data + n) {
    *need = true;
    return n - *pos < 32;  // a number line longer than this is corrupt
  }
  if (nl[1] != '\n') return false;
  const char* p = data + *pos;
  bool neg = p < nl && *p == '-';
  if (neg) p++;
  if (p == nl || nl - p > 18) return false;
  int64_t r = 0;
  for (; p < nl; p++) {
    if (*p < '0' || *p > '9') return false;
    r = r * 10 + (*p - '0');
  }
  *v = neg ? -r : r;
  *pos = static_cast<size_t>(nl - data) + 2;
  return true;
}

}  // namespace

void AppendCommand(std::string* out, int argc, const ferrite_slice* argv) {
  AppendHeader(out, '*', static_cast<uint64_t>(argc));
  for (int i = 0; i < argc; i++) {
    AppendHeader(out, '$', argv[i].len);
    out->append(argv[i].ptr, argv[i].len);
    out->append("\r\n", 2);
  }
}

namespace {

bool IEq(const ferrite_slice& a, std::string_view b) {
  if (a.len != b.size()) return false;
  for (size_t i = 0; i < b.size(); i++)
    if ((a.ptr[i] | 0x20) != (b[i] | 0x20)) return false;
  return true;
}

std::string_view S(const ferrite_slice& a) { return {a.ptr, a.len}; }

// HPEXPIREAT key t FIELDS n f... / HPERSIST key FIELDS n f... as the kFieldTtlScript
// carrier, split into commands of at most kFieldTtlChunk fields. False when argv is not
// such a command in the form the host propagates (then it goes out verbatim).
bool RewriteFieldTtl(int argc, const ferrite_slice* argv, std::string* out) {
  int fields_at;  // index of FIELDS
  if (IEq(argv[0], "HPEXPIREAT")) fields_at = 3;
  else if (IEq(argv[0], "HPERSIST")) fields_at = 2;
  else return false;
  if (argc < fields_at + 3 || !IEq(argv[fields_at], "FIELDS")) return false;
  const int n = argc - fields_at - 2;  // the host checked the count against it
  static const ferrite_slice kEval{"EVAL", 4};
  static const ferrite_slice kScript{kFieldTtlScript.data(), kFieldTtlScript.size()};
  static const ferrite_slice kOne{"1", 1};
  for (int first = 0; first < n; first += kFieldTtlChunk) {
    const int m = std::min(kFieldTtlChunk, n - first);
    const std::string count = std::to_string(m);
    std::vector<ferrite_slice> a{kEval, kScript, kOne, argv[1], argv[0]};
    for (int i = 2; i < fields_at; i++) a.push_back(argv[i]);  // the time
    a.push_back(argv[fields_at]);
    a.push_back({count.data(), count.size()});
    for (int i = 0; i < m; i++) a.push_back(argv[fields_at + 2 + first + i]);
    AppendCommand(out, static_cast<int>(a.size()), a.data());
  }
  return true;
}

}  // namespace

bool ParseFieldTtlCarrier(const std::vector<std::string_view>& argv,
                          std::vector<std::string_view>* cmd) {
  if (argv.size() < 5 || argv[1] != kFieldTtlScript || argv[2] != "1") return false;
  if (!IEq({argv[0].data(), argv[0].size()}, "EVAL")) return false;
  cmd->assign({argv[4], argv[3]});
  cmd->insert(cmd->end(), argv.begin() + 5, argv.end());
  return true;
}

bool RewriteForReplicas(int argc, const ferrite_slice* argv, std::string* out) {
  if (argc >= 1 && RewriteFieldTtl(argc, argv, out)) return true;
  if (argc == 3 && IEq(argv[0], "MC.DELETE") && IEq(argv[2], "STALE")) {
    ferrite_slice p[3] = {{"PUBLISH", 7}, {kStaleChannel.data(), kStaleChannel.size()}, argv[1]};
    AppendCommand(out, 3, p);
    return true;
  }
  if (argc < 5 || !IEq(argv[0], "MC.SET")) return false;
  const ferrite_slice& key = argv[1];
  const ferrite_slice& val = argv[2];
  if (IEq(argv[3], "APPEND")) {
    ferrite_slice a[3] = {{"APPEND", 6}, key, val};
    AppendCommand(out, 3, a);
    return true;
  }
  if (!IEq(argv[3], "SET")) return false;
  const ferrite_slice* pxat = nullptr;
  for (int i = 5; i + 1 < argc; i += 2)
    if (IEq(argv[i], "PXAT")) pxat = &argv[i + 1];
  ferrite_slice a[5] = {{"SET", 3}, key, val, {"PXAT", 4}, {}};
  if (pxat) a[4] = *pxat;
  AppendCommand(out, pxat ? 5 : 3, a);
  std::string_view flags = S(argv[4]);
  if (flags != "0") {
    std::string payload;
    payload.reserve(flags.size() + 1 + key.len);
    payload.append(flags).append(1, ':').append(key.ptr, key.len);
    ferrite_slice p[3] = {{"PUBLISH", 7},
                          {kFlagsChannel.data(), kFlagsChannel.size()},
                          {payload.data(), payload.size()}};
    AppendCommand(out, 3, p);
  }
  return true;
}

bool ParseFlagsCarrier(const std::vector<std::string_view>& argv, std::string_view* key,
                       std::string_view* flags) {
  if (argv.size() != 3 || argv[1] != kFlagsChannel) return false;
  ferrite_slice cmd{argv[0].data(), argv[0].size()};
  if (!IEq(cmd, "PUBLISH")) return false;
  size_t colon = argv[2].find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 10) return false;
  for (size_t i = 0; i < colon; i++)
    if (argv[2][i] < '0' || argv[2][i] > '9') return false;
  *flags = argv[2].substr(0, colon);
  *key = argv[2].substr(colon + 1);
  return true;
}

bool ParseStaleCarrier(const std::vector<std::string_view>& argv, std::string_view* key) {
  if (argv.size() != 3 || argv[1] != kStaleChannel || argv[2].empty()) return false;
  ferrite_slice cmd{argv[0].data(), argv[0].size()};
  if (!IEq(cmd, "PUBLISH")) return false;
  *key = argv[2];
  return true;
}

void AppendCasEpochCarrier(std::string* out, uint64_t epoch) {
  std::string payload = std::to_string(epoch);
  ferrite_slice p[3] = {{"PUBLISH", 7},
                        {kCasEpochChannel.data(), kCasEpochChannel.size()},
                        {payload.data(), payload.size()}};
  AppendCommand(out, 3, p);
}

bool ParseCasEpochCarrier(const std::vector<std::string_view>& argv, uint64_t* epoch) {
  if (argv.size() != 3 || argv[1] != kCasEpochChannel) return false;
  ferrite_slice cmd{argv[0].data(), argv[0].size()};
  if (!IEq(cmd, "PUBLISH")) return false;
  std::string_view d = argv[2];
  if (d.empty() || d.size() > 19) return false;
  uint64_t v = 0;
  for (char ch : d) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  *epoch = v;
  return true;
}

CommandReader::Status CommandReader::Next(const char* data, size_t n,
                                          std::vector<std::string_view>* argv, size_t* used) {
  argv->clear();
  if (n == 0) return Status::kNeedMore;
  if (data[0] == '\n') {
    *used = 1;
    return Status::kCommand;
  }
  if (data[0] == '\r') {
    if (n < 2) return Status::kNeedMore;
    if (data[1] != '\n') {
      error_ = "Protocol error: bad line ending";
      return Status::kError;
    }
    *used = 2;
    return Status::kCommand;
  }
  if (data[0] != '*') {
    error_ = "Protocol error: expected '*', got '" + std::string(1, data[0]) + "'";
    return Status::kError;
  }
  size_t pos = 1;
  int64_t argc = 0;
  bool need = false;
  if (!ReadNumber(data, n, &pos, &argc, &need)) {
    error_ = "Protocol error: invalid multibulk length";
    return Status::kError;
  }
  if (need) return Status::kNeedMore;
  if (argc < 0 || argc > kMaxArgs) {
    error_ = "Protocol error: invalid multibulk length";
    return Status::kError;
  }
  for (int64_t i = 0; i < argc; i++) {
    if (pos >= n) return Status::kNeedMore;
    if (data[pos] != '$') {
      error_ = "Protocol error: expected '$', got '" + std::string(1, data[pos]) + "'";
      return Status::kError;
    }
    pos++;
    int64_t len = 0;
    if (!ReadNumber(data, n, &pos, &len, &need)) {
      error_ = "Protocol error: invalid bulk length";
      return Status::kError;
    }
    if (need) return Status::kNeedMore;
    if (len < 0 || len > kMaxBulk) {
      error_ = "Protocol error: invalid bulk length";
      return Status::kError;
    }
    if (n - pos < static_cast<size_t>(len) + 2) return Status::kNeedMore;
    if (data[pos + len] != '\r' || data[pos + len + 1] != '\n') {
      error_ = "Protocol error: bulk not followed by CRLF";
      return Status::kError;
    }
    argv->emplace_back(data + pos, static_cast<size_t>(len));
    pos += static_cast<size_t>(len) + 2;
  }
  *used = pos;
  return Status::kCommand;
}

}  // namespace ferrite::host::repl
