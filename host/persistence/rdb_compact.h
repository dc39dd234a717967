// Decoders for Redis' compact value encodings found inside RDB strings: ziplist,
// listpack, intset, zipmap. Each appends the entries, in order, as strings (integers in
// decimal, as Redis would print them). They validate every length against the buffer
// and return false on malformed input instead of reading past it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferrite::host::persist {

bool DecodeZiplist(std::string_view zl, std::vector<std::string>* out);
bool DecodeListpack(std::string_view lp, std::vector<std::string>* out);
bool DecodeIntset(std::string_view is, std::vector<std::string>* out);
// Zipmap (Redis < 2.6 small hashes): field, value, field, value...
bool DecodeZipmap(std::string_view zm, std::vector<std::string>* out);

// Builders for tests (and nothing else): produce the compact forms Redis writes.
std::string EncodeListpackForTest(const std::vector<std::string>& items);
std::string EncodeZiplistForTest(const std::vector<std::string>& items);
std::string EncodeIntsetForTest(const std::vector<int64_t>& values);

}  // namespace ferrite::host::persist
