// Plugin loading through Boost.DLL. A plugin exports describe/load/unload; the host
// rejects a different ABI major, a duplicate name, or a failing load — and in every
// failure case undoes whatever the plugin registered, so the registry is unchanged.
#define BOOST_DLL_USE_STD_FS
#include <boost/dll/shared_library.hpp>
#include <boost/dll/runtime_symbol_info.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>

#include "host/context.h"
#include "host/info.h"
#include "host/logging.h"

#ifndef FERRITE_BUILD_PLUGIN_DIR
#define FERRITE_BUILD_PLUGIN_DIR ""
#endif

namespace fs = std::filesystem;

namespace ferrite::host {

namespace {

void Undo(Host* h, ferrite_plugin* p) {
  h->registry().RemoveCommands(p->commands);
  h->registry().RemoveTypes(p->types);
  h->registry().RemoveProtocols(p->protocols);
  h->RemoveEventSubscribers(p);
  h->RemoveSubscriptionListers(p);
  RemoveInfoFields(h, p);
  h->config().UnregisterModule(p->name);
  p->commands.clear();
  p->types.clear();
  p->protocols.clear();
}

}  // namespace

std::string Host::BundledPluginDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path();
    if (fs::is_directory(dir / "plugins")) return (dir / "plugins").string();
    fs::path installed = dir.parent_path() / "lib" / "ferrite" / "plugins";
    if (fs::is_directory(installed)) return installed.string();
  }
  return FERRITE_BUILD_PLUGIN_DIR;
}

std::vector<std::string> Host::PluginSearchPath() const {
  std::vector<std::string> dirs = config_->StringList("modules.path");
  std::string bundled = BundledPluginDir();
  if (!bundled.empty()) dirs.push_back(bundled);
  if (std::string(FERRITE_BUILD_PLUGIN_DIR) != bundled && *FERRITE_BUILD_PLUGIN_DIR)
    dirs.push_back(FERRITE_BUILD_PLUGIN_DIR);
  return dirs;
}

void Host::LoadConfiguredPlugins() {
  std::vector<std::string> names = config_->StringList("modules.load");
  {
    std::string dirs;
    for (auto& d : PluginSearchPath()) dirs += (dirs.empty() ? "" : ", ") + d;
    Logger("host.loader")->debug("plugin search path: {}", dirs);
  }
  if (names.empty()) {
    std::string dir = BundledPluginDir();
    std::error_code ec;
    for (auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".so") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    if (names.empty())
      throw std::runtime_error("no plugins found in '" + dir + "' (and [modules] load is empty)");
  }
  for (auto& n : names) {
    std::string err = LoadPlugin(n);
    if (!err.empty()) throw std::runtime_error(err);
  }
  LoadMissingProtocols();
  auto unclaimed = config_->UnclaimedModuleOptions();
  if (!unclaimed.empty()) {
    std::string msg = "unknown module option(s):";
    for (auto& u : unclaimed) msg += " " + u;
    throw std::runtime_error(msg);
  }
}

// A [modules] load list usually names command modules only; the listeners still need
// their wire protocols. Each listener that will open and has no protocol gets the
// bundled plugins for it, with a log line saying so; if they cannot be found, startup
// stops with the names to add.
void Host::LoadMissingProtocols() {
  struct Need {
    const char* listener;
    bool wanted;
    std::vector<std::string> plugins;
  };
  const Need needs[] = {
      {"main", true, {"resp"}},
      {"memcached", config_->Bool("compatibility.memcached_protocol") ||
                        config_->Int("compatibility.memcached_tls_port") != 0,
       {"memcached_text", "memcached_binary"}},
  };
  for (auto& need : needs) {
    if (!need.wanted) continue;
    bool served = false;
    for (auto& p : registry_.Protocols()) served |= p->listener == std::string(need.listener);
    if (served) continue;
    std::string list;
    for (auto& n : need.plugins) list += (list.empty() ? "\"" : ", \"") + n + "\"";
    for (auto& n : need.plugins) {
      if (registry_.FindPlugin(n)) continue;
      std::string err = LoadPlugin(n);
      if (!err.empty())
        throw std::runtime_error("[modules] load names no protocol plugin for the " +
                                 std::string(need.listener) + " listener and the bundled one " +
                                 "could not be loaded (" + err + "): add " + list +
                                 " to [modules] load, or [modules] path to find them");
    }
    Logger("host.loader")->info("[modules] load names no protocol plugin for the {} listener: "
                                "loaded {} as well", need.listener, list);
  }
}

std::string Host::LoadPlugin(const std::string& name_or_path) {
  std::string err = TryLoadPlugin(name_or_path);
  if (!err.empty()) Logger("host.loader")->warn("Module {} failed to load: {}", name_or_path, err);
  return err;
}

std::string Host::TryLoadPlugin(const std::string& name_or_path) {
  Registry::Batch batch(registry_);  // workers see the plugin's commands all at once
  auto log = Logger("host.loader");
  fs::path path;
  if (name_or_path.find('/') != std::string::npos) {
    path = name_or_path;
  } else {
    for (auto& d : PluginSearchPath()) {
      fs::path cand = fs::path(d) / (name_or_path + ".so");
      if (fs::exists(cand)) {
        path = cand;
        break;
      }
    }
    if (path.empty()) return "plugin '" + name_or_path + "' not found in the plugin search path";
  }
  // NOTE: Boost.DLL turns every dlopen failure into EBADF ("Bad file descriptor"); open
  // it once ourselves first so the reply and the log carry dlerror()'s reason (missing
  // file, wrong ELF class, undefined symbol, ...). Boost's load then only takes a
  // second reference.
  void* probe = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    const char* why = dlerror();
    return "cannot load plugin '" + path.string() + "': " + (why ? why : "dlopen failed");
  }
  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    dlclose(probe);
    return "cannot load plugin '" + path.string() + "': " + e.what();
  }
  dlclose(probe);
  log->debug("opened {}", path.string());
  if (!lib->has("ferrite_plugin_describe") || !lib->has("ferrite_plugin_load"))
    return "'" + path.string() + "' is not a Ferrite plugin (no ferrite_plugin_describe/load)";
  auto describe = lib->get<const ferrite_plugin_info*()>("ferrite_plugin_describe");
  const ferrite_plugin_info* info = describe();
  if (!info || !info->name) return "plugin '" + path.string() + "' describes itself as nothing";
  if (info->abi_major != FERRITE_ABI_MAJOR) {
    std::string msg = "plugin '" + std::string(info->name) + "' (" + path.string() +
                      ") was built for SDK ABI " + std::to_string(info->abi_major) + "." +
                      std::to_string(info->abi_minor) + ", this host speaks ABI " +
                      std::to_string(FERRITE_ABI_MAJOR) + "." + std::to_string(FERRITE_ABI_MINOR) +
                      ": refusing to load it";
    return msg;
  }
  if (registry_.FindPlugin(info->name))
    return "plugin '" + std::string(info->name) + "' is already loaded";
  auto p = std::make_unique<ferrite_plugin>();
  p->name = info->name;
  p->path = path.string();
  p->version = info->version;
  p->host = this;
  p->library = lib;
  if (lib->has("ferrite_plugin_unload"))
    p->unload = lib->get<void(const ferrite_host_api*, ferrite_plugin*)>("ferrite_plugin_unload");
  auto load = lib->get<int(const ferrite_host_api*, ferrite_plugin*)>("ferrite_plugin_load");
  p->loading = true;
  SetCurrentHost(this);
  int rc = FERRITE_ERR;
  try {
    rc = load(HostApi(), p.get());
  } catch (...) {
    rc = FERRITE_ERR;
  }
  p->loading = false;
  if (rc != FERRITE_OK) {
    Undo(this, p.get());
    return "plugin '" + p->name + "' failed to load (see the log above)";
  }
  log->info("loaded plugin {} v{} from {} ({} commands, {} types, {} protocols)", p->name,
            p->version, p->path, p->commands.size(), p->types.size(), p->protocols.size());
  registry_.AddPlugin(std::move(p));
  return "";
}

std::string Host::UnloadPlugin(const std::string& name) {
  Registry::Batch batch(registry_);
  ferrite_plugin* p = registry_.FindPlugin(name);
  if (!p) return "ERR Error unloading module: no such module with that name";
  if (!shutting_down && !p->types.empty())
    return "ERR Error unloading module: the module exports one or more module-side data "
           "types, can't unload";
  if (!shutting_down && !p->protocols.empty())
    return "ERR Error unloading module: the module serves a protocol, can't unload";
  auto owned = registry_.TakePlugin(name);
  Undo(this, owned.get());
  if (owned->unload) owned->unload(HostApi(), owned.get());
  return "";
}

}  // namespace ferrite::host
