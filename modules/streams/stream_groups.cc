// Consumer groups: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.
//
// As in Redis 7.0, changes that touch only a group (its last ID, PEL or consumers) count
// as writes (dirty) but do not change the key's version: WATCH is not disturbed by
// XREADGROUP, XACK or XCLAIM there either. XGROUP DESTROY does signal the key, so a
// client blocked in XREADGROUP on that group wakes up and fails with NOGROUP.
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

struct SubCmd {
  const char* name;
  int arity;
};
constexpr SubCmd kXGroupSubs[] = {{"CREATE", -5},         {"SETID", -5},
                                  {"DESTROY", 4},         {"CREATECONSUMER", 5},
                                  {"DELCONSUMER", 5},     {"HELP", 2}};

const SubCmd* FindSub(std::string_view name) {
  for (const auto& s : kXGroupSubs)
    if (EqualsIgnoreCase(name, s.name)) return &s;
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return out;
}

int ReplyNoGroup(const Ctx& ctx, std::string_view key, std::string_view group) {
  return ctx.Error("NOGROUP No such key '" + std::string(key) + "' or consumer group '" +
                   std::string(group) + "'");
}

}  // namespace

// Redis 7 checks a container's subcommand and its arity before running it.
int XGroupGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  const SubCmd* sub = FindSub(SV(argv[1]));
  if (!sub || EqualsIgnoreCase(sub->name, "HELP") || argc < 3) return 0;
  if (cap > 0) out[0] = 2;
  return 1;
}

int CmdXGroup(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view opt = SV(argv[1]);
  const SubCmd* sub = FindSub(opt);
  if (!sub)
    return ctx.Error("ERR unknown subcommand '" + std::string(opt.substr(0, 128)) +
                     "'. Try XGROUP HELP.");
  if (sub->arity > 0 ? argc != sub->arity : argc < -sub->arity)
    return ctx.Error(FERRITE_E_ARITY, "xgroup|" + Lower(sub->name));
  std::string_view name = sub->name;
  if (name == "HELP") {
    return ReplyHelp(ctx, "XGROUP",
                     {"CREATE <key> <groupname> <id|$> [option]",
                      "    Create a new consumer group. Options are:", "    * MKSTREAM",
                      "      Create the empty stream if it does not exist.",
                      "    * ENTRIESREAD entries_read",
                      "      Set the group's entries_read counter (internal use).",
                      "CREATECONSUMER <key> <groupname> <consumer>",
                      "    Create a new consumer in the specified group.",
                      "DELCONSUMER <key> <groupname> <consumer>",
                      "    Remove the specified consumer.", "DESTROY <key> <groupname>",
                      "    Remove the specified group.",
                      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                      "    Set the current group ID and entries_read counter."});
  }
  std::string_view key = SV(argv[2]), grpname = SV(argv[3]);
  bool mkstream = false;
  int64_t entries_read = kInvalidEntriesRead;
  bool create = name == "CREATE", setid = name == "SETID";
  for (int i = 5; i < argc;) {
    if (create && EqualsIgnoreCase(SV(argv[i]), "MKSTREAM")) {
      mkstream = true;
      i++;
    } else if ((create || setid) && EqualsIgnoreCase(SV(argv[i]), "ENTRIESREAD") &&
               i + 1 < argc) {
      if (!ParseLongLongOrReply(ctx, SV(argv[i + 1]), &entries_read)) return FERRITE_OK;
      if (entries_read < 0 && entries_read != kInvalidEntriesRead)
        return ctx.Error("ERR value for ENTRIESREAD must be positive or -1");
      i += 2;
    } else {
      return ReplySubcommandError(ctx, "XGROUP", opt);
    }
  }
  StreamKey sk;
  if (OpenStream(ctx, key, FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  Stream* s = sk.s;
  Group* cg = nullptr;
  if (!mkstream) {
    if (!s)
      return ctx.Error("ERR The XGROUP subcommand requires the key to exist. Note that for "
                       "CREATE you may want to use the MKSTREAM option to create an empty "
                       "stream automatically.");
    cg = s->FindGroup(grpname);
    if (!cg && (setid || name == "CREATECONSUMER" || name == "DELCONSUMER"))
      return ctx.Error("NOGROUP No such consumer group '" + std::string(grpname) +
                       "' for key name '" + std::string(key) + "'");
  }

  if (create) {
    if (argc > 8) return ReplySubcommandError(ctx, "XGROUP", opt);
    StreamID id;
    if (SV(argv[4]) == "$") {
      id = s ? s->last_id : StreamID{};
    } else if (!ParseIDOrReply(ctx, SV(argv[4]), &id, 0, IdParse::kStrict)) {
      return FERRITE_OK;
    }
    bool created_key = false;
    if (!s) {
      s = CreateStream(ctx, &sk);
      created_key = true;
    }
    if (!s->CreateGroup(grpname, id, entries_read)) {
      if (created_key) sk.key.Delete();  // cannot happen: a new stream has no groups
      return ctx.Error("BUSYGROUP Consumer Group name already exists");
    }
    sk.key.Resized();
    ctx.Dirty();
    ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-create", key);
    return ctx.Ok();
  }
  if (setid) {
    if (argc != 5 && argc != 7) return ReplySubcommandError(ctx, "XGROUP", opt);
    StreamID id;
    if (SV(argv[4]) == "$") {
      id = s->last_id;
    } else if (!ParseIDOrReply(ctx, SV(argv[4]), &id, 0, IdParse::kRange)) {
      return FERRITE_OK;
    }
    cg->last_id = id;
    cg->entries_read = entries_read;
    sk.key.Resized();
    ctx.Dirty();
    ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-setid", key);
    return ctx.Ok();
  }
  if (name == "DESTROY") {
    if (!cg) return ctx.Int(0);
    s->groups.erase(std::string(grpname));
    // Wakes XREADGROUP clients blocked on the group: they fail with NOGROUP.
    sk.key.Modified(FERRITE_NOTIFY_STREAM, "xgroup-destroy");
    return ctx.Int(1);
  }
  if (name == "CREATECONSUMER") {
    Consumer* c = cg->CreateConsumer(SV(argv[4]), ctx.NowMs());
    if (c) {
      sk.key.Resized();
      ctx.Dirty();
      ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-createconsumer", key);
    }
    return ctx.Int(c ? 1 : 0);
  }
  // DELCONSUMER
  int64_t pending = 0;
  if (Consumer* c = cg->FindConsumer(SV(argv[4]))) {
    pending = static_cast<int64_t>(c->pel.size());
    cg->DeleteConsumer(c);
    sk.key.Resized();
    ctx.Dirty();
    ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-delconsumer", key);
  }
  return ctx.Int(pending);
}

int CmdXAck(Ctx ctx, int argc, const ferrite_slice* argv) {
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  Group* g = sk.s ? sk.s->FindGroup(SV(argv[2])) : nullptr;
  if (!g) return ctx.Int(0);
  std::vector<StreamID> ids(static_cast<size_t>(argc - 3));
  for (int j = 3; j < argc; j++)
    if (!ParseIDOrReply(ctx, SV(argv[j]), &ids[static_cast<size_t>(j - 3)], 0, IdParse::kStrict))
      return FERRITE_OK;
  int64_t acked = 0;
  for (const StreamID& id : ids) {
    auto it = g->pel.find(id);
    if (it == g->pel.end()) continue;
    g->Ack(it);
    acked++;
  }
  if (acked) {
    sk.key.Resized();
    ctx.Dirty();
  }
  return ctx.Int(acked);
}

int CmdXPending(Ctx ctx, int argc, const ferrite_slice* argv) {
  bool justinfo = argc == 3;
  std::string_view key = SV(argv[1]), grp = SV(argv[2]);
  std::string_view consumer_name;
  bool has_consumer = false;
  StreamID start, end;
  int64_t count = 0, minidle = 0;
  if (argc != 3 && (argc < 6 || argc > 9)) return ctx.Error(FERRITE_E_SYNTAX);
  if (argc >= 6) {
    int si = 3;
    if (EqualsIgnoreCase(SV(argv[3]), "IDLE")) {
      if (!ParseLongLongOrReply(ctx, SV(argv[4]), &minidle)) return FERRITE_OK;
      if (argc < 8) return ctx.Error(FERRITE_E_SYNTAX);
      si += 2;
    }
    if (!ParseLongLongOrReply(ctx, SV(argv[si + 2]), &count)) return FERRITE_OK;
    if (count < 0) count = 0;
    bool startex, endex;
    if (!ParseIntervalIDOrReply(ctx, SV(argv[si]), &start, &startex, 0)) return FERRITE_OK;
    if (startex && !IncrID(&start)) return ctx.Error("ERR invalid start ID for the interval");
    if (!ParseIntervalIDOrReply(ctx, SV(argv[si + 1]), &end, &endex, UINT64_MAX))
      return FERRITE_OK;
    if (endex && !DecrID(&end)) return ctx.Error("ERR invalid end ID for the interval");
    if (si + 3 < argc) {
      consumer_name = SV(argv[si + 3]);
      has_consumer = true;
    }
  }
  StreamKey sk;
  if (OpenStream(ctx, key, FERRITE_KEY_READ, &sk) != Open::kOk) return FERRITE_OK;
  Group* g = sk.s ? sk.s->FindGroup(grp) : nullptr;
  if (!g) return ReplyNoGroup(ctx, key, grp);

  if (justinfo) {
    ctx.Array(4);
    ctx.Int(static_cast<int64_t>(g->pel.size()));
    if (g->pel.empty()) {
      ctx.Null();
      ctx.Null();
      return ctx.NullArray();
    }
    ReplyID(ctx, g->pel.begin()->first);
    ReplyID(ctx, g->pel.rbegin()->first);
    size_t n = 0;
    for (auto& [name, c] : g->consumers) n += !c.pel.empty();
    ctx.Array(n);
    for (auto& [name, c] : g->consumers) {
      if (c.pel.empty()) continue;
      ctx.Array(2);
      ctx.Bulk(name);
      ctx.Bulk(std::to_string(c.pel.size()));
    }
    return FERRITE_OK;
  }
  Consumer* c = nullptr;
  if (has_consumer) {
    c = g->FindConsumer(consumer_name);
    if (!c) {
      ctx.Array(0);
      return FERRITE_OK;
    }
  }
  int64_t now = ctx.NowMs();
  std::vector<std::pair<StreamID, const Nack*>> rows;
  auto consider = [&](const StreamID& id, const Nack& n) {
    if (minidle && now - n.delivery_time < minidle) return;
    rows.emplace_back(id, &n);
  };
  if (c) {
    for (auto it = c->pel.lower_bound(start); count && it != c->pel.end() && *it <= end; ++it) {
      size_t before = rows.size();
      consider(*it, g->pel[*it]);
      if (rows.size() > before) count--;
    }
  } else {
    for (auto it = g->pel.lower_bound(start); count && it != g->pel.end() && it->first <= end;
         ++it) {
      size_t before = rows.size();
      consider(it->first, it->second);
      if (rows.size() > before) count--;
    }
  }
  ctx.Array(rows.size());
  for (auto& [id, n] : rows) {
    ctx.Array(4);
    ReplyID(ctx, id);
    ctx.Bulk(n->consumer ? n->consumer->name : "");
    int64_t elapsed = now - n->delivery_time;
    ctx.Int(elapsed < 0 ? 0 : elapsed);
    ctx.Int(static_cast<int64_t>(n->delivery_count));
  }
  return FERRITE_OK;
}

namespace {

// Moves a PEL entry to `c` (creating c on first use) for XCLAIM / XAUTOCLAIM.
Consumer* ClaimFor(const Ctx& ctx, Group* g, Consumer** consumer, std::string_view name,
                   std::string_view key) {
  if (!*consumer) {
    *consumer = g->FindConsumer(name);
    if (*consumer) {
      (*consumer)->seen_time = ctx.NowMs();
    } else {
      *consumer = g->CreateConsumer(name, ctx.NowMs());
      ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-createconsumer", key);
    }
  }
  return *consumer;
}

}  // namespace

int CmdXClaim(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]), grp = SV(argv[2]), name = SV(argv[3]);
  StreamKey sk;
  if (OpenStream(ctx, key, FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  Group* g = sk.s ? sk.s->FindGroup(grp) : nullptr;
  if (!g) return ReplyNoGroup(ctx, key, grp);
  int64_t minidle;
  if (!ParseLongLongOrReply(ctx, SV(argv[4]), &minidle, "Invalid min-idle-time argument for XCLAIM"))
    return FERRITE_OK;
  if (minidle < 0) minidle = 0;
  std::vector<StreamID> ids;
  int j = 5;
  for (; j < argc; j++) {
    StreamID id;
    if (!ParseID(SV(argv[j]), &id, 0, IdParse::kStrict)) break;
    ids.push_back(id);
  }
  int64_t now = ctx.NowMs();
  int64_t retrycount = -1, deliverytime = -1;
  bool force = false, justid = false;
  StreamID last_id;
  for (; j < argc; j++) {
    int more = argc - 1 - j;
    std::string_view opt = SV(argv[j]);
    if (EqualsIgnoreCase(opt, "FORCE")) {
      force = true;
    } else if (EqualsIgnoreCase(opt, "JUSTID")) {
      justid = true;
    } else if (EqualsIgnoreCase(opt, "IDLE") && more) {
      if (!ParseLongLongOrReply(ctx, SV(argv[++j]), &deliverytime,
                                "Invalid IDLE option argument for XCLAIM"))
        return FERRITE_OK;
      deliverytime = now - deliverytime;
    } else if (EqualsIgnoreCase(opt, "TIME") && more) {
      if (!ParseLongLongOrReply(ctx, SV(argv[++j]), &deliverytime,
                                "Invalid TIME option argument for XCLAIM"))
        return FERRITE_OK;
    } else if (EqualsIgnoreCase(opt, "RETRYCOUNT") && more) {
      if (!ParseLongLongOrReply(ctx, SV(argv[++j]), &retrycount,
                                "Invalid RETRYCOUNT option argument for XCLAIM"))
        return FERRITE_OK;
    } else if (EqualsIgnoreCase(opt, "LASTID") && more) {
      if (!ParseIDOrReply(ctx, SV(argv[++j]), &last_id, 0, IdParse::kStrict)) return FERRITE_OK;
    } else {
      return ctx.Error("ERR Unrecognized XCLAIM option '" + std::string(opt) + "'");
    }
  }
  bool propagate_last_id = false;
  if (last_id > g->last_id) {
    g->last_id = last_id;
    propagate_last_id = true;
  }
  if (deliverytime != -1) {
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
  } else {
    deliverytime = now;
  }
  Stream* s = sk.s;
  Consumer* consumer = nullptr;
  std::vector<StreamID> claimed;
  bool dirty = false;
  for (const StreamID& id : ids) {
    auto it = g->pel.find(id);
    if (!s->Exists(id)) {
      if (it != g->pel.end()) {
        PropagateClaim(ctx, key, grp, *g, id, it->second);
        propagate_last_id = false;
        dirty = true;
        g->Ack(it);
      }
      continue;
    }
    if (force && it == g->pel.end()) it = g->pel.try_emplace(id).first, it->second.consumer = nullptr;
    if (it == g->pel.end()) continue;
    Nack& n = it->second;
    if (n.consumer && minidle && now - n.delivery_time < minidle) continue;
    Consumer* c = ClaimFor(ctx, g, &consumer, name, key);
    if (n.consumer != c && n.consumer) n.consumer->pel.erase(id);
    n.delivery_time = deliverytime;
    if (retrycount >= 0) n.delivery_count = static_cast<uint64_t>(retrycount);
    else if (!justid) n.delivery_count++;
    if (n.consumer != c) {
      c->pel.insert(id);
      n.consumer = c;
    }
    claimed.push_back(id);
    PropagateClaim(ctx, key, grp, *g, id, n);
    propagate_last_id = false;
    dirty = true;
  }
  if (propagate_last_id) {
    PropagateGroupId(ctx, key, grp, *g);
    dirty = true;
  }
  sk.key.Resized();  // the PEL and consumers may have grown
  if (dirty) ctx.Dirty();
  ctx.Array(claimed.size());
  for (const StreamID& id : claimed) {
    if (justid) ReplyID(ctx, id);
    else ReplyOneEntry(ctx, *s, id);
  }
  return FERRITE_OK;
}

int CmdXAutoClaim(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]), grp = SV(argv[2]), name = SV(argv[3]);
  int64_t minidle;
  if (!ParseLongLongOrReply(ctx, SV(argv[4]), &minidle,
                            "Invalid min-idle-time argument for XAUTOCLAIM"))
    return FERRITE_OK;
  if (minidle < 0) minidle = 0;
  StreamID start;
  bool startex;
  if (!ParseIntervalIDOrReply(ctx, SV(argv[5]), &start, &startex, 0)) return FERRITE_OK;
  if (startex && !IncrID(&start)) return ctx.Error("ERR invalid start ID for the interval");
  int64_t count = 100;
  bool justid = false;
  for (int j = 6; j < argc; j++) {
    int more = argc - 1 - j;
    std::string_view opt = SV(argv[j]);
    if (EqualsIgnoreCase(opt, "COUNT") && more) {
      const int64_t max_count = INT64_MAX / 16;
      int64_t v;
      // getRangeLongFromObjectOrReply: one message for "not a number" and "out of range"
      if (!sdk::ParseInt64(SV(argv[j + 1]), &v) || v < 1 || v > max_count)
        return ctx.Error("ERR COUNT must be > 0");
      count = v;
      j++;
    } else if (EqualsIgnoreCase(opt, "JUSTID")) {
      justid = true;
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  StreamKey sk;
  if (OpenStream(ctx, key, FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  Group* g = sk.s ? sk.s->FindGroup(grp) : nullptr;
  if (!g) return ReplyNoGroup(ctx, key, grp);
  Stream* s = sk.s;
  int64_t attempts = count * 10;
  int64_t now = ctx.NowMs();
  Consumer* consumer = nullptr;
  std::vector<StreamID> claimed, deleted;
  auto cur = g->pel.lower_bound(start);
  while (attempts-- > 0 && count && cur != g->pel.end()) {
    StreamID id = cur->first;
    Nack& n = cur->second;
    if (!s->Exists(id)) {
      PropagateClaim(ctx, key, grp, *g, id, n);
      auto next = std::next(cur);
      g->Ack(cur);
      cur = next;
      deleted.push_back(id);
      count--;
      continue;
    }
    ++cur;
    if (minidle && now - n.delivery_time < minidle) continue;
    Consumer* c = ClaimFor(ctx, g, &consumer, name, key);
    if (n.consumer != c && n.consumer) n.consumer->pel.erase(id);
    n.delivery_time = now;
    if (!justid) n.delivery_count++;
    if (n.consumer != c) {
      c->pel.insert(id);
      n.consumer = c;
    }
    claimed.push_back(id);
    count--;
    PropagateClaim(ctx, key, grp, *g, id, n);
  }
  sk.key.Resized();  // the PEL and consumers may have changed
  if (!claimed.empty() || !deleted.empty()) ctx.Dirty();
  ctx.Array(3);
  ReplyID(ctx, cur == g->pel.end() ? StreamID{} : cur->first);
  ctx.Array(claimed.size());
  for (const StreamID& id : claimed) {
    if (justid) ReplyID(ctx, id);
    else ReplyOneEntry(ctx, *s, id);
  }
  ctx.Array(deleted.size());
  for (const StreamID& id : deleted) ReplyID(ctx, id);
  return FERRITE_OK;
}

}  // namespace ferrite::mod::streams
