// Shared between the hyperloglog module's files: its state and its handlers.
#pragma once

#include <span>

#include "ferrite/module.hpp"

namespace ferrite::mod::hll {

using sdk::Ctx;

// Per loaded plugin (the host hands it back to every handler).
struct State {
  int64_t sparse_max_bytes = 3000;  // hll-sparse-max-bytes
};

#define FERRITE_HLL_HANDLER(name) int name(Ctx ctx, int argc, const ferrite_slice* argv)
FERRITE_HLL_HANDLER(CmdPfAdd);
FERRITE_HLL_HANDLER(CmdPfCount);
FERRITE_HLL_HANDLER(CmdPfMerge);
FERRITE_HLL_HANDLER(CmdPfDebug);
FERRITE_HLL_HANDLER(CmdPfSelfTest);
#undef FERRITE_HLL_HANDLER

// The command table (the family test derives arity checks from it).
std::span<const sdk::CommandSpec> HllCommandTable();

}  // namespace ferrite::mod::hll
