// Golden bytes for every reply-sink token in RESP2 and RESP3. Expected forms follow
// redis-server 7.0 (checked with redis-cli/raw sockets after HELLO 2 / HELLO 3).
#include "resp_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace ferrite::proto::resp {
namespace {

struct Golden {
  const char* name;
  std::function<void(Encoder&)> emit;
  std::string resp2;
  std::string resp3;
};

std::string Encode(int version, const std::function<void(Encoder&)>& emit) {
  StringOutput out;
  Encoder enc(&out);
  enc.SetResp(version);
  emit(enc);
  return out.data;
}

class EncoderGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(EncoderGolden, Resp2) { EXPECT_EQ(Encode(2, GetParam().emit), GetParam().resp2); }
TEST_P(EncoderGolden, Resp3) { EXPECT_EQ(Encode(3, GetParam().emit), GetParam().resp3); }

const double kInf = std::numeric_limits<double>::infinity();

INSTANTIATE_TEST_SUITE_P(
    Tokens, EncoderGolden,
    ::testing::Values(
        Golden{"simple", [](Encoder& e) { e.Simple("OK"); }, "+OK\r\n", "+OK\r\n"},
        Golden{"simple_crlf", [](Encoder& e) { e.Simple("a\r\nb"); }, "+a  b\r\n",
               "+a  b\r\n"},
        Golden{"integer", [](Encoder& e) { e.Integer(-42); }, ":-42\r\n", ":-42\r\n"},
        Golden{"int_min", [](Encoder& e) { e.Integer(INT64_MIN); },
               ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
        Golden{"bulk", [](Encoder& e) { e.Bulk("hello", 5); }, "$5\r\nhello\r\n",
               "$5\r\nhello\r\n"},
        Golden{"bulk_empty", [](Encoder& e) { e.Bulk("", 0); }, "$0\r\n\r\n", "$0\r\n\r\n"},
        Golden{"bulk_binary", [](Encoder& e) { e.Bulk("a\0\r\n", 4); },
               std::string("$4\r\na\0\r\n\r\n", 10), std::string("$4\r\na\0\r\n\r\n", 10)},
        Golden{"null", [](Encoder& e) { e.Null(); }, "$-1\r\n", "_\r\n"},
        Golden{"null_array", [](Encoder& e) { e.NullArray(); }, "*-1\r\n", "_\r\n"},
        Golden{"double", [](Encoder& e) { e.Double(1.5); }, "$3\r\n1.5\r\n", ",1.5\r\n"},
        Golden{"double_int", [](Encoder& e) { e.Double(3); }, "$1\r\n3\r\n", ",3\r\n"},
        Golden{"double_frac", [](Encoder& e) { e.Double(0.1); },
               "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
        Golden{"double_inf", [](Encoder& e) { e.Double(kInf); }, "$3\r\ninf\r\n",
               ",inf\r\n"},
        Golden{"double_ninf", [](Encoder& e) { e.Double(-kInf); }, "$4\r\n-inf\r\n",
               ",-inf\r\n"},
        Golden{"bool_true", [](Encoder& e) { e.Bool(true); }, ":1\r\n", "#t\r\n"},
        Golden{"bool_false", [](Encoder& e) { e.Bool(false); }, ":0\r\n", "#f\r\n"},
        Golden{"array", [](Encoder& e) { e.Array(2), e.Integer(1), e.Bulk("x", 1); },
               "*2\r\n:1\r\n$1\r\nx\r\n", "*2\r\n:1\r\n$1\r\nx\r\n"},
        Golden{"array_empty", [](Encoder& e) { e.Array(0); }, "*0\r\n", "*0\r\n"},
        Golden{"map", [](Encoder& e) { e.Map(1), e.Bulk("k", 1), e.Integer(7); },
               "*2\r\n$1\r\nk\r\n:7\r\n", "%1\r\n$1\r\nk\r\n:7\r\n"},
        Golden{"set", [](Encoder& e) { e.Set(1), e.Bulk("m", 1); }, "*1\r\n$1\r\nm\r\n",
               "~1\r\n$1\r\nm\r\n"},
        Golden{"push", [](Encoder& e) { e.Push(2), e.Bulk("message", 7), e.Bulk("c", 1); },
               "*2\r\n$7\r\nmessage\r\n$1\r\nc\r\n", ">2\r\n$7\r\nmessage\r\n$1\r\nc\r\n"},
        Golden{"verbatim", [](Encoder& e) { e.Verbatim("txt", "hi", 2); }, "$2\r\nhi\r\n",
               "=6\r\ntxt:hi\r\n"},
        Golden{"verbatim_bad_fmt", [](Encoder& e) { e.Verbatim("markdown", "hi", 2); },
               "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
        Golden{"double_text", [](Encoder& e) { e.DoubleText("13.36138933897018433", 20); },
               "$20\r\n13.36138933897018433\r\n", ",13.36138933897018433\r\n"},
        Golden{"bignum", [](Encoder& e) { e.Bignum("12345678901234567890", 20); },
               "$20\r\n12345678901234567890\r\n", "(12345678901234567890\r\n"},
        Golden{"attribute",
               [](Encoder& e) {
                 e.Attribute(1), e.Bulk("ttl", 3), e.Integer(5);
                 e.Bulk("v", 1);
               },
               "$1\r\nv\r\n", "|1\r\n$3\r\nttl\r\n:5\r\n$1\r\nv\r\n"},
        Golden{"attribute_nested",
               [](Encoder& e) {
                 e.Array(2);
                 e.Attribute(2), e.Bulk("a", 1), e.Map(1), e.Bulk("x", 1), e.Array(2),
                     e.Integer(1), e.Integer(2);
                 e.Bulk("b", 1), e.Null();
                 e.Integer(9), e.Simple("end");
               },
               "*2\r\n:9\r\n+end\r\n",
               "*2\r\n|2\r\n$1\r\na\r\n%1\r\n$1\r\nx\r\n*2\r\n:1\r\n:2\r\n$1\r\nb\r\n_\r\n"
               ":9\r\n+end\r\n"},
        Golden{"error_code", [](Encoder& e) { e.Error(FERRITE_E_WRONGTYPE, nullptr, 0); },
               "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
               "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
        Golden{"error_arity", [](Encoder& e) { e.Error(FERRITE_E_ARITY, "get", 3); },
               "-ERR wrong number of arguments for 'get' command\r\n",
               "-ERR wrong number of arguments for 'get' command\r\n"},
        Golden{"error_generic",
               [](Encoder& e) {
                 const char m[] = "BUSYKEY Target key name already exists.";
                 e.Error(FERRITE_E_GENERIC, m, sizeof(m) - 1);
               },
               "-BUSYKEY Target key name already exists.\r\n",
               "-BUSYKEY Target key name already exists.\r\n"},
        Golden{"error_newlines",
               [](Encoder& e) { e.Error(FERRITE_E_GENERIC, "ERR bad\r\nthing\n", 15); },
               "-ERR bad  thing \r\n", "-ERR bad  thing \r\n"},
        Golden{"error_dash", [](Encoder& e) { e.ErrorText("-ERR x"); }, "-ERR x\r\n",
               "-ERR x\r\n"}),
    [](const ::testing::TestParamInfo<Golden>& i) { return std::string(i.param.name); });

TEST(Encoder, LongErrorDetailIsNotTruncated) {
  std::string detail = "ERR " + std::string(5000, 'x');
  std::string got =
      Encode(2, [&](Encoder& e) { e.Error(FERRITE_E_GENERIC, detail.data(), detail.size()); });
  EXPECT_EQ(got, "-" + detail + "\r\n");
}

TEST(Encoder, VersionCanChangeBetweenTokens) {
  StringOutput out;
  Encoder enc(&out);
  enc.SetResp(2);
  enc.Null();
  enc.SetResp(3);
  enc.Null();
  EXPECT_EQ(out.data, "$-1\r\n_\r\n");
}

TEST(Encoder, LargeBulk) {
  std::string v(1 << 20, 'q');
  std::string got = Encode(3, [&](Encoder& e) { e.Bulk(v.data(), v.size()); });
  EXPECT_EQ(got, "$1048576\r\n" + v + "\r\n");
}

}  // namespace
}  // namespace ferrite::proto::resp
