#include "host/logging.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "host/config.h"

namespace ferrite::host {
namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";

// Our own table rather than spdlog's global registry: several hosts (tests) in one
// process ask for the same names, and the registry throws on duplicates.
struct State {
  std::mutex mu;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

State& S() {
  // NOTE: leaked on purpose; loggers may be used from static destructors.
  static State* s = [] {
    auto* st = new State;
    st->sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    st->sink->set_pattern(kPattern);
    return st;
  }();
  return *s;
}

std::optional<spdlog::level::level_enum> ParseLevel(std::string_view l) {
  using spdlog::level::level_enum;
  static const std::pair<std::string_view, level_enum> kLevels[] = {
      {"trace", level_enum::trace},  {"debug", level_enum::debug}, {"verbose", level_enum::debug},
      {"info", level_enum::info},    {"notice", level_enum::info}, {"warn", level_enum::warn},
      {"warning", level_enum::warn}, {"error", level_enum::err},   {"off", level_enum::off}};
  for (auto& [name, lvl] : kLevels)
    if (name == l) return lvl;
  return std::nullopt;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(const std::string& dotted_name) {
  State& s = S();
  std::lock_guard lk(s.mu);
  auto it = s.loggers.find(dotted_name);
  if (it != s.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(dotted_name, s.sink);
  logger->set_level(s.level);
  logger->flush_on(spdlog::level::trace);  // a server log is read while it runs
  s.loggers.emplace(dotted_name, logger);
  return logger;
}

bool SetLogLevel(std::string_view level) {
  auto lvl = ParseLevel(level);
  if (!lvl) return false;
  State& s = S();
  std::lock_guard lk(s.mu);
  s.level = *lvl;
  for (auto& [name, logger] : s.loggers) logger->set_level(*lvl);
  return true;
}

void SetupLogging(const Config& config) {
  std::string file = config.String("logging.file");
  spdlog::sink_ptr sink;
  if (file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    // NOTE: spdlog would create missing parent directories; a typo in the path should
    // stop startup instead of silently logging somewhere new.
    std::error_code ec;
    auto parent = std::filesystem::path(file).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
      throw ConfigError("logging.file: cannot open '" + file + "': no such directory");
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw ConfigError("logging.file: cannot open '" + file + "': " + e.what());
    }
  }
  sink->set_pattern(kPattern);
  {
    State& s = S();
    std::lock_guard lk(s.mu);
    s.sink = sink;
    // NOTE: swapping sinks under a logger is not thread-safe in spdlog; this runs at
    // startup, before any worker thread logs.
    for (auto& [name, logger] : s.loggers) logger->sinks() = {sink};
  }
  SetLogLevel(config.String("logging.level"));
}

void SetupLogging(Config& config) {
  SetupLogging(static_cast<const Config&>(config));
  config.OnChange("loglevel", [&config] { SetLogLevel(config.String("logging.level")); });
}

}  // namespace ferrite::host
