// DUMP and RESTORE with Redis' payload: the value as RDB writes it (type byte, value),
// then the RDB version (2 bytes, little endian) and a CRC-64 of everything before it
// (8 bytes, little endian). A DUMP of redis-server 7.0 RESTOREs here and the reverse,
// for every type Ferrite has (Redis' compact encodings are decoded on the way in; what
// Ferrite writes is the plain form every Redis version loads).
#include "host/persistence/dump.h"

#include <strings.h>

#include <optional>
#include <string>
#include <vector>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/persistence/crc64.h"
#include "host/persistence/rdb_format.h"
#include "host/persistence/rdb_reader.h"
#include "host/persistence/rdb_writer.h"
#include "host/server_commands.h"

namespace ferrite::host::persist {

std::string DumpPayload(const Entry& e, bool compress) {
  RdbOutput out(-1, compress);
  WriteValue(out, e, std::nullopt);
  std::string p = out.memory();
  p.push_back(static_cast<char>(kRdbVersion & 0xff));
  p.push_back(static_cast<char>(kRdbVersion >> 8));
  uint64_t crc = Crc64(0, p.data(), p.size());
  for (int i = 0; i < 8; i++) p.push_back(static_cast<char>(crc >> (8 * i)));
  return p;
}

bool VerifyDumpPayload(std::string_view p) {
  if (p.size() < 10) return false;
  const auto* footer = reinterpret_cast<const uint8_t*>(p.data() + p.size() - 10);
  int version = footer[0] | (footer[1] << 8);
  if (version > kRdbVersion) return false;
  uint64_t want = 0;
  for (int i = 7; i >= 0; i--) want = (want << 8) | footer[2 + i];
  return Crc64(0, p.data(), p.size() - 8) == want;
}

namespace {

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

const ferrite_host_api& Api() { return *HostApi(); }

// DUMP key: the payload, or null for a missing key.
int CmdDump(ferrite_ctx* c, int, const ferrite_slice* argv) {
  ferrite_key* k = Api().open_key(c, argv[1], FERRITE_KEY_READ);
  if (!k->e) {
    c->sink->null(c->st);
    return FERRITE_OK;
  }
  std::string p = DumpPayload(*k->e, c->host->config().Bool("persistence.rdbcompression"));
  c->sink->bulk(c->st, p.data(), p.size());
  return FERRITE_OK;
}

struct RestoreOptions {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
};

// The options after the payload, with Redis' rules: IDLETIME and FREQ exclude each
// other, each number is checked as it is read. Replies the error and returns false.
bool ParseRestoreOptions(ferrite_ctx* c, int argc, const ferrite_slice* argv,
                         RestoreOptions* o) {
  for (int j = 4; j < argc; j++) {
    const int more = argc - j - 1;
    std::string_view w = SV(argv[j]);
    if (EqualsIgnoreCase(w, "REPLACE")) {
      o->replace = true;
    } else if (EqualsIgnoreCase(w, "ABSTTL")) {
      o->absttl = true;
    } else if (EqualsIgnoreCase(w, "IDLETIME") && more >= 1 && o->freq == -1) {
      if (!sdk::ParseInt64(SV(argv[++j]), &o->idle)) return Error(c, "", FERRITE_E_NOT_INTEGER), false;
      if (o->idle < 0) return Error(c, "ERR Invalid IDLETIME value, must be >= 0"), false;
    } else if (EqualsIgnoreCase(w, "FREQ") && more >= 1 && o->idle == -1) {
      if (!sdk::ParseInt64(SV(argv[++j]), &o->freq)) return Error(c, "", FERRITE_E_NOT_INTEGER), false;
      if (o->freq < 0 || o->freq > 255)
        return Error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255"), false;
    } else {
      return Error(c, "", FERRITE_E_SYNTAX), false;
    }
  }
  return true;
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. A relative TTL is
// propagated as an absolute one (ABSTTL appended), as Redis rewrites the command; a
// REPLACE whose TTL has already passed deletes the key and propagates DEL.
int CmdRestore(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  RestoreOptions o;
  if (!ParseRestoreOptions(c, argc, argv, &o)) return FERRITE_OK;
  ferrite_key* k = Api().open_key(c, argv[1], FERRITE_KEY_WRITE);
  if (!o.replace && k->e) return Error(c, "BUSYKEY Target key name already exists.");
  int64_t ttl = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &ttl)) return Error(c, "", FERRITE_E_NOT_INTEGER);
  if (ttl < 0) return Error(c, "ERR Invalid TTL value, must be >= 0");
  std::string_view payload = SV(argv[3]);
  if (!VerifyDumpPayload(payload)) return Error(c, "ERR DUMP payload version or checksum are wrong");
  LoadedValue v;
  try {
    v = LoadObject(*c->host, payload.substr(0, payload.size() - 10), nullptr);
  } catch (const RdbError&) {
    return Error(c, "ERR Bad data format");
  }
  if (v.Empty()) {
    v.Free();
    return Error(c, "ERR Bad data format");
  }
  bool deleted = o.replace && Api().key_delete(k);
  const int64_t now = c->host->clock().NowMs();
  if (ttl && !o.absttl) ttl += now;
  if (ttl && ttl <= now) {
    v.Free();
    if (deleted) {
      Api().notify(c, FERRITE_NOTIFY_GENERIC, "del", argv[1]);
      ferrite_slice del[2] = {{"DEL", 3}, argv[1]};
      Api().propagate(c, 2, del);
    }
    c->sink->simple(c->st, "OK", 2);
    return FERRITE_OK;
  }
  if (v.type) {
    Api().key_set_value(k, v.type, v.value);
  } else {
    Api().key_string_set(k, v.str.data(), v.str.size());
  }
  if (ttl) Api().key_set_expire(k, ttl);
  if (k->e) c->host->RestoreAccess(k->e, o.freq, o.idle);
  Api().notify(c, FERRITE_NOTIFY_GENERIC, "restore", argv[1]);
  if (ttl && !o.absttl) {
    std::vector<ferrite_slice> out(argv, argv + argc);
    std::string abs = std::to_string(ttl);
    out[2] = {abs.data(), abs.size()};
    out.push_back({"ABSTTL", 6});
    Api().propagate(c, static_cast<int>(out.size()), out.data());
  }
  c->sink->simple(c->st, "OK", 2);
  return FERRITE_OK;
}

}  // namespace

void RegisterDumpCommands(Host* h) {
  using namespace sdk::flags;
  // clang-format off
  AddHostCommand(h, "DUMP",     2, READONLY,          1, 1, 1, CmdDump,    "generic", "Serialize the value stored at key in Redis' DUMP format");
  AddHostCommand(h, "RESTORE", -4, WRITE | DENYOOM,   1, 1, 1, CmdRestore, "generic", "Create a key from a DUMP payload");
  // clang-format on
  RegisterMigrateCommand(h);
}

}  // namespace ferrite::host::persist
