// WATCH on keys that do not exist yet.
//
// WATCH is version-based (see server_commands.cc): EXEC aborts when a watched key's
// version differs from the one recorded at WATCH. A key that was missing at WATCH has
// no version, so "created, then deleted again before EXEC" would look untouched. Redis
// aborts that EXEC (the creation touched the key), so keys watched while missing are
// registered here and every key creation bumps their counter. The registry is empty —
// and key creation pays one relaxed atomic load — unless some client watches a
// missing key.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ferrite::host {

class MissingKeyWatches : public std::enable_shared_from_this<MissingKeyWatches> {
 public:
  // A client's registration; unregisters when destroyed (UNWATCH, EXEC, disconnect).
  class Ref {
   public:
    Ref() = default;
    Ref(Ref&& o) noexcept : reg_(std::move(o.reg_)), id_(std::move(o.id_)) {}
    Ref& operator=(Ref&& o) noexcept;
    ~Ref();
    // How many times the key has been created since the registry learned of it.
    uint64_t creations() const;

   private:
    friend class MissingKeyWatches;
    std::shared_ptr<MissingKeyWatches> reg_;
    std::string id_;
  };

  // Registers a watch on (db, key), which must be missing; call under the key's shard lock.
  Ref Watch(int db, std::string_view key);
  // Called whenever a key is created (under its shard lock).
  void KeyCreated(int db, std::string_view key) {
    if (active_.load(std::memory_order_relaxed) == 0) return;
    Bump(db, key);
  }

 private:
  struct Slot {
    uint64_t creations = 0;
    int refs = 0;
  };
  static std::string Id(int db, std::string_view key);
  void Bump(int db, std::string_view key);
  void Release(const std::string& id);

  std::atomic<size_t> active_{0};
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace ferrite::host
