// The append-only file: one file, `dir/appendfilename`, holding RESP commands (an
// optional RDB preamble is accepted on load). AofWriter is the PropagationSink that
// appends every propagated write; AofRewriteBase writes a fresh base from the keyspace
// (in a fork child); LoadAof replays a file through the host's normal Execute path.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "host/host.h"

namespace ferrite::host::persist {

enum class FsyncPolicy { kEverySec = 0, kAlways = 1, kNo = 2 };  // config enum order

// RESP-encodes one command (*argc, $len bulks) onto `out`.
void AppendResp(std::string& out, int argc, const ferrite_slice* argv);

class AofWriter : public PropagationSink {
 public:
  // `policy` is read on every write, so CONFIG SET appendfsync applies at once.
  AofWriter(std::string path, const std::atomic<int64_t>* policy);
  ~AofWriter() override;

  // Opens (creating) the file for appending. Returns an error text or "".
  std::string Open();
  void Feed(int db, int argc, const ferrite_slice* argv) override;

  // appendfsync always: fsyncs everything written so far unless another caller's fsync
  // already covered it. Called with no lock held, before replies are written.
  void SyncBarrier();
  // everysec: called about once a second from the persistence thread.
  void FsyncIfDue(int64_t now_ms);
  // Flushes pending bytes (after a failed write) and fsyncs. Returns false on error.
  bool FlushAndSync();

  // Rewrite protocol: Begin (caller holds every shard lock, right before fork), then
  // Finish once the child wrote `temp_path`, or Abort.
  void BeginRewrite();
  std::string FinishRewrite(const std::string& temp_path);
  void AbortRewrite();

  uint64_t size() const { return size_.load(); }
  uint64_t base_size() const { return base_size_.load(); }
  bool write_ok() const { return write_ok_.load(); }
  std::string last_error() const;
  size_t pending_bytes() const;
  const std::string& path() const { return path_; }
  // Called when writes start or stop failing (the service maps it to MISCONF).
  std::function<void(bool ok, const std::string& why)> on_status;

 private:
  bool WriteLocked(const char* p, size_t n);  // mu_ held
  [[noreturn]] void ExitOnSyncFailure(const std::string& why);
  void SetStatus(bool ok, const std::string& why);

  std::string path_;
  const std::atomic<int64_t>* policy_;
  mutable std::mutex mu_;
  std::mutex sync_mu_;              // serialises fsyncs; taken before mu_
  std::atomic<uint64_t> synced_{0};  // bytes known durable
  int fd_ = -1;
  int aof_db_ = -1;       // db of the last command in the file
  int rewrite_db_ = -1;   // db of the last command in the rewrite buffer
  bool rewriting_ = false;
  std::string rewrite_buf_;
  std::string pending_;   // bytes not yet written after an error
  std::string scratch_;
  std::atomic<uint64_t> size_{0}, base_size_{0};
  std::atomic<bool> write_ok_{true};
  std::atomic<bool> dirty_since_fsync_{false};
  int64_t last_fsync_ms_ = 0;
  std::string last_error_;
};

// Writes the function libraries (FUNCTION LOAD <code>, first, as Redis' rewriteFunctions;
// `libraries` from DumpLibraries, taken before the fork) and every key of every db as
// commands (SELECT, SET / the type's aof_rewrite, PEXPIREAT, FERRITE.SETFLAGS) to `fd`.
// Fork-child safe. Returns false on write error.
bool AofRewriteBase(Host& h, int fd, int64_t now_ms,
                    const std::vector<std::string>& libraries = {});

// Parsing, with no host (LoadAof and the fuzz target share it).
enum class AofParse { kOk, kTruncated, kCorrupt };

// Parses one "*<n>\r\n($<len>\r\n<bytes>\r\n){n}" command at *i into `argv` (slices
// into `d`). Advances *i only past a whole command; kTruncated when `d` ends inside one.
AofParse ParseAofCommand(std::string_view d, size_t* i, std::vector<ferrite_slice>* argv);

struct AofScan {
  AofParse result = AofParse::kOk;  // a MULTI left open at the end counts as kTruncated
  size_t good = 0;        // end of the last complete command outside MULTI
  bool in_multi = false;  // the file ended (or broke) inside MULTI
  uint64_t commands = 0;
};

// Parses commands from `start` to the end of `d`, calling `exec` for each, and stops at
// the first one that is truncated or corrupt.
AofScan ScanAofCommands(std::string_view d, size_t start,
                        const std::function<void(int, const ferrite_slice*)>& exec);

struct AofLoadOptions {
  bool load_truncated = true;   // repair a truncated tail (truncate the file)
  bool load_corrupt = false;    // stop at corruption, keep what came before
  int64_t now_ms = 0;
  // As RdbLoadOptions (the RDB preamble gets both): the server serves while it loads;
  // (bytes consumed, keys or commands loaded) every few thousand; may throw to abort.
  bool lock_per_key = false;
  int64_t key_load_delay_us = 0;  // a sleep per key or command (tests)
  std::function<void(uint64_t, uint64_t)> progress;
};

struct AofLoadStats {
  uint64_t commands = 0;
  uint64_t errors = 0;          // commands that replied with an error
  uint64_t rdb_keys = 0;        // keys from an RDB preamble
  uint64_t truncated_at = UINT64_MAX;  // file was cut to this size
  std::string first_error;
};

// Replays `path` (the caller has checked it exists). Throws std::runtime_error naming the
// byte offset on corruption (unless load_corrupt) or a truncated tail (unless
// load_truncated). Repairs the file in place when it cut a tail.
// The whole of a file (an AOF or an RDB) in one read; false (and *out empty) when it
// cannot be opened or read. (A byte-wise istreambuf_iterator read took 1.9 s for a 50 MB
// AOF, 25 s under ASan, and a shutdown asked for meanwhile waited for all of it.)
bool ReadWholeFile(const std::string& path, std::string* out);

AofLoadStats LoadAof(Host& h, const std::string& path, const AofLoadOptions& opt);

// DEBUG LOADAOF: replays `path` into the keyspace while the caller holds every shard
// lock (commands run as nested calls, MULTI/EXEC markers are skipped) and drops what
// they would propagate: it is already in the file. Malformed or unknown commands count
// as errors and are skipped. Throws RdbError for a bad RDB preamble.
AofLoadStats ReplayAofLocked(Host& h, const std::string& path, int64_t now_ms);

}  // namespace ferrite::host::persist
