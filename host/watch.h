// WATCH's registry of watched keys, for the changes a version comparison cannot see.
//
// WATCH is version-based (see server_commands.cc): EXEC aborts when a watched key's
// version differs from the one recorded at WATCH. Two changes leave no trace there:
// * A key that was missing at WATCH has no version, so "created, then deleted again
//   before EXEC" would look untouched. Redis aborts that EXEC (the creation touched the
//   key), so every key creation counts as a change of a key watched while missing.
// * memcached's explicit CAS (meta E<cas>, and `md x`, which keeps the item's CAS) gives
//   a key a version of the writer's choosing, which may be the recorded one. Every such
//   write counts as a change of a watched key.
// Every WATCHed key is registered here with a change count; EXEC aborts when it moved.
// With nothing registered, key creation and explicit versions pay one relaxed atomic
// load each; key creation keeps that cost while only existing keys are watched.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ferrite::host {

class KeyWatches : public std::enable_shared_from_this<KeyWatches> {
 public:
  // A client's registration; unregisters when destroyed (UNWATCH, EXEC, disconnect).
  class Ref {
   public:
    Ref() = default;
    Ref(Ref&& o) noexcept
        : reg_(std::move(o.reg_)), id_(std::move(o.id_)), missing_(o.missing_) {}
    Ref& operator=(Ref&& o) noexcept;
    ~Ref();
    // How many changes the registry has counted for the key since it learned of it.
    uint64_t changes() const;

   private:
    friend class KeyWatches;
    std::shared_ptr<KeyWatches> reg_;
    std::string id_;
    bool missing_ = false;
  };

  // Registers a watch on (db, key); `missing`: the key does not exist now, so its
  // creation is a change. Call under the key's shard lock.
  Ref Watch(int db, std::string_view key, bool missing);
  // Called whenever a key is created (under its shard lock).
  void KeyCreated(int db, std::string_view key) {
    if (missing_.load(std::memory_order_relaxed) == 0) return;
    Bump(db, key);
  }
  // Called when a write sets the key's version itself (under its shard lock).
  void VersionSet(int db, std::string_view key) {
    if (active_.load(std::memory_order_relaxed) == 0) return;
    Bump(db, key);
  }

 private:
  struct Slot {
    uint64_t changes = 0;
    int refs = 0;
  };
  static std::string Id(int db, std::string_view key);
  void Bump(int db, std::string_view key);
  void Release(const std::string& id, bool missing);

  std::atomic<size_t> active_{0};   // registered keys
  std::atomic<size_t> missing_{0};  // registrations of keys missing at WATCH
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace ferrite::host
