// libFuzzer target for the stream type's RDB loader (stream_persist.cc), without a host:
// a fake API table gives the loader Redis' length and string encodings over the input.
//
// Input: one byte choosing the RDB type (15, 19 or 21 by value mod 3), then the value.
// Invariants on every input:
//  - load returns a value or null; nothing escapes, no allocation sized from a length
//    before the bytes behind it were seen (run with -malloc_limit_mb);
//  - a loaded value answers every read the commands make: forward and reverse ranges
//    yield `length` live entries in strictly increasing / decreasing order, each PEL
//    entry has an owner that lists it;
//  - it saves as type 19; that loads again; saving that gives the same bytes;
//  - a deep copy saves to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "../stream_value.h"
#include "../streams_internal.h"

// The io handle is opaque to the module; this target defines it.
struct ferrite_io {
  std::string_view in;
  size_t pos = 0;
  std::string out;
};

namespace ferrite::mod::streams::fuzz {
namespace {

[[noreturn]] void Violation(const char* why) {
  fprintf(stderr, "invariant violated: %s\n", why);
  abort();
}

bool Need(ferrite_io* io, size_t n) { return n <= io->in.size() - io->pos; }

int ReadLen(ferrite_io* io, uint64_t* out) {
  if (!Need(io, 1)) return FERRITE_ERR;
  auto b = static_cast<uint8_t>(io->in[io->pos++]);
  switch (b >> 6) {
    case 0: *out = b & 0x3f; return FERRITE_OK;
    case 1:
      if (!Need(io, 1)) return FERRITE_ERR;
      *out = (uint64_t(b & 0x3f) << 8) | static_cast<uint8_t>(io->in[io->pos++]);
      return FERRITE_OK;
    default: break;
  }
  int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
  if (!n || !Need(io, static_cast<size_t>(n))) return FERRITE_ERR;
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | static_cast<uint8_t>(io->in[io->pos++]);
  *out = v;
  return FERRITE_OK;
}

int ReadString(ferrite_io* io, char** out, size_t* len) {
  uint64_t n;
  if (ReadLen(io, &n) != FERRITE_OK || !Need(io, n)) return FERRITE_ERR;
  *out = static_cast<char*>(malloc(n ? n : 1));
  memcpy(*out, io->in.data() + io->pos, n);
  *len = n;
  io->pos += n;
  return FERRITE_OK;
}

int ReadDouble(ferrite_io* io, double* out) {
  if (!Need(io, 8)) return FERRITE_ERR;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= uint64_t(static_cast<uint8_t>(io->in[io->pos + i])) << (8 * i);
  io->pos += 8;
  memcpy(out, &v, 8);
  return FERRITE_OK;
}

void WriteLen(ferrite_io* io, uint64_t v) {
  if (v < 64) {
    io->out.push_back(static_cast<char>(v));
  } else if (v < 16384) {
    io->out.push_back(static_cast<char>(0x40 | (v >> 8)));
    io->out.push_back(static_cast<char>(v & 0xff));
  } else {
    io->out.push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; i--) io->out.push_back(static_cast<char>(v >> (8 * i)));
  }
}

void WriteString(ferrite_io* io, const char* s, size_t n) {
  WriteLen(io, n);
  io->out.append(s, n);
}

void WriteDouble(ferrite_io* io, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  for (int i = 0; i < 8; i++) io->out.push_back(static_cast<char>(v >> (8 * i)));
}

const ferrite_host_api* FakeApi() {
  static ferrite_host_api api = [] {
    ferrite_host_api a{};
    a.struct_size = sizeof a;
    a.abi_major = FERRITE_ABI_MAJOR;
    a.abi_minor = FERRITE_ABI_MINOR;
    a.io_read_len = ReadLen;
    a.io_read_string = ReadString;
    a.io_read_double = ReadDouble;
    a.io_write_len = WriteLen;
    a.io_write_string = WriteString;
    a.io_write_double = WriteDouble;
    a.io_free = free;
    return a;
  }();
  return &api;
}

std::string Save(const ferrite_type_desc& d, const void* v) {
  ferrite_io io;
  d.save(&io, v);
  return io.out;
}

void CheckReads(const Stream& s) {
  uint64_t n = 0;
  StreamID prev;
  s.Range(StreamID{}, StreamID::Max(), false, [&](const EntryRef& e) {
    if (n && !(prev < e.id())) Violation("forward range out of order");
    prev = e.id();
    n++;
    int64_t fields = 0;
    e.ForEachField([&](const LpElem&, const LpElem&) { fields++; });
    if (fields != e.nfields()) Violation("field count differs from the entry's");
    return true;
  });
  if (n != s.length) Violation("forward range count differs from the length");
  uint64_t m = 0;
  s.Range(StreamID{}, StreamID::Max(), true, [&](const EntryRef& e) {
    if (m && !(e.id() < prev)) Violation("reverse range out of order");
    prev = e.id();
    m++;
    return true;
  });
  if (m != n) Violation("reverse range count differs");
  for (auto& [name, g] : s.groups) {
    for (auto& [id, nack] : g->pel)
      if (!nack.consumer || !nack.consumer->pel.count(id)) Violation("PEL entry without owner");
    for (auto& [cname, c] : g->consumers)
      for (const StreamID& id : c.pel)
        if (!g->pel.count(id) || g->pel.at(id).consumer != &c) Violation("consumer PEL mismatch");
  }
}

}  // namespace

int LoadOne(const uint8_t* data, size_t size) {
  sdk::ApiSlot() = FakeApi();
  if (size < 1) return 0;
  static const int kTypes[] = {15, 19, 21};
  int type = kTypes[data[0] % 3];
  ferrite_type_desc d = TypeDesc();
  ferrite_io io;
  io.in = std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
  void* v = d.load(&io, type);
  if (!v) return 0;
  if (io.pos > io.in.size()) Violation("consumed more than the input");
  auto* s = static_cast<Stream*>(v);
  CheckReads(*s);
  std::string once = Save(d, v);
  ferrite_io again;
  again.in = once;
  void* v2 = d.load(&again, 19);
  if (!v2) Violation("a saved stream does not load");
  if (again.pos != once.size()) Violation("reload did not consume the whole save");
  if (Save(d, v2) != once) Violation("save -> load -> save is not stable");
  void* copy = d.copy(v);
  if (Save(d, copy) != once) Violation("a copy saves differently");
  d.free_value(copy);
  d.free_value(v2);
  d.free_value(v);
  return 0;
}

}  // namespace ferrite::mod::streams::fuzz

#ifndef STREAM_FUZZ_NO_MAIN
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ferrite::mod::streams::fuzz::LoadOne(data, size);
}
#endif
