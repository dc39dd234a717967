// Administrative host commands: INFO CONFIG COMMAND MODULE (CLIENT: client_command.cc).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <sstream>

#include "ferrite/module.hpp"
#include "host/acl/acl.h"
#include "host/command_docs.h"
#include "host/context.h"
#include "host/info.h"
#include "host/logging.h"
#include "host/server_commands.h"

namespace ferrite::host {

using sdk::EqualsIgnoreCase;
using sdk::GlobMatch;
using sdk::ParseInt64;
using sdk::SV;

namespace {

void Simple(ferrite_ctx* c, std::string_view s) { c->sink->simple(c->st, s.data(), s.size()); }
void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }
int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

}  // namespace

int UnknownSubcommand(ferrite_ctx* c, std::string_view cmd, std::string_view sub,
                      std::initializer_list<std::string_view> known) {
  for (std::string_view k : known) {
    if (!EqualsIgnoreCase(sub, k)) continue;
    std::string full = std::string(cmd) + "|" + std::string(k);
    for (char& ch : full) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return Error(c, full, FERRITE_E_ARITY);
  }
  std::string msg = "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " +
                    std::string(cmd) + " HELP.";
  return Error(c, msg);
}

namespace {

// ------------------------------- INFO --------------------------------------------------

int CmdInfo(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  std::vector<std::string> sections;
  for (int i = 1; i < argc; i++) sections.emplace_back(SV(argv[i]));
  std::string text = BuildInfo(c->host, sections);
  c->sink->verbatim(c->st, "txt", text.data(), text.size());
  return FERRITE_OK;
}

// ------------------------------- CONFIG ------------------------------------------------

int CmdConfig(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto sub = SV(argv[1]);
  Config& cfg = c->host->config();
  if (EqualsIgnoreCase(sub, "GET") && argc >= 3) {
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 2; i < argc; i++)
      for (auto& kv : cfg.Get(SV(argv[i]))) {
        bool dup = false;
        for (auto& o : out) dup |= o.first == kv.first;
        if (!dup) out.push_back(kv);
      }
    c->sink->map(c->st, out.size());
    for (auto& [k, v] : out) {
      Bulk(c, k);
      Bulk(c, v);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "SET") && argc >= 4) {
    if (argc % 2) return Error(c, "", FERRITE_E_SYNTAX);  // a name without its value
    std::vector<std::pair<std::string, std::string>> pairs;
    for (int i = 2; i < argc; i += 2) pairs.emplace_back(SV(argv[i]), SV(argv[i + 1]));
    if (auto err = cfg.SetMany(pairs)) return Error(c, "ERR " + *err);
    for (int i = 2; i < argc; i += 2) {
      bool secret = EqualsIgnoreCase(SV(argv[i]), "requirepass") ||
                    EqualsIgnoreCase(SV(argv[i]), "masterauth") ||
                    EqualsIgnoreCase(SV(argv[i]), "tls-key-file-pass") ||
                    EqualsIgnoreCase(SV(argv[i]), "tls-client-key-file-pass");
      Logger("host.config")->debug("CONFIG SET {} {} (client id={})", SV(argv[i]),
                                   secret ? std::string_view("(hidden)") : SV(argv[i + 1]),
                                   c->client ? c->client->id : 0);
    }
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "RESETSTAT") && argc == 2) {
    auto& s = c->host->stats();
    for (auto* a : {&s.total_commands, &s.expired_keys, &s.evicted_keys, &s.keyspace_hits,
                    &s.keyspace_misses, &s.net_input_bytes, &s.net_output_bytes,
                    &s.total_errors, &s.rejected_connections, &s.total_connections,
                    &s.output_limit_disconnections})
      a->store(0);
    c->host->client_eviction().ResetStats();
    for (auto& [n, cmd] : *c->host->registry().Commands()) {
      cmd->ResetStats();
      for (auto& sub : cmd->subcommands) sub.stats->ResetStats();
    }
    c->host->error_stats().Reset();
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "REWRITE") && argc == 2) {
    auto err = cfg.Rewrite();
    if (err) return Error(c, "ERR " + *err);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    return ReplyHelp(c, "CONFIG",
                     {"GET <pattern>",
                      "    Return parameters matching the glob-like <pattern> and their values.",
                      "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                      "RESETSTAT", "    Reset statistics reported by the INFO command.", "REWRITE",
                      "    Rewrite the configuration file."});
  }
  return UnknownSubcommand(c, "CONFIG", sub, {"GET", "SET", "RESETSTAT", "REWRITE"});
}

// ------------------------------- COMMAND -----------------------------------------------

// Redis' CMD_NO_MANDATORY_KEYS: EVAL*, EVALSHA*, FCALL* may name no key.
bool NoMandatoryKeys(std::string_view name) {
  static constexpr std::string_view kNoMandatory[] = {"eval",       "eval_ro", "evalsha",
                                                      "evalsha_ro", "fcall",   "fcall_ro"};
  return std::find(std::begin(kNoMandatory), std::end(kNoMandatory), name) !=
         std::end(kNoMandatory);
}

// Redis' flag names in its own order (server.c addReplyFlagsForCommand).
void FlagNames(std::string_view name, uint32_t f, bool movablekeys,
               std::vector<const char*>& out) {
  struct {
    uint32_t bit;
    const char* name;
  } names[] = {{FERRITE_CMD_WRITE, "write"},       {FERRITE_CMD_READONLY, "readonly"},
               {FERRITE_CMD_DENYOOM, "denyoom"},   {FERRITE_CMD_ADMIN, "admin"},
               {FERRITE_CMD_PUBSUB, "pubsub"},     {FERRITE_CMD_NOSCRIPT, "noscript"},
               {FERRITE_CMD_BLOCKING, "blocking"}, {FERRITE_CMD_LOADING, "loading"},
               {FERRITE_CMD_STALE, "stale"},
               {FERRITE_CMD_SKIP_MONITOR, "skip_monitor"},
               {FERRITE_CMD_SKIP_SLOWLOG, "skip_slowlog"},
               {FERRITE_CMD_FAST, "fast"},
               {FERRITE_CMD_NOAUTH, "no_auth"},    {FERRITE_CMD_NO_MULTI, "no_multi"}};
  for (auto& n : names)
    if (f & n.bit) out.push_back(n.name);
  // no_mandatory_keys and no_async_loading come before no_multi in Redis' order.
  auto before_no_multi = [&out](const char* flag) {
    auto at = std::find_if(out.begin(), out.end(),
                           [](const char* n) { return std::string_view(n) == "no_multi"; });
    out.insert(at, flag);
  };
  if (NoMandatoryKeys(name)) before_no_multi("no_mandatory_keys");
  if (LoadingState::DeniedWhileAsyncLoading(name)) before_no_multi("no_async_loading");
  if (movablekeys) out.push_back("movablekeys");
  if (f & FERRITE_CMD_ALLOW_BUSY) out.push_back("allow_busy");
}

void ReplyKeyFlags(ferrite_ctx* c, uint16_t flags);

// addReplyCommandKeySpecs: Redis' key specs for a command it has (none for a plugin's
// own), with the notes its documentation gives them.
void ReplyKeySpecs(ferrite_ctx* c, std::string_view fullname, const acl::CommandFacts* f) {
  const int n = f ? f->nspecs : 0;
  c->sink->set(c->st, n);
  for (int i = 0; i < n; i++) {
    const acl::KeySpec& ks = f->specs[i];
    const char* notes = KeySpecNote(fullname, i);
    c->sink->map(c->st, notes ? 4 : 3);
    if (notes) {
      Bulk(c, "notes");
      Bulk(c, notes);
    }
    Bulk(c, "flags");
    ReplyKeyFlags(c, ks.flags);
    Bulk(c, "begin_search");
    c->sink->map(c->st, 2);
    Bulk(c, "type");
    switch (ks.bs) {
      case acl::BeginSearch::kIndex:
        Bulk(c, "index");
        Bulk(c, "spec");
        c->sink->map(c->st, 1);
        Bulk(c, "index");
        c->sink->integer(c->st, ks.bs_arg);
        break;
      case acl::BeginSearch::kKeyword:
        Bulk(c, "keyword");
        Bulk(c, "spec");
        c->sink->map(c->st, 2);
        Bulk(c, "keyword");
        Bulk(c, ks.keyword);
        Bulk(c, "startfrom");
        c->sink->integer(c->st, ks.bs_arg);
        break;
      case acl::BeginSearch::kUnknown:
        Bulk(c, "unknown");
        Bulk(c, "spec");
        c->sink->map(c->st, 0);
        break;
    }
    Bulk(c, "find_keys");
    c->sink->map(c->st, 2);
    Bulk(c, "type");
    switch (ks.fk) {
      case acl::FindKeys::kRange:
      case acl::FindKeys::kKeynum: {
        const bool range = ks.fk == acl::FindKeys::kRange;
        Bulk(c, range ? "range" : "keynum");
        Bulk(c, "spec");
        c->sink->map(c->st, 3);
        const std::string_view names[2][3] = {{"keynumidx", "firstkey", "keystep"},
                                              {"lastkey", "keystep", "limit"}};
        const int values[3] = {ks.a, ks.b, ks.c};
        for (int j = 0; j < 3; j++) {
          Bulk(c, names[range][j]);
          c->sink->integer(c->st, values[j]);
        }
        break;
      }
      case acl::FindKeys::kUnknown:
        Bulk(c, "unknown");
        Bulk(c, "spec");
        c->sink->map(c->st, 0);
        break;
    }
  }
}

// addReplyCommandCategories: "@name" in Redis' category order.
void ReplyCategories(ferrite_ctx* c, uint32_t cats) {
  size_t n = 0;
  for (int i = 0; i < acl::kCategoryCount; i++) n += (cats >> i) & 1;
  c->sink->set(c->st, n);
  for (int i = 0; i < acl::kCategoryCount; i++)
    if ((cats >> i) & 1) Simple(c, "@" + std::string(acl::kCategoryNames[i]));
}

struct InfoEntry {
  std::string_view name;
  int arity;
  uint32_t flags;
  bool movablekeys;
  int first, last, step;
  uint32_t categories;
  const acl::CommandFacts* facts;
};

// For a command Redis has, the first/last/step COMMAND INFO shows are what Redis derives
// from its key specs (populateCommandLegacyRangeSpec): the one index+range spec, or the
// consecutive plain ranges of several; 0 0 0 when none qualifies.
void LegacyRange(InfoEntry& e) {
  const acl::CommandFacts& f = *e.facts;
  auto plain = [](const acl::KeySpec& ks) {
    return ks.bs == acl::BeginSearch::kIndex && ks.fk == acl::FindKeys::kRange;
  };
  e.first = e.last = e.step = 0;
  if (f.nspecs == 1 && plain(f.specs[0])) {
    const acl::KeySpec& ks = f.specs[0];
    e.first = ks.bs_arg;
    e.last = ks.a >= 0 ? ks.a + ks.bs_arg : ks.a;
    e.step = ks.b;
    return;
  }
  int first = INT_MAX;
  unsigned last = 0, prev_last = 0;  // unsigned as Redis', so a negative last wins
  for (int i = 0; i < f.nspecs; i++) {
    const acl::KeySpec& ks = f.specs[i];
    if (!plain(ks) || ks.b != 1 ||
        (prev_last && prev_last != static_cast<unsigned>(ks.bs_arg - 1)))
      continue;
    first = std::min(first, ks.bs_arg);
    last = std::max(last, static_cast<unsigned>(ks.a >= 0 ? ks.a + ks.bs_arg : ks.a));
    prev_last = last;
  }
  if (first == INT_MAX) return;
  e.first = first;
  e.last = static_cast<int>(last);
  e.step = 1;
}

InfoEntry EntryOf(const Command& cmd) {
  InfoEntry e{cmd.name,         cmd.arity,         cmd.flags,
              cmd.getkeys != nullptr, cmd.first_key, cmd.last_key,
              cmd.key_step,     cmd.acl_categories, cmd.acl_facts};
  if (e.facts) LegacyRange(e);
  return e;
}

// A subcommand too short to reach the container's key position (OBJECT HELP) has none.
InfoEntry EntryOf(const Command& cmd, const Subcommand& s) {
  bool keys = cmd.first_key > 0 && std::abs(s.arity) > cmd.first_key;
  InfoEntry e{s.fullname, s.arity, s.flags, false, keys ? cmd.first_key : 0,
              keys ? cmd.last_key : 0, keys ? cmd.key_step : 0, s.acl_categories, s.acl_facts};
  if (e.facts) LegacyRange(e);
  return e;
}

void ReplyInfoEntry(ferrite_ctx* c, const Command& cmd, const Subcommand* sub) {
  const InfoEntry e = sub ? EntryOf(cmd, *sub) : EntryOf(cmd);
  const std::vector<Subcommand>* subs =
      sub || cmd.subcommands.empty() ? nullptr : &cmd.subcommands;
  c->sink->array(c->st, 10);
  Bulk(c, e.name);
  c->sink->integer(c->st, e.arity);
  std::vector<const char*> names;
  // A container reports flags of its own only when it runs bare (COMMAND, arity -1):
  // Redis 7.0 declares none for the others.
  if (!subs || e.arity == -1) FlagNames(e.name, e.flags, e.movablekeys, names);
  c->sink->set(c->st, names.size());
  for (auto* f : names) Simple(c, f);
  bool keyless = subs != nullptr;  // Redis reports a container's keys per subcommand
  c->sink->integer(c->st, keyless ? 0 : e.first);
  c->sink->integer(c->st, keyless ? 0 : e.last);
  c->sink->integer(c->st, keyless ? 0 : e.step);
  ReplyCategories(c, e.categories);
  ReplyCommandTips(c, e.name);
  ReplyKeySpecs(c, e.name, e.facts);
  if (!subs) {
    c->sink->set(c->st, 0);  // addReplyCommandSubCommands for a command without any
    return;
  }
  c->sink->array(c->st, subs->size());
  for (const auto& s : *subs) ReplyInfoEntry(c, cmd, &s);
}

// Movable keys are those a getkeys callback finds (Redis derives the flag from key specs
// that are not a plain index range: EVAL, ZUNION, LMPOP, ...).
void ReplyCommandInfo(ferrite_ctx* c, const Command& cmd) {
  ReplyInfoEntry(c, cmd, nullptr);
}

// A command or, for "container|sub", a subcommand by its full name (lookupCommandBySds):
// {nullptr, nullptr} if there is none.
std::pair<const Command*, const Subcommand*> FindByFullName(Host* h, std::string_view name) {
  const size_t bar = name.find('|');
  const Command* cmd = h->registry().Find(name.substr(0, bar));
  if (!cmd || (cmd->flags & FERRITE_CMD_HIDDEN)) return {nullptr, nullptr};
  if (bar == std::string_view::npos) return {cmd, nullptr};
  const std::string_view sub = name.substr(bar + 1);
  if (sub.find('|') != std::string_view::npos) return {nullptr, nullptr};
  for (const Subcommand& s : cmd->subcommands)
    if (EqualsIgnoreCase(s.name, sub)) return {cmd, &s};
  return {nullptr, nullptr};
}

std::vector<const Command*> VisibleCommands(Host* h) {
  std::vector<const Command*> v;
  for (auto& [n, cmd] : *h->registry().Commands())
    if (!(cmd->flags & FERRITE_CMD_HIDDEN)) v.push_back(cmd.get());
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return v;
}

// COMMAND LIST [FILTERBY MODULE <name> | ACLCAT <category> | PATTERN <glob>]: every
// command's and subcommand's full name ("client|list"), as Redis' commandListCommand.
// MODULE names a plugin (MODULE LIST shows them): its commands and their subcommands.
int CommandList(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  enum class Filter { kNone, kModule, kAclcat, kPattern } filter = Filter::kNone;
  std::string_view arg;
  for (int i = 2; i < argc; i++) {
    if (!EqualsIgnoreCase(SV(argv[i]), "FILTERBY") || argc - 1 - i != 2)
      return Error(c, "", FERRITE_E_SYNTAX);
    auto type = SV(argv[i + 1]);
    if (EqualsIgnoreCase(type, "MODULE")) filter = Filter::kModule;
    else if (EqualsIgnoreCase(type, "ACLCAT")) filter = Filter::kAclcat;
    else if (EqualsIgnoreCase(type, "PATTERN")) filter = Filter::kPattern;
    else return Error(c, "", FERRITE_E_SYNTAX);
    arg = SV(argv[i + 2]);
    i += 2;
  }
  uint32_t cat = filter == Filter::kAclcat ? acl::CategoryByName(arg) : 0;
  auto keep = [&](const Command& cmd, std::string_view fullname, uint32_t cats) {
    switch (filter) {
      case Filter::kNone: return true;
      case Filter::kModule: return cmd.owner && cmd.owner->name == arg;
      case Filter::kAclcat: return (cats & cat) != 0;
      case Filter::kPattern: return GlobMatch(arg, fullname, true);
    }
    return false;
  };
  std::vector<std::string_view> names;
  for (auto* cmd : VisibleCommands(c->host)) {
    if (keep(*cmd, cmd->name, cmd->acl_categories)) names.push_back(cmd->name);
    for (const auto& s : cmd->subcommands)
      if (keep(*cmd, s.fullname, s.acl_categories)) names.push_back(s.fullname);
  }
  c->sink->array(c->st, names.size());
  for (auto n : names) Bulk(c, n);
  return FERRITE_OK;
}

// Redis' key-spec flag names, in its order (addReplyFlagsForKeyArgs).
void ReplyKeyFlags(ferrite_ctx* c, uint16_t flags) {
  static constexpr struct {
    uint16_t bit;
    std::string_view name;
  } kNames[] = {{acl::kKeyRo, "RO"},         {acl::kKeyRw, "RW"},
                {acl::kKeyOw, "OW"},         {acl::kKeyRm, "RM"},
                {acl::kKeyAccess, "access"}, {acl::kKeyUpdate, "update"},
                {acl::kKeyInsert, "insert"}, {acl::kKeyDelete, "delete"},
                {acl::kKeyNotKey, "not_key"}, {acl::kKeyIncomplete, "incomplete"},
                {acl::kKeyVariableFlags, "variable_flags"}};
  size_t n = 0;
  for (const auto& k : kNames) n += (flags & k.bit) != 0;
  c->sink->set(c->st, n);
  for (const auto& k : kNames)
    if (flags & k.bit) Simple(c, k.name);
}

// COMMAND GETKEYS / GETKEYSANDFLAGS <command> [args...]: Redis' getKeysSubcommandImpl,
// with its errors in its order (no keys at all before arity). A container's subcommand
// is looked up as Redis' lookupCommand does (MEMORY USAGE key).
int CommandGetKeys(ferrite_ctx* c, int argc, const ferrite_slice* argv, bool with_flags) {
  const Command* cmd = c->host->registry().Find(SV(argv[2]));
  const Subcommand* sub = nullptr;
  int n = argc - 2;
  if (cmd && (cmd->flags & FERRITE_CMD_HIDDEN)) cmd = nullptr;
  if (cmd && !cmd->subcommands.empty() && n >= 2) {
    sub = cmd->FindSubcommand(n, argv + 2);
    if (!sub) cmd = nullptr;
  }
  if (!cmd) return Error(c, "ERR Invalid command specified");
  if (!acl::HasKeys(cmd, sub)) return Error(c, "ERR The command has no key arguments");
  int arity = sub ? sub->arity : cmd->arity;
  if ((arity > 0 && n != arity) || n < -arity)
    return Error(c, "ERR Invalid number of arguments specified for command");
  acl::KeyList keys;
  acl::KeysOf(cmd, sub, n, argv + 2, keys);
  if (keys.empty()) {
    if (NoMandatoryKeys(cmd->name)) {
      c->sink->array(c->st, 0);
      return FERRITE_OK;
    }
    return Error(c, "ERR Invalid arguments specified for command");
  }
  c->sink->array(c->st, keys.size());
  for (const auto& k : keys) {
    if (with_flags) c->sink->array(c->st, 2);
    Bulk(c, SV(argv[2 + k.pos]));
    if (with_flags) ReplyKeyFlags(c, k.flags);
  }
  return FERRITE_OK;
}

int CmdCommand(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Host* h = c->host;
  if (argc == 2 && EqualsIgnoreCase(SV(argv[1]), "HELP")) {
    return ReplyHelp(c, "COMMAND",
                     {"(no subcommand)", "    Return details about all Redis commands.", "COUNT",
                      "    Return the total number of commands in this Redis server.", "LIST",
                      "    Return a list of all commands in this Redis server.",
                      "INFO [<command-name> ...]",
                      "    Return details about multiple Redis commands.",
                      "    If no command names are given, documentation details for all",
                      "    commands are returned.",
                      "DOCS [<command-name> ...]",
                      "    Return documentation details about multiple Redis commands.",
                      "    If no command names are given, documentation details for all",
                      "    commands are returned.",
                      "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                      "GETKEYSANDFLAGS <full-command>",
                      "    Return the keys and the access flags from a full Redis command."});
  }
  if (argc == 1) {
    auto cmds = VisibleCommands(h);
    c->sink->array(c->st, cmds.size());
    for (auto* cmd : cmds) ReplyCommandInfo(c, *cmd);
    return FERRITE_OK;
  }
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "COUNT") && argc == 2) {
    c->sink->integer(c->st, static_cast<int64_t>(VisibleCommands(h).size()));
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "INFO")) {
    if (argc == 2) {
      auto cmds = VisibleCommands(h);
      c->sink->array(c->st, cmds.size());
      for (auto* cmd : cmds) ReplyCommandInfo(c, *cmd);
      return FERRITE_OK;
    }
    c->sink->array(c->st, argc - 2);
    for (int i = 2; i < argc; i++) {
      auto [cmd, s] = FindByFullName(h, SV(argv[i]));
      if (cmd) ReplyInfoEntry(c, *cmd, s);
      else c->sink->null_array(c->st);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "DOCS")) {
    std::vector<std::pair<const Command*, const Subcommand*>> found;
    if (argc == 2)
      for (auto* cmd : VisibleCommands(h)) found.emplace_back(cmd, nullptr);
    for (int i = 2; i < argc; i++)
      if (auto f = FindByFullName(h, SV(argv[i])); f.first) found.push_back(f);
    c->sink->map(c->st, found.size());
    for (auto [cmd, s] : found) {
      Bulk(c, s ? std::string_view(s->fullname) : std::string_view(cmd->name));
      if (s) ReplyCommandDocs(c, *cmd, *s);
      else ReplyCommandDocs(c, *cmd);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LIST")) return CommandList(c, argc, argv);
  if (EqualsIgnoreCase(sub, "GETKEYS") && argc >= 3) return CommandGetKeys(c, argc, argv, false);
  if (EqualsIgnoreCase(sub, "GETKEYSANDFLAGS") && argc >= 3)
    return CommandGetKeys(c, argc, argv, true);
  return UnknownSubcommand(c, "COMMAND", sub,
                           {"COUNT", "INFO", "DOCS", "LIST", "GETKEYS", "GETKEYSANDFLAGS"});
}

// ------------------------------- MODULE ------------------------------------------------

int CmdModule(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Host* h = c->host;
  auto sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    // Redis 7.0's lines for LIST and UNLOAD; LOAD takes no module arguments here and
    // LOADEX is not implemented.
    return ReplyHelp(c, "MODULE",
                     {"LIST", "    Return a list of loaded modules.", "LOAD <path>",
                      "    Load a module library from <path>.", "UNLOAD <name>",
                      "    Unload a module."});
  }
  if (EqualsIgnoreCase(sub, "LIST") && argc == 2) {
    auto plugins = h->registry().Plugins();
    c->sink->array(c->st, plugins.size());
    for (auto* p : plugins) {
      c->sink->map(c->st, 4);
      Bulk(c, "name");
      Bulk(c, p->name);
      Bulk(c, "ver");
      c->sink->integer(c->st, p->version);
      Bulk(c, "path");
      Bulk(c, p->path);
      Bulk(c, "args");
      c->sink->array(c->st, 0);
    }
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "LOAD") && argc >= 3) {
    // As Redis' moduleCommand: the reply is fixed and the reason goes to the log only
    // (LoadPlugin writes "Module <path> failed to load: <reason>", Redis' wording).
    std::string err = h->LoadPlugin(std::string(SV(argv[2])));
    if (!err.empty()) return Error(c, "ERR Error loading the extension. Please check the server logs.");
    Simple(c, "OK");
    return FERRITE_OK;
  }
  if (EqualsIgnoreCase(sub, "UNLOAD") && argc == 3) {
    std::string err = h->UnloadPlugin(std::string(SV(argv[2])));
    if (!err.empty()) return Error(c, err);
    Simple(c, "OK");
    return FERRITE_OK;
  }
  return UnknownSubcommand(c, "MODULE", sub, {"LIST", "LOAD", "UNLOAD"});
}

}  // namespace

void RegisterAdminCommands(Host* h) {
  using namespace sdk::flags;
  using sdk::SubcommandSpec;
  // Redis 7.0's subcommands with their own arity and flags (src/commands/*.json), those
  // the handlers implement.
  // clang-format off
  static constexpr SubcommandSpec kConfigSubs[] = {
    {"GET",       -3, ADMIN | NOSCRIPT | LOADING | STALE},
    {"SET",       -4, ADMIN | NOSCRIPT | LOADING | STALE},
    {"RESETSTAT",  2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"REWRITE",    2, ADMIN | NOSCRIPT | LOADING | STALE},
    {"HELP",       2, LOADING | STALE},
  };
  static constexpr SubcommandSpec kCommandSubs[] = {
    {"COUNT",            2, LOADING | STALE},
    {"INFO",            -2, LOADING | STALE},
    {"DOCS",            -2, LOADING | STALE},
    {"LIST",            -2, LOADING | STALE},
    {"GETKEYS",         -4, LOADING | STALE},
    {"GETKEYSANDFLAGS", -4, LOADING | STALE},
    {"HELP",             2, LOADING | STALE},
  };
  static constexpr SubcommandSpec kModuleSubs[] = {
    {"LIST",       2, ADMIN | NOSCRIPT},
    {"LOAD",      -3, ADMIN | NOSCRIPT},
    {"UNLOAD",     3, ADMIN | NOSCRIPT},
    {"HELP",       2, LOADING | STALE},
  };
  AddHostCommand(h, "INFO",    -1, LOADING | STALE,                       0, 0, 0, CmdInfo,    "server", "Information and statistics about the server");
  AddHostCommand(h, "CONFIG",  -2, ADMIN | NOSCRIPT | LOADING | STALE,    0, 0, 0, CmdConfig,  "server", "Get or set configuration parameters", sdk::Subcommands(kConfigSubs));
  AddHostCommand(h, "COMMAND", -1, LOADING | STALE,                       0, 0, 0, CmdCommand, "server", "Details about commands", sdk::Subcommands(kCommandSubs));
  AddHostCommand(h, "MODULE",  -2, ADMIN | NOSCRIPT,                      0, 0, 0, CmdModule,  "server", "Load, unload and list modules", sdk::Subcommands(kModuleSubs));
  // clang-format on
}

}  // namespace ferrite::host
