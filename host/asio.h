// The one way host code includes Boost.Asio.
// NOTE: Debian's Boost 1.74 asio/awaitable.hpp uses std::exchange without including
// <utility>; under GCC 12 in C++20 mode that fails to compile unless <utility> comes
// first. Every host file includes Asio through this header.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace ferrite::host {
namespace asio = boost::asio;
}
