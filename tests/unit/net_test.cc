// Protected mode's address rule (the DENIED reply itself needs a non-loopback client,
// which tests may not create: servers in tests bind loopback only).
#include <gtest/gtest.h>

#include "host/net.h"

namespace ferrite::host {
namespace {

bool Loop(const char* a) { return Server::IsLoopback(asio::ip::make_address(a)); }

TEST(ProtectedMode, LoopbackAddresses) {
  EXPECT_TRUE(Loop("127.0.0.1"));
  EXPECT_TRUE(Loop("127.3.2.1"));  // all of 127.0.0.0/8, as Redis
  EXPECT_TRUE(Loop("::1"));
  EXPECT_TRUE(Loop("::ffff:127.0.0.1"));
}

TEST(ProtectedMode, NonLoopbackAddresses) {
  EXPECT_FALSE(Loop("10.0.0.1"));
  EXPECT_FALSE(Loop("192.168.1.20"));
  EXPECT_FALSE(Loop("::ffff:10.1.2.3"));
  EXPECT_FALSE(Loop("2001:db8::1"));
}

}  // namespace
}  // namespace ferrite::host
