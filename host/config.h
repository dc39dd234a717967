// Ferrite's configuration: one registry of typed settings, read from ferrite.toml
// (toml11), overridden on the command line (`--section.key value`), and read or
// changed at run time by CONFIG GET/SET under Redis' names.
//
// Each setting has: a TOML address ("server.port"), a Redis name ("port") used by
// CONFIG GET/SET, a type, a default, bounds, and whether CONFIG SET may change it.
// Numeric settings live in std::atomic<int64_t> so worker threads read them without a
// lock; string settings are copied out under a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ferrite::host {

// Startup error: the message names the file, the line and the key.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class SettingType { kInt, kBool, kString, kEnum, kMemory };

class Config {
 public:
  Config();  // every setting at its default
  ~Config();
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  // Reads a TOML file. Unknown sections/keys and bad values throw ConfigError with
  // "<file>:<line>: <section.key>: <why>".
  void LoadFile(const std::string& path);
  // Applies one "section.key" = "value" override (command line). Throws ConfigError.
  void Override(std::string_view toml_address, std::string_view value);

  // Typed reads by TOML address ("server.port"). Unknown names are a programming error
  // (std::logic_error). Memory settings parse "1gb", "512mb", "1073741824".
  int64_t Int(std::string_view toml_address) const;
  bool Bool(std::string_view toml_address) const;
  std::string String(std::string_view toml_address) const;
  // Direct pointer to an int/bool/memory/enum(index) setting's atomic for hot paths.
  // Enum indexes follow Redis' order (Describe() lists them): maxmemory-policy
  // volatile-lru=0 volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu
  // allkeys-random noeviction=7; appendfsync everysec=0 always=1 no=2; role master=0
  // replica=1; loglevel trace=0 debug info warn error off=5. Strings throw logic_error.
  // NOTE: a module option's pointer dies with UnregisterModule.
  const std::atomic<int64_t>* IntRef(std::string_view toml_address) const;

  // CONFIG GET <glob>: (redis-name, value) pairs, Redis' value formatting.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view glob) const;
  // CONFIG SET name value. Returns an error message (Redis' text without "ERR ") or
  // nullopt on success. Runs on-change callbacks.
  std::optional<std::string> Set(std::string_view redis_name, std::string_view value);
  // CONFIG SET name value [name value ...], all or nothing as in Redis 7: every value is
  // parsed first; then all are set and each distinct apply function (OnApply) of the
  // settings runs once; if one fails, every value is restored, the apply functions run
  // again, and its error is returned. On-change callbacks run after a success.
  std::optional<std::string> SetMany(
      const std::vector<std::pair<std::string, std::string>>& name_values);
  // CONFIG REWRITE: writes the current values back to the file it was loaded from.
  std::optional<std::string> Rewrite();
  std::string path() const;

  // Module options: registered at plugin load under [modules.<plugin>] <name> in TOML
  // and <name> for CONFIG GET/SET. storage is written on every change.
  void RegisterModuleInt(const std::string& plugin, const std::string& name, int64_t def,
                         int64_t min, int64_t max, int64_t* storage);
  void UnregisterModule(const std::string& plugin);

  // Called after a successful CONFIG SET of `redis_name`.
  void OnChange(std::string redis_name, std::function<void()> fn);
  // Makes a CONFIG SET of `redis_name` take effect, or fail with a reason (Redis' apply
  // functions: opening a port, loading certificates). One function shared by several
  // settings runs once per CONFIG SET. Runs without the config lock.
  using ApplyFn = std::function<std::optional<std::string>()>;
  void OnApply(std::string redis_name, std::shared_ptr<const ApplyFn> fn);
  // Drops every apply function (their owner, the server, is going away).
  void ClearApply();
  // A check CONFIG SET runs on an int setting after parsing, with the new and current
  // values: a returned text refuses the change ("CONFIG SET failed ... - <text>"). It
  // runs under the config lock, so it must not read the config. Replaces an earlier one.
  void SetRuntimeCheck(std::string_view toml_address,
                       std::function<std::optional<std::string>(int64_t, int64_t)> fn);

  // For --help and the default ferrite.toml: every setting with its default.
  struct Description {
    std::string toml_address, redis_name, type, default_value, help;
    bool mutable_at_runtime;
  };
  std::vector<Description> Describe() const;

  // modules.load / modules.path (TOML arrays of strings; "a,b" on the command line).
  std::vector<std::string> StringList(std::string_view toml_address) const;
  // Module options set in the file or on the command line that no plugin registered;
  // each entry reads "<file>:<line>: modules.<plugin>.<key>". The host calls this after
  // loading every plugin and fails startup when it is not empty.
  std::vector<std::string> UnclaimedModuleOptions() const;

  // A parameter whose value lives elsewhere (Redis' special configs): CONFIG GET answers
  // get() under `name` and `alias` (either may be named, a pattern lists both), CONFIG
  // SET refuses it as immutable. `get` runs without the config lock. Replaces an earlier
  // view of that name; DropView forgets it (its owner is going away).
  void SetView(std::string name, std::string alias, std::function<std::string()> get);
  void DropView(std::string_view name);

  // Lookups by Redis name for the host API's config_int / config_string. Ints, bools
  // (0/1), memory (bytes) and enums (index) answer IntByRedisName; every CONFIG GET
  // visible setting answers StringByRedisName in CONFIG GET form. nullopt if unknown.
  std::optional<int64_t> IntByRedisName(std::string_view redis_name) const;
  std::optional<std::string> StringByRedisName(std::string_view redis_name) const;

 private:
  struct Setting;
  struct Parsed;
  void Add(std::unique_ptr<Setting> s);
  void AddBuiltins();
  Setting& Find(std::string_view toml_address) const;  // caller holds mu_; logic_error
  // Parses `text` for `s`; returns Redis' "why" text on failure.
  std::optional<std::string> ParseValue(const Setting& s, std::string_view text,
                                        Parsed& out) const;
  void Apply(Setting& s, const Parsed& v);  // caller holds mu_
  std::string Format(const Setting& s) const;  // the ferrite.toml form; caller holds mu_
  std::string FormatRedis(const Setting& s) const;  // CONFIG GET form; caller holds mu_
  std::string TomlLiteral(const Setting& s) const;  // caller holds mu_
  std::string DefaultLiteral(const Setting& s) const;
  std::string ClientOutputBufferLimit() const;  // caller holds mu_
  // Parses client-output-buffer-limit's value into new values of its class settings;
  // caller holds mu_. Returns Redis' "why" text on failure.
  std::optional<std::string> ParseClientOutputBufferLimit(
      std::string_view value, std::vector<std::pair<Setting*, int64_t>>& out) const;
  std::string RewriteText(const std::string& original) const;  // caller holds mu_
  void ApplyModuleValue(Setting& s, const std::string& text, const std::string& where);

  std::string source_name_;  // "<file>" of the loaded file, for pending module values
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Setting>> settings_;
  std::map<std::string, Setting*, std::less<>> by_toml_, by_redis_;
  std::map<std::string, std::vector<std::function<void()>>, std::less<>> on_change_;
  std::map<std::string, std::shared_ptr<const ApplyFn>, std::less<>> on_apply_;
  struct View {
    std::string name, alias;
    std::shared_ptr<const std::function<std::string()>> get;
  };
  std::vector<View> views_;
  std::string path_;
  // Module options seen in the file before their plugin registered them.
  std::map<std::string, std::pair<std::string, int>, std::less<>> pending_module_values_;
};

}  // namespace ferrite::host
