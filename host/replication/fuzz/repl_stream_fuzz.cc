// libFuzzer target for the replica's stream parser (CommandReader) and the memcached
// flags carrier. Checks, for any input:
//  - every command's arguments lie inside the input and `used` never passes its end;
//  - re-encoding a parsed command and parsing that gives the same arguments and
//    consumes exactly the re-encoded bytes;
//  - feeding the input in two pieces (cut at every 7th byte) parses the same commands;
//  - RewriteForReplicas output, for a parsed command, parses as whole commands, and a
//    field TTL carrier in it gives back the command and key.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "host/replication/repl_stream.h"

using ferrite::host::repl::AppendCasEpochCarrier;
using ferrite::host::repl::AppendCommand;
using ferrite::host::repl::CommandReader;
using ferrite::host::repl::ParseCasEpochCarrier;
using ferrite::host::repl::ParseFieldTtlCarrier;
using ferrite::host::repl::ParseFlagsCarrier;
using ferrite::host::repl::ParseStaleCarrier;
using ferrite::host::repl::RewriteForReplicas;

namespace {

[[noreturn]] void Violation(const char* what) {
  fprintf(stderr, "invariant violated: %s\n", what);
  abort();
}

// Every complete command of `d`, stopping at kNeedMore or kError.
std::vector<std::vector<std::string>> ParseAll(std::string_view d, size_t* consumed) {
  CommandReader r;
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> argv;
  size_t pos = 0;
  for (;;) {
    size_t used = 0;
    auto st = r.Next(d.data() + pos, d.size() - pos, &argv, &used);
    if (st != CommandReader::Status::kCommand) break;
    if (used == 0 || used > d.size() - pos) Violation("used out of range");
    for (auto a : argv)
      if (a.data() < d.data() + pos || a.data() + a.size() > d.data() + pos + used)
        Violation("argument outside the command");
    out.emplace_back(argv.begin(), argv.end());
    pos += used;
  }
  *consumed = pos;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  size_t consumed = 0;
  auto cmds = ParseAll(d, &consumed);
  for (auto& c : cmds) {
    if (c.empty()) continue;
    std::vector<ferrite_slice> s;
    for (auto& a : c) s.push_back({a.data(), a.size()});
    std::string enc;
    AppendCommand(&enc, static_cast<int>(s.size()), s.data());
    size_t used = 0;
    auto again = ParseAll(enc, &used);
    if (used != enc.size() || again.size() != 1 || again[0] != c)
      Violation("re-encoded command does not parse back");
    std::string rewritten;
    if (RewriteForReplicas(static_cast<int>(s.size()), s.data(), &rewritten)) {
      size_t ru = 0;
      auto r = ParseAll(rewritten, &ru);
      if (ru != rewritten.size() || r.empty()) Violation("rewritten form does not parse");
      for (auto& rc : r) {
        std::vector<std::string_view> v(rc.begin(), rc.end());
        std::string_view k, f;
        ParseFlagsCarrier(v, &k, &f);
        // the stale carrier names the key the MC.DELETE named
        if (s.size() == 3 && ParseStaleCarrier(v, &k) && k != c[1])
          Violation("stale carrier lost its key");
        // a hash field TTL carrier gives back the command and key it carries
        std::vector<std::string_view> back;
        if (ParseFieldTtlCarrier(v, &back) && (back.size() < 2 || back[0] != c[0] || back[1] != c[1]))
          Violation("field TTL carrier lost its command or key");
      }
    }
    std::vector<std::string_view> v(c.begin(), c.end());
    uint64_t epoch = 0;
    if (ParseCasEpochCarrier(v, &epoch)) {
      std::string back;
      AppendCasEpochCarrier(&back, epoch);
      size_t bu = 0;
      auto b = ParseAll(back, &bu);
      uint64_t parsed = 0;
      if (b.size() != 1 || !ParseCasEpochCarrier({b[0].begin(), b[0].end()}, &parsed) ||
          parsed != epoch)
        Violation("casepoch carrier does not round-trip");
    }
  }
  // The same bytes in two pieces: everything complete in the first piece parses the same.
  for (size_t cut = 0; cut <= size; cut += 7) {
    size_t c1 = 0;
    auto first = ParseAll(d.substr(0, cut), &c1);
    if (first.size() > cmds.size()) Violation("a prefix parsed more commands");
    for (size_t i = 0; i < first.size(); i++)
      if (first[i] != cmds[i]) Violation("a prefix parsed differently");
  }
  return 0;
}
