#include "hll.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace ferrite::mod::hll {

namespace {

// Sparse opcodes (see hll.h).
constexpr uint8_t kXzeroBit = 0x40;
constexpr uint8_t kValBit = 0x80;
constexpr int kZeroMaxLen = 64;
constexpr int kXzeroMaxLen = 16384;
constexpr int kValMaxLen = 4;
constexpr size_t kDenseBody = kDenseSize - kHeaderSize;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
bool IsXzero(uint8_t b) { return (b & 0xc0) == kXzeroBit; }
bool IsVal(uint8_t b) { return b & kValBit; }
int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
int XzeroLen(uint8_t b0, uint8_t b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int ValLen(uint8_t b) { return (b & 0x3) + 1; }
uint8_t ValOp(int value, int len) {
  return static_cast<uint8_t>(((value - 1) << 2 | (len - 1)) | kValBit);
}
uint8_t ZeroOp(int len) { return static_cast<uint8_t>(len - 1); }
void XzeroOp(uint8_t* p, int len) {
  int l = len - 1;
  p[0] = static_cast<uint8_t>((l >> 8) | kXzeroBit);
  p[1] = static_cast<uint8_t>(l & 0xff);
}

uint8_t* Bytes(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }
const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// The byte after the last opcode reads as 0, as the sds terminator does in Redis (an
// XZERO cut off at the end of a corrupt string reads it).
uint8_t At(std::string_view s, size_t i) { return i < s.size() ? static_cast<uint8_t>(s[i]) : 0; }

// Ertl's sigma and tau ("New cardinality estimation algorithms for HyperLogLog
// sketches", arXiv:1702.01284), with Redis' loop shapes so the doubles are the same.
double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime, y = 1, z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime, y = 1.0, z = 1 - x;
  do {
    x = sqrt(x);
    z_prime = z;
    y *= 0.5;
    z -= pow(1 - x, 2) * y;
  } while (z_prime != z);
  return z / 3;
}

uint64_t Estimate(const int64_t* reghisto) {
  const double m = kRegisters;
  double z = m * Tau((m - static_cast<double>(reghisto[kQ + 1])) / m);
  for (int j = kQ; j >= 1; --j) {
    z += static_cast<double>(reghisto[j]);
    z *= 0.5;
  }
  z += m * Sigma(static_cast<double>(reghisto[0]) / m);
  return static_cast<uint64_t>(llroundl(kAlphaInf * m * m / z));
}

void DenseHisto(const uint8_t* r, int64_t* reghisto) {
  // 16 registers fill 12 bytes exactly.
  for (int j = 0; j < kRegisters / 16; j++, r += 12) {
    for (int g = 0; g < 4; g++) {
      const uint8_t* b = r + 3 * g;
      reghisto[b[0] & 63]++;
      reghisto[(b[0] >> 6 | b[1] << 2) & 63]++;
      reghisto[(b[1] >> 4 | b[2] << 4) & 63]++;
      reghisto[(b[2] >> 2) & 63]++;
    }
  }
}

// Walks a sparse body, calling fn(index, runlen, value) for each VAL opcode and counting
// zero runs. Returns the number of registers covered, stopping early (at a value beyond
// 16384 registers) as Redis' decoders do.
template <class Fn>
long WalkSparse(std::string_view hll, Fn fn, int64_t* zeros, bool stop_on_overflow) {
  long idx = 0;
  size_t p = kHeaderSize, end = hll.size();
  while (p < end) {
    uint8_t b = At(hll, p);
    if (IsZero(b)) {
      idx += ZeroLen(b);
      *zeros += ZeroLen(b);
      p++;
    } else if (IsXzero(b)) {
      int len = XzeroLen(b, At(hll, p + 1));
      idx += len;
      *zeros += len;
      p += 2;
    } else {
      int runlen = ValLen(b);
      if (stop_on_overflow && runlen + idx > kRegisters) break;
      fn(idx, runlen, ValValue(b));
      idx += runlen;
      p++;
    }
  }
  return idx;
}

}  // namespace

uint64_t MurmurHash64A(const void* key, size_t len, uint32_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  // Redis passes the length as an int.
  uint64_t h = seed ^ (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(len))) * m);
  const uint8_t* data = static_cast<const uint8_t*>(key);
  const uint8_t* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; i--) k = (k << 8) | data[i];  // little endian, any host
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  switch (len & 7) {
    case 7: h ^= static_cast<uint64_t>(data[6]) << 48; [[fallthrough]];
    case 6: h ^= static_cast<uint64_t>(data[5]) << 40; [[fallthrough]];
    case 5: h ^= static_cast<uint64_t>(data[4]) << 32; [[fallthrough]];
    case 4: h ^= static_cast<uint64_t>(data[3]) << 24; [[fallthrough]];
    case 3: h ^= static_cast<uint64_t>(data[2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint64_t>(data[1]) << 8; [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(data[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

int PatternLength(std::string_view ele, long* reg) {
  uint64_t hash = MurmurHash64A(ele.data(), ele.size(), 0xadc83b19U);
  *reg = static_cast<long>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // the run ends by bit Q at the latest
  return std::countr_zero(hash) + 1;
}

bool LooksLikeHll(std::string_view v) {
  if (v.size() < kHeaderSize || v.substr(0, 4) != "HYLL") return false;
  uint8_t enc = static_cast<uint8_t>(v[4]);
  if (enc > kSparse) return false;
  return enc != kDense || v.size() == kDenseSize;
}

std::string NewHll() {
  std::string s(kHeaderSize + 2 * ((kRegisters + kXzeroMaxLen - 1) / kXzeroMaxLen), '\0');
  memcpy(s.data(), "HYLL", 4);
  s[4] = static_cast<char>(kSparse);
  uint8_t* p = Bytes(s) + kHeaderSize;
  for (int left = kRegisters; left > 0; p += 2) {
    int run = left < kXzeroMaxLen ? left : kXzeroMaxLen;
    XzeroOp(p, run);
    left -= run;
  }
  return s;
}

uint8_t Encoding(std::string_view hll) { return static_cast<uint8_t>(hll[4]); }

uint8_t DenseGet(const uint8_t* regs, long index) {
  size_t byte = static_cast<size_t>(index) * kBits / 8;
  unsigned fb = (index * kBits) & 7;
  unsigned b0 = regs[byte];
  // The last register ends inside its byte: the next byte (past the body) adds nothing.
  unsigned b1 = byte + 1 < kDenseBody ? regs[byte + 1] : 0;
  return static_cast<uint8_t>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void DenseSet(uint8_t* regs, size_t regs_len, long index, uint8_t value) {
  size_t byte = static_cast<size_t>(index) * kBits / 8;
  unsigned fb = (index * kBits) & 7, fb8 = 8 - fb, v = value;
  regs[byte] = static_cast<uint8_t>((regs[byte] & ~(kRegisterMax << fb)) | (v << fb));
  if (byte + 1 < regs_len) {
    regs[byte + 1] =
        static_cast<uint8_t>((regs[byte + 1] & ~(kRegisterMax >> fb8)) | (v >> fb8));
  }
}

bool SparseToDense(std::string& hll) {
  if (Encoding(hll) == kDense) return true;
  std::string dense(kDenseSize, '\0');
  memcpy(dense.data(), hll.data(), kHeaderSize);  // magic and cached cardinality
  dense[4] = static_cast<char>(kDense);
  uint8_t* regs = Bytes(dense) + kHeaderSize;
  int64_t zeros = 0;
  long idx = WalkSparse(
      hll,
      [&](long first, int runlen, int value) {
        for (int i = 0; i < runlen; i++) DenseSet(regs, kDenseBody, first + i, value);
      },
      &zeros, true);
  if (idx != kRegisters) return false;
  hll = std::move(dense);
  return true;
}

namespace {

// Promotion of a sparse HLL that cannot take the update as sparse.
SetResult Promote(std::string& hll, long index, uint8_t count) {
  if (!SparseToDense(hll)) return SetResult::kInvalid;
  uint8_t* regs = Bytes(hll) + kHeaderSize;
  if (count > DenseGet(regs, index)) DenseSet(regs, kDenseBody, index, count);
  return SetResult::kUpdated;
}

// Step 4 of Redis' hllSparseSet: merges adjacent VAL opcodes of equal value, looking at
// up to five opcodes from `from`.
void MergeAdjacentVals(std::string& hll, size_t from) {
  size_t p = from, end = hll.size();
  int scanlen = 5;
  while (p < end && scanlen--) {
    uint8_t b = At(hll, p);
    if (IsXzero(b)) {
      p += 2;
      continue;
    }
    if (IsZero(b)) {
      p++;
      continue;
    }
    if (p + 1 < end && IsVal(At(hll, p + 1))) {
      int v1 = ValValue(b), v2 = ValValue(At(hll, p + 1));
      if (v1 == v2) {
        int len = ValLen(b) + ValLen(At(hll, p + 1));
        if (len <= kValMaxLen) {
          hll[p + 1] = static_cast<char>(ValOp(v1, len));
          hll.erase(p, 1);
          end--;
          continue;  // try the merged opcode with its right neighbour too
        }
      }
    }
    p++;
  }
}

}  // namespace

SetResult SparseSet(std::string& hll, long index, uint8_t count, size_t max_sparse_bytes) {
  if (count > kSparseValMax) return Promote(hll, index, count);

  // Step 1: the opcode covering `index`.
  size_t p = kHeaderSize, end = hll.size();
  long first = 0, span = 0;
  size_t prev = 0;
  bool has_prev = false;
  while (p < end) {
    uint8_t b = At(hll, p);
    size_t oplen = 1;
    if (IsZero(b)) {
      span = ZeroLen(b);
    } else if (IsVal(b)) {
      span = ValLen(b);
    } else {
      span = XzeroLen(b, At(hll, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    has_prev = true;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return SetResult::kInvalid;

  const uint8_t op = At(hll, p);
  const bool is_xzero = IsXzero(op), is_zero = IsZero(op), is_val = IsVal(op);
  const size_t next = p + (is_xzero ? 2 : 1);
  const bool has_next = next < end;
  const long runlen = is_zero ? ZeroLen(op) : is_xzero ? XzeroLen(op, At(hll, p + 1)) : ValLen(op);

  // Step 2: the cases that need no split.
  bool done = false;
  if (is_val) {
    if (ValValue(op) >= count) return SetResult::kUnchanged;
    if (runlen == 1) {
      hll[p] = static_cast<char>(ValOp(count, 1));
      done = true;
    }
  }
  if (!done && is_zero && runlen == 1) {
    hll[p] = static_cast<char>(ValOp(count, 1));
    done = true;
  }

  if (!done) {
    // Step 3: split the opcode into up to three (at most 5 bytes: XZERO-VAL-XZERO).
    uint8_t seq[5];
    size_t n = 0;
    const long last = first + span - 1;
    auto zeros = [&](long len) {
      if (len > kZeroMaxLen) {
        XzeroOp(seq + n, static_cast<int>(len));
        n += 2;
      } else {
        seq[n++] = ZeroOp(static_cast<int>(len));
      }
    };
    if (is_zero || is_xzero) {
      if (index != first) zeros(index - first);
      seq[n++] = ValOp(count, 1);
      if (index != last) zeros(last - index);
    } else {
      int curval = ValValue(op);
      if (index != first) seq[n++] = ValOp(curval, static_cast<int>(index - first));
      seq[n++] = ValOp(count, 1);
      if (index != last) seq[n++] = ValOp(curval, static_cast<int>(last - index));
    }
    const long oldlen = is_xzero ? 2 : 1;
    const long delta = static_cast<long>(n) - oldlen;
    if (delta > 0 && hll.size() + delta > max_sparse_bytes) return Promote(hll, index, count);
    // The new string is what Redis' memmove + memcpy + sdsIncrLen leave behind.
    std::string out;
    out.reserve(hll.size() + 5);
    out.append(hll, 0, p);
    out.append(reinterpret_cast<const char*>(seq), n);
    if (has_next) out.append(hll, next, std::string::npos);
    out.resize(hll.size() + delta, '\0');
    hll = std::move(out);
  }

  MergeAdjacentVals(hll, has_prev ? prev : kHeaderSize);
  InvalidateCount(Bytes(hll));
  return SetResult::kUpdated;
}

SetResult Add(std::string& hll, std::string_view ele, size_t max_sparse_bytes) {
  long index = 0;
  uint8_t count = static_cast<uint8_t>(PatternLength(ele, &index));
  switch (Encoding(hll)) {
    case kDense: {
      uint8_t* regs = Bytes(hll) + kHeaderSize;
      if (count <= DenseGet(regs, index)) return SetResult::kUnchanged;
      DenseSet(regs, kDenseBody, index, count);
      return SetResult::kUpdated;
    }
    case kSparse: return SparseSet(hll, index, count, max_sparse_bytes);
    default: return SetResult::kInvalid;
  }
}

bool MergeInto(uint8_t* max, std::string_view hll) {
  if (Encoding(hll) == kDense) {
    const uint8_t* regs = Bytes(hll) + kHeaderSize;
    for (long i = 0; i < kRegisters; i++) {
      uint8_t v = DenseGet(regs, i);
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  int64_t zeros = 0;
  long idx = WalkSparse(
      hll,
      [&](long first, int runlen, int value) {
        for (int i = 0; i < runlen; i++)
          if (value > max[first + i]) max[first + i] = static_cast<uint8_t>(value);
      },
      &zeros, true);
  return idx == kRegisters;
}

uint64_t Count(std::string_view hll, bool* invalid) {
  int64_t reghisto[64] = {0};
  if (Encoding(hll) == kDense) {
    DenseHisto(Bytes(hll) + kHeaderSize, reghisto);
  } else {
    long idx = WalkSparse(
        hll, [&](long, int runlen, int value) { reghisto[value] += runlen; }, &reghisto[0],
        false);
    if (idx != kRegisters && invalid) *invalid = true;
  }
  return Estimate(reghisto);
}

uint64_t CountRaw(const uint8_t* max) {
  int64_t reghisto[256] = {0};  // merged registers never pass 63; room for any byte
  for (int i = 0; i < kRegisters; i++) reghisto[max[i]]++;
  return Estimate(reghisto);
}

bool CachedCount(std::string_view hll, uint64_t* card) {
  const uint8_t* c = Bytes(hll) + 8;
  if (c[7] & 0x80) return false;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | c[i];
  *card = v;
  return true;
}

void StoreCount(uint8_t* header, uint64_t card) {
  for (int i = 0; i < 8; i++) header[8 + i] = static_cast<uint8_t>(card >> (8 * i));
}

void InvalidateCount(uint8_t* header) { header[15] |= 0x80; }

std::string DecodeSparse(std::string_view hll) {
  std::string out;
  size_t p = kHeaderSize;
  while (p < hll.size()) {
    uint8_t b = At(hll, p);
    if (IsZero(b)) {
      out += "z:" + std::to_string(ZeroLen(b)) + " ";
      p++;
    } else if (IsXzero(b)) {
      out += "Z:" + std::to_string(XzeroLen(b, At(hll, p + 1))) + " ";
      p += 2;
    } else {
      out += "v:" + std::to_string(ValValue(b)) + "," + std::to_string(ValLen(b)) + " ";
      p++;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace ferrite::mod::hll
