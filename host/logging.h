// Logging for the host and (through the host API) for plugins: one set of sinks
// (stderr or logging.file, plus syslog when logging.syslog_enabled), one pattern, and a
// named logger per subsystem ("host.net", "module.lists") so lines say where they come
// from.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace ferrite::host {

class Config;

// Installs the sinks (logging.file, or stderr when empty; syslog with syslog_ident and
// syslog_facility when syslog_enabled) and level (logging.level). Throws ConfigError
// when the log file cannot be opened. Loggers created before this call are moved onto
// the new sinks.
void SetupLogging(const Config& config);
// Same, and also follows CONFIG SET loglevel (Config::OnChange) from then on.
void SetupLogging(Config& config);

// Reopens logging.file by name (after logrotate renamed it: SIGHUP). Returns false when
// logging goes to stderr; throws spdlog::spdlog_ex if the file cannot be opened.
bool ReopenLogFile();

// The logger named `dotted_name`, created on first use with the shared sink and the
// current level. Safe from any thread; works (to stderr) before SetupLogging.
std::shared_ptr<spdlog::logger> Logger(const std::string& dotted_name);

// Sets every logger's level: trace, debug, info, warn, error, off, or Redis' names
// (debug, verbose, notice, warning). Returns false (and changes nothing) if unknown.
bool SetLogLevel(std::string_view level);

}  // namespace ferrite::host
