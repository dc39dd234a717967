#include "mc_fake_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ferrite::proto::mc {

void FakeBackend::Status(const char* word) {
  McCapture c;
  c.Reset();
  const ferrite_reply_sink* s = McCapture::Sink();
  s->array(&c, 1);
  s->simple(&c, word, strlen(word));
  r_ = c.reply;
}

const McReply& FakeBackend::Exec(const McArgv& argv) {
  std::vector<std::string> a = argv.Strings();
  log.push_back(a);
  r_.Clear();
  // Options follow the positional arguments (key, value, mode, flags / op, delta).
  size_t first_opt = a[0] == "MC.SET" ? 5 : a[0] == "MC.ARITH" ? 4 : 2;
  auto opt = [&](const char* name) -> const std::string* {
    for (size_t i = first_opt; i + 1 < a.size(); i++) {
      if (a[i] == name) return &a[i + 1];
    }
    return nullptr;
  };
  const std::string& cmd = a[0];
  if (cmd == "INFO") {
    r_.AddStr("# Server\r\nuptime_in_seconds:7\r\n");
    return r_;
  }
  if (cmd == "MC.STATS") {
    r_.status = McStatus::kOk;
    for (const char* s : {"cmd_get", "0", "curr_items"}) r_.AddStr(s);
    r_.AddStr(std::to_string(items.size()));
    return r_;
  }
  if (cmd == "MC.FLUSH") {
    items.clear();
    Status("OK");
    return r_;
  }
  auto it = items.find(a[1]);
  bool found = it != items.end();
  if (cmd == "MC.GET" || cmd == "MC.GAT" || cmd == "MC.META") {
    bool created = false;
    if (!found && std::find(a.begin() + 2, a.end(), "VIVIFY") != a.end()) {
      it = items.emplace(a[1], Item{"", 0, next_cas++}).first;
      found = created = true;
    }
    if (!found) {
      Status("MISS");
      return r_;
    }
    Status("HIT");
    const Item& item = it->second;
    if (cmd == "MC.META") {
      for (int64_t v : {int64_t{-1}, int64_t{0}, int64_t(item.cas), int64_t(item.value.size()),
                        int64_t{item.flags}, int64_t{item.bits}}) {
        r_.AddInt(v);
      }
      return r_;
    }
    r_.AddStr(item.value);
    r_.AddInt(item.flags);
    r_.AddInt(int64_t(item.cas));
    if (std::find(a.begin() + 2, a.end(), "BRIEF") == a.end()) {
      // ttl, idle, created, ttl before, bits before, won (the creator wins; no R / stale)
      for (int64_t v : {int64_t{-1}, int64_t{0}, int64_t{created}, int64_t{-1},
                        int64_t{item.bits}, int64_t{created}}) {
        r_.AddInt(v);
      }
      if (created) it->second.bits |= 4;  // FERRITE_MC_WON: later readers see Z
    }
    return r_;
  }
  if (cmd == "MC.SET") {
    const std::string& mode = a[3];
    uint32_t flags = static_cast<uint32_t>(strtoul(a[4].c_str(), nullptr, 10));
    const std::string* cas = opt("CAS");
    if ((mode == "CAS" || (cas && mode != "ADD")) && !found) return Status("NOT_FOUND"), r_;
    if (cas && found && std::to_string(it->second.cas) != *cas) return Status("EXISTS"), r_;
    if (mode == "ADD" && found) return Status("NOT_STORED"), r_;
    if ((mode == "REPLACE" || mode == "APPEND" || mode == "PREPEND") && !found) {
      return Status("NOT_STORED"), r_;
    }
    Item& item = items[a[1]];
    if (mode == "APPEND") item.value += a[2];
    else if (mode == "PREPEND") item.value = a[2] + item.value;
    else item = Item{a[2], flags, 0};
    item.cas = next_cas++;
    item.bits = 0;
    Status("STORED");
    r_.AddInt(int64_t(item.cas));
    r_.AddInt(int64_t(item.value.size()));
    return r_;
  }
  if (cmd == "MC.DELETE") {
    if (!found) return Status("NOT_FOUND"), r_;
    if (opt("CAS") && *opt("CAS") != std::to_string(it->second.cas)) return Status("EXISTS"), r_;
    items.erase(it);
    return Status("DELETED"), r_;
  }
  if (cmd == "MC.TOUCH") {
    if (!found) return Status("NOT_FOUND"), r_;
    Status("TOUCHED");
    r_.AddInt(int64_t(it->second.cas));
    return r_;
  }
  if (cmd == "MC.ARITH") {
    bool created = !found;
    if (!found) {
      if (!opt("VIVIFY")) return Status("NOT_FOUND"), r_;
      it = items.emplace(a[1], Item{*opt("INITIAL"), 0, next_cas++}).first;
    } else {
      char* end = nullptr;
      uint64_t v = strtoull(it->second.value.c_str(), &end, 10);
      if (it->second.value.empty() || *end != '\0') return Status("NON_NUMERIC"), r_;
      uint64_t d = strtoull(a[3].c_str(), nullptr, 10);
      v = a[2] == "INCR" ? v + d : (d > v ? 0 : v - d);
      it->second.value = std::to_string(v);
      it->second.cas = next_cas++;
    }
    Status("HIT");
    r_.AddStr(it->second.value);
    r_.AddInt(int64_t(it->second.cas));
    r_.AddInt(-1);
    r_.AddInt(created ? 1 : 0);
    r_.AddInt(-1);  // ttl before
    return r_;
  }
  r_.status = McStatus::kError;
  r_.error_code = FERRITE_E_UNKNOWN_CMD;
  return r_;
}

}  // namespace ferrite::proto::mc
