#include "function_dump.h"

#include <vector>

#include "engine.h"

namespace ferrite::mod::scripting {

namespace {

constexpr unsigned char kOpcodeFunction2 = 0xf5;
constexpr uint16_t kRdbVersion = 10;  // Redis 7.0
const char kBadPayload[] = "ERR payload version or checksum are wrong";

void AppendLen(std::string* out, uint64_t n) {
  if (n < 64) {
    out->push_back(static_cast<char>(n));
  } else if (n < 16384) {
    out->push_back(static_cast<char>(0x40 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else if (n <= 0xffffffffULL) {
    out->push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; i--) out->push_back(static_cast<char>(n >> (8 * i)));
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>(n >> (8 * i)));
  }
}

bool ReadLen(std::string_view in, size_t* pos, uint64_t* n) {
  if (*pos >= in.size()) return false;
  auto b = static_cast<unsigned char>(in[(*pos)++]);
  int kind = b >> 6;
  if (kind == 0) {
    *n = b & 0x3f;
    return true;
  }
  if (kind == 1) {
    if (*pos >= in.size()) return false;
    *n = (uint64_t(b & 0x3f) << 8) | static_cast<unsigned char>(in[(*pos)++]);
    return true;
  }
  int bytes = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
  if (bytes == 0 || *pos + bytes > in.size()) return false;  // encoded ints not used here
  *n = 0;
  for (int i = 0; i < bytes; i++) *n = (*n << 8) | static_cast<unsigned char>(in[(*pos)++]);
  return true;
}

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view data) {
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
  }
  return crc;
}

std::string DumpFunctions(const Engine& e) {
  std::string out;
  for (auto& [name, lib] : e.libraries()) {
    out.push_back(static_cast<char>(kOpcodeFunction2));
    AppendLen(&out, lib.code.size());
    out += lib.code;
  }
  out.push_back(static_cast<char>(kRdbVersion & 0xff));
  out.push_back(static_cast<char>(kRdbVersion >> 8));
  uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

std::string RestoreFunctions(Engine& e, std::string_view p, RestorePolicy policy) {
  if (p.size() < 10) return kBadPayload;
  size_t body = p.size() - 10;
  uint16_t ver = static_cast<unsigned char>(p[body]) |
                 (static_cast<unsigned char>(p[body + 1]) << 8);
  uint64_t crc = 0;
  for (int i = 7; i >= 0; i--) crc = (crc << 8) | static_cast<unsigned char>(p[body + 2 + i]);
  if (ver > kRdbVersion || Crc64(0, p.substr(0, body + 2)) != crc) return kBadPayload;
  std::vector<std::string> codes;
  size_t pos = 0;
  while (pos < body) {
    if (static_cast<unsigned char>(p[pos++]) != kOpcodeFunction2)
      return "ERR given type is not a function";
    uint64_t n = 0;
    if (!ReadLen(p, &pos, &n) || pos + n > body) return kBadPayload;
    codes.emplace_back(p.substr(pos, n));
    pos += n;
  }
  // All or nothing, as Redis' libraryJoin: APPEND refuses a payload naming a library
  // that exists before loading anything; a later failure (a function name another
  // library holds) puts back the libraries as they were.
  if (policy == RestorePolicy::kAppend) {
    for (auto& code : codes) {
      std::string name, err;
      if (!LibraryNameOf(code, &name, &err)) return err;
      if (e.libraries().count(name)) return "ERR Library " + name + " already exists";
    }
  }
  std::vector<std::string> before;
  for (auto& [name, lib] : e.libraries()) before.push_back(lib.code);
  if (policy == RestorePolicy::kFlush) e.FlushFunctions();
  for (auto& code : codes) {
    std::string err;
    if (!e.LoadLibrary(code, policy != RestorePolicy::kAppend, &err).empty()) continue;
    e.FlushFunctions();
    for (auto& old : before) {
      std::string ignored;
      e.LoadLibrary(old, false, &ignored);  // loaded before, so loads again
    }
    return err;
  }
  return "";
}

}  // namespace ferrite::mod::scripting
