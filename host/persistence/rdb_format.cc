#include "host/persistence/rdb_format.h"

namespace ferrite::host::persist {

int PlainTypeOf(int t) {
  switch (t) {
    case kTypeList: case kTypeListZiplist: case kTypeListQuicklist: case kTypeListQuicklist2:
      return kTypeList;
    case kTypeSet: case kTypeSetIntset: case kTypeSetListpack:
      return kTypeSet;
    case kTypeZset: case kTypeZset2: case kTypeZsetZiplist: case kTypeZsetListpack:
      return kTypeZset2;
    case kTypeHash: case kTypeHashZipmap: case kTypeHashZiplist: case kTypeHashListpack:
      return kTypeHash;
    case kTypeHashListpackEx:  // a listpack of (field, value, ttl), replayed as type 24
      return kTypeHashMetadata;
    default:
      return t;
  }
}

const char* TypeName(int t) {
  switch (PlainTypeOf(t)) {
    case kTypeString: return "string";
    case kTypeList: return "list";
    case kTypeSet: return "set";
    case kTypeZset2: return "zset";
    case kTypeHash: case kTypeHashMetadata: return "hash";
    case kTypeModule: case kTypeModule2: return "module";
    case kTypeStreamListpacks: case kTypeStreamListpacks2: case kTypeStreamListpacks3:
      return "stream";
    default: return "unknown";
  }
}

bool StrictInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] == '0' && s.size() > i + 1) return false;  // leading zero
  if (s[i] == '0' && neg) return false;                // "-0"
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > uint64_t(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > uint64_t(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace ferrite::host::persist
