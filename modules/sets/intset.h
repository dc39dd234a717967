// Redis' intset as operations on memory the caller owns: a sorted array of integers
// stored at the narrowest width that fits them all (2, 4 or 8 bytes). SetValue keeps
// one right after its header, in the same block (see set_value.h), so these functions
// never allocate: the caller makes room first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ferrite::mod::sets::intset {

// 2, 4 or 8: the narrowest width that holds v.
uint32_t WidthFor(int64_t v);
int64_t Get(const uint8_t* data, uint32_t width, size_t i);
void Put(uint8_t* data, uint32_t width, size_t i, int64_t v);
// Index of v among len sorted elements, or of its insertion point (found = false).
size_t Search(const uint8_t* data, uint32_t width, size_t len, int64_t v, bool* found);
// Re-encodes len elements from `from` to the wider `to` in place; the memory must have
// room for len * to bytes. Back to front, so nothing is overwritten before it is read.
void Widen(uint8_t* data, uint32_t from, uint32_t to, size_t len);
// Inserts v (absent) keeping the order; room for len + 1 elements of `width` needed.
// When v needed a wider encoding than the others, it is below or above them all.
void Insert(uint8_t* data, uint32_t width, size_t len, int64_t v, size_t at);
void Erase(uint8_t* data, uint32_t width, size_t len, size_t at);

}  // namespace ferrite::mod::sets::intset
