#include "host/config.h"

#include <gtest/gtest.h>

namespace ferrite::host {
namespace {

TEST(ConfigDefaults, PortIs6379) {
  Config c;
  EXPECT_EQ(c.Int("server.port"), 6379);
}

}  // namespace
}  // namespace ferrite::host
