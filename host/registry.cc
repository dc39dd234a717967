#include "host/registry.h"

#include "host/acl/acl.h"

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

// ASCII lower case of 8 bytes at once (SWAR): adds 0x20 to exactly the bytes 'A'..'Z'.
uint64_t LowerAscii(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ull, kHigh = 0x80 * k01;
  uint64_t b = w & (0x7f * k01);                 // no carry can cross a byte below
  uint64_t ge_a = b + (0x80 - 'A') * k01;        // bit 7: byte >= 'A'
  uint64_t gt_z = b + (0x80 - 'Z' - 1) * k01;    // bit 7: byte > 'Z'
  return w | ((ge_a & ~gt_z & ~w & kHigh) >> 2);  // ~w: not for bytes >= 0x80
}

uint64_t Load64(const char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

uint64_t Load32(const char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

}  // namespace

// The first 16 bytes of a name, lower-cased, in two words; for a name shorter than that
// the loads overlap (xxh3's trick), which never reads outside the name and is still a
// one-to-one encoding for a given length. Names longer than 16 compare their tail.
Registry::Folded Registry::Fold(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t w0 = 0, w1 = 0;
  if (n >= 8) {
    w0 = Load64(p);
    w1 = Load64(n >= 16 ? p + 8 : p + n - 8);
  } else if (n >= 4) {
    w0 = Load32(p) | Load32(p + n - 4) << 32;
  } else if (n > 0) {
    w0 = static_cast<uint8_t>(p[0]) | static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8 |
         static_cast<uint64_t>(static_cast<uint8_t>(p[n - 1])) << 16;
  }
  Folded f{LowerAscii(w0), LowerAscii(w1), 0};
  uint64_t h = (f.w0 ^ n) * 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 29) ^ f.w1) * 0xff51afd7ed558ccdull;
  f.hash = h ^ (h >> 32);
  return f;
}

namespace {

// The tail of a name longer than 16 bytes; `lower` is already lower case.
bool TailEqualFold(std::string_view name, const std::string& lower) {
  for (size_t i = 16; i < name.size(); i++) {
    unsigned char ch = static_cast<unsigned char>(name[i]);
    if (static_cast<unsigned>(ch - 'A') < 26u) ch |= 0x20;
    if (ch != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

}  // namespace

bool Command::Keys(int argc, const ferrite_slice* argv, std::vector<int>& out) const {
  out.clear();
  return ForEachKey(argc, argv, [&](int i) { out.push_back(i); });
}

const Subcommand* Command::FindSubcommand(int argc, const ferrite_slice* argv) const {
  if (subcommands.empty() || argc < 2) return nullptr;
  std::string_view want(argv[1].ptr, argv[1].len);
  for (const auto& s : subcommands) {
    if (s.name.size() != want.size()) continue;
    bool same = true;
    for (size_t i = 0; i < want.size() && same; i++)
      same = std::tolower(static_cast<unsigned char>(want[i])) == s.name[i];
    if (same) return &s;
  }
  return nullptr;
}

void Command::SetSubcommands(const ferrite_subcommand_desc* subs, size_t n) {
  subcommands.clear();
  for (size_t i = 0; i < n; i++) {
    if (!subs[i].name) continue;
    Subcommand s;
    s.name = Lower(subs[i].name);
    s.fullname = Lower(name) + "|" + s.name;
    s.arity = subs[i].arity;
    s.flags = (flags & ~uint32_t{FERRITE_CMD_SUBCOMMAND_FLAGS}) |
              (subs[i].flags & FERRITE_CMD_SUBCOMMAND_FLAGS);
    subcommands.push_back(std::move(s));
  }
}

Registry::Snapshot::Snapshot(CommandMap m) : map(std::move(m)) {
  size_t n = 2;
  while (n < map.size() * 2) n *= 2;  // load factor <= 1/2: probes stay short
  slots.resize(n);
  mask = n - 1;
  for (auto& [name, cmd] : map) {
    Folded f = Fold(name);
    size_t i = f.hash & mask;
    while (slots[i].cmd) i = (i + 1) & mask;
    slots[i] = {f.w0, f.w1, name.size(), cmd.get()};
  }
}

const Command* Registry::Snapshot::Find(std::string_view name) const {
  Folded f = Fold(name);
  for (size_t i = f.hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots[i];
    if (!s.cmd) return nullptr;
    if (s.w0 == f.w0 && s.w1 == f.w1 && s.len == name.size() &&
        (name.size() <= 16 || TailEqualFold(name, s.cmd->name)))
      return s.cmd;
  }
}

Registry::Registry() {
  snapshots_.push_back(std::make_unique<const Snapshot>(CommandMap{}));
  snapshot_.store(snapshots_.back().get(), std::memory_order_release);
}

Registry::~Registry() {
  for (auto& [n, t] : types_) ReleaseTypeId(t.get());
}

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
  // Named rather than flagged: the scripting plugin's table predates the distinction.
  static constexpr std::string_view kScripts[] = {"eval",    "evalsha",    "eval_ro",
                                                  "evalsha_ro", "fcall", "fcall_ro"};
  if (c->name == "exec") c->lock_rule = Command::LockRule::kExec;
  for (auto n : kScripts)
    if (c->name == n) c->lock_rule = Command::LockRule::kScript;
  acl::DescribeCommand(*c, c->acl_declared);
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
  if (!AssignTypeId(t.get())) return nullptr;
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
  for (auto& n : names) {
    auto it = types_.find(n);
    if (it == types_.end()) continue;
    ReleaseTypeId(it->second.get());
    types_.erase(it);
  }
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
