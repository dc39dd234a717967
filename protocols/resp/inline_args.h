// Splits an inline command line into arguments exactly like Redis' sdssplitargs:
// blanks separate arguments; "double quotes" understand \n \r \t \b \a \xHH and
// \<any>; 'single quotes' understand only \'; a closing quote must be followed by a
// blank or the end of the line. The line is treated as a C string (a NUL ends it),
// because Redis splits a NUL-terminated copy.
#pragma once

#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::proto::resp {

// Fills argv (cleared first). Unquoted arguments point into `line`; arguments that
// had quotes are unescaped into `scratch` (cleared first), which is reserved up front
// so its storage never moves while argv points into it. Returns false on unbalanced
// quotes (argv is then unspecified).
bool SplitInlineArgs(std::string_view line, std::vector<ferrite_slice>* argv,
                     std::vector<char>* scratch);

}  // namespace ferrite::proto::resp
