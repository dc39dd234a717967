// Private to host/config*.cc: the Setting record and the value helpers shared by the
// registry (config.cc) and the file side (config_file.cc: load, override, modules,
// rewrite, describe). Nothing outside the config library includes this.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "host/config.h"

namespace ferrite::host {

namespace config_detail {
constexpr int64_t kI64Max = INT64_MAX;
constexpr int64_t kMb = 1024 * 1024;

std::string Lower(std::string_view s);
// Redis 7.0's legacy name for `redis_name` ("hash-max-ziplist-entries" for
// "hash-max-listpack-entries"), or "".
std::string RedisAliasOf(std::string_view redis_name);
std::vector<std::string> SplitWords(std::string_view s);
std::string Join(const std::vector<std::string>& v, std::string_view sep);
// Redis' memtoull: "1gb" = 2^30, "1g" = 10^9, bare digits = bytes.
bool ParseMemory(std::string_view s, int64_t& out);
// Redis' percent form "N%" (N >= 0), returned as -N.
bool ParsePercent(std::string_view s, int64_t& out);
// A memory value as CONFIG GET shows it: bytes, or "N%" for a percentage (-N).
std::string FormatMemory(int64_t n);
// A TOML basic string literal, quotes included.
std::string TomlQuote(std::string_view s);
}  // namespace config_detail

struct Config::Parsed {
  int64_t num = 0;
  std::string str;
  std::vector<std::string> items;
};

struct Config::Setting {
  std::string toml, redis, alias;
  SettingType type = SettingType::kInt;
  bool list = false;
  bool mut = false;
  // A memory setting that also takes "N%" (Redis' PERCENT_CONFIG: maxmemory-clients),
  // kept as -N; `min` is then -100.
  bool percent = false;
  int64_t min = 0, max = config_detail::kI64Max;
  std::vector<std::string> choices;
  std::map<std::string, std::string> choice_alias;  // loglevel: "notice" -> "info"
  // CONFIG GET shows a choice under its Redis name where one exists (loglevel: "info" is
  // Redis' "notice"); each shown name is a choice_alias, so a value read back sets the same.
  std::map<std::string, std::string> redis_choice;
  std::string def, help;
  // Post-parse hook: validates and may normalise (save, notify flags) or clamp (hz).
  std::function<std::optional<std::string>(Parsed&)> check;
  // CONFIG SET only, with the current value (Config::SetRuntimeCheck).
  std::function<std::optional<std::string>(int64_t, int64_t)> runtime_check;
  std::atomic<int64_t> num{0};
  std::string str;                 // strings, enums, memory as written ("512mb")
  std::vector<std::string> items;  // lists
  std::string plugin;              // module options only
  int64_t* storage = nullptr;
  std::optional<std::string> loaded;  // TOML literal as loaded from the file
};

}  // namespace ferrite::host
