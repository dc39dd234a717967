// SplitInlineArgs against sdssplitargs; expected splits were checked against
// redis-server 7.0.15 with inline ECHO/SET commands over a raw socket.
#include "inline_args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferrite::proto::resp {
namespace {

struct Case {
  std::string line;
  std::vector<std::string> args;  // empty + ok=false means unbalanced
  bool ok = true;
};

std::vector<std::string> Split(const std::string& line, bool* ok) {
  std::vector<ferrite_slice> argv;
  std::vector<char> scratch;
  *ok = SplitInlineArgs(line, &argv, &scratch);
  std::vector<std::string> out;
  if (*ok) {
    for (auto& s : argv) out.emplace_back(s.ptr, s.len);
  }
  return out;
}

class InlineSplit : public ::testing::TestWithParam<Case> {};

TEST_P(InlineSplit, MatchesSdsSplitArgs) {
  bool ok = false;
  auto got = Split(GetParam().line, &ok);
  EXPECT_EQ(ok, GetParam().ok) << GetParam().line;
  if (ok) {
    EXPECT_EQ(got, GetParam().args) << GetParam().line;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Redis70, InlineSplit,
    ::testing::Values(
        Case{"", {}}, Case{"   \t ", {}}, Case{"PING", {"PING"}},
        Case{"  SET  k   v  ", {"SET", "k", "v"}},
        Case{"ECHO \"a b\"", {"ECHO", "a b"}},
        Case{"ECHO \"\\x41\\n\\q\"", {"ECHO", "A\nq"}},
        Case{"ECHO \"\\x4\"", {"ECHO", "x4"}},  // not two hex digits: plain escape
        Case{"ECHO \"\\xZZ\"", {"ECHO", "xZZ"}},
        Case{"ECHO \"\\r\\t\\b\\a\\\\\\\"\"", {"ECHO", "\r\t\b\a\\\""}},
        Case{"ECHO 'a\\'b'", {"ECHO", "a'b"}},
        Case{"ECHO 'a\\nb'", {"ECHO", "a\\nb"}},  // single quotes: only \' escapes
        Case{"ECHO \"\"", {"ECHO", ""}}, Case{"ECHO ''", {"ECHO", ""}},
        Case{"ECHO ab\"cd\"", {"ECHO", "abcd"}},  // a quote may open mid-token
        Case{"ECHO a'b c'", {"ECHO", "ab c"}},
        Case{"ECHO a\rb", {"ECHO", "a", "b"}},
        Case{"ECHO a\vb", {"ECHO", "a\vb"}},  // \v skips as a blank but does not end one
        Case{"\v ECHO x", {"ECHO", "x"}},
        Case{"ECHO \"a\"\tb", {"ECHO", "a", "b"}},
        Case{"ECHO \"a\"b", {}, false}, Case{"ECHO ''x", {}, false},
        Case{"ECHO \"abc", {}, false}, Case{"ECHO 'abc", {}, false},
        Case{"ECHO \"abc\\", {}, false},
        Case{std::string("ECHO a\0b", 8), {"ECHO", "a"}}));  // C string semantics

TEST(InlineSplit, UnquotedArgumentsAreZeroCopy) {
  std::string line = "SET key \"v\"";
  std::vector<ferrite_slice> argv;
  std::vector<char> scratch;
  ASSERT_TRUE(SplitInlineArgs(line, &argv, &scratch));
  ASSERT_EQ(argv.size(), 3u);
  EXPECT_EQ(argv[0].ptr, line.data());
  EXPECT_EQ(argv[1].ptr, line.data() + 4);
  EXPECT_EQ(argv[2].ptr, scratch.data());
}

TEST(InlineSplit, ManyQuotedArgumentsKeepValidPointers) {
  std::string line;
  std::vector<std::string> want;
  for (int i = 0; i < 500; i++) {
    line += "\"q" + std::to_string(i) + "\" ";
    want.push_back("q" + std::to_string(i));
  }
  bool ok = false;
  EXPECT_EQ(Split(line, &ok), want);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ferrite::proto::resp
