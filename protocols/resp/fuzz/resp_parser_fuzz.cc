// libFuzzer target for RequestParser. Invariants:
//  - consumed never exceeds the bytes offered;
//  - a command has at least one argument; a multibulk one at most max_multibulk_len,
//    each within max_bulk_len; an inline one fits in inline_max bytes;
//    and every argument lies inside the input or the parser's own scratch;
//  - the same bytes split in two (first byte of input chooses where) give the same
//    commands and the same final state as when parsed whole.
// Build: cmake -DFERRITE_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "resp_parser.h"

using ferrite::proto::resp::Limits;
using ferrite::proto::resp::ParseStatus;
using ferrite::proto::resp::RequestParser;

namespace {

#define CHECK(cond) \
  do {              \
    if (!(cond)) abort(); \
  } while (0)

struct Result {
  std::vector<std::vector<std::string>> commands;
  ParseStatus last = ParseStatus::kIncomplete;
  std::string error;
  size_t consumed = 0;
  bool operator==(const Result& o) const {
    return commands == o.commands && last == o.last && error == o.error &&
           consumed == o.consumed;
  }
};

// Parses what the host holds in `buf`; returns how much was consumed.
size_t Drain(RequestParser& p, const std::string& buf, const Limits& lim, Result* r) {
  size_t pos = 0;
  while (pos < buf.size() && r->last != ParseStatus::kError) {
    size_t used = 0;
    size_t avail = buf.size() - pos;
    ParseStatus st = p.Parse(buf.data() + pos, avail, lim, &used);
    CHECK(used <= avail);
    if (st == ParseStatus::kIncomplete) {
      CHECK(used == 0);
      break;
    }
    if (st == ParseStatus::kError) {
      r->last = st;
      r->error = p.ErrorText();
      break;
    }
    CHECK(used > 0);
    if (st == ParseStatus::kCommand) {
      // Multibulk: the count and bulk limits; inline: everything fits in one line.
      bool multibulk = buf[pos] == '*';
      int64_t max_args = multibulk ? lim.max_multibulk_len : static_cast<int64_t>(lim.inline_max);
      int64_t max_len = multibulk ? lim.max_bulk_len : static_cast<int64_t>(lim.inline_max);
      CHECK(p.Argc() >= 1 && p.Argc() <= max_args);
      std::vector<std::string> cmd;
      for (int i = 0; i < p.Argc(); i++) {
        const ferrite_slice& a = p.Argv()[i];
        CHECK(static_cast<int64_t>(a.len) <= max_len);
        CHECK(a.len <= used);
        cmd.emplace_back(a.ptr, a.len);  // ASan catches a slice outside live memory
      }
      r->commands.push_back(std::move(cmd));
    }
    pos += used;
  }
  return pos;
}

Result Run(const std::vector<std::string>& chunks, const Limits& lim) {
  RequestParser p;
  Result r;
  std::string buf;
  for (const auto& c : chunks) {
    buf += c;
    size_t used = Drain(p, buf, lim, &r);
    r.consumed += used;
    if (r.last == ParseStatus::kError) break;
    buf.erase(0, used);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the limits (small ones reach the limit paths), byte 1 the split.
  Limits lim;
  lim.inline_max = 16 + (data[0] & 0x3f);
  lim.max_bulk_len = 1 + (data[0] >> 4) * 8;
  lim.max_multibulk_len = 1 + (data[0] & 0x0f);
  lim.unauthenticated = data[0] & 0x80;
  std::string in(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t cut = in.empty() ? 0 : data[1] % (in.size() + 1);
  Result whole = Run({in}, lim);
  Result split = Run({in.substr(0, cut), in.substr(cut)}, lim);
  CHECK(whole == split);
  CHECK(whole.consumed <= in.size());
  return 0;
}
