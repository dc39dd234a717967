// The module's own value type: one text value per key, plus how often it was written.
// Everything the host needs to store, copy, persist and account for it is in
// hello_type.cc; the commands in hello_module.cc only touch HelloValue through here.
#pragma once

#include <cstdint>
#include <string>

#include "ferrite/module.h"

namespace hello {

struct HelloValue {
  std::string text;
  uint64_t writes = 0;  // SET/APPEND calls that touched this value (saved with it)
};

// RDB type byte our save() writes. NOTE: a module picks its own byte; it must not be a
// Redis type (0..21) or an RDB opcode (245..255). A snapshot holding it loads only into
// a Ferrite that has this module loaded, never into Redis.
inline constexpr int kRdbType = 200;

// The type table handed to register_type (static storage: the host keeps the pointers).
ferrite_type_desc TypeDesc();

}  // namespace hello
