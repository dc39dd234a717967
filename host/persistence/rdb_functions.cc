#include "host/persistence/rdb_functions.h"

#include <memory>

#include "host/context.h"
#include "host/host.h"
#include "host/logging.h"
#include "host/persistence/crc64.h"
#include "host/persistence/rdb_format.h"
#include "host/persistence/rdb_reader.h"
#include "host/persistence/rdb_writer.h"

namespace ferrite::host::persist {

namespace {

constexpr uint16_t kPayloadRdbVersion = 10;  // what FUNCTION RESTORE accepts (Redis 7.0)

struct ReplyDeleter {
  void operator()(ferrite_call_reply* r) const { HostApi()->free_call_reply(r); }
};
using Reply = std::unique_ptr<ferrite_call_reply, ReplyDeleter>;

// Runs FUNCTION <args...> as Redis runs its own internal calls: no connection (a client
// of the host's own, never listed), already authorised, its propagation collected by a
// parent that drops it and its change not counted (loading or saving changes nothing a
// save or a replica must learn). Null when no module provides FUNCTION.
Reply RunFunction(Host& h, std::initializer_list<std::string_view> args) {
  const Command* cmd = h.registry().Find("function");
  if (!cmd) return nullptr;
  ferrite_conn client(&h, 0);
  client.authenticated = true;
  std::vector<ferrite_slice> argv{{"FUNCTION", 8}};
  for (auto a : args) argv.push_back({a.data(), a.size()});
  ferrite_ctx parent{&h, &client, nullptr, CaptureSink(), nullptr, 0, nullptr};
  void* cap = NewCaptureState();
  RunHandler(&h, &client, cmd, static_cast<int>(argv.size()), argv.data(), CaptureSink(), cap,
             true, &parent);
  Reply r(TakeCapture(cap));
  FreeCaptureState(cap);
  if (parent.dirty) h.stats().dirty.fetch_sub(1, std::memory_order_relaxed);
  return r;
}

std::string_view Text(ferrite_slice s) { return {s.ptr, s.len}; }

}  // namespace

bool DumpLibraries(Host& h, std::vector<std::string>* codes, std::string* err) {
  codes->clear();
  Reply r = RunFunction(h, {"DUMP"});
  if (!r) return true;
  const ferrite_host_api* api = HostApi();
  if (api->call_reply_type(r.get()) != FERRITE_REPLY_BULK) {
    *err = "FUNCTION DUMP: " + std::string(Text(api->call_reply_error_text(r.get())));
    return false;
  }
  try {
    *codes = ParseFunctionPayload(Text(api->call_reply_string(r.get())));
  } catch (const RdbError& e) {
    *err = std::string("FUNCTION DUMP: ") + e.what();
    return false;
  }
  return true;
}

std::string RestoreLibraries(Host& h, const std::vector<std::string>& codes,
                             LibraryPolicy policy) {
  // The payload FUNCTION DUMP makes: the records, the RDB version, the CRC-64 of both.
  RdbOutput out(-1, false);
  for (auto& code : codes) {
    out.Byte(kOpFunction2);
    out.String(code);
  }
  out.Byte(kPayloadRdbVersion & 0xff);
  out.Byte(kPayloadRdbVersion >> 8);
  std::string payload = out.memory();
  uint64_t crc = Crc64(0, payload.data(), payload.size());
  for (int i = 0; i < 8; i++) payload.push_back(static_cast<char>(crc >> (8 * i)));
  const char* how = policy == LibraryPolicy::kAppend    ? "APPEND"
                    : policy == LibraryPolicy::kReplace ? "REPLACE"
                                                        : "FLUSH";
  Reply r = RunFunction(h, {"RESTORE", payload, how});
  if (!r) {
    if (!codes.empty())
      Logger("host.persistence")
          ->warn("{} function librar{} skipped: no loaded module provides FUNCTION",
                 codes.size(), codes.size() == 1 ? "y" : "ies");
    return "";
  }
  const ferrite_host_api* api = HostApi();
  if (api->call_reply_type(r.get()) == FERRITE_REPLY_ERROR)
    return std::string(Text(api->call_reply_error_text(r.get())));
  return "";
}

}  // namespace ferrite::host::persist
