// The streams behind the SDK's ferrite_io (snapshot save/load of module values) and
// ferrite_aof (AOF rewrite). Persistence implements them; the API table forwards.
#pragma once

#include <cstdint>
#include <string>

#include "ferrite/module.h"

struct ferrite_io {
  virtual ~ferrite_io() = default;
  virtual void WriteLen(uint64_t v) = 0;
  virtual void WriteString(const char* s, size_t len) = 0;
  virtual void WriteDouble(double v) = 0;
  virtual bool ReadLen(uint64_t* out) = 0;
  virtual bool ReadString(std::string* out) = 0;
  virtual bool ReadDouble(double* out) = 0;
};

struct ferrite_aof {
  virtual ~ferrite_aof() = default;
  virtual void Emit(int argc, const ferrite_slice* argv) = 0;
};
