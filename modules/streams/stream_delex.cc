// Beyond Redis 7.0: XDELEX and XACKDEL (Redis 8.2), deletes that say what happens to
// the consumer groups' references to the deleted entries.
//
//   XDELEX  key       [KEEPREF|DELREF|ACKED] IDS numids id [id ...]
//   XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id [id ...]
//
// Per ID: 1 deleted, -1 no such entry (XACKDEL: not pending in the group), 2 kept
// because a group still has it pending (ACKED). KEEPREF (the default) leaves other PELs
// alone, DELREF removes the ID from every group's PEL.
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::EqualsIgnoreCase;
using sdk::SV;

namespace {

enum class RefPolicy { kKeepRef, kDelRef, kAcked };

struct DelArgs {
  RefPolicy policy = RefPolicy::kKeepRef;
  int ids_at = -1;
  int64_t numids = 0;
};

// At most one policy word and one IDS block, in any order. Replies and returns false on
// an error.
bool ParseDelArgs(const Ctx& ctx, int argc, const ferrite_slice* argv, int start, DelArgs* a) {
  bool policy_given = false;
  for (int j = start; j < argc;) {
    std::string_view w = SV(argv[j]);
    if (!policy_given && EqualsIgnoreCase(w, "KEEPREF")) {
      a->policy = RefPolicy::kKeepRef, policy_given = true, j++;
    } else if (!policy_given && EqualsIgnoreCase(w, "DELREF")) {
      a->policy = RefPolicy::kDelRef, policy_given = true, j++;
    } else if (!policy_given && EqualsIgnoreCase(w, "ACKED")) {
      a->policy = RefPolicy::kAcked, policy_given = true, j++;
    } else if (a->ids_at < 0 && EqualsIgnoreCase(w, "IDS") && j + 1 < argc) {
      int64_t n;
      if (!sdk::ParseInt64(SV(argv[j + 1]), &n) || n < 1) {
        ctx.Error("ERR Number of IDs must be a positive integer");
        return false;
      }
      if (n > argc - j - 2) {
        ctx.Error("ERR The `numids` parameter must match the number of arguments");
        return false;
      }
      a->ids_at = j + 2;
      a->numids = n;
      j = a->ids_at + static_cast<int>(n);
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
  }
  if (a->ids_at < 0) {
    ctx.Error("ERR IDS option is required");
    return false;
  }
  return true;
}

bool ParseIds(const Ctx& ctx, const ferrite_slice* argv, const DelArgs& a,
              std::vector<StreamID>* ids) {
  ids->resize(static_cast<size_t>(a.numids));
  for (int64_t k = 0; k < a.numids; k++)
    if (!ParseIDOrReply(ctx, SV(argv[a.ids_at + k]), &(*ids)[static_cast<size_t>(k)], 0,
                        IdParse::kStrict))
      return false;
  return true;
}

int ReplyMinusOnes(const Ctx& ctx, int64_t n) {
  ctx.Array(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) ctx.Int(-1);
  return FERRITE_OK;
}

bool Referenced(const Stream& s, const StreamID& id) {
  for (auto& [name, g] : s.groups)
    if (g->pel.count(id)) return true;
  return false;
}

void DropRefs(Stream* s, const StreamID& id) {
  for (auto& [name, g] : s->groups) {
    auto it = g->pel.find(id);
    if (it != g->pel.end()) g->Ack(it);
  }
}

// XDEL's bookkeeping for one deleted entry.
bool DeleteEntry(Stream* s, const StreamID& id, bool* first_entry) {
  if (!s->Delete(id)) return false;
  if (id == s->first_id) *first_entry = true;
  if (id > s->max_deleted) s->max_deleted = id;
  return true;
}

void FinishDeletes(StreamKey* sk, int64_t deleted, bool first_entry, bool refs_changed,
                   const Ctx& ctx) {
  Stream* s = sk->s;
  if (deleted) {
    if (s->length == 0) s->first_id = {};
    else if (first_entry) s->first_id = s->EdgeID(true, true);
    sk->key.Modified(FERRITE_NOTIFY_STREAM, "xdel");
  } else if (refs_changed) {
    ctx.Dirty();
  }
}

}  // namespace

int CmdXDelEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  DelArgs a;
  if (!ParseDelArgs(ctx, argc, argv, 2, &a)) return FERRITE_OK;
  if (!sk.s) return ReplyMinusOnes(ctx, a.numids);
  std::vector<StreamID> ids;
  if (!ParseIds(ctx, argv, a, &ids)) return FERRITE_OK;
  Stream* s = sk.s;
  int64_t deleted = 0;
  bool first_entry = false, refs_changed = false;
  std::vector<int64_t> res;
  for (const StreamID& id : ids) {
    if (a.policy == RefPolicy::kAcked && Referenced(*s, id)) {
      res.push_back(s->Exists(id) ? 2 : -1);
      continue;
    }
    if (a.policy == RefPolicy::kDelRef && Referenced(*s, id)) {
      DropRefs(s, id);
      refs_changed = true;
    }
    bool ok = DeleteEntry(s, id, &first_entry);
    deleted += ok;
    res.push_back(ok ? 1 : -1);
  }
  FinishDeletes(&sk, deleted, first_entry, refs_changed, ctx);
  ctx.Array(res.size());
  for (int64_t r : res) ctx.Int(r);
  return FERRITE_OK;
}

int CmdXAckDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  DelArgs a;
  if (!ParseDelArgs(ctx, argc, argv, 3, &a)) return FERRITE_OK;
  Group* g = sk.s ? sk.s->FindGroup(SV(argv[2])) : nullptr;
  if (!g) return ReplyMinusOnes(ctx, a.numids);
  std::vector<StreamID> ids;
  if (!ParseIds(ctx, argv, a, &ids)) return FERRITE_OK;
  Stream* s = sk.s;
  int64_t deleted = 0;
  bool first_entry = false, refs_changed = false;
  std::vector<int64_t> res;
  for (const StreamID& id : ids) {
    auto it = g->pel.find(id);
    if (it == g->pel.end()) {
      res.push_back(-1);
      continue;
    }
    g->Ack(it);
    refs_changed = true;
    if (a.policy == RefPolicy::kAcked && Referenced(*s, id)) {
      res.push_back(2);
      continue;
    }
    if (a.policy == RefPolicy::kDelRef) DropRefs(s, id);
    deleted += DeleteEntry(s, id, &first_entry);
    res.push_back(1);
  }
  FinishDeletes(&sk, deleted, first_entry, refs_changed, ctx);
  ctx.Array(res.size());
  for (int64_t r : res) ctx.Int(r);
  return FERRITE_OK;
}

}  // namespace ferrite::mod::streams
