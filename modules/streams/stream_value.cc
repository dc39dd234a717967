#include "stream_value.h"

#include <algorithm>

#include "ferrite/module.hpp"

namespace ferrite::mod::streams {

namespace {

constexpr size_t kListpackMaxSize = size_t{1} << 30;  // STREAM_LISTPACK_MAX_SIZE
constexpr size_t kMaxPrealloc = 4096;                 // STREAM_LISTPACK_MAX_PRE_ALLOCATE

// Sequential reader over a node's elements.
struct Cursor {
  const Listpack& lp;
  size_t off;
  bool Next(LpElem* e) {
    if (off == 0) return false;
    size_t at = off;
    off = lp.Read(at, e);
    last = at;
    return true;
  }
  bool NextInt(int64_t* v, bool check) {
    *v = 0;
    LpElem e;
    if (!Next(&e)) return false;
    if (e.is_int) {
      *v = e.ival;
      return true;
    }
    if (!sdk::ParseInt64(e.sval, v)) return !check;
    return true;
  }
  size_t last = 0;
};

}  // namespace

// ------------------------------- groups ---------------------------------------------

Consumer* Group::FindConsumer(std::string_view name) {
  auto it = consumers.find(std::string(name));
  return it == consumers.end() ? nullptr : &it->second;
}

Consumer* Group::CreateConsumer(std::string_view name, int64_t now_ms) {
  auto [it, inserted] = consumers.try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second.name = it->first;
  it->second.seen_time = now_ms;
  return &it->second;
}

void Group::DeleteConsumer(Consumer* c) {
  for (const StreamID& id : c->pel) pel.erase(id);
  consumers.erase(c->name);
}

void Group::Ack(std::map<StreamID, Nack>::iterator it) {
  if (it->second.consumer) it->second.consumer->pel.erase(it->first);
  pel.erase(it);
}

// ------------------------------- nodes ----------------------------------------------

bool Stream::ParseNode(const Listpack& lp, const StreamID& master, NodeLayout* out, bool check) {
  Cursor c{lp, lp.First()};
  int64_t nmaster = 0;
  if (!c.NextInt(&out->count, check) || !c.NextInt(&out->deleted, check) ||
      !c.NextInt(&nmaster, check))
    return false;
  if (check && (out->count < 0 || out->deleted < 0 || nmaster < 0)) return false;
  out->master_fields.clear();
  out->entries.clear();
  LpElem e;
  for (int64_t i = 0; i < nmaster; i++) {
    if (!c.Next(&e)) return false;
    out->master_fields.push_back(c.last);
  }
  int64_t zero;
  if (!c.NextInt(&zero, check) || (check && zero != 0)) return false;
  int64_t live = 0, dead = 0;
  StreamID prev;
  while (c.off != 0) {
    if (check && live + dead >= out->count + out->deleted) return false;  // extra entries
    NodeEntry ne;
    ne.flags_off = c.off;
    int64_t ms_delta, seq_delta;
    if (!c.NextInt(&ne.flags, check) || !c.NextInt(&ms_delta, check) ||
        !c.NextInt(&seq_delta, check))
      return false;
    ne.id.ms = master.ms + static_cast<uint64_t>(ms_delta);
    ne.id.seq = master.seq + static_cast<uint64_t>(seq_delta);
    int64_t extra = 3;
    if (ne.flags & kFlagSameFields) {
      ne.nfields = nmaster;
      ne.fields_off = c.off;
      for (int64_t i = 0; i < nmaster; i++)
        if (!c.Next(&e)) return false;
    } else {
      if (!c.NextInt(&ne.nfields, check)) return false;
      if (check && (ne.nfields < 0 || ne.nfields > (int64_t{1} << 31))) return false;
      ne.fields_off = c.off;
      for (int64_t i = 0; i < 2 * ne.nfields; i++)
        if (!c.Next(&e)) return false;
      extra += ne.nfields + 1;
    }
    int64_t lp_count;
    if (!c.NextInt(&lp_count, check)) return false;
    if (check) {
      if (lp_count != ne.nfields + extra) return false;
      if (ne.id < master || (!out->entries.empty() && ne.id <= prev)) return false;
      if (ne.nfields == 0 && (ne.flags & kFlagSameFields) == 0) return false;
    }
    prev = ne.id;
    (ne.flags & kFlagDeleted ? dead : live)++;
    out->entries.push_back(ne);
  }
  if (check && (live != out->count || dead != out->deleted)) return false;
  return true;
}

void EntryRef::ForEachField(const std::function<void(const LpElem&, const LpElem&)>& fn) const {
  LpElem f, v;
  size_t off = e_.fields_off;
  if (e_.flags & kFlagSameFields) {
    for (int64_t i = 0; i < e_.nfields; i++) {
      lp_.Read(l_.master_fields[static_cast<size_t>(i)], &f);
      off = lp_.Read(off, &v);
      fn(f, v);
    }
  } else {
    for (int64_t i = 0; i < e_.nfields; i++) {
      off = lp_.Read(off, &f);
      off = lp_.Read(off, &v);
      fn(f, v);
    }
  }
}

void Stream::SetCounts(Listpack* lp, int64_t count, int64_t deleted) {
  size_t off = lp->First();
  lp->ReplaceInt(off, count);
  LpElem e;
  size_t next = lp->Read(off, &e);
  lp->ReplaceInt(next, deleted);
}

Stream::AddStatus Stream::Append(const std::vector<std::string_view>& fv, const StreamID* use_id,
                                 bool seq_given, int64_t now_ms, const NodeLimits& lim,
                                 StreamID* added) {
  nodes_mem_known_ = false;
  StreamID id;
  if (use_id) {
    if (seq_given) {
      id = *use_id;
    } else if (last_id.ms == use_id->ms) {
      if (last_id.seq == UINT64_MAX) return AddStatus::kIdTooSmall;
      id = {last_id.ms, last_id.seq + 1};
    } else {
      id = *use_id;
    }
  } else {
    uint64_t ms = static_cast<uint64_t>(now_ms);
    if (ms > last_id.ms) {
      id = {ms, 0};
    } else {
      id = last_id;
      IncrID(&id);
    }
  }
  if (id <= last_id) return AddStatus::kIdTooSmall;

  size_t totelelen = 0;
  for (auto s : fv) totelelen += s.size();
  if (totelelen > kListpackMaxSize) return AddStatus::kTooLarge;

  int64_t numfields = static_cast<int64_t>(fv.size() / 2);
  Listpack* lp = nullptr;
  StreamID master;
  if (!nodes.empty()) {
    auto last = std::prev(nodes.end());
    lp = &last->second;
    master = last->first;
    size_t max_bytes = static_cast<size_t>(lim.max_bytes);
    if (max_bytes == 0 || max_bytes > kListpackMaxSize) max_bytes = kListpackMaxSize;
    bool full = lp->size() + totelelen >= max_bytes;
    if (!full && lim.max_entries) {
      size_t off = lp->First();
      LpElem e;
      int64_t count = lp->IntAt(off);
      int64_t dead = lp->IntAt(lp->Read(off, &e));
      full = count + dead >= lim.max_entries;
    }
    if (full) {
      lp->ShrinkToFit();
      lp = nullptr;
    }
  }

  int64_t flags = 0;
  if (!lp) {
    master = id;
    Listpack fresh;
    size_t prealloc = kMaxPrealloc;
    if (lim.max_bytes > 0 && static_cast<size_t>(lim.max_bytes) < prealloc)
      prealloc = static_cast<size_t>(lim.max_bytes);
    fresh.Reserve(prealloc);
    fresh.AppendInt(1);
    fresh.AppendInt(0);
    fresh.AppendInt(numfields);
    for (int64_t i = 0; i < numfields; i++) fresh.AppendString(fv[2 * i]);
    fresh.AppendInt(0);
    lp = &nodes.emplace(id, std::move(fresh)).first->second;
    flags |= kFlagSameFields;
  } else {
    size_t off = lp->First();
    lp->ReplaceInt(off, lp->IntAt(off) + 1);
    LpElem e;
    off = lp->Read(off, &e);  // at the deleted count
    off = lp->Read(off, &e);  // at the master field count
    off = lp->Read(off, &e);  // e: the master field count; off: the first field
    int64_t nmaster = e.is_int ? e.ival : 0;
    if (nmaster == numfields) {
      int64_t i = 0;
      std::string scratch;
      for (; i < nmaster; i++) {
        off = lp->Read(off, &e);
        bool same = e.is_int ? (scratch = std::to_string(e.ival), scratch == fv[2 * i])
                             : e.sval == fv[2 * i];
        if (!same) break;
      }
      if (i == nmaster) flags |= kFlagSameFields;
    }
  }
  lp->AppendInt(flags);
  lp->AppendInt(static_cast<int64_t>(id.ms - master.ms));
  lp->AppendInt(static_cast<int64_t>(id.seq - master.seq));
  bool same = flags & kFlagSameFields;
  if (!same) lp->AppendInt(numfields);
  for (int64_t i = 0; i < numfields; i++) {
    if (!same) lp->AppendString(fv[2 * i]);
    lp->AppendString(fv[2 * i + 1]);
  }
  lp->AppendInt(numfields + 3 + (same ? 0 : numfields + 1));
  length++;
  entries_added++;
  last_id = id;
  if (length == 1) first_id = id;
  if (added) *added = id;
  return AddStatus::kOk;
}

namespace {

// Visits nodes that may hold IDs in [start, end], in order, with their parsed layout.
// fn(master, lp, layout) returns false to stop.
template <class Fn>
void VisitNodes(const Stream::Nodes& nodes, const StreamID& start, const StreamID& end, bool rev,
                Fn fn) {
  NodeLayout l;
  if (!rev) {
    auto it = nodes.upper_bound(start);
    if (it != nodes.begin()) --it;
    for (; it != nodes.end() && it->first <= end; ++it) {
      Stream::ParseNode(it->second, it->first, &l);
      if (!fn(it->second, l)) return;
    }
  } else {
    auto it = nodes.upper_bound(end);
    while (it != nodes.begin()) {
      --it;
      Stream::ParseNode(it->second, it->first, &l);
      if (!fn(it->second, l)) return;
    }
  }
}

}  // namespace

void Stream::Range(const StreamID& start, const StreamID& end, bool rev, const EntryFn& fn) const {
  if (start > end) return;
  VisitNodes(nodes, start, end, rev, [&](const Listpack& lp, const NodeLayout& l) {
    if (!rev) {
      for (const NodeEntry& e : l.entries) {
        if (e.flags & kFlagDeleted || e.id < start) continue;
        if (e.id > end) return false;
        if (!fn(EntryRef(lp, l, e))) return false;
      }
    } else {
      for (auto it = l.entries.rbegin(); it != l.entries.rend(); ++it) {
        if (it->flags & kFlagDeleted || it->id > end) continue;
        if (it->id < start) return false;
        if (!fn(EntryRef(lp, l, *it))) return false;
      }
    }
    return true;
  });
}

bool Stream::Exists(const StreamID& id) const {
  bool found = false;
  Range(id, id, false, [&](const EntryRef&) {
    found = true;
    return false;
  });
  return found;
}

bool Stream::Delete(const StreamID& id) {
  nodes_mem_known_ = false;
  auto it = nodes.upper_bound(id);
  if (it == nodes.begin()) return false;
  --it;
  NodeLayout l;
  ParseNode(it->second, it->first, &l);
  for (const NodeEntry& e : l.entries) {
    if (e.id != id) continue;
    if (e.flags & kFlagDeleted) return false;
    if (l.count == 1) {
      nodes.erase(it);
    } else {
      it->second.ReplaceInt(e.flags_off, e.flags | kFlagDeleted);  // same size: 1 byte
      SetCounts(&it->second, l.count - 1, l.deleted + 1);
    }
    length--;
    return true;
  }
  return false;
}

int64_t Stream::Trim(const TrimArgs& a) {
  if (a.strategy == TrimStrategy::kNone) return 0;
  nodes_mem_known_ = false;
  bool by_len = a.strategy == TrimStrategy::kMaxLen;
  uint64_t maxlen = static_cast<uint64_t>(a.maxlen);
  int64_t deleted = 0;
  NodeLayout l;
  for (auto it = nodes.begin(); it != nodes.end();) {
    if (by_len && length <= maxlen) break;
    ParseNode(it->second, it->first, &l);
    int64_t entries = l.count;
    if (a.limit && deleted + entries > a.limit) break;
    bool remove_node;
    if (by_len) {
      remove_node = length - static_cast<uint64_t>(entries) >= maxlen;
    } else {
      // The node's last entry, tombstone or not (lpGetEdgeStreamID).
      remove_node = !l.entries.empty() && l.entries.back().id < a.minid;
    }
    if (remove_node) {
      it = nodes.erase(it);
      length -= static_cast<uint64_t>(entries);
      deleted += entries;
      continue;
    }
    if (a.approx) break;
    int64_t from_node = 0;
    for (const NodeEntry& e : l.entries) {
      bool stop = by_len ? length <= maxlen : e.id >= a.minid;
      if (stop) break;
      if (!(e.flags & kFlagDeleted)) {
        it->second.ReplaceInt(e.flags_off, e.flags | kFlagDeleted);
        from_node++;
        length--;
      }
    }
    deleted += from_node;
    SetCounts(&it->second, entries - from_node, l.deleted + from_node);
    break;
  }
  if (length == 0) first_id = {};
  else if (deleted) first_id = EdgeID(true, true);
  return deleted;
}

StreamID Stream::EdgeID(bool first, bool skip_tombstones) const {
  NodeLayout l;
  StreamID out = first ? StreamID::Max() : StreamID{};
  bool found = false;
  auto scan = [&](const Listpack& lp, const StreamID& master) {
    ParseNode(lp, master, &l);
    auto pick = [&](const NodeEntry& e) {
      if (skip_tombstones && (e.flags & kFlagDeleted)) return false;
      out = e.id;
      return found = true;
    };
    if (first) {
      for (const NodeEntry& e : l.entries)
        if (pick(e)) return;
    } else {
      for (auto it = l.entries.rbegin(); it != l.entries.rend(); ++it)
        if (pick(*it)) return;
    }
  };
  if (first) {
    for (auto it = nodes.begin(); it != nodes.end() && !found; ++it) scan(it->second, it->first);
  } else {
    for (auto it = nodes.rbegin(); it != nodes.rend() && !found; ++it) scan(it->second, it->first);
  }
  return out;
}

// ------------------------------- groups on the stream --------------------------------

Group* Stream::FindGroup(std::string_view name) const {
  auto it = groups.find(std::string(name));
  return it == groups.end() ? nullptr : it->second.get();
}

Group* Stream::CreateGroup(std::string_view name, const StreamID& id, int64_t entries_read) {
  auto [it, inserted] = groups.try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second = std::make_unique<Group>();
  it->second->last_id = id;
  it->second->entries_read = entries_read;
  return it->second.get();
}

bool Stream::RangeHasTombstones(const StreamID& start, const StreamID* end) const {
  if (!length || max_deleted.IsZero()) return false;
  if (first_id > max_deleted) return false;
  StreamID e = end ? *end : StreamID::Max();
  return start <= max_deleted && max_deleted <= e;
}

int64_t Stream::EstimateDistance(const StreamID& id) const {
  if (!entries_added) return 0;
  if (!length && id <= last_id) return static_cast<int64_t>(entries_added);
  if (id == last_id) return static_cast<int64_t>(entries_added);
  if (id > last_id) return kInvalidEntriesRead;
  if (max_deleted.IsZero() || max_deleted < first_id) {
    if (id < first_id) return static_cast<int64_t>(entries_added - length);
    if (id == first_id) return static_cast<int64_t>(entries_added - length + 1);
  }
  return kInvalidEntriesRead;
}

bool Stream::Lag(const Group& g, int64_t* lag) const {
  if (!entries_added) {
    *lag = 0;
    return true;
  }
  if (g.entries_read != kInvalidEntriesRead && !RangeHasTombstones(g.last_id, nullptr)) {
    *lag = static_cast<int64_t>(entries_added) - g.entries_read;
    return true;
  }
  int64_t read = EstimateDistance(g.last_id);
  if (read == kInvalidEntriesRead) return false;
  *lag = static_cast<int64_t>(entries_added) - read;
  return true;
}

std::unique_ptr<Stream> Stream::Clone() const {
  auto s = std::make_unique<Stream>();
  s->length = length;
  s->last_id = last_id;
  s->first_id = first_id;
  s->max_deleted = max_deleted;
  s->entries_added = entries_added;
  s->nodes = nodes;
  for (auto& [name, g] : groups) {
    Group* ng = s->CreateGroup(name, g->last_id, g->entries_read);
    for (auto& [cname, c] : g->consumers) {
      Consumer* nc = ng->CreateConsumer(cname, c.seen_time);
      nc->pel = c.pel;
    }
    for (auto& [id, n] : g->pel) {
      Nack copy = n;
      copy.consumer = n.consumer ? ng->FindConsumer(n.consumer->name) : nullptr;
      ng->pel.emplace(id, copy);
    }
  }
  return s;
}

size_t Stream::MemUsage() const {
  // Map nodes are counted at a typical 64 bytes (key, value header, tree links).
  if (!nodes_mem_known_) {
    nodes_mem_ = 0;
    for (auto& [id, lp] : nodes) nodes_mem_ += 64 + lp.capacity();
    nodes_mem_known_ = true;
  }
  size_t total = sizeof(Stream) + nodes_mem_;
  for (auto& [name, g] : groups) {
    total += 64 + name.capacity() + sizeof(Group);
    total += g->pel.size() * (64 + sizeof(Nack));
    for (auto& [cname, c] : g->consumers)
      total += 64 + 2 * cname.capacity() + sizeof(Consumer) + c.pel.size() * 48;
  }
  return total;
}

}  // namespace ferrite::mod::streams
