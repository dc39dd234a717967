// ferrite-host's command line:
//   ferrite-host [ferrite.toml] [--config FILE] [--port N] [--bind ADDR] [--threads N]
//                [--loglevel L] [--section.key VALUE ...] [--version] [--help]
// Parsing only checks the shape; values are validated by Config::Override, so a bad
// one reads "command line: server.port: ..." exactly like a bad line in the file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "host/config.h"

namespace ferrite::host {

struct CliOptions {
  std::string config_path;
  // (toml address, value) in command-line order; later ones win.
  std::vector<std::pair<std::string, std::string>> overrides;
  bool help = false, version = false;
};

// Throws ConfigError ("command line: ...") on an unknown flag or a missing value.
CliOptions ParseCommandLine(int argc, char** argv);

// Loads options.config_path (if any) into config, then applies the overrides in order.
// Throws ConfigError.
void ApplyCommandLine(const CliOptions& options, Config& config);

// --help: usage, the flags, and every setting with its type, default and Redis name.
std::string HelpText(const Config& config);
// --version: "ferrite-host <version>".
std::string VersionText();

}  // namespace ferrite::host
