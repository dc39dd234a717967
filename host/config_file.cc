// The file side of Config: loading ferrite.toml, command-line overrides, module
// options (which may be read before their plugin exists), CONFIG REWRITE and Describe.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "host/config_internal.h"

namespace ferrite::host {
namespace {

using namespace config_detail;
using TomlValue = toml::basic_value<toml::discard_comments, std::map, std::vector>;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// Module option keys are Redis names ("list-max-listpack-size"); in TOML either that
// or the snake_case spelling is accepted, so both map to one pending/lookup key.
std::string ModuleKey(std::string_view plugin, std::string_view name) {
  std::string key(name);
  std::replace(key.begin(), key.end(), '-', '_');
  return std::string(plugin) + "." + key;
}

std::string Where(const std::string& file, int line) {
  return line > 0 ? file + ":" + std::to_string(line) : std::string("command line");
}

// The TOML value as the text CONFIG SET would take, or why its type is wrong.
std::optional<std::string> TomlText(const TomlValue& v, SettingType type, bool list,
                                    std::string& out) {
  if (list) {
    if (!v.is_array()) return "expected an array of strings";
    std::vector<std::string> items;
    for (auto& item : v.as_array()) {
      if (!item.is_string()) return "expected an array of strings";
      items.push_back(item.as_string().str);
    }
    out = Join(items, ",");
    return std::nullopt;
  }
  switch (type) {
    case SettingType::kInt:
      if (!v.is_integer()) return "expected an integer";
      out = std::to_string(v.as_integer());
      return std::nullopt;
    case SettingType::kMemory:
      if (v.is_integer() && v.as_integer() >= 0) out = std::to_string(v.as_integer());
      else if (v.is_string()) out = v.as_string().str;
      else return "expected a size: bytes as an integer or a string like \"64mb\"";
      return std::nullopt;
    case SettingType::kBool:
      if (!v.is_boolean()) return "expected true or false";
      out = v.as_boolean() ? "yes" : "no";
      return std::nullopt;
    case SettingType::kEnum:
    case SettingType::kString:
      if (!v.is_string()) return "expected a string";
      out = v.as_string().str;
      return std::nullopt;
  }
  return "unsupported type";
}


std::string Literal(SettingType type, bool list, int64_t num, const std::string& str,
                    const std::vector<std::string>& items, const std::vector<std::string>& choices) {
  if (list) {
    std::vector<std::string> q;
    for (auto& i : items) q.push_back(TomlQuote(i));
    return "[" + Join(q, ", ") + "]";
  }
  switch (type) {
    case SettingType::kBool: return num ? "true" : "false";
    case SettingType::kInt: return std::to_string(num);
    case SettingType::kMemory: {
      // Keep the units the user wrote ("512mb") unless the stored number differs.
      int64_t n;
      if (num < 0) return TomlQuote(FormatMemory(num));  // a percentage
      bool digits = str.find_first_not_of("0123456789") == std::string::npos;
      if (digits || !ParseMemory(str, n) || n != num) return std::to_string(num);
      return TomlQuote(str);
    }
    case SettingType::kEnum: return TomlQuote(choices[static_cast<size_t>(num)]);
    case SettingType::kString: return TomlQuote(str);
  }
  return {};
}

std::string FirstLine(std::string s) {
  if (s.rfind("[error] ", 0) == 0) s.erase(0, 8);
  return s.substr(0, s.find('\n'));
}

}  // namespace

std::string Config::TomlLiteral(const Setting& s) const {
  return Literal(s.type, s.list, s.num.load(), s.str, s.items, s.choices);
}

std::string Config::DefaultLiteral(const Setting& s) const {
  Parsed p;
  ParseValue(s, s.def, p);  // defaults are checked when the setting is added
  return Literal(s.type, s.list, p.num, p.str, p.items, s.choices);
}

// --- loading ---------------------------------------------------------------------------

void Config::LoadFile(const std::string& path) {
  TomlValue root;
  try {
    root = toml::parse<toml::discard_comments, std::map, std::vector>(path);
  } catch (const toml::exception& e) {
    throw ConfigError(path + ":" + std::to_string(e.location().line()) + ": syntax error: " +
                      FirstLine(e.what()));
  } catch (const std::exception& e) {
    throw ConfigError(path + ": cannot read the file: " + std::strerror(errno));
  }
  std::lock_guard lk(mu_);
  path_ = source_name_ = path;
  std::set<std::string, std::less<>> sections;
  for (auto& [addr, s] : by_toml_)
    if (s->plugin.empty()) sections.insert(addr.substr(0, addr.find('.')));
  std::vector<std::pair<int, std::string>> errors;
  auto fail = [&](const TomlValue& v, const std::string& addr, const std::string& why) {
    errors.emplace_back(static_cast<int>(v.location().line()),
                        path + ":" + std::to_string(v.location().line()) + ": " + addr + ": " + why);
  };
  auto load = [&](const std::string& addr, const TomlValue& v) {
    auto it = by_toml_.find(addr);
    if (it == by_toml_.end()) return fail(v, addr, "unknown setting");
    Setting& s = *it->second;
    std::string text;
    Parsed p;
    if (auto why = TomlText(v, s.type, s.list, text)) return fail(v, addr, *why);
    if (auto why = ParseValue(s, text, p)) return fail(v, addr, *why);
    Apply(s, p);
    s.loaded = TomlLiteral(s);
  };
  for (auto& [section, table] : root.as_table()) {
    if (!sections.count(section)) {
      fail(table, section, table.is_table() ? "unknown section" : "unknown setting");
      continue;
    }
    if (!table.is_table()) {
      fail(table, section, "expected a [" + section + "] table");
      continue;
    }
    for (auto& [key, v] : table.as_table()) {
      if (section != "modules" || !v.is_table()) {
        load(section + "." + key, v);
        continue;
      }
      // [modules.<plugin>]: options of a plugin that is probably not loaded yet.
      for (auto& [opt, ov] : v.as_table()) {
        std::string mkey = ModuleKey(key, opt);
        if (by_toml_.count("modules." + mkey)) {
          load("modules." + mkey, ov);
        } else if (!ov.is_integer()) {
          fail(ov, "modules." + key + "." + opt, "expected an integer");
        } else {
          pending_module_values_[mkey] = {std::to_string(ov.as_integer()),
                                          static_cast<int>(ov.location().line())};
        }
      }
    }
  }
  if (errors.empty()) return;
  std::sort(errors.begin(), errors.end());
  std::string msg;
  for (auto& [line, e] : errors) msg += (msg.empty() ? "" : "\n") + e;
  throw ConfigError(msg);
}

void Config::Override(std::string_view toml_address, std::string_view value) {
  std::lock_guard lk(mu_);
  std::string addr(toml_address);
  auto fail = [&](const std::string& why) { throw ConfigError("command line: " + addr + ": " + why); };
  size_t dot1 = addr.find('.'), dot2 = addr.find('.', dot1 + 1);
  if (addr.rfind("modules.", 0) == 0 && dot2 != std::string::npos) {
    std::string mkey = ModuleKey(addr.substr(dot1 + 1, dot2 - dot1 - 1), addr.substr(dot2 + 1));
    if (!by_toml_.count("modules." + mkey)) {
      pending_module_values_[mkey] = {std::string(value), 0};
      return;
    }
    addr = "modules." + mkey;
  }
  auto it = by_toml_.find(addr);
  if (it == by_toml_.end()) fail("unknown setting");
  Parsed p;
  if (auto why = ParseValue(*it->second, value, p)) fail(*why);
  Apply(*it->second, p);
}

// --- module options ----------------------------------------------------------------------

void Config::RegisterModuleInt(const std::string& plugin, const std::string& name, int64_t def,
                               int64_t min, int64_t max, int64_t* storage) {
  std::lock_guard lk(mu_);
  std::string mkey = ModuleKey(plugin, name);
  auto s = std::make_unique<Setting>();
  s->toml = "modules." + mkey;
  s->redis = Lower(name);
  s->mut = true;
  s->min = min;
  s->max = max;
  s->def = std::to_string(def);
  s->help = "option of plugin " + plugin;
  s->plugin = plugin;
  s->storage = storage;
  s->alias = RedisAliasOf(s->redis);
  // [modules.<plugin>] takes the legacy name too (an old redis.conf's hash-max-ziplist-*).
  std::string alias_key = s->alias.empty() ? "" : ModuleKey(plugin, s->alias);
  if (by_redis_.count(s->redis) || by_toml_.count(s->toml) || s->redis == "client-output-buffer-limit" ||
      (!s->alias.empty() && (by_redis_.count(s->alias) || by_toml_.count("modules." + alias_key))))
    throw ConfigError("plugin " + plugin + ": option '" + name + "' is already defined");
  if (def < min || def > max)
    throw ConfigError("plugin " + plugin + ": option '" + name + "': default out of range");
  Setting& ref = *s;
  Add(std::move(s));
  if (!alias_key.empty()) by_toml_["modules." + alias_key] = &ref;
  auto pending = pending_module_values_.find(mkey);
  if (!alias_key.empty()) {
    auto by_alias = pending_module_values_.find(alias_key);
    if (by_alias != pending_module_values_.end() && pending != pending_module_values_.end())
      throw ConfigError(Where(source_name_, by_alias->second.second) + ": modules." +
                        alias_key + ": " + ref.toml + " is set too (" + ref.alias +
                        " is another name for " + ref.redis + ")");
    if (pending == pending_module_values_.end()) pending = by_alias;
  }
  if (pending == pending_module_values_.end()) return;
  auto [text, line] = pending->second;
  pending_module_values_.erase(pending);
  Parsed p;
  if (auto why = ParseValue(ref, text, p))
    throw ConfigError(Where(source_name_, line) + ": " + ref.toml + ": " + *why);
  Apply(ref, p);
  if (line > 0) ref.loaded = TomlLiteral(ref);
}

void Config::UnregisterModule(const std::string& plugin) {
  std::lock_guard lk(mu_);
  for (auto* m : {&by_toml_, &by_redis_})
    std::erase_if(*m, [&](auto& kv) { return kv.second->plugin == plugin; });
  std::erase_if(settings_, [&](auto& s) { return s->plugin == plugin; });
}

std::vector<std::string> Config::UnclaimedModuleOptions() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (auto& [key, v] : pending_module_values_)
    out.push_back(Where(source_name_, v.second) + ": modules." + key);
  return out;
}

// --- CONFIG REWRITE -------------------------------------------------------------------

// Keeps the file as the user wrote it (comments, order, units): only lines whose value
// changed since load are replaced; settings that now differ from their default and are
// not in the file are added at the end of their section (or a new section).
std::string Config::RewriteText(const std::string& original) const {
  std::vector<std::string> lines;
  std::istringstream in(original);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string section;
  std::map<std::string, size_t> section_end;
  std::set<const Setting*> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string t = Trim(lines[i]);
    if (t.empty() || t[0] == '#') continue;
    if (t[0] == '[') {
      section = Trim(t.substr(1, t.find(']') - 1));
      section_end[section] = i;
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    section_end[section] = i;
    std::string key = Trim(t.substr(0, eq));
    if (key.size() >= 2 && key.front() == '"') key = key.substr(1, key.size() - 2);
    std::string norm = key;
    if (section.rfind("modules.", 0) == 0) std::replace(norm.begin(), norm.end(), '-', '_');
    auto it = by_toml_.find(section + "." + norm);
    if (it == by_toml_.end() || it->second->list) continue;
    const Setting& s = *it->second;
    seen.insert(&s);
    std::string lit = TomlLiteral(s);
    if (s.loaded && *s.loaded == lit) continue;
    lines[i] = lines[i].substr(0, lines[i].find_first_not_of(" \t")) + key + " = " + lit;
  }
  std::map<std::string, std::vector<std::string>> added;
  for (auto& s : settings_) {
    if (s->list || seen.count(s.get()) || TomlLiteral(*s) == DefaultLiteral(*s)) continue;
    size_t dot = s->toml.rfind('.');
    added[s->toml.substr(0, dot)].push_back(s->toml.substr(dot + 1) + " = " + TomlLiteral(*s));
  }
  std::vector<std::pair<size_t, std::string>> inserts;  // insert after line index
  std::string tail;
  for (auto& [sec, kvs] : added) {
    if (auto e = section_end.find(sec); e != section_end.end()) {
      inserts.emplace_back(e->second, Join(kvs, "\n"));
    } else {
      tail += "\n[" + sec + "]\n" + Join(kvs, "\n") + "\n";
    }
  }
  std::sort(inserts.rbegin(), inserts.rend());
  for (auto& [at, text] : inserts) lines.insert(lines.begin() + at + 1, text);
  std::string out = Join(lines, "\n");
  if (!out.empty()) out += "\n";
  return out + tail;
}

std::optional<std::string> Config::Rewrite() {
  std::lock_guard lk(mu_);
  if (path_.empty()) return "The server is running without a config file";
  auto failed = [](const std::string& why) { return "Rewriting config file: " + why; };
  std::ifstream in(path_);
  if (!in) return failed(std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = RewriteText(buf.str());
  try {
    std::istringstream check(text);
    toml::parse<toml::discard_comments, std::map, std::vector>(check, path_);
  } catch (const std::exception& e) {
    return failed("the rewritten file would not parse: " + FirstLine(e.what()));
  }
  std::string tmp = path_ + ".rewrite.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return failed(std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return failed(why);
  }
  for (auto& s : settings_)
    if (!s->list && (s->loaded || TomlLiteral(*s) != DefaultLiteral(*s))) s->loaded = TomlLiteral(*s);
  return std::nullopt;
}

// --- Describe --------------------------------------------------------------------------

std::vector<Config::Description> Config::Describe() const {
  static const char* kTypes[] = {"int", "bool", "string", "enum", "memory"};
  std::lock_guard lk(mu_);
  std::vector<Description> out;
  for (auto& s : settings_) {
    Description d;
    d.toml_address = s->toml;
    d.redis_name = s->redis;
    d.type = s->list ? "list" : kTypes[static_cast<int>(s->type)];
    d.default_value = DefaultLiteral(*s);
    d.help = s->help;
    if (!s->choices.empty()) d.help += " (one of: " + Join(s->choices, ", ") + ")";
    if (!s->alias.empty()) d.help += " (alias: " + s->alias + ")";
    d.mutable_at_runtime = s->mut;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ferrite::host
