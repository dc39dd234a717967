#include "sha1.h"

#include "ferrite/sha1.hpp"

namespace ferrite::mod::scripting {

std::string Sha1Hex(std::string_view data) { return sdk::Sha1Hex(data); }

}  // namespace ferrite::mod::scripting
