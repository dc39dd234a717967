// CRC-64/Jones, reflected, as Redis checksums RDB files (crc64.c in redis/redis):
// crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferrite::host::persist {

uint64_t Crc64(uint64_t crc, const void* data, size_t len);

}  // namespace ferrite::host::persist
