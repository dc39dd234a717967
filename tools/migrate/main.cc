// ferrite-migrate: copies a live memcached into Ferrite. See tools/migrate/README.md
// and docs/migration.md.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "importer.h"
#include "options.h"
#include "progress.h"

int main(int argc, char** argv) {
  using namespace ferrite::migrate;
  // Log lines go to stderr, the summary to stdout, so `ferrite-migrate ... > report` works.
  auto logger = spdlog::stderr_color_mt("migrate");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  Options options;
  try {
    options = ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "ferrite-migrate: %s\n%s", e.what(), Usage());
    return 2;
  }
  Progress progress(options.progress, options.progress_interval);
  ImportResult r = RunImport(options, progress);
  std::fputs(FormatSummary(r).c_str(), stdout);
  std::fflush(stdout);
  if (!r.complete) spdlog::error("import incomplete: {}", r.error);
  return r.complete ? 0 : 1;
}
