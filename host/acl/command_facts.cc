#include "host/acl/command_facts.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace ferrite::host::acl {

const char* const kCategoryNames[kCategoryCount] = {
    "keyspace", "read",  "write",    "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",   "stream",     "pubsub",      "admin",
    "fast",     "slow",  "blocking", "dangerous", "connection", "transaction", "scripting"};

namespace {

const CommandFacts kFacts[] = {
#include "host/acl/command_facts.inc"
};

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

bool ParseLL(std::string_view s, long long* v) {
  if (s.empty() || s.size() > 20) return false;
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(t.c_str(), &end, 10);
  return errno == 0 && end == t.c_str() + t.size() && !std::isspace(static_cast<unsigned char>(t[0]));
}

// Redis' sortGetKeys: the sorted key, and the last STORE's key.
void SortKeys(int argc, const ferrite_slice* argv, KeyList& out) {
  out.push_back({1, kKeyRo | kKeyAccess});
  int store = 0;
  for (int i = 2; i < argc; i++) {
    std::string_view a = SV(argv[i]);
    if (IEq(a, "limit")) i += 2;
    else if (IEq(a, "get") || IEq(a, "by")) i += 1;
    else if (IEq(a, "store") && i + 1 < argc) store = i + 1;
  }
  if (store) out.push_back({store, kKeyOw | kKeyUpdate});
}

// Redis' migrateGetKeys: the key argument, or the keys after KEYS when it is empty.
void MigrateKeys(int argc, const ferrite_slice* argv, KeyList& out) {
  int first = 3, num = 1;
  if (argc > 6) {
    for (int i = 6; i < argc; i++) {
      std::string_view a = SV(argv[i]);
      if (IEq(a, "keys")) {
        if (argv[3].len > 0) {
          num = 0;
        } else {
          first = i + 1;
          num = argc - first;
        }
        break;
      }
      if (IEq(a, "auth")) i += 1;
      else if (IEq(a, "auth2")) i += 2;
    }
  }
  for (int i = 0; i < num; i++) out.push_back({first + i, kKeyRw | kKeyAccess | kKeyDelete});
}

// Redis' setGetKeys: SET ... GET reads the key too.
void SetKeys(int argc, const ferrite_slice* argv, KeyList& out) {
  for (int i = 3; i < argc; i++)
    if (IEq(SV(argv[i]), "get")) {
      out.push_back({1, kKeyRw | kKeyAccess | kKeyUpdate});
      return;
    }
  out.push_back({1, kKeyOw | kKeyUpdate});
}

// Redis' bitfieldGetKeys: read-only unless a SET or INCRBY (or a syntax error) comes.
void BitfieldKeys(int argc, const ferrite_slice* argv, KeyList& out) {
  bool readonly = true;
  for (int i = 2; i < argc; i++) {
    int rem = argc - i - 1;
    std::string_view a = SV(argv[i]);
    if (IEq(a, "get") && rem >= 2) {
      i += 2;
    } else if ((IEq(a, "set") || IEq(a, "incrby")) && rem >= 3) {
      readonly = false;
      break;
    } else if (IEq(a, "overflow") && rem >= 1) {
      i += 1;
    } else {
      readonly = false;
      break;
    }
  }
  out.push_back({1, static_cast<uint16_t>(readonly ? (kKeyRo | kKeyAccess)
                                                   : (kKeyRw | kKeyAccess | kKeyUpdate))});
}

// Redis' getKeysUsingKeySpecs. Returns false on a spec that does not fit (Redis then
// falls back to the command's key function, which finds no keys for these arguments).
bool SpecKeys(const CommandFacts& f, int argc, const ferrite_slice* argv,
              KeyList& out) {
  for (int j = 0; j < f.nspecs; j++) {
    const KeySpec& s = f.specs[j];
    if (s.flags & kKeyNotKey) continue;
    int first = 0;
    if (s.bs == BeginSearch::kIndex) {
      first = s.bs_arg;
    } else if (s.bs == BeginSearch::kKeyword) {
      int start = s.bs_arg > 0 ? s.bs_arg : argc + s.bs_arg;
      int end = s.bs_arg > 0 ? argc - 1 : 1;
      for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (IEq(SV(argv[i]), s.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (!first) continue;
    } else {
      return false;
    }
    int last, step;
    if (s.fk == FindKeys::kRange) {
      step = s.b;
      if (s.a >= 0) last = first + s.a;
      else if (!s.c) last = argc + s.a;
      else last = first + ((argc - first) / s.c + s.a);
    } else if (s.fk == FindKeys::kKeynum) {
      step = s.c;
      if (s.a >= argc || first + s.a >= argc) return false;
      long long n;
      if (!ParseLL(SV(argv[first + s.a]), &n) || n < 0) return false;
      first += s.b;
      last = first + static_cast<int>(n) - 1;
    } else {
      return false;
    }
    if (last >= argc || last < first || first >= argc) return false;
    for (int i = first; i <= last; i += step) out.push_back({i, s.flags});
    if (s.flags & kKeyIncomplete) return false;
  }
  return true;
}

}  // namespace

uint32_t CategoryByName(std::string_view name) {
  for (int i = 0; i < kCategoryCount; i++)
    if (IEq(name, kCategoryNames[i])) return 1u << i;
  return 0;
}

uint32_t ImplicitCategories(uint32_t f, uint32_t cats) {
  if (f & FERRITE_CMD_WRITE) cats |= kCatWrite;
  if ((f & FERRITE_CMD_READONLY) && !(cats & kCatScripting)) cats |= kCatRead;
  if (f & FERRITE_CMD_ADMIN) cats |= kCatAdmin | kCatDangerous;
  if (f & FERRITE_CMD_PUBSUB) cats |= kCatPubsub;
  if (f & FERRITE_CMD_FAST) cats |= kCatFast;
  if (f & FERRITE_CMD_BLOCKING) cats |= kCatBlocking;
  if (!(cats & kCatFast)) cats |= kCatSlow;
  return cats;
}

bool ParseCategoryList(std::string_view list, uint32_t* out) {
  uint32_t cats = 0;
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && list[i] == ' ') i++;
    size_t j = i;
    while (j < list.size() && list[j] != ' ') j++;
    if (j > i) {
      std::string_view w = list.substr(i, j - i);
      if (w[0] == '@') w.remove_prefix(1);
      uint32_t bit = CategoryByName(w);
      if (!bit) return false;
      cats |= bit;
    }
    i = j;
  }
  *out = cats;
  return true;
}

const CommandFacts* FindFacts(std::string_view fullname) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const CommandFacts*>;
    for (const auto& f : kFacts) (*m)[f.fullname] = &f;
    return m;
  }();
  auto it = index->find(fullname);
  return it == index->end() ? nullptr : it->second;
}

const std::vector<const CommandFacts*>& AllFacts() {
  static const auto* all = [] {
    auto* v = new std::vector<const CommandFacts*>;
    for (const auto& f : kFacts) v->push_back(&f);
    return v;
  }();
  return *all;
}

void FactsKeys(const CommandFacts& f, int argc, const ferrite_slice* argv, KeyList& out) {
  std::string_view n = f.fullname;
  // The five commands with key functions of their own; the first letter settles the
  // others (this runs on every command a restricted user sends).
  switch (n[0]) {
    case 's':
      if (n == "sort") return SortKeys(argc, argv, out);
      if (n == "sort_ro") return out.push_back({1, kKeyRo | kKeyAccess});
      if (n == "set") return SetKeys(argc, argv, out);
      break;
    case 'm':
      if (n == "migrate") return MigrateKeys(argc, argv, out);
      break;
    case 'b':
      if (n == "bitfield") return BitfieldKeys(argc, argv, out);
      break;
    default: break;
  }
  size_t before = out.size();
  if (!SpecKeys(f, argc, argv, out)) out.Shrink(before);
}

}  // namespace ferrite::host::acl
