// The stream value: Redis' layout (t_stream.c) with an ordered map in place of the rax.
//
// Entries live in nodes, each a listpack (listpack.h) keyed by its master ID:
//
//   master entry: <count> <deleted> <num-fields> <field>... 0
//   entry:        <flags> <ms-delta> <seq-delta> [<num-fields> <field>...] <value>... <lp-count>
//
// IDs are deltas from the master ID; an entry whose field names equal the master's
// carries the SAMEFIELDS flag and only its values. XDEL and trimming inside a node set
// the DELETED flag (a tombstone) and fix the counts; a node whose last live entry goes
// is removed. This is byte for byte what Redis keeps, so RDB save/load copies nodes.
//
// Consumer groups: a name-ordered map of groups, each with a PEL (ID -> NACK) and
// name-ordered consumers, each with its own set of pending IDs (the NACK points to its
// owner, as Redis' shared streamNACK does).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "listpack.h"
#include "stream_id.h"

namespace ferrite::mod::streams {

inline constexpr int64_t kFlagDeleted = 1, kFlagSameFields = 2;
// Redis' SCG_INVALID_ENTRIES_READ: the group's read counter is unknown.
inline constexpr int64_t kInvalidEntriesRead = -1;

struct Consumer;

struct Nack {
  int64_t delivery_time = 0;
  uint64_t delivery_count = 1;
  Consumer* consumer = nullptr;
};

struct Consumer {
  std::string name;
  int64_t seen_time = 0;
  std::set<StreamID> pel;
};

struct Group {
  StreamID last_id;
  int64_t entries_read = kInvalidEntriesRead;
  std::map<StreamID, Nack> pel;
  std::map<std::string, Consumer> consumers;

  Consumer* FindConsumer(std::string_view name);
  // Creates the consumer; nullptr if it exists.
  Consumer* CreateConsumer(std::string_view name, int64_t now_ms);
  // Removes the consumer and its pending entries from the group PEL.
  void DeleteConsumer(Consumer* c);
  // Drops one PEL entry (group and owner).
  void Ack(std::map<StreamID, Nack>::iterator it);
};

// One entry of a node, as the node parser finds it.
struct NodeEntry {
  StreamID id;
  int64_t flags = 0;
  size_t flags_off = 0;   // offset of the flags element
  size_t fields_off = 0;  // offset of the first field (or value, with SAMEFIELDS)
  int64_t nfields = 0;
};

// A node's parsed layout.
struct NodeLayout {
  int64_t count = 0, deleted = 0;
  std::vector<size_t> master_fields;  // offsets
  std::vector<NodeEntry> entries;
};

// A live entry handed to range callbacks: its fields are read from the node.
class EntryRef {
 public:
  EntryRef(const Listpack& lp, const NodeLayout& l, const NodeEntry& e) : lp_(lp), l_(l), e_(e) {}
  const StreamID& id() const { return e_.id; }
  int64_t nfields() const { return e_.nfields; }
  // Calls fn(field, value) for each pair in order.
  void ForEachField(const std::function<void(const LpElem&, const LpElem&)>& fn) const;

 private:
  const Listpack& lp_;
  const NodeLayout& l_;
  const NodeEntry& e_;
};

// Trimming (XADD/XTRIM MAXLEN|MINID), as Redis' streamAddTrimArgs.
enum class TrimStrategy { kNone, kMaxLen, kMinId };
struct TrimArgs {
  TrimStrategy strategy = TrimStrategy::kNone;
  bool approx = false;
  int64_t limit = 0;  // 0 = no limit
  int64_t maxlen = 0;
  StreamID minid;
};

// Node size limits (stream-node-max-bytes / stream-node-max-entries).
struct NodeLimits {
  int64_t max_bytes = 4096;
  int64_t max_entries = 100;
};

class Stream {
 public:
  using Nodes = std::map<StreamID, Listpack>;
  // fn returns false to stop the iteration.
  using EntryFn = std::function<bool(const EntryRef&)>;

  enum class AddStatus { kOk, kIdTooSmall, kTooLarge };

  uint64_t length = 0;
  StreamID last_id, first_id, max_deleted;
  uint64_t entries_added = 0;
  Nodes nodes;
  std::map<std::string, std::unique_ptr<Group>> groups;

  // Appends an entry. `use_id` null: a new ID from `now_ms`; with `seq_given` false,
  // the sequence is generated for use_id->ms. `fv` holds field, value, field, value...
  AddStatus Append(const std::vector<std::string_view>& fv, const StreamID* use_id,
                   bool seq_given, int64_t now_ms, const NodeLimits& lim, StreamID* added);
  // Live entries with start <= id <= end, ascending (or descending with `rev`).
  void Range(const StreamID& start, const StreamID& end, bool rev, const EntryFn& fn) const;
  bool Exists(const StreamID& id) const;
  // Marks the entry deleted; false if there is no such live entry.
  bool Delete(const StreamID& id);
  // Redis' streamTrim: returns the number of entries removed.
  int64_t Trim(const TrimArgs& a);
  // First or last ID in the stream, tombstones included unless skip_tombstones; when
  // there is none: max ID for the first edge, 0-0 for the last (streamGetEdgeID).
  StreamID EdgeID(bool first, bool skip_tombstones) const;

  // Consumer group helpers (t_stream.c names in comments).
  Group* FindGroup(std::string_view name) const;
  Group* CreateGroup(std::string_view name, const StreamID& id, int64_t entries_read);
  bool RangeHasTombstones(const StreamID& start, const StreamID* end) const;  // streamRangeHasTombstones
  int64_t EstimateDistance(const StreamID& id) const;  // streamEstimateDistanceFromFirstEverEntry
  // The group lag reply: false when it is unknown (null).
  bool Lag(const Group& g, int64_t* lag) const;

  std::unique_ptr<Stream> Clone() const;
  // Bytes held. The nodes' share is remembered until Append, Delete or Trim changes them,
  // so a recount after a change to the groups only (key_resized) does not walk the nodes.
  size_t MemUsage() const;

  // Parses a node. `check` validates the stream structure of untrusted bytes (each
  // element must already be valid: Listpack::Validate) and returns false on corruption.
  static bool ParseNode(const Listpack& lp, const StreamID& master, NodeLayout* out,
                        bool check = false);

 private:
  static void SetCounts(Listpack* lp, int64_t count, int64_t deleted);
  mutable size_t nodes_mem_ = 0;
  mutable bool nodes_mem_known_ = false;
};

}  // namespace ferrite::mod::streams
