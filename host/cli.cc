#include "host/cli.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#ifndef FERRITE_VERSION
#define FERRITE_VERSION "unknown"
#endif

namespace ferrite::host {
namespace {

// Short flags and the setting each one stands for.
constexpr std::pair<std::string_view, std::string_view> kShortcuts[] = {
    {"port", "server.port"},
    {"bind", "server.bind"},
    {"threads", "server.threads"},
    {"loglevel", "logging.level"},
};

[[noreturn]] void Fail(const std::string& why) { throw ConfigError("command line: " + why); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

CliOptions ParseCommandLine(int argc, char** argv) {
  CliOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i == 1 && !arg.starts_with("-") && EndsWith(arg, ".toml")) {
      o.config_path = arg;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      continue;
    }
    if (arg == "--version" || arg == "-v") {
      o.version = true;
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2)
      Fail("unexpected argument '" + std::string(arg) + "' (see --help)");
    // "--name value" or "--name=value"
    std::string name(arg.substr(2)), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else {
      if (i + 1 >= argc) Fail("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "config") {
      o.config_path = value;
      continue;
    }
    auto sc = std::find_if(std::begin(kShortcuts), std::end(kShortcuts),
                           [&](auto& s) { return s.first == name; });
    if (sc != std::end(kShortcuts)) {
      o.overrides.emplace_back(sc->second, value);
    } else if (size_t dot = name.find('.'); dot != std::string::npos && dot > 0 &&
                                           dot + 1 < name.size()) {
      o.overrides.emplace_back(name, value);
    } else {
      Fail("unknown option '--" + name + "' (see --help)");
    }
  }
  return o;
}

void ApplyCommandLine(const CliOptions& options, Config& config) {
  if (!options.config_path.empty()) config.LoadFile(options.config_path);
  for (auto& [addr, value] : options.overrides) config.Override(addr, value);
}

std::string HelpText(const Config& config) {
  std::string out =
      "Usage: ferrite-host [ferrite.toml] [options]\n"
      "\n"
      "Options:\n"
      "  --config FILE          read settings from FILE (TOML)\n"
      "  --port N               same as --server.port N\n"
      "  --bind ADDR            same as --server.bind ADDR\n"
      "  --threads N            same as --server.threads N (0 = number of cores)\n"
      "  --loglevel L           same as --logging.level L\n"
      "  --section.key VALUE    set any setting below (also --section.key=VALUE)\n"
      "  --version              print the version and exit\n"
      "  --help                 print this help and exit\n"
      "\n"
      "Settings (TOML address, type, default; CONFIG GET/SET name, * = settable at run time):\n";
  for (auto& d : config.Describe()) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-44s %-7s %-26s %s%s\n", d.toml_address.c_str(),
                  d.type.c_str(), d.default_value.c_str(), d.redis_name.c_str(),
                  d.mutable_at_runtime && !d.redis_name.empty() ? " *" : "");
    out += line;
    if (!d.help.empty()) out += "      " + d.help + "\n";
  }
  return out;
}

std::string VersionText() { return std::string("ferrite-host ") + FERRITE_VERSION; }

}  // namespace ferrite::host
