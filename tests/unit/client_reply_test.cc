// CLIENT REPLY OFF / SKIP's sink (host/client_reply.h): replies are dropped, pushes go
// through whole (nested aggregates counted), and what follows CLIENT REPLY ON passes.
#include <gtest/gtest.h>

#include <string>

#include "host/client_reply.h"

namespace ferrite::host {
namespace {

// Records every token as text.
struct Recorder {
  std::string out;
  static Recorder* Of(void* st) { return static_cast<Recorder*>(st); }
};

const ferrite_reply_sink kRecord = {
    sizeof(ferrite_reply_sink),
    [](void* st, const char* s, size_t n) { Recorder::Of(st)->out += "+" + std::string(s, n) + " "; },
    [](void* st, ferrite_error_code, const char* s, size_t n) { Recorder::Of(st)->out += "-" + std::string(s, n) + " "; },
    [](void* st, int64_t v) { Recorder::Of(st)->out += ":" + std::to_string(v) + " "; },
    [](void* st, double) { Recorder::Of(st)->out += ", "; },
    [](void* st, const char* s, size_t n) { Recorder::Of(st)->out += "$" + std::string(s, n) + " "; },
    [](void* st) { Recorder::Of(st)->out += "_ "; },
    [](void* st) { Recorder::Of(st)->out += "*-1 "; },
    [](void* st, size_t n) { Recorder::Of(st)->out += "*" + std::to_string(n) + " "; },
    [](void* st, size_t n) { Recorder::Of(st)->out += "%" + std::to_string(n) + " "; },
    [](void* st, size_t n) { Recorder::Of(st)->out += "~" + std::to_string(n) + " "; },
    [](void* st, size_t n) { Recorder::Of(st)->out += ">" + std::to_string(n) + " "; },
    [](void* st, int) { Recorder::Of(st)->out += "# "; },
    [](void* st, const char*, const char*, size_t) { Recorder::Of(st)->out += "= "; },
    [](void* st, const char*, size_t) { Recorder::Of(st)->out += "( "; },
    [](void* st, size_t n) { Recorder::Of(st)->out += "|" + std::to_string(n) + " "; },
    nullptr};

TEST(MutedSink, DropsRepliesAndPassesPushesWhole) {
  Recorder rec;
  Client::ReplyMode mode;
  mode.off = true;
  MutedSink m(&kRecord, &rec, &mode);
  const ferrite_reply_sink* s = m.sink();
  void* st = m.state();
  s->simple(st, "OK", 2);
  s->array(st, 2);
  s->bulk(st, "a", 1);
  s->integer(st, 1);
  // SUBSCRIBE's confirmation: [word, name, count].
  s->push(st, 3);
  s->bulk(st, "subscribe", 9);
  s->bulk(st, "ch", 2);
  s->integer(st, 1);
  s->bulk(st, "dropped", 7);
  // A push holding an aggregate, then an empty one, then more replies.
  s->push(st, 2);
  s->array(st, 2);
  s->bulk(st, "x", 1);
  s->map(st, 1);
  s->bulk(st, "k", 1);
  s->null(st);
  s->bulk(st, "last", 4);
  s->push(st, 0);
  s->error(st, FERRITE_E_GENERIC, "ERR no", 6);
  EXPECT_EQ(rec.out, ">3 $subscribe $ch :1 >2 *2 $x %1 $k _ $last >0 ");
}

TEST(MutedSink, RepliesPassOnceTurnedBackOn) {
  Recorder rec;
  Client::ReplyMode mode;
  mode.off = true;
  MutedSink m(&kRecord, &rec, &mode);
  m.sink()->simple(m.state(), "QUEUED", 6);
  mode.off = false;  // CLIENT REPLY ON, inside the command
  m.sink()->simple(m.state(), "OK", 2);
  mode.skip = true;  // a skipped command's reply
  m.sink()->integer(m.state(), 7);
  EXPECT_EQ(rec.out, "+OK ");
}

}  // namespace
}  // namespace ferrite::host
