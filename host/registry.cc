#include "host/registry.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ferrite::host {

namespace {
std::string Lower(std::string_view s) {
  std::string r(s);
  for (auto& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return r;
}

// Case-insensitive hash of a command name: OR-ing 0x20 into every byte folds ASCII
// letters to lower case. It also maps a few non-letters together ('_' and DEL), which
// only costs a comparison; equal names (any case) always hash equal.
uint64_t FoldHash(std::string_view s) {
  constexpr uint64_t kFold = 0x2020202020202020ull, kMul = 0xff51afd7ed558ccdull;
  uint64_t h = 0x9e3779b97f4a7c15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    memcpy(&w, s.data() + i, 8);
    h = (h ^ (w | kFold)) * kMul;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  for (size_t j = 0; i + j < s.size(); j++)
    w |= static_cast<uint64_t>(static_cast<uint8_t>(s[i + j]) | 0x20) << (8 * j);
  h = (h ^ w) * kMul;
  return h ^ (h >> 29);
}

// `lower` is already lower case (registered names are).
bool EqualFold(std::string_view name, const std::string& lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    unsigned char ch = static_cast<unsigned char>(name[i]);
    if (static_cast<unsigned>(ch - 'A') < 26u) ch |= 0x20;
    if (ch != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

}  // namespace

bool Command::Keys(int argc, const ferrite_slice* argv, std::vector<int>& out) const {
  out.clear();
  if (getkeys) {
    int buf[64];
    int n = getkeys(argc, argv, buf, 64);
    if (n < 0) return false;
    if (n <= 64) {
      out.assign(buf, buf + n);
      return true;
    }
    out.resize(n);
    n = getkeys(argc, argv, out.data(), n);
    if (n < 0) return false;
    out.resize(n);
    return true;
  }
  if (first_key <= 0) return true;
  int last = last_key < 0 ? argc + last_key : last_key;
  int step = key_step > 0 ? key_step : 1;
  for (int i = first_key; i <= last && i < argc; i += step) out.push_back(i);
  return true;
}

Registry::Snapshot::Snapshot(CommandMap m) : map(std::move(m)) {
  size_t n = 2;
  while (n < map.size() * 2) n *= 2;  // load factor <= 1/2: probes stay short
  slots.resize(n);
  mask = n - 1;
  for (auto& [name, cmd] : map) {
    uint64_t h = FoldHash(name);
    size_t i = h & mask;
    while (slots[i].cmd) i = (i + 1) & mask;
    slots[i] = {h, cmd.get()};
  }
}

const Command* Registry::Snapshot::Find(std::string_view name) const {
  uint64_t h = FoldHash(name);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (!s.cmd) return nullptr;
    if (s.hash == h && EqualFold(name, s.cmd->name)) return s.cmd;
  }
}

Registry::Registry() {
  snapshots_.push_back(std::make_unique<const Snapshot>(CommandMap{}));
  snapshot_.store(snapshots_.back().get(), std::memory_order_release);
}

Registry::~Registry() = default;

Registry::Batch::Batch(Registry& r) : r_(r) {
  std::lock_guard lk(r_.mu_);
  r_.batch_depth_++;
}

Registry::Batch::~Batch() {
  std::lock_guard lk(r_.mu_);
  if (--r_.batch_depth_ == 0 && r_.unpublished_) r_.PublishLocked();
}

void Registry::PublishLocked() {
  if (batch_depth_ > 0) {
    unpublished_ = true;
    return;
  }
  unpublished_ = false;
  // NOTE: the previous snapshot is kept: a worker may be inside Find on it right now.
  // Loads and unloads are rare, so the retired tables cost little until shutdown.
  snapshots_.push_back(std::make_unique<const Snapshot>(commands_));
  snapshot_.store(snapshots_.back().get(), std::memory_order_release);
}

const Command* Registry::Find(std::string_view name) const {
  return snapshot_.load(std::memory_order_acquire)->Find(name);
}

bool Registry::AddCommand(std::shared_ptr<Command> c) {
  std::lock_guard lk(mu_);
  c->name = Lower(c->name);
  c->upper = c->name;
  for (auto& ch : c->upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (commands_.count(c->name)) return false;
  std::string name = c->name;
  commands_.emplace(std::move(name), std::move(c));
  PublishLocked();
  return true;
}

void Registry::RemoveCommands(const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::lock_guard lk(mu_);
  for (auto& n : names) commands_.erase(Lower(n));
  PublishLocked();
}

ferrite_type* Registry::AddType(const ferrite_type_desc& d, ferrite_plugin* owner) {
  std::lock_guard lk(mu_);
  if (!d.name || types_.count(d.name) || std::string_view(d.name) == "string") return nullptr;
  auto t = std::make_unique<ferrite_type>();
  t->desc = ferrite_type_desc{};
  memcpy(&t->desc, &d, std::min(d.struct_size, sizeof(ferrite_type_desc)));
  t->desc.struct_size = sizeof(ferrite_type_desc);
  t->owner = owner;
  auto* raw = t.get();
  auto it = types_.emplace(d.name, std::move(t)).first;
  raw->name = it->first;
  raw->desc.name = it->first.c_str();
  return raw;
}

const ferrite_type* Registry::FindType(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

const ferrite_type* Registry::FindTypeByRdb(int rdb_type) const {
  std::lock_guard lk(mu_);
  for (auto& [n, t] : types_) {
    if (t->desc.rdb_type == rdb_type) return t.get();
    if (t->desc.rdb_load_types)
      for (const int* p = t->desc.rdb_load_types; *p != -1; p++)
        if (*p == rdb_type) return t.get();
  }
  return nullptr;
}

void Registry::RemoveTypes(const std::vector<std::string>& names) {
  std::lock_guard lk(mu_);
  for (auto& n : names) types_.erase(n);
}

std::vector<const ferrite_type*> Registry::Types() const {
  std::lock_guard lk(mu_);
  std::vector<const ferrite_type*> r;
  for (auto& [n, t] : types_) r.push_back(t.get());
  return r;
}

bool Registry::AddProtocol(const ferrite_protocol_desc& d, void* state, ferrite_plugin* owner) {
  std::lock_guard lk(mu_);
  for (auto& p : protocols_)
    if (p->name == d.name) return false;
  auto p = std::make_shared<Protocol>();
  p->desc = ferrite_protocol_desc{};
  memcpy(&p->desc, &d, std::min(d.struct_size, sizeof(ferrite_protocol_desc)));
  p->name = d.name ? d.name : "";
  p->listener = d.listener ? d.listener : "main";
  p->state = state;
  p->owner = owner;
  protocols_.push_back(std::move(p));
  return true;
}

std::vector<std::shared_ptr<Protocol>> Registry::Protocols() const {
  std::lock_guard lk(mu_);
  return protocols_;
}

void Registry::RemoveProtocols(const std::vector<std::string>& names) {
  std::lock_guard lk(mu_);
  protocols_.erase(std::remove_if(protocols_.begin(), protocols_.end(),
                                  [&](auto& p) {
                                    return std::find(names.begin(), names.end(), p->name) !=
                                           names.end();
                                  }),
                   protocols_.end());
}

ferrite_plugin* Registry::FindPlugin(std::string_view name) const {
  std::lock_guard lk(mu_);
  for (auto& p : plugins_)
    if (p->name == name) return p.get();
  return nullptr;
}

void Registry::AddPlugin(std::unique_ptr<ferrite_plugin> p) {
  std::lock_guard lk(mu_);
  plugins_.push_back(std::move(p));
}

std::unique_ptr<ferrite_plugin> Registry::TakePlugin(std::string_view name) {
  std::lock_guard lk(mu_);
  for (auto it = plugins_.begin(); it != plugins_.end(); ++it)
    if ((*it)->name == name) {
      auto p = std::move(*it);
      plugins_.erase(it);
      return p;
    }
  return nullptr;
}

std::vector<ferrite_plugin*> Registry::Plugins() const {
  std::lock_guard lk(mu_);
  std::vector<ferrite_plugin*> r;
  for (auto& p : plugins_) r.push_back(p.get());
  return r;
}

}  // namespace ferrite::host
