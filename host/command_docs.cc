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

const CommandDoc kDocs[] = {
#define FERRITE_DOC(name, summary, since, group, complexity, flags, deprecated, replaced) \
  {name, summary, since, group, complexity, flags, deprecated, replaced},
#define FERRITE_DOC_HISTORY(name, version, text)
#include "host/command_docs.inc"
#undef FERRITE_DOC
#undef FERRITE_DOC_HISTORY
};

struct HistoryRow {
  const char* name;
  const char* version;
  const char* text;
};

// In the table's order: by name, then as Redis lists them (oldest first).
const HistoryRow kHistory[] = {
#define FERRITE_DOC(name, summary, since, group, complexity, flags, deprecated, replaced)
#define FERRITE_DOC_HISTORY(name, version, text) {name, version, text},
#include "host/command_docs.inc"
#undef FERRITE_DOC
#undef FERRITE_DOC_HISTORY
};

struct HistoryByName {
  bool operator()(const HistoryRow& r, std::string_view k) const { return r.name < k; }
  bool operator()(std::string_view k, const HistoryRow& r) const { return k < r.name; }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

void Bulk(ferrite_ctx* c, std::string_view s) { c->sink->bulk(c->st, s.data(), s.size()); }

// addReplyCommandDocs' map, for a command or a subcommand. `summary` and `group` are
// the registration's, used when Redis has no such command.
void ReplyDocs(ferrite_ctx* c, const std::string& fullname, std::string_view summary,
               std::string_view group, const std::vector<Subcommand>* subs) {
  const CommandDoc* d = FindCommandDoc(fullname);
  auto [hist_begin, hist_end] =
      std::equal_range(std::begin(kHistory), std::end(kHistory), std::string_view(fullname),
                       HistoryByName{});
  const bool has_subs = subs && !subs->empty();
  if (d) summary = d->summary;
  size_t n = 2;  // summary (always: registrations have one, if empty) and group
  n += d && d->since;
  n += d && d->complexity;
  n += d && d->doc_flags;
  n += d && d->deprecated_since;
  n += d && d->replaced_by;
  n += hist_begin != hist_end;
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

}  // namespace ferrite::host
