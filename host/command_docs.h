// COMMAND DOCS: what Redis 7.0 says about each of its commands besides the arguments
// (summary, since, group, complexity, doc flags, deprecation, history), from the
// generated table command_docs.inc (host/gen_command_docs.py), and the reply built
// from it. A command Redis does not have (a plugin's own) is described by its
// registration: its summary and group.
#pragma once

#include <string_view>

#include "ferrite/module.h"

namespace ferrite::host {

struct Command;

enum DocFlag : unsigned { kDocDeprecated = 1u << 0, kDocSyscmd = 1u << 1 };

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

}  // namespace ferrite::host
