// The import: list the source's keys, then copy them in pipelined batches
// (`mg <key> v f t u` from the source, an add-semantics store into the target),
// recording each settled key in the resume state.
#pragma once

#include <string>

#include "options.h"
#include "progress.h"

namespace ferrite::migrate {

struct ImportResult {
  Counters counters;
  bool complete = false;
  std::string error;  // why the import stopped early (empty when complete)
  double seconds = 0;
  int passes = 0;  // listing passes made
};

ImportResult RunImport(const Options& options, Progress& progress);

// The end-of-run report printed to stdout.
std::string FormatSummary(const ImportResult& r);

}  // namespace ferrite::migrate
