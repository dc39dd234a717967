// Range parsing, rank spans and reply helpers shared by the zset commands.
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "zsets_internal.h"

namespace ferrite::mod::zsets {

using sdk::Api;
using sdk::SV;

namespace {
// zslParseRange: "(" makes the bound exclusive; strtod over the rest; NaN rejected.
bool ParseScoreBound(std::string_view s, double* v, bool* ex) {
  *ex = !s.empty() && s[0] == '(';
  if (*ex) s.remove_prefix(1);
  std::string buf(s);
  char* end = nullptr;
  *v = strtod(buf.c_str(), &end);
  return *end == '\0' && !std::isnan(*v);
}

bool ParseLexBound(std::string_view s, LexBound* b) {
  if (s.size() == 1 && s[0] == '-') {
    b->kind = LexBound::kNegInf;
    return true;
  }
  if (s.size() == 1 && s[0] == '+') {
    b->kind = LexBound::kPosInf;
    return true;
  }
  if (s.empty() || (s[0] != '(' && s[0] != '[')) return false;
  b->kind = LexBound::kValue;
  b->exclusive = s[0] == '(';
  b->value.assign(s.substr(1));
  return true;
}
}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* r) {
  return ParseScoreBound(min, &r->min, &r->minex) && ParseScoreBound(max, &r->max, &r->maxex);
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* r) {
  return ParseLexBound(min, &r->min) && ParseLexBound(max, &r->max);
}

std::pair<size_t, size_t> SpanOf(const ZSetValue& z, const ScoreRange& r) {
  size_t lo = z.CountWhile([&](std::string_view, double s) {
    return r.minex ? s <= r.min : s < r.min;
  });
  size_t hi = z.CountWhile([&](std::string_view, double s) {
    return r.maxex ? s < r.max : s <= r.max;
  });
  return {lo, hi > lo ? hi : lo};
}

std::pair<size_t, size_t> SpanOf(const ZSetValue& z, const LexRange& r) {
  // Below the min bound / not above the max bound, in member order.
  auto below_min = [&](std::string_view m, double) {
    switch (r.min.kind) {
      case LexBound::kNegInf: return false;
      case LexBound::kPosInf: return true;
      default: return r.min.exclusive ? m <= r.min.value : m < r.min.value;
    }
  };
  auto within_max = [&](std::string_view m, double) {
    switch (r.max.kind) {
      case LexBound::kNegInf: return false;
      case LexBound::kPosInf: return true;
      default: return r.max.exclusive ? m < r.max.value : m <= r.max.value;
    }
  };
  size_t lo = z.CountWhile(below_min);
  size_t hi = z.CountWhile(within_max);
  return {lo, hi > lo ? hi : lo};
}

void ReplyScored(const sdk::Ctx& ctx, const Scored& v, bool withscores) {
  if (!withscores) {
    ctx.Array(v.size());
    for (auto& [m, s] : v) ctx.Bulk(m);
    return;
  }
  if (ctx.Resp() >= 3) {
    ctx.Array(v.size());
    for (auto& [m, s] : v) {
      ctx.Array(2);
      ctx.Bulk(m);
      ctx.Double(s);
    }
    return;
  }
  ctx.Array(v.size() * 2);
  for (auto& [m, s] : v) {
    ctx.Bulk(m);
    ctx.Double(s);
  }
}

bool ParseTimeout(const sdk::Ctx& ctx, std::string_view s, int64_t* ms) {
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = buf.empty() || isspace(static_cast<unsigned char>(buf[0]))
                      ? 0
                      : strtold(buf.c_str(), &end);
  if (buf.empty() || isspace(static_cast<unsigned char>(buf[0])) || *end != '\0' ||
      std::isnan(v) || errno == ERANGE) {
    ctx.Error("ERR timeout is not a float or out of range");
    return false;
  }
  v *= 1000.0L;
  // Redis 7.0 answers "negative" for values that overflow too (inf, 1e300).
  if (v < 0 || !std::isfinite(v) || v > static_cast<long double>(INT64_MAX)) {
    ctx.Error("ERR timeout is negative");
    return false;
  }
  *ms = static_cast<int64_t>(std::ceil(v));
  return true;
}

bool IsSetKey(const sdk::Key& k) {
  const ferrite_type* t = k.Type();
  return t && std::string_view(Api().type_name(t)) == "set";
}

std::vector<std::string> SetMembers(const sdk::Ctx& ctx, std::string_view key) {
  ferrite_slice argv[2] = {{"SMEMBERS", 8}, sdk::SL(key)};
  ferrite_call_reply* r = Api().call(ctx.get(), 2, argv);
  std::vector<std::string> out;
  if (!r) return out;
  size_t n = Api().call_reply_length(r);
  out.reserve(n);
  for (size_t i = 0; i < n; i++) out.emplace_back(SV(Api().call_reply_string(Api().call_reply_element(r, i))));
  Api().free_call_reply(r);
  return out;
}

}  // namespace ferrite::mod::zsets
