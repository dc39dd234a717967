#include "host/error_stats.h"

#include "ferrite/errors.h"
#include "host/logging.h"

namespace ferrite::host {

std::string_view ErrorStats::KindOf(std::string_view message) {
  // Redis looks for the space in the first 32 bytes of "-KIND message", so in the first
  // 31 of the message; none there (or an empty kind) falls back to ERR.
  size_t space = message.substr(0, 31).find(' ');
  if (space == std::string_view::npos || space == 0) return "ERR";
  return message.substr(0, space);
}

void ErrorStats::Count(std::string_view message) {
  std::string_view kind = KindOf(message);
  std::lock_guard lk(mu_);
  if (!enabled_) return;
  auto it = kinds_.find(kind);
  if (it != kinds_.end()) {
    it->second++;
    return;
  }
  if (kinds_.size() >= kMaxKinds) {
    std::string list;
    for (auto& [k, n] : kinds_) {
      if (!list.empty()) list += ", ";
      list += k;
    }
    auto log = Logger("host.info");
    log->warn(
        "Errorstats stopped adding new errors because the number of errors reached the "
        "limit, may be misuse of lua error_reply, please check INFO ERRORSTATS, this can be "
        "re-enabled via CONFIG RESETSTAT.");
    log->warn("Current errors code list: {}", list);
    kinds_.clear();
    kinds_.emplace("ERRORSTATS_DISABLED", 1);
    enabled_ = false;
    return;
  }
  kinds_.emplace(std::string(kind), 1);
}

void ErrorStats::Count(ferrite_error_code code, std::string_view detail) {
  char text[160];  // the kind is within the first 31 bytes
  size_t n = ferrite_error_format(code, detail.data(), detail.size(), text, sizeof text);
  Count(std::string_view(text, n));
}

std::string ErrorStats::InfoLines() const {
  std::string out;
  std::lock_guard lk(mu_);
  for (auto& [kind, n] : kinds_) {
    out += "errorstat_";
    for (char ch : kind)  // Redis' getSafeInfoString
      out += (ch == '#' || ch == ':' || ch == '\n' || ch == '\r') ? '_' : ch;
    out += ":count=" + std::to_string(n) + "\r\n";
  }
  return out;
}

void ErrorStats::Reset() {
  std::lock_guard lk(mu_);
  kinds_.clear();
  enabled_ = true;
}

}  // namespace ferrite::host
