// COMMAND DOCS: what Redis 7.0 says about each of its commands (summary, since, group,
// complexity, doc flags, deprecation, history, arguments), from the generated table
// command_docs.inc (host/gen_command_docs.py), and the reply built from it. A command
// Redis does not have (a plugin's own) is described by its registration: its summary
// and group. The same table holds what COMMAND INFO shows as documentation: the command
// tips and the notes of the key specs.
#pragma once

#include <string_view>

#include "ferrite/module.h"

namespace ferrite::host {

struct Command;
struct Subcommand;

enum DocFlag : unsigned { kDocDeprecated = 1u << 0, kDocSyscmd = 1u << 1 };
enum ArgFlag : unsigned { kArgOptional = 1u << 0, kArgMultiple = 1u << 1,
                          kArgMultipleToken = 1u << 2 };

struct CommandDoc {
  const char* name;  // full name, lower case: "get", "config|get"
  const char* summary;
  const char* since;
  const char* group;
  const char* complexity;        // nullptr: none stated
  unsigned doc_flags;            // DocFlag bits
  const char* deprecated_since;  // nullptr unless deprecated
  const char* replaced_by;
};

// The table's row for a full name (any case), nullptr if Redis has no such command.
const CommandDoc* FindCommandDoc(std::string_view fullname);

// One command's COMMAND DOCS map (without its name), subcommands included.
void ReplyCommandDocs(ferrite_ctx* c, const Command& cmd);
// A subcommand's map, as COMMAND DOCS "container|sub" answers it.
void ReplyCommandDocs(ferrite_ctx* c, const Command& cmd, const Subcommand& sub);

// COMMAND INFO's tips for a full name: a set, empty for a command Redis has none for.
void ReplyCommandTips(ferrite_ctx* c, std::string_view fullname);
// The notes of a full name's key spec `index`, nullptr if it has none.
const char* KeySpecNote(std::string_view fullname, int index);

}  // namespace ferrite::host
