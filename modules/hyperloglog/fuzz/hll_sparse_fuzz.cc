// libFuzzer target for the HLL sparse decoder and editor (modules/hyperloglog/hll.cc):
// what PFCOUNT, PFMERGE, PFDEBUG and PFADD do with an HLL string a client wrote with SET
// or RESTORE. The input's first byte picks a register to set (with the second as its
// value); the rest is a sparse body behind a valid "HYLL" header. Invariants:
//  - decoding never reads or writes out of bounds (ASan), whatever the bytes;
//  - MergeInto and SparseToDense agree on whether the body is valid; what Count accepts
//    they accept (the reverse does not hold, as in Redis: they stop at the opcode that
//    would pass register 16384, Count reads on, so opcodes after a complete body make
//    PFCOUNT answer INVALIDOBJ while PFMERGE takes the HLL); where all accept it, dense
//    and sparse give the same estimate and registers;
//  - setting a register of a valid sparse HLL leaves a valid HLL (sparse that still
//    covers 16384 registers, within hll-sparse-max-bytes, or dense of the right size)
//    whose register holds at least the value set, every other register unchanged —
//    unless the body ends in an XZERO cut after its first byte: Redis reads the missing
//    byte as the sds terminator (0), and an edit of that opcode loses the byte again, as
//    there; only memory safety is asked of such bodies.
//
// Built with the fuzz preset (clang, -fsanitize=fuzzer,address,undefined):
//   build/fuzz/modules/hyperloglog/hll_sparse_fuzz -max_total_time=60
//     modules/hyperloglog/fuzz/corpus
// The committed corpus is replayed by the normal test build (hll_fuzz_corpus_test).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hll.h"

namespace {

using namespace ferrite::mod::hll;

void Check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "hll_sparse_fuzz: %s\n", what);
    abort();
  }
}

// Whether the last opcode is an XZERO missing its second byte.
bool EndsInCutXzero(const std::string& h) {
  size_t p = kHeaderSize;
  bool cut = false;
  while (p < h.size()) {
    const auto b = static_cast<uint8_t>(h[p]);
    const bool xzero = (b & 0xc0) == 0x40;
    cut = xzero && p + 1 == h.size();
    p += xzero ? 2 : 1;
  }
  return cut;
}

std::vector<uint8_t> Registers(const std::string& h, bool* ok) {
  std::vector<uint8_t> r(kRegisters, 0);
  *ok = MergeInto(r.data(), h);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 64 * 1024) return 0;
  const long index = ((data[0] << 8) | data[1]) & (kRegisters - 1);
  const uint8_t count = static_cast<uint8_t>(1 + data[1] % 51);
  std::string h(kHeaderSize, '\0');
  memcpy(h.data(), "HYLL", 4);
  h[4] = static_cast<char>(kSparse);
  h.append(reinterpret_cast<const char*>(data + 2), size - 2);
  Check(LooksLikeHll(h), "a HYLL sparse header is accepted");

  bool invalid = false;
  uint64_t sparse_count = Count(h, &invalid);
  bool merge_ok = false;
  std::vector<uint8_t> before = Registers(h, &merge_ok);
  std::string dense = h;
  bool dense_ok = SparseToDense(dense);
  (void)DecodeSparse(h);
  Check(merge_ok == dense_ok, "MergeInto and SparseToDense agree on validity");
  if (!dense_ok) {
    Check(invalid, "what Count accepts converts");
    Check(dense == h, "a failed conversion leaves the string alone");
    return 0;
  }
  Check(dense.size() == kDenseSize && LooksLikeHll(dense), "dense size");
  if (invalid) return 0;  // opcodes past a complete body: Count refuses, the rest do not
  Check(Count(dense, nullptr) == sparse_count, "dense and sparse estimates agree");
  bool ok = false;
  Check(Registers(dense, &ok) == before && ok, "dense and sparse registers agree");

  const size_t max_bytes = 3000;
  const size_t size_before = h.size();
  const bool cut = EndsInCutXzero(h);
  SetResult r = SparseSet(h, index, count, max_bytes);
  if (cut) return 0;
  Check(r != SetResult::kInvalid, "a valid body takes a register update");
  Check(LooksLikeHll(h), "still an HLL");
  if (Encoding(h) == kSparse) {
    invalid = false;
    Count(h, &invalid);
    Check(!invalid, "the edited sparse body covers every register");
    Check(h.size() <= std::max(max_bytes, size_before), "sparse stays within the limit");
  }
  std::vector<uint8_t> after = Registers(h, &ok);
  Check(ok, "the edited HLL merges");
  for (long i = 0; i < kRegisters; i++) {
    if (i == index) {
      Check(after[i] == std::max(before[i], count), "the register holds the max");
    } else {
      Check(after[i] == before[i], "other registers are unchanged");
    }
  }
  Check((r == SetResult::kUpdated) == (count > before[index]), "updated iff raised");
  return 0;
}
