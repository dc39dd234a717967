// ReadinessSet (host/readiness.*): a socket registered once reports every new edge, a
// target may remove itself while handling one, EPOLLOUT comes only when asked for, and
// the set detaches what it still owns when it goes away. No timing: the io_context is
// polled (zero timeout), and a socketpair is readable as soon as the write returns.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "host/readiness.h"

namespace ferrite::host {
namespace {

struct Recorder : ReadinessTarget {
  std::vector<uint32_t> events;
  std::string read;
  int fd = -1;
  ReadinessSet* set = nullptr;
  bool remove_on_event = false, detached = false;
  void OnEvents(uint32_t ev) override {
    events.push_back(ev);
    char buf[64];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) read.append(buf, n);
    if (remove_on_event) set->Remove(fd, this);
  }
  void Detach() override { detached = true; }
};

struct Pair {
  int a = -1, b = -1;  // a: registered end, b: the peer
  Pair() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    a = sv[0];
    b = sv[1];
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
};

void Poll(asio::io_context& ioc) {
  for (int i = 0; i < 4; i++) {
    ioc.restart();
    ioc.poll();
  }
}

// A set on its own io_context with one registered socket (`p.a`), as a connection is.
class ReadinessSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    r->fd = p.a;
    r->set = &set;
  }
  void Register() { ASSERT_TRUE(set.Add(p.a, r)); }
  void TearDown() override { set.Remove(p.a, r.get()); }  // no-op if already removed

  asio::io_context ioc;
  ReadinessSet set{ioc};
  Pair p;
  std::shared_ptr<Recorder> r = std::make_shared<Recorder>();
};

TEST_F(ReadinessSetTest, EveryNewEdgeIsReportedWithoutReArming) {
  Register();
  Poll(ioc);
  EXPECT_TRUE(r->events.empty());  // nothing to read yet
  for (int round = 0; round < 3; round++) {
    std::string msg = "req" + std::to_string(round);
    ASSERT_EQ(::send(p.b, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
    Poll(ioc);
    ASSERT_EQ(r->events.size(), static_cast<size_t>(round + 1));
    EXPECT_TRUE(r->events.back() & EPOLLIN);
    EXPECT_FALSE(r->events.back() & EPOLLOUT);  // not asked for
  }
  EXPECT_EQ(r->read, "req0req1req2");
}

TEST_F(ReadinessSetTest, DataWaitingBeforeAddIsReported) {
  ASSERT_EQ(::send(p.b, "early", 5, 0), 5);
  Register();
  Poll(ioc);
  EXPECT_EQ(r->read, "early");
}

TEST_F(ReadinessSetTest, TargetMayRemoveItselfAndIsReleasedAfterwards) {
  r->remove_on_event = true;
  Register();
  std::weak_ptr<Recorder> weak = r;
  r.reset();  // the set owns it now
  ASSERT_FALSE(weak.expired());
  ASSERT_EQ(::send(p.b, "x", 1, 0), 1);
  Poll(ioc);
  EXPECT_TRUE(weak.expired());  // removed in OnEvents, released after the handler
  ASSERT_EQ(::send(p.b, "y", 1, 0), 1);
  Poll(ioc);  // no longer registered: nothing is called (ASan would see a call)
  r = std::make_shared<Recorder>();  // something for TearDown to (not) remove
}

TEST_F(ReadinessSetTest, WriteInterestOnlyWhenAsked) {
  Register();
  set.WantWrite(p.a, r.get(), true);
  Poll(ioc);
  ASSERT_FALSE(r->events.empty());
  EXPECT_TRUE(r->events.back() & EPOLLOUT);
  size_t seen = r->events.size();
  set.WantWrite(p.a, r.get(), false);
  Poll(ioc);
  EXPECT_EQ(r->events.size(), seen);
}

TEST_F(ReadinessSetTest, PeerCloseIsReported) {
  Register();
  ::shutdown(p.b, SHUT_WR);
  Poll(ioc);
  ASSERT_FALSE(r->events.empty());
  EXPECT_TRUE(r->events.back() & EPOLLRDHUP);
}

TEST(ReadinessSet, DestructionDetachesWhatItStillOwns) {
  Pair p;
  auto r = std::make_shared<Recorder>();
  r->fd = p.a;
  {
    asio::io_context ioc;
    ReadinessSet set(ioc);
    ASSERT_TRUE(set.Add(p.a, r));
  }
  EXPECT_TRUE(r->detached);
}

}  // namespace
}  // namespace ferrite::host
