#include "host/command_docs.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <vector>

#include "host/context.h"
#include "host/registry.h"

namespace ferrite::host {

namespace {

// Every table below is one kind of row of command_docs.inc; the macros of the others
// expand to nothing.
#define FERRITE_DOC(name, summary, since, group, complexity, flags, deprecated, replaced)
#define FERRITE_DOC_HISTORY(name, version, text)
#define FERRITE_DOC_ARG(name, depth, arg, type, spec, token, summary, since, deprecated, flags)
#define FERRITE_DOC_TIP(name, tip)
#define FERRITE_DOC_KEY_NOTE(name, index, notes)

const CommandDoc kDocs[] = {
#undef FERRITE_DOC
#define FERRITE_DOC(name, summary, since, group, complexity, flags, deprecated, replaced) \
  {name, summary, since, group, complexity, flags, deprecated, replaced},
#include "host/command_docs.inc"
#undef FERRITE_DOC
#define FERRITE_DOC(name, summary, since, group, complexity, flags, deprecated, replaced)
};

struct HistoryRow {
  const char* name;
  const char* version;
  const char* text;
};

// In the table's order: by name, then as Redis lists them (oldest first).
const HistoryRow kHistory[] = {
#undef FERRITE_DOC_HISTORY
#define FERRITE_DOC_HISTORY(name, version, text) {name, version, text},
#include "host/command_docs.inc"
#undef FERRITE_DOC_HISTORY
#define FERRITE_DOC_HISTORY(name, version, text)
};

// One argument of addReplyCommandArgList. A command's arguments are consecutive rows in
// their order, each oneof or block followed by its own arguments one level deeper.
struct ArgRow {
  const char* name;  // the command's full name
  int depth;
  const char* arg;
  const char* type;
  int key_spec_index;  // -1: none
  const char* token;
  const char* summary;
  const char* since;
  const char* deprecated_since;
  unsigned flags;  // ArgFlag bits
};

const ArgRow kArgs[] = {
#undef FERRITE_DOC_ARG
#define FERRITE_DOC_ARG(name, depth, arg, type, spec, token, summary, since, deprecated, flags) \
  {name, depth, arg, type, spec, token, summary, since, deprecated, flags},
#include "host/command_docs.inc"
#undef FERRITE_DOC_ARG
#define FERRITE_DOC_ARG(name, depth, arg, type, spec, token, summary, since, deprecated, flags)
};

struct TipRow {
  const char* name;
  const char* tip;
};

const TipRow kTips[] = {
#undef FERRITE_DOC_TIP
#define FERRITE_DOC_TIP(name, tip) {name, tip},
#include "host/command_docs.inc"
#undef FERRITE_DOC_TIP
#define FERRITE_DOC_TIP(name, tip)
};

struct KeyNoteRow {
  const char* name;
  int index;
  const char* notes;
};

const KeyNoteRow kKeyNotes[] = {
#undef FERRITE_DOC_KEY_NOTE
#define FERRITE_DOC_KEY_NOTE(name, index, notes) {name, index, notes},
#include "host/command_docs.inc"
};

#undef FERRITE_DOC
#undef FERRITE_DOC_HISTORY
#undef FERRITE_DOC_ARG
#undef FERRITE_DOC_TIP
#undef FERRITE_DOC_KEY_NOTE

// The rows of one command in a table sorted by full name (the generator's order).
struct ByName {
  template <class Row>
  bool operator()(const Row& r, std::string_view k) const { return r.name < k; }
  template <class Row>
  bool operator()(std::string_view k, const Row& r) const { return k < r.name; }
};

template <class Row, size_t N>
std::pair<const Row*, const Row*> RowsOf(const Row (&table)[N], std::string_view fullname) {
  return std::equal_range(std::begin(table), std::end(table), fullname, ByName{});
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }

// The arguments in [begin, end) at `depth` (each one's own follow it, deeper), as
// addReplyCommandArgList: an array of maps with the optional fields left out.
void ReplyArgs(ferrite_ctx* c, const ArgRow* begin, const ArgRow* end, int depth) {
  size_t n = 0;
  for (const ArgRow* a = begin; a != end; ++a) n += a->depth == depth;
  c->sink->array(c->st, n);
  for (const ArgRow* a = begin; a != end; ++a) {
    if (a->depth != depth) continue;
    const ArgRow* sub_end = a + 1;
    while (sub_end != end && sub_end->depth > depth) ++sub_end;
    const std::string_view type = a->type;
    const bool nested = type == "oneof" || type == "block";
    c->sink->map(c->st, 2 + (a->key_spec_index >= 0) + (a->token != nullptr) +
                            (a->summary != nullptr) + (a->since != nullptr) +
                            (a->deprecated_since != nullptr) + (a->flags != 0) + nested);
    Bulk(c, "name");
    Bulk(c, a->arg);
    Bulk(c, "type");
    Bulk(c, type);
    if (a->key_spec_index >= 0) {
      Bulk(c, "key_spec_index");
      c->sink->integer(c->st, a->key_spec_index);
    }
    const std::pair<const char*, const char*> texts[] = {
        {"token", a->token}, {"summary", a->summary}, {"since", a->since},
        {"deprecated_since", a->deprecated_since}};
    for (auto [field, text] : texts) {
      if (!text) continue;
      Bulk(c, field);
      Bulk(c, text);
    }
    if (a->flags) {
      Bulk(c, "flags");
      std::vector<std::string_view> flags;
      if (a->flags & kArgOptional) flags.push_back("optional");
      if (a->flags & kArgMultiple) flags.push_back("multiple");
      if (a->flags & kArgMultipleToken) flags.push_back("multiple_token");
      c->sink->set(c->st, flags.size());
      for (auto f : flags) c->sink->simple(c->st, f.data(), f.size());
    }
    if (nested) {
      Bulk(c, "arguments");
      ReplyArgs(c, a + 1, sub_end, depth + 1);
    }
    a = sub_end - 1;
  }
}

// addReplyCommandDocs' map, for a command or a subcommand. `summary` and `group` are
// the registration's, used when Redis has no such command.
void ReplyDocs(ferrite_ctx* c, const std::string& fullname, std::string_view summary,
               std::string_view group, const std::vector<Subcommand>* subs) {
  const CommandDoc* d = FindCommandDoc(fullname);
  auto [hist_begin, hist_end] = RowsOf(kHistory, fullname);
  auto [args_begin, args_end] = RowsOf(kArgs, fullname);
  const bool has_subs = subs && !subs->empty();
  if (d) summary = d->summary;
  size_t n = 2;  // summary (always: registrations have one, if empty) and group
  n += d && d->since;
  n += d && d->complexity;
  n += d && d->doc_flags;
  n += d && d->deprecated_since;
  n += d && d->replaced_by;
  n += hist_begin != hist_end;
  n += args_begin != args_end;
  n += has_subs;
  c->sink->map(c->st, n);
  Bulk(c, "summary");
  Bulk(c, summary);
  if (d && d->since) {
    Bulk(c, "since");
    Bulk(c, d->since);
  }
  Bulk(c, "group");
  Bulk(c, d ? std::string_view(d->group) : group.empty() ? "generic" : group);
  if (d && d->complexity) {
    Bulk(c, "complexity");
    Bulk(c, d->complexity);
  }
  if (d && d->doc_flags) {
    Bulk(c, "doc_flags");
    std::vector<std::string_view> flags;
    if (d->doc_flags & kDocDeprecated) flags.push_back("deprecated");
    if (d->doc_flags & kDocSyscmd) flags.push_back("syscmd");
    c->sink->set(c->st, flags.size());
    for (auto f : flags) c->sink->simple(c->st, f.data(), f.size());
  }
  if (d && d->deprecated_since) {
    Bulk(c, "deprecated_since");
    Bulk(c, d->deprecated_since);
  }
  if (d && d->replaced_by) {
    Bulk(c, "replaced_by");
    Bulk(c, d->replaced_by);
  }
  if (hist_begin != hist_end) {
    Bulk(c, "history");
    c->sink->set(c->st, static_cast<size_t>(hist_end - hist_begin));
    for (auto* h = hist_begin; h != hist_end; ++h) {
      c->sink->array(c->st, 2);
      Bulk(c, h->version);
      Bulk(c, h->text);
    }
  }
  if (args_begin != args_end) {
    Bulk(c, "arguments");
    ReplyArgs(c, args_begin, args_end, 0);
  }
  if (has_subs) {
    Bulk(c, "subcommands");
    c->sink->map(c->st, subs->size());
    for (const Subcommand& s : *subs) {
      Bulk(c, s.fullname);
      ReplyDocs(c, s.fullname, "", group, nullptr);
    }
  }
}

}  // namespace

const CommandDoc* FindCommandDoc(std::string_view fullname) {
  std::string key = Lower(fullname);
  auto it = std::lower_bound(std::begin(kDocs), std::end(kDocs), key,
                             [](const CommandDoc& d, const std::string& k) { return d.name < k; });
  return it != std::end(kDocs) && it->name == key ? it : nullptr;
}

void ReplyCommandDocs(ferrite_ctx* c, const Command& cmd) {
  ReplyDocs(c, cmd.name, cmd.summary, cmd.group, &cmd.subcommands);
}

void ReplyCommandDocs(ferrite_ctx* c, const Command& cmd, const Subcommand& sub) {
  ReplyDocs(c, sub.fullname, "", cmd.group, nullptr);
}

void ReplyCommandTips(ferrite_ctx* c, std::string_view fullname) {
  auto [begin, end] = RowsOf(kTips, Lower(fullname));
  c->sink->set(c->st, static_cast<size_t>(end - begin));
  for (const TipRow* t = begin; t != end; ++t) Bulk(c, t->tip);
}

const char* KeySpecNote(std::string_view fullname, int index) {
  auto [begin, end] = RowsOf(kKeyNotes, Lower(fullname));
  for (const KeyNoteRow* k = begin; k != end; ++k)
    if (k->index == index) return k->notes;
  return nullptr;
}

}  // namespace ferrite::host
