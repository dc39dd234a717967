#include "host/logging.h"

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "host/config.h"

namespace ferrite::host {
namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";

// logging.file, appended to. Reopen() lets logrotate move the file away: on SIGHUP the
// server opens the path again, creating a new file there (Redis opens its log file per
// line, which has the same effect).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(std::string path) : path_(std::move(path)) {
    file_ = Open();
  }

  // Throws spdlog_ex when the path cannot be opened; the old file is kept then.
  void Reopen() {
    auto fresh = Open();
    std::lock_guard lk(mutex_);
    file_->flush();
    file_ = std::move(fresh);
  }
  const std::string& path() const { return path_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    file_->write(buf);
  }
  void flush_() override { file_->flush(); }

 private:
  std::unique_ptr<spdlog::details::file_helper> Open() const {
    auto f = std::make_unique<spdlog::details::file_helper>();
    f->open(path_, false);
    return f;
  }

  std::string path_;
  std::unique_ptr<spdlog::details::file_helper> file_;
};

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
      sink = std::make_shared<ReopenableFileSink>(file);
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

bool ReopenLogFile(std::string* error) {
  spdlog::sink_ptr sink;
  {
    State& s = S();
    std::lock_guard lk(s.mu);
    sink = s.sink;
  }
  auto* file = dynamic_cast<ReopenableFileSink*>(sink.get());
  if (!file) return false;
  try {
    file->Reopen();
  } catch (const spdlog::spdlog_ex& e) {
    *error = "cannot reopen '" + file->path() + "': " + e.what();
    return false;
  }
  return true;
}

void SetupLogging(Config& config) {
  SetupLogging(static_cast<const Config&>(config));
  config.OnChange("loglevel", [&config] { SetLogLevel(config.String("logging.level")); });
}

}  // namespace ferrite::host
