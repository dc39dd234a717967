// libFuzzer target for the AOF reader: the RDB preamble (when the input starts with
// "REDIS") loaded into a real Host, then ScanAofCommands, the command scanner LoadAof
// runs. Commands are not executed (an AOF can say DEBUG SLEEP or SHUTDOWN); the
// scanner's contract is what is checked:
//  - every argv slice lies inside the input, argc >= 1;
//  - re-encoding a parsed command as RESP and parsing that gives back the same argv
//    and consumes exactly the re-encoded bytes;
//  - `good` never passes the end, and kOk means everything was consumed outside MULTI;
//  - the input cut at `good` (what LoadAof truncates the file to) scans cleanly.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "host/host.h"
#include "host/persistence/aof.h"
#include "host/persistence/fuzz/fuzz_host.h"
#include "host/persistence/rdb_reader.h"

using namespace ferrite::host;
using namespace ferrite::host::persist;

namespace {

void CheckCommand(std::string_view d, int argc, const ferrite_slice* argv) {
  if (argc < 1) fuzz::Violation("a command with no arguments");
  for (int k = 0; k < argc; k++) {
    const char* p = argv[k].ptr;
    if (p < d.data() || p + argv[k].len > d.data() + d.size())
      fuzz::Violation("an argument slice outside the input");
  }
  std::string enc;
  AppendResp(enc, argc, argv);
  size_t i = 0;
  std::vector<ferrite_slice> again;
  if (ParseAofCommand(enc, &i, &again) != AofParse::kOk) fuzz::Violation("re-encoded command does not parse");
  if (i != enc.size()) fuzz::Violation("re-encoded command not consumed exactly");
  if (again.size() != static_cast<size_t>(argc)) fuzz::Violation("re-parsed argc differs");
  for (int k = 0; k < argc; k++)
    if (again[k].len != argv[k].len || memcmp(again[k].ptr, argv[k].ptr, argv[k].len) != 0)
      fuzz::Violation("re-parsed argument differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  if (d.substr(0, 5) == "REDIS") {
    Host& h = fuzz::FuzzHost(fuzz::Role::kPrimary);
    fuzz::Reset(h);
    RdbLoadOptions o;
    o.verify_checksum = false;
    try {
      start = LoadRdb(h, d, o).consumed;
    } catch (const RdbError&) {
      return 0;  // LoadAof fails the same way
    } catch (const std::exception& e) {
      fprintf(stderr, "exception: %s\n", e.what());
      fuzz::Violation("LoadRdb threw something other than RdbError");
    }
    if (start > size) fuzz::Violation("preamble consumed more than the input");
  }
  uint64_t seen = 0;
  AofScan s = ScanAofCommands(d, start, [&](int argc, const ferrite_slice* argv) {
    CheckCommand(d, argc, argv);
    seen++;
  });
  if (s.commands != seen) fuzz::Violation("command count differs from callbacks");
  if (s.good < start || s.good > size) fuzz::Violation("good offset outside [start, size]");
  if (s.result == AofParse::kOk && (s.good != size || s.in_multi))
    fuzz::Violation("kOk but the input was not consumed outside MULTI");
  if (s.result != AofParse::kOk && s.good == size && !s.in_multi)
    fuzz::Violation("an error reported although everything was consumed");
  // Parsing again from the last good offset must stop with the same verdict (what
  // LoadAof's truncation repair relies on: the file cut at `good` loads cleanly).
  AofScan again = ScanAofCommands(d.substr(0, s.good), start, [](int, const ferrite_slice*) {});
  if (again.result != AofParse::kOk || again.good != s.good)
    fuzz::Violation("the input cut at `good` does not scan cleanly");
  return 0;
}
