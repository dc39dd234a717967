#include "tests/harness/harness.h"

#include <deque>
#include <functional>
#include <map>
#include <sstream>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/host.h"

namespace ferrite::test {

namespace {

Reply Convert(const ferrite_call_reply* r) {
  const ferrite_host_api* api = host::HostApi();
  Reply out;
  out.type = api->call_reply_type(r);
  switch (out.type) {
    case FERRITE_REPLY_INTEGER:
    case FERRITE_REPLY_BOOL: out.integer = api->call_reply_integer(r); break;
    case FERRITE_REPLY_DOUBLE: out.dbl = api->call_reply_double(r); break;
    case FERRITE_REPLY_ARRAY:
    case FERRITE_REPLY_MAP:
    case FERRITE_REPLY_SET:
    case FERRITE_REPLY_PUSH:
      for (size_t i = 0; i < api->call_reply_length(r); i++)
        out.elems.push_back(Convert(api->call_reply_element(r, i)));
      break;
    default: {
      ferrite_slice s = api->call_reply_string(r);
      out.str.assign(s.ptr, s.len);
    }
  }
  return out;
}

}  // namespace

std::string Reply::ToString() const {
  std::ostringstream o;
  switch (type) {
    case FERRITE_REPLY_SIMPLE: o << "+" << str; break;
    case FERRITE_REPLY_ERROR: o << "-" << str; break;
    case FERRITE_REPLY_INTEGER: o << ":" << integer; break;
    case FERRITE_REPLY_BOOL: o << "#" << (integer ? "t" : "f"); break;
    case FERRITE_REPLY_DOUBLE: o << "," << sdk::FormatDouble(dbl); break;
    case FERRITE_REPLY_BULK: o << "\"" << str << "\""; break;
    case FERRITE_REPLY_NULL: o << "(nil)"; break;
    case FERRITE_REPLY_NULL_ARRAY: o << "(nil array)"; break;
    case FERRITE_REPLY_VERBATIM: o << "=" << str; break;
    case FERRITE_REPLY_BIGNUM: o << "(" << str; break;
    default: {
      const char* open = type == FERRITE_REPLY_MAP ? "%{" : type == FERRITE_REPLY_SET ? "~{" :
                         type == FERRITE_REPLY_PUSH ? ">[" : "[";
      o << open;
      for (size_t i = 0; i < elems.size(); i++) o << (i ? ", " : "") << elems[i].ToString();
      o << (type == FERRITE_REPLY_MAP || type == FERRITE_REPLY_SET ? "}" : "]");
    }
  }
  if (blocked) o << " (blocked)";
  return o.str();
}

void PrintTo(const Reply& r, std::ostream* os) { *os << r.ToString(); }

struct Harness::Impl {
  std::unique_ptr<host::Host> host;
  ferrite_protocol_desc proto{};
  struct ClientState {
    std::shared_ptr<host::Client> client;
    void* capture = nullptr;  // out-of-band replies
    std::vector<Reply> pending;
  };
  std::map<int, ClientState> clients;
  std::deque<std::function<void()>> tasks;
  void* capture = nullptr;  // in-band replies

  ~Impl() {
    for (auto& [i, cs] : clients) {
      host->RemoveClient(cs.client.get());
      host::FreeCaptureState(cs.capture);
    }
    clients.clear();
    host.reset();
    if (capture) host::FreeCaptureState(capture);
  }

  ClientState& Get(int id, int resp) {
    auto it = clients.find(id);
    if (it != clients.end()) return it->second;
    ClientState& cs = clients[id];
    cs.client = host->NewClient();
    cs.client->resp = resp;
    cs.capture = host::NewCaptureState();
    cs.client->proto = &proto;
    cs.client->proto_state = cs.capture;
    cs.client->post = [this](std::function<void()> fn) { tasks.push_back(std::move(fn)); };
    cs.client->on_output = [] {};
    cs.client->on_unblocked = [] {};
    return cs;
  }

  void Collect() {
    for (auto& [id, cs] : clients) {
      ferrite_call_reply* r = host::TakeCapture(cs.capture);
      if (r) {
        cs.pending.push_back(Convert(r));
        host::HostApi()->free_call_reply(r);
      }
    }
  }

  void Drain() {
    host::SetCurrentHost(host.get());
    for (int guard = 0; guard < 100000 && !tasks.empty(); guard++) {
      auto fn = std::move(tasks.front());
      tasks.pop_front();
      fn();
      Collect();
    }
  }
};

Harness::Harness() : Harness(HarnessOptions{}) {}

Harness::Harness(HarnessOptions opts) : impl_(std::make_unique<Impl>()) {
  auto cfg = std::make_unique<host::Config>();
  for (auto& [k, v] : opts.config) cfg->Override(k, v);
  impl_->host = std::make_unique<host::Host>(std::move(cfg));
  impl_->host->clock().Freeze();
  impl_->proto.struct_size = sizeof(ferrite_protocol_desc);
  impl_->proto.name = "harness";
  impl_->proto.sink = host::CaptureSink();
  impl_->capture = host::NewCaptureState();
  for (auto& p : opts.plugins) {
    std::string err = impl_->host->LoadPlugin(p);
    if (!err.empty()) throw std::runtime_error(err);
  }
  resp_ = opts.resp;
}

Harness::~Harness() = default;

Reply Harness::Run(std::initializer_list<std::string_view> argv) { return RunOn(0, argv); }
Reply Harness::Run(const std::vector<std::string>& argv) { return RunOn(0, argv); }

Reply Harness::RunOn(int client, std::initializer_list<std::string_view> argv) {
  std::vector<std::string> v(argv.begin(), argv.end());
  return RunOn(client, v);
}

Reply Harness::RunOn(int client, const std::vector<std::string>& argv) {
  host::SetCurrentHost(impl_->host.get());
  auto& cs = impl_->Get(client, resp_);
  std::vector<ferrite_slice> s;
  for (auto& a : argv) s.push_back({a.data(), a.size()});
  auto rc = impl_->host->Execute(cs.client.get(), static_cast<int>(s.size()), s.data(),
                                 host::CaptureSink(), impl_->capture);
  ferrite_call_reply* r = host::TakeCapture(impl_->capture);
  Reply out;
  if (r) {
    out = Convert(r);
    host::HostApi()->free_call_reply(r);
  }
  if (rc == FERRITE_EXEC_BLOCKED) out.blocked = true;
  impl_->Drain();
  return out;
}

std::vector<Reply> Harness::Pending(int client) {
  impl_->Drain();
  auto it = impl_->clients.find(client);
  if (it == impl_->clients.end()) return {};
  return std::exchange(it->second.pending, {});
}

void Harness::AdvanceTime(int64_t ms) {
  host::SetCurrentHost(impl_->host.get());
  impl_->host->clock().Advance(ms);
  impl_->host->Cron();
  impl_->Drain();
}

host::Host& Harness::host() { return *impl_->host; }

int64_t Harness::NowMs() { return impl_->host->clock().NowMs(); }

struct PropagationRecorder::Impl : host::PropagationSink {
  host::Host* host;
  uint32_t target = FERRITE_PROPAGATE_AOF;
  std::vector<Command> cmds;
  uint32_t Target() const override { return target; }
  void Feed(int db, int argc, const ferrite_slice* argv) override {
    Command c{db, {}};
    for (int i = 0; i < argc; i++) c.argv.emplace_back(argv[i].ptr, argv[i].len);
    cmds.push_back(std::move(c));
  }
};

PropagationRecorder::PropagationRecorder(Harness& h, uint32_t target)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = &h.host();
  impl_->target = target;
  impl_->host->AddPropagationSink(impl_.get());
}
PropagationRecorder::~PropagationRecorder() { impl_->host->RemovePropagationSink(impl_.get()); }
const std::vector<PropagationRecorder::Command>& PropagationRecorder::commands() const {
  return impl_->cmds;
}

struct EventRecorder::Impl {
  host::Host* host;
  std::vector<Event> events;
  static void On(void* self, int db, uint32_t cls, const char* event, ferrite_slice key) {
    static_cast<Impl*>(self)->events.push_back({db, cls, event, std::string(key.ptr, key.len)});
  }
};

// The recorder subscribes as the "no plugin" owner; one recorder per harness at a time.
EventRecorder::EventRecorder(Harness& h, uint32_t mask) : impl_(std::make_unique<Impl>()) {
  impl_->host = &h.host();
  impl_->host->AddEventSubscriber(nullptr, mask, &Impl::On, impl_.get());
}
EventRecorder::~EventRecorder() { impl_->host->RemoveEventSubscribers(nullptr); }
const std::vector<EventRecorder::Event>& EventRecorder::events() const { return impl_->events; }

// ------------------------------- matchers ----------------------------------------------

using ::testing::MakeMatcher;
using ::testing::Matcher;
using ::testing::MatcherInterface;
using ::testing::MatchResultListener;

namespace {

class PredMatcher : public MatcherInterface<const Reply&> {
 public:
  PredMatcher(std::string desc, std::function<bool(const Reply&)> pred)
      : desc_(std::move(desc)), pred_(std::move(pred)) {}
  bool MatchAndExplain(const Reply& r, MatchResultListener* l) const override {
    *l << "got " << r.ToString();
    return pred_(r);
  }
  void DescribeTo(std::ostream* os) const override { *os << desc_; }

 private:
  std::string desc_;
  std::function<bool(const Reply&)> pred_;
};

Matcher<const Reply&> Pred(std::string d, std::function<bool(const Reply&)> p) {
  return MakeMatcher(new PredMatcher(std::move(d), std::move(p)));
}

}  // namespace

Matcher<const Reply&> IsOk() { return IsSimple("OK"); }
Matcher<const Reply&> IsSimple(std::string s) {
  return Pred("+" + s, [s](const Reply& r) { return r.type == FERRITE_REPLY_SIMPLE && r.str == s; });
}
Matcher<const Reply&> IsInt(int64_t v) {
  return Pred(":" + std::to_string(v),
              [v](const Reply& r) { return r.type == FERRITE_REPLY_INTEGER && r.integer == v; });
}
Matcher<const Reply&> IsBulk(std::string s) {
  return Pred("\"" + s + "\"", [s](const Reply& r) {
    return (r.type == FERRITE_REPLY_BULK || r.type == FERRITE_REPLY_VERBATIM) && r.str == s;
  });
}
Matcher<const Reply&> IsDouble(double v) {
  return Pred("," + sdk::FormatDouble(v), [v](const Reply& r) {
    return r.type == FERRITE_REPLY_DOUBLE && (r.dbl == v || (std::isnan(v) && std::isnan(r.dbl)));
  });
}
Matcher<const Reply&> IsNull() {
  return Pred("(nil)", [](const Reply& r) { return r.type == FERRITE_REPLY_NULL; });
}
Matcher<const Reply&> IsNullArray() {
  return Pred("(nil array)", [](const Reply& r) { return r.type == FERRITE_REPLY_NULL_ARRAY; });
}
Matcher<const Reply&> IsError(std::string text) {
  return Pred("-" + text, [text](const Reply& r) { return r.type == FERRITE_REPLY_ERROR && r.str == text; });
}
Matcher<const Reply&> IsErrorPrefix(std::string prefix) {
  return Pred("-" + prefix + "...", [prefix](const Reply& r) {
    return r.type == FERRITE_REPLY_ERROR && r.str.compare(0, prefix.size(), prefix) == 0;
  });
}
Matcher<const Reply&> IsBulkArray(std::vector<std::string> v) {
  std::string d = "[";
  for (auto& s : v) d += "\"" + s + "\" ";
  d += "]";
  return Pred(d, [v](const Reply& r) {
    if (r.type != FERRITE_REPLY_ARRAY && r.type != FERRITE_REPLY_SET) return false;
    if (r.elems.size() != v.size()) return false;
    for (size_t i = 0; i < v.size(); i++)
      if (r.elems[i].type != FERRITE_REPLY_BULK || r.elems[i].str != v[i]) return false;
    return true;
  });
}
Matcher<const Reply&> IsUnorderedBulkArray(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string d = "unordered[";
  for (auto& s : v) d += "\"" + s + "\" ";
  d += "]";
  return Pred(d, [v](const Reply& r) {
    if (r.type != FERRITE_REPLY_ARRAY && r.type != FERRITE_REPLY_SET) return false;
    std::vector<std::string> got;
    for (auto& e : r.elems) {
      if (e.type != FERRITE_REPLY_BULK) return false;
      got.push_back(e.str);
    }
    std::sort(got.begin(), got.end());
    return got == v;
  });
}
Matcher<const Reply&> IsIntArray(std::vector<int64_t> v) {
  std::string d = "[";
  for (auto x : v) d += std::to_string(x) + " ";
  d += "]";
  return Pred(d, [v](const Reply& r) {
    if (r.type != FERRITE_REPLY_ARRAY || r.elems.size() != v.size()) return false;
    for (size_t i = 0; i < v.size(); i++)
      if (r.elems[i].type != FERRITE_REPLY_INTEGER || r.elems[i].integer != v[i]) return false;
    return true;
  });
}
Matcher<const Reply&> IsArrayOf(std::vector<Matcher<const Reply&>> m) {
  return Pred("array of " + std::to_string(m.size()) + " matching elements", [m](const Reply& r) {
    if (r.type != FERRITE_REPLY_ARRAY && r.type != FERRITE_REPLY_SET && r.type != FERRITE_REPLY_MAP &&
        r.type != FERRITE_REPLY_PUSH)
      return false;
    if (r.elems.size() != m.size()) return false;
    for (size_t i = 0; i < m.size(); i++)
      if (!m[i].Matches(r.elems[i])) return false;
    return true;
  });
}
Matcher<const Reply&> IsEmptyArray() {
  return Pred("[]", [](const Reply& r) {
    return (r.type == FERRITE_REPLY_ARRAY || r.type == FERRITE_REPLY_SET) && r.elems.empty();
  });
}

}  // namespace ferrite::test
