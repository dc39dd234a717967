// Redis' HyperLogLog representation, byte for byte (src/hyperloglog.c of 7.0), so an HLL
// string written by redis-server gives the same PFCOUNT here and the reverse, and the
// strings themselves are identical after the same commands:
//
//   header (16 bytes): "HYLL", encoding (0 dense, 1 sparse), 3 zero bytes, cached
//                      cardinality (8 bytes little endian; top bit set = stale)
//   dense:  16384 registers of 6 bits, packed from the least significant bit of each
//           byte (12288 bytes)
//   sparse: run-length opcodes, ZERO 00xxxxxx (1..64 zero registers), XZERO
//           01xxxxxx yyyyyyyy (1..16384 zero registers), VAL 1vvvvvxx (1..4
//           registers of value 1..32)
//
// Elements are hashed with MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the
// register, the run of zeros after them (plus one) is the value. The estimate is Otmar
// Ertl's improved raw estimator, as in Redis >= 5.
//
// Everything here works on plain byte strings; nothing touches the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite::mod::hll {

constexpr int kP = 14;
constexpr int kQ = 64 - kP;
constexpr int kRegisters = 1 << kP;
constexpr int kBits = 6;
constexpr int kRegisterMax = (1 << kBits) - 1;
constexpr size_t kHeaderSize = 16;
constexpr size_t kDenseSize = kHeaderSize + (kRegisters * kBits + 7) / 8;
constexpr uint8_t kDense = 0;
constexpr uint8_t kSparse = 1;
constexpr int kSparseValMax = 32;  // larger values force the dense encoding

uint64_t MurmurHash64A(const void* key, size_t len, uint32_t seed);

// The register an element falls in (*reg) and the value it proposes for it.
int PatternLength(std::string_view ele, long* reg);

// Redis' isHLLObjectOrReply for a string value: long enough, "HYLL", a known encoding,
// and exactly kDenseSize bytes when dense. A sparse body is checked only when read.
bool LooksLikeHll(std::string_view v);

// The value PFADD creates: sparse, every register zero (XZERO opcodes).
std::string NewHll();

uint8_t Encoding(std::string_view hll);

// Register access on the dense body (the bytes after the header, kDenseSize - 16 long).
uint8_t DenseGet(const uint8_t* regs, long index);
void DenseSet(uint8_t* regs, size_t regs_len, long index, uint8_t value);

// Results of a register update: the register grew (the estimate may change), stayed,
// or the sparse body is corrupt.
enum class SetResult { kUnchanged, kUpdated, kInvalid };

// Sets register `index` of a sparse HLL to `count` if that is larger, editing the
// opcodes in place exactly as Redis does (same splits and merges). The HLL turns dense
// when `count` is above 32 or the string would pass `max_sparse_bytes`
// (hll-sparse-max-bytes).
SetResult SparseSet(std::string& hll, long index, uint8_t count, size_t max_sparse_bytes);

// hllSparseToDense: a no-op for a dense HLL; false when the sparse body does not cover
// exactly 16384 registers (the string is then left unchanged).
bool SparseToDense(std::string& hll);

// PFADD of one element to an HLL string of either encoding.
SetResult Add(std::string& hll, std::string_view ele, size_t max_sparse_bytes);

// Raises max[i] (16384 one-byte registers) to the HLL's registers; false when a sparse
// body is corrupt.
bool MergeInto(uint8_t* max, std::string_view hll);

// The estimate from the registers (hllCount). A sparse body that does not cover 16384
// registers sets *invalid (when given).
uint64_t Count(std::string_view hll, bool* invalid);
uint64_t CountRaw(const uint8_t* max);

// The cached cardinality of the header, when valid.
bool CachedCount(std::string_view hll, uint64_t* card);
void StoreCount(uint8_t* header, uint64_t card);
void InvalidateCount(uint8_t* header);

// PFDEBUG DECODE: "z:<len>", "Z:<len>", "v:<value>,<len>" per opcode, space separated.
std::string DecodeSparse(std::string_view hll);

}  // namespace ferrite::mod::hll
