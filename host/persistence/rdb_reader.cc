#include "host/persistence/rdb_reader.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "host/context.h"
#include "host/host.h"
#include "host/io.h"
#include "host/persistence/crc64.h"
#include "host/persistence/lzf.h"
#include "host/persistence/rdb_compact.h"
#include "host/persistence/rdb_format.h"
#include "host/persistence/rdb_functions.h"

namespace ferrite::host::persist {

namespace {

[[noreturn]] void Fail(size_t off, const std::string& what) {
  throw RdbError("RDB: " + what + " at byte offset " + std::to_string(off));
}

// Cursor over the file with Redis' primitive decoders. Every read is bounds-checked.
// Over a whole buffer, or over a window of an RdbSource that moves on as bytes are
// needed (a pointer Need returns is good until the next Need).
class RdbInput {
 public:
  explicit RdbInput(std::string_view d) : d_(d) {}
  explicit RdbInput(RdbSource* src) : src_(src) {}
  size_t pos() const { return base_ + pos_; }
  const uint8_t* Need(size_t n) {
    if (n > d_.size() - pos_) Refill(n);
    const auto* p = reinterpret_cast<const uint8_t*>(d_.data() + pos_);
    pos_ += n;
    return p;
  }
  bool streaming() const { return src_ != nullptr; }
  // CRC64 of every byte before `end`, a pos() not before the window (a buffer's
  // window is all of it; a source's moves on with Need).
  uint64_t CrcTo(size_t end) const { return Crc64(crc_, d_.data(), end - base_); }
  // Hands what was read back to the source (the end of the load).
  void Release() {
    if (!src_) return;
    src_->Consume(pos_);
    base_ += pos_;
    d_ = {};  // the source may have moved its bytes
    pos_ = 0;
  }
  uint8_t Byte() { return *Need(1); }
  uint64_t Le(int n) {
    const uint8_t* p = Need(static_cast<size_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  // Returns the length; *special is set for the 11xxxxxx string encodings.
  uint64_t Len(bool* special = nullptr) {
    uint8_t b = Byte();
    if (special) *special = false;
    switch (b >> 6) {
      case kLen6: return b & 0x3f;
      case kLen14: return (uint64_t(b & 0x3f) << 8) | Byte();
      case kLenEncVal:
        if (!special) Fail(pos_ - 1, "string encoding where a length was expected");
        *special = true;
        return b & 0x3f;
      default: break;
    }
    int n = b == kLen32 ? 4 : b == kLen64 ? 8 : 0;
    if (n == 0) Fail(pos_ - 1, "bad length encoding");
    const uint8_t* p = Need(static_cast<size_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
  }
  std::string String() {
    bool special;
    size_t at = pos_;
    uint64_t len = Len(&special);
    if (!special) {
      const uint8_t* p = Need(len);
      return std::string(reinterpret_cast<const char*>(p), len);
    }
    switch (len) {
      case kEncInt8: return std::to_string(static_cast<int8_t>(Le(1)));
      case kEncInt16: return std::to_string(static_cast<int16_t>(Le(2)));
      case kEncInt32: return std::to_string(static_cast<int32_t>(Le(4)));
      case kEncLzf: {
        uint64_t clen = Len(), ulen = Len();
        const uint8_t* p = Need(clen);
        // LZF expands at most ~88x (a 3-byte reference yields 264 bytes): anything more
        // is corruption, and must not become a giant allocation.
        if (ulen > clen * 100 + 64) Fail(at, "corrupt LZF string length");
        std::string out(ulen, '\0');
        if (!LzfDecompress(p, clen, out.data(), ulen)) Fail(at, "corrupt LZF string");
        return out;
      }
      default: Fail(at, "unknown string encoding");
    }
  }
  double BinaryDouble() {
    uint64_t bits = Le(8);
    double v;
    memcpy(&v, &bits, 8);
    return v;
  }
  // RDB_TYPE_ZSET scores: a length byte then ASCII; 253 nan, 254 +inf, 255 -inf.
  double StringDouble() {
    uint8_t n = Byte();
    if (n == 253) return std::nan("");
    if (n == 254) return INFINITY;
    if (n == 255) return -INFINITY;
    std::string s(reinterpret_cast<const char*>(Need(n)), n);
    return strtod(s.c_str(), nullptr);
  }

 private:
  void Refill(size_t n) {
    if (!src_) Fail(pos(), "unexpected end of file");
    crc_ = Crc64(crc_, d_.data(), pos_);  // what leaves the window, for the trailer
    src_->Consume(pos_);
    base_ += pos_;
    pos_ = 0;
    d_ = {};
    d_ = src_->Have(n);
    if (d_.size() < n) Fail(pos(), "unexpected end of payload");
  }

  std::string_view d_;
  size_t pos_ = 0;
  RdbSource* src_ = nullptr;
  size_t base_ = 0;   // pos() of d_[0]
  uint64_t crc_ = 0;  // of the bytes before d_
};

// Module types read their value straight from the file when it is in plain form.
class DirectIo : public ferrite_io {
 public:
  // `scores`: the doubles are sorted-set scores, where NaN is corruption (Redis refuses
  // it too): a NaN breaks the skiplist's order, and removing the member then unlinks
  // the wrong node.
  DirectIo(RdbInput& in, bool scores) : in_(in), scores_(scores) {}
  void WriteLen(uint64_t) override {}
  void WriteString(const char*, size_t) override {}
  void WriteDouble(double) override {}
  bool ReadLen(uint64_t* out) override { return Try([&] { *out = in_.Len(); }); }
  bool ReadString(std::string* out) override { return Try([&] { *out = in_.String(); }); }
  bool ReadDouble(double* out) override {
    return Try([&] {
      size_t at = in_.pos();
      *out = in_.BinaryDouble();
      if (scores_ && std::isnan(*out)) Fail(at, "zset with NaN score");
    });
  }
  std::string error;

 private:
  // NOTE: the callers are plugin code behind the C ABI: no exception may cross it.
  template <class F>
  bool Try(F&& f) {
    try {
      f();
      return true;
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
      return false;
    }
  }
  RdbInput& in_;
  bool scores_;
};

// A decoded compact encoding, replayed as the plain stream.
class DecodedIo : public ferrite_io {
 public:
  struct Item {
    uint64_t len;
    std::string s;
    double d;
    int kind;  // 0 len, 1 string, 2 double
  };
  std::vector<Item> items;
  void Len(uint64_t v) { items.push_back({v, {}, 0, 0}); }
  void Str(std::string s) { items.push_back({0, std::move(s), 0, 1}); }
  void Dbl(double d) { items.push_back({0, {}, d, 2}); }

  void WriteLen(uint64_t) override {}
  void WriteString(const char*, size_t) override {}
  void WriteDouble(double) override {}
  bool ReadLen(uint64_t* out) override {
    if (next_ >= items.size() || items[next_].kind != 0) return false;
    *out = items[next_++].len;
    return true;
  }
  bool ReadString(std::string* out) override {
    if (next_ >= items.size() || items[next_].kind != 1) return false;
    *out = std::move(items[next_++].s);
    return true;
  }
  bool ReadDouble(double* out) override {
    if (next_ >= items.size() || items[next_].kind != 2) return false;
    *out = items[next_++].d;
    return true;
  }

 private:
  size_t next_ = 0;
};

double ParseScore(const std::string& s, size_t off) {
  char* end = nullptr;
  double v = strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) Fail(off, "bad zset score '" + s + "'");
  if (std::isnan(v)) Fail(off, "zset with NaN score");
  return v;
}

class Loader {
 public:
  Loader(Host& h, std::string_view data, const RdbLoadOptions& opt)
      : h_(h), in_(data), opt_(opt) {}
  Loader(Host& h, RdbSource& src, const RdbLoadOptions& opt) : h_(h), in_(&src), opt_(opt) {}

  RdbLoadStats Run() {
    const uint8_t* magic = in_.Need(9);
    if (memcmp(magic, "REDIS", 5) != 0) Fail(0, "not an RDB file (bad magic)");
    int ver = atoi(std::string(reinterpret_cast<const char*>(magic) + 5, 4).c_str());
    if (ver < kRdbMinLoadVersion || ver > kRdbMaxLoadVersion)
      Fail(5, "unsupported RDB version " + std::to_string(ver));
    st_.version = ver;
    int db = 0;
    int64_t expire = -1;
    for (;;) {
      size_t at = in_.pos();
      uint8_t op = in_.Byte();
      switch (op) {
        case kOpExpireMs: expire = static_cast<int64_t>(in_.Le(8)); continue;
        case kOpExpireSec: expire = static_cast<int64_t>(in_.Le(4)) * 1000; continue;
        case kOpFreq: in_.Byte(); continue;
        case kOpIdle: in_.Len(); continue;
        case kOpResizeDb: in_.Len(); in_.Len(); continue;
        case kOpSlotInfo: in_.Len(); in_.Len(); in_.Len(); continue;
        case kOpSelectDb: {
          uint64_t d = in_.Len();
          if (d >= static_cast<uint64_t>(h_.keyspace().num_dbs()))
            Fail(at, "the file has db " + std::to_string(d) + " but databases is " +
                         std::to_string(h_.keyspace().num_dbs()));
          db = static_cast<int>(d);
          last_ = nullptr;
          continue;
        }
        case kOpAux: Aux(); continue;
        case kOpModuleAux: SkipModuleValue(at); continue;
        case kOpFunction2: Library(at); continue;
        case kOpFunction: Fail(at, "pre-release RDB function format is not supported");
        case kOpEof: Trailer(ver); return st_;
        default: LoadKey(op, db, expire, at); expire = -1; continue;
      }
    }
  }

 private:
  void Aux() {
    std::string k = in_.String(), v = in_.String();
    if (k == kAuxMcFlags) {
      if (!last_) return;
      std::unique_lock<std::timed_mutex> lk;
      if (opt_.lock_per_key) lk = std::unique_lock(h_.keyspace().shard(last_shard_).mu);
      last_->set_flags(static_cast<uint32_t>(strtoul(v.c_str(), nullptr, 10)));
    } else if (k == kAuxCasEpoch) {
      uint64_t epoch = strtoull(v.c_str(), nullptr, 10);
      if (opt_.into) st_.cas_epoch = static_cast<int64_t>(epoch & Keyspace::kCasEpochMask);
      else if (opt_.adopt_cas_epoch) h_.keyspace().AdoptCasEpoch(epoch);
    } else if (k == "redis-ver") {
      st_.redis_ver = v;
    } else if (k == "ctime") {
      st_.ctime = atoll(v.c_str());
    } else if (k == "aof-base") {
      st_.aof_base = v == "1";
    }
  }

  void Library(size_t at) {
    std::string code = in_.String();
    if (opt_.into) {
      st_.libraries.push_back(std::move(code));
      return;
    }
    std::string err = RestoreLibraries(
        h_, {code}, opt_.refuse_duplicates ? LibraryPolicy::kAppend : LibraryPolicy::kReplace);
    if (!err.empty()) Fail(at, "failed loading a function library: " + err);
  }

  void Trailer(int ver) {
    size_t crc_end = in_.pos();
    if (ver >= 5) {
      // A source's window may move on with Le: its CRC is taken first. A buffer's is
      // taken only when the file has one (Redis' rdbchecksum no writes 0).
      const bool early = opt_.verify_checksum && in_.streaming();
      uint64_t got = early ? in_.CrcTo(crc_end) : 0;
      uint64_t want = in_.Le(8);
      if (opt_.verify_checksum && want != 0) {
        if (!early) got = in_.CrcTo(crc_end);
        if (got != want) Fail(crc_end, "wrong checksum (file corrupt)");
      }
    }
    st_.consumed = in_.pos();
    in_.Release();
  }

  // A module value's opcode stream (Redis modules' own types): skipped, we cannot use it.
  void SkipModuleValue(size_t at) {
    in_.Len();  // module id
    for (;;) {
      uint64_t op = in_.Len();
      switch (op) {
        case 0: return;                        // EOF
        case 1: case 2: in_.Len(); break;      // SINT, UINT
        case 3: in_.Need(4); break;            // FLOAT
        case 4: in_.Need(8); break;            // DOUBLE
        case 5: in_.String(); break;           // STRING
        default: Fail(at, "corrupt module value");
      }
    }
  }

  const ferrite_type* TypeFor(int rdb_type, const std::string& key, size_t at) {
    int plain = PlainTypeOf(rdb_type);
    if (!types_[plain]) types_[plain] = h_.registry().FindTypeByRdb(plain);
    if (!types_[plain] && plain != rdb_type) types_[plain] = h_.registry().FindTypeByRdb(rdb_type);
    if (!types_[plain] || !types_[plain]->desc.load)
      Fail(at, "value of type " + std::to_string(rdb_type) + " (" + TypeName(rdb_type) +
                   ") for key '" + key + "' but no loaded module handles that type");
    return types_[plain];
  }

  void LoadKey(uint8_t type, int db, int64_t expire, size_t at) {
    if (opt_.progress && st_.keys % RdbLoadOptions::kProgressEvery == 0 && st_.keys > 0 &&
        st_.keys != last_progress_) {
      last_progress_ = st_.keys;
      opt_.progress(at, st_.keys);
    }
    if (opt_.key_load_delay_us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(opt_.key_load_delay_us));
    std::unique_lock<std::timed_mutex> lk;  // Insert takes it with lock_per_key; held to Finish
    key_lock_ = &lk;
    std::string key = in_.String();
    if (opt_.refuse_duplicates && !opt_.into) {
      Keyspace& ks = h_.keyspace();
      uint64_t hash = HashKey(key);
      if (ks.shard(ks.ShardIndex(hash)).dbs[db].Find(key, hash))
        Fail(at, "duplicated key '" + key + "' in DB " + std::to_string(db));
    }
    bool expired = expire >= 0 && expire <= opt_.now_ms;
    LoadedValue v = ReadObject(type, key, at);
    if (expired || v.Empty()) {
      v.Free();
      return Skip();
    }
    if (v.type == nullptr) {
      Entry* e = Insert(db, key, v.str.size() <= kInlineValueMax ? v.str.size() : 0);
      StoreString(e, v.str);
      return Finish(e, expire);
    }
    Entry* e = Insert(db, key);  // an empty string: no value bytes counted yet
    e->set_module(v.type, v.value);
    table_->ModuleChanged(e);
    Finish(e, expire);
  }

 public:
  // Reads a value of RDB type `type` (the type byte already consumed): a string, or a
  // module value built by the type's load callback. `key` names it in errors.
  LoadedValue ReadObject(uint8_t type, const std::string& key, size_t at) {
    LoadedValue out;
    if (type == kTypeString) {
      out.str = in_.String();
      return out;
    }
    int plain = PlainTypeOf(type);
    bool native = plain == kTypeList || plain == kTypeSet || plain == kTypeHash ||
                  plain == kTypeZset2 || plain == kTypeHashMetadata;
    // Other type bytes belong to Ferrite modules with their own RDB type: plain form.
    const ferrite_type* t = TypeFor(type, key, at);
    void* v = nullptr;
    std::string why;
    SetCurrentHost(&h_);
    if (!native || type == plain || type == kTypeZset2) {
      DirectIo io(in_, plain == kTypeZset2);
      v = t->desc.load(&io, type);
      why = io.error;
    } else {
      DecodedIo io;
      Decode(type, key, at, io);
      v = t->desc.load(&io, plain);
    }
    if (!v) Fail(at, "cannot load value of key '" + key + "'" + (why.empty() ? "" : ": " + why));
    out.type = t;
    out.value = v;
    return out;
  }
  RdbInput& input() { return in_; }

 private:
  // Stores a loaded string in a new entry (inline when it fits the room Insert made).
  void StoreString(Entry* e, const std::string& v) {
    size_t before = Table::ValueBytes(e);  // the inline room, if any
    if (!e->value_inline()) {
      e->str.ptr = static_cast<char*>(malloc(v.empty() ? 1 : v.size()));
      if (!e->str.ptr) throw std::bad_alloc();
    }
    memcpy(e->str.ptr, v.data(), v.size());
    e->str.len = static_cast<uint32_t>(v.size());
    table_->ValueChanged(before, e->str_cap());
  }

  void Skip() {
    st_.expired_skipped++;
    last_ = nullptr;
  }

  Entry* Insert(int db, const std::string& key, size_t value_cap = 0) {
    Keyspace& ks = h_.keyspace();
    uint64_t hash = HashKey(key);
    int si = ks.ShardIndex(hash);
    if (opt_.lock_per_key) *key_lock_ = std::unique_lock(ks.shard(si).mu);
    last_shard_ = si;
    table_ = opt_.into ? &(*opt_.into)[static_cast<size_t>(si)][static_cast<size_t>(db)]
                       : &ks.shard(si).dbs[db];
    if (Entry* old = table_->Find(key, hash)) table_->Erase(old);
    Entry* e = table_->Insert(key, hash, value_cap);
    e->version = opt_.into ? 0 : ks.NextVersion(si);  // `into`: versioned when linked
    h_.InitAccess(e);
    return e;
  }

  void Finish(Entry* e, int64_t expire) {
    if (expire >= 0) table_->SetExpire(e, expire);
    table_->TrackSubkeys(e);  // hash field TTLs (RDB types 24, 25) join the active-expiry index
    last_ = e;
    st_.keys++;
  }

  std::vector<std::string> Compact(size_t at, const std::string& key,
                                   bool (*decode)(std::string_view, std::vector<std::string>*)) {
    std::vector<std::string> items;
    std::string blob = in_.String();
    if (!decode(blob, &items)) Fail(at, "corrupt compact encoding in key '" + key + "'");
    return items;
  }

  void Decode(int type, const std::string& key, size_t at, DecodedIo& io) {
    std::vector<std::string> items;
    switch (type) {
      case kTypeListZiplist: items = Compact(at, key, DecodeZiplist); break;
      case kTypeListQuicklist: {
        uint64_t nodes = in_.Len();
        for (uint64_t i = 0; i < nodes; i++) {
          auto part = Compact(at, key, DecodeZiplist);
          std::move(part.begin(), part.end(), std::back_inserter(items));
        }
        break;
      }
      case kTypeListQuicklist2: {
        uint64_t nodes = in_.Len();
        for (uint64_t i = 0; i < nodes; i++) {
          uint64_t container = in_.Len();
          if (container == kQuicklistPlain) {
            items.push_back(in_.String());
          } else if (container == kQuicklistPacked) {
            auto part = Compact(at, key, DecodeListpack);
            std::move(part.begin(), part.end(), std::back_inserter(items));
          } else {
            Fail(at, "bad quicklist container in key '" + key + "'");
          }
        }
        break;
      }
      case kTypeSetIntset: items = Compact(at, key, DecodeIntset); break;
      case kTypeSetListpack: items = Compact(at, key, DecodeListpack); break;
      case kTypeHashZipmap: items = Compact(at, key, DecodeZipmap); break;
      case kTypeHashZiplist: case kTypeZsetZiplist: items = Compact(at, key, DecodeZiplist); break;
      case kTypeHashListpack: case kTypeZsetListpack: items = Compact(at, key, DecodeListpack); break;
      case kTypeHashListpackEx: return DecodeHashListpackEx(at, key, io);
      case kTypeZset: {
        uint64_t n = in_.Len();
        io.Len(n);
        for (uint64_t i = 0; i < n; i++) {
          io.Str(in_.String());
          size_t score_at = in_.pos();
          double score = in_.StringDouble();
          if (std::isnan(score)) Fail(score_at, "zset with NaN score");
          io.Dbl(score);
        }
        return;
      }
      default: Fail(at, "unknown RDB value type " + std::to_string(type));
    }
    int plain = PlainTypeOf(type);
    bool pairs = plain == kTypeHash || plain == kTypeZset2;
    if (pairs && items.size() % 2) Fail(at, "odd element count in key '" + key + "'");
    io.Len(pairs ? items.size() / 2 : items.size());
    for (size_t i = 0; i < items.size(); i++) {
      if (plain == kTypeZset2 && i % 2) io.Dbl(ParseScore(items[i], at));
      else io.Str(std::move(items[i]));
    }
  }

  // RDB_TYPE_HASH_LISTPACK_EX (25, Redis 7.4): an 8-byte LE min expire, then a listpack
  // of (field, value, ttl) triplets, ttl the absolute expiry in ms or 0 for none. Replayed
  // as the type-24 stream the hash type loads: min expire (8 bytes, as a binary double),
  // count, then per field (ttl - min + 1 or 0, field, value).
  void DecodeHashListpackEx(size_t at, const std::string& key, DecodedIo& io) {
    // Redis 7.4 writes the min expire "for future use" and ignores it on load, and so do
    // we: the min is recomputed from the triplets, so a stale header cannot skew a TTL.
    in_.Le(8);
    std::vector<std::string> items = Compact(at, key, DecodeListpack);
    if (items.size() % 3)
      Fail(at, "hash listpack with " + std::to_string(items.size()) +
                   " elements, not (field, value, ttl) triplets, in key '" + key + "'");
    size_t n = items.size() / 3;
    std::vector<int64_t> ttl(n);
    int64_t min = 0;
    for (size_t i = 0; i < n; i++) {
      const std::string& t = items[3 * i + 2];
      if (!StrictInt64(t, &ttl[i]) || ttl[i] < 0 || ttl[i] > kFieldExpireMaxMs)
        Fail(at, "bad field TTL '" + t + "' in key '" + key + "'");
      if (ttl[i] != 0 && (min == 0 || ttl[i] < min)) min = ttl[i];
    }
    double min_bits;
    memcpy(&min_bits, &min, sizeof min_bits);
    io.Dbl(min_bits);
    io.Len(n);
    for (size_t i = 0; i < n; i++) {
      io.Len(ttl[i] == 0 ? 0 : static_cast<uint64_t>(ttl[i] - min + 1));
      io.Str(std::move(items[3 * i]));
      io.Str(std::move(items[3 * i + 1]));
    }
  }

  Host& h_;
  RdbInput in_;
  RdbLoadOptions opt_;
  RdbLoadStats st_;
  Entry* last_ = nullptr;
  int last_shard_ = 0;  // last_'s shard, for its lock
  std::unique_lock<std::timed_mutex>* key_lock_ = nullptr;  // LoadKey's lock, taken by Insert
  uint64_t last_progress_ = 0;
  Table* table_ = nullptr;
  const ferrite_type* types_[256] = {};
};

}  // namespace

RdbLoadStats LoadRdb(Host& h, std::string_view data, const RdbLoadOptions& opt) {
  Loader l(h, data, opt);
  return l.Run();
}

RdbLoadStats LoadRdb(Host& h, RdbSource& src, const RdbLoadOptions& opt) {
  Loader l(h, src, opt);
  return l.Run();
}

bool LoadedValue::Empty() const {
  return type && type->desc.length && type->desc.length(value) == 0;
}

void LoadedValue::Free() {
  if (type && value && type->desc.free_value) type->desc.free_value(value);
  value = nullptr;
}

LoadedValue LoadObject(Host& h, std::string_view data, size_t* consumed) {
  Loader l(h, data, RdbLoadOptions{});
  RdbInput& in = l.input();
  size_t at = in.pos();
  uint8_t type = in.Byte();
  if (type >= kOpSlotInfo) Fail(at, "not a value type: " + std::to_string(type));
  LoadedValue v = l.ReadObject(type, "", at);
  if (consumed) *consumed = in.pos();
  return v;
}

std::vector<std::string> ParseFunctionPayload(std::string_view payload) {
  constexpr size_t kTrailer = 10;  // RDB version (2) + CRC-64 (8)
  if (payload.size() < kTrailer) Fail(0, "function payload shorter than its trailer");
  RdbInput in(payload.substr(0, payload.size() - kTrailer));
  std::vector<std::string> codes;
  while (in.pos() < payload.size() - kTrailer) {
    size_t at = in.pos();
    if (in.Byte() != kOpFunction2) Fail(at, "not a function library record");
    codes.push_back(in.String());
  }
  return codes;
}

}  // namespace ferrite::host::persist
