// LZF (Marc Lehmann's format, as Redis' lzf_c.c / lzf_d.c) for RDB string compression.
#pragma once

#include <cstddef>

namespace ferrite::host::persist {

// Compresses `in` into `out` (capacity `out_cap`). Returns the compressed length, or 0
// when the result would not fit (the caller then stores the string uncompressed).
size_t LzfCompress(const void* in, size_t in_len, void* out, size_t out_cap);

// Decompresses into exactly `out_len` bytes. Returns false on malformed input (a back
// reference before the start, a run past either end) or a length mismatch.
bool LzfDecompress(const void* in, size_t in_len, void* out, size_t out_len);

}  // namespace ferrite::host::persist
