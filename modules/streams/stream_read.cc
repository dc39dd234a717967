// XREAD and XREADGROUP, with BLOCK on the host's block/re-run API.
//
// A blocked reader is parked so that every XADD wakes every reader of the key, as Redis
// serves all of them: XREAD with FERRITE_BLOCK_WAKE_ALL, XREADGROUP with
// FERRITE_BLOCK_WAKE_ORDERED (its re-runs run one at a time, oldest waiter first, so
// consumers of one group are served in the order they blocked whatever their worker
// thread). The command is rewritten: `$` becomes the ID it stood for, and COUNT the
// count Redis applies to a blocked read (1000 when none was given). The re-run is the
// same handler; ctx_block_rerun tells it that a key it waited on may have been deleted
// or changed type: XREAD keeps waiting then, XREADGROUP fails as Redis'
// unblockDeletedStreamReadgroupClients makes it. A re-run answers with one stream, as
// Redis serves a blocked reader from the one key that woke it: the key whose signal woke
// it (ctx_block_woken_key) when it has something, else the first one that has.
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::Api;
using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

constexpr int64_t kBlockedDefaultCount = 1000;  // XREAD_BLOCKED_DEFAULT_COUNT

struct ReadArgs {
  bool group_mode = false;  // XREADGROUP
  int64_t timeout = -1;     // -1: no BLOCK
  int64_t count = 0;
  bool noack = false;
  int streams_arg = 0, nstreams = 0;
  std::string_view group, consumer;
};

// The argument scan shared by the parser and the key spec. Returns false after replying
// (when ctx is non-null) on a parse error.
bool ParseReadArgs(const Ctx* ctx, int argc, const ferrite_slice* argv, bool group_mode,
                   ReadArgs* a) {
  a->group_mode = group_mode;
  auto fail = [&](std::string_view msg) {
    if (ctx) {
      if (msg.empty()) ctx->Error(FERRITE_E_SYNTAX);
      else ctx->Error(msg);
    }
    return false;
  };
  for (int i = 1; i < argc; i++) {
    int more = argc - i - 1;
    std::string_view o = SV(argv[i]);
    if (EqualsIgnoreCase(o, "BLOCK") && more) {
      if (ctx && Api().ctx_via_call(ctx->get()))
        return fail("ERR " + std::string(SV(argv[0])) +
                    " command is not allowed with BLOCK option from scripts");
      i++;
      if (!sdk::ParseInt64(SV(argv[i]), &a->timeout))
        return fail("ERR timeout is not an integer or out of range");
      if (a->timeout < 0) return fail("ERR timeout is negative");
    } else if (EqualsIgnoreCase(o, "COUNT") && more) {
      i++;
      if (!sdk::ParseInt64(SV(argv[i]), &a->count))
        return ctx ? (ctx->Error(FERRITE_E_NOT_INTEGER), false) : false;
      if (a->count < 0) a->count = 0;
    } else if (EqualsIgnoreCase(o, "STREAMS") && more) {
      a->streams_arg = i + 1;
      int n = argc - a->streams_arg;
      if (n % 2 != 0)
        return fail("ERR Unbalanced " + std::string(group_mode ? "XREADGROUP" : "XREAD") +
                    " list of streams: for each stream key an ID or '$' must be specified.");
      a->nstreams = n / 2;
      break;
    } else if (EqualsIgnoreCase(o, "GROUP") && more >= 2) {
      if (!group_mode)
        return fail("ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                    "instead.");
      a->group = SV(argv[i + 1]);
      a->consumer = SV(argv[i + 2]);
      i += 2;
    } else if (EqualsIgnoreCase(o, "NOACK")) {
      if (!group_mode)
        return fail("ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                    "instead.");
      a->noack = true;
    } else {
      return fail("");
    }
  }
  if (a->streams_arg == 0) return fail("");
  if (group_mode && a->group.data() == nullptr) return fail("ERR Missing GROUP option for XREADGROUP");
  return true;
}

// One stream of the request.
struct Target {
  std::string_view key;
  StreamID gt;          // serve IDs greater than this
  bool new_only = false;  // XREADGROUP ">"
  bool serve = false, history = false;
};

// Emits [key, entries] (RESP2) / key => entries (RESP3) for a plain XREAD.
void ServePlain(const Ctx& ctx, const Stream& s, const Target& t, int64_t count) {
  if (ctx.Resp() == 2) ctx.Array(2);
  ctx.Bulk(t.key);
  StreamID start = t.gt;
  IncrID(&start);
  ReplyRange(ctx, s, start, StreamID::Max(), static_cast<size_t>(count), false);
}

// streamReplyWithRange with a group: new entries move the group's last ID and enter
// the PEL of `consumer` (unless NOACK); each is propagated as XCLAIM.
void ServeNew(const Ctx& ctx, Stream* s, Group* g, Consumer* c, const Target& t,
              const ReadArgs& a) {
  StreamID start = g->last_id;
  IncrID(&start);
  std::vector<StreamID> ids;
  s->Range(start, StreamID::Max(), false, [&](const EntryRef& e) {
    ids.push_back(e.id());
    return !(a.count && static_cast<int64_t>(ids.size()) == a.count);
  });
  ctx.Array(ids.size());
  int64_t now = ctx.NowMs();
  bool propagate_last_id = false;
  size_t k = 0;
  // One pass over the nodes emits the entries; the group bookkeeping touches no node.
  if (!ids.empty()) s->Range(start, ids.back(), false, [&](const EntryRef& e) {
    const StreamID& id = e.id();
    if (id > g->last_id) {
      if (g->entries_read != kInvalidEntriesRead && !s->RangeHasTombstones(id, nullptr))
        g->entries_read++;
      else if (s->entries_added)
        g->entries_read = s->EstimateDistance(id);
      g->last_id = id;
      if (a.noack) propagate_last_id = true;
    }
    ReplyEntry(ctx, e);
    if (!a.noack) {
      auto [it, inserted] = g->pel.try_emplace(id);
      Nack& n = it->second;
      if (!inserted && n.consumer) n.consumer->pel.erase(id);
      n.consumer = c;
      n.delivery_time = now;
      n.delivery_count = 1;
      c->pel.insert(id);
      PropagateClaim(ctx, t.key, a.group, *g, id, n);
    }
    return ++k < ids.size();
  });
  if (propagate_last_id) PropagateGroupId(ctx, t.key, a.group, *g);
}

int ReadGeneric(Ctx ctx, int argc, const ferrite_slice* argv, bool group_mode) {
  ReadArgs a;
  if (!ParseReadArgs(&ctx, argc, argv, group_mode, &a)) return FERRITE_OK;
  bool rerun = Api().ctx_block_rerun(ctx.get());
  int mode = group_mode ? FERRITE_KEY_WRITE : FERRITE_KEY_READ;
  std::vector<Target> targets(static_cast<size_t>(a.nstreams));
  std::vector<StreamKey> keys(static_cast<size_t>(a.nstreams));
  std::vector<Group*> groups(static_cast<size_t>(a.nstreams), nullptr);
  for (int i = 0; i < a.nstreams; i++) {
    auto& t = targets[static_cast<size_t>(i)];
    auto& sk = keys[static_cast<size_t>(i)];
    t.key = SV(argv[a.streams_arg + i]);
    std::string_view idarg = SV(argv[a.streams_arg + a.nstreams + i]);
    sk.key = ctx.Open(t.key, mode);
    if (sk.key.Exists()) {
      if (!sk.key.Is(St(ctx).type)) {
        if (!rerun) return ctx.Error(FERRITE_E_WRONGTYPE);
        if (group_mode) return ctx.Error("UNBLOCKED the stream key no longer exists");
      } else {
        sk.s = sk.key.Value<Stream>();
      }
    }
    if (group_mode) {
      if (rerun && !sk.s) return ctx.Error("UNBLOCKED the stream key no longer exists");
      Group* g = sk.s ? sk.s->FindGroup(a.group) : nullptr;
      if (!g) {
        if (rerun)
          return ctx.Error("NOGROUP the consumer group this client was blocked on no longer "
                           "exists");
        return ctx.Error("NOGROUP No such key '" + std::string(t.key) + "' or consumer group '" +
                         std::string(a.group) + "' in XREADGROUP with GROUP option");
      }
      groups[static_cast<size_t>(i)] = g;
    }
    if (idarg == "$") {
      if (group_mode)
        return ctx.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want "
                         "to read the history of this consumer by specifying a proper ID, or "
                         "use the > ID to get new messages. The $ ID would just return an "
                         "empty result set.");
      t.gt = sk.s ? sk.s->last_id : StreamID{};
      continue;
    }
    if (idarg == "+") {  // Redis 7.4: the last entry
      if (group_mode)
        return ctx.Error("ERR The + ID is meaningless in the context of XREADGROUP: you want "
                         "to read the history of this consumer by specifying a proper ID, or "
                         "use the > ID to get new messages. The + ID would just return an "
                         "empty result set.");
      t.gt = sk.s ? sk.s->last_id : StreamID{};
      if (sk.s && !DecrID(&t.gt)) return ctx.Error("ERR the stream last element ID is 0-0");
      continue;
    }
    if (idarg == ">") {
      if (!group_mode)
        return ctx.Error("ERR The > ID can be specified only when calling XREADGROUP using "
                         "the GROUP <group> <consumer> option.");
      t.new_only = true;
      t.gt = StreamID::Max();
      continue;
    }
    if (!ParseIDOrReply(ctx, idarg, &t.gt, 0, IdParse::kStrict)) return FERRITE_OK;
    // NOTE: Redis marks ">" as the maximum ID, so a literal maximum ID reads new entries.
    if (group_mode && t.gt == StreamID::Max()) t.new_only = true;
  }

  // Which streams can be served now (same rules as Redis' synchronous path).
  size_t served = 0;
  for (int i = 0; i < a.nstreams; i++) {
    auto& t = targets[static_cast<size_t>(i)];
    Stream* s = keys[static_cast<size_t>(i)].s;
    if (!s) continue;
    if (group_mode) {
      if (!t.new_only) {
        t.serve = t.history = true;
      } else if (s->length && s->EdgeID(false, true) > groups[static_cast<size_t>(i)]->last_id) {
        t.serve = true;
      }
    } else if (s->length && s->EdgeID(false, true) > t.gt) {
      t.serve = true;
    }
    if (t.serve) served++;
  }
  if (rerun && served > 1) {
    ferrite_slice woken{};
    size_t pick = targets.size();
    if (Api().ctx_block_woken_key(ctx.get(), &woken)) {
      for (size_t i = 0; i < targets.size() && pick == targets.size(); i++)
        if (targets[i].key == SV(woken) && targets[i].serve) pick = i;
    }
    for (size_t i = 0; i < targets.size() && pick == targets.size(); i++)
      if (targets[i].serve) pick = i;
    for (size_t i = 0; i < targets.size(); i++) targets[i].serve = i == pick;
    served = 1;
  }

  if (served) {
    if (ctx.Resp() == 2) ctx.Array(served);
    else ctx.Map(served);
    for (int i = 0; i < a.nstreams; i++) {
      auto& t = targets[static_cast<size_t>(i)];
      if (!t.serve) continue;
      Stream* s = keys[static_cast<size_t>(i)].s;
      if (!group_mode) {
        ServePlain(ctx, *s, t, a.count);
        continue;
      }
      Group* g = groups[static_cast<size_t>(i)];
      Consumer* c = g->FindConsumer(a.consumer);
      int64_t now = ctx.NowMs();
      if (c) {
        c->seen_time = now;
      } else {
        c = g->CreateConsumer(a.consumer, now);
        ctx.Notify(FERRITE_NOTIFY_STREAM, "xgroup-createconsumer", t.key);
        if (a.noack) PropagateConsumerCreation(ctx, t.key, a.group, a.consumer);
      }
      if (ctx.Resp() == 2) ctx.Array(2);
      ctx.Bulk(t.key);
      if (t.history) {
        StreamID start = t.gt;
        IncrID(&start);
        std::vector<StreamID> ids;
        for (auto it = c->pel.lower_bound(start); it != c->pel.end(); ++it) {
          if (a.count && static_cast<int64_t>(ids.size()) >= a.count) break;
          ids.push_back(*it);
        }
        ctx.Array(ids.size());
        for (const StreamID& id : ids) {
          if (ReplyOneEntry(ctx, *s, id)) {
            Nack& n = g->pel[id];
            n.delivery_time = now;
            n.delivery_count++;
          } else {
            ctx.Array(2);
            ReplyID(ctx, id);
            ctx.NullArray();
          }
        }
      } else {
        ServeNew(ctx, s, g, c, t, a);
      }
      keys[static_cast<size_t>(i)].key.Resized();  // the PEL, consumers
      ctx.Dirty();
    }
    return FERRITE_OK;
  }

  if (a.timeout == -1) return ctx.NullArray();
  // The command to run when woken: `$` resolved, the blocked-read COUNT made explicit.
  std::vector<std::string> re{std::string(SV(argv[0]))};
  if (group_mode) {
    re.insert(re.end(), {"GROUP", std::string(a.group), std::string(a.consumer)});
    if (a.noack) re.emplace_back("NOACK");
  }
  re.insert(re.end(), {"BLOCK", std::to_string(a.timeout), "COUNT",
                       std::to_string(a.count ? a.count : kBlockedDefaultCount), "STREAMS"});
  std::vector<ferrite_slice> block_keys;
  for (int i = 0; i < a.nstreams; i++) {
    re.emplace_back(targets[static_cast<size_t>(i)].key);
    block_keys.push_back(argv[a.streams_arg + i]);
  }
  for (int i = 0; i < a.nstreams; i++) {
    auto& t = targets[static_cast<size_t>(i)];
    re.push_back(t.new_only ? std::string(">") : FormatID(t.gt));
  }
  std::vector<ferrite_slice> re_argv;
  for (auto& s : re) re_argv.push_back(sdk::SL(s));
  if (Api().block_on_keys_ex(ctx.get(), block_keys.data(), static_cast<int>(block_keys.size()),
                             a.timeout, FERRITE_BLOCK_TIMEOUT_NULL_ARRAY,
                             group_mode ? FERRITE_BLOCK_WAKE_ORDERED : FERRITE_BLOCK_WAKE_ALL,
                             static_cast<int>(re_argv.size()), re_argv.data()) != FERRITE_OK)
    return ctx.NullArray();  // inside MULTI: as a time-out, even with BLOCK 0
  return FERRITE_BLOCKED;
}

}  // namespace

int CmdXRead(Ctx c, int n, const ferrite_slice* a) { return ReadGeneric(c, n, a, false); }
int CmdXReadGroup(Ctx c, int n, const ferrite_slice* a) { return ReadGeneric(c, n, a, true); }

int XReadGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  ReadArgs a;
  bool group_mode = argv[0].len == 10;  // XREADGROUP
  if (!ParseReadArgs(nullptr, argc, argv, group_mode, &a)) return -1;
  for (int i = 0; i < a.nstreams && i < cap; i++) out[i] = a.streams_arg + i;
  return a.nstreams;
}

// ------------------------------- propagation helpers --------------------------------

void PropagateClaim(const Ctx& ctx, std::string_view key, std::string_view group,
                    const Group& g, const StreamID& id, const Nack& nack) {
  ctx.Propagate(std::vector<std::string>{
      "XCLAIM", std::string(key), std::string(group), nack.consumer ? nack.consumer->name : "",
      "0", FormatID(id), "TIME", std::to_string(nack.delivery_time), "RETRYCOUNT",
      std::to_string(nack.delivery_count), "FORCE", "JUSTID", "LASTID", FormatID(g.last_id)});
}

void PropagateGroupId(const Ctx& ctx, std::string_view key, std::string_view group,
                      const Group& g) {
  ctx.Propagate(std::vector<std::string>{"XGROUP", "SETID", std::string(key), std::string(group),
                                         FormatID(g.last_id), "ENTRIESREAD",
                                         std::to_string(g.entries_read)});
}

void PropagateConsumerCreation(const Ctx& ctx, std::string_view key, std::string_view group,
                               std::string_view consumer) {
  ctx.Propagate({"XGROUP", "CREATECONSUMER", key, group, consumer});
}

}  // namespace ferrite::mod::streams
