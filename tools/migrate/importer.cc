#include "importer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "conn.h"
#include "resume_state.h"
#include "source_clock.h"
#include "source_replies.h"

namespace ferrite::migrate {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBusyRetries = 60;
// A one-item fetch that the source's clock keeps ticking through (a huge value over a
// slow link) is taken after this many tries, its expiry then resolved to within 1 s.
constexpr int kTickRetries = 3;
// memcached's largest item (-I) is 1 GB; a bigger announced size is a broken reply, not
// something to allocate.
constexpr uint64_t kMaxValueSize = uint64_t{1} << 30;

struct Item {
  std::string key;
  int64_t listed_exptime = -1;
  bool found = false;
  uint32_t flags = 0;
  int64_t ttl = -1;         // mg's t: seconds left on the source's clock; -1 never expires
  int64_t expires_at = -1;  // the expiry on the source's clock (Unix seconds); -1 never
  std::string value;
};

// A failure of the source (its connections), kept apart from the target's so the
// report says which side went away.
std::string SideError(const char* side, const ConnError& e) {
  return std::string(side) + " failed: " + e.what();
}

void AppendKey(std::string& out, const std::string& key, bool* base64) {
  *base64 = !IsTextSafeKey(key);
  out += *base64 ? Base64Encode(key) : key;
}

void Authenticate(Conn& c, const Options& o) {
  if (o.from_user.empty()) return;
  // memcached's text-protocol authentication (-Y): the first command is a set whose
  // value is "user password"; STORED means authenticated.
  std::string cred = o.from_user + " " + o.from_password;
  c.Send("set ferrite-migrate 0 0 " + std::to_string(cred.size()) + "\r\n" + cred + "\r\n");
  std::string_view reply = c.ReadLine();
  if (reply != "STORED")
    throw ConnError("source refused the credentials of --from-auth: " + std::string(reply));
}

struct SourceInfo {
  std::optional<Version> version;
  uint64_t curr_items = 0;
  int64_t time = 0;  // the source's clock (source_clock.h)
};

// The source's clock from a `stats` reply: every expiry is computed from it, so a
// source without one cannot be imported from.
int64_t SourceTime(const std::optional<StatsInfo>& stats) {
  if (!stats) throw ConnError("the source refused `stats`");
  if (!stats->time) throw ConnError("the source's `stats` has no number for `time`");
  return *stats->time;
}

SourceInfo Probe(Conn& c) {
  SourceInfo info;
  c.Send("version\r\nstats\r\n");
  info.version = ParseVersion(c.ReadLine());
  std::optional<StatsInfo> stats = ReadStatsReply(c);
  info.time = SourceTime(stats);
  info.curr_items = stats->curr_items;
  return info;
}

std::vector<ListedKey> ListKeys(Conn& c, const Options& o, const SourceInfo& info) {
  bool mgdump = o.listing == ListingKind::kMgdump ||
                (o.listing == ListingKind::kAuto && info.version && info.version->AtLeast(1, 6, 19));
  std::string command = mgdump ? "lru_crawler mgdump all\r\n" : "lru_crawler metadump all\r\n";
  std::vector<ListedKey> keys;
  keys.reserve(std::min<uint64_t>(info.curr_items, 50'000'000));
  for (int attempt = 0;; ++attempt) {
    c.Send(command);
    ListedKey k;
    ListingLine kind;
    bool busy = false;
    while ((kind = ParseListingLine(c.ReadLine(), &k)) != ListingLine::kEnd) {
      if (kind == ListingLine::kKey) {
        keys.push_back(std::move(k));
      } else if (kind == ListingLine::kBusy) {
        busy = true;
        break;
      } else if (kind == ListingLine::kError) {
        throw ConnError(std::string("the source refused `") + command.substr(0, command.size() - 2) +
                        "` (is the LRU crawler disabled, or memcached run with -X?)");
      }
    }
    if (!busy) return keys;
    if (attempt == kBusyRetries) throw ConnError("the source's LRU crawler stayed busy for a minute");
    spdlog::info("the source's LRU crawler is busy with another crawl; retrying in 1 s");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

class Copier {
 public:
  // clock_shift: seconds added to each expiry to carry it to the target's clock.
  Copier(const Options& o, Conn& source, Conn& target, ResumeState& state, Counters& c,
         int64_t clock_shift)
      : o_(o), source_(source), target_(target), state_(state), c_(c), clock_shift_(clock_shift) {}

  // Copies one batch. Source errors and target errors throw ConnError, tagged by side.
  void CopyBatch(std::vector<Item>& items) {
    try {
      Fetch(items, 0, items.size(), 1);
    } catch (const ConnError& e) {
      throw ConnError(SideError("source", e));
    }
    Store(items);
    state_.Flush();
  }

 private:
  // Fetches items[begin, end) between two reads of the source's clock (source_clock.h).
  // When the clock ticked meanwhile the two halves are fetched again, each between its
  // own reads, so every expiry comes from a fetch the clock did not tick through.
  void Fetch(std::vector<Item>& items, size_t begin, size_t end, int attempt) {
    std::string req = "stats\r\n";
    for (size_t i = begin; i < end; ++i) {
      bool b64;
      req += "mg ";
      AppendKey(req, items[i].key, &b64);
      // u: the copy must not reorder the source's LRU while it still serves.
      req += b64 ? " b v f t u\r\n" : " v f t u\r\n";
    }
    req += "stats\r\n";
    source_.Send(req);
    int64_t before = SourceTime(ReadStatsReply(source_));
    for (size_t i = begin; i < end; ++i) ReadMgReply(items[i]);
    int64_t after = SourceTime(ReadStatsReply(source_));
    if (before != after && end - begin > 1) {
      size_t mid = begin + (end - begin) / 2;
      Fetch(items, begin, mid, 1);
      Fetch(items, mid, end, 1);
      return;
    }
    if (before != after && attempt < kTickRetries) return Fetch(items, begin, end, attempt + 1);
    for (size_t i = begin; i < end; ++i) {
      Item& it = items[i];
      it.expires_at = it.found && it.ttl >= 0 ? ResolveExpiry(before, after, it.ttl, it.listed_exptime) : -1;
    }
  }

  void ReadMgReply(Item& it) {
    MgHeader h = ParseMgHeader(source_.ReadLine());
    if (h.kind == MgHeader::Kind::kValue && h.size > kMaxValueSize) {
      throw ConnError("the source announced a " + std::to_string(h.size) + "-byte value");
    }
    if (h.kind == MgHeader::Kind::kValue) {
      it.found = true;
      it.flags = h.flags;
      it.ttl = h.ttl;
      it.value.assign(source_.ReadBlock(h.size));
    } else if (h.kind == MgHeader::Kind::kMiss) {
      it.found = false;
      it.value.clear();
    } else {
      throw ConnError("unexpected reply to mg");
    }
  }

  void Store(std::vector<Item>& items) {
    std::string req;
    std::vector<Item*> sent;
    for (Item& it : items) {
      if (!it.found) {  // missing: expired, or deleted/evicted since the listing
        bool listed_expired = it.listed_exptime != -1 && it.listed_exptime != kUnknownExpiry;
        (listed_expired ? c_.expired : c_.gone)++;
        state_.Record(it.key);
        continue;
      }
      o_.to_kind == TargetKind::kRedis ? AppendRespSet(req, it) : AppendMetaAdd(req, it);
      sent.push_back(&it);
    }
    if (sent.empty()) return;
    try {
      target_.Send(req);
      for (Item* it : sent) {
        std::string_view line = target_.ReadLine();
        StoreOutcome out = o_.to_kind == TargetKind::kRedis ? ParseRespStoreReply(line)
                                                             : ParseMetaStoreReply(line);
        switch (out) {
          case StoreOutcome::kStored: c_.copied++; c_.bytes += it->value.size(); break;
          case StoreOutcome::kPresent: c_.present++; break;
          case StoreOutcome::kTooLarge: c_.too_large++; break;
          case StoreOutcome::kFailed:
            c_.failed++;
            spdlog::warn("the target refused key '{}' ({} bytes): {}", it->key, it->value.size(), line);
            break;
        }
        if (out != StoreOutcome::kFailed) state_.Record(it->key);
      }
    } catch (const ConnError& e) {
      throw ConnError(SideError("target", e));
    }
  }

  // ms <key> <len> [b] F<flags> [T<unix time>] ME: add, with flags and expiry, through
  // the meta protocol so a binary key (base64) travels like any other. The expiry is a
  // Unix time, which memcached's protocol reads as absolute (it is over 30 days).
  void AppendMetaAdd(std::string& req, const Item& it) const {
    bool b64;
    req += "ms ";
    AppendKey(req, it.key, &b64);
    req += " " + std::to_string(it.value.size()) + (b64 ? " b" : "") + " F" + std::to_string(it.flags);
    if (it.expires_at >= 0) req += " T" + std::to_string(it.expires_at + clock_shift_);
    req += " ME\r\n";
    req += it.value;
    req += "\r\n";
  }

  // SET key value NX [EXAT unix-time]: flags have no place in a Redis string and are
  // dropped.
  void AppendRespSet(std::string& req, const Item& it) const {
    auto bulk = [&req](std::string_view s) {
      req += "$" + std::to_string(s.size()) + "\r\n";
      req += s;
      req += "\r\n";
    };
    req += it.expires_at >= 0 ? "*6\r\n" : "*4\r\n";
    bulk("SET");
    bulk(it.key);
    bulk(it.value);
    bulk("NX");
    if (it.expires_at >= 0) {
      bulk("EXAT");
      bulk(std::to_string(it.expires_at + clock_shift_));
    }
  }

  const Options& o_;
  Conn& source_;
  Conn& target_;
  ResumeState& state_;
  Counters& c_;
  int64_t clock_shift_;
};

// Spreads `rate` items per second over 100 ms slices, so a limit shows as a steady
// trickle on the source rather than bursts.
class RateLimiter {
 public:
  explicit RateLimiter(uint64_t rate) : rate_(rate), start_(Clock::now()) {}
  size_t Allow(size_t want) const { return rate_ == 0 ? want : std::min<size_t>(want, std::max<uint64_t>(1, rate_ / 10)); }
  void Account(size_t n) {
    if (rate_ == 0) return;
    sent_ += n;
    auto due = start_ + std::chrono::microseconds(sent_ * 1'000'000 / rate_);
    std::this_thread::sleep_until(due);
  }

 private:
  uint64_t rate_;
  Clock::time_point start_;
  uint64_t sent_ = 0;
};

std::string VersionText(const SourceInfo& info) {
  if (!info.version) return "unknown";
  return std::to_string(info.version->major) + "." + std::to_string(info.version->minor) + "." +
         std::to_string(info.version->patch);
}

void CopyKeys(std::vector<ListedKey>& keys, const Options& o, Copier& copier, RateLimiter& limiter,
              const ResumeState& state, Counters& c, Progress& progress) {
  std::vector<Item> batch;
  size_t next = 0;
  while (next < keys.size()) {
    batch.clear();
    size_t want = limiter.Allow(o.batch);
    for (; next < keys.size() && batch.size() < want; ++next) {
      ListedKey& k = keys[next];
      if (k.key.compare(0, o.prefix.size(), o.prefix) != 0) {
        c.filtered++;
      } else if (state.Done(k.key)) {
        c.resumed++;
      } else {
        Item& it = batch.emplace_back();
        it.key = std::move(k.key);
        it.listed_exptime = k.exptime;
      }
    }
    if (!batch.empty()) {
      copier.CopyBatch(batch);
      limiter.Account(batch.size());
    }
    progress.Update(c);
  }
}

}  // namespace

ImportResult RunImport(const Options& o, Progress& progress) {
  ImportResult r;
  auto t0 = Clock::now();
  Counters& c = r.counters;
  std::unique_ptr<ResumeState> state;
  try {
    state = o.resume_file.empty()
                ? std::make_unique<ResumeState>()
                : std::make_unique<ResumeState>(o.resume_file, "ferrite-migrate v1 from=memcached://" +
                                                                   o.from.Text() + " to=" +
                                                                   (o.to_kind == TargetKind::kRedis ? "redis://" : "memcached://") +
                                                                   o.to.Text());
  } catch (const std::runtime_error& e) {
    r.error = e.what();
    return r;
  }
  if (state->Loaded() > 0) spdlog::info("resuming: {} keys were settled by earlier runs", state->Loaded());
  try {
    std::unique_ptr<Conn> lister, source, target;
    SourceInfo info;
    try {
      source = std::make_unique<Conn>("source", o.from.host, o.from.port, o.timeout);
      Authenticate(*source, o);
      info = Probe(*source);
      lister = std::make_unique<Conn>("source", o.from.host, o.from.port, o.timeout);
      Authenticate(*lister, o);
    } catch (const ConnError& e) {
      throw ConnError(SideError("source", e));
    }
    try {
      target = std::make_unique<Conn>("target", o.to.host, o.to.port, o.timeout);
    } catch (const ConnError& e) {
      throw ConnError(SideError("target", e));
    }
    spdlog::info("source memcached {}:{} (version {}), about {} items; copying to {}{}", o.from.host,
                 o.from.port, VersionText(info), info.curr_items,
                 o.to_kind == TargetKind::kRedis ? "redis://" : "memcached://", o.to.Text());
    int64_t shift = 0;
    try {
      std::optional<int64_t> target_time = ReadTargetClock(*target, o.to_kind);
      if (!target_time) {
        spdlog::info("the target does not tell its clock; comparing the source's with this host's");
      }
      shift = ClockShift(info.time, target_time.value_or(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count()));
    } catch (const ConnError& e) {
      throw ConnError(SideError("target", e));
    }
    if (shift != 0) {
      spdlog::warn("the source's clock and the target's differ by {} s: expiry times are moved by "
                   "that much, so each item keeps its remaining TTL (to within 1 s)", shift);
    }
    Copier copier(o, *source, *target, *state, c, shift);
    RateLimiter limiter(o.rate);
    // The LRU crawler walks live LRU lists: an item the LRU maintainer moves between
    // them during the walk can be missed. Later passes list again and copy only what
    // this run has not listed before, until a pass finds nothing new.
    std::unordered_set<uint64_t> listed;
    for (int pass = 1; pass <= o.passes; ++pass) {
      std::vector<ListedKey> keys;
      try {
        keys = ListKeys(*lister, o, info);
      } catch (const ConnError& e) {
        throw ConnError(SideError("source", e));
      }
      std::vector<ListedKey> fresh;
      for (ListedKey& k : keys) {
        if (listed.insert(KeyHash(k.key)).second) fresh.push_back(std::move(k));
      }
      r.passes = pass;
      if (pass > 1 && fresh.empty()) break;
      spdlog::info("listing pass {}: {} keys, {} not listed before", pass, keys.size(), fresh.size());
      if (pass == 1) progress.Start(fresh.size());
      else progress.AddTotal(fresh.size());
      c.listed += fresh.size();
      CopyKeys(fresh, o, copier, limiter, *state, c, progress);
    }
    r.complete = true;
  } catch (const ConnError& e) {
    r.error = e.what();
  } catch (const std::runtime_error& e) {  // the resume file could not be written
    r.error = e.what();
  }
  try {
    state->Flush();
  } catch (const std::runtime_error& e) {
    if (r.error.empty()) r.error = e.what();
    r.complete = false;
  }
  progress.Finish(c);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

std::string FormatSummary(const ImportResult& r) {
  const Counters& c = r.counters;
  std::string out = r.complete ? "import complete\n" : "import INCOMPLETE: " + r.error + "\n";
  auto line = [&out](const char* label, const std::string& value) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "  %-24s", label);
    out += buf + value + "\n";
  };
  auto n = [](uint64_t v) { return std::to_string(v); };
  char mb[128];
  std::snprintf(mb, sizeof(mb), " (%.2f MB)", c.bytes / 1e6);
  line("listed", n(c.listed));
  line("copied", n(c.copied) + mb);
  line("skipped, present", n(c.present));
  line("skipped, expired", n(c.expired));
  line("skipped, gone", n(c.gone) + " (deleted or evicted since the listing)");
  line("skipped, too large", n(c.too_large));
  line("skipped, other prefix", n(c.filtered));
  line("skipped, earlier run", n(c.resumed));
  line("refused by target", n(c.failed));
  line("not reached", n(c.listed - std::min(c.listed, c.Settled())));
  line("listing passes", std::to_string(r.passes));
  char rate[128];
  std::snprintf(rate, sizeof(rate), "%.2f s (%.0f items/s, %.2f MB/s)", r.seconds,
                r.seconds > 0 ? c.Settled() / r.seconds : 0.0,
                r.seconds > 0 ? c.bytes / 1e6 / r.seconds : 0.0);
  line("elapsed", rate);
  return out;
}

}  // namespace ferrite::migrate
