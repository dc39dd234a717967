// Loads a Redis RDB file (versions 1..11, everything redis-server 7.0 writes) into the
// keyspace. Strings are stored directly; collections in any encoding (plain, ziplist,
// listpack, intset, zipmap, quicklist 1 and 2) are decoded into the plain element
// stream of module.h and handed to the load callback of the module type registered for
// that family. Loading stops with an RdbError naming the byte offset (and the key, when
// there is one) on truncation, corruption, a checksum mismatch, or a value type no
// loaded module handles.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host {
class Host;
class Table;
}

namespace ferrite::host::persist {

class RdbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RdbLoadOptions {
  bool verify_checksum = true;
  int64_t now_ms = 0;  // keys whose expiry is <= now_ms are skipped, as a Redis master does
  // The startup load runs while workers serve `loading` commands (INFO reads the key
  // counts under the shard locks): lock each key's shard while linking it. Otherwise
  // the caller holds the keyspace exclusively.
  bool lock_per_key = false;
  // The file's CAS epoch (kAuxCasEpoch) is adopted (Keyspace::AdoptCasEpoch) before its
  // keys are versioned: a primary's dataset on a replica, a node's own at startup. Off
  // for a reload of the node's own data (DEBUG RELOAD): its replicas' epochs stay past it.
  bool adopt_cas_epoch = false;
  int64_t key_load_delay_us = 0;  // Redis' key-load-delay: a sleep per key (tests)
  // A key already in the table, or a function library that exists, fails the load
  // ("duplicated key"), as Redis' rdbLoad without RDBFLAGS_ALLOW_DUP (DEBUG RELOAD
  // NOFLUSH without MERGE). Otherwise the loaded one replaces it.
  bool refuse_duplicates = false;
  // Loads into these tables ([shard][db], not bound to the keyspace's byte counter)
  // instead of the keyspace, which the caller then need not hold (a replica's swapdb
  // load, serving its current dataset meanwhile). The keys get version 0 and the file's
  // CAS epoch is reported in RdbLoadStats::cas_epoch, not adopted: the caller versions
  // the keys when it links the tables in (under every shard lock).
  std::vector<std::vector<Table>>* into = nullptr;
  // Called every kProgressEvery keys with (bytes consumed, keys loaded); may throw to
  // abort the load (shutdown requested).
  std::function<void(uint64_t, uint64_t)> progress;
  static constexpr uint64_t kProgressEvery = 1024;
};

struct RdbLoadStats {
  int version = 0;
  uint64_t keys = 0;
  uint64_t expired_skipped = 0;
  uint64_t consumed = 0;  // bytes up to and including the checksum
  bool aof_base = false;
  std::string redis_ver;
  int64_t ctime = 0;
  int64_t cas_epoch = -1;  // the kAuxCasEpoch field, when loading `into` tables
  // Loading `into` tables: the function libraries' code (RDB_OPCODE_FUNCTION2), for the
  // caller to create when it links the tables in. Otherwise each library is created as
  // it is read (rdb_functions.h): replacing one that exists, or failing the load with
  // refuse_duplicates, as Redis' rdbFunctionLoad with and without RDBFLAGS_ALLOW_DUP.
  std::vector<std::string> libraries;
};

// The caller makes the keyspace exclusive (every shard lock held) or sets lock_per_key.
// Keys already present are replaced. Throws RdbError (or what `progress` throws).
RdbLoadStats LoadRdb(Host& h, std::string_view data, const RdbLoadOptions& opt);

// A payload parsed while it arrives (a replica's diskless load, Redis' rio over the
// connection): the loader asks for bytes as it needs them, so the payload is never held
// whole. The loader reads nothing past the RDB's checksum; bytes the source holds
// beyond it stay there (what follows the payload on the link).
class RdbSource {
 public:
  virtual ~RdbSource() = default;
  // At least `n` bytes not yet consumed (all of them that are at hand), valid until the
  // next call. Throws RdbError when the payload cannot give them (the link closed or
  // timed out, the payload's length is reached).
  virtual std::string_view Have(size_t n) = 0;
  // The first `n` bytes of what Have returned are done with.
  virtual void Consume(size_t n) = 0;
};

// As above, reading from `src`. RdbLoadStats::consumed counts the bytes taken from it.
RdbLoadStats LoadRdb(Host& h, RdbSource& src, const RdbLoadOptions& opt);

// A buffer as an RdbSource that hands out at most `step` bytes more than asked each
// time: a payload cut into pieces anywhere must load as the whole buffer does (tests,
// the fuzz target).
class BufferSource final : public RdbSource {
 public:
  BufferSource(std::string_view data, size_t step) : d_(data), step_(step) {}
  std::string_view Have(size_t n) override {
    size_t left = d_.size() - off_;
    if (n > left) throw RdbError("RDB: unexpected end of payload");
    return d_.substr(off_, n + std::min(step_, left - n));
  }
  void Consume(size_t n) override { off_ += n; }
  size_t consumed() const { return off_; }

 private:
  std::string_view d_;
  size_t step_;
  size_t off_ = 0;
};

// One value as rdbLoadObject reads it: a string (type == nullptr) or a module value the
// caller now owns (Free() releases it).
struct LoadedValue {
  std::string str;
  const ferrite_type* type = nullptr;
  void* value = nullptr;
  bool Empty() const;  // a collection with no elements (Redis refuses to load those)
  void Free();
};

// Reads an RDB type byte and the value after it from `data` (DUMP/RESTORE payloads),
// with any compact encoding decoded for the owning type. *consumed: the bytes read.
// Throws RdbError on a bad type byte, truncation, corruption or a type no module loads.
LoadedValue LoadObject(Host& h, std::string_view data, size_t* consumed);

// The libraries' code in a FUNCTION DUMP payload: FUNCTION2 records (the strings in any
// RDB encoding), then the 2-byte RDB version and the CRC-64 (the module checks those on
// RESTORE; not here). Throws RdbError.
std::vector<std::string> ParseFunctionPayload(std::string_view payload);

}  // namespace ferrite::host::persist
