// memcached's introspection commands on the text protocol: stats (general, settings,
// items, slabs, sizes, conns, cachedump), lru_crawler (metadump, mgdump and the crawler
// knobs) and watch. Key walks go through MC.DUMP one batch at a time and, where the host
// can resume the connection, one turn per call, so a large keyspace neither holds this
// worker nor piles the whole answer up in memory.
#include <ctime>

#include "mc_text.h"

namespace ferrite::proto::mc {
namespace {

constexpr size_t kMaxTokens = 24;
constexpr size_t kTurnBatches = 8;            // MC.DUMP calls per turn
constexpr size_t kTurnOutput = 256 * 1024;    // or this much output, whichever first

size_t NTokens(const std::vector<std::string_view>& t) {
  return std::min(t.size(), kMaxTokens - 1) + 1;  // memcached's count
}

void AppendRows(const StatRows& rows, std::string* out) {
  for (auto& [k, v] : rows) out->append("STAT ").append(k).append(" ").append(v).append("\r\n");
}

// mgdump's line: the key, or base64 and the b flag for a key the text protocol cannot
// carry (memcached: a key stored in binary form).
void AppendMgDumpLine(const DumpItem& it, std::string* out) {
  if (ValidKey(it.key)) {
    out->append("mg ").append(it.key).append("\r\n");
  } else {
    out->append("mg ").append(Base64Encode(it.key)).append(" b\r\n");
  }
}

}  // namespace

bool TextSession::Stats(const Tokens& t) {
  if (walk_) return StepWalk();
  if (const McReply* no = StatsRefused(b_)) {
    Out(TextErrorFor(*no));
    return true;
  }
  size_t ntokens = NTokens(t);
  using Kind = DumpWalk::Kind;
  if (ntokens == 2) {
    StatRows rows = GeneralStats(b_);
    AppendRows(rows, &out_);
    out_.append("END\r\n");
    return true;
  }
  std::string_view sub = t[1];
  auto walk = std::make_unique<DumpWalk>();
  if (sub == "reset") {
    Out("RESET");
    return true;
  } else if (sub == "detail") {
    if (t.size() >= 3 && (t[2] == "on" || t[2] == "off")) Out("OK");
    else if (t.size() >= 3 && t[2] == "dump") Raw("END\r\n");
    else Out("CLIENT_ERROR usage: stats detail on|off|dump");
    return true;
  } else if (sub == "settings") {
    AppendRows(SettingsStats(b_), &out_);
  } else if (sub == "conns") {
    AppendRows(ConnsRows(b_), &out_);
  } else if (sub == "cachedump") {
    if (ntokens < 5) {
      Out("CLIENT_ERROR bad command line");
      return true;
    }
    uint32_t id = 0, limit = 0;
    if (!ParseU32(t[2], &id) || !ParseU32(t[3], &limit)) {
      Out("CLIENT_ERROR bad command line format");
      return true;
    }
    if (id > kMaxClass) {
      Out("CLIENT_ERROR Illegal slab id");
      return true;
    }
    walk->kind = Kind::kCacheDump;
    walk->want[id] = id > 0;  // memcached's class 0 holds nothing
    walk->limit = limit;
    return StartWalk(std::move(walk));
  } else if (sub == "items" || sub == "slabs" || sub == "sizes") {
    walk->kind = sub == "items" ? Kind::kItems : sub == "slabs" ? Kind::kSlabs : Kind::kSizes;
    return StartWalk(std::move(walk));
  } else {
    Out("ERROR");
    return true;
  }
  out_.append("END\r\n");
  return true;
}

bool TextSession::LruCrawler(const Tokens& t) {
  if (walk_) return StepWalk();
  size_t ntokens = NTokens(t);
  if (ntokens < 3) {
    Out("ERROR");
    return true;
  }
  std::string_view sub = t[1];
  if (ntokens == 4 && (sub == "metadump" || sub == "mgdump")) {
    auto walk = std::make_unique<DumpWalk>();
    if (!out_.empty()) {  // memcached: the dump owns the connection from its first byte
      Out(std::string("ERROR cannot pipeline other commands before ") + std::string(sub));
      return true;
    }
    if (!ParseClassList(t[2], &walk->want)) {
      Out("BADCLASS invalid class id");
      return true;
    }
    walk->kind = sub == "metadump" ? DumpWalk::Kind::kMetaDump : DumpWalk::Kind::kMgDump;
    return StartWalk(std::move(walk));
  }
  // The crawler's knobs: Ferrite's active expiry cycle runs all the time (hz), so there
  // is nothing to start, stop or tune; the forms and their errors are memcached's.
  if (ntokens == 4 && sub == "crawl") {
    std::array<bool, kMaxClass + 1> want{};
    Out(ParseClassList(t[2], &want) ? "OK" : "BADCLASS invalid class id");
  } else if (ntokens == 4 && (sub == "tocrawl" || sub == "sleep")) {
    uint32_t v = 0;
    if (!ParseU32(t[2], &v)) Out("CLIENT_ERROR bad command line format");
    else if (sub == "sleep" && v > 1000000) Out("CLIENT_ERROR sleep must be one second or less");
    else Out("OK");
  } else if (ntokens == 3 && (sub == "enable" || sub == "disable")) {
    Out("OK");
  } else {
    Out("ERROR");
  }
  return true;
}

void TextSession::Watch(const Tokens& t) {
  if (!out_.empty()) return Out("ERROR cannot pipeline other commands before watch");
  std::vector<std::string_view> words(t.begin() + 1, t.end());
  if (!words.empty() && words.back() == "noreply") words.pop_back();
  int mask = words.empty() ? 1 : WatchMask(words);  // no argument: fetchers
  if (mask < 0) return Out("ERROR");
  if (mask > 0) {
    argv_.Clear();
    const McReply& r = b_.Exec(argv_.Add("MC.WATCH").Num(mask));
    if (r.status != McStatus::kOk) return Out("WATCHER_FAILED failed to add log watcher");
  }
  out_.append("OK\r\n");
  watching_ = true;
}

bool TextSession::StartWalk(std::unique_ptr<DumpWalk> walk) {
  walk_ = std::move(walk);
  return StepWalk();
}

// One turn of the walk: a few MC.DUMP batches (each holds the keyspace's locks for one
// batch only). Returns true when the answer is complete.
bool TextSession::StepWalk() {
  DumpWalk& w = *walk_;
  using Kind = DumpWalk::Kind;
  int64_t now_s = static_cast<int64_t>(time(nullptr));
  while (true) {
    for (size_t n = 0; n < kTurnBatches && out_.size() < kTurnOutput; n++) {
      int64_t next = DumpBatch(b_, w.cursor, &w.batch);
      if (next < 0) {
        walk_.reset();
        Out("SERVER_ERROR key walk failed");
        return true;
      }
      for (const DumpItem& it : w.batch) {
        switch (w.kind) {
          case Kind::kItems:
          case Kind::kSlabs:
          case Kind::kSizes: w.census.Add(it); break;
          case Kind::kCacheDump:
            if (!w.want[it.cls] || !ValidKey(it.key)) break;  // memcached skips binary keys
            if (w.limit != 0 && w.shown >= w.limit) break;
            AppendCacheDumpLine(it, &out_);
            w.shown++;
            break;
          case Kind::kMetaDump:
            if (w.want[it.cls]) AppendMetaDumpLine(it, now_s, &out_);
            break;
          case Kind::kMgDump:
            if (w.want[it.cls]) AppendMgDumpLine(it, &out_);
            break;
        }
      }
      w.cursor = static_cast<uint64_t>(next);
      bool limit_reached = w.kind == Kind::kCacheDump && w.limit != 0 && w.shown >= w.limit;
      if (next == 0 || limit_reached) {
        FinishWalk();
        return true;
      }
    }
    if (b_.Resume()) return false;  // the host calls again once this turn is written
    Flush();                        // no resume: finish now, writing as we go
  }
}

void TextSession::FinishWalk() {
  DumpWalk& w = *walk_;
  using Kind = DumpWalk::Kind;
  switch (w.kind) {
    case Kind::kItems: AppendRows(ItemsRows(w.census, b_), &out_); break;
    case Kind::kSlabs: AppendRows(SlabsRows(w.census), &out_); break;
    case Kind::kSizes: AppendRows(SizesRows(w.census), &out_); break;
    default: break;
  }
  out_.append(w.kind == Kind::kMgDump ? "EN\r\n" : "END\r\n");
  walk_.reset();
}

}  // namespace ferrite::proto::mc
