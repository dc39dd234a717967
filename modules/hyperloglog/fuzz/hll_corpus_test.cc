// Replays the committed corpus (modules/hyperloglog/fuzz/corpus) through the libFuzzer
// target's own entry point, so every normal test build checks each seed and every
// input that once broke the HLL sparse code, with the same invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#define LLVMFuzzerTestOneInput HllSparseFuzzOne
#include "fuzz/hll_sparse_fuzz.cc"
#undef LLVMFuzzerTestOneInput

namespace {

namespace fs = std::filesystem;

TEST(HllFuzzCorpus, EveryFileIsSurvived) {
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(FERRITE_HLL_FUZZ_CORPUS))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 4u);
  for (auto& p : files) {
    std::ifstream f(p, std::ios::binary);
    std::string d(std::istreambuf_iterator<char>(f), {});
    SCOPED_TRACE(p.filename().string());
    EXPECT_EQ(HllSparseFuzzOne(reinterpret_cast<const uint8_t*>(d.data()), d.size()), 0);
  }
}

}  // namespace
