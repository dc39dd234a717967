// XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID and the helpers the other command
// files share (opening keys, parsing IDs, replying entries).
#include <string>
#include <vector>

#include "streams_internal.h"

namespace ferrite::mod::streams {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

// ------------------------------- shared helpers -------------------------------------

Open OpenStream(const Ctx& ctx, std::string_view name, int mode, StreamKey* out) {
  out->key = ctx.Open(name, mode);
  out->s = nullptr;
  if (!out->key.Exists()) return Open::kOk;
  if (!out->key.Is(St(ctx).type)) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return Open::kWrongType;
  }
  out->s = out->key.Value<Stream>();
  return Open::kOk;
}

Stream* CreateStream(const Ctx& ctx, StreamKey* sk) {
  if (!sk->s) {
    sk->key.SetValue(St(ctx).type, new Stream());
    sk->s = sk->key.Value<Stream>();
  }
  return sk->s;
}

bool ParseIDOrReply(const Ctx& ctx, std::string_view s, StreamID* id, uint64_t missing_seq,
                    IdParse mode, bool* seq_given) {
  if (ParseID(s, id, missing_seq, mode, seq_given)) return true;
  ctx.Error(kInvalidIdError);
  return false;
}

bool ParseIntervalIDOrReply(const Ctx& ctx, std::string_view s, StreamID* id, bool* exclude,
                            uint64_t missing_seq) {
  *exclude = s.size() > 1 && s[0] == '(';
  if (*exclude) return ParseIDOrReply(ctx, s.substr(1), id, missing_seq, IdParse::kStrict);
  return ParseIDOrReply(ctx, s, id, missing_seq, IdParse::kRange);
}

bool ParseLongLongOrReply(const Ctx& ctx, std::string_view s, int64_t* v, const char* msg) {
  if (ParseInt64(s, v)) return true;
  if (msg) ctx.Error(std::string("ERR ") + msg);
  else ctx.Error(FERRITE_E_NOT_INTEGER);
  return false;
}

void ReplyID(const Ctx& ctx, const StreamID& id) { ctx.Bulk(FormatID(id)); }

void ReplyEntry(const Ctx& ctx, const EntryRef& e) {
  ctx.Array(2);
  ReplyID(ctx, e.id());
  ctx.Array(static_cast<size_t>(e.nfields()) * 2);
  std::string buf;
  e.ForEachField([&](const LpElem& f, const LpElem& v) {
    for (const LpElem* x : {&f, &v}) {
      if (x->is_int) {
        buf = std::to_string(x->ival);
        ctx.Bulk(buf);
      } else {
        ctx.Bulk(x->sval);
      }
    }
  });
}

size_t ReplyRange(const Ctx& ctx, const Stream& s, const StreamID& start, const StreamID& end,
                  size_t count, bool rev) {
  // The array length comes first: one pass counts, the second emits.
  size_t n = 0;
  s.Range(start, end, rev, [&](const EntryRef&) { return ++n != count; });
  ctx.Array(n);
  size_t emitted = 0;
  s.Range(start, end, rev, [&](const EntryRef& e) {
    ReplyEntry(ctx, e);
    return ++emitted < n;
  });
  return n;
}

bool ReplyOneEntry(const Ctx& ctx, const Stream& s, const StreamID& id) {
  bool found = false;
  s.Range(id, id, false, [&](const EntryRef& e) {
    ReplyEntry(ctx, e);
    found = true;
    return false;
  });
  return found;
}

int ReplySubcommandError(const Ctx& ctx, std::string_view cmd, std::string_view sub) {
  std::string up(cmd);
  for (char& c : up) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return ctx.Error("ERR unknown subcommand or wrong number of arguments for '" +
                   std::string(sub.substr(0, 128)) + "'. Try " + up + " HELP.");
}

int ReplyHelp(const Ctx& ctx, std::string_view cmd, const std::vector<std::string>& lines) {
  std::string up(cmd);
  for (char& c : up) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  ctx.Array(lines.size() + 3);
  ctx.Simple(up + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (auto& l : lines) ctx.Simple(l);
  ctx.Simple("HELP");
  ctx.Simple("    Prints this help.");
  return FERRITE_OK;
}

// ------------------------------- XADD / XTRIM ---------------------------------------

namespace {

struct AddTrimArgs {
  TrimArgs trim;
  int trim_arg_idx = 0;  // the MAXLEN/MINID value, rewritten for propagation
  int limit_idx = -1;    // the LIMIT word, dropped from the propagated exact trim
  bool no_mkstream = false;
  bool id_given = false, seq_given = true;
  StreamID id;
};

// streamParseAddOrTrimArgsOrReply: returns the ID's position (XADD) or -1 after replying.
int ParseAddOrTrim(const Ctx& ctx, int argc, const ferrite_slice* argv, bool xadd,
                   AddTrimArgs* a) {
  int i = 2;
  bool limit_given = false;
  for (; i < argc; i++) {
    int more = argc - 1 - i;
    std::string_view opt = SV(argv[i]);
    if (xadd && opt == "*") break;
    if ((EqualsIgnoreCase(opt, "maxlen") || EqualsIgnoreCase(opt, "minid")) && more) {
      bool maxlen = EqualsIgnoreCase(opt, "maxlen");
      if (a->trim.strategy != TrimStrategy::kNone) {
        ctx.Error("ERR syntax error, MAXLEN and MINID options at the same time are not "
                  "compatible");
        return -1;
      }
      a->trim.approx = false;
      std::string_view next = SV(argv[i + 1]);
      if (more >= 2 && next == "~") {
        a->trim.approx = true;
        i++;
      } else if (more >= 2 && next == "=") {
        i++;
      }
      if (maxlen) {
        if (!ParseLongLongOrReply(ctx, SV(argv[i + 1]), &a->trim.maxlen)) return -1;
        if (a->trim.maxlen < 0) {
          ctx.Error("ERR The MAXLEN argument must be >= 0.");
          return -1;
        }
      } else if (!ParseIDOrReply(ctx, SV(argv[i + 1]), &a->trim.minid, 0, IdParse::kStrict)) {
        return -1;
      }
      i++;
      a->trim.strategy = maxlen ? TrimStrategy::kMaxLen : TrimStrategy::kMinId;
      a->trim_arg_idx = i;
    } else if (EqualsIgnoreCase(opt, "limit") && more) {
      if (!ParseLongLongOrReply(ctx, SV(argv[i + 1]), &a->trim.limit)) return -1;
      if (a->trim.limit < 0) {
        ctx.Error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      a->limit_idx = i;
      i++;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      a->no_mkstream = true;
    } else if (xadd) {
      if (!ParseIDOrReply(ctx, opt, &a->id, 0, IdParse::kStrict, &a->seq_given)) return -1;
      a->id_given = true;
      break;
    } else {
      ctx.Error(FERRITE_E_SYNTAX);
      return -1;
    }
  }
  if (a->trim.limit && a->trim.strategy == TrimStrategy::kNone) {
    ctx.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && a->trim.strategy == TrimStrategy::kNone) {
    ctx.Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  // NOTE: Redis ignores LIMIT in commands from its master or the AOF; Ferrite cannot
  // tell those apart, so RewriteTrim drops LIMIT from the exact trim it propagates.
  if (limit_given) {
    if (!a->trim.approx) {
      ctx.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (a->trim.approx) {
    a->trim.limit = 100 * St(ctx).node_max_entries;
    if (a->trim.limit <= 0) a->trim.limit = 10000;
    if (a->trim.limit > 1000000) a->trim.limit = 1000000;
  } else {
    a->trim.limit = 0;
  }
  return i;
}

// An approximate trim is propagated as an exact one to what it left (streamRewrite*),
// without its LIMIT (an exact trim refuses one). Call it last: it moves arguments.
void RewriteTrim(const Stream& s, const AddTrimArgs& a, std::vector<std::string>* argv) {
  (*argv)[static_cast<size_t>(a.trim_arg_idx - 1)] = "=";
  (*argv)[static_cast<size_t>(a.trim_arg_idx)] =
      a.trim.strategy == TrimStrategy::kMaxLen ? std::to_string(s.length)
                                               : FormatID(s.EdgeID(true, false));
  if (a.limit_idx >= 0) argv->erase(argv->begin() + a.limit_idx, argv->begin() + a.limit_idx + 2);
}

std::vector<std::string> ArgvCopy(int argc, const ferrite_slice* argv) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(argc));
  for (int i = 0; i < argc; i++) out.emplace_back(argv[i].ptr, argv[i].len);
  return out;
}

}  // namespace

int CmdXAdd(Ctx ctx, int argc, const ferrite_slice* argv) {
  AddTrimArgs a;
  int idpos = ParseAddOrTrim(ctx, argc, argv, true, &a);
  if (idpos < 0) return FERRITE_OK;
  int field_pos = idpos + 1;
  if (argc - field_pos < 2 || (argc - field_pos) % 2 == 1) return ctx.Error(FERRITE_E_ARITY, "xadd");
  if (a.id_given && a.seq_given && a.id.IsZero())
    return ctx.Error("ERR The ID specified in XADD must be greater than 0-0");

  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s && a.no_mkstream) return ctx.Null();
  bool created = !sk.s;
  Stream* s = sk.s ? sk.s : new Stream();
  if (s->last_id == StreamID::Max()) {
    if (created) delete s;
    return ctx.Error("ERR The stream has exhausted the last possible ID, unable to add more "
                     "items");
  }
  std::vector<std::string_view> fv;
  fv.reserve(static_cast<size_t>(argc - field_pos));
  for (int i = field_pos; i < argc; i++) fv.push_back(SV(argv[i]));
  StreamID id;
  // NOTE: "<ms>-*" on a top ID with an exhausted sequence fails with the "too large"
  // text, as Redis 7.0 does (it tests a stale errno there).
  bool exhausted = a.id_given && !a.seq_given && s->last_id.ms == a.id.ms &&
                   s->last_id.seq == UINT64_MAX;
  auto st = s->Append(fv, a.id_given ? &a.id : nullptr, a.seq_given, ctx.NowMs(),
                      St(ctx).Limits(), &id);
  if (st != Stream::AddStatus::kOk) {
    if (created) delete s;
    if (st == Stream::AddStatus::kIdTooSmall && !exhausted)
      return ctx.Error("ERR The ID specified in XADD is equal or smaller than the target "
                       "stream top item");
    return ctx.Error("ERR Elements are too large to be stored");
  }
  if (created) {
    sk.key.SetValue(St(ctx).type, s);
    sk.s = s;
  }
  std::string idstr = FormatID(id);
  ctx.Bulk(idstr);
  sk.key.Modified(FERRITE_NOTIFY_STREAM, "xadd");
  std::vector<std::string> prop = ArgvCopy(argc, argv);
  bool rewrite = !a.id_given || !a.seq_given;
  prop[static_cast<size_t>(idpos)] = idstr;
  if (a.trim.strategy != TrimStrategy::kNone) {
    if (s->Trim(a.trim)) ctx.Notify(FERRITE_NOTIFY_STREAM, "xtrim", SV(argv[1]));
    if (a.trim.approx) {
      RewriteTrim(*s, a, &prop);
      rewrite = true;
    }
  }
  if (rewrite) ctx.Propagate(prop);
  return FERRITE_OK;
}

int CmdXTrim(Ctx ctx, int argc, const ferrite_slice* argv) {
  AddTrimArgs a;
  if (ParseAddOrTrim(ctx, argc, argv, false, &a) < 0) return FERRITE_OK;
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s) return ctx.Int(0);
  int64_t deleted = sk.s->Trim(a.trim);
  if (deleted) {
    sk.key.Modified(FERRITE_NOTIFY_STREAM, "xtrim");
    if (a.trim.approx) {
      std::vector<std::string> prop = ArgvCopy(argc, argv);
      RewriteTrim(*sk.s, a, &prop);
      ctx.Propagate(prop);
    }
  }
  return ctx.Int(deleted);
}

// ------------------------------- reads ----------------------------------------------

int CmdXLen(Ctx ctx, int, const ferrite_slice* argv) {
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_READ, &sk) != Open::kOk) return FERRITE_OK;
  return ctx.Int(sk.s ? static_cast<int64_t>(sk.s->length) : 0);
}

namespace {

int RangeGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, bool rev) {
  std::string_view start_arg = SV(argv[rev ? 3 : 2]), end_arg = SV(argv[rev ? 2 : 3]);
  StreamID start, end;
  bool startex, endex;
  if (!ParseIntervalIDOrReply(ctx, start_arg, &start, &startex, 0)) return FERRITE_OK;
  if (startex && !IncrID(&start)) return ctx.Error("ERR invalid start ID for the interval");
  if (!ParseIntervalIDOrReply(ctx, end_arg, &end, &endex, UINT64_MAX)) return FERRITE_OK;
  if (endex && !DecrID(&end)) return ctx.Error("ERR invalid end ID for the interval");
  int64_t count = -1;
  for (int j = 4; j < argc; j++) {
    if (EqualsIgnoreCase(SV(argv[j]), "COUNT") && argc - j - 1 >= 1) {
      if (!ParseLongLongOrReply(ctx, SV(argv[j + 1]), &count)) return FERRITE_OK;
      if (count < 0) count = 0;
      j++;
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_READ, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  if (count == 0) return ctx.NullArray();
  ReplyRange(ctx, *sk.s, start, end, count == -1 ? 0 : static_cast<size_t>(count), rev);
  return FERRITE_OK;
}

}  // namespace

int CmdXRange(Ctx c, int n, const ferrite_slice* a) { return RangeGeneric(c, n, a, false); }
int CmdXRevRange(Ctx c, int n, const ferrite_slice* a) { return RangeGeneric(c, n, a, true); }

// ------------------------------- XDEL / XSETID --------------------------------------

int CmdXDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s) return ctx.Int(0);
  std::vector<StreamID> ids(static_cast<size_t>(argc - 2));
  for (int j = 2; j < argc; j++)
    if (!ParseIDOrReply(ctx, SV(argv[j]), &ids[static_cast<size_t>(j - 2)], 0, IdParse::kStrict))
      return FERRITE_OK;
  Stream* s = sk.s;
  int64_t deleted = 0;
  bool first_entry = false;
  for (const StreamID& id : ids) {
    if (!s->Delete(id)) continue;
    if (id == s->first_id) first_entry = true;
    if (id > s->max_deleted) s->max_deleted = id;
    deleted++;
  }
  if (deleted) {
    if (s->length == 0) s->first_id = {};
    else if (first_entry) s->first_id = s->EdgeID(true, true);
    sk.key.Modified(FERRITE_NOTIFY_STREAM, "xdel");
  }
  return ctx.Int(deleted);
}

int CmdXSetId(Ctx ctx, int argc, const ferrite_slice* argv) {
  StreamID id, max_xdel;
  int64_t entries_added = -1;
  if (!ParseIDOrReply(ctx, SV(argv[2]), &id, 0, IdParse::kStrict)) return FERRITE_OK;
  for (int i = 3; i < argc; i += 2) {
    int more = argc - 1 - i;
    std::string_view opt = SV(argv[i]);
    if (EqualsIgnoreCase(opt, "ENTRIESADDED") && more) {
      if (!ParseLongLongOrReply(ctx, SV(argv[i + 1]), &entries_added)) return FERRITE_OK;
      if (entries_added < 0) return ctx.Error("ERR entries_added must be positive");
    } else if (EqualsIgnoreCase(opt, "MAXDELETEDID") && more) {
      if (!ParseIDOrReply(ctx, SV(argv[i + 1]), &max_xdel, 0, IdParse::kStrict))
        return FERRITE_OK;
      if (id < max_xdel)
        return ctx.Error("ERR The ID specified in XSETID is smaller than the provided "
                         "max_deleted_entry_id");
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  StreamKey sk;
  if (OpenStream(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &sk) != Open::kOk) return FERRITE_OK;
  if (!sk.s) return ctx.Error(FERRITE_E_NO_SUCH_KEY);
  Stream* s = sk.s;
  if (s->length > 0) {
    if (id < s->EdgeID(false, true))
      return ctx.Error("ERR The ID specified in XSETID is smaller than the target stream top "
                       "item");
    if (entries_added != -1 && s->length > static_cast<uint64_t>(entries_added))
      return ctx.Error("ERR The entries_added specified in XSETID is smaller than the target "
                       "stream length");
  }
  s->last_id = id;
  if (entries_added != -1) s->entries_added = static_cast<uint64_t>(entries_added);
  if (!max_xdel.IsZero()) s->max_deleted = max_xdel;
  // NOTE: Redis 7.0 does not signal the key here (WATCH is not disturbed).
  ctx.Dirty();
  ctx.Notify(FERRITE_NOTIFY_STREAM, "xsetid", SV(argv[1]));
  return ctx.Ok();
}

}  // namespace ferrite::mod::streams
