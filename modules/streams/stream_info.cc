// XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP (Redis 7.0's replies).
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

using Key16 = std::array<unsigned char, 16>;

// Nodes of the rax Redis would hold for these node keys (XINFO's radix-tree-nodes): a
// compressed radix tree over the 16-byte big-endian master IDs, plus its head.
size_t RaxNodes(const std::vector<Key16>& k, size_t lo, size_t hi, size_t d);
size_t RaxBranch(const std::vector<Key16>& k, size_t lo, size_t hi, size_t d) {
  size_t n = 1;  // the branching node
  for (size_t i = lo; i < hi;) {
    size_t j = i;
    while (j < hi && k[j][d] == k[i][d]) j++;
    n += RaxNodes(k, i, j, d + 1);
    i = j;
  }
  return n;
}
size_t RaxNodes(const std::vector<Key16>& k, size_t lo, size_t hi, size_t d) {
  if (d == 16) return 1;                // the key's leaf
  if (hi - lo == 1) return 2;           // a compressed run, then the leaf
  size_t l = d;
  while (l < 16 && k[lo][l] == k[hi - 1][l]) l++;
  return l > d ? 1 + RaxBranch(k, lo, hi, l) : RaxBranch(k, lo, hi, d);
}
size_t RaxNodeCount(const Stream& s) {
  if (s.nodes.empty()) return 1;
  std::vector<Key16> keys;
  keys.reserve(s.nodes.size());
  for (auto& [id, lp] : s.nodes) {
    Key16 b;
    EncodeID(id, b.data());
    keys.push_back(b);
  }
  return RaxNodes(keys, 0, keys.size(), 0);
}

void ReplyLag(const Ctx& ctx, const Stream& s, const Group& g) {
  int64_t lag;
  if (s.Lag(g, &lag)) ctx.Int(lag);
  else ctx.Null();
}

void ReplyEntriesRead(const Ctx& ctx, const Group& g) {
  if (g.entries_read != kInvalidEntriesRead) ctx.Int(g.entries_read);
  else ctx.Null();
}

int StreamInfo(const Ctx& ctx, int argc, const ferrite_slice* argv, const Stream& s) {
  bool full = true;
  int64_t count = 10;
  int optc = argc - 3;
  if (optc == 0) {
    full = false;
  } else {
    if (optc != 1 && optc != 3) return ReplySubcommandError(ctx, "XINFO", SV(argv[1]));
    if (!EqualsIgnoreCase(SV(argv[3]), "full")) return ReplySubcommandError(ctx, "XINFO", SV(argv[1]));
    if (optc == 3) {
      if (!EqualsIgnoreCase(SV(argv[4]), "count"))
        return ReplySubcommandError(ctx, "XINFO", SV(argv[1]));
      if (!ParseLongLongOrReply(ctx, SV(argv[5]), &count)) return FERRITE_OK;
      if (count < 0) count = 10;
    }
  }
  ctx.Map(full ? 9 : 10);
  ctx.Bulk("length");
  ctx.Int(static_cast<int64_t>(s.length));
  ctx.Bulk("radix-tree-keys");
  ctx.Int(static_cast<int64_t>(s.nodes.size()));
  ctx.Bulk("radix-tree-nodes");
  ctx.Int(static_cast<int64_t>(RaxNodeCount(s)));
  ctx.Bulk("last-generated-id");
  ReplyID(ctx, s.last_id);
  ctx.Bulk("max-deleted-entry-id");
  ReplyID(ctx, s.max_deleted);
  ctx.Bulk("entries-added");
  ctx.Int(static_cast<int64_t>(s.entries_added));
  ctx.Bulk("recorded-first-entry-id");
  ReplyID(ctx, s.first_id);
  if (!full) {
    ctx.Bulk("groups");
    ctx.Int(static_cast<int64_t>(s.groups.size()));
    ctx.Bulk("first-entry");
    if (!s.length || !ReplyOneEntry(ctx, s, s.EdgeID(true, true))) ctx.Null();
    ctx.Bulk("last-entry");
    if (!s.length || !ReplyOneEntry(ctx, s, s.EdgeID(false, true))) ctx.Null();
    return FERRITE_OK;
  }
  size_t limit = static_cast<size_t>(count);  // 0 = everything
  ctx.Bulk("entries");
  ReplyRange(ctx, s, StreamID{}, StreamID::Max(), limit, false);
  ctx.Bulk("groups");
  ctx.Array(s.groups.size());
  for (auto& [name, gp] : s.groups) {
    const Group& g = *gp;
    ctx.Map(7);
    ctx.Bulk("name");
    ctx.Bulk(name);
    ctx.Bulk("last-delivered-id");
    ReplyID(ctx, g.last_id);
    ctx.Bulk("entries-read");
    ReplyEntriesRead(ctx, g);
    ctx.Bulk("lag");
    ReplyLag(ctx, s, g);
    ctx.Bulk("pel-count");
    ctx.Int(static_cast<int64_t>(g.pel.size()));
    ctx.Bulk("pending");
    size_t n = limit ? std::min(limit, g.pel.size()) : g.pel.size();
    ctx.Array(n);
    size_t i = 0;
    for (auto it = g.pel.begin(); i < n; ++it, ++i) {
      ctx.Array(4);
      ReplyID(ctx, it->first);
      ctx.Bulk(it->second.consumer ? it->second.consumer->name : "");
      ctx.Int(it->second.delivery_time);
      ctx.Int(static_cast<int64_t>(it->second.delivery_count));
    }
    ctx.Bulk("consumers");
    ctx.Array(g.consumers.size());
    for (auto& [cname, c] : g.consumers) {
      ctx.Map(4);
      ctx.Bulk("name");
      ctx.Bulk(cname);
      ctx.Bulk("seen-time");
      ctx.Int(c.seen_time);
      ctx.Bulk("pel-count");
      ctx.Int(static_cast<int64_t>(c.pel.size()));
      ctx.Bulk("pending");
      size_t m = limit ? std::min(limit, c.pel.size()) : c.pel.size();
      ctx.Array(m);
      size_t j = 0;
      for (auto it = c.pel.begin(); j < m; ++it, ++j) {
        const Nack& nk = g.pel.at(*it);
        ctx.Array(3);
        ReplyID(ctx, *it);
        ctx.Int(nk.delivery_time);
        ctx.Int(static_cast<int64_t>(nk.delivery_count));
      }
    }
  }
  return FERRITE_OK;
}

struct SubCmd {
  const char* name;
  int arity;
};
constexpr SubCmd kXInfoSubs[] = {{"CONSUMERS", 4}, {"GROUPS", 3}, {"STREAM", -3}, {"HELP", 2}};

const SubCmd* FindSub(std::string_view name) {
  for (const auto& s : kXInfoSubs)
    if (EqualsIgnoreCase(name, s.name)) return &s;
  return nullptr;
}

}  // namespace

int XInfoGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  const SubCmd* sub = FindSub(SV(argv[1]));
  if (!sub || EqualsIgnoreCase(sub->name, "HELP") || argc < 3) return 0;
  if (cap > 0) out[0] = 2;
  return 1;
}

int CmdXInfo(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view opt = SV(argv[1]);
  const SubCmd* sub = FindSub(opt);
  if (!sub)
    return ctx.Error("ERR unknown subcommand '" + std::string(opt.substr(0, 128)) +
                     "'. Try XINFO HELP.");
  if (sub->arity > 0 ? argc != sub->arity : argc < -sub->arity) {
    std::string lower(sub->name);
    for (char& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    return ctx.Error(FERRITE_E_ARITY, "xinfo|" + lower);
  }
  std::string_view name = sub->name;
  if (name == "HELP")
    return ReplyHelp(ctx, "XINFO",
                     {"CONSUMERS <key> <groupname>", "    Show consumers of <groupname>.",
                      "GROUPS <key>", "    Show the stream consumer groups.",
                      "STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream."});
  std::string_view key = SV(argv[2]);
  StreamKey sk;
  if (OpenStream(ctx, key, FERRITE_KEY_READ, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s) return ctx.Error(FERRITE_E_NO_SUCH_KEY);
  const Stream& s = *sk.s;
  if (name == "CONSUMERS") {
    Group* g = s.FindGroup(SV(argv[3]));
    if (!g)
      return ctx.Error("NOGROUP No such consumer group '" + std::string(SV(argv[3])) +
                       "' for key name '" + std::string(key) + "'");
    int64_t now = ctx.NowMs();
    ctx.Array(g->consumers.size());
    for (auto& [cname, c] : g->consumers) {
      int64_t idle = now - c.seen_time;
      ctx.Map(3);
      ctx.Bulk("name");
      ctx.Bulk(cname);
      ctx.Bulk("pending");
      ctx.Int(static_cast<int64_t>(c.pel.size()));
      ctx.Bulk("idle");
      ctx.Int(idle < 0 ? 0 : idle);
    }
    return FERRITE_OK;
  }
  if (name == "GROUPS") {
    ctx.Array(s.groups.size());
    for (auto& [gname, gp] : s.groups) {
      ctx.Map(6);
      ctx.Bulk("name");
      ctx.Bulk(gname);
      ctx.Bulk("consumers");
      ctx.Int(static_cast<int64_t>(gp->consumers.size()));
      ctx.Bulk("pending");
      ctx.Int(static_cast<int64_t>(gp->pel.size()));
      ctx.Bulk("last-delivered-id");
      ReplyID(ctx, gp->last_id);
      ctx.Bulk("entries-read");
      ReplyEntriesRead(ctx, *gp);
      ctx.Bulk("lag");
      ReplyLag(ctx, s, *gp);
    }
    return FERRITE_OK;
  }
  return StreamInfo(ctx, argc, argv, s);
}

}  // namespace ferrite::mod::streams
