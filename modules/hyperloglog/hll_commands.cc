// PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST on the host's string type (an HLL is a
// string, hll.h). Checks, errors, events and what reaches replicas follow redis-server
// 7.0 (src/hyperloglog.c): PFCOUNT refreshing a stale cached cardinality writes the key
// and is propagated as it came; PFMERGE announces "pfadd".
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hll.h"
#include "hyperloglog_internal.h"

namespace ferrite::mod::hll {

using sdk::Key;
using sdk::SV;

namespace {

constexpr const char* kNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr const char* kInvalid = "INVALIDOBJ Corrupted HLL object detected";

size_t SparseMax(const Ctx& ctx) {
  int64_t v = ctx.State<State>()->sparse_max_bytes;
  return v < 0 ? 0 : static_cast<size_t>(v);
}

// Reads a key that must hold an HLL: nullopt view for a missing key; false after the
// error reply (WRONGTYPE for another type, the HLL WRONGTYPE for a foreign string).
bool ReadHll(const Ctx& ctx, const Key& k, std::optional<std::string_view>* out) {
  if (!k.Exists()) return true;
  *out = k.String();
  if (!*out) return ctx.Error(FERRITE_E_WRONGTYPE), false;
  if (!LooksLikeHll(**out)) return ctx.Error(kNotHll), false;
  return true;
}

// Stores an HLL string. Through resize, as Redis edits the sds in place: the value then
// reports OBJECT ENCODING "raw" as it does there, whatever its length.
void WriteHll(Key& k, std::string_view h) {
  char* p = k.Resize(h.size());
  if (p) memcpy(p, h.data(), h.size());
}

// PFADD on a dense HLL in place: the registers are checked first, so a PFADD that
// raises none writes nothing.
bool AddDense(Key& k, std::string_view cur, int argc, const ferrite_slice* argv) {
  std::vector<std::pair<long, uint8_t>> sets;
  const auto* regs = reinterpret_cast<const uint8_t*>(cur.data()) + kHeaderSize;
  for (int j = 2; j < argc; j++) {
    long index = 0;
    uint8_t count = static_cast<uint8_t>(PatternLength(SV(argv[j]), &index));
    if (count > DenseGet(regs, index)) sets.emplace_back(index, count);
  }
  if (sets.empty()) return false;
  auto* p = reinterpret_cast<uint8_t*>(k.Resize(cur.size()));
  if (!p) return false;
  for (auto [index, count] : sets)
    if (count > DenseGet(p + kHeaderSize, index))
      DenseSet(p + kHeaderSize, kDenseSize - kHeaderSize, index, count);
  InvalidateCount(p);
  return true;
}

}  // namespace

// PFADD key [element ...]: 1 if a register changed (or the key was created), else 0.
int CmdPfAdd(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.OpenWrite(SV(argv[1]));
  std::optional<std::string_view> cur;
  if (!ReadHll(ctx, k, &cur)) return FERRITE_OK;
  bool updated = false;
  if (cur && Encoding(*cur) == kDense) {
    updated = AddDense(k, *cur, argc, argv);
  } else {
    std::string h = cur ? std::string(*cur) : NewHll();
    updated = !cur;
    for (int j = 2; j < argc; j++) {
      SetResult r = Add(h, SV(argv[j]), SparseMax(ctx));
      if (r == SetResult::kInvalid) return ctx.Error(kInvalid);
      updated = updated || r == SetResult::kUpdated;
    }
    if (updated) {
      InvalidateCount(reinterpret_cast<uint8_t*>(h.data()));
      WriteHll(k, h);
    }
  }
  if (updated) k.Modified(FERRITE_NOTIFY_STRING, "pfadd");
  return ctx.Int(updated ? 1 : 0);
}

// PFCOUNT key [key ...]. One key: the cached cardinality, refreshed (a write, propagated
// as is) when stale. Several keys: the cardinality of their union, nothing written.
int CmdPfCount(Ctx ctx, int argc, const ferrite_slice* argv) {
  if (argc > 2) {
    std::vector<uint8_t> max(kRegisters, 0);
    for (int j = 1; j < argc; j++) {
      Key k = ctx.Open(SV(argv[j]));
      std::optional<std::string_view> cur;
      if (!ReadHll(ctx, k, &cur)) return FERRITE_OK;
      if (cur && !MergeInto(max.data(), *cur)) return ctx.Error(kInvalid);
    }
    return ctx.Int(static_cast<int64_t>(CountRaw(max.data())));
  }
  Key k = ctx.OpenWrite(SV(argv[1]));
  std::optional<std::string_view> cur;
  if (!ReadHll(ctx, k, &cur)) return FERRITE_OK;
  if (!cur) return ctx.Int(0);
  uint64_t card = 0;
  if (CachedCount(*cur, &card)) return ctx.Int(static_cast<int64_t>(card));
  bool invalid = false;
  card = Count(*cur, &invalid);
  if (invalid) return ctx.Error(kInvalid);
  auto* p = reinterpret_cast<uint8_t*>(k.Resize(cur->size()));
  if (p) StoreCount(p, card);
  std::vector<std::string> verbatim;
  for (int j = 0; j < argc; j++) verbatim.emplace_back(SV(argv[j]));
  ctx.Propagate(verbatim);
  return ctx.Int(static_cast<int64_t>(card));
}

// PFMERGE destkey [sourcekey ...]: destkey counts as a source too. The result is dense
// as soon as one input is.
int CmdPfMerge(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::vector<uint8_t> max(kRegisters, 0);
  bool use_dense = false;
  for (int j = 1; j < argc; j++) {
    Key k = ctx.Open(SV(argv[j]));
    std::optional<std::string_view> cur;
    if (!ReadHll(ctx, k, &cur)) return FERRITE_OK;
    if (!cur) continue;
    if (Encoding(*cur) == kDense) use_dense = true;
    if (!MergeInto(max.data(), *cur)) return ctx.Error(kInvalid);
  }
  Key d = ctx.OpenWrite(SV(argv[1]));
  std::string h = d.Exists() ? std::string(*d.String()) : NewHll();
  if (use_dense && !SparseToDense(h)) return ctx.Error(kInvalid);
  for (long j = 0; j < kRegisters; j++) {
    if (max[j] == 0) continue;
    if (Encoding(h) == kDense) {
      auto* regs = reinterpret_cast<uint8_t*>(h.data()) + kHeaderSize;
      if (max[j] > DenseGet(regs, j)) DenseSet(regs, kDenseSize - kHeaderSize, j, max[j]);
    } else {
      SparseSet(h, j, max[j], SparseMax(ctx));
    }
  }
  InvalidateCount(reinterpret_cast<uint8_t*>(h.data()));
  WriteHll(d, h);
  // A merge is a mass add: Redis announces it as "pfadd".
  d.Modified(FERRITE_NOTIFY_STRING, "pfadd");
  return ctx.Ok();
}

// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. GETREG and TODENSE turn a sparse HLL
// dense (a write, propagated).
int CmdPfDebug(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view sub = SV(argv[1]);
  Key k = ctx.OpenWrite(SV(argv[2]));
  if (!k.Exists()) return ctx.Error("ERR The specified key does not exist");
  std::optional<std::string_view> cur;
  if (!ReadHll(ctx, k, &cur)) return FERRITE_OK;
  std::string h(*cur);
  auto to_dense = [&]() -> int {  // 1 converted, 0 already dense, -1 corrupt
    if (Encoding(h) == kDense) return 0;
    if (!SparseToDense(h)) return -1;
    WriteHll(k, h);
    return 1;
  };
  if (sdk::EqualsIgnoreCase(sub, "GETREG")) {
    if (to_dense() < 0) return ctx.Error(kInvalid);
    const auto* regs = reinterpret_cast<const uint8_t*>(h.data()) + kHeaderSize;
    ctx.Array(kRegisters);
    for (long j = 0; j < kRegisters; j++) ctx.Int(DenseGet(regs, j));
    return FERRITE_OK;
  }
  if (sdk::EqualsIgnoreCase(sub, "DECODE")) {
    if (Encoding(h) != kSparse) return ctx.Error("ERR HLL encoding is not sparse");
    return ctx.Bulk(DecodeSparse(h));
  }
  if (sdk::EqualsIgnoreCase(sub, "ENCODING")) {
    return ctx.Simple(Encoding(h) == kDense ? "dense" : "sparse");
  }
  if (sdk::EqualsIgnoreCase(sub, "TODENSE")) {
    int conv = to_dense();
    if (conv < 0) return ctx.Error(kInvalid);
    return ctx.Int(conv);
  }
  return ctx.Error("ERR Unknown PFDEBUG subcommand '" + std::string(sub) + "'");
}

// PFSELFTEST: Redis' self-test of the register packing and of the estimate's error,
// dense and sparse side by side.
int CmdPfSelfTest(Ctx ctx, int, const ferrite_slice*) {
  std::mt19937 rng(std::random_device{}());
  std::vector<uint8_t> regs(kDenseSize - kHeaderSize + 1, 0), bytes(kRegisters);
  for (int cycle = 0; cycle < 1000; cycle++) {
    for (long i = 0; i < kRegisters; i++) {
      bytes[i] = static_cast<uint8_t>(rng() & kRegisterMax);
      DenseSet(regs.data(), kDenseSize - kHeaderSize, i, bytes[i]);
    }
    for (long i = 0; i < kRegisters; i++) {
      uint8_t v = DenseGet(regs.data(), i);
      if (v != bytes[i]) {
        return ctx.Error("TESTFAILED Register " + std::to_string(i) + " should be " +
                         std::to_string(bytes[i]) + " but is " + std::to_string(v));
      }
    }
  }
  std::string dense(kDenseSize, '\0'), sparse = NewHll();
  memcpy(dense.data(), "HYLL", 4);
  const double relerr = 1.04 / sqrt(kRegisters);
  const size_t sparse_max = SparseMax(ctx);
  int64_t checkpoint = 1;
  const uint64_t seed = (static_cast<uint64_t>(rng()) << 32) | rng();
  for (int64_t j = 1; j <= 10000000; j++) {
    uint64_t ele = static_cast<uint64_t>(j) ^ seed;
    std::string_view e(reinterpret_cast<const char*>(&ele), sizeof ele);
    Add(dense, e, sparse_max);
    Add(sparse, e, sparse_max);
    if (j != checkpoint) continue;
    if (j < static_cast<int64_t>(sparse_max / 2) && Encoding(sparse) != kSparse) {
      return ctx.Error("TESTFAILED sparse encoding not used");
    }
    if (Count(dense, nullptr) != Count(sparse, nullptr)) {
      return ctx.Error("TESTFAILED dense/sparse disagree");
    }
    int64_t abserr = checkpoint - static_cast<int64_t>(Count(dense, nullptr));
    uint64_t maxerr = static_cast<uint64_t>(ceil(relerr * 6 * static_cast<double>(checkpoint)));
    if (j == 10) maxerr = 1;  // collisions make larger errors likely at 10, as in Redis
    if (abserr < 0) abserr = -abserr;
    if (abserr > static_cast<int64_t>(maxerr)) {
      return ctx.Error("TESTFAILED Too big error. card:" + std::to_string(checkpoint) +
                       " abserr:" + std::to_string(abserr));
    }
    checkpoint *= 10;
  }
  return ctx.Ok();
}

}  // namespace ferrite::mod::hll
