// Replays the stream loader's fuzz corpus (seeds and inputs the fuzzer kept) through the
// fuzz target's entry point in the normal test build, so its invariants are checked on
// every run, not only where clang and libFuzzer are at hand.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace ferrite::mod::streams::fuzz {
int LoadOne(const uint8_t* data, size_t size);
}

TEST(StreamLoadFuzzCorpus, EveryInputKeepsTheInvariants) {
  int n = 0;
  for (auto& p : std::filesystem::directory_iterator(STREAM_FUZZ_CORPUS)) {
    std::ifstream f(p.path(), std::ios::binary);
    std::string d((std::istreambuf_iterator<char>(f)), {});
    ferrite::mod::streams::fuzz::LoadOne(reinterpret_cast<const uint8_t*>(d.data()), d.size());
    n++;
  }
  EXPECT_GE(n, 3);
}
