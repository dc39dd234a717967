// Invalidations for the client whose command is about to run, delivered before it.
#pragma once

namespace ferrite::host {

struct Client;

// While alive on a client's own thread, the invalidations meant for that client are
// written to it at once instead of being posted behind the command in progress. Redis'
// processCommand evicts and enforces tracking-table-max-keys before it runs the command,
// and the invalidations that produces reach the client before the command's reply;
// Host::Execute holds one over that stretch. Invalidations a command's own writes cause
// are still posted: they follow its reply, as in Redis.
class TrackingDeliverNow {
 public:
  explicit TrackingDeliverNow(const Client* c);
  ~TrackingDeliverNow();
  TrackingDeliverNow(const TrackingDeliverNow&) = delete;
  TrackingDeliverNow& operator=(const TrackingDeliverNow&) = delete;

 private:
  const Client* prev_;
};

}  // namespace ferrite::host
