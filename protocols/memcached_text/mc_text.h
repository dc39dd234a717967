// memcached text protocol codec (classic + meta), host-free: it frames requests from the
// input bytes, runs each through McBackend (MC.* commands via the host's execute), and
// renders memcached's exact reply bytes. The plugin glue is in mc_text_plugin.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <memory>

#include "mc_common.h"
#include "mc_introspect.h"

namespace ferrite::proto::mc {

struct DumpWalk;

class TextSession {
 public:
  explicit TextSession(McBackend& b) : b_(b) {}

  // Consumes every complete request in data[0..len) and returns the bytes consumed; a
  // partial request (line or data block) is left for the next call. Replies go to
  // McBackend::Write once per call.
  size_t OnBytes(const uint8_t* data, size_t len);
  bool closed() const { return closed_; }

  // memcached closes a connection that sends this much without a newline, unless the
  // line is a get/gets (multigets are unbounded there; we cap them at kMaxGetLine).
  static constexpr size_t kMaxLine = 2048;
  static constexpr size_t kMaxGetLine = 8u << 20;

 private:
  using Tokens = std::vector<std::string_view>;

  // Returns false when the request needs more bytes (nothing consumed).
  bool Dispatch(const Tokens& t, std::string_view rest, size_t* data_used);
  bool DispatchMeta(const Tokens& t, std::string_view rest, size_t* data_used);
  void Admin(const Tokens& t);
  bool Storage(const Tokens& t, std::string_view rest, size_t* data_used);
  bool AsciiAuth(const Tokens& t, std::string_view rest, size_t* data_used);
  void Get(const Tokens& t, bool cas, bool touch);
  void Arith(const Tokens& t, bool incr);
  void Delete(const Tokens& t);
  void Touch(const Tokens& t);
  void FlushAll(const Tokens& t);
  // Introspection (mc_text_introspect.cc). Stats and LruCrawler return false while a
  // walk over the keyspace is under way (the request stays unconsumed, see DumpWalk).
  bool Stats(const Tokens& t);
  bool LruCrawler(const Tokens& t);
  void Watch(const Tokens& t);
  bool StartWalk(std::unique_ptr<DumpWalk> walk);
  bool StepWalk();
  void FinishWalk();
  // Meta commands (mc_meta.cc).
  void MetaGet(const Tokens& t);
  bool MetaSet(const Tokens& t, std::string_view rest, size_t* data_used);
  void MetaDelete(const Tokens& t);
  void MetaArith(const Tokens& t);
  void MetaDebug(const Tokens& t);

  // Classic replies honour noreply (errors included, as memcached's out_string does).
  void Out(std::string_view line);
  void Raw(std::string_view bytes) { out_.append(bytes); }
  void Flush();

  McBackend& b_;
  McArgv argv_;
  Tokens toks_;  // reused: no allocation per batch
  std::string out_;
  std::string scratch_;
  uint64_t swallow_ = 0;  // bytes of a refused data block still to drop
  bool noreply_ = false;
  bool closed_ = false;
  bool blocked_ = false;  // the request being dispatched parked the client (kBlocked)
  bool watching_ = false;  // `watch` turned this connection into a log reader
  // A key walk in progress: the request stays unconsumed and each call to OnBytes (the
  // host feeds it again after the output drained: conn_resume) takes one more turn.
  std::unique_ptr<DumpWalk> walk_;
};

// One `stats items|slabs|sizes`, `stats cachedump` or `lru_crawler metadump|mgdump`.
struct DumpWalk {
  enum class Kind { kItems, kSlabs, kSizes, kCacheDump, kMetaDump, kMgDump } kind;
  uint64_t cursor = 0;
  std::array<bool, kMaxClass + 1> want{};  // dumps: the classes asked for
  uint64_t limit = 0, shown = 0;           // cachedump: 0 = no limit
  ItemCensus census;                       // stats
  std::vector<DumpItem> batch;
};

// base64 for meta keys (the 'b' flag). Decode returns false on bad input.
bool Base64Decode(std::string_view in, std::string* out);
std::string Base64Encode(std::string_view in);

}  // namespace ferrite::proto::mc
