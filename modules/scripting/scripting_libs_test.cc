// cjson, cmsgpack, struct, bit and FUNCTION through the harness.
#include "tests/harness/harness.h"

namespace ferrite::test {
namespace {

HarnessOptions Opts() { return HarnessOptions{.plugins = {"scripting", "strings", "keys"}}; }

TEST(Libs, Cjson) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return cjson.encode({1,2,'a'})", "0"}), IsBulk("[1,2,\"a\"]"));
  EXPECT_THAT(h.Run({"EVAL", "return cjson.encode({a='x\"y'})", "0"}), IsBulk("{\"a\":\"x\\\"y\"}"));
  EXPECT_THAT(h.Run({"EVAL", "local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":true}') "
                             "return {t.a[2], tostring(t.c), tostring(t.a[3].b == cjson.null)}",
                     "0"}),
              IsArrayOf({IsInt(2), IsBulk("true"), IsBulk("true")}));
  EXPECT_THAT(h.Run({"EVAL", "return cjson.decode('\"\\\\u00e9\"')", "0"}), IsBulk("\xc3\xa9"));
  EXPECT_THAT(h.Run({"EVAL", "return cjson.decode('[1,')", "0"}),
              IsErrorPrefix("ERR user_script:1: Expected value but found T_END at character 4 script: "));
}

TEST(Libs, Cmsgpack) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return cmsgpack.pack({1,2,3})", "0"}), IsBulk("\x93\x01\x02\x03"));
  EXPECT_THAT(h.Run({"EVAL", "local a,b,c = cmsgpack.unpack(cmsgpack.pack(300, 'hi', {x=-5})) "
                             "return {a, b, c.x}", "0"}),
              IsArrayOf({IsInt(300), IsBulk("hi"), IsInt(-5)}));
  EXPECT_THAT(h.Run({"EVAL", "return cmsgpack.unpack(cmsgpack.pack(1.5)) * 2", "0"}), IsInt(3));
}

TEST(Libs, StructAndBit) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"EVAL", "return struct.pack('>I2', 258)", "0"}), IsBulk(std::string("\x01\x02", 2)));
  EXPECT_THAT(h.Run({"EVAL", "return {struct.unpack('<hB', struct.pack('<hB', -2, 7))}", "0"}),
              IsIntArray({-2, 7, 4}));
  EXPECT_THAT(h.Run({"EVAL", "return struct.size('>iId')", "0"}), IsInt(16));
  EXPECT_THAT(h.Run({"EVAL", "return {struct.unpack('s', struct.pack('s', 'ab'))}", "0"}),
              IsArrayOf({IsBulk("ab"), IsInt(4)}));
  EXPECT_THAT(h.Run({"EVAL", "return bit.band(12, 10) + bit.lshift(1, 4)", "0"}), IsInt(24));
  EXPECT_THAT(h.Run({"EVAL", "return bit.tohex(255)", "0"}), IsBulk("000000ff"));
}

const char kLib[] = "#!lua name=mylib\n"
                    "redis.register_function('incr2', function(keys, args)\n"
                    "  return redis.call('INCRBY', keys[1], 2) end)\n"
                    "redis.register_function{function_name='ro', callback=function(k, a)\n"
                    "  return redis.call('SET', 'x', 'y') end, flags={'no-writes'}}\n";

TEST(Functions, LoadCallListDeleteRestore) {
  Harness h(Opts());
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", kLib}), IsBulk("mylib"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", kLib}), IsError("ERR Library 'mylib' already exists"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", "REPLACE", kLib}), IsBulk("mylib"));
  EXPECT_THAT(h.Run({"FCALL", "incr2", "1", "n"}), IsInt(2));
  EXPECT_THAT(h.Run({"FCALL", "incr2", "1", "n"}), IsInt(4));
  EXPECT_THAT(h.Run({"FCALL_RO", "incr2", "1", "n"}),
              IsError("ERR Can not execute a script with write flag using *_ro command."));
  EXPECT_THAT(h.Run({"FCALL", "ro", "0"}),
              IsError("ERR Write commands are not allowed from read-only scripts. script: ro, "
                      "on @user_function:5."));
  EXPECT_THAT(h.Run({"FCALL", "nope", "0"}), IsError("ERR Function not found"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", "return 1"}), IsError("ERR Missing library metadata"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", "#!lua name=l2\nx=1"}),
              IsError("ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", "#!lua name=l3\nlocal a = redis.call('get','x')"}),
              IsError("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"));
  EXPECT_THAT(h.Run({"FUNCTION", "LOAD", "#!lua name=l4\nreturn 1"}), IsError("ERR No functions registered"));
  Reply dump = h.Run({"FUNCTION", "DUMP"});
  ASSERT_EQ(dump.type, FERRITE_REPLY_BULK);
  EXPECT_THAT(h.Run({"FUNCTION", "DELETE", "mylib"}), IsOk());
  EXPECT_THAT(h.Run({"FUNCTION", "DELETE", "mylib"}), IsError("ERR Library not found"));
  EXPECT_THAT(h.Run({"FCALL", "incr2", "1", "n"}), IsError("ERR Function not found"));
  EXPECT_THAT(h.Run({"FUNCTION", "RESTORE", dump.str}), IsOk());
  EXPECT_THAT(h.Run({"FCALL", "incr2", "1", "n"}), IsInt(6));
  std::string bad = dump.str;
  bad.back() ^= 1;
  EXPECT_THAT(h.Run({"FUNCTION", "RESTORE", bad}), IsError("ERR payload version or checksum are wrong"));
  EXPECT_THAT(h.Run({"FUNCTION", "FLUSH"}), IsOk());
  EXPECT_THAT(h.Run({"FUNCTION", "LIST"}), IsEmptyArray());
}

TEST(Functions, DumpMatchesRedisBytes) {
  // FUNCTION DUMP of this library on redis-server 7.0.15 (from od -c): the trailer bytes
  // after the code are the RDB version 10 and the CRC64.
  Harness h(Opts());
  std::string code = "#!lua name=lib\nredis.register_function('f', function(k,a) return 1 end)";
  h.Run({"FUNCTION", "LOAD", code});
  Reply dump = h.Run({"FUNCTION", "DUMP"});
  ASSERT_EQ(code.size(), 71u);
  ASSERT_EQ(dump.str.size(), 3 + code.size() + 10);
  EXPECT_EQ(dump.str.substr(0, 3), "\xf5\x40" "G");  // 0x40 0x47: 14-bit length 71
  EXPECT_EQ(dump.str.substr(3 + code.size(), 4), std::string("\x0a\x00\xac\xda", 4));
}

}  // namespace
}  // namespace ferrite::test
