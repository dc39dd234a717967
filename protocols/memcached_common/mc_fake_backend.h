// A host-free McBackend for the parsers' unit tests and fuzz targets: the MC.* reply
// contract of modules/strings/mc_commands.h over a std::map, with a log of every argv
// and all bytes written. Semantics are deliberately small (no clock: exptime only
// matters as "negative = gone"); the real semantics are tested through the host.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mc_common.h"

namespace ferrite::proto::mc {

class FakeBackend : public McBackend {
 public:
  struct Item {
    std::string value;
    uint32_t flags = 0;
    uint64_t cas = 0;
    uint32_t bits = 0;  // FERRITE_MC_*: only the vivify win is modelled
  };

  const McReply& Exec(const McArgv& argv) override;
  void Write(std::string_view bytes) override { out.append(bytes); }
  void Close(bool after_reply) override { closed = after_reply ? 1 : 2; }
  int64_t ItemSizeMax() override { return item_size_max; }
  bool NeedsAuth() override { return needs_auth; }
  bool Authenticate(std::string_view user, std::string_view pass) override {
    if (user == "user" && pass == "pass") needs_auth = false;
    return !needs_auth;
  }
  bool ShutdownAllowed() override { return false; }

  std::map<std::string, Item> items;
  std::vector<std::vector<std::string>> log;
  std::string out;
  int closed = 0;
  bool needs_auth = false;
  int64_t item_size_max = 1024;
  uint64_t next_cas = 1;

 private:
  void Status(const char* word);
  McReply r_;
};

}  // namespace ferrite::proto::mc
