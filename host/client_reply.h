// CLIENT REPLY OFF / SKIP: while a client's replies are turned off, dispatch hands the
// command this sink instead of the protocol's. It drops every reply and lets pushes
// through whole (SUBSCRIBE's confirmations, a message published to oneself), as Redis'
// CLIENT_PUSHING does; out-of-band pushes (messages, invalidations) never pass through
// a command's sink and go out as always.
#pragma once

#include <cstddef>
#include <vector>

#include "ferrite/module.h"
#include "host/client.h"

namespace ferrite::host {

class MutedSink {
 public:
  MutedSink(const ferrite_reply_sink* real, void* st, const Client::ReplyMode* mode)
      : real_(real), st_(st), mode_(mode) {}
  MutedSink(const MutedSink&) = delete;
  MutedSink& operator=(const MutedSink&) = delete;

  const ferrite_reply_sink* sink() const { return &kSink; }
  void* state() { return this; }

 private:
  static const ferrite_reply_sink kSink;
  static MutedSink* Of(void* st) { return static_cast<MutedSink*>(st); }
  // Inside a push (the element is forwarded and counted), or replies were turned back on
  // by the command itself (CLIENT REPLY ON answers OK).
  bool Passing() const { return !open_.empty() || (!mode_->off && !mode_->skip); }
  void ElementDone();
  // An aggregate of `elements` tokens inside a push (or a push itself) opens a level.
  void Open(size_t elements);
  void OpenIfInside(size_t elements);

  const ferrite_reply_sink* real_;
  void* st_;
  const Client::ReplyMode* mode_;
  std::vector<size_t> open_;  // tokens still due at each open level of a push
};

}  // namespace ferrite::host
