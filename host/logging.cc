#include "host/logging.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <syslog.h>

#include <spdlog/details/file_helper.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>

#include "host/config.h"

namespace ferrite::host {
namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";
// syslog stamps time, host and ident itself.
constexpr const char* kSyslogPattern = "[%n] %v";

// logging.file: appends to the file, and reopens it by name on demand (SIGHUP after
// logrotate moved it away), under the sink's own lock so no line is lost or torn.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) { file_.open(path, false); }
  void Reopen() {
    std::lock_guard lk(mutex_);
    file_.reopen(false);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    file_.write(buf);
  }
  void flush_() override { file_.flush(); }

 private:
  spdlog::details::file_helper file_;
};

// Our own table rather than spdlog's global registry: several hosts (tests) in one
// process ask for the same names, and the registry throws on duplicates.
struct State {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  std::shared_ptr<ReopenableFileSink> file;  // also in sinks, when logging.file is set
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

State& S() {
  // NOTE: leaked on purpose; loggers may be used from static destructors.
  static State* s = [] {
    auto* st = new State;
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern(kPattern);
    st->sinks = {sink};
    return st;
  }();
  return *s;
}

int SyslogFacility(const std::string& name) {
  static const std::pair<std::string_view, int> kFacilities[] = {
      {"user", LOG_USER},     {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (auto& [n, f] : kFacilities)
    if (n == name) return f;
  return LOG_LOCAL0;  // the config's enum admits only the names above
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
  auto logger = std::make_shared<spdlog::logger>(dotted_name, s.sinks.begin(), s.sinks.end());
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
  std::vector<spdlog::sink_ptr> sinks;
  std::shared_ptr<ReopenableFileSink> file_sink;
  if (file.empty()) {
    sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  } else {
    // NOTE: spdlog would create missing parent directories; a typo in the path should
    // stop startup instead of silently logging somewhere new.
    std::error_code ec;
    auto parent = std::filesystem::path(file).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
      throw ConfigError("logging.file: cannot open '" + file + "': no such directory");
    try {
      file_sink = std::make_shared<ReopenableFileSink>(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw ConfigError("logging.file: cannot open '" + file + "': " + e.what());
    }
    sinks.push_back(file_sink);
  }
  for (auto& sink : sinks) sink->set_pattern(kPattern);
  if (config.Bool("logging.syslog_enabled")) {
    // As Redis: syslog in addition to the log file (or stderr), with LOG_PID.
    auto sys = std::make_shared<spdlog::sinks::syslog_sink_mt>(
        config.String("logging.syslog_ident"), LOG_PID,
        SyslogFacility(config.String("logging.syslog_facility")), true);
    // No end-of-line: syslog takes one message per datagram.
    sys->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        kSyslogPattern, spdlog::pattern_time_type::local, std::string()));
    sinks.push_back(sys);
  }
  {
    State& s = S();
    std::lock_guard lk(s.mu);
    s.sinks = sinks;
    s.file = file_sink;
    // NOTE: swapping sinks under a logger is not thread-safe in spdlog; this runs at
    // startup, before any worker thread logs.
    for (auto& [name, logger] : s.loggers) logger->sinks() = sinks;
  }
  SetLogLevel(config.String("logging.level"));
}

bool ReopenLogFile() {
  std::shared_ptr<ReopenableFileSink> file;
  {
    State& s = S();
    std::lock_guard lk(s.mu);
    file = s.file;
  }
  if (!file) return false;
  file->Reopen();  // throws spdlog_ex if the file cannot be created again
  return true;
}

void SetupLogging(Config& config) {
  SetupLogging(static_cast<const Config&>(config));
  config.OnChange("loglevel", [&config] { SetLogLevel(config.String("logging.level")); });
}

}  // namespace ferrite::host
