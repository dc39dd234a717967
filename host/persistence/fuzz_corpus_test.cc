// Replays the committed fuzz corpus (fuzz/corpus/{rdb,aof}) through the two libFuzzer
// targets' own entry points, so the normal test build exercises every seed and every
// input that once crashed, with the same invariants, without libFuzzer. Files named
// seed-* are real files written by redis-server 7.0 or ferrite-host (and one hand-built
// Redis 7.4 file, see fuzz/README.md) and must also load cleanly with the checksum
// verified; crash-* files must merely be survived.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

// Each target's entry point under its own name (both define LLVMFuzzerTestOneInput).
#define LLVMFuzzerTestOneInput RdbLoadFuzzOne
#include "host/persistence/fuzz/rdb_load_fuzz.cc"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput AofParseFuzzOne
#include "host/persistence/fuzz/aof_parse_fuzz.cc"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput RestorePayloadFuzzOne
#include "host/persistence/fuzz/restore_payload_fuzz.cc"
#undef LLVMFuzzerTestOneInput

namespace ferrite::host::persist {
namespace {

namespace fs = std::filesystem;

struct Violated : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<fs::path> Files(const char* sub) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(fs::path(FERRITE_FUZZ_CORPUS) / sub))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

bool IsSeed(const fs::path& p) { return p.filename().string().rfind("seed-", 0) == 0; }

class FuzzCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    fuzz::SetViolationHook([](const char* why) { throw Violated(why); });
  }
  void TearDown() override { fuzz::SetViolationHook(nullptr); }

  template <class Fn>
  void Replay(const char* sub, Fn one, size_t min_files) {
    auto files = Files(sub);
    EXPECT_GE(files.size(), min_files);
    for (auto& p : files) {
      std::string d = Read(p);
      try {
        one(reinterpret_cast<const uint8_t*>(d.data()), d.size());
      } catch (const Violated& v) {
        ADD_FAILURE() << p.filename() << ": " << v.what();
      }
    }
  }
};

TEST_F(FuzzCorpus, RdbInputsKeepTheLoaderInvariants) {
  Replay("rdb", RdbLoadFuzzOne, 10);
}

TEST_F(FuzzCorpus, AofInputsKeepTheScannerInvariants) {
  Replay("aof", AofParseFuzzOne, 5);
}

TEST_F(FuzzCorpus, RestorePayloadsKeepTheLoaderInvariants) {
  Replay("restore", RestorePayloadFuzzOne, 7);
}

// The restore seeds are redis-server 7.0 DUMP payloads without their footer: each loads.
TEST_F(FuzzCorpus, RestoreSeedsLoad) {
  for (auto& p : Files("restore")) {
    if (!IsSeed(p)) continue;
    std::string d = Read(p);
    size_t consumed = 0;
    LoadedValue v;
    EXPECT_NO_THROW(v = LoadObject(fuzz::FuzzHost(fuzz::Role::kPrimary), d, &consumed))
        << p.filename();
    EXPECT_EQ(consumed, d.size()) << p.filename();
    v.Free();
  }
}

TEST_F(FuzzCorpus, RdbSeedsLoadWithTheirChecksum) {
  int seeds = 0;
  for (auto& p : Files("rdb")) {
    if (!IsSeed(p)) continue;
    seeds++;
    Host& h = fuzz::FuzzHost(fuzz::Role::kPrimary);
    fuzz::Reset(h);
    std::string d = Read(p);
    RdbLoadOptions o;  // checksum verified
    try {
      auto st = LoadRdb(h, d, o);
      EXPECT_EQ(st.consumed, d.size()) << p.filename();
      EXPECT_GT(fuzz::CountKeys(h), 0u) << p.filename();
    } catch (const RdbError& e) {
      ADD_FAILURE() << p.filename() << ": " << e.what();
    }
  }
  EXPECT_GE(seeds, 10);
}

}  // namespace
}  // namespace ferrite::host::persist
