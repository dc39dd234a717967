// SORT and SORT_RO (Redis 7.0's src/sort.c): sorts a list, set or sorted set by its
// elements or by the values of other keys named by a BY pattern, and replies (or STOREs
// as a list) the elements or the values of keys named by GET patterns.
//
// Why it lives here: STORE builds a list, which only this module can make. Sets and
// sorted sets (other modules' types) are read through call() (SMEMBERS, ZRANGE), and
// so are the keys BY and GET patterns name (GET, HGET): a module never reaches into
// another's values.
//
// Why it holds every shard (FERRITE_CMD_ALL_KEYS in the table): the keys BY and GET
// patterns reach are named by the elements, which are only known once the source key
// has been read under its lock, so no key spec can declare them up front; the host
// locks every shard, as for EVAL, and the nested calls then run without locking.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferrite/pqsort.hpp"
#include "lists_internal.h"

namespace ferrite::mod::lists {

using sdk::Api;
using sdk::SV;

namespace {

struct CallReply {
  ferrite_call_reply* r;
  ~CallReply() { Api().free_call_reply(r); }
};

// Runs `cmd args...` as a nested call and returns its bulk reply, if it was one.
std::optional<std::string> CallBulk(const Ctx& ctx, std::initializer_list<std::string_view> argv) {
  std::vector<ferrite_slice> s;
  for (auto a : argv) s.push_back(sdk::SL(a));
  CallReply r{Api().call(ctx.get(), static_cast<int>(s.size()), s.data())};
  if (Api().call_reply_type(r.r) != FERRITE_REPLY_BULK) return std::nullopt;
  return std::string(SV(Api().call_reply_string(r.r)));
}

// The elements being sorted, copied once into one buffer, each followed by a NUL: the
// comparisons and the weight parsing read them as C strings, as Redis does, and a sort
// of 10k elements makes no allocation per element. The buffer is filled in two passes
// (sizes, then bytes), so the views handed out never move.
class Elements {
 public:
  // Calls each(fn) twice; each gives fn(std::string_view) every element in order.
  template <class Each>
  void Fill(Each&& each) {
    size_t bytes = 0, count = 0;
    each([&](std::string_view e) {
      bytes += e.size() + 1;
      count++;
      return true;
    });
    buf_.reserve(bytes);
    spans_.reserve(count);
    each([&](std::string_view e) {
      spans_.push_back({buf_.size(), e.size()});
      buf_.append(e).push_back('\0');
      return true;
    });
  }
  size_t Size() const { return spans_.size(); }
  std::string_view operator[](size_t i) const {
    return {buf_.data() + spans_[i].first, spans_[i].second};
  }

 private:
  std::string buf_;
  std::vector<std::pair<size_t, size_t>> spans_;
};

// The elements of a set or sorted set, through the owning module's command.
void CallElements(const Ctx& ctx, std::initializer_list<std::string_view> argv, Elements* out) {
  std::vector<ferrite_slice> s;
  for (auto a : argv) s.push_back(sdk::SL(a));
  CallReply r{Api().call(ctx.get(), static_cast<int>(s.size()), s.data())};
  auto t = Api().call_reply_type(r.r);
  if (t != FERRITE_REPLY_ARRAY && t != FERRITE_REPLY_SET) return;
  const size_t n = Api().call_reply_length(r.r);
  out->Fill([&](auto&& fn) {
    for (size_t i = 0; i < n; i++)
      fn(SV(Api().call_reply_string(Api().call_reply_element(r.r, i))));
  });
}

// lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is replaced by
// the element, and a "->field" after it (with a non-empty field) reads that hash field.
// A pattern without '*', a missing key or one of another type gives nothing. The
// pattern is searched as a C string, as Redis does, but copied with its full length.
std::optional<std::string> LookupByPattern(const Ctx& ctx, std::string_view pattern,
                                           std::string_view subst) {
  std::string_view cstr = pattern.substr(0, pattern.find('\0'));
  if (cstr == "#") return std::string(subst);
  size_t star = cstr.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  size_t arrow = cstr.find("->", star + 1);
  const bool has_field = arrow != std::string_view::npos && arrow + 2 < cstr.size();
  const size_t fieldlen = has_field ? pattern.size() - arrow - 2 : 0;
  const size_t postfixlen = pattern.size() - (star + 1) - (has_field ? fieldlen + 2 : 0);
  std::string key;
  key.reserve(star + subst.size() + postfixlen);
  key.append(pattern.substr(0, star)).append(subst).append(pattern.substr(star + 1, postfixlen));
  if (has_field) return CallBulk(ctx, {"HGET", key, pattern.substr(arrow + 2)});
  return CallBulk(ctx, {"GET", key});
}

struct SortOptions {
  bool desc = false, alpha = false, dontsort = false;
  int64_t limit_start = 0, limit_count = -1;
  std::optional<std::string_view> by, store;
  std::vector<std::string_view> gets;
};

// Parses the options; replies the error itself and returns false on failure.
bool ParseSortOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, bool readonly,
                      SortOptions* o) {
  // BY/GET patterns name keys the arguments do not show: Redis takes them only from a
  // user who may read every key (ACL, SDK 1.9).
  const bool full_read = !FERRITE_HAS_API(&Api(), ctx_acl_can_read_any_key) ||
                         Api().ctx_acl_can_read_any_key(ctx.get());
  for (int j = 2; j < argc; j++) {
    const int left = argc - j - 1;
    std::string_view w = SV(argv[j]);
    if (sdk::EqualsIgnoreCase(w, "ASC")) {
      o->desc = false;
    } else if (sdk::EqualsIgnoreCase(w, "DESC")) {
      o->desc = true;
    } else if (sdk::EqualsIgnoreCase(w, "ALPHA")) {
      o->alpha = true;
    } else if (sdk::EqualsIgnoreCase(w, "LIMIT") && left >= 2) {
      if (!sdk::ParseInt64(SV(argv[j + 1]), &o->limit_start) ||
          !sdk::ParseInt64(SV(argv[j + 2]), &o->limit_count)) {
        return ctx.Error(FERRITE_E_NOT_INTEGER), false;
      }
      j += 2;
    } else if (!readonly && sdk::EqualsIgnoreCase(w, "STORE") && left >= 1) {
      o->store = SV(argv[++j]);
    } else if (sdk::EqualsIgnoreCase(w, "BY") && left >= 1) {
      o->by = SV(argv[++j]);
      // A pattern without '*' names one constant key for every element: no sorting.
      std::string_view cstr = o->by->substr(0, o->by->find('\0'));
      o->dontsort = cstr.find('*') == std::string_view::npos;
      if (!o->dontsort && !full_read)
        return ctx.Error("ERR BY option of SORT denied due to insufficient ACL permissions."), false;
    } else if (sdk::EqualsIgnoreCase(w, "GET") && left >= 1) {
      if (!full_read)
        return ctx.Error("ERR GET option of SORT denied due to insufficient ACL permissions."), false;
      o->gets.push_back(SV(argv[++j]));
    } else {
      return ctx.Error(FERRITE_E_SYNTAX), false;
    }
  }
  return true;
}

enum class Source { kList, kSet, kZSet };

// What is sorted: small and trivially copyable, so the sort moves 32 bytes per step.
struct Item {
  const char* obj;  // NUL-terminated (Elements)
  size_t len;
  double score;
  const std::string* cmp;  // ALPHA with BY: the value compared, null if none
  std::string_view Obj() const { return {obj, len}; }
};

// compareStringObjects: binary, shorter first on a common prefix.
int CompareBinary(std::string_view a, std::string_view b) {
  int c = memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// collateStringObjects: strcoll over the C strings (so up to a NUL byte).
int Collate(const char* a, const char* b) { return strcoll(a, b); }

// Redis' strtod check of a sort weight: the whole C string, no ERANGE, no NaN. Leading
// spaces and an empty string (0) pass, as there.
bool ParseWeight(const char* s, double* out) {
  // Up to 15 decimal digits (after an optional '-') are exactly what strtod gives, so
  // integer elements, the common case, skip strtod's general path ("-0" is -0.0 both ways).
  const char* d = s + (*s == '-');
  uint64_t v = 0;
  int digits = 0;
  for (; *d >= '0' && *d <= '9' && digits < 16; d++, digits++) v = v * 10 + (*d - '0');
  if (*d == '\0' && digits >= 1 && digits <= 15) {
    *out = *s == '-' ? -static_cast<double>(v) : static_cast<double>(v);
    return true;
  }
  char* end = nullptr;
  errno = 0;
  *out = strtod(s, &end);
  return end[0] == '\0' && errno != ERANGE && !std::isnan(*out);
}

// Loads the elements in their native order: list order, sorted-set score order, set
// iteration order.
bool LoadElements(const Ctx& ctx, std::string_view key, Source* src, Elements* els) {
  {
    Key k = ctx.Open(key);
    if (!k.Exists()) {
      *src = Source::kList;
      return true;
    }
    const ferrite_type* t = k.Type();
    if (t == St(ctx).type) {
      *src = Source::kList;
      const ListValue* l = k.Value<ListValue>();
      els->Fill([&](auto&& fn) { l->ForEach(fn); });
    } else {
      std::string_view name = t ? Api().type_name(t) : "";
      if (name == "set") *src = Source::kSet;
      else if (name == "zset") *src = Source::kZSet;
      else return false;
    }
  }
  // The key handle is closed: the owning module's command opens it itself.
  if (*src == Source::kSet) CallElements(ctx, {"SMEMBERS", key}, els);
  if (*src == Source::kZSet) CallElements(ctx, {"ZRANGE", key, "0", "-1"}, els);
  return true;
}

// Ties come out in Redis' order: a BY pattern with a LIMIT narrower than the whole
// sorts partially with Redis' pqsort (not stable); everything else is glibc's qsort, a
// merge sort (stable). `cmp` is Redis' comparison, already turned round for DESC.
template <class Cmp>
void SortItems(std::vector<Item>* v, const SortOptions& o, const Cmp& cmp, bool partial,
               int64_t start, int64_t end) {
  auto stable = [v](auto less) { std::stable_sort(v->begin(), v->end(), less); };
  if (partial) {
    sdk::PartialQuickSort(v->data(), v->size(), cmp, start, end);
  } else if (!o.alpha) {
    // The common numeric case with the comparison inlined (the same order as `cmp`).
    auto num = [](const Item& a, const Item& b) {
      return a.score > b.score ? 1 : a.score < b.score ? -1 : CompareBinary(a.Obj(), b.Obj());
    };
    if (o.desc) stable([&](const Item& a, const Item& b) { return num(a, b) > 0; });
    else stable([&](const Item& a, const Item& b) { return num(a, b) < 0; });
  } else {
    stable([&](const Item& a, const Item& b) { return cmp(a, b) < 0; });
  }
}

}  // namespace

int SortGeneric(Ctx ctx, int argc, const ferrite_slice* argv, bool readonly) {
  SortOptions o;
  if (!ParseSortOptions(ctx, argc, argv, readonly, &o)) return FERRITE_OK;
  Source src = Source::kList;
  Elements els;
  if (!LoadElements(ctx, SV(argv[1]), &src, &els)) return ctx.Error(FERRITE_E_WRONGTYPE);
  std::vector<Item> v(els.Size());
  for (size_t i = 0; i < v.size(); i++) v[i] = Item{els[i].data(), els[i].size(), 0, nullptr};

  // An unsorted set comes out in hash order; what is stored, or what a script sees (its
  // effects must not depend on it either), is sorted alphabetically instead, as Redis.
  if (o.dontsort && src == Source::kSet && (o.store || Api().ctx_via_call(ctx.get()))) {
    o.dontsort = false;
    o.alpha = true;
    o.by.reset();
  }

  const int64_t n = static_cast<int64_t>(v.size());
  int64_t start = std::min(std::max<int64_t>(o.limit_start, 0), n);
  int64_t count = std::min(std::max<int64_t>(o.limit_count, -1), n);
  int64_t end = count < 0 ? n - 1 : start + count - 1;
  if (start >= n) {
    start = n - 1;
    end = n - 2;
  }
  if (end >= n) end = n - 1;

  bool conversion_error = false;
  std::vector<std::string> byvals;  // ALPHA with BY: what items' `cmp` point to
  if (o.dontsort) {
    if (o.desc && src != Source::kSet) std::reverse(v.begin(), v.end());
  } else {
    if (o.alpha && o.by) byvals.reserve(v.size());  // never reallocates below
    for (Item& it : v) {
      std::optional<std::string> byval;
      if (o.by) {
        byval = LookupByPattern(ctx, *o.by, it.Obj());
        if (!byval) continue;  // a missing weight sorts as 0 (or as "nothing" with ALPHA)
      }
      if (o.alpha) {
        if (o.by) it.cmp = &byvals.emplace_back(std::move(*byval));
      } else if (!ParseWeight(o.by ? byval->c_str() : it.obj, &it.score)) {
        conversion_error = true;
      }
    }
    const bool bypattern = o.by.has_value(), store = o.store.has_value();
    auto cmp = [&](const Item& a, const Item& b) {
      int c;
      if (!o.alpha) {
        c = a.score > b.score ? 1 : a.score < b.score ? -1 : CompareBinary(a.Obj(), b.Obj());
      } else if (bypattern) {
        if (!a.cmp || !b.cmp) c = (!a.cmp && !b.cmp) ? 0 : !a.cmp ? -1 : 1;
        else c = store ? CompareBinary(*a.cmp, *b.cmp) : Collate(a.cmp->c_str(), b.cmp->c_str());
      } else {
        c = store ? CompareBinary(a.Obj(), b.Obj()) : Collate(a.obj, b.obj);
      }
      return o.desc ? -c : c;
    };
    // A conversion error is replied before anything is sent or stored: no sort then.
    if (!conversion_error)
      SortItems(&v, o, cmp, bypattern && (start != 0 || end != n - 1), start, end);
  }

  const int64_t rows = end - start + 1;
  const int64_t outputlen = o.gets.empty() ? rows : static_cast<int64_t>(o.gets.size()) * rows;
  if (conversion_error) return ctx.Error("ERR One or more scores can't be converted into double");
  if (!o.store) {
    ctx.Array(static_cast<size_t>(outputlen));
    for (int64_t j = start; j <= end; j++) {
      if (o.gets.empty()) ctx.Bulk(v[j].Obj());
      for (std::string_view pat : o.gets) {
        auto val = LookupByPattern(ctx, pat, v[j].Obj());
        if (val) ctx.Bulk(*val);
        else ctx.Null();
      }
    }
    return FERRITE_OK;
  }

  auto out = std::make_unique<ListValue>();
  for (int64_t j = start; j <= end; j++) {
    if (o.gets.empty()) out->Push(End::kTail, v[j].Obj(), St(ctx).fill);
    for (std::string_view pat : o.gets) {
      out->Push(End::kTail, LookupByPattern(ctx, pat, v[j].Obj()).value_or(""), St(ctx).fill);
    }
  }
  Key dest = ctx.OpenWrite(*o.store);
  if (outputlen > 0) {
    dest.SetValue(St(ctx).type, out.release());
    dest.SetExpire(-1);
    ctx.Notify(FERRITE_NOTIFY_LIST, "sortstore", *o.store);
  } else if (dest.Exists()) {
    dest.Delete();
    ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", *o.store);
  }
  return ctx.Int(outputlen);
}

int CmdSort(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SortGeneric(ctx, argc, argv, false);
}

int CmdSortRo(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SortGeneric(ctx, argc, argv, true);
}

// Redis' sortGetKeys: the key, and STORE's destination (the last one given). Used by
// COMMAND GETKEYS and WATCH-style key reporting; locking takes every shard anyway.
int SortGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  int n = 0;
  auto add = [&](int i) {
    if (n < cap) out[n] = i;
    n++;
  };
  add(1);
  int store = 0;
  for (int j = 2; j < argc; j++) {
    std::string_view w = SV(argv[j]);
    if (sdk::EqualsIgnoreCase(w, "LIMIT")) {
      j += 2;
    } else if (sdk::EqualsIgnoreCase(w, "GET") || sdk::EqualsIgnoreCase(w, "BY")) {
      j += 1;
    } else if (sdk::EqualsIgnoreCase(w, "STORE") && j + 1 < argc) {
      store = j + 1;  // not skipped, as in Redis; the last STORE wins
    }
  }
  if (store) add(store);
  return n;
}

}  // namespace ferrite::mod::lists
