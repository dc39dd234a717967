#include "host/monitor_feed.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>

#include "host/client.h"

namespace ferrite::host {

void MonitorFeed::Add(const std::shared_ptr<Client>& c) {
  std::lock_guard lk(mu_);
  for (auto& w : monitors_)
    if (w.lock().get() == c.get()) return;
  monitors_.push_back(c);
  active_.store(static_cast<int>(monitors_.size()), std::memory_order_relaxed);
}

void MonitorFeed::Remove(const Client* c) {
  std::lock_guard lk(mu_);
  std::erase_if(monitors_, [&](const std::weak_ptr<Client>& w) {
    auto s = w.lock();
    return !s || s.get() == c;
  });
  active_.store(static_cast<int>(monitors_.size()), std::memory_order_relaxed);
}

bool MonitorFeed::Contains(const Client* c) const {
  std::lock_guard lk(mu_);
  for (auto& w : monitors_)
    if (w.lock().get() == c) return true;
  return false;
}

void MonitorFeed::AppendRepr(std::string& out, const char* p, size_t n) {
  out += '"';
  for (size_t i = 0; i < n; i++) {
    auto ch = static_cast<unsigned char>(p[i]);
    switch (ch) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (std::isprint(ch)) {
          out += static_cast<char>(ch);
        } else {
          char buf[8];
          snprintf(buf, sizeof buf, "\\x%02x", ch);
          out += buf;
        }
    }
  }
  out += '"';
}

void MonitorFeed::Feed(const Client& from, Origin origin, int db, int argc,
                       const ferrite_slice* argv, const std::vector<int>& redact,
                       int64_t now_us) {
  std::vector<std::shared_ptr<Client>> targets;
  {
    std::lock_guard lk(mu_);
    std::erase_if(monitors_, [&](const std::weak_ptr<Client>& w) {
      auto s = w.lock();
      if (!s || s->closed.load(std::memory_order_relaxed)) return true;
      targets.push_back(std::move(s));
      return false;
    });
    active_.store(static_cast<int>(monitors_.size()), std::memory_order_relaxed);
  }
  if (targets.empty()) return;
  char head[64];
  snprintf(head, sizeof head, "%" PRId64 ".%06" PRId64 " [%d ", now_us / 1000000,
           now_us % 1000000, db);
  auto line = std::make_shared<std::string>(head);
  if (origin == Origin::kScript) *line += "lua";
  else if (from.unix_socket) *line += "unix:" + from.addr.substr(0, from.addr.rfind(':'));
  else *line += from.addr;
  *line += "] ";
  for (int j = 0; j < argc; j++) {
    if (std::find(redact.begin(), redact.end(), j) != redact.end())
      *line += "\"(redacted)\"";
    else
      AppendRepr(*line, argv[j].ptr, argv[j].len);
    if (j != argc - 1) *line += ' ';
  }
  for (auto& m : targets) {
    if (!m->post) continue;
    std::weak_ptr<Client> weak = m;
    m->post([weak, line] {
      auto cl = weak.lock();
      if (!cl || cl->closed.load() || !cl->proto || !cl->monitor) return;
      cl->proto->sink->simple(cl->proto_state, line->data(), line->size());
      if (cl->on_output) cl->on_output();
    });
  }
}

}  // namespace ferrite::host
