// The strings module's command table, exposed so tests can walk it (arity checks).
#pragma once

#include <span>

#include "ferrite/module.hpp"

namespace ferrite::mod::strings {

std::span<const sdk::CommandSpec> StringCommandTable();

}  // namespace ferrite::mod::strings
