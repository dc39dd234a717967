#include "resume_state.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ferrite::migrate {

uint64_t KeyHash(std::string_view key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

ResumeState::ResumeState(const std::string& path, const std::string& header) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string line;
    if (std::getline(in, line) && line != header) {
      throw std::runtime_error(path + " is the state of another import (" + line +
                               "), not of " + header);
    }
    while (std::getline(in, line)) {
      uint64_t h = 0;
      auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), h, 16);
      if (line.size() == 16 && ec == std::errc() && end == line.data() + line.size())
        done_.insert(h);
    }
  }
  loaded_ = done_.size();
  file_ = std::fopen(path.c_str(), "ab");
  if (file_ == nullptr)
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  std::fseek(file_, 0, SEEK_END);
  if (std::ftell(file_) == 0) {
    std::fprintf(file_, "%s\n", header.c_str());
  } else {
    // A torn last line from a killed run would glue onto the next hash: start afresh.
    std::fputc('\n', file_);
  }
  std::fflush(file_);
}

ResumeState::~ResumeState() {
  if (file_ != nullptr) {
    Flush();
    std::fclose(file_);
  }
}

void ResumeState::Record(std::string_view key) {
  if (file_ == nullptr) return;
  uint64_t h = KeyHash(key);
  if (!done_.insert(h).second) return;
  char line[18];
  std::snprintf(line, sizeof(line), "%016llx\n", static_cast<unsigned long long>(h));
  pending_.append(line, 17);
}

void ResumeState::Flush() {
  if (file_ == nullptr || pending_.empty()) return;
  if (std::fwrite(pending_.data(), 1, pending_.size(), file_) != pending_.size() ||
      std::fflush(file_) != 0) {
    throw std::runtime_error(std::string("cannot write the resume state: ") + std::strerror(errno));
  }
  pending_.clear();
}

}  // namespace ferrite::migrate
