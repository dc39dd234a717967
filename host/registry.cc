#include "host/registry.h"

#include <algorithm>
#include <cctype>

namespace ferrite::host {

namespace {
std::string Lower(std::string_view s) {
  std::string r(s);
  for (auto& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return r;
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

const Command* Registry::Find(std::string_view name) const {
  char buf[64];
  if (name.size() >= sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); i++)
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  auto map = std::atomic_load(&commands_);
  auto it = map->find(std::string(buf, name.size()));
  return it == map->end() ? nullptr : it->second.get();
}

bool Registry::AddCommand(std::shared_ptr<Command> c) {
  std::lock_guard lk(mu_);
  c->name = Lower(c->name);
  c->upper = c->name;
  for (auto& ch : c->upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto cur = std::atomic_load(&commands_);
  if (cur->count(c->name)) return false;
  auto next = std::make_shared<CommandMap>(*cur);
  (*next)[c->name] = std::move(c);
  std::atomic_store(&commands_, std::shared_ptr<const CommandMap>(std::move(next)));
  return true;
}

void Registry::RemoveCommands(const std::vector<std::string>& names) {
  std::lock_guard lk(mu_);
  auto next = std::make_shared<CommandMap>(*std::atomic_load(&commands_));
  for (auto& n : names) next->erase(Lower(n));
  std::atomic_store(&commands_, std::shared_ptr<const CommandMap>(std::move(next)));
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
