#include "options.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "conn.h"

namespace ferrite::migrate {
namespace {

uint64_t ParseCount(const std::string& flag, const std::string& v, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max)
    throw std::invalid_argument(flag + " wants a whole number in " + std::to_string(min) + "-" +
                                std::to_string(max) + ", not '" + v + "'");
  return n;
}

Endpoint ParseEndpoint(const std::string& flag, std::string_view v) {
  try {
    auto [host, port] = SplitHostPort(v);
    return Endpoint{host, port};
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(flag + " '" + std::string(v) + "': " + e.what());
  }
}

}  // namespace

const char* Usage() {
  return "usage: ferrite-migrate --from memcached://HOST:PORT --to [memcached://|redis://]HOST:PORT\n"
         "                       [--prefix P] [--rate ITEMS_PER_S] [--from-auth USER:PASS]\n"
         "                       [--resume STATE_FILE] [--batch N] [--passes N] [--timeout SECONDS]\n"
         "                       [--listing auto|metadump|mgdump] [--progress auto|bar|lines|none]\n"
         "                       [--progress-interval SECONDS]\n"
         "Copies every item of a live memcached into Ferrite (its memcached port, or a RESP\n"
         "port with redis://, where client flags are dropped) with its flags and remaining\n"
         "TTL, never overwriting a key the target already has. Exit status 0 when every\n"
         "listed item was settled, 1 when the source or target failed (a partial report is\n"
         "printed; rerun with the same --resume file to go on), 2 for a bad command line.\n";
}

Options ParseOptions(const std::vector<std::string>& args) {
  Options o;
  bool have_from = false, have_to = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(Usage(), stdout);
      std::exit(0);
    }
    if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
    const std::string& v = args[++i];
    if (flag == "--from") {
      constexpr std::string_view kScheme = "memcached://";
      if (v.compare(0, kScheme.size(), kScheme) != 0)
        throw std::invalid_argument("--from must be memcached://HOST:PORT, not '" + v + "'");
      o.from = ParseEndpoint(flag, std::string_view(v).substr(kScheme.size()));
      have_from = true;
    } else if (flag == "--to") {
      std::string_view rest = v;
      if (rest.substr(0, 8) == "redis://") {
        o.to_kind = TargetKind::kRedis;
        rest.remove_prefix(8);
      } else if (rest.substr(0, 12) == "memcached://") {
        rest.remove_prefix(12);
      }
      o.to = ParseEndpoint(flag, rest);
      have_to = true;
    } else if (flag == "--prefix") {
      o.prefix = v;
    } else if (flag == "--rate") {
      o.rate = ParseCount(flag, v, 0, 100'000'000);
    } else if (flag == "--from-auth") {
      size_t colon = v.find(':');
      if (colon == std::string::npos || colon == 0)
        throw std::invalid_argument("--from-auth wants USER:PASS");
      o.from_user = v.substr(0, colon);
      o.from_password = v.substr(colon + 1);
    } else if (flag == "--resume") {
      o.resume_file = v;
    } else if (flag == "--passes") {
      o.passes = static_cast<int>(ParseCount(flag, v, 1, 100));
    } else if (flag == "--batch") {
      o.batch = ParseCount(flag, v, 1, 100'000);
    } else if (flag == "--timeout") {
      o.timeout = std::chrono::seconds(ParseCount(flag, v, 1, 3600));
    } else if (flag == "--progress-interval") {
      o.progress_interval = std::chrono::seconds(ParseCount(flag, v, 1, 3600));
    } else if (flag == "--listing") {
      if (v == "auto") o.listing = ListingKind::kAuto;
      else if (v == "metadump") o.listing = ListingKind::kMetadump;
      else if (v == "mgdump") o.listing = ListingKind::kMgdump;
      else throw std::invalid_argument("--listing is auto, metadump or mgdump, not '" + v + "'");
    } else if (flag == "--progress") {
      if (v == "auto") o.progress = ProgressMode::kAuto;
      else if (v == "bar") o.progress = ProgressMode::kBar;
      else if (v == "lines") o.progress = ProgressMode::kLines;
      else if (v == "none") o.progress = ProgressMode::kNone;
      else throw std::invalid_argument("--progress is auto, bar, lines or none, not '" + v + "'");
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  if (!have_from) throw std::invalid_argument("--from memcached://HOST:PORT is required");
  if (!have_to) throw std::invalid_argument("--to HOST:PORT is required");
  return o;
}

}  // namespace ferrite::migrate
